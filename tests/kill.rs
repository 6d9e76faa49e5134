//! Kill tests: every write step of `deploy --create-trail` and of `teardown`
//! is made to fail (the launcher refuses that one action, so the run stops
//! right after the step before it); the next run must complete, with nothing
//! duplicated, orphaned or left incomplete, and a third run must have nothing
//! to do. The steps are not listed by hand: a reference run records which
//! write actions the command sends, and each is refused in turn.

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};

const EMAIL: &str = "oncall@example.com";
const DEPLOY: [&str; 6] = ["deploy", "--email", EMAIL, "--create-trail", "--yes", "-q"];
const TEARDOWN: [&str; 4] = ["teardown", "--delete-trail-bucket", "--yes", "-q"];

fn rg(acct: &Account, args: &[&str]) -> Run {
    let mut cmd = rootguard_as(acct);
    cmd.args(args);
    run(cmd)
}

/// The write actions (not reads) the account has seen, by `service:Action`.
fn writes(acct: &Account) -> BTreeSet<String> {
    emulator().stats(acct)["by_action"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|a| !rootguard::domain::policy::is_read_only(a) && !a.ends_with(')'))
        .cloned()
        .collect()
}

/// Runs `each` for every action at once (a few threads), collecting failures.
fn for_each_action(actions: &BTreeSet<String>, each: impl Fn(&str) -> Result<(), String> + Sync) {
    let actions: Vec<&String> = actions.iter().collect();
    let failures: Vec<String> = std::thread::scope(|s| {
        let each = &each;
        let handles: Vec<_> = actions
            .chunks(actions.len().div_ceil(4).max(1))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|a| each(a).err().map(|e| format!("{a}: {e}")))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn deploy_create_trail_stopped_after_any_step_is_completed_by_the_next_run() {
    let reference = emulator().seed(fixture("neglected"));
    let r = rg(&reference, &DEPLOY);
    assert_eq!(r.code, 0, "{}", r.stderr);
    whole_chain(&reference).unwrap();
    let steps = writes(&reference);
    assert!(steps.len() >= 12, "the write steps: {steps:?}");

    for_each_action(&steps, |action| {
        let acct = emulator().seed(fixture("neglected"));
        emulator().deny(&acct, &[action]);
        let stopped = rg(&acct, &DEPLOY);
        if stopped.code == 0 {
            return Err(format!(
                "a refused {action} was not reported: {}",
                stopped.stderr
            ));
        }
        emulator().deny(&acct, &[]);
        let resumed = rg(&acct, &DEPLOY);
        if resumed.code != 0 {
            return Err(format!("the next run failed: {}", resumed.stderr));
        }
        whole_chain(&acct)?;
        let plan = rg(
            &acct,
            &["deploy", "--email", EMAIL, "--create-trail", "--dry-run"],
        );
        if !plan
            .stdout
            .contains("0 to create, 0 to update, 30 unchanged")
        {
            return Err(format!("a third run has work left: {}", plan.stdout));
        }
        Ok(())
    });
}

/// Nothing rootguard tags is left.
fn nothing_left(acct: &Account) -> Result<(), String> {
    let res = emulator().resources(acct);
    let tagged_topics = res["topics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["tags"]["managed-by"] == "rootguard")
        .count();
    let tagged_alarms = res["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["tags"]["managed-by"] == "rootguard")
        .count();
    let filters = res["log_groups"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|f| f.as_array().unwrap().iter())
        .filter(|f| f.as_str().unwrap().starts_with("rootguard"))
        .count();
    let rules = res["rules"].get("rootguard-root-activity").is_some();
    // What --create-trail built (the run passes --delete-trail-bucket).
    let trail = !res["trails"].as_array().unwrap().is_empty()
        || res["log_groups"].get("rootguard-cloudtrail").is_some()
        || res["roles"].get("rootguard-cloudtrail-to-logs").is_some()
        || res["buckets"]
            .as_object()
            .unwrap()
            .keys()
            .any(|b| b.starts_with("rootguard-cloudtrail-"));
    if tagged_topics + tagged_alarms + filters > 0 || rules || trail {
        return Err(format!("left behind: {res:#}"));
    }
    Ok(())
}

#[test]
fn teardown_stopped_after_any_step_is_completed_by_the_next_run() {
    let reference = emulator().seed(fixture("neglected"));
    assert_eq!(rg(&reference, &DEPLOY).code, 0);
    let before = writes(&reference);
    let t = rg(&reference, &TEARDOWN);
    assert_eq!(t.code, 0, "{}", t.stderr);
    nothing_left(&reference).unwrap();
    let steps: BTreeSet<String> = writes(&reference)
        .into_iter()
        .filter(|a| a.contains("Delete") || a.contains("Remove") || a.contains("Stop"))
        .collect();
    assert!(
        steps.len() >= 4,
        "teardown's deletions: {steps:?} (deploy sent {before:?})"
    );
    for a in [
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "iam:DeleteRole",
        "logs:DeleteLogGroup",
        "s3:DeleteBucket",
    ] {
        assert!(
            steps.contains(a),
            "{a} is one of teardown's steps: {steps:?}"
        );
    }

    for_each_action(&steps, |action| {
        let acct = emulator().seed(fixture("neglected"));
        if rg(&acct, &DEPLOY).code != 0 {
            return Err("deploy failed".into());
        }
        emulator().deny(&acct, &[action]);
        let stopped = rg(&acct, &TEARDOWN);
        if stopped.code == 0 {
            return Err(format!(
                "a refused {action} was not reported: {}",
                stopped.stderr
            ));
        }
        emulator().deny(&acct, &[]);
        let resumed = rg(&acct, &TEARDOWN);
        if resumed.code != 0 {
            return Err(format!("the next run failed: {}", resumed.stderr));
        }
        nothing_left(&acct)?;
        let again = rg(
            &acct,
            &[
                "teardown",
                "--delete-trail-bucket",
                "--dry-run",
                "-o",
                "json",
            ],
        );
        let plan: Value =
            serde_json::from_str(&again.stdout).map_err(|e| format!("{e}: {}", again.stdout))?;
        if !plan["delete"].as_array().is_some_and(|d| d.is_empty()) {
            return Err(format!("a third run has work left: {plan:#}"));
        }
        Ok(())
    });
}

fn bare(id: &str) -> Account {
    Account {
        id: id.to_string(),
        access_key_id: String::new(),
        secret_access_key: String::new(),
    }
}

fn harden_org() -> Org {
    let h = fixture("hardened");
    let member = |name: &str, root: Value| {
        json!({"name": name, "root": root,
               "alternate_contacts": h["alternate_contacts"], "contact_information": h["contact_information"]})
    };
    let mut management = fixture("hardened");
    management.as_object_mut().unwrap().remove("organization");
    emulator().seed_org(json!({
        "management": management,
        "features": [],
        "trusted_access": ["account.amazonaws.com"],
        "members": [member("everything", json!({"password_present": true, "virtual_mfa": true, "mfa_enabled": true,
            "access_keys": [{"active": true}, {"active": false}], "signing_certs": [{"active": true}]}))],
        // AWS's quotas on, AssumeRoot and Organizations at a low rate: the kills
        // must converge when calls are throttled too.
        "quotas": QUOTAS.clone()
    }))
}

/// The launcher's request quotas for the organization tests here.
static QUOTAS: std::sync::LazyLock<Value> = std::sync::LazyLock::new(
    || json!({"documented": true, "rates": {"sts:AssumeRoot": [2, 2], "organizations": [4, 4]}}),
);

fn org_rg(org: &Org, args: &[&str]) -> Run {
    let mut cmd = rootguard_as(&org.management);
    cmd.args(args);
    run(cmd)
}

/// (account, action) pairs: every write `org harden` sends, in the
/// management account and in the member's root session.
fn org_writes(org: &Org) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for id in std::iter::once(&org.management.id).chain(&org.members) {
        for a in emulator().stats_of(id)["by_action"]
            .as_object()
            .unwrap()
            .keys()
        {
            if !rootguard::domain::policy::is_read_only(a)
                && !a.ends_with(')')
                && a != "sts:AssumeRoot"
            {
                out.insert((id.clone(), a.clone()));
            }
        }
    }
    out
}

/// Every member's root cleared (common), and no virtual MFA device left behind.
fn hardened(org: &Org) -> Result<(), String> {
    member_roots_cleared(org)?;
    let devices = emulator().mfa_devices(&bare(&org.members[0]));
    if !devices.is_empty() {
        return Err(format!("orphaned MFA device: {devices:?}"));
    }
    Ok(())
}

#[test]
fn org_harden_stopped_after_any_step_is_completed_by_the_next_run() {
    let reference = harden_org();
    let r = org_rg(&reference, &["org", "harden", "--yes", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    hardened(&reference).unwrap();
    let steps = org_writes(&reference);
    assert!(steps.len() >= 7, "{steps:?}");
    let names: BTreeSet<String> = steps.iter().map(|(_, a)| a.clone()).collect();
    let on_member: BTreeSet<String> = steps
        .iter()
        .filter(|(id, _)| id != &reference.management.id)
        .map(|(_, a)| a.clone())
        .collect();

    for_each_action(&names, |action| {
        let org = harden_org();
        let target = if on_member.contains(action) {
            bare(&org.members[0])
        } else {
            org.management.clone()
        };
        emulator().deny(&target, &[action]);
        let stopped = org_rg(&org, &["org", "harden", "--yes", "-q"]);
        if stopped.code == 0 {
            return Err(format!(
                "a refused {action} was not reported: {}",
                stopped.stderr
            ));
        }
        emulator().deny(&target, &[]);
        let resumed = org_rg(&org, &["org", "harden", "--yes", "-q"]);
        if resumed.code != 0 {
            return Err(format!(
                "the next run failed: {}{}",
                resumed.stdout, resumed.stderr
            ));
        }
        if action == "iam:DeleteVirtualMFADevice" {
            // The one step a later run cannot see: the root-task policy cannot
            // list an unassigned device. The stopped run names it and says how
            // to delete it; everything else converges.
            let devices = emulator().mfa_devices(&bare(&org.members[0]));
            let serial = devices[0]["serial"].as_str().unwrap_or("?").to_string();
            if !(stopped.stderr.contains(&serial)
                && stopped.stderr.contains("delete-virtual-mfa-device"))
            {
                return Err(format!(
                    "the leftover device is not named: {}",
                    stopped.stderr
                ));
            }
            return Ok(());
        }
        hardened(&org)?;
        let again = org_rg(&org, &["org", "harden", "--dry-run"]);
        if !again.stdout.contains("nothing to change") {
            return Err(format!("a third run has work left: {}", again.stdout));
        }
        Ok(())
    });
}

fn deploy_org() -> Org {
    let org = emulator().seed_org(json!({
        "management": {"regions": ["us-east-1", "eu-west-1"]},
        "features": ["RootCredentialsManagement", "RootSessions"],
        "trusted_access": ["iam.amazonaws.com", "account.amazonaws.com"],
        "members": [{"name": "prod"}, {"name": "dev"}],
        "quotas": QUOTAS.clone()
    }));
    // StackSet operations take time, as in AWS.
    emulator().set_stackset_pacing(&org.management, json!({"round_seconds": 0.2}));
    org
}

const DEPLOY_ORG: [&str; 6] = ["deploy", "--org", "--email", EMAIL, "--yes", "-q"];

#[test]
fn deploy_org_stopped_after_any_step_is_completed_by_the_next_run() {
    let reference = deploy_org();
    let r = org_rg(&reference, &DEPLOY_ORG);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let steps: BTreeSet<String> = writes(&reference.management);
    assert!(steps.len() >= 6, "{steps:?}");

    for_each_action(&steps, |action| {
        let org = deploy_org();
        emulator().deny(&org.management, &[action]);
        let stopped = org_rg(&org, &DEPLOY_ORG);
        if stopped.code == 0 {
            return Err(format!(
                "a refused {action} was not reported: {}",
                stopped.stderr
            ));
        }
        emulator().deny(&org.management, &[]);
        let resumed = org_rg(&org, &DEPLOY_ORG);
        if resumed.code != 0 {
            return Err(format!(
                "the next run failed: {}{}",
                resumed.stdout, resumed.stderr
            ));
        }
        let plan = org_rg(&org, &["deploy", "--org", "--email", EMAIL, "--dry-run"]);
        if !plan
            .stdout
            .contains("0 to create, 0 to update, 15 unchanged")
        {
            return Err(format!("a third run has work left: {}", plan.stdout));
        }
        let res = emulator().resources(&org.management);
        let hub: Vec<&Value> = res["topics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| {
                t["arn"]
                    .as_str()
                    .unwrap()
                    .ends_with(":rootguard-org-root-activity")
            })
            .collect();
        if hub.len() != 1 || hub[0]["subscriptions"].as_array().unwrap().len() != 1 {
            return Err(format!("hub topic and subscription: {res:#}"));
        }
        // One root sign-in in a member reaches the hub exactly once.
        emulator().put_event(&org.member_callers[0], "root-console-signin-success");
        let msgs = topic_messages(&org.management, "rootguard-org-root-activity");
        if msgs.len() != 1 {
            return Err(format!(
                "{} message(s) for one sign-in: {msgs:?}",
                msgs.len()
            ));
        }
        Ok(())
    });
}

//! `verify --org` within AWS's request quotas: the launcher throttles the
//! management account as AWS documents (Account Management 10/s burst 15,
//! Security Hub BatchImportFindings 10/s burst 30) and at rates the test sets
//! where AWS publishes none (sts:AssumeRoot, Organizations). rootguard must
//! give every verdict an unthrottled run gives, and say when it could not.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{json, Value};

/// Members of several kinds, so verdicts differ between them: a root
/// password (root checks fail), no SECURITY contact, no contact information,
/// an AssumeRoot refused by an SCP, and clean ones.
fn members(n: usize) -> Vec<Value> {
    let h = fixture("hardened");
    (0..n)
        .map(|i| {
            let mut m = json!({
                "name": format!("m{i:04}"),
                "root": {"password_present": i % 10 == 3},
                "alternate_contacts": h["alternate_contacts"],
                "contact_information": h["contact_information"],
            });
            if i % 7 == 1 {
                m["alternate_contacts"] = json!({});
            }
            if i % 11 == 2 {
                m.as_object_mut().unwrap().remove("contact_information");
            }
            if i % 13 == 5 {
                m["assume_root"] = json!("deny");
            }
            m
        })
        .collect()
}

fn org_of(n: usize) -> Org {
    let mut management = fixture("hardened");
    management.as_object_mut().unwrap().remove("organization");
    management["security_hub"] = json!(["us-east-1"]);
    emulator().seed_org(json!({
        "management": management,
        "features": ["RootCredentialsManagement", "RootSessions"],
        "trusted_access": ["iam.amazonaws.com", "account.amazonaws.com"],
        "members": members(n),
    }))
}

/// (member name, check id) -> status, for every member of a verify --org run.
fn verdicts(doc: &Value) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for a in doc["accounts"].as_array().unwrap() {
        for f in a["findings"].as_array().unwrap() {
            out.insert(
                (
                    a["name"].as_str().unwrap().to_string(),
                    f["id"].as_str().unwrap().to_string(),
                ),
                f["status"].as_str().unwrap().to_string(),
            );
        }
    }
    out
}

fn verify_org(org: &Org, extra: &[&str]) -> (Run, Value) {
    let mut cmd = rootguard_as(&org.management);
    cmd.args(["verify", "--org", "--output", "json"])
        .args(extra);
    let r = run(cmd);
    let doc: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}\n{}", r.stderr, r.stdout));
    (r, doc)
}

/// The same organization twice, one run without quotas and one with them:
/// every (member, check) verdict is the same.
fn same_verdicts_under(n: usize, rate: f64) {
    let free = org_of(n);
    let (free_run, free_doc) = verify_org(&free, &[]);
    let limited = org_of(n);
    emulator().set_quotas(
        &limited.management,
        json!({"documented": true, "rates": {"sts:AssumeRoot": rate, "organizations": rate}}),
    );
    let (run, doc) = verify_org(&limited, &[]);
    let want = verdicts(&free_doc);
    let got = verdicts(&doc);
    assert_eq!(want.len(), got.len(), "{}", run.stderr);
    let changed: Vec<_> = want
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k:?}: {v} -> {:?}", got.get(k)))
        .collect();
    assert!(
        changed.is_empty(),
        "{} of {} verdicts changed under quotas (AssumeRoot/Organizations {rate}/s):\n{}\n{}",
        changed.len(),
        want.len(),
        changed.join("\n"),
        run.stderr
    );
    assert_eq!(free_run.code, run.code, "{}", run.stderr);
    // The quotas were real: the adaptive AssumeRoot pace was throttled while
    // it found the rate, and rootguard said so and that every call got through.
    let throttled = emulator().throttled(&limited.management);
    assert!(
        throttled["sts:AssumeRoot"].as_u64().unwrap_or(0) > 0,
        "AssumeRoot at {rate}/s was never throttled: {throttled}"
    );
    assert!(
        run.stderr.contains("AWS throttled") && run.stderr.contains("retried and answered"),
        "{}",
        run.stderr
    );
    // No unknown in the limited run that the free run did not have.
    assert_eq!(
        doc["summary"]["unknown"], free_doc["summary"]["unknown"],
        "{}",
        run.stderr
    );
}

#[test]
fn two_hundred_members_under_documented_quotas_and_assume_root_at_8_a_second_give_every_unthrottled_verdict(
) {
    same_verdicts_under(200, 8.0);
}

#[test]
fn a_low_unpublished_rate_of_2_a_second_is_found_and_every_verdict_holds() {
    same_verdicts_under(30, 2.0);
}

#[test]
fn no_get_primary_email_and_no_billing_or_operations_contacts_by_default() {
    let org = org_of(6);
    let (r, doc) = verify_org(&org, &[]);
    let by = &emulator().stats(&org.management)["by_action"];
    assert!(by.get("account:GetPrimaryEmail").is_none(), "{by}");
    // One SECURITY contact and one contact information per member, nothing
    // more (the management account's own single-account verify reads its
    // three contacts and its contact information).
    assert_eq!(by["account:GetAlternateContact"], json!(6 + 3), "{by}");
    assert_eq!(by["account:GetContactInformation"], json!(6 + 1), "{by}");
    let m = doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] != org.management.id.as_str())
        .unwrap();
    let f = m["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "security-contact")
        .unwrap();
    assert!(evidence(f).contains("--compare-contacts"), "{}", r.stderr);
    // Asked for, the shared-address comparison reads both others per member.
    let before = emulator().stats(&org.management)["by_action"]["account:GetAlternateContact"]
        .as_u64()
        .unwrap();
    let (_, _) = verify_org(&org, &["--compare-contacts"]);
    let after = emulator().stats(&org.management)["by_action"]["account:GetAlternateContact"]
        .as_u64()
        .unwrap();
    assert_eq!(after - before, 6 * 3 + 3);
}

#[test]
fn a_call_still_throttled_at_the_deadline_is_unknown_and_says_it_was_throttled() {
    let org = org_of(4);
    // One AssumeRoot a hundred seconds: the first member gets through, the
    // others are throttled past a 10 s deadline.
    emulator().set_quotas(
        &org.management,
        json!({"documented": true, "rates": {"sts:AssumeRoot": [0.01, 1]}}),
    );
    let (r, doc) = verify_org(&org, &["--throttle-deadline", "10s"]);
    let throttled: Vec<&Value> = doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["findings"].as_array().unwrap())
        .filter(|f| f["id"] == "root-mfa" && f["status"] == "unknown")
        .collect();
    assert!(!throttled.is_empty(), "{}", r.stderr);
    for f in throttled {
        let e = evidence(f);
        assert!(e.contains("sts:AssumeRoot was throttled"), "{e}");
        assert!(e.contains("--throttle-deadline"), "{e}");
    }
    assert!(
        r.stderr.contains("still throttled at the deadline"),
        "{}",
        r.stderr
    );
    assert_ne!(r.code, 0);
}

#[test]
fn security_hub_import_under_its_quota_refuses_nothing() {
    let org = org_of(40);
    // Lower than AWS's 10/s so the test is throttled within seconds.
    emulator().set_quotas(
        &org.management,
        json!({"documented": true, "rates": {"securityhub:BatchImportFindings": [1, 1]}}),
    );
    let mut cmd = rootguard_as(&org.management);
    cmd.args(["verify", "--org", "--security-hub", "-o", "asff"]);
    let r = run(cmd);
    let printed: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let held = emulator().security_hub(&org.management, "us-east-1");
    assert_eq!(held.len(), printed.len(), "{}", r.stderr);
    assert!(!r.stderr.contains("refused"), "{}", r.stderr);
    let throttled = emulator().throttled(&org.management);
    assert!(
        throttled["securityhub:BatchImportFindings"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "the import was never throttled: {throttled}"
    );
}

// ------------------------------------------------ deploy --org on StackSets paced as AWS runs them

const EMAIL: &str = "security@example.com";

fn plain_org(n: usize) -> Org {
    emulator().seed_org(json!({
        "management": {"regions": ["us-east-1", "eu-west-1"]},
        "features": ["RootCredentialsManagement", "RootSessions"],
        "trusted_access": ["iam.amazonaws.com", "account.amazonaws.com"],
        "members": (0..n).map(|i| json!({"name": format!("m{i:04}")})).collect::<Vec<_>>(),
    }))
}

fn deploy_org(org: &Org, extra: &[&str]) -> Run {
    let mut cmd = rootguard_as(&org.management);
    cmd.args(["deploy", "--org", "--email", EMAIL, "--yes"])
        .args(extra);
    run(cmd)
}

fn spoke_statuses(org: &Org) -> BTreeMap<String, String> {
    let (_, doc) = verify_org(org, &["--check", "root-realtime-alert"]);
    doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["account_id"] != org.management.id.as_str())
        .map(|a| {
            (
                a["account_id"].as_str().unwrap().to_string(),
                a["findings"][0]["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn deploy_org_on_200_members_with_one_denied_by_an_scp_covers_every_other_member_and_a_rerun_heals_it(
) {
    let org = plain_org(200);
    let denied = org.members[7].clone();
    emulator().set_stackset_pacing(
        &org.management,
        json!({"round_seconds": 0.5, "fail": {denied.as_str(): true}}),
    );
    let started = std::time::Instant::now();
    let r = deploy_org(&org, &[]);
    let took = started.elapsed();
    // Every member at once (MaxConcurrentPercentage 100, SOFT failure
    // tolerance): one round, not 200 rounds one after another.
    assert!(
        took < std::time::Duration::from_secs(30),
        "deploy --org took {took:?}: {}",
        r.stderr
    );
    assert_eq!(r.code, 1, "the failed member makes it exit 1: {}", r.stderr);
    assert!(
        r.stderr.contains("199 of 200 member(s) CURRENT"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&denied), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("explicit deny in a service control policy"),
        "AWS's StatusReason is shown: {}",
        r.stderr
    );
    let spokes = spoke_statuses(&org);
    assert_eq!(spokes[&denied], "fail", "{spokes:?}");
    assert_eq!(
        spokes.values().filter(|s| *s == "pass").count(),
        199,
        "{spokes:?}"
    );
    // The plan of a rerun names only the failed member (its instance in each of
    // the two regions), and is not "nothing to change".
    let mut dry = rootguard_as(&org.management);
    dry.args(["deploy", "--org", "--email", EMAIL, "--dry-run"]);
    let dry = run(dry);
    assert!(!dry.stdout.contains("nothing to change"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("redeploy 2 stack instance(s)") && dry.stdout.contains(&denied),
        "{}",
        dry.stdout
    );
    // The SCP is lifted: a rerun redeploys that member only.
    emulator().set_stackset_pacing(&org.management, json!({"lift": [denied.as_str()]}));
    let r = deploy_org(&org, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("200 of 200 member(s) CURRENT"),
        "{}",
        r.stderr
    );
    let by = emulator().stats(&org.management)["by_action"].clone();
    assert_eq!(
        by["cloudformation:UpdateStackInstances"],
        json!(1),
        "{by:#}"
    );
    assert!(spoke_statuses(&org).values().all(|s| s == "pass"));
    // A third run has nothing to change.
    let r = deploy_org(&org, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("nothing to change") || r.stdout.contains("nothing to change"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn aws_defaults_would_strand_members_and_the_emulator_shows_it() {
    // The launcher is as strict as AWS: with AWS's default preferences (one
    // account at a time, tolerance 0) one failing member cancels the rest.
    // rootguard's flags can ask for exactly that; its default does not.
    let org = plain_org(6);
    let denied = org.members[1].clone();
    emulator().set_stackset_pacing(
        &org.management,
        json!({"round_seconds": 0.2, "fail": {denied.as_str(): true}}),
    );
    let r = deploy_org(
        &org,
        &[
            "--max-concurrent-percent",
            "1",
            "--failure-tolerance-percent",
            "0",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("Cancelled since failure tolerance has exceeded"),
        "{}",
        r.stderr
    );
    let cancelled = r.stderr.matches("CANCELLED").count();
    assert!(
        cancelled >= 3,
        "members after the failure were cancelled: {}",
        r.stderr
    );
}

#[test]
fn deploy_org_waits_for_an_operation_already_running_then_completes() {
    let org = plain_org(5);
    let m = org.members[2].clone();
    emulator().set_stackset_pacing(
        &org.management,
        json!({"round_seconds": 0.2, "fail": {m.as_str(): true}}),
    );
    let r = deploy_org(&org, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // The SCP is lifted, but someone else's operation runs on the StackSet for 3 s.
    emulator().set_stackset_pacing(&org.management, json!({"lift": [m.as_str()]}));
    emulator().set_stackset_pacing(
        &org.management,
        json!({"hold": 3, "stackset": "rootguard-root-activity-spoke"}),
    );
    let started = std::time::Instant::now();
    let r = deploy_org(&org, &[]);
    assert_eq!(r.code, 0, "waited, then redeployed: {}", r.stderr);
    assert!(
        r.stderr.contains("5 of 5 member(s) CURRENT"),
        "{}",
        r.stderr
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "it cannot have finished before the running operation ended"
    );
    let by = emulator().stats(&org.management)["by_action"].clone();
    assert!(
        by["cloudformation:UpdateStackInstances"].as_u64().unwrap() >= 2,
        "refused once with OperationInProgressException, then sent again: {by:#}"
    );
    assert!(
        by["cloudformation:ListStackSetOperations"]
            .as_u64()
            .unwrap()
            >= 1,
        "{by:#}"
    );
    every_action_is_in_policy_org(&by);
}

/// Every action the management account sent is in `rootguard policy org`.
fn every_action_is_in_policy_org(by: &Value) {
    let mut cmd = bare_command();
    cmd.args(["policy", "org"]);
    let policy: Value = serde_json::from_str(&run(cmd).stdout).unwrap();
    let allowed = rootguard::domain::policy::actions(&policy);
    for action in by.as_object().unwrap().keys() {
        let action = action.split('(').next().unwrap();
        assert!(
            allowed.iter().any(|a| a == action),
            "{action} is not in `rootguard policy org`"
        );
    }
}

#[test]
fn a_throttled_get_caller_identity_is_retried_and_past_the_deadline_named_as_throttled_not_an_outage(
) {
    let acct = emulator().seed(fixture("hardened"));
    // One GetCallerIdentity every 1000 s: the first run takes the only token.
    emulator().set_quotas(
        &acct,
        json!({"documented": false, "rates": {"sts:GetCallerIdentity": [0.001, 1]}}),
    );
    let mut first = rootguard_as(&acct);
    first.args(["verify", "--output", "json"]);
    let first = run(first);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let mut second = rootguard_as(&acct);
    second.args(["verify", "--throttle-deadline", "10s"]);
    let second = run(second);
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("sts:GetCallerIdentity was throttled"),
        "{}",
        second.stderr
    );
    assert!(!second.stderr.contains("unavailable"), "{}", second.stderr);
    // At a rate that lets a call through after a wait (one every 10 s, longer
    // than a verify run takes), two runs back to back both succeed: the
    // second is throttled and retried, not failed.
    emulator().set_quotas(
        &acct,
        json!({"documented": false, "rates": {"sts:GetCallerIdentity": [0.1, 1]}}),
    );
    for _ in 0..2 {
        let mut again = rootguard_as(&acct);
        again.args(["verify", "--output", "json"]);
        let again = run(again);
        assert_eq!(again.code, 0, "{}", again.stderr);
    }
    assert!(
        emulator().throttled(&acct)["sts:GetCallerIdentity"]
            .as_u64()
            .unwrap_or(0)
            > 0
    );
}

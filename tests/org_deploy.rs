//! `deploy --org` and `teardown --org` against an emulated organization: the
//! hub in the management account, the service-managed StackSet whose
//! instances build the forwarding rule in each member, and a root sign-in in a
//! member reaching the hub topic as a message that names the member.

mod common;

use common::*;
use serde_json::{json, Value};

const EMAIL: &str = "security@example.com";

/// The management account has two enabled regions: the spokes go to both.
fn org() -> Org {
    emulator().seed_org(json!({
        "management": {"regions": ["us-east-1", "eu-west-1"]},
        "features": ["RootCredentialsManagement", "RootSessions"],
        "trusted_access": ["iam.amazonaws.com", "account.amazonaws.com"],
        "members": [{"name": "prod"}, {"name": "dev"}]
    }))
}

fn rg(org: &Org, args: &[&str]) -> Run {
    let mut cmd = rootguard_as(&org.management);
    cmd.args(args);
    run(cmd)
}

fn hub_messages(org: &Org) -> Vec<String> {
    topic_messages(&org.management, "rootguard-org-root-activity")
}

fn member(org: &Org, i: usize) -> Account {
    org.member_callers[i].clone()
}

#[test]
fn deploy_org_plans_applies_forwards_converges_and_tears_down() {
    let org = org();
    // --dry-run: the plan, and no write.
    let dry = rg(
        &org,
        &[
            "deploy",
            "--org",
            "--email",
            EMAIL,
            "--dry-run",
            "--output",
            "json",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let plan: Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(plan["schema"], "rootguard.org-deploy-plan/v1");
    let kinds: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["resource"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "trusted_access",
            "hub_topic",
            "hub_subscription",
            "hub_bus",
            "hub_rule",
            "hub_rule",
            "hub_rule",
            "hub_rule",
            "hub_rule",
            "forward_role",
            "forward_rule",
            "forward_rule",
            "stack_set",
            "stack_instances",
            "redeploy_instances"
        ]
    );
    assert!(
        writes(&org.management).is_empty(),
        "{:?}",
        writes(&org.management)
    );

    let r = rg(&org, &["deploy", "--org", "--email", EMAIL, "--yes"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{n} of {n} member(s) CURRENT",
            n = org.members.len()
        )),
        "{}",
        r.stderr
    );
    let by = emulator().stats(&org.management)["by_action"].clone();
    assert!(
        by["cloudformation:CreateStackSet"].as_u64() == Some(1),
        "{by:#}"
    );
    assert!(by["organizations:EnableAWSServiceAccess"].as_u64() == Some(1));

    // verify --org reports each member's spoke instance.
    let v = rg(
        &org,
        &[
            "verify",
            "--org",
            "--output",
            "json",
            "--check",
            "root-realtime-alert",
        ],
    );
    let doc: Value =
        serde_json::from_str(&v.stdout).unwrap_or_else(|e| panic!("{e}: {}", v.stderr));
    for a in doc["accounts"].as_array().unwrap() {
        if a["access"] == "management" {
            continue;
        }
        let f = &a["findings"][0];
        assert_eq!(f["id"], "root-realtime-alert");
        assert_eq!(f["status"], "pass", "{f:#}");
        assert!(evidence(f).contains("are CURRENT"), "{f:#}");
    }

    // A root sign-in in a member reaches the hub topic, naming the member.
    emulator().put_event(&member(&org, 0), "root-console-signin-success");
    let msgs = hub_messages(&org);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(
        msgs[0].starts_with(&format!(
            "ROOT CONSOLE SIGN-IN to AWS account {}: Success",
            org.members[0]
        )),
        "{}",
        msgs[0]
    );
    // An IAM user's call in a member is not forwarded.
    emulator().put_event(&member(&org, 1), "iam-user-call");
    assert_eq!(hub_messages(&org).len(), 1);

    // A second run changes nothing.
    let again = rg(&org, &["deploy", "--org", "--email", EMAIL, "--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stdout
            .contains("0 to create, 0 to update, 15 unchanged"),
        "{}",
        again.stdout
    );
    assert!(again.stderr.contains("nothing to change"));

    // teardown --org: the plan as JSON first, then nothing of rootguard's left behind.
    let dry = rg(
        &org,
        &["teardown", "--org", "--dry-run", "--output", "json"],
    );
    let plan: Value =
        serde_json::from_str(&dry.stdout).unwrap_or_else(|e| panic!("{e}: {}", dry.stdout));
    assert_eq!(plan["schema"], "rootguard.org-teardown-plan/v1");
    let steps: Vec<&str> = plan["delete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "delete_stack_set",
            "delete_forward_rule",
            "delete_forward_rule",
            "delete_forward_role",
            "delete_hub_rule",
            "delete_hub_rule",
            "delete_hub_rule",
            "delete_hub_rule",
            "delete_hub_rule",
            "delete_hub_bus",
            "delete_hub_topic"
        ]
    );
    assert_eq!(
        plan["delete"][0]["instances"], 4,
        "two members in two regions"
    );
    let r = rg(&org, &["teardown", "--org", "--yes"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let res = emulator().resources(&org.management);
    assert!(
        res["topics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| !t["arn"].as_str().unwrap().contains("rootguard")),
        "{res:#}"
    );
    let plan = rg(&org, &["teardown", "--org", "--dry-run"]);
    assert!(plan.stdout.contains("nothing to delete"), "{}", plan.stdout);
    // The member's forwarding rule went with its stack instance.
    emulator().put_event(&member(&org, 0), "root-console-signin-success");
    let fresh = rg(&org, &["deploy", "--org", "--email", EMAIL, "--dry-run"]);
    assert!(
        fresh.stdout.contains("2 member(s) without one yet"),
        "{}",
        fresh.stdout
    );
}

#[test]
fn root_activity_in_every_region_of_every_member_and_assume_root_in_the_management_account_reach_the_hub(
) {
    let org = emulator().seed_org(json!({
        "management": {"regions": ["us-east-1", "us-west-2"]},
        "features": ["RootCredentialsManagement", "RootSessions"],
        "trusted_access": ["iam.amazonaws.com", "account.amazonaws.com"],
        "members": [{"name": "prod"}, {"name": "dev"}]
    }));
    let r = rg(&org, &["deploy", "--org", "--email", EMAIL, "--yes"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("stack instance per member in us-east-1, us-west-2"),
        "{}",
        r.stderr
    );
    emulator().confirm(&org.management, EMAIL);
    let prod = member(&org, 0);
    // A member's read-only root call in us-east-1 and its root call in us-west-2.
    emulator().put_event(&prod, "root-api-call-readonly");
    emulator().put_event_in(&prod, "root-api-call-regional", "us-west-2");
    // An sts:AssumeRoot in the management account, in us-west-2, then the
    // member's write in that privileged session.
    emulator().put_event(&org.management, "assume-root-call");
    emulator().put_event(&prod, "root-session-write");
    // rootguard's own audit session: its AssumeRoot and its reads page nobody.
    emulator().put_event(&org.management, "assume-root-audit");
    emulator().put_event(&prod, "root-session-read");
    let msgs = hub_messages(&org);
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    let acct = format!("AWS account {}", prod.id);
    assert!(
        msgs[0].contains(&acct) && msgs[0].contains("root called ListBuckets"),
        "{}",
        msgs[0]
    );
    assert!(
        msgs[1].contains("root called RunInstances") && msgs[1].contains("in us-west-2"),
        "{}",
        msgs[1]
    );
    for needle in [
        "PRIVILEGED ROOT SESSION STARTED",
        "arn:aws:sts::999988887777:assumed-role/OrgAdmin/mallory",
        "root-task/IAMCreateRootUserPassword",
        "in us-west-2",
        "from IP 192.0.2.1",
    ] {
        assert!(msgs[2].contains(needle), "{needle}: {}", msgs[2]);
    }
    assert!(
        msgs[2].contains(&format!("AWS account {}", org.management.id)),
        "{}",
        msgs[2]
    );
    assert!(
        msgs[3].contains("privileged root session started from the management account")
            && msgs[3].contains("CreateLoginProfile")
            && msgs[3].contains(&acct),
        "{}",
        msgs[3]
    );
    for m in &msgs {
        assert!(!m.contains('<') && !m.contains("null"), "{m}");
    }
    // Twice changes nothing; teardown leaves no rule in any region.
    let again = rg(&org, &["deploy", "--org", "--email", EMAIL, "--dry-run"]);
    assert!(
        again.stdout.contains("0 to create, 0 to update"),
        "{}",
        again.stdout
    );
    assert_eq!(rg(&org, &["teardown", "--org", "--yes"]).code, 0);
    for region in ["us-east-1", "us-west-2"] {
        let left = emulator().resources_in(&org.management, region);
        assert_eq!(left["rules"], json!({}), "{region}: {left:#}");
        let left = emulator().resources_in(&prod, region);
        assert_eq!(left["rules"], json!({}), "member {region}: {left:#}");
    }
    assert!(emulator().resources(&org.management)["roles"]
        .get("rootguard-events-forward-hub")
        .is_none());
}

#[test]
fn accounts_that_join_later_are_covered_by_automatic_deployment_and_leavers_are_dropped() {
    let org = org();
    let r = rg(&org, &["deploy", "--org", "--email", EMAIL, "--yes"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    // A new account joins: StackSets' automatic deployment gives it the spoke,
    // with no rootguard run in between.
    let newcomer = emulator().join_org(&org, "joined-later");
    let v = rg(
        &org,
        &[
            "verify",
            "--org",
            "--output",
            "json",
            "--check",
            "root-realtime-alert",
        ],
    );
    let doc: Value =
        serde_json::from_str(&v.stdout).unwrap_or_else(|e| panic!("{e}: {}", v.stderr));
    let joined = doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == newcomer.id.as_str())
        .unwrap_or_else(|| panic!("verify --org lists the new member: {doc:#}"));
    let f = &joined["findings"][0];
    assert_eq!(f["status"], "pass", "{f:#}");
    assert!(evidence(f).contains("are CURRENT"), "{f:#}");
    emulator().put_event(&newcomer, "root-console-signin-success");
    let msgs = hub_messages(&org);
    assert!(
        msgs.iter()
            .any(|m| m.contains(&format!("AWS account {}", newcomer.id))),
        "{msgs:?}"
    );
    let again = rg(&org, &["deploy", "--org", "--email", EMAIL, "--dry-run"]);
    assert!(
        again
            .stdout
            .contains("0 to create, 0 to update, 15 unchanged"),
        "nothing left for rootguard to do: {}",
        again.stdout
    );

    // A member leaves: its instance and forwarding rule go with it.
    let before = hub_messages(&org).len();
    emulator().leave_org(&org, &org.members[1]);
    emulator().put_event(&member(&org, 1), "root-console-signin-success");
    assert_eq!(
        hub_messages(&org).len(),
        before,
        "a departed account forwards nothing"
    );
    let left = rg(
        &org,
        &[
            "verify",
            "--org",
            "--output",
            "json",
            "--check",
            "root-realtime-alert",
        ],
    );
    assert!(!left.stdout.contains(&org.members[1]), "{}", left.stdout);
}

#[test]
fn bad_org_deploy_input_exits_2_naming_the_flag() {
    let org = org();
    let before = emulator().stats(&org.management)["requests"].clone();
    for (args, needle) in [
        (
            &[
                "deploy",
                "--org",
                "--email",
                EMAIL,
                "--ou",
                "ou-bad",
                "--dry-run",
            ][..],
            "--ou",
        ),
        (
            &[
                "deploy",
                "--org",
                "--email",
                EMAIL,
                "--ou",
                "r-AB",
                "--dry-run",
            ][..],
            "--ou",
        ),
        (
            &[
                "deploy",
                "--org",
                "--email",
                EMAIL,
                "--no-realtime",
                "--dry-run",
            ][..],
            "--no-realtime",
        ),
        (
            &["deploy", "--email", EMAIL, "--ou", "r-abcd", "--dry-run"][..],
            "--org",
        ),
        (&["deploy", "--org", "--email", EMAIL][..], "--yes"),
    ] {
        let r = rg(&org, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    assert_eq!(
        emulator().stats(&org.management)["requests"],
        before,
        "no request for bad input"
    );
    // An OU that is not in the organization is found by asking, and named; nothing is written.
    let r = rg(
        &org,
        &[
            "deploy",
            "--org",
            "--email",
            EMAIL,
            "--ou",
            "ou-abcd-12345678",
            "--dry-run",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--ou names ou-abcd-12345678"),
        "{}",
        r.stderr
    );
    assert!(writes(&org.management).is_empty());
    // From a member account: where to run it.
    let mut cmd = rootguard_as(&member(&org, 0));
    cmd.args(["deploy", "--org", "--email", EMAIL, "--dry-run"]);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("not its management account"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_spoke_template_is_printed_and_forwards_what_the_single_account_rule_matches() {
    let mut cmd = bare_command();
    cmd.args(["template", "--org-spoke"]);
    let r = run(cmd);
    assert_eq!(r.code, 0);
    let t: Value = serde_yaml::from_str(&r.stdout).unwrap();
    let rule = &t["Resources"]["RootActivityForward"]["Properties"];
    assert_eq!(
        rule["EventPattern"],
        rootguard::domain::realtime::forward_pattern()
    );
    assert_eq!(rule["Targets"][0]["Arn"], json!({"Ref": "HubEventBusArn"}));
    // Read-only root calls too (a rule in state ENABLED never sees them).
    assert_eq!(rule["State"], rootguard::domain::realtime::RULE_STATE);
    assert_eq!(r.stdout, rootguard::domain::orgdeploy::SPOKE_TEMPLATE);
}

#[test]
fn policy_org_lists_every_action_deploy_and_teardown_org_send() {
    let org = org();
    assert_eq!(
        rg(&org, &["deploy", "--org", "--email", EMAIL, "--yes"]).code,
        0
    );
    assert_eq!(rg(&org, &["teardown", "--org", "--yes"]).code, 0);
    let mut cmd = bare_command();
    cmd.args(["policy", "org"]);
    let policy: Value = serde_json::from_str(&run(cmd).stdout).unwrap();
    let allowed = rootguard::domain::policy::actions(&policy);
    let seen = emulator().stats(&org.management)["by_action"].clone();
    for action in seen.as_object().unwrap().keys() {
        assert!(
            allowed.contains(action),
            "{action} is not in `rootguard policy org`"
        );
    }
}

//! The real-time root alert end to end: deploy puts the EventBridge rule in
//! us-east-1, a root sign-in on the bus reaches the topic as a readable
//! message, `root-realtime-alert` judges the rule with TestEventPattern, and
//! `alarm test --realtime` drills it.

mod common;

use common::*;
use serde_json::{json, Value};

const EMAIL: &str = "security@example.com";

fn rg(acct: &Account, args: &[&str]) -> Run {
    let mut cmd = rootguard_as(acct);
    cmd.args(args);
    run(cmd)
}

fn realtime_finding(acct: &Account) -> Value {
    let (_, doc) = verify_json(acct, &["--check", "root-realtime-alert"]);
    finding(&doc, "root-realtime-alert").clone()
}

#[test]
fn each_kind_of_root_activity_in_any_region_reaches_the_topic_as_its_own_sentence() {
    let mut s = trail_only();
    s["alias"] = json!("acme-prod");
    s["regions"] = json!(["us-east-1", "eu-west-1", "us-west-2"]);
    let acct = emulator().seed(s);
    let r = rg(&acct, &["deploy", "--email", EMAIL, "--yes"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for needle in [
        "eventbridge rule rootguard-root-activity in us-east-1",
        "eventbridge rule rootguard-assume-root in us-east-1",
        "iam role rootguard-events-forward",
        "eventbridge rule rootguard-root-forward in eu-west-1, us-west-2 (2 regions)",
    ] {
        assert!(r.stdout.contains(needle), "{needle}: {}", r.stdout);
    }
    emulator().confirm(&acct, EMAIL);
    let messages = || topic_messages(&acct, "rootguard-root-activity");

    emulator().put_event(&acct, "root-console-signin-success");
    let msgs = messages();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let signin = format!(
        "ROOT CONSOLE SIGN-IN to AWS account {} (acme-prod): Success, MFA used: Yes",
        acct.id
    );
    assert!(msgs[0].starts_with(&signin), "{}", msgs[0]);
    assert!(msgs[0].contains("from IP 203.0.113.10"), "{}", msgs[0]);
    let when = regex::Regex::new(r" at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ in us-east-1 ").unwrap();
    assert!(
        when.is_match(&msgs[0]),
        "the time as a person reads it: {}",
        msgs[0]
    );

    // Not root activity, not root's own, or an audit session's read (what
    // rootguard's verify --org does in every member): nothing is sent.
    for quiet in [
        "iam-user-call",
        "assumed-role-call",
        "root-aws-service-event",
        "root-invoked-by-service",
        "root-session-read",
        "assume-root-audit",
    ] {
        emulator().put_event(&acct, quiet);
    }
    assert_eq!(messages().len(), 1, "{:?}", messages());

    // A read-only root call (a stolen key's first move) in us-east-1, a root
    // call in eu-west-1 (forwarded), one AWS refused, a privileged session's
    // write, and an AssumeRoot in us-west-2 (forwarded): each its own sentence.
    emulator().put_event(&acct, "root-api-call-readonly");
    emulator().put_event(&acct, "root-api-call-regional");
    emulator().put_event(&acct, "root-api-call-refused");
    emulator().put_event(&acct, "root-session-write");
    emulator().put_event(&acct, "assume-root-call");
    let msgs = messages();
    assert_eq!(msgs.len(), 6, "{msgs:#?}");
    let said = |i: usize, needles: &[&str]| {
        for n in needles {
            assert!(msgs[i].contains(n), "{n:?} not in {}", msgs[i]);
        }
        assert!(
            !msgs[i].contains('<') && !msgs[i].contains("null") && !msgs[i].contains("MFA used: ."),
            "every field filled, none that does not apply: {}",
            msgs[i]
        );
    };
    said(
        1,
        &["root called ListBuckets (s3.amazonaws.com)", "in us-east-1"],
    );
    said(
        2,
        &[
            "root called RunInstances (ec2.amazonaws.com)",
            "in eu-west-1",
        ],
    );
    said(
        3,
        &["root tried CreateUser", "AWS refused it: AccessDenied"],
    );
    said(
        4,
        &[
            "PRIVILEGED ROOT SESSION",
            "privileged root session started from the management account",
            "CreateLoginProfile",
        ],
    );
    assert!(!msgs[4].contains("treat it as a compromise"), "{}", msgs[4]);
    said(
        5,
        &[
            "PRIVILEGED ROOT SESSION STARTED",
            "arn:aws:sts::999988887777:assumed-role/OrgAdmin/mallory",
            "member account 111122223333",
            "root-task/IAMCreateRootUserPassword",
            "in us-west-2",
            "from IP 192.0.2.1",
        ],
    );

    let f = realtime_finding(&acct);
    assert_eq!(f["status"], "pass", "{f:#}");
    assert!(
        evidence(&f).contains("2 other enabled region(s) is forwarded"),
        "{f:#}"
    );
    // A second deploy changes nothing.
    let again = rg(&acct, &["deploy", "--email", EMAIL, "--dry-run"]);
    assert!(
        again.stdout.contains("0 to create, 0 to update"),
        "{}",
        again.stdout
    );
}

#[test]
fn a_region_without_forwarding_is_named_by_verify_and_the_drill_and_deploy_restores_it() {
    let mut s = trail_only();
    s["regions"] = json!(["us-east-1", "eu-west-1", "ap-southeast-2"]);
    let acct = emulator().seed(s);
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);
    emulator().confirm(&acct, EMAIL);
    let ok = rg(
        &acct,
        &["alarm", "test", "--realtime", "--region", "eu-west-1"],
    );
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout
            .contains("region eu-west-1: rule rootguard-root-forward forwards"),
        "{}",
        ok.stdout
    );

    emulator().edit_rule_in(
        &acct,
        "rootguard-root-forward",
        "eu-west-1",
        "delete",
        Value::Null,
    );
    emulator().put_event(&acct, "root-api-call-regional");
    assert!(
        topic_messages(&acct, "rootguard-root-activity")
            .iter()
            .all(|m| m.starts_with("[TEST]") || !m.contains("RunInstances")),
        "eu-west-1's root call reaches nobody without its forwarder"
    );
    let f = realtime_finding(&acct);
    assert_eq!(f["status"], "warn", "{f:#}");
    assert!(
        evidence(&f).contains("no forwarding to us-east-1 from eu-west-1"),
        "{f:#}"
    );
    let drill = rg(
        &acct,
        &["alarm", "test", "--realtime", "--region", "eu-west-1"],
    );
    assert_eq!(drill.code, 1, "{}", drill.stdout);
    assert!(drill
        .stdout
        .contains("region eu-west-1: no forwarding rule"));
    let r = rg(&acct, &["deploy", "--email", EMAIL, "--yes"]);
    assert!(
        r.stdout
            .contains("create  eventbridge rule rootguard-root-forward in eu-west-1"),
        "{}",
        r.stdout
    );
    emulator().put_event(&acct, "root-api-call-regional");
    assert!(topic_messages(&acct, "rootguard-root-activity")
        .iter()
        .any(
            |m| m.starts_with("ROOT USER ACTIVITY") && m.contains("RunInstances in")
                || m.starts_with("ROOT USER ACTIVITY") && m.contains("in eu-west-1")
        ));
    assert_eq!(realtime_finding(&acct)["status"], "pass");

    // The forwarder in ENABLED state never sees reads made there.
    emulator().edit_rule_in(
        &acct,
        "rootguard-root-forward",
        "ap-southeast-2",
        "state",
        json!("ENABLED"),
    );
    let f = realtime_finding(&acct);
    assert!(
        evidence(&f)
            .contains("ap-southeast-2: the forwarding rule rootguard-root-forward is ENABLED"),
        "{f:#}"
    );
    // A region that does not forward cannot be drilled.
    let bad = rg(
        &acct,
        &["alarm", "test", "--realtime", "--region", "us-west-1"],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--region us-west-1"), "{}", bad.stderr);
}

#[test]
fn a_forwarder_without_its_role_delivers_nothing_as_in_aws() {
    let mut s = trail_only();
    s["regions"] = json!(["us-east-1", "eu-west-1"]);
    let acct = emulator().seed(s);
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);
    emulator().confirm(&acct, EMAIL);
    // The role goes (someone cleaned up IAM): a cross-Region bus target
    // without a role EventBridge can assume delivers nothing.
    let roles = emulator().resources(&acct)["roles"].clone();
    assert_eq!(
        roles["rootguard-events-forward"],
        json!(["rootguard-events-forward"]),
        "{roles:#}"
    );
    emulator().delete_role(&acct, "rootguard-events-forward");
    emulator().put_event(&acct, "root-api-call-regional");
    assert!(topic_messages(&acct, "rootguard-root-activity").is_empty());
    let plan = rg(&acct, &["deploy", "--email", EMAIL, "--dry-run"]);
    assert!(
        plan.stdout
            .contains("create  iam role rootguard-events-forward"),
        "{}",
        plan.stdout
    );
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);
    emulator().put_event(&acct, "root-api-call-regional");
    assert_eq!(topic_messages(&acct, "rootguard-root-activity").len(), 1);
}

#[test]
fn a_deleted_or_narrowed_rule_warns_naming_the_link() {
    let acct = emulator().seed(trail_only());
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);
    emulator().confirm(&acct, EMAIL);
    assert_eq!(realtime_finding(&acct)["status"], "pass");

    // Narrowed to sign-ins: root API calls are missed.
    emulator().edit_rule(
        &acct,
        "pattern",
        json!({"detail-type": ["AWS Console Sign In via CloudTrail"], "detail": {"userIdentity": {"type": ["Root"]}}}),
    );
    let f = realtime_finding(&acct);
    assert_eq!(f["status"], "warn", "{f:#}");
    assert!(
        evidence(&f).contains("misses root activity: root-api-call"),
        "{f:#}"
    );
    // deploy puts it right again.
    let r = rg(&acct, &["deploy", "--email", EMAIL, "--yes"]);
    assert!(r.stdout.contains("reset the event pattern"), "{}", r.stdout);
    assert_eq!(realtime_finding(&acct)["status"], "pass");

    emulator().edit_rule(&acct, "delete", Value::Null);
    let f = realtime_finding(&acct);
    assert_eq!(f["status"], "warn");
    assert!(
        evidence(&f).contains("no rule rootguard-root-activity in us-east-1"),
        "{f:#}"
    );
    let (code, _) = verify_json(&acct, &["--check", "root-realtime-alert"]);
    assert_eq!(code, 0, "a warning does not fail verify");
}

#[test]
fn realtime_drill_proves_the_pattern_and_publishes_a_marked_test() {
    let acct = emulator().seed(trail_only());
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);
    let pending = rg(&acct, &["alarm", "test", "--realtime"]);
    assert_eq!(pending.code, 1, "nobody confirmed yet: {}", pending.stdout);
    assert!(pending
        .stdout
        .contains("0 confirmed subscriber(s), 1 pending confirmation"));
    assert!(
        pending
            .stdout
            .contains("TestEventPattern ok       root-console-signin-success: matched"),
        "{}",
        pending.stdout
    );
    assert!(
        pending
            .stdout
            .contains("TestEventPattern ok       15 of 15 corpus events as they must be"),
        "{}",
        pending.stdout
    );

    emulator().confirm(&acct, EMAIL);
    let r = rg(&acct, &["alarm", "test", "--realtime"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r
        .stdout
        .contains("1 confirmed subscriber(s) (security@example.com)"));
    let msgs = topic_messages(&acct, "rootguard-root-activity");
    let last = msgs.last().unwrap();
    assert!(
        last.starts_with("[TEST] rootguard real-time drill"),
        "{last}"
    );
    assert!(last.contains("No root activity happened"));

    // --no-realtime belongs to deploy, not to the drill.
    let bad = rg(&acct, &["alarm", "test", "--realtime", "--no-realtime"]);
    assert_eq!(bad.code, 2);
}

#[test]
fn no_realtime_skips_the_rule_and_teardown_removes_it() {
    let acct = emulator().seed(trail_only());
    let r = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--yes", "--no-realtime"],
    );
    assert!(!r.stdout.contains("eventbridge rule"), "{}", r.stdout);
    assert_eq!(realtime_finding(&acct)["status"], "warn");

    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);
    let dry = rg(&acct, &["teardown", "--dry-run"]);
    for needle in [
        "delete  eventbridge rule rootguard-root-activity and its target in us-east-1",
        "delete  iam role rootguard-events-forward and its policy",
    ] {
        assert!(dry.stdout.contains(needle), "{needle}: {}", dry.stdout);
    }
    assert!(
        dry.stdout.contains(
            "delete  eventbridge rule rootguard-root-forward and its target in eu-west-1"
        ),
        "{}",
        dry.stdout
    );
    assert_eq!(rg(&acct, &["teardown", "--yes"]).code, 0);
    let f = realtime_finding(&acct);
    assert!(
        evidence(&f).contains("no rootguard EventBridge rule"),
        "{f:#}"
    );
    // Nothing tagged is left in any region, IAM included.
    for region in ["us-east-1", "eu-west-1", "ap-south-1"] {
        let left = emulator().resources_in(&acct, region);
        assert_eq!(left["rules"], json!({}), "{region}: {left:#}");
    }
    assert!(emulator().resources(&acct)["roles"]
        .get("rootguard-events-forward")
        .is_none());
}

#[test]
fn a_rule_in_state_enabled_misses_read_only_root_calls_and_verify_says_so() {
    let acct = emulator().seed(trail_only());
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);
    emulator().confirm(&acct, EMAIL);
    // Someone sets the rule to plain ENABLED (the state AWS's console offers).
    emulator().edit_rule(&acct, "state", json!("ENABLED"));
    emulator().put_event(&acct, "root-api-call-readonly");
    emulator().put_event(&acct, "root-api-call");
    let msgs = topic_messages(&acct, "rootguard-root-activity");
    assert_eq!(msgs.len(), 1, "only the write reached it: {msgs:?}");
    assert!(msgs[0].contains("CreateAccessKey"), "{}", msgs[0]);
    // TestEventPattern ignores the state; the check reads it.
    let f = realtime_finding(&acct);
    assert_eq!(f["status"], "warn", "{f:#}");
    assert!(
        evidence(&f).contains("not ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"),
        "{f:#}"
    );
    // deploy names the drift and puts the state right.
    let plan = rg(&acct, &["deploy", "--email", EMAIL, "--dry-run"]);
    assert!(
        plan.stdout.contains("receive read-only calls too"),
        "{}",
        plan.stdout
    );
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);
    emulator().put_event(&acct, "root-api-call-readonly");
    assert_eq!(topic_messages(&acct, "rootguard-root-activity").len(), 2);
    assert_eq!(realtime_finding(&acct)["status"], "pass");
}

#[test]
fn teardown_in_seventeen_regions_names_the_forwarders_on_one_line() {
    let mut scenario = trail_only();
    // Every region the emulator enables by default: seventeen.
    scenario.as_object_mut().unwrap().remove("regions");
    let acct = emulator().seed(scenario);
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);
    let dry = rg(&acct, &["teardown", "--dry-run"]);
    let forward: Vec<&str> = dry
        .stdout
        .lines()
        .filter(|l| l.contains("rootguard-root-forward"))
        .collect();
    assert_eq!(forward.len(), 1, "{}", dry.stdout);
    assert!(
        forward[0].starts_with(
            "  delete  eventbridge rule rootguard-root-forward and its target in 16 regions: "
        ) && forward[0].contains("eu-west-1"),
        "{}",
        dry.stdout
    );
    // The JSON plan keeps a step per region.
    let json = rg(&acct, &["teardown", "--dry-run", "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let steps = plan["delete"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "rootguard-root-forward")
        .count();
    assert_eq!(steps, 16, "{}", json.stdout);
    assert_eq!(rg(&acct, &["teardown", "--yes"]).code, 0);
}

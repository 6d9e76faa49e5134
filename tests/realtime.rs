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
fn a_root_sign_in_reaches_the_topic_as_a_message_a_person_can_act_on() {
    let mut s = trail_only();
    s["alias"] = json!("acme-prod");
    let acct = emulator().seed(s);
    let r = rg(&acct, &["deploy", "--email", EMAIL, "--yes"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("eventbridge rule rootguard-root-activity in us-east-1"),
        "{}",
        r.stdout
    );
    emulator().confirm(&acct, EMAIL);

    emulator().put_event(&acct, "root-console-signin-success");
    let msgs = topic_messages(&acct, "rootguard-root-activity");
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let m = &msgs[0];
    let account = format!("ROOT USER ACTIVITY in AWS account {} (acme-prod):", acct.id);
    for needle in [
        account.as_str(),
        "ConsoleLogin",
        "from IP 203.0.113.10",
        "Console sign-in MFA: Yes",
        "rootguard events --since 24h",
    ] {
        assert!(m.contains(needle), "{needle:?} not in {m}");
    }
    let when = regex::Regex::new(r" at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ in us-east-1 ").unwrap();
    assert!(when.is_match(m), "the time as a person reads it: {m}");
    // Not root activity, or not root's own: nothing is sent.
    for quiet in [
        "iam-user-call",
        "assumed-role-call",
        "root-aws-service-event",
        "root-invoked-by-service",
    ] {
        emulator().put_event(&acct, quiet);
    }
    emulator().put_event(&acct, "root-api-call");
    let msgs = topic_messages(&acct, "rootguard-root-activity");
    assert_eq!(msgs.len(), 2, "only the root API call added one: {msgs:?}");
    assert!(msgs[1].contains("CreateAccessKey"), "{}", msgs[1]);

    // A read-only root call (a stolen key's first move) reaches the topic too:
    // the rule is ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS.
    emulator().put_event(&acct, "root-api-call-readonly");
    let msgs = topic_messages(&acct, "rootguard-root-activity");
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(msgs[2].contains("ListBuckets"), "{}", msgs[2]);

    let f = realtime_finding(&acct);
    assert_eq!(f["status"], "pass", "{f:#}");
    // A second deploy changes nothing.
    let again = rg(&acct, &["deploy", "--email", EMAIL, "--dry-run"]);
    assert!(
        again.stdout.contains("0 to create, 0 to update"),
        "{}",
        again.stdout
    );
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
    assert!(evidence(&f).contains("no EventBridge rule rootguard-root-activity in us-east-1"));
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
    assert!(pending
        .stdout
        .contains("TestEventPattern ok       iam-user-call: not matched"));

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
    assert!(
        dry.stdout.contains(
            "delete  eventbridge rule rootguard-root-activity and its target in us-east-1"
        ),
        "{}",
        dry.stdout
    );
    assert_eq!(rg(&acct, &["teardown", "--yes"]).code, 0);
    let f = realtime_finding(&acct);
    assert!(evidence(&f).contains("no EventBridge rule"), "{f:#}");
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

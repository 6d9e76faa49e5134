//! deploy, teardown, the fire drill and `events`, end to end against the emulator.

mod common;

use common::*;
use serde_json::{json, Value};

const EMAIL: &str = "security@example.com";

fn rg(acct: &Account, args: &[&str]) -> Run {
    let mut cmd = rootguard_as(acct);
    cmd.args(args);
    run(cmd)
}

fn ours<'a>(res: &'a Value, kind: &str, name_field: &str, name: &str) -> Vec<&'a Value> {
    res[kind]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x[name_field].as_str().unwrap().ends_with(name))
        .collect()
}

/// Exactly one of each resource, tagged, with one subscription per email.
#[track_caller]
fn assert_deployed_once(acct: &Account) {
    let res = emulator().resources(acct);
    let topics = ours(&res, "topics", "arn", ":rootguard-root-activity");
    assert_eq!(topics.len(), 1, "{res:#}");
    assert_eq!(topics[0]["tags"]["managed-by"], "rootguard");
    let subs = topics[0]["subscriptions"].as_array().unwrap();
    assert_eq!(
        subs.len(),
        1,
        "one subscription per email, no duplicates: {subs:?}"
    );
    assert_eq!(subs[0]["endpoint"], EMAIL);
    let policy = &topics[0]["policy"]["Statement"][0];
    assert_eq!(policy["Principal"]["Service"], "cloudwatch.amazonaws.com");
    assert_eq!(
        policy["Condition"]["StringEquals"]["aws:SourceAccount"],
        acct.id.as_str()
    );
    let alarms = ours(&res, "alarms", "name", "rootguard-root-activity");
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0]["tags"]["managed-by"], "rootguard");
    assert_eq!(alarms[0]["actions"], json!([topics[0]["arn"]]));
    assert_eq!(
        res["log_groups"]["aws-cloudtrail-logs"],
        json!(["rootguard-root-activity"])
    );
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let acct = emulator().seed(trail_only());
    let r = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--dry-run", "--output", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["schema"], "rootguard.plan/v1");
    assert_eq!(plan["log_group"], "aws-cloudtrail-logs");
    let steps: Vec<(&str, &str)> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["resource"].as_str().unwrap(),
                s["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("topic", "create"),
            ("subscription", "create"),
            ("metric_filter", "create"),
            ("alarm", "create"),
            ("realtime_rule", "create"),
            ("realtime_rule", "create"),
            ("realtime_rule", "create"),
            ("realtime_rule", "create"),
            ("realtime_rule", "create"),
            ("forward_role", "create"),
            ("forward_rule", "create"),
        ]
    );
    assert!(
        writes(&acct).is_empty(),
        "dry run wrote: {:?}",
        writes(&acct)
    );
    let text = rg(&acct, &["deploy", "--email", EMAIL, "--dry-run"]);
    assert!(text.stdout.contains("create  email subscription security@example.com (stays pending until confirmed from the inbox)"), "{}", text.stdout);
    assert!(text
        .stdout
        .contains("11 to create, 0 to update, 0 unchanged"));
}

#[test]
fn deploy_then_confirm_makes_verify_pass_and_a_second_run_is_a_no_op() {
    let acct = emulator().seed(trail_only());
    let r = rg(&acct, &["deploy", "--email", EMAIL, "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("must click the confirmation link"),
        "{}",
        r.stderr
    );
    assert_deployed_once(&acct);

    let (code, doc) = verify_json(&acct, &["--check", "cloudtrail", "--check", "root-alarm"]);
    assert_eq!(
        finding(&doc, "root-alarm")["status"],
        "fail",
        "pending until confirmed"
    );
    assert!(evidence(finding(&doc, "root-alarm")).contains("pending confirmation"));
    assert_eq!(code, 1);
    emulator().confirm(&acct, EMAIL);
    let (code, doc) = verify_json(&acct, &["--check", "cloudtrail", "--check", "root-alarm"]);
    assert_eq!(finding(&doc, "cloudtrail")["status"], "pass");
    assert_eq!(finding(&doc, "root-alarm")["status"], "pass", "{doc:#}");
    assert_eq!(code, 0);

    let again = rg(&acct, &["deploy", "--email", EMAIL, "--yes"]);
    assert_eq!(again.code, 0);
    assert!(
        again
            .stdout
            .contains("0 to create, 0 to update, 11 unchanged"),
        "{}",
        again.stdout
    );
    assert!(again.stderr.contains("nothing to change"));
    assert_deployed_once(&acct);
}

#[test]
fn a_run_stopped_after_any_step_is_completed_by_the_next() {
    // Each write denied in turn: the run stops after the steps before it.
    for (stop_at, done_before) in [
        ("sns:CreateTopic", 0),
        ("sns:Subscribe", 1),
        ("logs:PutMetricFilter", 2),
        ("cloudwatch:PutMetricAlarm", 3),
        ("events:PutRule", 4),
        ("iam:CreateRole", 9),
        ("events:PutTargets", 4),
    ] {
        let acct = emulator().seed(trail_only());
        emulator().deny(&acct, &[stop_at]);
        let r = rg(&acct, &["deploy", "--email", EMAIL, "--yes"]);
        assert_eq!(r.code, 1, "{stop_at}: {}", r.stderr);
        assert!(
            r.stderr.contains(stop_at),
            "{stop_at}: the error names the action:\n{}",
            r.stderr
        );
        assert!(
            r.stderr.contains(&format!(
                "{done_before} step(s) done, {} not done",
                11 - done_before
            )),
            "{stop_at}:\n{}",
            r.stderr
        );
        emulator().deny(&acct, &[]);
        let plan = rg(&acct, &["deploy", "--email", EMAIL, "--dry-run"]);
        // A rule put without its target is completed, not created again.
        let half = usize::from(stop_at == "events:PutTargets");
        assert!(
            plan.stdout.contains(&format!(
                "{} to create, {half} to update, {done_before} unchanged",
                11 - done_before - half
            )),
            "{stop_at}:\n{}",
            plan.stdout
        );
        let r = rg(&acct, &["deploy", "--email", EMAIL, "--yes"]);
        assert_eq!(r.code, 0, "{stop_at}: {}", r.stderr);
        assert_deployed_once(&acct);
        let plan = rg(&acct, &["deploy", "--email", EMAIL, "--dry-run"]);
        assert!(
            plan.stdout
                .contains("0 to create, 0 to update, 11 unchanged"),
            "{stop_at}: {}",
            plan.stdout
        );
    }
}

#[test]
fn kms_key_encrypts_the_topic() {
    let acct = emulator().seed(trail_only());
    let r = rg(
        &acct,
        &[
            "deploy",
            "--email",
            EMAIL,
            "--kms-key",
            "alias/rootguard-alarms",
            "--yes",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let res = emulator().resources(&acct);
    assert_eq!(
        ours(&res, "topics", "arn", ":rootguard-root-activity")[0]["kms_key"],
        "alias/rootguard-alarms"
    );
}

#[test]
fn teardown_removes_only_what_rootguard_tagged() {
    let mut s = trail_only();
    s["chain"]["extra_topics"] = json!(["other-team-alerts"]);
    s["chain"]["extra_alarms"] = json!(["other-team-errors"]);
    let acct = emulator().seed(s);
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);

    let dry = rg(&acct, &["teardown", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    for line in [
        "delete  alarm rootguard-root-activity",
        "delete  metric filter rootguard-root-activity on aws-cloudtrail-logs",
        "delete  sns topic",
    ] {
        assert!(dry.stdout.contains(line), "{line}:\n{}", dry.stdout);
    }
    assert_deployed_once(&acct);

    let r = rg(&acct, &["teardown", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let res = emulator().resources(&acct);
    assert!(
        ours(&res, "topics", "arn", ":rootguard-root-activity").is_empty(),
        "{res:#}"
    );
    assert!(ours(&res, "alarms", "name", "rootguard-root-activity").is_empty());
    assert_eq!(
        res["log_groups"]["aws-cloudtrail-logs"],
        json!([]),
        "filter removed, log group kept"
    );
    assert_eq!(
        ours(&res, "topics", "arn", ":other-team-alerts").len(),
        1,
        "untagged topic kept"
    );
    assert_eq!(
        ours(&res, "alarms", "name", "other-team-errors").len(),
        1,
        "untagged alarm kept"
    );
    assert_eq!(
        res["trails"],
        json!(["management-events"]),
        "the pre-existing trail is left alone"
    );

    let again = rg(&acct, &["teardown", "--yes"]);
    assert_eq!(again.code, 0);
    assert!(again.stderr.contains("nothing to delete"));
}

#[test]
fn teardown_removes_what_create_trail_built_and_keeps_the_bucket_unless_asked() {
    let acct = emulator().seed(fixture("neglected"));
    let d = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--yes", "-q"],
    );
    assert_eq!(d.code, 0, "{}", d.stderr);
    let bucket = format!("rootguard-cloudtrail-{}-us-east-1", acct.id);
    let dry = rg(&acct, &["teardown", "--dry-run"]);
    for line in [
        "stop    logging of cloudtrail trail rootguard-management-events",
        "delete  cloudtrail trail rootguard-management-events in us-east-1",
        "delete  iam role rootguard-cloudtrail-to-logs",
        "delete  log group rootguard-cloudtrail",
        &format!("keep    s3 bucket {bucket} in us-east-1: it holds the trail's log files"),
    ] {
        assert!(dry.stdout.contains(line), "{line}:\n{}", dry.stdout);
    }
    let r = rg(&acct, &["teardown", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let res = emulator().resources(&acct);
    assert_eq!(res["trails"], json!([]), "{res:#}");
    assert!(
        res["log_groups"].get("rootguard-cloudtrail").is_none(),
        "{res:#}"
    );
    assert!(
        res["roles"].get("rootguard-cloudtrail-to-logs").is_none(),
        "{res:#}"
    );
    assert!(
        res["buckets"].get(&bucket).is_some(),
        "the bucket is kept: {res:#}"
    );
    assert!(
        r.stdout.contains(&bucket),
        "the kept bucket is named: {}",
        r.stdout
    );

    // Asked: the bucket is emptied (the trail's log files in it) and deleted;
    // then nothing is left to do.
    for i in 0..3 {
        emulator().put_object(
            &acct,
            &bucket,
            &format!("AWSLogs/{}/CloudTrail/{i}.json.gz", acct.id),
        );
    }
    let gone = rg(&acct, &["teardown", "--delete-trail-bucket", "--yes"]);
    assert_eq!(gone.code, 0, "{}", gone.stderr);
    assert!(
        emulator().resources(&acct)["buckets"]
            .get(&bucket)
            .is_none(),
        "{}",
        gone.stdout
    );
    let again = rg(&acct, &["teardown", "--delete-trail-bucket", "--yes"]);
    assert!(
        again.stderr.contains("nothing to delete"),
        "{}",
        again.stdout
    );
}

#[test]
fn teardown_leaves_an_untagged_namesake_alone() {
    let mut s = trail_only();
    s["chain"]["extra_topics"] = json!(["rootguard-root-activity"]);
    let acct = emulator().seed(s);
    let r = rg(&acct, &["teardown", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("keep    sns topic"), "{}", r.stdout);
    assert_eq!(
        ours(
            &emulator().resources(&acct),
            "topics",
            "arn",
            ":rootguard-root-activity"
        )
        .len(),
        1
    );
}

#[test]
fn fire_drill_reaches_the_topic_and_counts_confirmed_subscribers() {
    let acct = emulator().seed(trail_only());
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);

    let pending = rg(&acct, &["alarm", "test"]);
    assert_eq!(
        pending.code, 1,
        "no confirmed subscriber yet: {}",
        pending.stdout
    );
    assert!(
        pending
            .stdout
            .contains("0 confirmed subscriber(s), 1 pending confirmation"),
        "{}",
        pending.stdout
    );
    assert!(pending.stdout.contains("warning: no confirmed subscriber"));

    emulator().confirm(&acct, EMAIL);
    let r = rg(&acct, &["alarm", "test"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("1 confirmed subscriber(s) (security@example.com)"),
        "{}",
        r.stdout
    );

    let res = emulator().resources(&acct);
    let topic = ours(&res, "topics", "arn", ":rootguard-root-activity")[0];
    let notes = topic["notifications"].as_array().unwrap();
    assert_eq!(
        notes.len(),
        2,
        "each drill published to the topic: {notes:?}"
    );
    assert_eq!(
        notes[1]["subject"],
        "ALARM: \"rootguard-root-activity\" in us-east-1"
    );
    let msg: Value = serde_json::from_str(notes[1]["message"].as_str().unwrap()).unwrap();
    assert!(msg["NewStateReason"]
        .as_str()
        .unwrap()
        .contains("rootguard fire drill"));
    assert_eq!(
        ours(&res, "alarms", "name", "rootguard-root-activity")[0]["state"],
        "ALARM"
    );
    // CloudWatch returns a drilled alarm to OK at its next evaluation, so the
    // drill leaves a chain that will notify on the next root event.
    let back_to_ok = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        ours(
            &emulator().resources(&acct),
            "alarms",
            "name",
            "rootguard-root-activity",
        )[0]["state"]
            == "OK"
    });
    assert!(back_to_ok, "the alarm stayed in ALARM");
    let (code, doc) = verify_json(&acct, &["--check", "root-alarm"]);
    assert_eq!(finding(&doc, "root-alarm")["status"], "pass", "{doc:#}");
    assert_eq!(code, 0);
}

#[test]
fn fire_drill_without_an_alarm_is_a_clear_error() {
    let acct = emulator().seed(trail_only());
    let r = rg(&acct, &["alarm", "test"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("alarm rootguard-root-activity does not exist in us-east-1"),
        "{}",
        r.stderr
    );
    assert!(writes(&acct).is_empty());
}

#[test]
fn events_lists_only_what_root_did() {
    let mut s = trail_only();
    s["chain"]["log_events"] = json!([
        {"log_group": "aws-cloudtrail-logs", "corpus": "root-console-signin-failure", "minutes_ago": 50},
        {"log_group": "aws-cloudtrail-logs", "corpus": "root-console-signin-success", "minutes_ago": 49},
        {"log_group": "aws-cloudtrail-logs", "corpus": "root-api-call", "minutes_ago": 40},
        {"log_group": "aws-cloudtrail-logs", "corpus": "root-invoked-by-service", "minutes_ago": 35},
        {"log_group": "aws-cloudtrail-logs", "corpus": "root-aws-service-event", "minutes_ago": 30},
        {"log_group": "aws-cloudtrail-logs", "corpus": "iam-user-call", "minutes_ago": 20},
        {"log_group": "aws-cloudtrail-logs", "corpus": "assumed-role-call", "minutes_ago": 10},
        {"log_group": "aws-cloudtrail-logs", "corpus": "root-api-call", "minutes_ago": 600}
    ]);
    let acct = emulator().seed(s);
    let r = rg(&acct, &["events", "--since", "2h", "--output", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let names: Vec<&str> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["ConsoleLogin", "ConsoleLogin", "CreateAccessKey"],
        "{doc:#}"
    );
    let first = &doc["events"][0];
    assert_eq!(first["error_code"], "Failed authentication");
    assert_eq!(first["mfa_used"], "no");
    assert_eq!(first["source_ip"], "198.51.100.77");
    assert_eq!(doc["events"][1]["mfa_used"], "yes");

    let text = rg(&acct, &["events", "--since", "2h"]);
    assert!(text.stdout.contains("3 event(s)"), "{}", text.stdout);
    assert!(!text.stdout.contains("DescribeInstances") && !text.stdout.contains("PutBucketPolicy"));
    let wide = rg(&acct, &["events", "--since", "1d", "--output", "json"]);
    let doc: Value = serde_json::from_str(&wide.stdout).unwrap();
    assert_eq!(
        doc["events"].as_array().unwrap().len(),
        4,
        "--since widens the window"
    );
}

#[test]
fn bad_deploy_input_exits_2_and_writes_nothing() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["deploy", "--email", "not-an-email", "--yes"],
            &["--email", "security@example.com"],
        ),
        (
            &[
                "deploy",
                "--email",
                EMAIL,
                "--log-group",
                "no-such-group",
                "--yes",
            ],
            &["--log-group no-such-group does not exist"],
        ),
        (
            &["deploy", "--email", EMAIL, "--kms-key", "my-key", "--yes"],
            &["--kms-key", "alias/NAME"],
        ),
        (
            &[
                "deploy",
                "--email",
                EMAIL,
                "--kms-key",
                "alias/aws/sns",
                "--yes",
            ],
            &["--kms-key", "AWS-managed"],
        ),
        (&["deploy", "--yes"], &["--email"]),
        (&["deploy", "--email", EMAIL], &["pass --yes"]),
    ];
    for (args, needles) in cases {
        let acct = emulator().seed(trail_only());
        let r = rg(&acct, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        for n in *needles {
            assert!(
                r.stderr.contains(n),
                "{args:?}: stderr lacks {n:?}:\n{}",
                r.stderr
            );
        }
        assert!(
            writes(&acct).is_empty(),
            "{args:?} wrote {:?}",
            writes(&acct)
        );
    }
}

#[test]
fn deploy_without_a_qualifying_trail_says_what_to_do() {
    let acct = emulator().seed(fixture("neglected"));
    let r = rg(&acct, &["deploy", "--email", EMAIL, "--yes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no qualifying trail"), "{}", r.stderr);
    assert!(writes(&acct).is_empty());
}

#[test]
fn every_action_these_commands_call_is_in_the_setup_policy() {
    let policy = run({
        let mut c = bare_command();
        c.args(["policy", "setup"]);
        c
    });
    assert_eq!(policy.code, 0);
    assert_eq!(
        policy.stdout,
        std::fs::read_to_string(manifest_dir().join("docs/policies/setup.json")).unwrap()
    );
    let allowed =
        rootguard::domain::policy::actions(&serde_json::from_str(&policy.stdout).unwrap());
    let mut s = trail_only();
    s["chain"]["log_events"] =
        json!([{"log_group": "aws-cloudtrail-logs", "corpus": "root-api-call"}]);
    let acct = emulator().seed(s);
    for args in [
        &["deploy", "--email", EMAIL, "--dry-run"][..],
        &["deploy", "--email", EMAIL, "--yes"],
        &["alarm", "test"],
        &["events"],
        &["teardown", "--yes"],
    ] {
        rg(&acct, args);
    }
    let stats = emulator().stats(&acct);
    let called: Vec<&String> = stats["by_action"].as_object().unwrap().keys().collect();
    assert!(called.len() >= 15, "{called:?}");
    for a in called {
        assert!(
            allowed.contains(a),
            "the commands called {a}, which `policy setup` does not allow"
        );
    }
}

#[test]
fn create_trail_builds_a_qualifying_trail_then_the_chain() {
    let acct = emulator().seed(fixture("neglected"));
    let dry = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--dry-run"],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    for line in [
        &format!(
            "create  s3 bucket rootguard-cloudtrail-{}-us-east-1",
            acct.id
        )[..],
        "create  log group rootguard-cloudtrail for CloudTrail",
        "create  iam role rootguard-cloudtrail-to-logs",
        "create  trail rootguard-management-events: multi-region",
        "30 to create, 0 to update, 0 unchanged",
    ] {
        assert!(dry.stdout.contains(line), "{line}:\n{}", dry.stdout);
    }
    assert!(writes(&acct).is_empty());

    let r = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let res = emulator().resources(&acct);
    assert_eq!(res["trails"], json!(["rootguard-management-events"]));
    assert_eq!(
        res["log_groups"]["rootguard-cloudtrail"],
        json!(["rootguard-root-activity"])
    );
    emulator().confirm(&acct, EMAIL);
    let (code, doc) = verify_json(&acct, &["--check", "cloudtrail", "--check", "root-alarm"]);
    assert_eq!(finding(&doc, "cloudtrail")["status"], "pass", "{doc:#}");
    assert_eq!(finding(&doc, "root-alarm")["status"], "pass", "{doc:#}");
    assert_eq!(code, 0);

    let again = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--dry-run"],
    );
    assert_eq!(
        again.code, 0,
        "rootguard's own trail does not block a re-run: {}",
        again.stderr
    );
    assert!(
        again
            .stdout
            .contains("0 to create, 0 to update, 30 unchanged"),
        "{}",
        again.stdout
    );
}

#[test]
fn create_trail_stopped_halfway_is_completed() {
    let acct = emulator().seed(fixture("neglected"));
    emulator().deny(&acct, &["cloudtrail:CreateTrail"]);
    let r = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--yes"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("3 step(s) done, 27 not done"),
        "{}",
        r.stderr
    );
    emulator().deny(&acct, &[]);
    let r = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plan = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--dry-run"],
    );
    assert!(
        plan.stdout
            .contains("0 to create, 0 to update, 30 unchanged"),
        "{}",
        plan.stdout
    );
    assert_eq!(
        emulator().resources(&acct)["trails"],
        json!(["rootguard-management-events"])
    );
}

#[test]
fn create_trail_is_refused_when_a_trail_qualifies() {
    let acct = emulator().seed(trail_only());
    let r = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--yes"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--create-trail: a qualifying trail already exists (management-events"),
        "{}",
        r.stderr
    );
    assert!(writes(&acct).is_empty(), "{:?}", writes(&acct));
}

#[test]
fn create_trail_actions_are_in_the_setup_policy() {
    let allowed = rootguard::domain::policy::actions(&rootguard::domain::policy::setup_policy());
    let acct = emulator().seed(fixture("neglected"));
    let r = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stats = emulator().stats(&acct);
    for a in stats["by_action"].as_object().unwrap().keys() {
        assert!(
            allowed.contains(a),
            "--create-trail called {a}, which `policy setup` does not allow"
        );
    }
}

#[test]
fn several_qualifying_trails_need_a_choice() {
    let mut s = trail_only();
    s["chain"]["log_groups"] = json!(["aws-cloudtrail-logs", "org-trail-logs"]);
    s["chain"]["trails"] = json!([
        {"name": "management-events", "multi_region": true, "log_group": "aws-cloudtrail-logs"},
        {"name": "security-trail", "multi_region": true, "log_group": "org-trail-logs"}
    ]);
    let acct = emulator().seed(s);
    let r = rg(&acct, &["deploy", "--email", EMAIL, "--yes"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("several qualifying trails feed log groups (aws-cloudtrail-logs, org-trail-logs): choose one with --log-group"), "{}", r.stderr);
    assert!(writes(&acct).is_empty());
    let r = rg(
        &acct,
        &[
            "deploy",
            "--email",
            EMAIL,
            "--log-group",
            "org-trail-logs",
            "--yes",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        emulator().resources(&acct)["log_groups"]["org-trail-logs"],
        json!(["rootguard-root-activity"])
    );
}

#[test]
fn in_a_terminal_deploy_asks_which_log_group_and_confirms() {
    use expectrl::{Eof, Expect, Session};
    let mut s = trail_only();
    s["chain"]["log_groups"] = json!(["aws-cloudtrail-logs", "org-trail-logs"]);
    s["chain"]["trails"] = json!([
        {"name": "management-events", "multi_region": true, "log_group": "aws-cloudtrail-logs"},
        {"name": "security-trail", "multi_region": true, "log_group": "org-trail-logs"}
    ]);
    let acct = emulator().seed(s);
    let mut cmd = rootguard_as(&acct);
    cmd.args(["deploy", "--email", EMAIL])
        .stdin(std::process::Stdio::inherit());
    let mut p = Session::spawn(cmd).unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
    p.expect("which one should carry the root-activity alarm?")
        .unwrap();
    p.send("\x1b[B").unwrap(); // arrow down: the second log group
    p.send("\r").unwrap();
    p.expect("(log group org-trail-logs)").unwrap();
    p.expect("Apply this plan?").unwrap();
    p.send_line("y").unwrap();
    let rest = String::from_utf8_lossy(p.expect(Eof).unwrap().as_bytes()).into_owned();
    assert!(
        rest.contains("deployed: root activity in org-trail-logs"),
        "{rest}"
    );
    assert_eq!(
        emulator().resources(&acct)["log_groups"]["org-trail-logs"],
        json!(["rootguard-root-activity"])
    );
}

#[test]
fn quiet_keeps_warnings_and_drops_progress() {
    let acct = emulator().seed(trail_only());
    let r = rg(&acct, &["-q", "deploy", "--email", EMAIL, "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("  done "), "{}", r.stderr);
    assert!(
        r.stderr.contains("ACTION NEEDED"),
        "the pending-subscription warning stays: {}",
        r.stderr
    );
    let again = rg(&acct, &["-q", "deploy", "--email", EMAIL, "--yes"]);
    assert!(again.stderr.is_empty(), "{}", again.stderr);
}

#[test]
fn events_and_alarm_test_into_a_closed_pipe_end_quietly() {
    let acct = emulator().seed(trail_only());
    assert_eq!(rg(&acct, &["deploy", "--email", EMAIL, "--yes"]).code, 0);
    emulator().confirm(&acct, EMAIL);
    for args in [&["events", "--since", "2h"][..], &["alarm", "test"][..]] {
        let mut cmd = rootguard_as(&acct);
        cmd.args(args);
        let (status, stderr) = run_with_closed_stdout(cmd);
        assert_quiet_pipe_exit(status, &stderr, &args.join(" "));
    }
}

#[test]
fn the_chain_is_found_in_its_log_groups_region_whatever_region_is_given() {
    let acct = emulator().seed(trail_only());
    let r = rg(
        &acct,
        &["--region", "eu-west-1", "deploy", "--email", EMAIL, "--yes"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_deployed_once(&acct); // in us-east-1, beside the trail's log group
    emulator().confirm(&acct, EMAIL);

    let drill = rg(&acct, &["--region", "eu-west-1", "alarm", "test"]);
    assert_eq!(drill.code, 0, "{}\n{}", drill.stdout, drill.stderr);
    assert!(
        drill.stdout.contains("set to ALARM in us-east-1"),
        "{}",
        drill.stdout
    );

    let dry = rg(
        &acct,
        &[
            "--region",
            "eu-west-1",
            "teardown",
            "--dry-run",
            "--output",
            "json",
        ],
    );
    let plan: Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(plan["regions"], json!(["eu-west-1", "us-east-1"]));
    assert_eq!(
        plan["delete"].as_array().unwrap().len(),
        10,
        "alarm, filter, five rules, eu-west-1's forwarder, its role, topic: {plan:#}"
    );

    let r = rg(&acct, &["--region", "eu-west-1", "teardown", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let res = emulator().resources(&acct);
    assert!(
        ours(&res, "topics", "arn", ":rootguard-root-activity").is_empty(),
        "{res:#}"
    );
    assert!(ours(&res, "alarms", "name", "rootguard-root-activity").is_empty());
    assert_eq!(res["log_groups"]["aws-cloudtrail-logs"], json!([]));
    let again = rg(&acct, &["--region", "eu-west-1", "teardown", "--yes"]);
    assert!(again.stderr.contains("nothing to delete"));
}

#[test]
fn a_chain_outside_us_east_1_gets_the_real_time_rule_and_its_own_topic_in_us_east_1() {
    let acct = emulator().seed(fixture("neglected"));
    let eu = |args: &[&str]| {
        let mut all = vec!["--region", "eu-west-1"];
        all.extend_from_slice(args);
        rg(&acct, &all)
    };
    let r = eu(&["deploy", "--email", EMAIL, "--create-trail", "--yes"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("one subscription per topic"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("must click the confirmation link in the email from AWS Notifications (two emails: one for"), "{}", r.stderr);

    // The chain beside its log group in eu-west-1.
    let here = emulator().resources_in(&acct, "eu-west-1");
    assert_eq!(
        ours(&here, "topics", "arn", ":rootguard-root-activity").len(),
        1
    );
    assert_eq!(
        ours(&here, "alarms", "name", "rootguard-root-activity").len(),
        1
    );
    assert!(
        here["rules"].get("rootguard-root-activity").is_none(),
        "{here:#}"
    );
    // The rule in us-east-1, targeting rootguard's topic there, which only the rule may publish to.
    let there = emulator().resources_in(&acct, "us-east-1");
    assert_eq!(there["rules"]["rootguard-root-activity"], 1, "{there:#}");
    let topics = ours(&there, "topics", "arn", ":rootguard-root-activity");
    assert_eq!(topics.len(), 1, "{there:#}");
    assert_eq!(topics[0]["tags"]["managed-by"], "rootguard");
    assert_eq!(topics[0]["subscriptions"].as_array().unwrap().len(), 1);
    let policy = topics[0]["policy"].to_string();
    assert!(
        policy.contains("events.amazonaws.com") && policy.contains(":rule/rootguard-root-activity")
    );
    assert!(ours(&there, "alarms", "name", "rootguard-root-activity").is_empty());

    let again = eu(&[
        "deploy",
        "--email",
        EMAIL,
        "--create-trail",
        "--dry-run",
        "--output",
        "json",
    ]);
    let plan: Value = serde_json::from_str(&again.stdout).unwrap();
    assert!(
        plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["action"] == "no_op"),
        "{plan:#}"
    );

    // Once the email is confirmed (both subscriptions), the check passes and the drill reaches it.
    let warned = eu(&["verify", "--check", "root-realtime-alert", "-o", "json"]);
    let v: Value = serde_json::from_str(&warned.stdout).unwrap();
    assert_eq!(v["findings"][0]["status"], "warn", "{v:#}");
    emulator().confirm(&acct, EMAIL);
    let ok = eu(&["verify", "--check", "root-realtime-alert", "-o", "json"]);
    let v: Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(v["findings"][0]["status"], "pass", "{v:#}");
    let drill = eu(&["alarm", "test", "--realtime"]);
    assert_eq!(drill.code, 0, "{}\n{}", drill.stdout, drill.stderr);
    assert!(topic_messages(&acct, "rootguard-root-activity")
        .iter()
        .any(|m| m.starts_with("[TEST] rootguard real-time drill")));

    // Teardown finds both sides, whatever --region says.
    let r = eu(&["teardown", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for region in ["eu-west-1", "us-east-1"] {
        let res = emulator().resources_in(&acct, region);
        assert!(
            ours(&res, "topics", "arn", ":rootguard-root-activity").is_empty(),
            "{region}: {res:#}"
        );
        assert!(
            ours(&res, "alarms", "name", "rootguard-root-activity").is_empty(),
            "{region}"
        );
        assert!(
            res["rules"].get("rootguard-root-activity").is_none(),
            "{region}: {res:#}"
        );
    }
}

#[test]
fn create_trail_completes_a_bare_bucket_and_role_instead_of_calling_them_ok() {
    let mut s = fixture("neglected");
    s["bare_trail_bucket"] = json!(true);
    s["bare_trail_role"] = json!(true);
    let acct = emulator().seed(s);
    let dry = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--dry-run"],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout
            .contains("update  s3 bucket rootguard-cloudtrail-"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("update  iam role rootguard-cloudtrail-to-logs"),
        "{}",
        dry.stdout
    );
    let r = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--yes"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let again = rg(
        &acct,
        &["deploy", "--email", EMAIL, "--create-trail", "--dry-run"],
    );
    assert!(
        again.stdout.contains("0 to create, 0 to update, 30 unchanged"),
        "bucket policy, public-access block, tag, role policy and log-file validation all in place:\n{}",
        again.stdout
    );
    // The adopted role is tagged like the adopted bucket, so teardown finds both.
    let res = emulator().resources(&acct);
    assert_eq!(
        res["role_tags"]["rootguard-cloudtrail-to-logs"]["managed-by"], "rootguard",
        "{:#}",
        res["role_tags"]
    );
}

#[test]
fn a_squatted_bucket_name_is_refused_never_adopted() {
    let victim = emulator().seed(fixture("neglected"));
    // Another account pre-creates the name rootguard would use for the victim.
    emulator().seed(json!({
        "buckets": [format!("rootguard-cloudtrail-{}-us-east-1", victim.id)],
    }));
    let r = rg(
        &victim,
        &["deploy", "--email", EMAIL, "--create-trail", "--yes"],
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("belongs to another AWS account")
            && r.stderr.contains(&victim.id)
            && r.stderr.contains("--trail-bucket"),
        "says so plainly and offers a way on: {}",
        r.stderr
    );
    assert!(writes(&victim).is_empty(), "{:?}", writes(&victim));

    // The way on: a bucket of the victim's own, owner-checked the same way.
    let own = format!("trail-logs-{}", victim.id);
    let r = rg(
        &victim,
        &[
            "deploy",
            "--email",
            EMAIL,
            "--create-trail",
            "--trail-bucket",
            &own,
            "--yes",
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let res = emulator().resources(&victim);
    assert_eq!(
        res["trails"],
        json!(["rootguard-management-events"]),
        "{res:#}"
    );
    assert!(res["buckets"][&own]["policy"] == true, "{res:#}");
    let again = rg(
        &victim,
        &[
            "deploy",
            "--email",
            EMAIL,
            "--create-trail",
            "--trail-bucket",
            &own,
            "--dry-run",
        ],
    );
    assert!(
        again.stdout.contains("0 to create, 0 to update"),
        "{}",
        again.stdout
    );
    // teardown finds it through the trail, and keeps it by name.
    let t = rg(&victim, &["teardown", "--dry-run"]);
    assert!(
        t.stdout.contains(&format!("keep    s3 bucket {own}")),
        "{}",
        t.stdout
    );

    // Naming another account's bucket is refused the same way.
    let squatted = format!("rootguard-cloudtrail-{}-us-east-1", victim.id);
    let r = rg(
        &victim,
        &[
            "deploy",
            "--email",
            EMAIL,
            "--create-trail",
            "--trail-bucket",
            &squatted,
            "--dry-run",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("belongs to another AWS account"),
        "{}",
        r.stderr
    );
}

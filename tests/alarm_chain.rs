//! The `cloudtrail` and `root-alarm` checks end to end: real trails, log
//! groups, metric filters, alarms and SNS topics in the emulator, read through
//! the real SDK (CloudWatch over Smithy RPCv2 CBOR via the launcher).

mod common;

use common::*;
use serde_json::{json, Value};

/// The hardened account, with its alarm chain edited.
fn chain(edit: impl FnOnce(&mut Value)) -> Value {
    let mut s = fixture("hardened");
    edit(&mut s["chain"]);
    s
}

fn judge(scenario: Value) -> (Value, Value) {
    let acct = emulator().seed(scenario);
    let (_, doc) = verify_json(&acct, &["--check", "cloudtrail", "--check", "root-alarm"]);
    (
        finding(&doc, "cloudtrail").clone(),
        finding(&doc, "root-alarm").clone(),
    )
}

#[track_caller]
fn expect(f: &Value, status: &str, needles: &[&str]) {
    assert_eq!(f["status"], status, "{f:#}");
    let ev = evidence(f);
    for n in needles {
        assert!(ev.contains(n), "evidence lacks {n:?}:\n{ev}");
    }
}

fn pattern(p: &str) -> impl FnOnce(&mut Value) + '_ {
    move |c| c["metric_filters"][0]["pattern"] = json!(p)
}

fn alarm(key: &'static str, value: Value) -> impl FnOnce(&mut Value) {
    move |c| c["alarms"][0][key] = value
}

macro_rules! cases {
    ($($name:ident: $edit:expr => $check:literal $status:literal $needles:expr;)*) => {$(
        #[test]
        fn $name() {
            let (trail, alarm) = judge(chain($edit));
            let f = if $check == "cloudtrail" { &trail } else { &alarm };
            expect(f, $status, &$needles);
        }
    )*};
}

cases! {
    // Filter patterns, judged by what they match.
    canonical_cis_pattern: |_| {} => "root-alarm" "pass" ["1 confirmed subscription(s)"];
    security_hub_form_without_spaces: pattern(r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#)
        => "root-alarm" "pass" ["confirmed"];
    reordered_clauses: pattern(r#"{ $.eventType != "AwsServiceEvent" && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = "Root" }"#)
        => "root-alarm" "pass" ["confirmed"];
    unquoted_values: pattern(r#"{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }"#)
        => "root-alarm" "pass" ["confirmed"];
    extra_or_clause_is_broader: pattern(r#"{ ($.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent") || $.eventName = "DeleteTrail" }"#)
        => "root-alarm" "pass" ["confirmed"];
    no_invoked_by_clause_passes_with_noise_note: pattern(r#"{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }"#)
        => "root-alarm" "pass" ["expect some noise", "root-invoked-by-service"];
    iam_user_type_misses_root: pattern(r#"{ $.userIdentity.type = "IAMUser" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#)
        => "root-alarm" "fail" ["broken link 2 of 6", "misses root events", "root-console-signin-success", "root-api-call"];
    aws_sample_typo_is_judged_by_what_it_matches: pattern(r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AWsServiceEvent" }"#)
        => "root-alarm" "pass" ["expect some noise", "root-aws-service-event"];
    unparseable_pattern_is_unknown: pattern(r#"{ $.userIdentity.type = "Root" && ( }"#)
        => "root-alarm" "unknown" ["cannot be parsed at position"];

    // Alarms and subscriptions.
    right_name_wrong_namespace: alarm("namespace", json!("CISBenchmarks"))
        => "root-alarm" "fail" ["broken link 3 of 6", "no alarm watches this metric name and namespace", "CISBenchmark/RootAccountUsage"];
    average_statistic: alarm("statistic", json!("Average"))
        => "root-alarm" "fail" ["broken link 4 of 6", "statistic is Average"];
    threshold_five: alarm("threshold", json!(5))
        => "root-alarm" "fail" ["GreaterThanOrEqualToThreshold 5 does not fire on a single root event"];
    period_one_hour: alarm("period", json!(3600))
        => "root-alarm" "fail" ["period is 3600 s"];
    actions_disabled: alarm("actions_enabled", json!(false))
        => "root-alarm" "fail" ["ActionsEnabled is false"];
    no_actions: alarm("topics", json!([]))
        => "root-alarm" "fail" ["broken link 5 of 6", "has no SNS action"];
    topic_deleted: |c: &mut Value| c["delete_topics"] = json!(["root-activity"])
        => "root-alarm" "fail" ["broken link 5 of 6", "the topic does not exist"];
    topic_without_subscriptions: |c: &mut Value| c["topics"][0]["subscriptions"] = json!([])
        => "root-alarm" "fail" ["broken link 6 of 6", "the topic has no subscriptions"];
    only_a_pending_subscription: |c: &mut Value| c["topics"][0]["subscriptions"][0]["confirmed"] = json!(false)
        => "root-alarm" "fail" ["broken link 6 of 6", "1 pending confirmation: security@example.com"];

    // Trails.
    single_region_trail: |c: &mut Value| c["trails"][0]["multi_region"] = json!(false)
        => "cloudtrail" "fail" ["is single-region"];
    trail_stopped_logging: |c: &mut Value| c["trails"][0]["logging"] = json!(false)
        => "cloudtrail" "fail" ["is not logging"];
    trail_without_cloudwatch_logs: |c: &mut Value| c["trails"][0]["log_group"] = Value::Null
        => "cloudtrail" "fail" ["does not deliver to CloudWatch Logs"];
    trail_records_write_only: |c: &mut Value| c["trails"][0]["selectors"] = json!("WriteOnly")
        => "cloudtrail" "fail" ["records only write management events"];
    advanced_selectors_for_all_management_events: |c: &mut Value| c["trails"][0]["selectors"] = json!({
            "AdvancedEventSelectors": [{"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
        })
        => "cloudtrail" "pass" ["qualifies"];
    no_trail_breaks_the_first_link: |c: &mut Value| c["trails"] = json!([])
        => "root-alarm" "fail" ["broken link 1 of 6"];
}

#[test]
fn hardened_account_passes_both() {
    let (trail, alarm) = judge(fixture("hardened"));
    expect(
        &trail,
        "pass",
        &["trail management-events (multi-region, home us-east-1) qualifies"],
    );
    expect(
        &alarm,
        "pass",
        &["trail management-events → log group aws-cloudtrail-logs (us-east-1) → filter RootAccountUsage → metric CISBenchmark/RootAccountUsage → alarm root-activity → topic"],
    );
}

#[test]
fn confirming_the_pending_subscription_completes_the_chain() {
    let acct = emulator().seed(chain(|c| {
        c["topics"][0]["subscriptions"][0]["confirmed"] = json!(false)
    }));
    let (code, doc) = verify_json(&acct, &["--check", "root-alarm"]);
    assert_eq!(code, 1);
    expect(
        finding(&doc, "root-alarm"),
        "fail",
        &["pending confirmation"],
    );
    emulator().confirm(&acct, "security@example.com");
    let (code, doc) = verify_json(&acct, &["--check", "root-alarm"]);
    expect(
        finding(&doc, "root-alarm"),
        "pass",
        &["1 confirmed subscription(s)"],
    );
    assert_eq!(code, 0);
}

#[test]
fn denied_alarm_reads_are_unknown_never_pass() {
    for action in [
        "cloudwatch:DescribeAlarmsForMetric",
        "logs:DescribeMetricFilters",
        "sns:ListSubscriptionsByTopic",
    ] {
        let mut s = fixture("hardened");
        s["deny"] = json!([action]);
        let acct = emulator().seed(s);
        let (code, doc) = verify_json(&acct, &["--check", "root-alarm"]);
        expect(finding(&doc, "root-alarm"), "unknown", &[action]);
        assert_eq!(code, 3, "{action}");
    }
    let mut s = fixture("hardened");
    s["deny"] = json!(["cloudtrail:DescribeTrails"]);
    let acct = emulator().seed(s);
    let (code, doc) = verify_json(&acct, &["--check", "cloudtrail", "--check", "root-alarm"]);
    expect(
        finding(&doc, "cloudtrail"),
        "unknown",
        &["cloudtrail:DescribeTrails was denied"],
    );
    expect(
        finding(&doc, "root-alarm"),
        "unknown",
        &["cloudtrail:DescribeTrails was denied"],
    );
    assert_eq!(code, 3);
}

#[test]
fn organization_trail_delivering_to_another_account_is_manual_there() {
    let (trail, alarm) = judge(chain(|c| {
        c["trails"][0]["log_group"] = Value::Null;
        c["trails"][0]["log_group_arn"] =
            json!("arn:aws:logs:us-east-1:999999999999:log-group:org-trail:*");
    }));
    expect(&trail, "pass", &["qualifies"]);
    expect(
        &alarm,
        "manual",
        &[
            "in account 999999999999 (an organization trail)",
            "rootguard verify --check root-alarm",
        ],
    );
}

#[test]
fn an_alarm_stuck_in_alarm_for_two_days_fails_with_the_reason() {
    let (_, f) = judge(chain(|c| {
        c["alarms"][0]["state"] = json!("ALARM");
        c["alarms"][0]["state_since"] = json!("-2d");
    }));
    expect(
        &f,
        "fail",
        &[
            "has been in ALARM since",
            "notifies only when the state changes",
        ],
    );
}

#[test]
fn a_filter_that_matches_all_activity_fails() {
    let (_, f) = judge(chain(pattern("{ $.eventVersion = * }")));
    expect(&f, "fail", &["broken link 2 of 6", "matches all activity"]);
}

#[test]
fn a_regex_filter_is_judged_by_what_it_matches_not_failed() {
    let (_, f) = judge(chain(pattern(
        r#"{ $.userIdentity.type = %^Root$% && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    )));
    expect(&f, "pass", &["confirmed subscription"]);
    let (_, f) = judge(chain(pattern(r#"{ $.userIdentity.type = %(Root)% }"#)));
    expect(&f, "unknown", &["cannot be parsed"]);
}

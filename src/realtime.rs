//! The real-time root alert: an EventBridge rule on the default bus in
//! us-east-1 that sends root console sign-ins and root API calls to the
//! rootguard topic as a sentence a person can act on.
//!
//! This module owns the rule's name, pattern and message (shared with
//! `cfn/root-activity-alarm.yaml`; a test keeps them equal), the EventBridge
//! envelope of a CloudTrail record (what CloudTrail puts on the bus), and the
//! `root-realtime-alert` rule, which judges the deployed pattern with AWS's own
//! matcher (`events:TestEventPattern`) on the corpus. Pure: no I/O.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::checks::{unknown, verdict, Verdict};
use crate::facts::{AccountFacts, Fact, Topic};
use crate::finding::Status;
use crate::rootactivity::{corpus, is_root_activity};

pub const RULE_NAME: &str = "rootguard-root-activity";
/// Console sign-ins are recorded in us-east-1, so the rule lives there.
pub const RULE_REGION: &str = "us-east-1";
pub const TARGET_ID: &str = "rootguard-topic";
/// The rule's state. A rule in state `ENABLED` never receives read-only
/// management events (`Get*`, `List*`, `Describe*`) that CloudTrail delivers,
/// and a stolen root key's first calls are reads (EventBridge User Guide,
/// "Receiving read-only management events from AWS services").
pub const RULE_STATE: &str = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";
pub const RULE_DESCRIPTION: &str =
    "rootguard: root console sign-ins and root API calls, in seconds, to the rootguard topic";

pub fn rule_arn(account_id: &str) -> String {
    format!("arn:aws:events:{RULE_REGION}:{account_id}:rule/{RULE_NAME}")
}

/// Root console sign-ins and root API calls, not calls a service made on
/// root's behalf, not `AwsServiceEvent`s.
pub fn pattern() -> Value {
    json!({
        "detail-type": ["AWS Console Sign In via CloudTrail", "AWS API Call via CloudTrail"],
        "detail": {
            "userIdentity": {
                "type": ["Root"],
                "invokedBy": [{"exists": false}]
            },
            "eventType": [{"anything-but": "AwsServiceEvent"}]
        }
    })
}

/// The input transformer's paths: what the message names.
pub fn input_paths() -> BTreeMap<String, String> {
    [
        ("account", "$.account"),
        ("event", "$.detail.eventName"),
        ("source", "$.detail.eventSource"),
        ("ip", "$.detail.sourceIPAddress"),
        ("agent", "$.detail.userAgent"),
        ("mfa", "$.detail.additionalEventData.MFAUsed"),
        (
            "sessionmfa",
            "$.detail.userIdentity.sessionContext.attributes.mfaAuthenticated",
        ),
        ("outcome", "$.detail.responseElements.ConsoleLogin"),
        ("error", "$.detail.errorCode"),
        ("time", "$.time"),
        ("region", "$.region"),
        ("id", "$.detail.eventID"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The message a person receives (an SNS message is a JSON string).
pub const INPUT_TEMPLATE: &str = "\"ROOT USER ACTIVITY in AWS account <account>: <event> (<source>) at <time> in <region> \
from IP <ip> (<agent>). Console sign-in MFA: <mfa>; session MFA: <sessionmfa>; sign-in result: <outcome>; error: <error>. \
CloudTrail event id <id>. If nobody on your team did this, treat it as a compromise now. See what root did: \
rootguard events --since 24h\"";

/// The message template for an account, naming its alias when it has one
/// (IAM account aliases are lowercase letters, digits and hyphens).
pub fn input_template(alias: Option<&str>) -> String {
    match alias.filter(|a| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }) {
        Some(a) => INPUT_TEMPLATE.replacen(
            "in AWS account <account>:",
            &format!("in AWS account <account> ({a}):"),
            1,
        ),
        None => INPUT_TEMPLATE.to_string(),
    }
}

/// The message the input transformer makes of an event (what a person reads);
/// a path the event lacks reads "unknown".
pub fn render_message(event: &Value) -> String {
    let mut text = INPUT_TEMPLATE.trim_matches('"').to_string();
    for (name, path) in input_paths() {
        let mut v = event;
        for key in path.trim_start_matches("$.").split('.') {
            v = &v[key];
        }
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Null => "unknown".into(),
            other => other.to_string(),
        };
        text = text.replace(&format!("<{name}>"), &value);
    }
    text
}

/// The record CloudTrail puts on the default bus for a CloudTrail record.
pub fn envelope(record: &Value) -> Value {
    let event_type = record["eventType"].as_str().unwrap_or_default();
    let detail_type = match event_type {
        "AwsConsoleSignIn" => "AWS Console Sign In via CloudTrail",
        "AwsServiceEvent" => "AWS Service Event via CloudTrail",
        _ => "AWS API Call via CloudTrail",
    };
    let service = record["eventSource"]
        .as_str()
        .unwrap_or("cloudtrail.amazonaws.com")
        .trim_end_matches(".amazonaws.com");
    json!({
        "version": "0",
        "id": record["eventID"].as_str().unwrap_or("00000000-0000-0000-0000-000000000000"),
        "detail-type": detail_type,
        "source": format!("aws.{service}"),
        "account": record["recipientAccountId"].as_str()
            .or(record["userIdentity"]["accountId"].as_str())
            .unwrap_or("111122223333"),
        "time": record["eventTime"].as_str().unwrap_or("2026-01-01T00:00:00Z"),
        "region": record["awsRegion"].as_str().unwrap_or(RULE_REGION),
        "resources": [],
        "detail": record,
    })
}

/// What the deployed rule looks like, as the adapter read it in us-east-1.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleFacts {
    pub arn: String,
    pub enabled: bool,
    /// In state [`RULE_STATE`]: it also receives read-only management events.
    pub read_only_events: bool,
    pub pattern: String,
    /// Target ARNs.
    pub targets: Vec<String>,
    /// The SNS targets, read like the alarm chain's topics.
    pub topics: Vec<Topic>,
    /// `events:TestEventPattern` per corpus event: (name, should match, matched).
    pub tests: Vec<(&'static str, bool, Fact<bool>)>,
}

/// What verify reads for `root-realtime-alert`: the rule, or `None`.
pub type RealtimeFacts = Option<RuleFacts>;

/// The corpus events the rule must (CIS root activity) and must not match.
pub fn expectations() -> Vec<(&'static str, bool, Value)> {
    corpus()
        .iter()
        .map(|e| (e.name, is_root_activity(&e.json), envelope(&e.json)))
        .collect()
}

/// `root-realtime-alert`: `warn` when the rule is missing or broken (the CIS
/// alarm still covers root, minutes later), naming the broken link.
pub fn check(facts: &AccountFacts) -> Verdict {
    let rule = match &facts.realtime {
        Err(e) => return unknown(vec![e.describe()], vec![]),
        Ok(None) => {
            return verdict(
                Status::Warn,
                vec![format!(
                    "no EventBridge rule {RULE_NAME} in {RULE_REGION}: root activity is reported only by the CIS \
                     alarm, minutes late; `rootguard deploy` adds the real-time rule"
                )],
            )
        }
        Ok(Some(r)) => r,
    };
    let mut ev = vec![format!("rule {} ({RULE_REGION})", rule.arn)];
    if !rule.enabled {
        ev.push("the rule is DISABLED: it sends nothing".into());
        return verdict(Status::Warn, ev);
    }
    let mut undecided = Vec::new();
    let mut missed = Vec::new();
    let mut noisy = Vec::new();
    for (name, should, got) in &rule.tests {
        match got {
            Err(e) => undecided.push(e.describe()),
            Ok(m) if *should && !m => missed.push(*name),
            Ok(m) if !*should && *m => noisy.push(*name),
            Ok(_) => {}
        }
    }
    if !missed.is_empty() {
        ev.push(format!(
            "its pattern (judged by events:TestEventPattern) misses root activity: {}",
            missed.join(", ")
        ));
        return verdict(Status::Warn, ev);
    }
    if !noisy.is_empty() {
        ev.push(format!(
            "its pattern also matches events that are not direct root activity: {} (a person would be paged for them)",
            noisy.join(", ")
        ));
        return verdict(Status::Warn, ev);
    }
    if !rule.read_only_events {
        ev.push(format!(
            "the rule is ENABLED, not {RULE_STATE}: read-only root calls (Get*, List*, Describe*: a stolen key's \
             first moves) never reach it; `rootguard deploy` sets the state"
        ));
        return verdict(Status::Warn, ev);
    }
    if !undecided.is_empty() {
        return unknown(undecided, ev);
    }
    ev.push(format!(
        "events:TestEventPattern: matches root sign-ins and root API calls, and none of the {} other corpus events",
        rule.tests.iter().filter(|t| !t.1).count()
    ));
    if rule.topics.is_empty() {
        ev.push(format!(
            "the rule has no SNS target (targets: {})",
            if rule.targets.is_empty() {
                "none".to_string()
            } else {
                rule.targets.join(", ")
            }
        ));
        return verdict(Status::Warn, ev);
    }
    for t in &rule.topics {
        match (&t.exists, &t.subscriptions) {
            (Err(e), _) | (_, Err(e)) => undecided.push(e.describe()),
            (Ok(false), _) => ev.push(format!("target topic {} does not exist", t.arn)),
            (Ok(true), Ok(subs)) => {
                let confirmed = subs.iter().filter(|s| s.confirmed()).count();
                if confirmed > 0 {
                    ev.push(format!(
                        "target topic {} has {confirmed} confirmed subscription(s)",
                        t.arn
                    ));
                    return verdict(Status::Pass, ev);
                }
                ev.push(format!(
                    "target topic {} has no confirmed subscription ({} pending)",
                    t.arn,
                    subs.len()
                ));
            }
        }
    }
    if !undecided.is_empty() {
        return unknown(undecided, ev);
    }
    verdict(Status::Warn, ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FactError, FactErrorKind, Subscription};
    use time::macros::datetime;

    fn topic(confirmed: bool) -> Topic {
        Topic {
            arn: "arn:aws:sns:us-east-1:111122223333:rootguard-root-activity".into(),
            exists: Ok(true),
            subscriptions: Ok(vec![Subscription {
                protocol: "email".into(),
                endpoint: "sec@example.com".into(),
                arn: if confirmed {
                    "arn:aws:sns:us-east-1:111122223333:rootguard-root-activity:1".into()
                } else {
                    "PendingConfirmation".into()
                },
            }]),
            policy: None,
            kms_key: None,
        }
    }

    fn good() -> RuleFacts {
        RuleFacts {
            arn: rule_arn("111122223333"),
            enabled: true,
            read_only_events: true,
            pattern: pattern().to_string(),
            targets: vec![topic(true).arn],
            topics: vec![topic(true)],
            tests: expectations()
                .into_iter()
                .map(|(n, should, _)| (n, should, Ok(should)))
                .collect(),
        }
    }

    fn run(r: Fact<RealtimeFacts>) -> Verdict {
        let mut f = AccountFacts::empty("111122223333", datetime!(2026-11-25 12:00 UTC));
        f.realtime = r;
        check(&f)
    }

    #[test]
    fn by_data() {
        type Edit = Box<dyn Fn(&mut RuleFacts)>;
        let cases: Vec<(&str, Edit, Status, &str)> = vec![
            (
                "whole",
                Box::new(|_| {}),
                Status::Pass,
                "1 confirmed subscription",
            ),
            (
                "disabled",
                Box::new(|r| r.enabled = false),
                Status::Warn,
                "DISABLED",
            ),
            (
                // TestEventPattern ignores the state: only the state says that
                // read-only root calls never reach an ENABLED rule.
                "enabled without read-only events",
                Box::new(|r| r.read_only_events = false),
                Status::Warn,
                "the rule is ENABLED, not ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
            ),
            (
                "misses API calls",
                Box::new(|r| {
                    for t in r.tests.iter_mut().filter(|t| t.0 == "root-api-call") {
                        t.2 = Ok(false)
                    }
                }),
                Status::Warn,
                "misses root activity: root-api-call",
            ),
            (
                "pages for service events",
                Box::new(|r| {
                    for t in r
                        .tests
                        .iter_mut()
                        .filter(|t| t.0 == "root-aws-service-event")
                    {
                        t.2 = Ok(true)
                    }
                }),
                Status::Warn,
                "root-aws-service-event",
            ),
            (
                "TestEventPattern denied",
                Box::new(|r| {
                    r.tests[0].2 = Err(FactError::new(
                        "events:TestEventPattern",
                        FactErrorKind::AccessDenied,
                        "no",
                    ))
                }),
                Status::Unknown,
                "events:TestEventPattern was denied",
            ),
            (
                "pending only",
                Box::new(|r| r.topics = vec![topic(false)]),
                Status::Warn,
                "no confirmed subscription",
            ),
            (
                "no sns target",
                Box::new(|r| r.topics.clear()),
                Status::Warn,
                "no SNS target",
            ),
        ];
        for (what, edit, want, needle) in cases {
            let mut r = good();
            edit(&mut r);
            let v = run(Ok(Some(r)));
            assert_eq!(v.status, want, "{what}: {:?}", v.evidence);
            assert!(
                v.evidence.join("\n").contains(needle),
                "{what}: {:?}",
                v.evidence
            );
        }
        let missing = run(Ok(None));
        assert_eq!(missing.status, Status::Warn);
        assert!(missing.evidence[0].contains("rootguard deploy"));
    }

    #[test]
    fn the_alias_is_named_when_known_and_never_injected() {
        assert!(input_template(Some("acme-prod")).contains("in AWS account <account> (acme-prod):"));
        assert_eq!(input_template(None), INPUT_TEMPLATE);
        assert_eq!(
            input_template(Some("x\"<y>")),
            INPUT_TEMPLATE,
            "not an IAM alias: left out"
        );
    }

    #[test]
    fn the_message_names_account_event_ip_and_mfa() {
        let signin = corpus()
            .iter()
            .find(|e| e.name == "root-console-signin-success")
            .unwrap();
        let m = render_message(&envelope(&signin.json));
        assert!(
            m.starts_with("ROOT USER ACTIVITY in AWS account 111122223333: ConsoleLogin"),
            "{m}"
        );
        assert!(
            m.contains("from IP 203.0.113.10") || m.contains("from IP "),
            "{m}"
        );
        assert!(m.contains("Console sign-in MFA: Yes"), "{m}");
        assert!(m.contains("rootguard events --since 24h"));
        assert!(!m.contains('<'), "every placeholder filled: {m}");
    }

    #[test]
    fn envelopes_carry_the_detail_type_cloudtrail_uses() {
        let kinds: Vec<(&str, String)> = corpus()
            .iter()
            .map(|e| {
                (
                    e.name,
                    envelope(&e.json)["detail-type"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect();
        for (name, kind) in kinds {
            let want = if name.starts_with("root-console-signin") {
                "AWS Console Sign In via CloudTrail"
            } else if name.contains("service-event") {
                "AWS Service Event via CloudTrail"
            } else {
                "AWS API Call via CloudTrail"
            };
            assert_eq!(kind, want, "{name}");
        }
    }
}

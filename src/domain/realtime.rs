//! The real-time root alert: EventBridge rules in us-east-1 that send root
//! activity to the rootguard topic as a sentence a person can act on, one
//! rule per kind of event (so every message names only what that event
//! carries), and in every other enabled region a rule that forwards the same
//! events to us-east-1 (CloudTrail puts an event only on the default bus of
//! the region where the call was made).
//!
//! This module owns the kinds (rule name, pattern, message), the forwarding
//! rule's pattern and role, the EventBridge envelope of a CloudTrail record,
//! and what a rule must match (`expectations`). The `root-realtime-alert`
//! check, which judges each deployed pattern with AWS's own matcher
//! (`events:TestEventPattern`) on the corpus and every region's forwarding, is
//! a check like the others (`checks::realtime`); what it reads is in `facts`.
//! Shared with `cfn/` (a test keeps them equal). Pure: no I/O.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::domain::rootactivity::corpus;

/// The rule for root API calls (the first rootguard had, so its name stays).
pub const RULE_NAME: &str = "rootguard-root-activity";
/// Console sign-ins are recorded in us-east-1, so the message rules live there.
pub const RULE_REGION: &str = "us-east-1";
pub const TARGET_ID: &str = "rootguard-topic";
/// Every rule's state. A rule in state `ENABLED` never receives read-only
/// management events (`Get*`, `List*`, `Describe*`) that CloudTrail delivers,
/// and a stolen root key's first calls are reads (EventBridge User Guide,
/// "Receiving read-only management events from AWS services").
pub const RULE_STATE: &str = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";
/// The rule in each enabled region other than us-east-1.
pub const FORWARD_RULE: &str = "rootguard-root-forward";
pub const FORWARD_TARGET_ID: &str = "rootguard-us-east-1";
pub const FORWARD_DESCRIPTION: &str =
    "rootguard: root activity and sts:AssumeRoot calls in this region, to the default bus in us-east-1";
/// The role EventBridge assumes to put forwarded events on the us-east-1 bus
/// (a cross-Region event-bus target needs one: EventBridge User Guide,
/// "Sending and receiving events between AWS Regions").
pub const FORWARD_ROLE: &str = "rootguard-events-forward";
/// The root-task policy of an audit session (`verify --org`): its AssumeRoot
/// pages nobody, the others do.
pub const AUDIT_TASK: &str = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials";

/// One kind of event a person is told about: its rule, pattern and message.
#[derive(Debug)]
pub struct Kind {
    pub rule: &'static str,
    /// What the rule sends, for plans and rule descriptions.
    pub what: &'static str,
    pub pattern: fn() -> Value,
    /// The input transformer's variables: only paths every event of the kind has.
    pub paths: &'static [(&'static str, &'static str)],
    /// The message (an SNS message is a JSON string).
    pub template: &'static str,
}

const SIGNIN: &str = "AWS Console Sign In via CloudTrail";
const API_CALL: &str = "AWS API Call via CloudTrail";

fn root_identity(session: bool) -> Value {
    if session {
        json!({"type": ["Root"], "sessionContext": {"assumedRoot": ["true"]}})
    } else {
        json!({
            "type": ["Root"],
            "invokedBy": [{"exists": false}],
            "sessionContext": {"assumedRoot": [{"exists": false}]}
        })
    }
}

fn signin_pattern() -> Value {
    json!({
        "detail-type": [SIGNIN],
        "detail": {"userIdentity": root_identity(false), "eventName": ["ConsoleLogin"]}
    })
}

fn root_call_pattern(refused: bool) -> Value {
    json!({
        "detail-type": [SIGNIN, API_CALL],
        "detail": {
            "userIdentity": root_identity(false),
            "eventType": [{"anything-but": "AwsServiceEvent"}],
            "eventName": [{"anything-but": "ConsoleLogin"}],
            "errorCode": [{"exists": refused}]
        }
    })
}

fn activity_pattern() -> Value {
    root_call_pattern(false)
}

fn refused_pattern() -> Value {
    root_call_pattern(true)
}

fn session_pattern() -> Value {
    json!({
        "detail-type": [API_CALL],
        "detail": {"userIdentity": root_identity(true), "readOnly": [false]}
    })
}

fn assume_root_pattern() -> Value {
    json!({
        "detail-type": [API_CALL],
        "source": ["aws.sts"],
        "detail": {
            "eventName": ["AssumeRoot"],
            "errorCode": [{"exists": false}],
            "requestParameters": {"taskPolicyArn": {"arn": [{"anything-but": AUDIT_TASK}]}}
        }
    })
}

const CALL_PATHS: &[(&str, &str)] = &[
    ("account", "$.account"),
    ("event", "$.detail.eventName"),
    ("source", "$.detail.eventSource"),
    ("ip", "$.detail.sourceIPAddress"),
    ("agent", "$.detail.userAgent"),
    ("time", "$.time"),
    ("region", "$.region"),
    ("id", "$.detail.eventID"),
];

/// Every kind, in the order plans list them.
pub static KINDS: [Kind; 5] = [
    Kind {
        rule: "rootguard-root-signin",
        what: "root console sign-ins",
        pattern: signin_pattern,
        paths: &[
            ("account", "$.account"),
            ("outcome", "$.detail.responseElements.ConsoleLogin"),
            ("mfa", "$.detail.additionalEventData.MFAUsed"),
            ("ip", "$.detail.sourceIPAddress"),
            ("agent", "$.detail.userAgent"),
            ("time", "$.time"),
            ("region", "$.region"),
            ("id", "$.detail.eventID"),
        ],
        template: "\"ROOT CONSOLE SIGN-IN to AWS account <account>: <outcome>, MFA used: <mfa>, at <time> in \
<region> from IP <ip> (<agent>). CloudTrail event id <id>. If nobody on your team signed in as root, treat it as a \
compromise now: change the root password and check root's MFA devices. See what root did: rootguard events --since 24h\"",
    },
    Kind {
        rule: RULE_NAME,
        what: "root API calls (reads too)",
        pattern: activity_pattern,
        paths: CALL_PATHS,
        template: "\"ROOT USER ACTIVITY in AWS account <account>: root called <event> (<source>) at <time> in <region> \
from IP <ip> (<agent>). CloudTrail event id <id>. If nobody on your team did this, treat it as a compromise now. \
See what root did: rootguard events --since 24h\"",
    },
    Kind {
        rule: "rootguard-root-refused",
        what: "root API calls AWS refused",
        pattern: refused_pattern,
        paths: &[
            ("account", "$.account"),
            ("event", "$.detail.eventName"),
            ("source", "$.detail.eventSource"),
            ("error", "$.detail.errorCode"),
            ("ip", "$.detail.sourceIPAddress"),
            ("agent", "$.detail.userAgent"),
            ("time", "$.time"),
            ("region", "$.region"),
            ("id", "$.detail.eventID"),
        ],
        template: "\"ROOT USER ACTIVITY in AWS account <account>: root tried <event> (<source>) at <time> in <region> \
from IP <ip> (<agent>) and AWS refused it: <error>. Someone holds root credentials. CloudTrail event id <id>. If \
nobody on your team did this, treat it as a compromise now. See what root did: rootguard events --since 24h\"",
    },
    Kind {
        rule: "rootguard-root-session",
        what: "writes in privileged root sessions (sts:AssumeRoot)",
        pattern: session_pattern,
        paths: &[
            ("account", "$.account"),
            ("event", "$.detail.eventName"),
            ("source", "$.detail.eventSource"),
            ("key", "$.detail.userIdentity.accessKeyId"),
            ("ip", "$.detail.sourceIPAddress"),
            ("time", "$.time"),
            ("region", "$.region"),
            ("id", "$.detail.eventID"),
        ],
        template: "\"PRIVILEGED ROOT SESSION in AWS account <account>: privileged root session started from the \
management account (sts:AssumeRoot, not a root sign-in) called <event> (<source>) at <time> in <region> from IP <ip> \
with temporary key <key>. Who started it and with which task: rootguard events --since 24h in the management account. \
If nobody on your team did this, revoke that caller's access now. CloudTrail event id <id>.\"",
    },
    Kind {
        rule: "rootguard-assume-root",
        what: "sts:AssumeRoot calls for tasks that change root credentials or policies (not audits)",
        pattern: assume_root_pattern,
        paths: &[
            ("account", "$.account"),
            ("caller", "$.detail.userIdentity.arn"),
            ("member", "$.detail.requestParameters.targetPrincipal"),
            ("task", "$.detail.requestParameters.taskPolicyArn.arn"),
            ("ip", "$.detail.sourceIPAddress"),
            ("time", "$.time"),
            ("region", "$.region"),
            ("id", "$.detail.eventID"),
        ],
        template: "\"PRIVILEGED ROOT SESSION STARTED from AWS account <account>: <caller> called sts:AssumeRoot for \
member account <member> with task <task> at <time> in <region> from IP <ip>. This task can change the member's root \
credentials or resource policies. If nobody on your team did this, revoke the caller's access now. CloudTrail event \
id <id>.\"",
    },
];

/// The kind whose rule is named `rule`.
pub fn kind(rule: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.rule == rule)
}

pub fn rule_arn(account_id: &str) -> String {
    rule_arn_of(account_id, RULE_NAME)
}

pub fn rule_arn_of(account_id: &str, rule: &str) -> String {
    format!("arn:aws:events:{RULE_REGION}:{account_id}:rule/{rule}")
}

/// The API-call kind's pattern (the rule rootguard has had longest).
pub fn pattern() -> Value {
    activity_pattern()
}

/// What a forwarding rule sends to us-east-1: any event some kind reports.
pub fn forward_pattern() -> Value {
    json!({"$or": KINDS.iter().map(|k| (k.pattern)()).collect::<Vec<_>>()})
}

/// The us-east-1 default bus a forwarding rule targets.
pub fn forward_bus_arn(account_id: &str) -> String {
    format!("arn:aws:events:{RULE_REGION}:{account_id}:event-bus/default")
}

pub fn forward_role_arn(account_id: &str) -> String {
    format!("arn:aws:iam::{account_id}:role/{FORWARD_ROLE}")
}

/// Only EventBridge, for this account, may assume the forwarding role.
pub fn forward_role_trust(account_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}
        }]
    })
}

/// The role may put events on the us-east-1 default bus and nothing else.
pub fn forward_role_permissions(account_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": forward_bus_arn(account_id)
        }]
    })
}

/// Which kind's rule must report a CloudTrail record, if any: the pure
/// statement of what a person is told, which `TestEventPattern` holds the
/// deployed patterns to.
pub fn kind_for(record: &Value) -> Option<&'static str> {
    let ui = &record["userIdentity"];
    let s = |v: &Value| v.as_str().map(str::to_string);
    if record["eventName"] == "AssumeRoot"
        && s(&record["eventSource"]).is_some_and(|e| e.starts_with("sts."))
    {
        let task = &record["requestParameters"]["taskPolicyArn"]["arn"];
        return (record.get("errorCode").is_none_or(Value::is_null) && task != AUDIT_TASK)
            .then_some("rootguard-assume-root");
    }
    if ui["type"] != "Root"
        || !ui["invokedBy"].is_null()
        || record["eventType"] == "AwsServiceEvent"
    {
        return None;
    }
    if ui["sessionContext"]["assumedRoot"] == "true" {
        return (record["readOnly"] == false && record["eventType"] == "AwsApiCall")
            .then_some("rootguard-root-session");
    }
    if record["eventType"] == "AwsConsoleSignIn" && record["eventName"] == "ConsoleLogin" {
        return Some("rootguard-root-signin");
    }
    if record.get("errorCode").is_some_and(|e| !e.is_null()) {
        return Some("rootguard-root-refused");
    }
    Some(RULE_NAME)
}

/// A kind's message template for an account, naming its alias when it has
/// one (IAM account aliases are lowercase letters, digits and hyphens).
pub fn input_template(kind: &Kind, alias: Option<&str>) -> String {
    match alias.filter(|a| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }) {
        Some(a) => kind
            .template
            .replacen("<account>", &format!("<account> ({a})"), 1),
        None => kind.template.to_string(),
    }
}

/// A kind's input paths as a map.
pub fn input_paths(kind: &Kind) -> BTreeMap<String, String> {
    kind.paths
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The message EventBridge's input transformer makes of an event: a
/// variable whose path the event lacks is not created, and its placeholder
/// reads as nothing (EventBridge User Guide, input transformation, "Common
/// issues"). The kinds name only paths their events carry (unit-tested).
pub fn render_message(kind: &Kind, event: &Value) -> String {
    let mut text = kind.template.trim_matches('"').to_string();
    for (name, path) in kind.paths {
        let value = lookup(event, path).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        text = text.replace(&format!("<{name}>"), value.as_deref().unwrap_or(""));
    }
    text
}

/// The value at a `$.a.b` path, if the event has one (null is none).
pub fn lookup<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = event;
    for key in path.trim_start_matches("$.").split('.') {
        v = v.get(key)?;
    }
    (!v.is_null()).then_some(v)
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

/// The corpus events a kind's rule must and must not match.
pub fn expectations(kind: &Kind) -> Vec<(&'static str, bool, Value)> {
    corpus()
        .iter()
        .map(|e| {
            (
                e.name,
                kind_for(&e.json) == Some(kind.rule),
                envelope(&e.json),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_root_event_has_exactly_one_kind_and_audits_page_nobody() {
        let kinds: BTreeMap<&str, Option<&str>> = corpus()
            .iter()
            .map(|e| (e.name, kind_for(&e.json)))
            .collect();
        let want = [
            ("root-console-signin-success", Some("rootguard-root-signin")),
            ("root-console-signin-failure", Some("rootguard-root-signin")),
            ("root-api-call", Some(RULE_NAME)),
            ("root-api-call-readonly", Some(RULE_NAME)),
            ("root-api-call-regional", Some(RULE_NAME)),
            ("root-api-call-refused", Some("rootguard-root-refused")),
            ("root-session-write", Some("rootguard-root-session")),
            // An audit session's reads (rootguard's own verify --org) page nobody.
            ("root-session-read", None),
            ("root-invoked-by-service", None),
            ("root-aws-service-event", None),
            ("iam-user-call", None),
            ("assumed-role-call", None),
            ("aws-service-event", None),
            ("assume-root-call", Some("rootguard-assume-root")),
            ("assume-root-audit", None),
        ];
        assert_eq!(kinds, want.into_iter().collect());
        for k in &KINDS {
            assert!(
                (k.pattern)().to_string().len() < 2048,
                "EventBridge caps a pattern at 2048 characters"
            );
        }
    }

    #[test]
    fn each_message_fills_every_placeholder_from_its_own_events() {
        for e in corpus() {
            let Some(rule) = kind_for(&e.json) else {
                continue;
            };
            let k = kind(rule).unwrap();
            let env = envelope(&e.json);
            for (name, path) in k.paths {
                assert!(
                    lookup(&env, path).is_some(),
                    "{}: {name} ({path}) is missing, and EventBridge would leave it empty",
                    e.name
                );
            }
            let m = render_message(k, &env);
            assert!(!m.contains('<') && !m.contains("null"), "{}: {m}", e.name);
            assert!(!m.contains("  ") && !m.contains(" ,"), "{}: {m}", e.name);
        }
    }

    #[test]
    fn the_messages_tell_each_story() {
        let msg = |name: &str| {
            let e = corpus().iter().find(|e| e.name == name).unwrap();
            render_message(
                kind(kind_for(&e.json).unwrap()).unwrap(),
                &envelope(&e.json),
            )
        };
        let signin = msg("root-console-signin-success");
        assert!(
            signin.starts_with(
                "ROOT CONSOLE SIGN-IN to AWS account 111122223333: Success, MFA used: Yes"
            ),
            "{signin}"
        );
        assert!(signin.contains("from IP 203.0.113.10"), "{signin}");
        let read = msg("root-api-call-readonly");
        assert!(
            read.contains("root called ListBuckets (s3.amazonaws.com)"),
            "{read}"
        );
        assert!(
            !read.contains("MFA"),
            "sign-in fields do not apply to a call: {read}"
        );
        let regional = msg("root-api-call-regional");
        assert!(
            regional.contains("RunInstances") && regional.contains("in eu-west-1"),
            "{regional}"
        );
        assert!(msg("root-api-call-refused").contains("AWS refused it: AccessDenied"));
        let session = msg("root-session-write");
        assert!(
            session.contains("privileged root session started from the management account")
                && session.contains("CreateLoginProfile")
                && session.contains("ASIAQNZGKIQY4EXAMPLE"),
            "{session}"
        );
        assert!(!session.contains("compromise"), "{session}");
        let start = msg("assume-root-call");
        for needle in [
            "arn:aws:sts::999988887777:assumed-role/OrgAdmin/mallory",
            "member account 111122223333",
            "root-task/IAMCreateRootUserPassword",
            "in us-west-2",
            "from IP 192.0.2.1",
        ] {
            assert!(start.contains(needle), "{needle}: {start}");
        }
    }

    #[test]
    fn a_missing_path_reads_as_nothing_as_in_eventbridge() {
        let k = kind(RULE_NAME).unwrap();
        let mut env = envelope(&corpus()[2].json);
        env["detail"].as_object_mut().unwrap().remove("userAgent");
        let m = render_message(k, &env);
        assert!(m.contains("()."), "{m}");
        assert!(!m.contains("<agent>"), "{m}");
    }

    #[test]
    fn the_alias_is_named_when_known_and_never_injected() {
        let k = kind(RULE_NAME).unwrap();
        assert!(
            input_template(k, Some("acme-prod")).contains("in AWS account <account> (acme-prod):")
        );
        assert_eq!(input_template(k, None), k.template);
        assert_eq!(
            input_template(k, Some("x\"<y>")),
            k.template,
            "not an IAM alias: left out"
        );
    }

    #[test]
    fn the_forwarding_pattern_is_every_kind() {
        let p = forward_pattern();
        assert_eq!(p["$or"].as_array().unwrap().len(), KINDS.len());
        assert_eq!(
            forward_role_permissions("111122223333")["Statement"][0]["Resource"],
            "arn:aws:events:us-east-1:111122223333:event-bus/default"
        );
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

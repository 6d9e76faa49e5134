//! What root did: CloudTrail records turned into rows a responder can read:
//! who (which credential), what (event, service, request parameters), from
//! where (IP, user agent, region), how (MFA) and whether it worked (outcome).
//!
//! Pure: records in, rows and text out. Only root activity by our own
//! evaluation of the CIS pattern, and `sts:AssumeRoot` calls (who opened a
//! privileged root session in which member, with which task), are kept (a
//! server's filtering is not trusted). Every string from AWS is escaped before
//! it reaches a terminal.

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::domain::rootactivity::is_root_activity;
use crate::domain::text::escape;
use crate::domain::text::fmt_time;

/// One root action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RootEvent {
    /// `eventTime`, or the log event's timestamp when the record has none.
    pub time: String,
    /// `record` or `log-timestamp`: where `time` came from.
    pub time_source: &'static str,
    pub event_name: String,
    pub event_source: String,
    pub region: String,
    pub source_ip: String,
    pub user_agent: String,
    /// yes, no or unknown.
    pub mfa_used: String,
    /// `console sign-in`, `console session ASIA…`, `access key AKIA…`, or `-`.
    pub credential: String,
    /// `success` or `failure`.
    pub outcome: &'static str,
    /// `errorCode`, else (for a failed sign-in) `errorMessage`.
    pub error_code: String,
    pub error_message: String,
    /// `requestParameters`, compact JSON, at most 200 characters.
    pub request_parameters: String,
    pub event_id: String,
}

fn text_of(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(x) => cur = x,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

/// The `sts:AssumeRoot` call that opened a privileged root session: who,
/// which member, which task (the root-task policy's name).
fn assume_root_credential(r: &Value) -> Option<String> {
    if text_of(r, &["eventName"]) != "AssumeRoot"
        || !text_of(r, &["eventSource"]).starts_with("sts.")
    {
        return None;
    }
    let task = text_of(r, &["requestParameters", "taskPolicyArn", "arn"]);
    let task = task.rsplit('/').next().unwrap_or_default().to_string();
    Some(format!(
        "sts:AssumeRoot by {} for member {}, task {}",
        text_of(r, &["userIdentity", "arn"]),
        text_of(r, &["requestParameters", "targetPrincipal"]),
        if task.is_empty() { "unknown" } else { &task }
    ))
}

/// One record as a row; `None` unless it is root activity or an
/// `sts:AssumeRoot` call (a privileged root session opened from here).
pub fn row(log_timestamp_ms: i64, r: &Value) -> Option<RootEvent> {
    let assume_root = assume_root_credential(r);
    if assume_root.is_none() && !is_root_activity(r) {
        return None;
    }
    let mfa = match text_of(r, &["additionalEventData", "MFAUsed"]).as_str() {
        "" => match text_of(
            r,
            &[
                "userIdentity",
                "sessionContext",
                "attributes",
                "mfaAuthenticated",
            ],
        )
        .as_str()
        {
            "true" => "yes".to_string(),
            "false" => "no".to_string(),
            _ => "unknown".to_string(),
        },
        "Yes" => "yes".into(),
        "No" => "no".into(),
        other => other.to_ascii_lowercase(),
    };
    let sign_in = text_of(r, &["eventType"]) == "AwsConsoleSignIn";
    let key = text_of(r, &["userIdentity", "accessKeyId"]);
    // A privileged session a management account opened with sts:AssumeRoot
    // (IAM User Guide, "Track privileged tasks in CloudTrail"): root's calls,
    // but not a root sign-in and not root's own key.
    let assumed_root = text_of(r, &["userIdentity", "sessionContext", "assumedRoot"]) == "true";
    let credential = if let Some(c) = assume_root {
        c
    } else if sign_in {
        "console sign-in".to_string()
    } else if assumed_root {
        format!("privileged root session (sts:AssumeRoot) {key}")
    } else if key.starts_with("ASIA") {
        format!("console session {key}")
    } else if !key.is_empty() {
        format!("access key {key}")
    } else {
        "-".to_string()
    };
    let error_code = text_of(r, &["errorCode"]);
    let error_message = text_of(r, &["errorMessage"]);
    // A sign-in event reports its result in responseElements (ConsoleLogin,
    // ExternalIdPDirectoryLogin, PasswordUpdated, …), sometimes without an error.
    let element_failed = r
        .get("responseElements")
        .and_then(Value::as_object)
        .is_some_and(|o| o.values().any(|v| v == "Failure"));
    let failed = !error_code.is_empty() || element_failed;
    let (time, time_source) = match text_of(r, &["eventTime"]) {
        t if !t.is_empty() => (t, "record"),
        _ => (
            OffsetDateTime::from_unix_timestamp(log_timestamp_ms / 1000)
                .map(fmt_time)
                .unwrap_or_default(),
            "log-timestamp",
        ),
    };
    let params = match r.get("requestParameters") {
        Some(Value::Null) | None => String::new(),
        Some(v) => short(&v.to_string(), 200),
    };
    Some(RootEvent {
        time,
        time_source,
        event_name: text_of(r, &["eventName"]),
        event_source: text_of(r, &["eventSource"]),
        region: text_of(r, &["awsRegion"]),
        source_ip: text_of(r, &["sourceIPAddress"]),
        user_agent: text_of(r, &["userAgent"]),
        mfa_used: mfa,
        credential,
        outcome: if failed { "failure" } else { "success" },
        error_code: if error_code.is_empty() && failed {
            if error_message.is_empty() {
                "Failure".into()
            } else {
                error_message.clone()
            }
        } else {
            error_code
        },
        error_message,
        request_parameters: params,
        event_id: text_of(r, &["eventID"]),
    })
}

/// Log events (timestamp ms, message) to rows, oldest first.
pub fn root_events(messages: &[(i64, String)]) -> Vec<RootEvent> {
    let mut rows: Vec<RootEvent> = messages
        .iter()
        .filter_map(|(ts, m)| {
            serde_json::from_str::<Value>(m)
                .ok()
                .and_then(|r| row(*ts, &r))
        })
        .collect();
    rows.sort_by(|a, b| a.time.cmp(&b.time));
    rows
}

/// Aligned columns (long values cut with …), then a detail line per event
/// with the event id, request parameters and user agent. Escaped.
/// The GuardDuty finding type for API calls made with root credentials.
pub const GUARDDUTY_ROOT_TYPE: &str = "Policy:IAMUser/RootCredentialUsage";

/// One GuardDuty `Policy:IAMUser/RootCredentialUsage` finding: GuardDuty
/// folds repeats of the same activity into one finding with a count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GuardDutyFinding {
    pub id: String,
    pub region: String,
    pub title: String,
    /// How many times GuardDuty saw the activity (`service.count`).
    pub count: i64,
    pub first_seen: String,
    pub last_seen: String,
    /// The API called and its service, when GuardDuty says.
    pub api: String,
    pub service: String,
    pub source_ip: String,
}

/// What GuardDuty said in one region: no detector, or its root findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GuardDutyRegion {
    NoDetector {
        region: String,
    },
    Read {
        region: String,
        findings: Vec<GuardDutyFinding>,
    },
    Unread {
        region: String,
        error: String,
    },
}

/// The GuardDuty lines: one per finding (count and last seen), newest first,
/// then the regions without a detector or that could not be read.
pub fn guardduty_text(regions: &[GuardDutyRegion]) -> String {
    let mut findings: Vec<&GuardDutyFinding> = regions
        .iter()
        .flat_map(|r| match r {
            GuardDutyRegion::Read { findings, .. } => findings.iter().collect(),
            _ => Vec::new(),
        })
        .collect();
    findings.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
    let mut out = format!(
        "GuardDuty {GUARDDUTY_ROOT_TYPE}: {} finding(s)\n",
        findings.len()
    );
    for f in findings {
        let what = if f.api.is_empty() {
            escape(&f.title)
        } else {
            format!("{} ({})", escape(&f.api), escape(&f.service))
        };
        let ip = if f.source_ip.is_empty() {
            String::new()
        } else {
            format!(" from {}", escape(&f.source_ip))
        };
        out += &format!(
            "  {}  {}  x{}  last seen {}  first seen {}{}  id {}\n",
            escape(&f.region),
            what,
            f.count,
            escape(&f.last_seen),
            escape(&f.first_seen),
            ip,
            escape(&f.id)
        );
    }
    let none: Vec<&str> = regions
        .iter()
        .filter_map(|r| match r {
            GuardDutyRegion::NoDetector { region } => Some(region.as_str()),
            _ => None,
        })
        .collect();
    if !none.is_empty() {
        out += &format!("  no GuardDuty detector in {}\n", none.join(", "));
    }
    for r in regions {
        if let GuardDutyRegion::Unread { region, error } = r {
            out += &format!("  cannot read GuardDuty in {region}: {}\n", escape(error));
        }
    }
    out
}

/// The width the table needs: its columns and the gaps between them, with
/// room for a short outcome. Narrower terminals get [`text`]'s stacked form.
pub const TABLE_WIDTH: usize = 20 + 28 + 34 + 15 + 7 + 14 + 6 * 2 + 16;

/// The events as text: a table when `width` is `None` (piped output keeps
/// one row per event) or wide enough ([`TABLE_WIDTH`]); otherwise each
/// event as a short block whose lines fit, every field labelled.
pub fn text(rows: &[RootEvent], width: Option<usize>) -> String {
    match width {
        Some(w) if w < TABLE_WIDTH => stacked(rows),
        _ => table(rows),
    }
}

fn outcome(r: &RootEvent) -> String {
    if r.outcome == "success" {
        "success".to_string()
    } else {
        format!(
            "failure: {}{}",
            r.error_code,
            if r.error_message.is_empty() || r.error_message == r.error_code {
                String::new()
            } else {
                format!(" ({})", r.error_message)
            }
        )
    }
}

fn event_label(r: &RootEvent) -> String {
    format!(
        "{} ({})",
        r.event_name,
        r.event_source.trim_end_matches(".amazonaws.com")
    )
}

fn params(r: &RootEvent) -> String {
    if r.request_parameters.is_empty() {
        "-".to_string()
    } else {
        escape(&r.request_parameters)
    }
}

fn table(rows: &[RootEvent]) -> String {
    let col = |s: &str, n: usize| format!("{:<n$}", short(&escape(s), n));
    let mut out = format!(
        "{}  {}  {}  {}  {}  {}  {}\n",
        col("TIME", 20),
        col("EVENT", 28),
        col("CREDENTIAL", 34),
        col("SOURCE IP", 15),
        col("MFA", 7),
        col("REGION", 14),
        "OUTCOME"
    );
    for r in rows {
        out.push_str(&format!(
            "{}  {}  {}  {}  {}  {}  {}\n",
            col(&r.time, 20),
            col(&event_label(r), 28),
            col(&r.credential, 34),
            col(&r.source_ip, 15),
            col(&r.mfa_used, 7),
            col(&r.region, 14),
            short(&escape(&outcome(r)), 80)
        ));
        out.push_str(&format!(
            "{:22}id {}  params {}  agent {}\n",
            "",
            escape(&r.event_id),
            params(r),
            short(&escape(&r.user_agent), 80)
        ));
        // A credential too long for its column (who opened a privileged
        // session, for which member and task) is given whole.
        if r.credential.chars().count() > 34 {
            out.push_str(&format!("{:22}who {}\n", "", escape(&r.credential)));
        }
    }
    out
}

/// One block per event: time, event and outcome first, then one labelled
/// field per line, so a line longer than the terminal (params, a long
/// credential) wraps under its own label instead of breaking a table row.
fn stacked(rows: &[RootEvent]) -> String {
    let mut out = String::new();
    for r in rows {
        out.push_str(&format!(
            "\n{}  {}  {}\n",
            escape(&r.time),
            escape(&event_label(r)),
            escape(&outcome(r))
        ));
        for (label, value) in [
            ("who", escape(&r.credential)),
            (
                "from",
                format!(
                    "{} in {}, mfa {}",
                    escape(&r.source_ip),
                    escape(&r.region),
                    escape(&r.mfa_used)
                ),
            ),
            ("agent", short(&escape(&r.user_agent), 200)),
            ("params", params(r)),
            ("id", escape(&r.event_id)),
        ] {
            out.push_str(&format!("  {label}: {value}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rootactivity::corpus;
    use serde_json::json;

    #[test]
    fn piped_or_wide_output_is_a_table_and_a_narrow_terminal_gets_blocks_that_fit() {
        let messages: Vec<(i64, String)> =
            corpus().iter().map(|e| (0, e.text.to_string())).collect();
        let rows = root_events(&messages);
        let piped = text(&rows, None);
        assert!(piped.starts_with("TIME "), "{piped}");
        assert_eq!(piped, text(&rows, Some(TABLE_WIDTH)));
        assert!(
            piped.lines().any(|l| l.chars().count() > 100),
            "the table is wider than 80 columns"
        );
        let narrow = text(&rows, Some(80));
        assert!(!narrow.contains("TIME "), "no table header: {narrow}");
        let blocks: Vec<&str> = narrow.split("\n\n").collect();
        assert_eq!(blocks.len(), rows.len(), "one block per event: {narrow}");
        for (block, r) in blocks.iter().zip(&rows) {
            let first = block.trim_start().lines().next().unwrap();
            assert!(
                first.starts_with(&r.time) && first.contains(&r.event_name),
                "{first}"
            );
            // Every field is there, whole (nothing cut to a column).
            assert!(
                block.contains(&format!("  who: {}", r.credential)),
                "{block}"
            );
            assert!(block.contains(&format!("  id: {}", r.event_id)), "{block}");
            assert!(
                block.contains(&format!(
                    "{} in {}, mfa {}",
                    r.source_ip, r.region, r.mfa_used
                )),
                "{block}"
            );
        }
        // Wrapped to 80 columns (as stdout does on a terminal), every line
        // fits and a long value continues under its label.
        let shown = crate::domain::text::wrap_hanging(&narrow, 80);
        assert!(shown.lines().all(|l| l.chars().count() <= 80), "{shown}");
        let who = shown
            .lines()
            .position(|l| l.starts_with("  who: sts:AssumeRoot by"))
            .expect("the AssumeRoot caller");
        assert!(
            shown.lines().nth(who + 1).unwrap().starts_with("       "),
            "{shown}"
        );
    }

    #[test]
    fn root_events_keeps_only_root_activity_and_extracts_fields() {
        let messages: Vec<(i64, String)> =
            corpus().iter().map(|e| (0, e.text.to_string())).collect();
        let rows = root_events(&messages);
        let names: Vec<&str> = rows.iter().map(|r| r.event_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "AssumeRoot",
                "ListMFADevices",
                "ConsoleLogin",
                "ConsoleLogin",
                "RunInstances",
                "CreateUser",
                "AssumeRoot",
                "CreateLoginProfile",
                "ListBuckets",
                "CreateAccessKey"
            ],
            "sorted by time"
        );
        // Who opened a privileged root session, in which member, for which task.
        assert_eq!(
            rows[0].credential,
            "sts:AssumeRoot by arn:aws:sts::999988887777:assumed-role/OrgAdmin/mallory for member \
             111122223333, task IAMAuditRootUserCredentials"
        );
        assert_eq!(
            (rows[0].region.as_str(), rows[0].source_ip.as_str()),
            ("us-west-2", "192.0.2.9")
        );
        assert!(rows[6]
            .credential
            .ends_with("task IAMCreateRootUserPassword"));
        let rows: Vec<RootEvent> = rows
            .into_iter()
            .filter(|r| r.event_name != "AssumeRoot")
            .collect();
        // An audit session's read is listed as such, never as a root sign-in.
        assert!(
            rows[0]
                .credential
                .starts_with("privileged root session (sts:AssumeRoot)"),
            "{}",
            rows[0].credential
        );
        let failed = &rows[1];
        assert_eq!(failed.error_code, "Failed authentication");
        assert_eq!(failed.outcome, "failure");
        assert_eq!(failed.mfa_used, "no");
        assert_eq!(failed.credential, "console sign-in");
        assert_eq!(rows[2].mfa_used, "yes");
        assert_eq!(rows[2].outcome, "success");
        assert_eq!(rows[4].error_code, "AccessDenied");
        assert!(rows[5]
            .credential
            .starts_with("privileged root session (sts:AssumeRoot)"));
        // The read-only call (a stolen key's first move) is listed like any other.
        assert_eq!(rows[6].source_ip, "198.51.100.23");
        assert_eq!(rows[7].source_ip, "203.0.113.10");
        assert!(rows[7].user_agent.starts_with("aws-cli/2.15.0"));
        assert!(
            rows[7].credential.starts_with("access key ")
                || rows[7].credential.starts_with("console session "),
            "{}",
            rows[7].credential
        );
        assert!(!rows[7].event_id.is_empty());
    }

    fn root(extra: Value) -> Value {
        let mut r = json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "Root", "accountId": "111122223333", "arn": "arn:aws:iam::111122223333:root"},
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "eventType": "AwsConsoleSignIn",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.1",
            "userAgent": "Mozilla/5.0",
            "eventID": "e-1"
        });
        for (k, v) in extra.as_object().unwrap() {
            r[k] = v.clone();
        }
        r
    }

    #[test]
    fn each_record_shape_by_data() {
        // A failed sign-in of another kind, without errorMessage.
        let r = row(0, &root(json!({"eventName": "PasswordUpdated", "responseElements": {"PasswordUpdated": "Failure"}}))).unwrap();
        assert_eq!(r.outcome, "failure");
        assert_eq!(r.error_code, "Failure");
        // No eventTime: the log timestamp, said so.
        let r = row(1_700_000_000_000, &root(json!({}))).unwrap();
        assert_eq!(r.time, "2023-11-14T22:13:20Z");
        assert_eq!(r.time_source, "log-timestamp");
        // An API call with root access keys, an error message and parameters.
        let r = row(0, &root(json!({
            "eventType": "AwsApiCall", "eventName": "CreateUser", "eventSource": "iam.amazonaws.com",
            "userIdentity": {"type": "Root", "accessKeyId": "AKIAEXAMPLEROOTKEY"},
            "errorCode": "AccessDenied", "errorMessage": "not allowed",
            "requestParameters": {"userName": "backdoor"}
        }))).unwrap();
        assert_eq!(r.credential, "access key AKIAEXAMPLEROOTKEY");
        assert_eq!(r.outcome, "failure");
        assert_eq!(r.error_message, "not allowed");
        assert_eq!(r.request_parameters, r#"{"userName":"backdoor"}"#);
        // A console session's temporary key.
        let r = row(0, &root(json!({"eventType": "AwsApiCall", "userIdentity": {"type": "Root", "accessKeyId": "ASIAEXAMPLE"}}))).unwrap();
        assert_eq!(r.credential, "console session ASIAEXAMPLE");
        // A privileged session opened from the management account is told as such.
        let r = row(
            0,
            &root(
                json!({"eventType": "AwsApiCall", "eventName": "CreateLoginProfile",
            "userIdentity": {"type": "Root", "accessKeyId": "ASIAPRIVILEGED",
                             "sessionContext": {"assumedRoot": "true"}}}),
            ),
        )
        .unwrap();
        assert_eq!(
            r.credential,
            "privileged root session (sts:AssumeRoot) ASIAPRIVILEGED"
        );
        // Not root: nothing.
        assert!(row(0, &root(json!({"userIdentity": {"type": "IAMUser"}}))).is_none());
    }

    #[test]
    fn text_stays_aligned_and_escaped() {
        let long = root(json!({
            "eventTime": "2026-11-25T10:00:00Z",
            "eventName": "A".repeat(80),
            "userAgent": "evil\u{1b}[2Jagent",
            "sourceIPAddress": "2001:db8:85a3:0000:0000:8a2e:0370:7334"
        }));
        let short_one = root(json!({"eventTime": "2026-11-25T11:00:00Z"}));
        let rows = vec![row(0, &long).unwrap(), row(0, &short_one).unwrap()];
        let t = text(&rows, None);
        assert!(!t.contains('\u{1b}'), "escaped: {t}");
        assert!(t.contains("\\u{1b}[2J"), "{t}");
        let starts: Vec<usize> = t
            .lines()
            .filter(|l| l.starts_with("2026"))
            .map(|l| l[..l.find("console sign-in").unwrap()].chars().count())
            .collect();
        assert_eq!(starts[0], starts[1], "columns aligned:\n{t}");
    }
}

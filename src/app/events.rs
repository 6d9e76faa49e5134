//! `events`: what root did, for the responder after a root alarm.
//!
//! read → build an [`EventsReport`] → show. The sources are the trail's log
//! group (when one qualifies or `--log-group` names one), else CloudTrail
//! event history in every enabled region at once; GuardDuty's
//! `Policy:IAMUser/RootCredentialUsage` findings are read beside either, in
//! the same regions. The reads go through [`EventsReader`], so the logic is
//! tested with a fake reader; choosing the log group and printing stay at the
//! edge. This module never writes to AWS.

use std::future::Future;

use serde_json::json;
use time::OffsetDateTime;

use crate::aws::Reader;
use crate::domain::events::{guardduty_text, root_events, GuardDutyRegion, RootEvent};
use crate::domain::exit;
use crate::domain::facts::FactError;
use crate::domain::text::escape;
/// What `events` asks a log group for: root activity (the CIS pattern's
/// terms) and the `sts:AssumeRoot` calls that open privileged root sessions.
/// Rows are judged again locally (`crate::domain::events::row`).
pub const EVENTS_PATTERN: &str =
    r#"{ ($.userIdentity.type = "Root") || ($.eventName = "AssumeRoot") }"#;
use crate::domain::text::fmt_time;

/// The reads `events` needs; [`Reader`] is the real one.
pub trait EventsReader: Sync {
    /// The configured region.
    fn region(&self) -> String;
    /// `logs:FilterLogEvents` with `pattern`, all pages: (timestamp ms, message).
    fn log_events(
        &self,
        region: &str,
        group: &str,
        pattern: &str,
        start_ms: i64,
    ) -> impl Future<Output = Result<Vec<(i64, String)>, FactError>> + Send;
    /// `account:ListRegions`: the enabled regions.
    fn enabled_regions(&self) -> impl Future<Output = Result<Vec<String>, FactError>> + Send;
    /// `cloudtrail:LookupEvents` for user name root in one region, all pages.
    fn event_history(
        &self,
        region: &str,
        start_secs: i64,
    ) -> impl Future<Output = Result<Vec<(i64, String)>, FactError>> + Send;
    /// GuardDuty's root-credential findings in one region.
    fn guardduty(
        &self,
        region: &str,
        since_ms: i64,
    ) -> impl Future<Output = GuardDutyRegion> + Send;
}

impl EventsReader for Reader {
    fn region(&self) -> String {
        Reader::region(self)
    }
    fn log_events(
        &self,
        region: &str,
        group: &str,
        pattern: &str,
        start_ms: i64,
    ) -> impl Future<Output = Result<Vec<(i64, String)>, FactError>> + Send {
        Reader::log_events(self, region, group, pattern, start_ms)
    }
    fn enabled_regions(&self) -> impl Future<Output = Result<Vec<String>, FactError>> + Send {
        Reader::enabled_regions(self)
    }
    fn event_history(
        &self,
        region: &str,
        start_secs: i64,
    ) -> impl Future<Output = Result<Vec<(i64, String)>, FactError>> + Send {
        Reader::event_history(self, region, start_secs)
    }
    fn guardduty(
        &self,
        region: &str,
        since_ms: i64,
    ) -> impl Future<Output = GuardDutyRegion> + Send {
        self.guardduty_root_findings(region, since_ms)
    }
}

/// Where to read root's CloudTrail records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The log group a qualifying trail (or `--log-group`) feeds.
    LogGroup { region: String, name: String },
    /// CloudTrail event history: no trail needed, 90 days, every region.
    History,
}

/// Which source was read, and what could not be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceRead {
    LogGroup {
        region: String,
        name: String,
    },
    History {
        regions: Vec<String>,
        /// Regions whose history could not be read, with why.
        failed: Vec<(String, String)>,
        /// Set when the enabled regions could not be listed.
        regions_warning: Option<String>,
    },
}

/// What `events` shows.
#[derive(Clone, Debug)]
pub struct EventsReport {
    pub account_id: String,
    pub since: OffsetDateTime,
    pub source: SourceRead,
    pub rows: Vec<RootEvent>,
    pub guardduty: Vec<GuardDutyRegion>,
}

/// Why `events` could not answer at all.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("cannot read {group}: {error}")]
    LogGroup { group: String, error: String },
}

/// How the read is shown while it runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct EventsOptions {
    /// A progress bar over the regions (on a terminal only).
    pub progress: bool,
}

/// Reads root's events and GuardDuty's findings, both at once.
pub async fn read(
    reader: &impl EventsReader,
    account_id: &str,
    source: Source,
    since: OffsetDateTime,
    opts: EventsOptions,
) -> Result<EventsReport, EventsError> {
    let since_ms = (since.unix_timestamp_nanos() / 1_000_000) as i64;
    let (source, messages, gd_regions) = match source {
        Source::LogGroup { region, name } => {
            let mut gd = vec!["us-east-1".to_string(), region.clone(), reader.region()];
            gd.sort();
            gd.dedup();
            let (messages, guardduty) = tokio::join!(
                reader.log_events(&region, &name, EVENTS_PATTERN, since_ms),
                guardduty_in(reader, &gd, since_ms)
            );
            let messages = messages.map_err(|e| EventsError::LogGroup {
                group: name.clone(),
                error: e.describe(),
            })?;
            return Ok(EventsReport {
                account_id: account_id.to_string(),
                since,
                source: SourceRead::LogGroup { region, name },
                rows: root_events(&messages),
                guardduty,
            });
        }
        Source::History => {
            let (regions, warning) = history_regions(reader).await;
            let (read, failed) = history(reader, &regions, since, opts).await;
            (
                SourceRead::History {
                    regions: regions.clone(),
                    failed,
                    regions_warning: warning,
                },
                read,
                regions,
            )
        }
    };
    let guardduty = guardduty_in(reader, &gd_regions, since_ms).await;
    Ok(EventsReport {
        account_id: account_id.to_string(),
        since,
        source,
        rows: root_events(&messages),
        guardduty,
    })
}

/// The enabled regions, us-east-1 first (console sign-ins are recorded
/// there); when they cannot be listed, us-east-1 and the configured region,
/// with a warning saying why.
async fn history_regions(reader: &impl EventsReader) -> (Vec<String>, Option<String>) {
    let (mut regions, warning) = match reader.enabled_regions().await {
        Ok(r) if !r.is_empty() => (r, None),
        outcome => {
            let why = outcome
                .err()
                .map_or("none listed".to_string(), |e| e.describe());
            let mut r = vec!["us-east-1".to_string(), reader.region()];
            r.dedup();
            let warning = format!(
                "cannot list the enabled regions ({why}): reading {} only",
                r.join(" and ")
            );
            (r, Some(warning))
        }
    };
    regions.sort_by_key(|r| (r != "us-east-1", r.clone()));
    (regions, warning)
}

/// Every region's event history at once, under a progress bar.
async fn history(
    reader: &impl EventsReader,
    regions: &[String],
    since: OffsetDateTime,
    opts: EventsOptions,
) -> (Vec<(i64, String)>, Vec<(String, String)>) {
    let pb = crate::app::org::bar_of(
        regions.len(),
        opts.progress,
        "reading CloudTrail event history",
        "regions",
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(100));
    let start_secs = since.unix_timestamp();
    let results = futures::future::join_all(regions.iter().map(|r| {
        let pb = pb.clone();
        async move {
            let out = reader.event_history(r, start_secs).await;
            pb.inc(1);
            (r.clone(), out)
        }
    }))
    .await;
    pb.finish_and_clear();
    let mut messages = Vec::new();
    let mut failed = Vec::new();
    for (region, out) in results {
        match out {
            Ok(m) => messages.extend(m),
            Err(e) => failed.push((region, e.describe())),
        }
    }
    (messages, failed)
}

async fn guardduty_in(
    reader: &impl EventsReader,
    regions: &[String],
    since_ms: i64,
) -> Vec<GuardDutyRegion> {
    futures::future::join_all(regions.iter().map(|r| reader.guardduty(r, since_ms))).await
}

impl EventsReport {
    /// `UNKNOWN` when a region's history or GuardDuty could not be read:
    /// root activity there would go unseen.
    pub fn exit_code(&self) -> u8 {
        let history_gap =
            matches!(&self.source, SourceRead::History { failed, .. } if !failed.is_empty());
        let gd_gap = self
            .guardduty
            .iter()
            .any(|g| matches!(g, GuardDutyRegion::Unread { .. }));
        if history_gap || gd_gap {
            exit::UNKNOWN
        } else {
            exit::OK
        }
    }

    /// Warnings for stderr (text output only): unread regions.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let SourceRead::History {
            failed,
            regions_warning,
            ..
        } = &self.source
        {
            out.extend(regions_warning.iter().cloned());
            for (region, e) in failed {
                out.push(format!(
                    "cannot read the event history in {region}: {}",
                    escape(e)
                ));
            }
        }
        out
    }

    /// `rootguard.events/v1`.
    pub fn json(&self) -> String {
        let mut doc = json!({
            "schema": "rootguard.events/v1",
            "account_id": self.account_id,
        });
        match &self.source {
            SourceRead::LogGroup { region, name } => {
                doc["source"] = json!("log-group");
                doc["log_group"] = json!(name);
                doc["region"] = json!(region);
            }
            SourceRead::History {
                regions, failed, ..
            } => {
                doc["source"] = json!("event-history");
                doc["regions"] = json!(regions);
                doc["failed_regions"] = failed
                    .iter()
                    .map(|(r, e)| json!({"region": r, "error": e}))
                    .collect();
            }
        }
        doc["since"] = json!(fmt_time(self.since));
        doc["events"] = json!(self.rows);
        doc["guardduty"] = json!(self.guardduty);
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }

    /// The header line naming the source, the events (laid out for a
    /// terminal of `width` columns, or as a table when piped), then GuardDuty.
    pub fn text(&self, width: Option<usize>) -> String {
        let mut out = match &self.source {
            SourceRead::LogGroup { region, name } => format!(
                "root activity in {} ({region}), source: the trail's log group, since {}: {} event(s)\n",
                escape(name),
                fmt_time(self.since),
                self.rows.len()
            ),
            SourceRead::History {
                regions, failed, ..
            } => format!(
                "root activity in account {}, source: CloudTrail event history (no trail delivers to CloudWatch Logs; {} of {} region(s) read), since {}: {} event(s)\n",
                self.account_id,
                regions.len() - failed.len(),
                regions.len(),
                fmt_time(self.since),
                self.rows.len()
            ),
        };
        if !self.rows.is_empty() {
            out += &crate::domain::events::text(&self.rows, width);
        }
        if !self.guardduty.is_empty() {
            out += "\n";
            out += &guardduty_text(&self.guardduty);
        }
        out
    }
}

/// `rootguard events`: the trail's log group when one qualifies (or
/// `--log-group`), else event history; text or JSON on stdout.
pub async fn run(
    opts: &crate::aws::ConnectOptions,
    since: time::Duration,
    log_group: Option<&str>,
    json: bool,
) -> crate::app::Outcome {
    use crate::app::deploy::{choose_log_group, ChooseError};
    use crate::app::Stop;
    let (reader, _, caller) = crate::app::connect(opts).await?;
    let start = OffsetDateTime::now_utc() - since;
    let source = match choose_log_group(
        &reader,
        &caller.account_id,
        log_group,
        &mut crate::term::select,
    )
    .await
    {
        Ok(chosen) => Source::LogGroup {
            region: chosen.region,
            name: chosen.name,
        },
        Err(ChooseError::NoQualifyingTrail) if log_group.is_none() => Source::History,
        Err(e) => return Err(e.into()),
    };
    let report = read(
        &reader,
        &caller.account_id,
        source,
        start,
        EventsOptions {
            progress: crate::term::show_progress(),
        },
    )
    .await
    .map_err(|e| Stop::failed(e.to_string()))?;
    if json {
        out!("{}", report.json());
    } else {
        for w in report.warnings() {
            eprintln!("warning: {w}");
        }
        out!("{}", report.text(crate::term::out::stdout_width()));
    }
    Ok(report.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::GuardDutyFinding;
    use crate::domain::facts::FactErrorKind;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// A fake account: history per region (or a failure), GuardDuty per
    /// region, and a log of the calls made.
    #[derive(Default)]
    struct Fake {
        regions: Option<Vec<String>>,
        history: HashMap<String, Result<Vec<(i64, String)>, FactError>>,
        log_group: Option<Result<Vec<(i64, String)>, FactError>>,
        guardduty: HashMap<String, GuardDutyRegion>,
        calls: Mutex<Vec<String>>,
    }

    impl EventsReader for Fake {
        fn region(&self) -> String {
            "eu-west-1".into()
        }
        async fn log_events(
            &self,
            region: &str,
            group: &str,
            _pattern: &str,
            _start_ms: i64,
        ) -> Result<Vec<(i64, String)>, FactError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("logs {region} {group}"));
            self.log_group.clone().expect("log group read expected")
        }
        async fn enabled_regions(&self) -> Result<Vec<String>, FactError> {
            self.regions.clone().ok_or_else(|| {
                FactError::new("account:ListRegions", FactErrorKind::AccessDenied, "denied")
            })
        }
        async fn event_history(
            &self,
            region: &str,
            _start_secs: i64,
        ) -> Result<Vec<(i64, String)>, FactError> {
            self.calls.lock().unwrap().push(format!("history {region}"));
            self.history.get(region).cloned().unwrap_or(Ok(Vec::new()))
        }
        async fn guardduty(&self, region: &str, _since_ms: i64) -> GuardDutyRegion {
            self.calls
                .lock()
                .unwrap()
                .push(format!("guardduty {region}"));
            self.guardduty
                .get(region)
                .cloned()
                .unwrap_or(GuardDutyRegion::NoDetector {
                    region: region.into(),
                })
        }
    }

    fn root_call(region: &str, name: &str) -> (i64, String) {
        let r = json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"},
            "eventTime": "2026-12-03T07:00:00Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2",
            "eventType": "AwsApiCall",
            "eventID": format!("{region}-{name}"),
        });
        (0, r.to_string())
    }

    fn since() -> OffsetDateTime {
        OffsetDateTime::now_utc() - time::Duration::days(1)
    }

    fn finding(region: &str) -> GuardDutyFinding {
        GuardDutyFinding {
            id: format!("gd-{region}"),
            region: region.into(),
            title: "API ListBuckets was invoked using root credentials.".into(),
            count: 12,
            first_seen: "2026-12-02T07:00:00Z".into(),
            last_seen: "2026-12-03T07:00:00Z".into(),
            api: "ListBuckets".into(),
            service: "s3.amazonaws.com".into(),
            source_ip: "203.0.113.7".into(),
        }
    }

    #[tokio::test]
    async fn history_reads_every_region_and_guardduty_there() {
        let mut fake = Fake {
            regions: Some(vec!["eu-west-1".into(), "us-east-1".into()]),
            ..Fake::default()
        };
        fake.history.insert(
            "eu-west-1".into(),
            Ok(vec![root_call("eu-west-1", "ListBuckets")]),
        );
        fake.guardduty.insert(
            "us-east-1".into(),
            GuardDutyRegion::Read {
                region: "us-east-1".into(),
                findings: vec![finding("us-east-1")],
            },
        );
        let report = read(
            &fake,
            "111122223333",
            Source::History,
            since(),
            EventsOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(report.rows.len(), 1);
        assert_eq!(report.exit_code(), exit::OK);
        let calls = fake.calls.lock().unwrap().clone();
        for r in ["eu-west-1", "us-east-1"] {
            assert!(calls.contains(&format!("history {r}")), "{calls:?}");
            assert!(calls.contains(&format!("guardduty {r}")), "{calls:?}");
        }
        let text = report.text(None);
        assert!(text.contains("2 of 2 region(s) read"), "{text}");
        assert!(
            text.contains(
                "us-east-1  ListBuckets (s3.amazonaws.com)  x12  last seen 2026-12-03T07:00:00Z"
            ),
            "{text}"
        );
        assert!(
            text.contains("no GuardDuty detector in eu-west-1"),
            "{text}"
        );
        let doc: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(doc["guardduty"][0]["state"], "read", "us-east-1 first");
        assert_eq!(doc["guardduty"][0]["findings"][0]["count"], 12);
    }

    #[tokio::test]
    async fn an_unread_region_or_guardduty_makes_the_answer_unknown() {
        let mut fake = Fake {
            regions: Some(vec!["us-east-1".into(), "ap-south-1".into()]),
            ..Fake::default()
        };
        fake.history.insert(
            "ap-south-1".into(),
            Err(FactError::new(
                "cloudtrail:LookupEvents",
                FactErrorKind::AccessDenied,
                "denied",
            )),
        );
        let report = read(
            &fake,
            "111122223333",
            Source::History,
            since(),
            EventsOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(report.exit_code(), exit::UNKNOWN);
        assert!(report.warnings()[0].contains("ap-south-1"));

        let mut fake = Fake {
            regions: Some(vec!["us-east-1".into()]),
            ..Fake::default()
        };
        fake.guardduty.insert(
            "us-east-1".into(),
            GuardDutyRegion::Unread {
                region: "us-east-1".into(),
                error: "guardduty:ListDetectors denied".into(),
            },
        );
        let report = read(
            &fake,
            "111122223333",
            Source::History,
            since(),
            EventsOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(report.exit_code(), exit::UNKNOWN);
        assert!(report
            .text(None)
            .contains("cannot read GuardDuty in us-east-1: guardduty:ListDetectors denied"));
    }

    #[tokio::test]
    async fn without_a_region_list_history_reads_us_east_1_and_the_configured_region() {
        let fake = Fake::default();
        let report = read(
            &fake,
            "111122223333",
            Source::History,
            since(),
            EventsOptions::default(),
        )
        .await
        .unwrap();
        match &report.source {
            SourceRead::History {
                regions,
                regions_warning,
                ..
            } => {
                assert_eq!(regions, &["us-east-1", "eu-west-1"]);
                assert!(regions_warning
                    .as_deref()
                    .unwrap()
                    .contains("account:ListRegions"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_log_group_is_read_with_guardduty_in_its_region_and_us_east_1() {
        let fake = Fake {
            log_group: Some(Ok(vec![root_call("eu-central-1", "CreateUser")])),
            ..Fake::default()
        };
        let source = Source::LogGroup {
            region: "eu-central-1".into(),
            name: "trail-logs".into(),
        };
        let report = read(
            &fake,
            "111122223333",
            source,
            since(),
            EventsOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(report.rows[0].event_name, "CreateUser");
        let calls = fake.calls.lock().unwrap().clone();
        assert!(calls.contains(&"logs eu-central-1 trail-logs".to_string()));
        for r in ["us-east-1", "eu-central-1", "eu-west-1"] {
            assert!(calls.contains(&format!("guardduty {r}")), "{calls:?}");
        }
        assert!(!calls.iter().any(|c| c.starts_with("history")), "{calls:?}");
        assert!(report
            .text(None)
            .starts_with("root activity in trail-logs (eu-central-1)"));

        let failing = Fake {
            log_group: Some(Err(FactError::new(
                "logs:FilterLogEvents",
                FactErrorKind::AccessDenied,
                "denied",
            ))),
            ..Fake::default()
        };
        let source = Source::LogGroup {
            region: "eu-central-1".into(),
            name: "trail-logs".into(),
        };
        let err = read(
            &failing,
            "111122223333",
            source,
            since(),
            EventsOptions::default(),
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string().starts_with("cannot read trail-logs: "),
            "{err}"
        );
    }
}

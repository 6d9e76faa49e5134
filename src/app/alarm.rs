//! `alarm test` and `alarm test --realtime`: the fire drills.
//!
//! The alarm drill finds the alarm wherever the chain lives → sets it to ALARM
//! with a reason that says it is a drill → reports who the notification
//! reaches, as a [`DrillReport`]. It changes nothing but the alarm's state,
//! which CloudWatch returns to OK at its next evaluation. The real-time drill
//! reads the rule with its pattern proven by `TestEventPattern` → publishes a
//! message marked `[TEST]` through each SNS target → a [`RealtimeReport`].
//!
//! Reads and writes go through [`DrillApi`] and [`RealtimeApi`], so both flows
//! are tested with fakes; printing stays in the `run` functions.

use std::future::Future;

use time::OffsetDateTime;

use crate::app::teardown::candidate_regions;
use crate::app::{connect, Outcome, Stop};
use crate::aws::{ConnectOptions, Reader, Writer};
use crate::domain::exit;
use crate::domain::facts::{Fact, FactError, Subscription};
use crate::domain::facts::{ForwardFacts, RealtimeFacts, RuleFacts};
use crate::domain::realtime::{envelope, render_message, FORWARD_RULE, RULE_REGION};
use crate::domain::text::fmt_time;

/// What the drill reads and the one thing it writes.
pub trait DrillApi: Sync {
    fn configured_region(&self) -> String;
    /// Regions of the log groups the trails deliver to.
    fn log_group_regions(&self) -> impl Future<Output = Result<Vec<String>, FactError>> + Send;
    /// The alarm's actions, or `None` when there is no such alarm.
    fn alarm_actions(
        &self,
        region: &str,
        alarm: &str,
    ) -> impl Future<Output = Result<Option<Vec<String>>, FactError>> + Send;
    fn subscriptions(
        &self,
        topic_arn: &str,
    ) -> impl Future<Output = Fact<Vec<Subscription>>> + Send;
    fn set_alarm(
        &self,
        region: &str,
        alarm: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), FactError>> + Send;
}

/// The account as the drill sees it: a reader and the writer for the alarm.
pub struct Live<'a> {
    pub reader: &'a Reader,
    pub writer: &'a Writer,
}

impl DrillApi for Live<'_> {
    fn configured_region(&self) -> String {
        self.reader.region()
    }
    fn log_group_regions(&self) -> impl Future<Output = Result<Vec<String>, FactError>> + Send {
        self.reader.trail_log_group_regions()
    }
    fn alarm_actions(
        &self,
        region: &str,
        alarm: &str,
    ) -> impl Future<Output = Result<Option<Vec<String>>, FactError>> + Send {
        self.reader.alarm_actions(region, alarm)
    }
    async fn subscriptions(&self, topic_arn: &str) -> Fact<Vec<Subscription>> {
        self.reader.topic_facts(topic_arn).await.subscriptions
    }
    fn set_alarm(
        &self,
        region: &str,
        alarm: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), FactError>> + Send {
        self.writer.set_alarm(region, alarm, reason)
    }
}

/// Why the drill did not run.
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error("cannot look for alarm {alarm}: {}", .error.describe())]
    Read { alarm: String, error: FactError },
    #[error("alarm {alarm} does not exist in {} (the configured region and those of the trails' log groups): deploy it with `rootguard deploy --email ADDR`", .regions.join(", "))]
    NotFound { alarm: String, regions: Vec<String> },
    #[error("failed to set alarm {alarm} to ALARM: {}", .error.describe())]
    SetAlarm { alarm: String, error: FactError },
}

impl DrillError {
    pub fn exit_code(&self) -> u8 {
        match self {
            DrillError::SetAlarm { .. } => exit::FAILED,
            _ => exit::USAGE,
        }
    }
}

/// What the drill did and who it reached.
#[derive(Debug)]
pub struct DrillReport {
    pub alarm: String,
    pub region: String,
    /// Each SNS action of the alarm with its subscriptions.
    pub topics: Vec<(String, Fact<Vec<Subscription>>)>,
}

/// Finds the alarm (the configured region, then the trails' log-group
/// regions, all at once), fires it, and reads every topic's subscribers at once.
pub async fn drill(
    api: &impl DrillApi,
    alarm: &str,
    reason: &str,
) -> Result<DrillReport, DrillError> {
    let read_err = |error| DrillError::Read {
        alarm: alarm.to_string(),
        error,
    };
    let regions = candidate_regions(
        &api.configured_region(),
        &api.log_group_regions().await.map_err(read_err)?,
    );
    let found = futures::future::try_join_all(
        regions
            .iter()
            .map(|r| async move { Ok::<_, FactError>((r, api.alarm_actions(r, alarm).await?)) }),
    )
    .await
    .map_err(read_err)?;
    let (region, actions) = found
        .into_iter()
        .find_map(|(r, a)| a.map(|a| (r.clone(), a)))
        .ok_or_else(|| DrillError::NotFound {
            alarm: alarm.to_string(),
            regions: regions.clone(),
        })?;
    api.set_alarm(&region, alarm, reason)
        .await
        .map_err(|error| DrillError::SetAlarm {
            alarm: alarm.to_string(),
            error,
        })?;
    let topics: Vec<String> = actions
        .into_iter()
        .filter(|a| a.split(':').nth(2) == Some("sns"))
        .collect();
    let subs = futures::future::join_all(topics.iter().map(|t| api.subscriptions(t))).await;
    Ok(DrillReport {
        alarm: alarm.to_string(),
        region,
        topics: topics.into_iter().zip(subs).collect(),
    })
}

impl DrillReport {
    /// Confirmed subscribers over all topics.
    pub fn reached(&self) -> usize {
        self.topics
            .iter()
            .map(|(_, s)| {
                s.as_ref()
                    .map_or(0, |s| s.iter().filter(|x| x.confirmed()).count())
            })
            .sum()
    }

    /// `FAILED` when nobody received the drill.
    pub fn exit_code(&self) -> u8 {
        if self.reached() == 0 {
            exit::FAILED
        } else {
            exit::OK
        }
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "alarm {} set to ALARM in {} (CloudWatch returns it to OK at its next evaluation)\n",
            self.alarm, self.region
        );
        if self.topics.is_empty() {
            out += "warning: the alarm has no SNS action, so the drill notified nobody\n";
        }
        for (arn, subs) in &self.topics {
            out += &subscribers_line(arn, subs);
        }
        if self.reached() == 0 {
            out += "warning: no confirmed subscriber: nobody received this drill. Confirm the subscription email, then run the drill again.\n";
        } else {
            out += &format!(
                "check the inbox(es) above for an ALARM notification for {}\n",
                self.alarm
            );
        }
        out
    }
}

/// "topic ARN: N confirmed subscriber(s) (who), M pending confirmation".
pub fn subscribers_line(arn: &str, subs: &Fact<Vec<Subscription>>) -> String {
    let esc = crate::domain::text::escape;
    match subs {
        Ok(subs) => {
            let confirmed: Vec<String> = subs
                .iter()
                .filter(|s| s.confirmed())
                .map(|s| esc(&s.endpoint))
                .collect();
            let pending = subs.len() - confirmed.len();
            format!(
                "topic {}: {} confirmed subscriber(s){}{}\n",
                esc(arn),
                confirmed.len(),
                if confirmed.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", confirmed.join(", "))
                },
                if pending > 0 {
                    format!(", {pending} pending confirmation")
                } else {
                    String::new()
                }
            )
        }
        Err(e) => format!(
            "topic {}: subscriptions unknown: {}\n",
            esc(arn),
            e.describe()
        ),
    }
}

// ------------------------------------------------------------ alarm test --realtime

/// What the real-time drill reads (the rule, its pattern proven by
/// `TestEventPattern`, its topics) and the one thing it writes.
pub trait RealtimeApi: Sync {
    fn rule(&self) -> impl Future<Output = Fact<RealtimeFacts>> + Send;
    fn publish(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), FactError>> + Send;
}

impl RealtimeApi for Live<'_> {
    fn rule(&self) -> impl Future<Output = Fact<RealtimeFacts>> + Send {
        self.reader.realtime()
    }
    fn publish(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), FactError>> + Send {
        self.writer.publish(topic_arn, subject, message)
    }
}

/// Why the real-time drill did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum RealtimeDrillError {
    #[error("cannot read the real-time rules: {}", .0.describe())]
    Read(FactError),
    #[error("there is no rootguard EventBridge rule in {RULE_REGION}: deploy them with `rootguard deploy --email ADDR`")]
    NoRule,
    #[error("--region {0}: not an enabled region of this account other than {RULE_REGION} (those forward to {RULE_REGION}; drill {RULE_REGION} without --region)")]
    NotForwarded(String),
    #[error("failed to publish the test message to {topic}: {}", .error.describe())]
    Publish { topic: String, error: FactError },
}

impl RealtimeDrillError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RealtimeDrillError::Publish { .. } => exit::FAILED,
            _ => exit::USAGE,
        }
    }
}

/// The subject of the drill's message.
pub const REALTIME_DRILL_SUBJECT: &str = "[TEST] rootguard real-time root alert drill";

/// The drill's message: marked as a test, then what a real alert reads like
/// (the root API call from `region`, when one region is drilled).
pub fn realtime_drill_message(caller_arn: &str, at: &str, region: Option<&str>) -> String {
    let example = crate::domain::rootactivity::corpus()
        .iter()
        .find(|e| e.name == "root-console-signin-success")
        .and_then(|e| {
            let kind = crate::domain::realtime::kind(crate::domain::realtime::kind_for(&e.json)?)?;
            Some(render_message(kind, &envelope(&e.json)))
        })
        .unwrap_or_default();
    let example = match region {
        None => example,
        Some(r) => crate::domain::rootactivity::corpus()
            .iter()
            .find(|e| e.name == "root-api-call-regional")
            .map(|e| {
                let mut env = envelope(&e.json);
                env["region"] = serde_json::Value::String(r.to_string());
                let kind = crate::domain::realtime::kind(crate::domain::realtime::RULE_NAME);
                kind.map(|k| render_message(k, &env)).unwrap_or_default()
            })
            .unwrap_or(example),
    };
    format!(
        "[TEST] rootguard real-time drill by {caller_arn} at {at}{}. No root activity happened. \
         A real alert reads like this:\n\n{example}",
        region
            .map(|r| format!(" for {r} (forwarded to {RULE_REGION})"))
            .unwrap_or_default()
    )
}

/// What the real-time drill proved and who it reached.
#[derive(Debug)]
pub struct RealtimeReport {
    /// Each kind's rule (missing ones named).
    pub rules: Vec<(&'static str, Option<RuleFacts>)>,
    /// With `--region`: that region and its forwarding rule.
    pub region: Option<(String, Option<ForwardFacts>)>,
    /// Each SNS target the test message went through, with its subscriptions.
    pub topics: Vec<(String, Fact<Vec<Subscription>>)>,
}

/// Reads the rules (each pattern judged by `TestEventPattern` on the corpus)
/// and, with `region`, that region's forwarding, then publishes `message`
/// once through each distinct SNS target.
pub async fn realtime_drill(
    api: &impl RealtimeApi,
    message: &str,
    region: Option<&str>,
) -> Result<RealtimeReport, RealtimeDrillError> {
    let facts = api.rule().await.map_err(RealtimeDrillError::Read)?;
    if facts.is_absent() {
        return Err(RealtimeDrillError::NoRule);
    }
    let region = match region {
        None => None,
        Some(r) => {
            let regions = facts
                .forwarding
                .as_ref()
                .map_err(|e| RealtimeDrillError::Read(e.clone()))?;
            let (_, f) = regions
                .iter()
                .find(|(name, _)| name == r)
                .ok_or_else(|| RealtimeDrillError::NotForwarded(r.to_string()))?;
            let f = f.clone().map_err(RealtimeDrillError::Read)?;
            Some((r.to_string(), f))
        }
    };
    let mut topics: Vec<(String, Fact<Vec<Subscription>>)> = Vec::new();
    for t in facts
        .rules
        .iter()
        .filter_map(|(_, r)| r.as_ref())
        .flat_map(|r| &r.topics)
    {
        if topics.iter().any(|(arn, _)| *arn == t.arn) {
            continue;
        }
        api.publish(&t.arn, REALTIME_DRILL_SUBJECT, message)
            .await
            .map_err(|error| RealtimeDrillError::Publish {
                topic: t.arn.clone(),
                error,
            })?;
        topics.push((t.arn.clone(), t.subscriptions.clone()));
    }
    Ok(RealtimeReport {
        rules: facts.rules,
        region,
        topics,
    })
}

impl RealtimeReport {
    /// Every kind's rule is there and enabled for read-only calls too, every
    /// `TestEventPattern` answer is what it must be, and a drilled region forwards.
    pub fn pattern_ok(&self) -> bool {
        let rules = self.rules.iter().all(|(_, r)| {
            r.as_ref().is_some_and(|r| {
                r.enabled
                    && r.read_only_events
                    && r.tests
                        .iter()
                        .all(|(_, should, got)| got.as_ref().is_ok_and(|m| m == should))
            })
        });
        let region = match &self.region {
            None => true,
            Some((_, f)) => f
                .as_ref()
                .is_some_and(|f| f.enabled && f.read_only_events && f.pattern_ok && f.target_ok),
        };
        rules && region
    }

    pub fn reached(&self) -> usize {
        self.topics
            .iter()
            .map(|(_, s)| {
                s.as_ref()
                    .map_or(0, |s| s.iter().filter(|x| x.confirmed()).count())
            })
            .sum()
    }

    /// `FAILED` when a pattern is wrong, a drilled region does not forward,
    /// or nobody would receive an alert.
    pub fn exit_code(&self) -> u8 {
        if self.topics.is_empty() || !self.pattern_ok() || self.reached() == 0 {
            exit::FAILED
        } else {
            exit::OK
        }
    }

    pub fn text(&self) -> String {
        let esc = crate::domain::text::escape;
        let mut out = String::new();
        for (name, rule) in &self.rules {
            let Some(rule) = rule else {
                out += &format!("rule {name} ({RULE_REGION}): MISSING\n");
                continue;
            };
            out += &format!(
                "rule {} ({})\n",
                esc(&rule.arn),
                if !rule.enabled {
                    "DISABLED"
                } else if !rule.read_only_events {
                    "ENABLED without read-only calls"
                } else {
                    "enabled"
                }
            );
            let said = |m: bool| if m { "matched" } else { "not matched" };
            let (mut right, mut shown) = (0, String::new());
            for (event, should, got) in &rule.tests {
                match got {
                    Ok(m) if m == should => {
                        right += 1;
                        if *should {
                            shown += &format!("  TestEventPattern ok       {event}: matched\n");
                        }
                    }
                    Ok(m) => {
                        shown += &format!(
                            "  TestEventPattern WRONG    {event}: {} but must {}\n",
                            said(*m),
                            if *should { "match" } else { "not match" }
                        )
                    }
                    Err(e) => {
                        shown += &format!("  TestEventPattern unknown  {event}: {}\n", e.describe())
                    }
                }
            }
            out += &shown;
            out += &format!(
                "  TestEventPattern ok       {right} of {} corpus events as they must be\n",
                rule.tests.len()
            );
        }
        if let Some((region, f)) = &self.region {
            out += &match f {
                None => format!(
                    "region {region}: no forwarding rule {FORWARD_RULE}: root activity there reaches nobody in real time\n"
                ),
                Some(f) if f.enabled && f.read_only_events && f.pattern_ok && f.target_ok => format!(
                    "region {region}: rule {FORWARD_RULE} forwards root activity (read-only calls too) to {RULE_REGION} through its role\n"
                ),
                Some(_) => format!(
                    "region {region}: rule {FORWARD_RULE} is broken (state, pattern or target); `rootguard deploy` resets it\n"
                ),
            };
        }
        if self.topics.is_empty() {
            out += "warning: the rules have no SNS target, so nobody would be told\n";
            return out;
        }
        for (arn, subs) in &self.topics {
            out += &subscribers_line(arn, subs);
        }
        if !self.pattern_ok() {
            out += "warning: root activity would not be reported as it should; `rootguard deploy` resets the rules\n";
        } else if self.reached() == 0 {
            out += "warning: no confirmed subscriber: nobody received this drill. Confirm the subscription email, then run the drill again.\n";
        } else {
            out += "check the inbox(es) above for the [TEST] message\n";
        }
        out
    }
}

// ------------------------------------------------------------ the edges

/// `rootguard alarm test`: the fire drill through the session's reader and writer.
pub async fn run(opts: &ConnectOptions, alarm: &str) -> Outcome {
    let (reader, writer, caller) = connect(opts).await?;
    let reason = format!(
        "rootguard fire drill by {} at {}: testing that root-activity alarms reach a person. This is a test, not root activity.",
        caller.arn,
        fmt_time(OffsetDateTime::now_utc())
    );
    let api = Live {
        reader: &reader,
        writer: &writer,
    };
    let report = drill(&api, alarm, &reason).await.map_err(|e| Stop {
        code: e.exit_code(),
        message: e.to_string(),
    })?;
    out!("{}", report.text());
    Ok(report.exit_code())
}

/// `rootguard alarm test --realtime [--region R]`.
pub async fn run_realtime(opts: &ConnectOptions, region: Option<&str>) -> Outcome {
    let (reader, writer, caller) = connect(opts).await?;
    let api = Live {
        reader: &reader,
        writer: &writer,
    };
    let message = realtime_drill_message(&caller.arn, &fmt_time(OffsetDateTime::now_utc()), region);
    let report = realtime_drill(&api, &message, region)
        .await
        .map_err(|e| Stop {
            code: e.exit_code(),
            message: e.to_string(),
        })?;
    out!("{}", report.text());
    Ok(report.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::FactErrorKind;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Fake {
        lg_regions: Vec<String>,
        alarms: HashMap<String, Vec<String>>,
        subs: HashMap<String, Fact<Vec<Subscription>>>,
        refuse_set: bool,
        fired: Mutex<Vec<(String, String)>>,
    }

    impl DrillApi for Fake {
        fn configured_region(&self) -> String {
            "eu-west-1".into()
        }
        async fn log_group_regions(&self) -> Result<Vec<String>, FactError> {
            Ok(self.lg_regions.clone())
        }
        async fn alarm_actions(
            &self,
            region: &str,
            _alarm: &str,
        ) -> Result<Option<Vec<String>>, FactError> {
            Ok(self.alarms.get(region).cloned())
        }
        async fn subscriptions(&self, arn: &str) -> Fact<Vec<Subscription>> {
            self.subs.get(arn).cloned().unwrap_or(Ok(Vec::new()))
        }
        async fn set_alarm(
            &self,
            region: &str,
            alarm: &str,
            _reason: &str,
        ) -> Result<(), FactError> {
            if self.refuse_set {
                return Err(FactError::new(
                    "cloudwatch:SetAlarmState",
                    FactErrorKind::AccessDenied,
                    "denied",
                ));
            }
            self.fired
                .lock()
                .unwrap()
                .push((region.into(), alarm.into()));
            Ok(())
        }
    }

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:rootguard-root-activity";

    fn sub(endpoint: &str, confirmed: bool) -> Subscription {
        Subscription {
            protocol: "email".into(),
            endpoint: endpoint.into(),
            arn: if confirmed {
                format!("{TOPIC}:1")
            } else {
                "PendingConfirmation".into()
            },
        }
    }

    fn chain_in_us_east_1(subs: Fact<Vec<Subscription>>) -> Fake {
        Fake {
            lg_regions: vec!["us-east-1".into()],
            alarms: HashMap::from([("us-east-1".to_string(), vec![TOPIC.to_string()])]),
            subs: HashMap::from([(TOPIC.to_string(), subs)]),
            ..Fake::default()
        }
    }

    #[tokio::test]
    async fn the_alarm_is_found_where_the_chain_lives_and_fired_there() {
        let fake = chain_in_us_east_1(Ok(vec![
            sub("a@example.com", true),
            sub("b@example.com", false),
        ]));
        let r = drill(&fake, "rootguard-root-activity", "drill")
            .await
            .unwrap();
        assert_eq!(r.region, "us-east-1");
        assert_eq!(
            fake.fired.lock().unwrap().as_slice(),
            [(
                "us-east-1".to_string(),
                "rootguard-root-activity".to_string()
            )]
        );
        assert_eq!(r.exit_code(), exit::OK);
        assert!(r
            .text()
            .contains("1 confirmed subscriber(s) (a@example.com), 1 pending confirmation"));
    }

    #[tokio::test]
    async fn nobody_confirmed_or_unreadable_subscribers_is_exit_1() {
        let pending = chain_in_us_east_1(Ok(vec![sub("b@example.com", false)]));
        let r = drill(&pending, "rootguard-root-activity", "drill")
            .await
            .unwrap();
        assert_eq!(r.exit_code(), exit::FAILED);
        assert!(r.text().contains("nobody received this drill"));

        let unknown = chain_in_us_east_1(Err(FactError::new(
            "sns:ListSubscriptionsByTopic",
            FactErrorKind::AccessDenied,
            "denied",
        )));
        let r = drill(&unknown, "rootguard-root-activity", "drill")
            .await
            .unwrap();
        assert_eq!(r.exit_code(), exit::FAILED);
        assert!(r.text().contains("subscriptions unknown"));
    }

    #[tokio::test]
    async fn a_missing_alarm_names_the_regions_searched_and_fires_nothing() {
        let fake = Fake {
            lg_regions: vec!["us-east-1".into()],
            ..Fake::default()
        };
        let e = drill(&fake, "x", "drill").await.unwrap_err();
        assert_eq!(e.exit_code(), exit::USAGE);
        assert!(
            e.to_string()
                .contains("does not exist in eu-west-1, us-east-1"),
            "{e}"
        );
        assert!(fake.fired.lock().unwrap().is_empty());

        let refused = Fake {
            refuse_set: true,
            ..chain_in_us_east_1(Ok(vec![]))
        };
        let e = drill(&refused, "rootguard-root-activity", "drill")
            .await
            .unwrap_err();
        assert_eq!(e.exit_code(), exit::FAILED);
        assert!(e.to_string().contains("cloudwatch:SetAlarmState"), "{e}");
    }

    /// A real-time rule in memory and what was published through it.
    struct FakeRule {
        rule: Fact<RealtimeFacts>,
        published: Mutex<Vec<(String, String, String)>>,
    }

    impl RealtimeApi for FakeRule {
        async fn rule(&self) -> Fact<RealtimeFacts> {
            self.rule.clone()
        }
        async fn publish(&self, arn: &str, subject: &str, message: &str) -> Result<(), FactError> {
            self.published
                .lock()
                .unwrap()
                .push((arn.into(), subject.into(), message.into()));
            Ok(())
        }
    }

    fn rule(enabled: bool, wrong: bool, subs: Vec<Subscription>) -> FakeRule {
        let rules = crate::domain::realtime::KINDS
            .iter()
            .map(|k| {
                let tests = crate::domain::realtime::expectations(k)
                    .into_iter()
                    .map(|(name, should, _)| (name, should, Ok(should ^ (wrong && !should))))
                    .collect();
                (
                    k.rule,
                    Some(RuleFacts {
                        arn: crate::domain::realtime::rule_arn_of("111122223333", k.rule),
                        enabled,
                        read_only_events: enabled,
                        pattern: "{}".into(),
                        targets: vec![TOPIC.into()],
                        topics: vec![crate::domain::facts::Topic {
                            arn: TOPIC.into(),
                            exists: Ok(true),
                            subscriptions: Ok(subs.clone()),
                            policy: None,
                            kms_key: None,
                        }],
                        tests,
                    }),
                )
            })
            .collect();
        let fwd = ForwardFacts {
            enabled: true,
            read_only_events: true,
            pattern_ok: true,
            target_ok: true,
        };
        FakeRule {
            rule: Ok(RealtimeFacts {
                rules,
                forwarding: Ok(vec![
                    ("eu-west-1".into(), Ok(Some(fwd))),
                    ("us-west-2".into(), Ok(None)),
                ]),
            }),
            published: Mutex::new(Vec::new()),
        }
    }

    #[tokio::test]
    async fn realtime_drill_publishes_a_marked_test_once_per_topic_and_reports_subscribers() {
        let fake = rule(true, false, vec![sub("a@example.com", true)]);
        let message = realtime_drill_message(
            "arn:aws:iam::111122223333:user/me",
            "2026-12-03 12:00 UTC",
            None,
        );
        let r = realtime_drill(&fake, &message, None).await.unwrap();
        let sent = fake.published.lock().unwrap();
        assert_eq!(sent.len(), 1, "five rules, one topic: one message");
        assert_eq!(sent[0].0, TOPIC);
        assert!(sent[0].1.starts_with("[TEST]"));
        assert!(sent[0]
            .2
            .starts_with("[TEST] rootguard real-time drill by arn:aws:iam::111122223333:user/me"));
        assert!(
            sent[0].2.contains("ROOT CONSOLE SIGN-IN"),
            "the example alert is included"
        );
        assert!(r.pattern_ok());
        assert_eq!(r.exit_code(), exit::OK);
        let text = r.text();
        assert!(text.contains("(enabled)"), "{text}");
        assert!(text.contains("TestEventPattern ok"), "{text}");
        assert!(
            text.contains("1 confirmed subscriber(s) (a@example.com)"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn realtime_drill_of_a_region_checks_its_forwarding() {
        let fake = rule(true, false, vec![sub("a@example.com", true)]);
        let m = realtime_drill_message("me", "now", Some("eu-west-1"));
        assert!(m.contains("for eu-west-1 (forwarded to us-east-1)"), "{m}");
        assert!(
            m.contains("RunInstances") && m.contains("in eu-west-1"),
            "{m}"
        );
        let r = realtime_drill(&fake, &m, Some("eu-west-1")).await.unwrap();
        assert_eq!(r.exit_code(), exit::OK, "{}", r.text());
        assert!(r
            .text()
            .contains("region eu-west-1: rule rootguard-root-forward forwards"));
        let r = realtime_drill(&fake, &m, Some("us-west-2")).await.unwrap();
        assert_eq!(r.exit_code(), exit::FAILED);
        assert!(
            r.text().contains("region us-west-2: no forwarding rule"),
            "{}",
            r.text()
        );
        let e = realtime_drill(&fake, &m, Some("ap-south-2"))
            .await
            .unwrap_err();
        assert_eq!(e.exit_code(), exit::USAGE);
        assert!(e.to_string().contains("--region ap-south-2"), "{e}");
    }

    #[tokio::test]
    async fn realtime_drill_is_exit_1_when_nobody_hears_or_the_pattern_is_wrong() {
        let pending = rule(true, false, vec![sub("a@example.com", false)]);
        let r = realtime_drill(&pending, "m", None).await.unwrap();
        assert_eq!(r.exit_code(), exit::FAILED);
        assert!(r.text().contains("no confirmed subscriber"));

        let wrong = rule(true, true, vec![sub("a@example.com", true)]);
        let r = realtime_drill(&wrong, "m", None).await.unwrap();
        assert_eq!(r.exit_code(), exit::FAILED);
        assert!(r.text().contains("WRONG"), "{}", r.text());

        let disabled = rule(false, false, vec![sub("a@example.com", true)]);
        let r = realtime_drill(&disabled, "m", None).await.unwrap();
        assert_eq!(r.exit_code(), exit::FAILED);
        assert!(r.text().contains("DISABLED"));
    }

    #[tokio::test]
    async fn realtime_drill_without_a_rule_or_target_says_so() {
        let mut none = rule(true, false, vec![]);
        if let Ok(f) = &mut none.rule {
            for r in f.rules.iter_mut() {
                r.1 = None;
            }
        }
        let e = realtime_drill(&none, "m", None).await.unwrap_err();
        assert_eq!(e.exit_code(), exit::USAGE);
        assert!(e.to_string().contains("rootguard deploy --email"), "{e}");

        let mut no_target = rule(true, false, vec![]);
        if let Ok(f) = &mut no_target.rule {
            for r in f.rules.iter_mut() {
                r.1.as_mut().unwrap().topics.clear();
            }
        }
        let r = realtime_drill(&no_target, "m", None).await.unwrap();
        assert!(no_target.published.lock().unwrap().is_empty());
        assert_eq!(r.exit_code(), exit::FAILED);
        assert!(r.text().contains("no SNS target"));
    }
}

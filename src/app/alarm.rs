//! `alarm test`: the fire drill. Find the alarm wherever the chain lives →
//! set it to ALARM with a reason that says it is a drill → report who the
//! notification reaches, as a [`DrillReport`].
//!
//! The reads and the one write go through [`DrillApi`], so the flow is tested
//! with a fake; printing stays at the edge. It changes nothing but the alarm's
//! state, which CloudWatch returns to OK at its next evaluation.

use std::future::Future;

use crate::app::teardown::candidate_regions;
use crate::aws::{Reader, Writer};
use crate::exit;
use crate::facts::{Fact, FactError, Subscription};

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
    let esc = crate::render::escape;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FactErrorKind;
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
}

//! `teardown`: a plan built by a pure function from the account's state in
//! every region where a chain may live, printed (text or JSON), confirmed, and
//! applied as the same value.
//!
//! The chain lives in the region of the log group it watches, which need not be
//! `--region`: the candidate regions are the configured one and the regions of
//! every log group a trail delivers to. Only resources tagged
//! `managed-by=rootguard` are deleted.

use serde::Serialize;

use crate::deploy::{self, DeployState};

/// One deletion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum TeardownStep {
    DeleteAlarm {
        region: String,
        name: String,
    },
    DeleteMetricFilter {
        region: String,
        log_group: String,
        name: String,
    },
    DeleteTopic {
        region: String,
        arn: String,
    },
    /// The real-time EventBridge rule and rootguard's target on it.
    DeleteRule {
        region: String,
        name: String,
    },
}

impl TeardownStep {
    pub fn describe(&self) -> String {
        match self {
            TeardownStep::DeleteAlarm { region, name } => format!("alarm {name} in {region}"),
            TeardownStep::DeleteMetricFilter {
                region,
                log_group,
                name,
            } => format!("metric filter {name} on {log_group} in {region}"),
            TeardownStep::DeleteTopic { region, arn } => {
                format!("sns topic {arn} and its subscriptions in {region}")
            }
            TeardownStep::DeleteRule { region, name } => {
                format!("eventbridge rule {name} and its target in {region}")
            }
        }
    }
}

/// What teardown deletes and what it leaves alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TeardownPlan {
    pub schema: &'static str,
    pub account_id: String,
    /// Regions searched for the chain.
    pub regions: Vec<String>,
    pub delete: Vec<TeardownStep>,
    /// Namesakes not tagged `managed-by=rootguard`.
    pub keep: Vec<String>,
}

pub const SCHEMA: &str = "rootguard.teardown-plan/v1";

/// One region's state: the chain's topic and alarm, and rootguard's filter on
/// the log group the alarm's tag names (read only when it is tagged).
#[derive(Clone, Debug)]
pub struct RegionState {
    pub state: DeployState,
    pub filter_on_tagged_group: bool,
}

/// The plan: per region, the filter on the log group the tagged alarm
/// records, the alarm, the rule, then the tagged topic; untagged namesakes
/// are listed as kept.
pub fn plan(account_id: &str, regions: &[String], states: &[RegionState]) -> TeardownPlan {
    let mut p = TeardownPlan {
        schema: SCHEMA,
        account_id: account_id.to_string(),
        regions: regions.to_vec(),
        ..Default::default()
    };
    let untagged = format!("not tagged {}={}", deploy::TAG_KEY, deploy::TAG_VALUE);
    for rs in states {
        let region = &rs.state.region;
        match &rs.state.alarm {
            Some(a) if a.tagged => {
                // The filter first: it is found through the alarm's tag, so
                // a run stopped between the two still finds it next time.
                if let (Some(lg), true) = (&a.log_group_tag, rs.filter_on_tagged_group) {
                    p.delete.push(TeardownStep::DeleteMetricFilter {
                        region: region.clone(),
                        log_group: lg.clone(),
                        name: deploy::FILTER_NAME.into(),
                    });
                }
                p.delete.push(TeardownStep::DeleteAlarm {
                    region: region.clone(),
                    name: deploy::ALARM_NAME.into(),
                });
            }
            Some(_) => p.keep.push(format!(
                "alarm {} in {region}: {untagged}",
                deploy::ALARM_NAME
            )),
            None => {}
        }
        match &rs.state.rule {
            Some(r) if r.tagged => p.delete.push(TeardownStep::DeleteRule {
                region: region.clone(),
                name: crate::realtime::RULE_NAME.into(),
            }),
            Some(_) => p.keep.push(format!(
                "eventbridge rule {} in {region}: {untagged}",
                crate::realtime::RULE_NAME
            )),
            None => {}
        }
        match &rs.state.topic {
            Some(t) if t.tagged => p.delete.push(TeardownStep::DeleteTopic {
                region: region.clone(),
                arn: t.arn.clone(),
            }),
            Some(t) => p.keep.push(format!("sns topic {}: {untagged}", t.arn)),
            None => {}
        }
    }
    p
}

impl TeardownPlan {
    pub fn is_noop(&self) -> bool {
        self.delete.is_empty()
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "teardown plan for account {} (searched {})\n",
            self.account_id,
            self.regions.join(", ")
        );
        for d in &self.delete {
            out.push_str(&format!("  delete  {}\n", d.describe()));
        }
        for k in &self.keep {
            out.push_str(&format!("  keep    {k}\n"));
        }
        out.push_str(&format!(
            "trails, log groups and anything not tagged {}={} are left alone\n",
            deploy::TAG_KEY,
            deploy::TAG_VALUE
        ));
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// The regions to search: the configured one first, then every region of a
/// log group some trail delivers to, without repeats.
pub fn candidate_regions(configured: &str, log_group_regions: &[String]) -> Vec<String> {
    let mut out = vec![configured.to_string()];
    for r in log_group_regions {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::{AlarmState, TopicState};

    fn state(region: &str, alarm: Option<bool>, topic: Option<bool>) -> RegionState {
        RegionState {
            state: DeployState {
                account_id: "111122223333".into(),
                region: region.into(),
                log_group: String::new(),
                topic: topic.map(|tagged| TopicState {
                    arn: format!("arn:aws:sns:{region}:111122223333:rootguard-root-activity"),
                    tagged,
                    ..Default::default()
                }),
                filter: None,
                alarm: alarm.map(|tagged| AlarmState {
                    tagged,
                    log_group_tag: Some("trail-logs".into()),
                    ..Default::default()
                }),
                trail_infra: None,
                rule: None,
                account_alias: None,
            },
            filter_on_tagged_group: true,
        }
    }

    #[test]
    fn plan_deletes_tagged_resources_in_every_region_and_keeps_namesakes() {
        let regions = candidate_regions("eu-west-1", &["us-east-1".into(), "eu-west-1".into()]);
        assert_eq!(regions, ["eu-west-1", "us-east-1"]);
        let p = plan(
            "111122223333",
            &regions,
            &[
                state("eu-west-1", None, Some(false)),
                state("us-east-1", Some(true), Some(true)),
            ],
        );
        assert_eq!(
            p.delete,
            vec![
                // The filter before the alarm whose tag leads to it.
                TeardownStep::DeleteMetricFilter {
                    region: "us-east-1".into(),
                    log_group: "trail-logs".into(),
                    name: deploy::FILTER_NAME.into()
                },
                TeardownStep::DeleteAlarm {
                    region: "us-east-1".into(),
                    name: deploy::ALARM_NAME.into()
                },
                TeardownStep::DeleteTopic {
                    region: "us-east-1".into(),
                    arn: "arn:aws:sns:us-east-1:111122223333:rootguard-root-activity".into()
                },
            ]
        );
        assert_eq!(p.keep.len(), 1);
        assert!(p.keep[0].contains("eu-west-1") && p.keep[0].contains("not tagged"));
        assert!(p
            .text()
            .contains("delete  alarm rootguard-root-activity in us-east-1"));
        let j: serde_json::Value = serde_json::from_str(&p.json()).unwrap();
        assert_eq!(j["schema"], SCHEMA);
        assert_eq!(j["delete"][1]["step"], "delete_alarm");
    }

    #[test]
    fn nothing_tagged_plans_nothing() {
        let p = plan(
            "1",
            &["us-east-1".into()],
            &[state("us-east-1", Some(false), None)],
        );
        assert!(p.is_noop());
        assert_eq!(p.keep.len(), 1);
    }
}

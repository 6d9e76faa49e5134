//! `teardown`: a plan built by a pure function from the account's state in
//! every region where a chain may live, printed (text or JSON), confirmed, and
//! applied as the same value.
//!
//! The chain lives in the region of the log group it watches, which need not be
//! `--region`: the candidate regions are the configured one, the regions of
//! every log group a trail delivers to, and us-east-1 (the real-time rule, and
//! its own topic when the chain is elsewhere). Only resources tagged
//! `managed-by=rootguard` are deleted.
//!
//! The reads and deletions go through [`TeardownApi`], so reading every region,
//! planning and applying are tested with a fake.

use std::future::Future;

use serde::Serialize;

use crate::app::{apply_steps, connect, show_and_confirm, Applied, Gate, Outcome, Stop};
use crate::aws::{ConnectOptions, Reader, Writer};
use crate::domain::deploy::{self, DeployState};
use crate::domain::exit;
use crate::domain::facts::FactError;

/// What teardown reads and deletes in one account.
pub trait TeardownApi: Sync {
    fn configured_region(&self) -> String;
    /// Regions of the log groups the trails deliver to.
    fn log_group_regions(&self) -> impl Future<Output = Result<Vec<String>, FactError>> + Send;
    /// rootguard's chain (topic, alarm, rule) in `region`.
    fn state(
        &self,
        account_id: &str,
        region: &str,
    ) -> impl Future<Output = Result<DeployState, FactError>> + Send;
    /// Whether rootguard's metric filter is on `log_group` in `region`.
    fn has_filter(
        &self,
        region: &str,
        log_group: &str,
    ) -> impl Future<Output = Result<bool, FactError>> + Send;
    /// What `deploy --create-trail` built (searched in `regions` and the
    /// trail's own region).
    fn created_trail(
        &self,
        account_id: &str,
        regions: &[String],
    ) -> impl Future<Output = Result<deploy::CreatedTrail, FactError>> + Send;
    fn delete(&self, step: &TeardownStep) -> impl Future<Output = Result<(), FactError>> + Send;
}

/// The account as teardown sees it: the session's reader and writer.
pub struct Live<'a> {
    pub reader: &'a Reader,
    pub writer: &'a Writer,
}

impl TeardownApi for Live<'_> {
    fn configured_region(&self) -> String {
        self.reader.region()
    }
    fn log_group_regions(&self) -> impl Future<Output = Result<Vec<String>, FactError>> + Send {
        self.reader.trail_log_group_regions()
    }
    fn state(
        &self,
        account_id: &str,
        region: &str,
    ) -> impl Future<Output = Result<DeployState, FactError>> + Send {
        self.reader.deploy_state(account_id, region, None)
    }
    async fn has_filter(&self, region: &str, log_group: &str) -> Result<bool, FactError> {
        Ok(self
            .reader
            .rootguard_filter(region, log_group)
            .await?
            .is_some())
    }
    fn created_trail(
        &self,
        account_id: &str,
        regions: &[String],
    ) -> impl Future<Output = Result<deploy::CreatedTrail, FactError>> + Send {
        self.reader.created_trail(account_id, regions)
    }
    async fn delete(&self, step: &TeardownStep) -> Result<(), FactError> {
        let w = self.writer;
        match step {
            TeardownStep::StopLogging { region, name } => w.stop_logging(region, name).await,
            TeardownStep::DeleteTrail { region, name } => w.delete_trail(region, name).await,
            TeardownStep::DeleteLogGroup { region, name } => w.delete_log_group(region, name).await,
            TeardownStep::DeleteBucket { region, name } => {
                w.empty_and_delete_bucket(region, name).await
            }
            TeardownStep::DeleteAlarm { region, name } => w.delete_alarm(region, name).await,
            TeardownStep::DeleteMetricFilter {
                region,
                log_group,
                name,
            } => w.delete_metric_filter(region, log_group, name).await,
            TeardownStep::DeleteTopic { region, arn } => w.delete_topic(region, arn).await,
            TeardownStep::DeleteRule { region, name } => w.delete_rule(region, name).await,
            TeardownStep::DeleteRole { name } => w.delete_forward_role(name).await,
        }
    }
}

/// Reads every candidate region at once (and, where rootguard's alarm is
/// tagged, whether its filter is on the log group the tag names) and plans.
pub async fn read(
    api: &impl TeardownApi,
    account_id: &str,
    options: &TeardownOptions,
) -> Result<TeardownPlan, FactError> {
    let mut regions = candidate_regions(&api.configured_region(), &api.log_group_regions().await?);
    // The real-time rule, and its own topic when the chain is elsewhere, are in us-east-1.
    if !regions
        .iter()
        .any(|r| r == crate::domain::realtime::RULE_REGION)
    {
        regions.push(crate::domain::realtime::RULE_REGION.to_string());
    }
    let states = futures::future::try_join_all(regions.iter().map(|region| async move {
        let state = api.state(account_id, region).await?;
        let tagged_group = state
            .alarm
            .as_ref()
            .filter(|a| a.tagged)
            .and_then(|a| a.log_group_tag.clone());
        let filter_on_tagged_group = match tagged_group {
            Some(lg) => api.has_filter(region, &lg).await?,
            None => false,
        };
        Ok::<_, FactError>(RegionState {
            state,
            filter_on_tagged_group,
        })
    }));
    let (states, trail) =
        futures::future::try_join(states, api.created_trail(account_id, &regions)).await?;
    let mut p = plan(account_id, &regions, &states);
    plan_trail(&mut p, &trail, options);
    Ok(p)
}

/// `teardown`'s flags that change the plan.
#[derive(Clone, Copy, Debug, Default)]
pub struct TeardownOptions {
    /// `--delete-trail-bucket`: empty and delete the trail's bucket too.
    pub delete_trail_bucket: bool,
}

/// Deletes in the plan's order, stopping at the first failure.
pub async fn apply(
    api: &impl TeardownApi,
    plan: &TeardownPlan,
    mut on_done: impl FnMut(&str),
) -> Applied {
    // Steps run in order and stop at the first failure, so the n-th one done
    // is the plan's n-th.
    let mut done = plan.delete.iter();
    apply_steps(
        &plan.delete,
        |s| format!("{} {}", s.verb().0, s.describe()),
        |s| api.delete(s),
        |_| {
            if let Some(s) = done.next() {
                on_done(&format!("{} {}", s.verb().1, s.describe()));
            }
        },
    )
    .await
}

/// `rootguard teardown`: connect, read, print the plan, confirm, delete.
pub async fn run(
    opts: &ConnectOptions,
    dry_run: bool,
    yes: bool,
    json: bool,
    options: TeardownOptions,
) -> Outcome {
    crate::term::needs_confirmation("teardown", dry_run, yes)?;
    let (reader, writer, caller) = connect(opts).await?;
    let api = Live {
        reader: &reader,
        writer: &writer,
    };
    let plan = read(&api, &caller.account_id, &options)
        .await
        .map_err(|e| Stop::usage(format!("cannot read the current state: {}", e.describe())))?;
    let gate = Gate {
        dry_run,
        yes,
        question: "Delete these resources?",
        nothing_to_do: "nothing to delete",
    };
    let shown = if json { plan.json() } else { plan.text() };
    if !show_and_confirm(&shown, plan.is_noop(), &gate)? {
        return Ok(exit::OK);
    }
    // One verb per outcome, as `teardown --org` says it: "deleted".
    let applied = apply(&api, &plan, |d| progress!("  {d}")).await;
    if !applied.ok() {
        eprint!("{}", applied.failure_text("rootguard teardown"));
        return Ok(exit::FAILED);
    }
    Ok(exit::OK)
}

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
    /// An IAM role (global) and its inline policy named like it: the
    /// forwarding role, or the trail's role.
    DeleteRole {
        name: String,
    },
    /// The trail rootguard created stops logging first, so its bucket stops
    /// filling; it is deleted last, so a stopped run still finds its region.
    StopLogging {
        region: String,
        name: String,
    },
    DeleteTrail {
        region: String,
        name: String,
    },
    /// The log group the trail delivered to (its metric filter goes with it).
    DeleteLogGroup {
        region: String,
        name: String,
    },
    /// The trail's bucket, emptied (every version) and deleted: only with
    /// `--delete-trail-bucket`.
    DeleteBucket {
        region: String,
        name: String,
    },
}

impl TeardownStep {
    /// What is done to it, and what was done once it succeeded: every step
    /// deletes, but the trail's logging is stopped.
    pub fn verb(&self) -> (&'static str, &'static str) {
        match self {
            TeardownStep::StopLogging { .. } => ("stop", "stopped"),
            _ => ("delete", "deleted"),
        }
    }

    /// The region it is in (`None` for IAM, which is global).
    pub fn region(&self) -> Option<&str> {
        match self {
            TeardownStep::DeleteRole { .. } => None,
            TeardownStep::DeleteAlarm { region, .. }
            | TeardownStep::DeleteMetricFilter { region, .. }
            | TeardownStep::DeleteTopic { region, .. }
            | TeardownStep::DeleteRule { region, .. }
            | TeardownStep::StopLogging { region, .. }
            | TeardownStep::DeleteTrail { region, .. }
            | TeardownStep::DeleteLogGroup { region, .. }
            | TeardownStep::DeleteBucket { region, .. } => Some(region),
        }
    }

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
            TeardownStep::DeleteRole { name } => format!("iam role {name} and its policy"),
            TeardownStep::StopLogging { region, name } => {
                format!("logging of cloudtrail trail {name} in {region}")
            }
            TeardownStep::DeleteTrail { region, name } => {
                format!("cloudtrail trail {name} in {region}")
            }
            TeardownStep::DeleteLogGroup { region, name } => {
                format!("log group {name} and the logs in it in {region}")
            }
            TeardownStep::DeleteBucket { region, name } => {
                format!("s3 bucket {name} in {region}, emptied first (the trail's log files go with it)")
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
        let fwd = &rs.state.forwarding;
        let rules = rs
            .state
            .rules
            .iter()
            .map(|(n, r)| (region.as_str(), n.as_str(), r));
        let forwarders = fwd
            .rules
            .iter()
            .map(|(r, rule)| (r.as_str(), crate::domain::realtime::FORWARD_RULE, rule));
        for (region, name, r) in forwarders.chain(rules) {
            if r.tagged {
                p.delete.push(TeardownStep::DeleteRule {
                    region: region.into(),
                    name: name.into(),
                })
            } else {
                p.keep
                    .push(format!("eventbridge rule {name} in {region}: {untagged}"))
            }
        }
        match &fwd.role {
            Some(r) if r.tagged => p.delete.push(TeardownStep::DeleteRole {
                name: crate::domain::realtime::FORWARD_ROLE.into(),
            }),
            Some(_) => p.keep.push(format!(
                "iam role {}: {untagged}",
                crate::domain::realtime::FORWARD_ROLE
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

/// Adds what `--create-trail` built: stop the trail's logging first; the
/// role, the log groups and (only when asked) the bucket; the trail itself
/// last. Untagged namesakes are kept; the bucket is kept, named, unless
/// `--delete-trail-bucket`.
pub fn plan_trail(p: &mut TeardownPlan, t: &deploy::CreatedTrail, options: &TeardownOptions) {
    let untagged = format!("not tagged {}={}", deploy::TAG_KEY, deploy::TAG_VALUE);
    let mut tail = Vec::new();
    match &t.trail {
        Some(trail) if trail.tagged => {
            if trail.logging {
                p.delete.insert(
                    0,
                    TeardownStep::StopLogging {
                        region: trail.region.clone(),
                        name: deploy::TRAIL_NAME.into(),
                    },
                );
            }
            tail.push(TeardownStep::DeleteTrail {
                region: trail.region.clone(),
                name: deploy::TRAIL_NAME.into(),
            });
        }
        Some(trail) => p.keep.push(format!(
            "cloudtrail trail {} in {}: {untagged}",
            deploy::TRAIL_NAME,
            trail.region
        )),
        None => {}
    }
    match t.role {
        Some(true) => p.delete.push(TeardownStep::DeleteRole {
            name: deploy::TRAIL_ROLE.into(),
        }),
        Some(false) => p
            .keep
            .push(format!("iam role {}: {untagged}", deploy::TRAIL_ROLE)),
        None => {}
    }
    for (region, tagged) in &t.log_groups {
        if *tagged {
            p.delete.push(TeardownStep::DeleteLogGroup {
                region: region.clone(),
                name: deploy::TRAIL_LOG_GROUP.into(),
            });
        } else {
            p.keep.push(format!(
                "log group {} in {region}: {untagged}",
                deploy::TRAIL_LOG_GROUP
            ));
        }
    }
    for b in &t.buckets {
        if !b.tagged {
            p.keep
                .push(format!("s3 bucket {} in {}: {untagged}", b.name, b.region));
        } else if options.delete_trail_bucket {
            p.delete.push(TeardownStep::DeleteBucket {
                region: b.region.clone(),
                name: b.name.clone(),
            });
        } else {
            p.keep.push(format!(
                "s3 bucket {} in {}: it holds the trail's log files (audit evidence); \
                 `teardown --delete-trail-bucket` empties and deletes it",
                b.name, b.region
            ));
        }
    }
    p.delete.extend(tail);
}

impl TeardownPlan {
    pub fn is_noop(&self) -> bool {
        self.delete.is_empty()
    }

    pub fn text(&self) -> String {
        // Where the chain was looked for, and every region something is
        // deleted in (forwarders live in every enabled region).
        let mut regions = self.regions.clone();
        for r in self.delete.iter().filter_map(TeardownStep::region) {
            if !regions.iter().any(|x| x == r) {
                regions.push(r.to_string());
            }
        }
        let mut out = format!(
            "teardown plan for account {} (in {})\n",
            self.account_id,
            if regions.len() > 3 {
                format!("{} regions: {}", regions.len(), regions.join(", "))
            } else {
                regions.join(", ")
            }
        );
        // Forwarding rules of one name (one per enabled region, often
        // sixteen) share one line naming their regions, as deploy's plan
        // does; the JSON keeps a step per region.
        let mut i = 0;
        while i < self.delete.len() {
            if let TeardownStep::DeleteRule { name, .. } = &self.delete[i] {
                let regions: Vec<&str> = self.delete[i..]
                    .iter()
                    .map_while(|s| match s {
                        TeardownStep::DeleteRule { name: n, region } if n == name => {
                            Some(region.as_str())
                        }
                        _ => None,
                    })
                    .collect();
                if regions.len() > 1 {
                    out.push_str(&format!(
                        "  delete  eventbridge rule {name} and its target in {} regions: {}\n",
                        regions.len(),
                        regions.join(", ")
                    ));
                    i += regions.len();
                    continue;
                }
            }
            let d = &self.delete[i];
            out.push_str(&format!("  {:<7} {}\n", d.verb().0, d.describe()));
            i += 1;
        }
        for k in &self.keep {
            out.push_str(&format!("  keep    {k}\n"));
        }
        out.push_str(&format!(
            "{} to delete, {} kept\n",
            self.delete.len(),
            self.keep.len()
        ));
        out.push_str(&format!(
            "anything not tagged {}={} is left alone, and so is the trail's bucket unless --delete-trail-bucket\n",
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
    use crate::domain::deploy::{AlarmState, TopicState};

    #[test]
    fn forwarders_in_many_regions_share_one_line_and_the_json_keeps_each() {
        let regions: Vec<String> = (1..=16).map(|n| format!("xx-test-{n}")).collect();
        let mut delete: Vec<TeardownStep> = regions
            .iter()
            .map(|r| TeardownStep::DeleteRule {
                region: r.clone(),
                name: "rootguard-root-forward".into(),
            })
            .collect();
        delete.push(TeardownStep::DeleteRole {
            name: "rootguard-events-forward".into(),
        });
        delete.push(TeardownStep::StopLogging {
            region: "us-east-1".into(),
            name: "rootguard-management-events".into(),
        });
        let plan = TeardownPlan {
            schema: SCHEMA,
            account_id: "111122223333".into(),
            regions: vec!["us-east-1".into()],
            delete,
            keep: vec![],
        };
        let text = plan.text();
        let forward: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("rootguard-root-forward"))
            .collect();
        assert_eq!(forward.len(), 1, "{text}");
        assert!(
            forward[0].contains("in 16 regions: xx-test-1, xx-test-2"),
            "{text}"
        );
        assert!(
            text.contains("  stop    logging of cloudtrail trail"),
            "{text}"
        );
        assert!(text.contains("18 to delete, 0 kept"), "{text}");
        assert!(
            text.lines()
                .next()
                .unwrap()
                .contains("(in 17 regions: us-east-1, xx-test-1"),
            "the header names every region it deletes in: {text}"
        );
        let json: serde_json::Value = serde_json::from_str(&plan.json()).unwrap();
        assert_eq!(json["delete"].as_array().unwrap().len(), 18);
    }

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
                rules: Default::default(),
                forwarding: Default::default(),
                realtime_topic: None,
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

    /// An account in memory: the state of each region and what was deleted.
    struct Fake {
        configured: String,
        lg_regions: Vec<String>,
        states: Vec<RegionState>,
        deleted: std::sync::Mutex<Vec<TeardownStep>>,
        refuse: Option<&'static str>,
        trail: deploy::CreatedTrail,
    }

    impl TeardownApi for Fake {
        fn configured_region(&self) -> String {
            self.configured.clone()
        }
        async fn log_group_regions(&self) -> Result<Vec<String>, FactError> {
            Ok(self.lg_regions.clone())
        }
        async fn state(&self, _account_id: &str, region: &str) -> Result<DeployState, FactError> {
            Ok(self
                .states
                .iter()
                .find(|s| s.state.region == region)
                .cloned()
                .map(|s| s.state)
                .unwrap_or(DeployState {
                    region: region.into(),
                    ..Default::default()
                }))
        }
        async fn has_filter(&self, _region: &str, log_group: &str) -> Result<bool, FactError> {
            Ok(log_group == "trail-logs")
        }
        async fn created_trail(
            &self,
            _account_id: &str,
            _regions: &[String],
        ) -> Result<deploy::CreatedTrail, FactError> {
            Ok(self.trail.clone())
        }
        async fn delete(&self, step: &TeardownStep) -> Result<(), FactError> {
            if self.refuse.is_some_and(|r| step.describe().starts_with(r)) {
                return Err(FactError::new(
                    "sns:DeleteTopic",
                    crate::domain::facts::FactErrorKind::AccessDenied,
                    "no",
                ));
            }
            self.deleted.lock().unwrap().push(step.clone());
            Ok(())
        }
    }

    #[tokio::test]
    async fn reads_the_chain_in_the_log_groups_region_whatever_the_configured_one() {
        let api = Fake {
            configured: "eu-west-1".into(),
            lg_regions: vec!["us-east-1".into()],
            states: vec![state("us-east-1", Some(true), Some(true))],
            deleted: Default::default(),
            refuse: None,
            trail: Default::default(),
        };
        let p = read(&api, "111122223333", &TeardownOptions::default())
            .await
            .unwrap();
        assert_eq!(p.regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(p.delete.len(), 3, "{p:?}");
        assert!(matches!(
            &p.delete[0],
            TeardownStep::DeleteMetricFilter { log_group, .. } if log_group == "trail-logs"
        ));
        let applied = apply(&api, &p, |_| {}).await;
        assert!(applied.ok());
        assert_eq!(*api.deleted.lock().unwrap(), p.delete);
    }

    #[tokio::test]
    async fn a_refused_deletion_stops_and_names_the_rest() {
        let api = Fake {
            configured: "us-east-1".into(),
            lg_regions: vec![],
            states: vec![state("us-east-1", Some(true), Some(true))],
            deleted: Default::default(),
            refuse: Some("alarm"),
            trail: Default::default(),
        };
        let p = read(&api, "111122223333", &TeardownOptions::default())
            .await
            .unwrap();
        let applied = apply(&api, &p, |_| {}).await;
        assert_eq!(applied.done.len(), 1, "the filter went first");
        assert!(applied.failed.as_ref().unwrap().0.contains("alarm"));
        assert_eq!(applied.not_done.len(), 1);
        assert!(applied
            .failure_text("rootguard teardown")
            .contains("rootguard teardown"));
    }

    #[test]
    fn what_create_trail_built_goes_the_trail_last_and_the_bucket_only_when_asked() {
        let built = deploy::CreatedTrail {
            trail: Some(deploy::TrailSeen {
                region: "eu-west-1".into(),
                tagged: true,
                logging: true,
                bucket: Some("rootguard-cloudtrail-111122223333-eu-west-1".into()),
                log_group_region: Some("eu-west-1".into()),
            }),
            role: Some(true),
            log_groups: vec![("eu-west-1".into(), true), ("us-east-1".into(), false)],
            buckets: vec![deploy::BucketSeen {
                name: "rootguard-cloudtrail-111122223333-eu-west-1".into(),
                region: "eu-west-1".into(),
                tagged: true,
            }],
        };
        let base = plan(
            "111122223333",
            &["us-east-1".into()],
            &[state("us-east-1", Some(true), Some(true))],
        );
        let mut kept = base.clone();
        plan_trail(&mut kept, &built, &TeardownOptions::default());
        assert!(matches!(
            kept.delete.first(),
            Some(TeardownStep::StopLogging { .. })
        ));
        assert!(matches!(
            kept.delete.last(),
            Some(TeardownStep::DeleteTrail { .. })
        ));
        assert!(kept.delete.contains(&TeardownStep::DeleteRole {
            name: deploy::TRAIL_ROLE.into()
        }));
        assert!(kept.delete.contains(&TeardownStep::DeleteLogGroup {
            region: "eu-west-1".into(),
            name: deploy::TRAIL_LOG_GROUP.into()
        }));
        assert!(!kept
            .delete
            .iter()
            .any(|s| matches!(s, TeardownStep::DeleteBucket { .. })));
        let text = kept.text();
        assert!(
            text.contains("keep    s3 bucket rootguard-cloudtrail-111122223333-eu-west-1"),
            "{text}"
        );
        assert!(text.contains("--delete-trail-bucket"), "{text}");
        assert!(
            text.contains("log group rootguard-cloudtrail in us-east-1: not tagged"),
            "{text}"
        );

        let mut all = base.clone();
        plan_trail(
            &mut all,
            &built,
            &TeardownOptions {
                delete_trail_bucket: true,
            },
        );
        let n = all.delete.len();
        assert!(
            matches!(all.delete[n - 2], TeardownStep::DeleteBucket { .. }),
            "{:?}",
            all.delete
        );
        assert!(matches!(
            all.delete[n - 1],
            TeardownStep::DeleteTrail { .. }
        ));

        // Not logging: no stop; untagged trail: kept, nothing of it deleted.
        let mut quiet = built.clone();
        quiet.trail.as_mut().unwrap().logging = false;
        let mut p = base.clone();
        plan_trail(&mut p, &quiet, &TeardownOptions::default());
        assert!(!p
            .delete
            .iter()
            .any(|s| matches!(s, TeardownStep::StopLogging { .. })));
        let mut theirs = built.clone();
        theirs.trail.as_mut().unwrap().tagged = false;
        let mut p = base;
        plan_trail(&mut p, &theirs, &TeardownOptions::default());
        assert!(!p.delete.iter().any(|s| matches!(
            s,
            TeardownStep::StopLogging { .. } | TeardownStep::DeleteTrail { .. }
        )));
        assert!(
            p.keep.iter().any(|k| k.starts_with("cloudtrail trail")),
            "{:?}",
            p.keep
        );
    }
}

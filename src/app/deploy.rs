//! `deploy` (one account): choose the log group the chain watches → read what
//! exists there → build the pure `deploy::Plan` → show it → confirm → apply the
//! same value step by step.
//!
//! The reads and writes go through [`DeployApi`], so choosing the group,
//! refusing `--create-trail` beside a qualifying trail, planning and applying
//! are tested with a fake. The wizard calls the same functions. This module
//! must not hold SDK types or decide what a step does (that is `deploy`).

use std::future::Future;

use crate::app::{apply_steps, connect, show_and_confirm, Applied, Gate, Outcome, Stop};
use crate::aws::{parse_log_group_arn, ConnectOptions, Reader, Writer};
use crate::domain::checks::chain::judge_trail;
use crate::domain::deploy::{self, Action, DeployConfig, DeployState, Plan, Step, TrailInfraState};
use crate::domain::exit;
use crate::domain::facts::{Fact, FactError, Trail};

/// What finding the chain's log group reads: deploy, the wizard and `events`.
pub trait GroupReader: Sync {
    /// The region of the session (`--region`, the profile's, or the default).
    fn configured_region(&self) -> String;
    fn trails(&self) -> impl Future<Output = Fact<Vec<Trail>>> + Send;
    fn log_group_exists(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<bool, FactError>> + Send;
}

impl GroupReader for Reader {
    fn configured_region(&self) -> String {
        self.region()
    }
    fn trails(&self) -> impl Future<Output = Fact<Vec<Trail>>> + Send {
        Reader::trails(self)
    }
    fn log_group_exists(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<bool, FactError>> + Send {
        Reader::log_group_exists(self, region, name)
    }
}

/// What deploy reads and writes in one account.
pub trait DeployApi: GroupReader {
    /// rootguard's chain as it is now in `region` (the filter only on `log_group`).
    fn state(
        &self,
        account_id: &str,
        region: &str,
        log_group: Option<&str>,
    ) -> impl Future<Output = Result<DeployState, FactError>> + Send;
    /// Which of `--create-trail`'s resources exist in `region`.
    fn trail_infra(
        &self,
        account_id: &str,
        region: &str,
        bucket: &str,
    ) -> impl Future<Output = Result<TrailInfraState, FactError>> + Send;
    fn apply(
        &self,
        region: &str,
        step: &Step,
    ) -> impl Future<Output = Result<(), FactError>> + Send;
}

/// The account as deploy sees it: the session's reader and writer.
pub struct Live<'a> {
    pub reader: &'a Reader,
    pub writer: &'a Writer,
}

impl GroupReader for Live<'_> {
    fn configured_region(&self) -> String {
        self.reader.region()
    }
    fn trails(&self) -> impl Future<Output = Fact<Vec<Trail>>> + Send {
        self.reader.trails()
    }
    fn log_group_exists(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<bool, FactError>> + Send {
        self.reader.log_group_exists(region, name)
    }
}

impl DeployApi for Live<'_> {
    fn state(
        &self,
        account_id: &str,
        region: &str,
        log_group: Option<&str>,
    ) -> impl Future<Output = Result<DeployState, FactError>> + Send {
        self.reader.deploy_state(account_id, region, log_group)
    }
    fn trail_infra(
        &self,
        account_id: &str,
        region: &str,
        bucket: &str,
    ) -> impl Future<Output = Result<TrailInfraState, FactError>> + Send {
        self.reader.trail_infra(account_id, region, bucket)
    }
    fn apply(
        &self,
        region: &str,
        step: &Step,
    ) -> impl Future<Output = Result<(), FactError>> + Send {
        self.writer.apply(region, step)
    }
}

/// The log group deploy watches, where it is, and the organization trail
/// that feeds it, if one does (then the chain covers every account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChosenGroup {
    pub region: String,
    pub name: String,
    pub organization_trail: Option<String>,
}

/// Why no log group was chosen.
#[derive(Debug)]
pub enum ChooseError {
    /// No qualifying trail delivers to CloudWatch Logs (`--create-trail` fixes it).
    NoQualifyingTrail,
    Stop(Stop),
}

impl From<ChooseError> for Stop {
    fn from(e: ChooseError) -> Stop {
        match e {
            ChooseError::NoQualifyingTrail => Stop::usage(
                "no qualifying trail (multi-region, logging, read and write management events) delivers to CloudWatch Logs: \
                 fix the trail (rootguard verify --check cloudtrail), name a log group with --log-group, or let rootguard \
                 build one with `rootguard deploy --create-trail --email ADDR`",
            ),
            ChooseError::Stop(s) => s,
        }
    }
}

/// Asks which of several log groups to use: `Some(index)`, or `None` when
/// nobody can be asked (then `--log-group` must say).
pub type Ask<'a> = &'a mut dyn FnMut(&str, &[String]) -> Result<Option<usize>, Stop>;

/// The log group to use: `--log-group` (which must exist, in the session's
/// region), else the one a qualifying trail of this account feeds; with
/// several, `ask`, or require `--log-group`.
pub async fn choose_log_group(
    api: &impl GroupReader,
    account_id: &str,
    flag: Option<&str>,
    ask: Ask<'_>,
) -> Result<ChosenGroup, ChooseError> {
    if let Some(name) = flag {
        let region = api.configured_region();
        let exists = api.log_group_exists(&region, name).await.map_err(|e| {
            ChooseError::Stop(Stop::usage(format!(
                "cannot check --log-group {name}: {}",
                e.describe()
            )))
        })?;
        if !exists {
            return Err(ChooseError::Stop(Stop::usage(format!(
                "--log-group {name} does not exist in {region}: name an existing log group that your trail delivers to"
            ))));
        }
        return Ok(ChosenGroup {
            region,
            name: name.to_string(),
            organization_trail: None,
        });
    }
    let trails = api.trails().await.map_err(|e| {
        ChooseError::Stop(Stop::usage(format!(
            "cannot find a trail's log group: {}",
            e.describe()
        )))
    })?;
    let mut groups = candidate_groups(&trails, account_id);
    match groups.len() {
        0 => Err(ChooseError::NoQualifyingTrail),
        1 => Ok(groups.remove(0)),
        _ => {
            let items: Vec<String> = groups
                .iter()
                .map(|g| match &g.organization_trail {
                    Some(t) => format!("{} ({}, organization trail {t})", g.name, g.region),
                    None => format!("{} ({})", g.name, g.region),
                })
                .collect();
            match ask(
                "Several trails feed log groups; which one should carry the root-activity alarm?",
                &items,
            )
            .map_err(ChooseError::Stop)?
            {
                Some(i) if i < groups.len() => Ok(groups.remove(i)),
                _ => Err(ChooseError::Stop(Stop::usage(format!(
                    "several qualifying trails feed log groups ({}): choose one with --log-group",
                    groups
                        .iter()
                        .map(|g| g.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))),
            }
        }
    }
}

/// The log groups of this account that qualifying trails feed, once each,
/// sorted by region and name. An organization trail's group in another
/// account is not ours to change.
pub fn candidate_groups(trails: &[Trail], account_id: &str) -> Vec<ChosenGroup> {
    let mut groups: Vec<ChosenGroup> = trails
        .iter()
        .filter(|t| judge_trail(t).qualifies())
        .filter_map(|t| {
            let arn = t.log_group_arn.as_deref()?;
            if arn.split(':').nth(4).is_some_and(|a| a != account_id) {
                return None;
            }
            let (region, name) = parse_log_group_arn(arn)?;
            Some(ChosenGroup {
                region,
                name,
                organization_trail: t.organization_trail.then(|| t.name.clone()),
            })
        })
        .collect();
    groups.sort_by(|a, b| (&a.region, &a.name).cmp(&(&b.region, &b.name)));
    groups.dedup_by(|a, b| a.region == b.region && a.name == b.name);
    groups
}

/// `--create-trail` is for accounts without a qualifying trail; rootguard's
/// own trail from an earlier run does not count, so a re-run completes it.
pub fn refuse_create_trail(trails: &[Trail]) -> Result<(), Stop> {
    let theirs: Vec<String> = trails
        .iter()
        .filter(|t| t.name != deploy::TRAIL_NAME && judge_trail(t).qualifies())
        .map(|t| {
            format!(
                "{} -> {}",
                t.name,
                t.log_group_arn.as_deref().unwrap_or_default()
            )
        })
        .collect();
    if theirs.is_empty() {
        Ok(())
    } else {
        Err(Stop::usage(format!(
            "--create-trail: a qualifying trail already exists ({}): drop --create-trail and deploy on its log group",
            theirs.join(", ")
        )))
    }
}

/// Reads the current state (with `--create-trail` also the trail's
/// resources, and with the chain outside us-east-1 also the real-time rule
/// and its topic there, all concurrently) and derives the plan.
pub async fn read_plan(
    api: &impl DeployApi,
    account_id: &str,
    group: &ChosenGroup,
    config: &DeployConfig,
) -> Result<Plan, Stop> {
    use crate::domain::realtime::RULE_REGION;
    let infra = async {
        if config.create_trail {
            let bucket = config.bucket_name(account_id, &group.region);
            api.trail_infra(account_id, &group.region, &bucket)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    };
    let rule_side = async {
        if config.realtime && group.region != RULE_REGION {
            api.state(account_id, RULE_REGION, None).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (state, infra, rule_side) = tokio::join!(
        api.state(account_id, &group.region, Some(&group.name)),
        infra,
        rule_side
    );
    let unreadable =
        |e: FactError| Stop::usage(format!("cannot read the current state: {}", e.describe()));
    let mut state = state.map_err(unreadable)?;
    state.trail_infra = infra.map_err(unreadable)?;
    if let Some(there) = rule_side.map_err(unreadable)? {
        state.rules = there.rules;
        state.forwarding = there.forwarding;
        state.realtime_topic = there.topic;
        state.account_alias = there.account_alias;
    }
    Ok(deploy::plan(&state, config))
}

/// What `deploy` will change and where: the value `--dry-run` prints and apply runs.
#[derive(Debug)]
pub struct Prepared {
    pub group: ChosenGroup,
    pub plan: Plan,
}

/// Read → plan: the log group (rootguard's own with `--create-trail`, which is
/// refused beside a qualifying trail), then the state there, then the plan.
pub async fn prepare(
    api: &impl DeployApi,
    account_id: &str,
    config: &DeployConfig,
    log_group: Option<&str>,
    ask: Ask<'_>,
) -> Result<Prepared, Stop> {
    let group = if config.create_trail {
        let trails = api
            .trails()
            .await
            .map_err(|e| Stop::usage(format!("cannot list trails: {}", e.describe())))?;
        refuse_create_trail(&trails)?;
        ChosenGroup {
            region: api.configured_region(),
            name: deploy::TRAIL_LOG_GROUP.to_string(),
            organization_trail: None,
        }
    } else {
        choose_log_group(api, account_id, log_group, ask).await?
    };
    let plan = read_plan(api, account_id, &group, config).await?;
    Ok(Prepared { group, plan })
}

/// Applies every step of `plan` that is not a no-op, in order, stopping at
/// the first failure; `on_done` hears each completed step.
pub async fn apply(
    api: &impl DeployApi,
    region: &str,
    plan: &Plan,
    on_done: impl FnMut(&str),
) -> Applied {
    apply_steps(
        plan.steps.iter().filter(|s| s.action() != Action::NoOp),
        |s| {
            let verb = if s.action() == Action::Create {
                "create"
            } else {
                "update"
            };
            format!("{verb} {}", s.describe())
        },
        |s| api.apply(region, s),
        on_done,
    )
    .await
}

/// The text that asks each new subscriber to confirm, or `None` when the
/// plan subscribes nobody. With the chain outside us-east-1 each email gets
/// two confirmation messages, one per topic, and the text says so.
pub fn action_needed(plan: &Plan, then: &str) -> Option<String> {
    let mut emails: Vec<&str> = Vec::new();
    let mut realtime_topic = false;
    for s in &plan.steps {
        let email = match s {
            Step::Subscription {
                action: Action::Create,
                email,
                ..
            } => email,
            Step::RealtimeSubscription {
                action: Action::Create,
                email,
                ..
            } => {
                realtime_topic = true;
                email
            }
            _ => continue,
        };
        if !emails.contains(&email.as_str()) {
            emails.push(email);
        }
    }
    (!emails.is_empty()).then(|| {
        let one = emails.len() == 1;
        format!(
            "ACTION NEEDED: {} {} the confirmation link in the email from AWS Notifications{}; \
             until then the alarm reaches nobody.{then}",
            emails.join(", "),
            if one { "must click" } else { "must each click" },
            match (realtime_topic, one) {
                (false, _) => "",
                (true, true) => " (two emails: one for the alarm's topic, one for the real-time rule's topic in us-east-1)",
                (true, false) => " (two emails each: one for the alarm's topic, one for the real-time rule's topic in us-east-1)",
            }
        )
    })
}

/// Options of `deploy` for one account.
pub struct DeployArgs<'a> {
    pub config: DeployConfig,
    pub log_group: Option<&'a str>,
    pub dry_run: bool,
    pub yes: bool,
    pub json: bool,
}

/// `rootguard deploy`: connect, prepare, print, confirm, apply, report.
pub async fn run(opts: &ConnectOptions, args: DeployArgs<'_>) -> Outcome {
    crate::term::needs_confirmation("deploy", args.dry_run, args.yes)?;
    let (reader, writer, caller) = connect(opts).await?;
    let api = Live {
        reader: &reader,
        writer: &writer,
    };
    let prepared = prepare(
        &api,
        &caller.account_id,
        &args.config,
        args.log_group,
        &mut crate::term::select,
    )
    .await?;
    let Prepared { group, plan } = &prepared;
    if let Some(trail) = &group.organization_trail {
        progress!(
            "{} receives the organization trail {trail}: this alarm covers root activity in every account of the organization",
            group.name
        );
    }
    let gate = Gate {
        dry_run: args.dry_run,
        yes: args.yes,
        question: "Apply this plan?",
        nothing_to_do: "nothing to change: the alarm chain is deployed as planned",
    };
    let shown = if args.json { plan.json() } else { plan.text() };
    if !show_and_confirm(&shown, plan.is_noop(), &gate)? {
        return Ok(exit::OK);
    }
    let applied = apply(&api, &group.region, plan, |d| progress!("  done    {d}")).await;
    if !applied.ok() {
        eprint!("{}", applied.failure_text("rootguard deploy"));
        return Ok(exit::FAILED);
    }
    progress!(
        "deployed: root activity in {} now raises alarm {} in {}",
        group.name,
        deploy::ALARM_NAME,
        group.region
    );
    if let Some(text) = action_needed(plan, " Then run `rootguard alarm test`.") {
        eprintln!("{text}");
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::{EventSelectors, FactErrorKind, TrailStatus};
    use std::sync::Mutex;

    const ACCT: &str = "111122223333";

    fn trail(name: &str, group: Option<&str>, org: bool) -> Trail {
        Trail {
            name: name.into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/{name}"),
            home_region: "us-east-1".into(),
            multi_region: true,
            organization_trail: org,
            log_group_arn: group.map(str::to_string),
            status: Ok(TrailStatus {
                is_logging: true,
                latest_cloudwatch_logs_delivery_error: None,
            }),
            selectors: Ok(EventSelectors::Basic(vec![
                crate::domain::facts::BasicSelector {
                    read_write_type: "All".into(),
                    include_management_events: true,
                    exclude_management_event_sources: vec![],
                },
            ])),
        }
    }

    fn group_arn(account: &str, region: &str, name: &str) -> String {
        format!("arn:aws:logs:{region}:{account}:log-group:{name}:*")
    }

    /// An account in memory: its trails, which log groups exist, and the
    /// steps applied to it; `fail_on` refuses the step whose description contains it.
    #[derive(Default)]
    struct Fake {
        region: String,
        trails: Vec<Trail>,
        groups: Vec<(String, String)>,
        fail_on: Option<&'static str>,
        applied: Mutex<Vec<(String, String)>>,
        infra_reads: Mutex<usize>,
        state_reads: Mutex<Vec<String>>,
    }

    impl GroupReader for Fake {
        fn configured_region(&self) -> String {
            self.region.clone()
        }
        async fn trails(&self) -> Fact<Vec<Trail>> {
            Ok(self.trails.clone())
        }
        async fn log_group_exists(&self, region: &str, name: &str) -> Result<bool, FactError> {
            Ok(self.groups.iter().any(|(r, n)| r == region && n == name))
        }
    }

    impl DeployApi for Fake {
        async fn state(
            &self,
            account_id: &str,
            region: &str,
            log_group: Option<&str>,
        ) -> Result<DeployState, FactError> {
            self.state_reads.lock().unwrap().push(region.to_string());
            Ok(DeployState {
                account_id: account_id.into(),
                region: region.into(),
                log_group: log_group.unwrap_or_default().into(),
                ..Default::default()
            })
        }
        async fn trail_infra(
            &self,
            _account_id: &str,
            _region: &str,
            _bucket: &str,
        ) -> Result<TrailInfraState, FactError> {
            *self.infra_reads.lock().unwrap() += 1;
            Ok(TrailInfraState::default())
        }
        async fn apply(&self, region: &str, step: &Step) -> Result<(), FactError> {
            if self.fail_on.is_some_and(|f| step.describe().contains(f)) {
                return Err(FactError::new(
                    "cloudwatch:PutMetricAlarm",
                    FactErrorKind::AccessDenied,
                    "denied",
                ));
            }
            self.applied
                .lock()
                .unwrap()
                .push((step.region(region).into(), step.describe()));
            Ok(())
        }
    }

    fn config(create_trail: bool) -> DeployConfig {
        DeployConfig {
            emails: vec!["sec@example.com".into()],
            kms_key: None,
            create_trail,
            realtime: true,
            trail_bucket: None,
        }
    }

    fn never_asked() -> impl FnMut(&str, &[String]) -> Result<Option<usize>, Stop> {
        |_, _| panic!("asked with one candidate")
    }

    #[tokio::test]
    async fn the_chain_goes_where_the_trail_delivers_whatever_the_configured_region() {
        let api = Fake {
            region: "eu-west-1".into(),
            trails: vec![trail(
                "main",
                Some(&group_arn(ACCT, "us-east-1", "trail-logs")),
                false,
            )],
            ..Default::default()
        };
        let p = prepare(&api, ACCT, &config(false), None, &mut never_asked())
            .await
            .unwrap();
        assert_eq!(p.group.region, "us-east-1");
        assert_eq!(p.group.name, "trail-logs");
        assert_eq!(p.plan.log_group, "trail-logs");
        let ask = action_needed(&p.plan, "").unwrap();
        assert!(
            ask.starts_with("ACTION NEEDED: sec@example.com must"),
            "{ask}"
        );
        assert!(!ask.contains("two emails"), "{ask}");
        let applied = apply(&api, &p.group.region, &p.plan, |_| {}).await;
        assert!(applied.ok());
        let writes = api.applied.lock().unwrap();
        assert_eq!(writes.len(), p.plan.steps.len());
        assert!(writes.iter().all(|(r, _)| r == "us-east-1"), "{writes:?}");
    }

    #[tokio::test]
    async fn a_chain_outside_us_east_1_reads_and_writes_the_real_time_side_there() {
        let api = Fake {
            region: "eu-west-1".into(),
            trails: vec![trail(
                "main",
                Some(&group_arn(ACCT, "eu-west-1", "trail-logs")),
                false,
            )],
            ..Default::default()
        };
        let p = prepare(&api, ACCT, &config(false), None, &mut never_asked())
            .await
            .unwrap();
        let mut reads = api.state_reads.lock().unwrap().clone();
        reads.sort();
        assert_eq!(reads, ["eu-west-1", "us-east-1"], "both sides read");
        let ask = action_needed(&p.plan, "").unwrap();
        assert_eq!(
            ask.matches("sec@example.com").count(),
            1,
            "one email, named once: {ask}"
        );
        assert!(
            ask.contains("must click") && !ask.contains("each click"),
            "one person: {ask}"
        );
        assert!(
            ask.contains("(two emails: one for the alarm's topic"),
            "{ask}"
        );
        apply(&api, &p.group.region, &p.plan, |_| {}).await;
        let writes = api.applied.lock().unwrap();
        let in_region = |r: &str| writes.iter().filter(|(x, _)| x == r).count();
        // topic, subscription, filter, alarm here; topic, subscription, a rule per kind there.
        assert_eq!(in_region("eu-west-1"), 4, "{writes:?}");
        assert_eq!(in_region("us-east-1"), 7, "{writes:?}");
        assert!(writes
            .iter()
            .any(|(r, d)| r == "us-east-1" && d.starts_with("eventbridge rule")));
    }

    #[tokio::test]
    async fn an_organization_trail_group_here_is_named_and_one_in_another_account_is_not_ours() {
        let mut api = Fake {
            region: "us-east-1".into(),
            trails: vec![trail(
                "org",
                Some(&group_arn(ACCT, "us-east-1", "org-logs")),
                true,
            )],
            ..Default::default()
        };
        let p = prepare(&api, ACCT, &config(false), None, &mut never_asked())
            .await
            .unwrap();
        assert_eq!(p.group.organization_trail.as_deref(), Some("org"));
        api.trails = vec![trail(
            "org",
            Some(&group_arn("999988887777", "us-east-1", "org-logs")),
            true,
        )];
        let e = prepare(&api, ACCT, &config(false), None, &mut never_asked())
            .await
            .unwrap_err();
        assert!(e.message.contains("no qualifying trail"), "{}", e.message);
        assert_eq!(e.code, exit::USAGE);
    }

    #[tokio::test]
    async fn several_groups_ask_and_without_a_terminal_name_log_group() {
        let api = Fake {
            region: "us-east-1".into(),
            trails: vec![
                trail("a", Some(&group_arn(ACCT, "us-east-1", "a-logs")), false),
                trail("b", Some(&group_arn(ACCT, "eu-west-1", "b-logs")), false),
            ],
            ..Default::default()
        };
        let mut asked = Vec::new();
        let p = prepare(&api, ACCT, &config(false), None, &mut |_, items| {
            asked = items.to_vec();
            Ok(Some(1))
        })
        .await
        .unwrap();
        assert_eq!(asked, vec!["b-logs (eu-west-1)", "a-logs (us-east-1)"]);
        assert_eq!(
            (p.group.region.as_str(), p.group.name.as_str()),
            ("us-east-1", "a-logs")
        );
        let e = prepare(&api, ACCT, &config(false), None, &mut |_, _| Ok(None))
            .await
            .unwrap_err();
        assert!(
            e.message.contains("choose one with --log-group"),
            "{}",
            e.message
        );
        assert!(e.message.contains("a-logs") && e.message.contains("b-logs"));
    }

    #[tokio::test]
    async fn a_missing_log_group_flag_is_refused_before_any_state_read() {
        let api = Fake {
            region: "eu-west-1".into(),
            groups: vec![("us-east-1".into(), "there".into())],
            ..Default::default()
        };
        let e = prepare(
            &api,
            ACCT,
            &config(false),
            Some("there"),
            &mut never_asked(),
        )
        .await
        .unwrap_err();
        assert!(
            e.message
                .contains("--log-group there does not exist in eu-west-1"),
            "{}",
            e.message
        );
    }

    #[tokio::test]
    async fn create_trail_is_refused_beside_a_qualifying_trail_but_not_beside_its_own() {
        let mut api = Fake {
            region: "eu-west-1".into(),
            trails: vec![trail(
                "theirs",
                Some(&group_arn(ACCT, "us-east-1", "logs")),
                false,
            )],
            ..Default::default()
        };
        let e = prepare(&api, ACCT, &config(true), None, &mut never_asked())
            .await
            .unwrap_err();
        assert!(
            e.message.contains("theirs -> arn:aws:logs"),
            "{}",
            e.message
        );
        assert_eq!(*api.infra_reads.lock().unwrap(), 0);
        api.trails = vec![trail(
            deploy::TRAIL_NAME,
            Some(&group_arn(ACCT, "eu-west-1", deploy::TRAIL_LOG_GROUP)),
            false,
        )];
        let p = prepare(&api, ACCT, &config(true), None, &mut never_asked())
            .await
            .unwrap();
        assert_eq!(p.group.region, "eu-west-1");
        assert_eq!(p.group.name, deploy::TRAIL_LOG_GROUP);
        assert_eq!(*api.infra_reads.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn a_refused_step_stops_the_run_and_names_what_is_left() {
        let api = Fake {
            region: "us-east-1".into(),
            trails: vec![trail(
                "main",
                Some(&group_arn(ACCT, "us-east-1", "logs")),
                false,
            )],
            fail_on: Some("alarm"),
            ..Default::default()
        };
        let p = prepare(&api, ACCT, &config(false), None, &mut never_asked())
            .await
            .unwrap();
        let mut heard = Vec::new();
        let applied = apply(&api, "us-east-1", &p.plan, |d| heard.push(d.to_string())).await;
        assert!(!applied.ok());
        let (step, error) = applied.failed.clone().unwrap();
        assert!(step.contains("alarm"), "{step}");
        assert!(error.contains("cloudwatch:PutMetricAlarm"), "{error}");
        assert_eq!(heard, applied.done);
        assert_eq!(api.applied.lock().unwrap().len(), applied.done.len());
        assert_eq!(
            applied.done.len() + 1 + applied.not_done.len(),
            p.plan
                .steps
                .iter()
                .filter(|s| s.action() != Action::NoOp)
                .count()
        );
        assert!(applied
            .failure_text("rootguard deploy")
            .contains("not done"));
    }
}

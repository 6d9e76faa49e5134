//! The alarm-chain commands: deploy, teardown, the fire drill and `events`.
//!
//! Each command reads state through the adapter's `Reader`, builds a value
//! (a plan, a list of deletions, a list of events), prints it, and only then,
//! for the commands that write, asks and applies it through a `Writer`. This
//! module owns that flow and its messages; it must not hold SDK types or check
//! rules.

use std::io::IsTerminal;

use time::OffsetDateTime;

use crate::aws::{parse_log_group_arn, Caller, ConnectOptions, Reader, Writer};
use crate::checks::chain::judge_trail;
use crate::checks::fmt_time;
use crate::deploy::{self, Action, DeployConfig, Step};
use crate::exit;

/// Set by `-q`: progress lines are dropped, errors and warnings still print.
pub static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A progress line on stderr, unless `-q`.
macro_rules! progress {
    ($($arg:tt)*) => {
        if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            eprintln!($($arg)*);
        }
    };
}

/// Whether prompts can be shown: stdin and stderr must both be terminals
/// (dialoguer reads /dev/tty otherwise and would block).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// A failure that ends a command with an exit code and one message.
#[derive(Debug)]
pub struct Stop {
    pub code: u8,
    pub message: String,
}

impl Stop {
    pub fn usage(message: impl Into<String>) -> Self {
        Stop {
            code: exit::USAGE,
            message: message.into(),
        }
    }
}

pub type Outcome = Result<u8, Stop>;

pub async fn connect(opts: &ConnectOptions) -> Result<(Reader, Writer, Caller), Stop> {
    let session = crate::aws::Session::load(opts).await;
    let reader = session.reader();
    let caller = reader
        .caller()
        .await
        .map_err(|e| Stop::usage(e.to_string()))?;
    Ok((reader, session.writer(), caller))
}

fn confirm(question: &str, yes: bool) -> Result<bool, Stop> {
    if yes {
        return Ok(true);
    }
    if !interactive() {
        return Err(Stop::usage(
            "this change needs confirmation: run it in a terminal, or pass --yes (see the plan with --dry-run)",
        ));
    }
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(|e| Stop::usage(format!("no answer to the confirmation prompt: {e}")))
}

/// The log group to use: `--log-group` (which must exist), else the one a
/// qualifying trail feeds; with several, ask or require `--log-group`.
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

/// The log group to use: `--log-group` (which must exist), else the one a
/// qualifying trail feeds; with several, ask or require `--log-group`.
pub async fn choose_log_group(
    reader: &Reader,
    account_id: &str,
    flag: Option<&str>,
) -> Result<ChosenGroup, ChooseError> {
    if let Some(name) = flag {
        let region = reader.region();
        let exists = reader.log_group_exists(&region, name).await.map_err(|e| {
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
    let chain = reader
        .alarm_chain(async { Some(account_id.to_string()) })
        .await
        .map_err(|e| {
            ChooseError::Stop(Stop::usage(format!(
                "cannot find a trail's log group: {}",
                e.describe()
            )))
        })?;
    let trails = chain.trails.unwrap_or_default();
    let mut groups: Vec<(String, String, String, bool)> = trails
        .iter()
        .filter(|t| judge_trail(t).qualifies())
        .filter_map(|t| {
            let arn = t.log_group_arn.as_deref()?;
            // An organization trail's group in another account is not ours to change.
            if arn.split(':').nth(4).is_some_and(|a| a != account_id) {
                return None;
            }
            let (region, name) = parse_log_group_arn(arn)?;
            Some((region, name, t.name.clone(), t.organization_trail))
        })
        .collect();
    groups.sort();
    groups.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let pick = |(region, name, trail, org): (String, String, String, bool)| ChosenGroup {
        region,
        name,
        organization_trail: org.then_some(trail),
    };
    match groups.len() {
        0 => Err(ChooseError::NoQualifyingTrail),
        1 => Ok(pick(groups.remove(0))),
        _ if interactive() => {
            let items: Vec<String> = groups
                .iter()
                .map(|(r, n, t, o)| {
                    format!(
                        "{n} ({r}, {} {t})",
                        if *o { "organization trail" } else { "trail" }
                    )
                })
                .collect();
            let i = dialoguer::Select::new()
                .with_prompt("Several trails feed log groups; which one should carry the root-activity alarm?")
                .items(&items)
                .default(0)
                .interact()
                .map_err(|e| ChooseError::Stop(Stop::usage(format!("no log group chosen: {e}"))))?;
            Ok(pick(groups.remove(i)))
        }
        _ => Err(ChooseError::Stop(Stop::usage(format!(
            "several qualifying trails feed log groups ({}): choose one with --log-group",
            groups
                .iter()
                .map(|(_, n, _, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))),
    }
}

/// `--create-trail` is for accounts without a qualifying trail; rootguard's
/// own trail from an earlier run does not count, so a re-run completes it.
async fn refuse_if_a_trail_qualifies(reader: &Reader, account_id: &str) -> Result<(), Stop> {
    let chain = reader
        .alarm_chain(async { Some(account_id.to_string()) })
        .await
        .map_err(|e| Stop::usage(format!("cannot list trails: {}", e.describe())))?;
    let theirs: Vec<String> = chain
        .trails
        .unwrap_or_default()
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

/// Reads the current state (and, with `--create-trail`, the trail's
/// resources, concurrently) and derives the plan.
pub async fn read_plan(
    reader: &Reader,
    account_id: &str,
    region: &str,
    log_group: &str,
    config: &DeployConfig,
) -> Result<deploy::Plan, Stop> {
    let infra = async {
        if config.create_trail {
            reader.trail_infra(account_id, region).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (state, infra) = tokio::join!(
        reader.deploy_state(account_id, region, Some(log_group)),
        infra
    );
    let unreadable = |e: crate::facts::FactError| {
        Stop::usage(format!("cannot read the current state: {}", e.describe()))
    };
    let mut state = state.map_err(unreadable)?;
    state.trail_infra = infra.map_err(unreadable)?;
    Ok(deploy::plan(&state, config))
}

pub struct DeployArgs<'a> {
    pub config: DeployConfig,
    pub log_group: Option<&'a str>,
    pub dry_run: bool,
    pub yes: bool,
    pub json: bool,
}

pub async fn deploy(opts: &ConnectOptions, args: DeployArgs<'_>) -> Outcome {
    let (reader, writer, caller) = connect(opts).await?;
    let (region, log_group) = if args.config.create_trail {
        refuse_if_a_trail_qualifies(&reader, &caller.account_id).await?;
        (reader.region(), deploy::TRAIL_LOG_GROUP.to_string())
    } else {
        let chosen = choose_log_group(&reader, &caller.account_id, args.log_group)
            .await
            .map_err(Stop::from)?;
        if let Some(trail) = &chosen.organization_trail {
            progress!(
                "{} receives the organization trail {trail}: this alarm covers root activity in every account of the organization",
                chosen.name
            );
        }
        (chosen.region, chosen.name)
    };
    let plan = read_plan(
        &reader,
        &caller.account_id,
        &region,
        &log_group,
        &args.config,
    )
    .await?;
    if args.json {
        out!("{}", plan.json());
    } else {
        out!("{}", plan.text());
    }
    if args.dry_run {
        return Ok(exit::OK);
    }
    let pending: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Subscription {
                action: Action::Create,
                email,
                ..
            } => Some(email.as_str()),
            _ => None,
        })
        .collect();
    if plan.is_noop() {
        progress!("nothing to change: the alarm chain is deployed as planned");
        return Ok(exit::OK);
    }
    if !confirm("Apply this plan?", args.yes)? {
        progress!("nothing was changed");
        return Ok(exit::OK);
    }
    if !apply_plan(&writer, &region, &plan).await {
        return Ok(exit::FAILED);
    }
    progress!(
        "deployed: root activity in {log_group} now raises alarm {} in {region}",
        deploy::ALARM_NAME
    );
    if !pending.is_empty() {
        eprintln!(
            "ACTION NEEDED: {} must each click the confirmation link in the email from AWS Notifications; \
             until then the alarm reaches nobody. Then run `rootguard alarm test`.",
            pending.join(", ")
        );
    }
    Ok(exit::OK)
}

/// Applies every step that is not a no-op, in order; on a failure, says what
/// was done and what was not. Returns whether everything was applied.
pub async fn apply_plan(writer: &Writer, region: &str, plan: &deploy::Plan) -> bool {
    let mut done = Vec::new();
    for step in plan.steps.iter().filter(|s| s.action() != Action::NoOp) {
        let verb = if step.action() == Action::Create {
            "create"
        } else {
            "update"
        };
        match writer.apply(region, step).await {
            Ok(()) => {
                progress!("  done    {verb} {}", step.describe());
                done.push(step);
            }
            Err(e) => {
                eprintln!(
                    "error: failed to {verb} {}: {}",
                    step.describe(),
                    e.describe()
                );
                let left: Vec<String> = plan
                    .steps
                    .iter()
                    .filter(|s| s.action() != Action::NoOp && !done.contains(s))
                    .map(|s| format!("  not done {}", s.describe()))
                    .collect();
                eprintln!(
                    "{} step(s) done, {} not done:\n{}",
                    done.len(),
                    left.len(),
                    left.join("\n")
                );
                eprintln!("fix the cause and run `rootguard deploy` again: it completes what is missing, without duplicates");
                return false;
            }
        }
    }
    true
}

/// The regions where the chain may live: `--region`, then every region of a
/// log group a trail delivers to (deploy writes the chain beside its group).
async fn chain_regions(reader: &Reader) -> Result<Vec<String>, Stop> {
    let lg_regions = reader
        .trail_log_group_regions()
        .await
        .map_err(|e| Stop::usage(format!("cannot read the trails: {}", e.describe())))?;
    Ok(crate::app::teardown::candidate_regions(
        &reader.region(),
        &lg_regions,
    ))
}

pub async fn teardown(opts: &ConnectOptions, dry_run: bool, yes: bool, json: bool) -> Outcome {
    use crate::app::teardown::{self as td, RegionState, TeardownStep};
    let (reader, writer, caller) = connect(opts).await?;
    let regions = chain_regions(&reader).await?;
    let account = &caller.account_id;
    let states = futures::future::try_join_all(regions.iter().map(|region| {
        let reader = &reader;
        async move {
            let state = reader.deploy_state(account, region, None).await?;
            let tagged_group = state
                .alarm
                .as_ref()
                .filter(|a| a.tagged)
                .and_then(|a| a.log_group_tag.clone());
            let filter_on_tagged_group = match tagged_group {
                Some(lg) => reader
                    .deploy_state(account, region, Some(&lg))
                    .await?
                    .filter
                    .is_some(),
                None => false,
            };
            Ok::<_, crate::facts::FactError>(RegionState {
                state,
                filter_on_tagged_group,
            })
        }
    }))
    .await
    .map_err(|e| Stop::usage(format!("cannot read the current state: {}", e.describe())))?;
    let plan = td::plan(account, &regions, &states);
    if json {
        out!("{}", plan.json());
    } else {
        out!("{}", plan.text());
    }
    if dry_run || plan.is_noop() {
        if plan.is_noop() {
            progress!("nothing to delete");
        }
        return Ok(exit::OK);
    }
    if !confirm("Delete these resources?", yes)? {
        progress!("nothing was changed");
        return Ok(exit::OK);
    }
    for step in &plan.delete {
        let r = match step {
            TeardownStep::DeleteAlarm { region, name } => writer.delete_alarm(region, name).await,
            TeardownStep::DeleteMetricFilter {
                region,
                log_group,
                name,
            } => writer.delete_metric_filter(region, log_group, name).await,
            TeardownStep::DeleteTopic { region, arn } => writer.delete_topic(region, arn).await,
            TeardownStep::DeleteRule { region, name } => writer.delete_rule(region, name).await,
        };
        match r {
            Ok(()) => progress!("  deleted {}", step.describe()),
            Err(e) => {
                eprintln!(
                    "error: failed to delete {}: {}; run `rootguard teardown` again to finish",
                    step.describe(),
                    e.describe()
                );
                return Ok(exit::FAILED);
            }
        }
    }
    Ok(exit::OK)
}

/// The real-time drill: the rule's pattern proven with `TestEventPattern`,
/// then a clearly marked test message through each of its topics.
pub async fn realtime_test(opts: &ConnectOptions) -> Outcome {
    use crate::realtime::{render_message, RULE_NAME, RULE_REGION};
    let (reader, writer, caller) = connect(opts).await?;
    let rule = reader
        .realtime()
        .await
        .map_err(|e| Stop::usage(format!("cannot read the real-time rule: {}", e.describe())))?
        .ok_or_else(|| {
            Stop::usage(format!(
                "there is no EventBridge rule {RULE_NAME} in {RULE_REGION}: deploy it with `rootguard deploy --email ADDR`"
            ))
        })?;
    outln!(
        "rule {} ({})",
        rule.arn,
        if rule.enabled { "enabled" } else { "DISABLED" }
    );
    let mut pattern_ok = rule.enabled;
    for (name, should, got) in &rule.tests {
        let line = match got {
            Ok(m) if m == should => format!(
                "ok       {name}: {}",
                if *m { "matched" } else { "not matched" }
            ),
            Ok(m) => {
                pattern_ok = false;
                format!(
                    "WRONG    {name}: {} but must {}",
                    if *m { "matched" } else { "not matched" },
                    if *should { "match" } else { "not match" }
                )
            }
            Err(e) => {
                pattern_ok = false;
                format!("unknown  {name}: {}", e.describe())
            }
        };
        outln!("  TestEventPattern {line}");
    }
    if rule.topics.is_empty() {
        outln!("warning: the rule has no SNS target, so nobody would be told");
        return Ok(exit::FAILED);
    }
    let example = crate::rootactivity::corpus()
        .iter()
        .find(|e| e.name == "root-console-signin-success")
        .map(|e| render_message(&crate::realtime::envelope(&e.json)))
        .unwrap_or_default();
    let message = format!(
        "[TEST] rootguard real-time drill by {} at {}. No root activity happened. A real alert reads like this:\n\n{example}",
        caller.arn,
        fmt_time(OffsetDateTime::now_utc())
    );
    let mut reached = 0;
    for t in &rule.topics {
        writer
            .publish(
                &t.arn,
                "[TEST] rootguard real-time root alert drill",
                &message,
            )
            .await
            .map_err(|e| Stop {
                code: exit::FAILED,
                message: format!(
                    "failed to publish the test message to {}: {}",
                    t.arn,
                    e.describe()
                ),
            })?;
        reached += report_subscribers(&t.arn, &t.subscriptions);
    }
    if !pattern_ok {
        outln!("warning: the rule would not report root activity as it should; `rootguard deploy` resets it");
        return Ok(exit::FAILED);
    }
    if reached == 0 {
        outln!("warning: no confirmed subscriber: nobody received this drill. Confirm the subscription email, then run the drill again.");
        return Ok(exit::FAILED);
    }
    outln!("check the inbox(es) above for the [TEST] message");
    Ok(exit::OK)
}

/// One line per topic: confirmed and pending subscribers; returns how many confirmed.
/// Prints a topic's subscribers; the number confirmed.
fn report_subscribers(
    arn: &str,
    subs: &crate::facts::Fact<Vec<crate::facts::Subscription>>,
) -> usize {
    out!("{}", crate::app::alarm::subscribers_line(arn, subs));
    subs.as_ref()
        .map_or(0, |s| s.iter().filter(|x| x.confirmed()).count())
}

/// The fire drill: alarm -> SNS -> confirmed subscribers (`app::alarm`).
pub async fn alarm_test(opts: &ConnectOptions, alarm: &str) -> Outcome {
    let (reader, writer, caller) = connect(opts).await?;
    let reason = format!(
        "rootguard fire drill by {} at {}: testing that root-activity alarms reach a person. This is a test, not root activity.",
        caller.arn,
        fmt_time(OffsetDateTime::now_utc())
    );
    let api = crate::app::alarm::Live {
        reader: &reader,
        writer: &writer,
    };
    match crate::app::alarm::drill(&api, alarm, &reason).await {
        Ok(report) => {
            out!("{}", report.text());
            Ok(report.exit_code())
        }
        Err(e) => Err(Stop {
            code: e.exit_code(),
            message: e.to_string(),
        }),
    }
}

pub async fn events(
    opts: &ConnectOptions,
    since: time::Duration,
    log_group: Option<&str>,
    json: bool,
) -> Outcome {
    use crate::app::events::{self as app_events, EventsOptions, Source};
    let (reader, _, caller) = connect(opts).await?;
    let start = OffsetDateTime::now_utc() - since;
    let source = match choose_log_group(&reader, &caller.account_id, log_group).await {
        Ok(chosen) => Source::LogGroup {
            region: chosen.region,
            name: chosen.name,
        },
        Err(ChooseError::NoQualifyingTrail) if log_group.is_none() => Source::History,
        Err(e) => return Err(e.into()),
    };
    let show = !QUIET.load(std::sync::atomic::Ordering::Relaxed) && std::io::stderr().is_terminal();
    let report = app_events::read(
        &reader,
        &caller.account_id,
        source,
        start,
        EventsOptions { progress: show },
    )
    .await
    .map_err(|e| Stop {
        code: exit::FAILED,
        message: e.to_string(),
    })?;
    if json {
        out!("{}", report.json());
    } else {
        for w in report.warnings() {
            eprintln!("warning: {w}");
        }
        out!("{}", report.text());
    }
    Ok(report.exit_code())
}

/// Exits 2 unless stdin and stderr are terminals, pointing to the
/// non-interactive commands.
pub fn require_terminal(what: &str) -> Result<(), Stop> {
    if interactive() {
        Ok(())
    } else {
        Err(Stop::usage(format!(
            "{what} needs a terminal (stdin and stderr): it asks questions and shows QR codes. \
             For automation use `rootguard deploy` (alarm chain) and `rootguard verify` (audit)"
        )))
    }
}

/// Ctrl-C sets the prompt module's flag instead of killing the process, so
/// the flows can clean up what they created.
pub fn trap_ctrl_c() {
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            crate::prompt::INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub async fn mfa_enroll(opts: &ConnectOptions, user: &str) -> Outcome {
    require_terminal("mfa enroll")?;
    let (_, writer, caller) = connect(opts).await?;
    trap_ctrl_c();
    let api = writer.mfa();
    let mut term = crate::prompt::Terminal::default();
    match crate::mfa::enroll(&api, &mut term, user, &caller.account_id, unix_now).await {
        Ok(crate::mfa::EnrollOutcome::Enabled { serial }) => {
            progress!("MFA enabled for {user} ({serial})");
            Ok(exit::OK)
        }
        Ok(crate::mfa::EnrollOutcome::Cancelled) => {
            eprintln!("cancelled: the unassigned MFA device was deleted, nothing was enabled");
            Ok(exit::INTERRUPTED)
        }
        Err(e @ crate::mfa::EnrollError::NoSuchUser(_)) => Err(Stop::usage(e.to_string())),
        Err(e) => Err(Stop {
            code: exit::FAILED,
            message: e.to_string(),
        }),
    }
}

/// Runs `fut` while an indicatif spinner turns on stderr (drawn only on a
/// terminal; indicatif hides it on a pipe), cleared when `fut` ends.
pub async fn with_spinner<T>(message: &str, fut: impl std::future::Future<Output = T>) -> T {
    let pb = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    pb.set_message(message.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(80));
    let out = fut.await;
    pb.finish_and_clear();
    out
}

pub fn prompt_stop(e: crate::prompt::PromptError) -> Stop {
    match e {
        crate::prompt::PromptError::Interrupted => Stop {
            code: exit::INTERRUPTED,
            message:
                "stopped at your request; every change made so far was complete and is listed above"
                    .into(),
        },
        other => Stop::usage(other.to_string()),
    }
}

//! `deploy --org` and `teardown --org`: read the hub and the StackSet, build
//! the `OrgDeployPlan` (pure, in `crate::domain::orgdeploy`), print it, confirm, apply
//! the same value, and report each member's stack instance.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::app::{apply_steps, show_and_confirm, Applied, Gate, Outcome, Stop};
use crate::aws::org::OrgHandle;
use crate::aws::{ConnectOptions, Reader, Writer};
use crate::domain::deploy::Action;
use crate::domain::exit;
use crate::domain::facts::FactError;
use crate::domain::org::OrgFacts;
use crate::domain::orgdeploy::{self, OrgDeployPlan, OrgDeployState};

/// Everything `deploy --org` needs to plan, read concurrently.
pub async fn read_state(reader: &Reader, org: &OrgFacts) -> Result<OrgDeployState, FactError> {
    let regions = reader.enabled_regions().await?;
    let (root, hub, stackset) = tokio::join!(
        reader.org_root_id(),
        reader.hub_state(&org.caller_account_id, &regions),
        reader.stackset_state()
    );
    Ok(OrgDeployState {
        account_id: org.caller_account_id.clone(),
        organization_id: org.organization_id.clone(),
        root_id: root?,
        members: org
            .accounts
            .iter()
            .filter(|a| a.id != org.caller_account_id && a.id != org.management_account_id)
            .map(|a| a.id.clone())
            .collect(),
        regions,
        stacksets_trusted: org.trusted(orgdeploy::STACKSETS_PRINCIPAL) == Some(true),
        hub: hub?,
        stackset: stackset?,
    })
}

/// `--ou` ids must be the organization's root or one of its OUs.
pub async fn check_ous(handle: &OrgHandle, root_id: &str, ous: &[String]) -> Result<(), String> {
    for ou in ous {
        if ou == root_id {
            continue;
        }
        if !handle.ou_exists(ou).await {
            return Err(format!(
                "--ou names {ou}, which is not the root or an OU of this organization"
            ));
        }
    }
    Ok(())
}

fn spinner(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(s) = ProgressStyle::with_template("{spinner} {elapsed:>4} {wide_msg}") {
        pb.set_style(s);
    }
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// Applies every step that is not a no-op, in order, each under a spinner
/// that shows the StackSet operation's status; stops at the first failure.
pub async fn apply(writer: &Writer, plan: &OrgDeployPlan, show: bool) -> Applied {
    apply_steps(
        plan.steps.iter().filter(|s| s.action() != Action::NoOp),
        |s| s.describe(),
        |step| async move {
            let pb = spinner(show);
            pb.set_message(step.describe());
            let tick = |status: &str| pb.set_message(format!("[{status}] {}", step.describe()));
            let r = writer.apply_org(step, &tick).await;
            pb.finish_and_clear();
            r
        },
        |d| {
            if show {
                eprintln!("{}", crate::term::fit_stderr(&format!("  done    {d}")))
            }
        },
    )
    .await
}

/// The members with a spoke region whose instance is missing or not
/// `CURRENT`, each with the region, AWS's status and reason.
pub fn uncovered(state: &OrgDeployState) -> Vec<(String, String)> {
    use std::collections::HashMap;
    let regions = orgdeploy::spoke_regions(state);
    let by: HashMap<(&str, &str), &orgdeploy::StackInstance> = state
        .stackset
        .instances
        .iter()
        .map(|i| ((i.account.as_str(), i.region.as_str()), i))
        .collect();
    state
        .members
        .iter()
        .filter_map(|m| {
            let why: Vec<String> = regions
                .iter()
                .filter_map(|r| match by.get(&(m.as_str(), r.as_str())) {
                    Some(i) if i.is_current() => None,
                    Some(i) => Some(format!("{r}: {}", i.describe())),
                    None => Some(format!("{r}: NO INSTANCE")),
                })
                .collect();
            (!why.is_empty()).then(|| (m.clone(), why.join("; ")))
        })
        .collect()
}

/// The deployment in a few lines: how many members are `CURRENT`, then every
/// member that is not, with AWS's reason (a thousand CURRENT lines help nobody).
pub fn instance_report(state: &OrgDeployState) -> String {
    let bad = uncovered(state);
    let mut out = format!(
        "  {} of {} member(s) CURRENT\n",
        state.members.len() - bad.len(),
        state.members.len()
    );
    for (m, why) in &bad {
        out.push_str(&format!("  {m}  {why}\n"));
    }
    out
}

/// Options of `deploy --org`.
pub struct DeployOrgArgs {
    pub emails: Vec<String>,
    pub ous: Vec<String>,
    pub dry_run: bool,
    pub yes: bool,
    pub json: bool,
    pub preferences: orgdeploy::OperationPreferences,
}

/// `rootguard deploy --org`: the organization, the state, the plan, confirm,
/// apply, then each member's stack instance.
pub async fn run_deploy(opts: &ConnectOptions, args: DeployOrgArgs) -> Outcome {
    crate::term::needs_confirmation("deploy --org", args.dry_run, args.yes)?;
    let show = !crate::term::quiet();
    let session = crate::aws::Session::load(opts).await;
    let (handle, facts) = crate::app::org::organization(&session).await?;
    let reader = session.reader();
    let unreadable =
        |e: FactError| Stop::usage(format!("cannot read the current state: {}", e.describe()));
    let state = read_state(&reader, &facts).await.map_err(unreadable)?;
    check_ous(&handle, &state.root_id, &args.ous)
        .await
        .map_err(Stop::usage)?;
    let config = orgdeploy::OrgDeployConfig {
        emails: args.emails,
        ous: args.ous,
        preferences: args.preferences,
    };
    let plan = orgdeploy::plan(&state, &config);
    let gate = Gate {
        dry_run: args.dry_run,
        yes: args.yes,
        question: "Apply this plan to the organization?",
        nothing_to_do: "nothing to change: every member forwards root activity to the hub",
    };
    let shown = if args.json { plan.json() } else { plan.text() };
    if !show_and_confirm(&shown, plan.is_noop(), &gate)? {
        return Ok(exit::OK);
    }
    let applied = apply(&session.writer(), &plan, show).await;
    if !applied.ok() {
        eprint!("{}", applied.failure_text("rootguard deploy --org"));
        return Ok(exit::FAILED);
    }
    let after = read_state(&reader, &facts).await.map_err(|e| {
        Stop::failed(format!(
            "deployed, but cannot read the instances back: {}",
            e.describe()
        ))
    })?;
    let bad = uncovered(&after);
    eprintln!(
        "{}: {} member(s), stack instance per member in {}:\n{}",
        if bad.is_empty() {
            "deployed"
        } else {
            "deployed with failures"
        },
        after.members.len(),
        orgdeploy::spoke_regions(&after).join(", "),
        instance_report(&after)
    );
    eprintln!(
        "{}",
        crate::term::fit_stderr(&format!(
            "ACTION NEEDED: {} {} the subscription from the AWS Notifications message; then root activity in any member reaches {}",
            config.emails.join(", "),
            if config.emails.len() == 1 {
                "must confirm"
            } else {
                "must each confirm"
            },
            orgdeploy::hub_topic_arn(&after.account_id)
        ))
    );
    if !bad.is_empty() {
        eprintln!(
            "{} member(s) do not forward root activity (AWS's reason beside each): fix the cause (an SCP denying \
             the spoke's actions, say) and run `rootguard deploy --org` again: it redeploys only those",
            bad.len()
        );
        return Ok(exit::FAILED);
    }
    Ok(exit::OK)
}

/// `rootguard teardown --org`: stack instances, StackSet, then the hub.
pub async fn run_teardown(opts: &ConnectOptions, dry_run: bool, yes: bool, json: bool) -> Outcome {
    crate::term::needs_confirmation("teardown --org", dry_run, yes)?;
    let show = !crate::term::quiet();
    let session = crate::aws::Session::load(opts).await;
    let (_, facts) = crate::app::org::organization(&session).await?;
    let state = read_state(&session.reader(), &facts)
        .await
        .map_err(|e| Stop::usage(format!("cannot read the current state: {}", e.describe())))?;
    let plan = orgdeploy::teardown_plan(&facts.organization_id, &state);
    let gate = Gate {
        dry_run,
        yes,
        question: "Delete these from the organization?",
        nothing_to_do: "nothing to delete",
    };
    let shown = if json { plan.json() } else { plan.text() };
    if !show_and_confirm(&shown, plan.is_noop(), &gate)? {
        return Ok(exit::OK);
    }
    let targets = vec![state.root_id.clone()];
    let pb = crate::term::spinner("deleting stack instances", show);
    let tick = |s: &str| pb.set_message(format!("[{s}] deleting stack instances"));
    let r = session.writer().delete_org(&targets, &state, &tick).await;
    pb.finish_and_clear();
    let done = r.map_err(|e| {
        Stop::failed(format!(
            "{}; run `rootguard teardown --org` again to finish",
            e.describe()
        ))
    })?;
    for d in done {
        progress!("  deleted {d}");
    }
    Ok(exit::OK)
}

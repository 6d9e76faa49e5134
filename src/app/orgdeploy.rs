//! `deploy --org` and `teardown --org`: read the hub and the StackSet, build
//! the `OrgDeployPlan` (pure, in `crate::orgdeploy`), print it, confirm, apply
//! the same value, and report each member's stack instance.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::aws::org::OrgHandle;
use crate::aws::{Reader, Writer};
use crate::deploy::Action;
use crate::facts::FactError;
use crate::org::OrgFacts;
use crate::orgdeploy::{self, OrgDeployPlan, OrgDeployState};

/// Everything `deploy --org` needs to plan, read concurrently.
pub async fn read_state(reader: &Reader, org: &OrgFacts) -> Result<OrgDeployState, FactError> {
    let (root, hub, stackset) = tokio::join!(
        reader.org_root_id(),
        reader.hub_state(&org.caller_account_id),
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
    if let Ok(s) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        pb.set_style(s);
    }
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// Applies every step that is not a no-op, in order; says what was done and
/// what was not when one fails. Returns whether everything was applied.
pub async fn apply(writer: &Writer, plan: &OrgDeployPlan, show: bool) -> Result<(), String> {
    let mut done = 0;
    for step in plan.steps.iter().filter(|s| s.action() != Action::NoOp) {
        let pb = spinner(show);
        pb.set_message(step.describe());
        let tick = |status: &str| pb.set_message(format!("{} [{status}]", step.describe()));
        let r = writer.apply_org(step, &tick).await;
        pb.finish_and_clear();
        match r {
            Ok(()) => {
                done += 1;
                if show {
                    eprintln!("  done    {}", step.describe());
                }
            }
            Err(e) => {
                return Err(format!(
                    "failed: {}: {}; {done} step(s) done; run `rootguard deploy --org` again to complete it",
                    step.describe(),
                    e.describe()
                ))
            }
        }
    }
    Ok(())
}

/// One line per member: its stack instance's status, or that it has none.
pub fn instance_report(state: &OrgDeployState) -> String {
    let mut out = String::new();
    for m in &state.members {
        let status = state
            .stackset
            .instances
            .iter()
            .find(|(a, r, _)| a == m && r == crate::realtime::RULE_REGION)
            .map(|(_, _, s)| s.as_str())
            .unwrap_or("NO INSTANCE");
        out.push_str(&format!("  {m}  {status}\n"));
    }
    out
}

//! The organization commands: `verify --org`, `org status` and `org harden`.
//!
//! Each reads the organization through an [`OrgHandle`], fans members out on
//! a bounded pool (`--concurrency`), builds one value (an `OrgReport`, an
//! `OrgStatus`, a `HardenPlan`) with the pure core in `crate::domain::org`, and
//! `org harden` applies that same plan. A member that fails never stops the
//! others. Nothing here parses flags or holds SDK types.

use std::collections::BTreeSet;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::app::verify::{self, VerifyRequest};
use crate::aws::org::{MemberReads, OrgError, OrgHandle, OrgWriter};
use crate::domain::facts::{Fact, FactError, FactErrorKind};
use crate::domain::org::{
    self, Access, AccountResult, HardenPlan, HardenStep, MemberRoot, OrgAccount, OrgFacts,
    OrgReport,
};
use crate::term::prompt::Prompter;

/// How members are read.
#[derive(Clone, Debug)]
pub struct FanOut {
    /// `--accounts`: only these (validated against the organization).
    pub accounts: Vec<String>,
    /// `--concurrency`: members read at once.
    pub concurrency: usize,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// `verify --org --compare-contacts`: BILLING and OPERATIONS too.
    pub compare_contacts: bool,
}

/// The accounts to work on: all ACTIVE ones, or those `--accounts` names;
/// an id that is not an ACTIVE account of the organization is an error that
/// names it.
pub fn pick_accounts(org: &OrgFacts, wanted: &[String]) -> Result<Vec<OrgAccount>, OrgError> {
    if wanted.is_empty() {
        return Ok(org.accounts.clone());
    }
    let known: BTreeSet<&str> = org.accounts.iter().map(|a| a.id.as_str()).collect();
    let missing: Vec<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|id| !known.contains(id))
        .collect();
    if !missing.is_empty() {
        return Err(OrgError::UnknownAccounts(
            if missing.len() == 1 { "an id" } else { "ids" },
            missing.join(", "),
        ));
    }
    Ok(org
        .accounts
        .iter()
        .filter(|a| wanted.contains(&a.id))
        .cloned()
        .collect())
}

/// A progress bar over `total` units on stderr (hidden unless `show`); the
/// bar takes what the terminal's width leaves, so the line never wraps.
pub(crate) fn bar_of(total: usize, show: bool, what: &str, unit: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{spinner}} {{msg}} [{{wide_bar}}] {{pos}}/{{len}} {unit}, {{per_sec}}, ETA {{eta}} ({{elapsed}})"
    )) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}

fn bar(total: usize, show: bool, what: &str) -> ProgressBar {
    bar_of(total, show, what, "accounts")
}

/// Runs `work` for every account, at most `concurrency` at once, ticking a
/// progress bar; results come back in any order.
async fn fan_out<T, F, Fut>(accounts: Vec<OrgAccount>, fan: &FanOut, what: &str, work: F) -> Vec<T>
where
    F: Fn(OrgAccount) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let pb = bar(accounts.len(), fan.progress, what);
    let out: Vec<T> = futures::stream::iter(accounts)
        .map(|a| {
            let fut = work(a);
            let pb = pb.clone();
            async move {
                let r = fut.await;
                pb.inc(1);
                r
            }
        })
        .buffer_unordered(fan.concurrency.max(1))
        .collect()
        .await;
    pb.finish_and_clear();
    out
}

/// Whether AssumeRoot can work at all; when centralized root management is
/// known to be off, members are not asked (every call would be refused).
fn root_reads_refused(org: &OrgFacts) -> Option<FactError> {
    (org.feature(org::FEATURE_CREDENTIALS) == Some(false)).then(|| {
        FactError::new(
            "sts:AssumeRoot",
            FactErrorKind::Error,
            "not attempted: RootCredentialsManagement is not enabled in the organization, so AWS refuses \
             root sessions in members (`rootguard org harden` enables it)",
        )
    })
}

/// `verify --org`: every ACTIVE account. The caller's own account gets the
/// whole single-account verify; members get AssumeRoot + Account API reads,
/// or with `role` the whole verify in that role.
pub async fn verify_org(
    handle: &OrgHandle,
    org: &OrgFacts,
    req: &VerifyRequest,
    role: Option<&str>,
    fan: &FanOut,
) -> Result<OrgReport, OrgError> {
    let accounts = pick_accounts(org, &fan.accounts)?;
    let refused = root_reads_refused(org);
    let selected = |id: &str| req.checks.iter().any(|c| c.id == id);
    let reads = MemberReads {
        root: refused.is_none(),
        security: selected("security-contact"),
        info: selected("contact-info"),
        other_contacts: fan.compare_contacts,
    };
    // The caller's own account first: its organization trail's chain may cover every member.
    let (own, members): (Vec<OrgAccount>, Vec<OrgAccount>) = accounts
        .into_iter()
        .partition(|a| a.id == org.caller_account_id);
    let own_verify = async {
        let mut coverage = None;
        let mut own_results = Vec::new();
        for account in own {
            let (result, facts) =
                full_verify_with_facts(handle.own_reader(), account, Access::Management, req).await;
            coverage = facts
                .as_ref()
                .and_then(crate::domain::checks::chain::organization_coverage);
            own_results.push(result);
        }
        (coverage, own_results)
    };
    let members_verify = fan_out(members, fan, "verify", |account| {
        let refused = refused.clone();
        async move {
            if let Some(role) = role {
                return match handle.role_reader(&account.id, role).await {
                    Ok(reader) => full_verify(&reader, account, Access::Role, req).await,
                    Err(e) => unreachable(account, &e, req),
                };
            }
            let mut m = handle.member_facts(&account, reads).await;
            if let Some(e) = refused {
                m.root = Err(e);
            }
            let access = match &m.root {
                Err(e) if e.action == "sts:AssumeRoot" => Access::None,
                _ => Access::AssumeRoot,
            };
            AccountResult {
                findings: org::member_findings(&m, &req.config, &req.checks),
                root_credentials: m
                    .root
                    .as_ref()
                    .map(MemberRoot::credentials)
                    .map_err(|e| e.describe()),
                account,
                access,
            }
        }
    });
    // The spoke StackSet's instances, read once, alongside the accounts.
    let spokes = async {
        if req.checks.iter().any(|c| c.id == "root-realtime-alert") {
            Some(handle.own_reader().stackset_state().await)
        } else {
            None
        }
    };
    let ((coverage, own_results), mut results, spokes) =
        tokio::join!(own_verify, members_verify, spokes);
    if let Some(lines) = &coverage {
        for r in results.iter_mut().filter(|r| r.access != Access::Role) {
            if let Some(f) = r.findings.iter_mut().find(|f| {
                f.id == "root-alarm" && f.status == crate::domain::finding::Status::Manual
            }) {
                f.status = crate::domain::finding::Status::Pass;
                f.evidence = lines.clone();
            }
        }
    }
    results.extend(own_results);
    if let Some(spokes) = spokes {
        for r in results.iter_mut().filter(|r| r.access != Access::Role) {
            if r.account.id == org.caller_account_id {
                continue;
            }
            if let Some(f) = r
                .findings
                .iter_mut()
                .find(|f| f.id == "root-realtime-alert")
            {
                if let Some((status, evidence)) = org::spoke_verdict(&r.account.id, &spokes) {
                    f.status = status;
                    f.evidence = evidence;
                }
            }
        }
    }
    Ok(OrgReport::new(org, results, req.config.root_use_window))
}

async fn full_verify(
    reader: &crate::aws::Reader,
    account: OrgAccount,
    access: Access,
    req: &VerifyRequest,
) -> AccountResult {
    full_verify_with_facts(reader, account, access, req).await.0
}

/// The whole single-account verify, and the facts it judged.
async fn full_verify_with_facts(
    reader: &crate::aws::Reader,
    account: OrgAccount,
    access: Access,
    req: &VerifyRequest,
) -> (AccountResult, Option<crate::domain::facts::AccountFacts>) {
    let req = VerifyRequest {
        checks: org::account_checks(&req.checks),
        config: req.config.clone(),
        compliance: req.compliance,
    };
    match verify::read(reader, &req).await {
        Ok(facts) => (
            AccountResult {
                root_credentials: org::credentials_from_summary(&facts),
                findings: verify::judge(&facts, &req).findings,
                account,
                access,
            },
            Some(facts),
        ),
        Err(e) => (
            unreachable(
                account,
                &FactError::new("sts:GetCallerIdentity", FactErrorKind::Error, e.to_string()),
                &req,
            ),
            None,
        ),
    }
}

fn unreachable(account: OrgAccount, e: &FactError, req: &VerifyRequest) -> AccountResult {
    AccountResult {
        findings: org::unreachable_findings(e, &req.checks),
        root_credentials: Err(e.describe()),
        account,
        access: Access::None,
    }
}

/// Every member's root (not the caller's own account), read with the audit
/// task policy unless centralized root management is known to be off.
pub async fn member_roots(
    handle: &OrgHandle,
    org: &OrgFacts,
    fan: &FanOut,
) -> Result<Vec<(OrgAccount, Fact<MemberRoot>)>, OrgError> {
    let members: Vec<OrgAccount> = pick_accounts(org, &fan.accounts)?
        .into_iter()
        .filter(|a| a.id != org.caller_account_id && a.id != org.management_account_id)
        .collect();
    let refused = root_reads_refused(org);
    let mut out = fan_out(members, fan, "read", |a| {
        let refused = refused.clone();
        async move {
            let root = match refused {
                Some(e) => Err(e),
                None => handle.member_root(&a.id).await,
            };
            (a, root)
        }
    })
    .await;
    out.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    Ok(out)
}

/// What happened to one member in `org harden`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MemberOutcome {
    pub account_id: String,
    pub name: String,
    pub deleted: Vec<String>,
    pub error: Option<String>,
}

/// The result of applying a harden plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct HardenOutcome {
    /// Organization-level steps done, in order.
    pub enabled: Vec<String>,
    /// The organization-level step that failed, which stops the member steps.
    pub failed: Option<String>,
    pub members: Vec<MemberOutcome>,
}

impl HardenOutcome {
    pub fn ok(&self) -> bool {
        self.failed.is_none() && self.members.iter().all(|m| m.error.is_none())
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for e in &self.enabled {
            out.push_str(&format!("  done     {e}\n"));
        }
        if let Some(f) = &self.failed {
            out.push_str(&format!(
                "  FAILED   {}\n  members were not touched; fix the cause and run `rootguard org harden` again\n",
                crate::domain::text::escape(f)
            ));
        }
        for m in &self.members {
            let who = format!(
                "{} ({})",
                m.account_id,
                crate::domain::text::escape(&m.name)
            );
            match &m.error {
                None if m.deleted.is_empty() => {
                    out.push_str(&format!("  done     {who}: nothing left to delete\n"))
                }
                None => out.push_str(&format!(
                    "  done     {who}: deleted {}\n",
                    m.deleted.join(", ")
                )),
                Some(e) => out.push_str(&format!(
                    "  FAILED   {who}: {}{}\n",
                    crate::domain::text::escape(e),
                    if m.deleted.is_empty() {
                        String::new()
                    } else {
                        format!(" (deleted before the failure: {})", m.deleted.join(", "))
                    }
                )),
            }
        }
        let failed = self.members.iter().filter(|m| m.error.is_some()).count();
        out.push_str(&format!(
            "{} member(s) done, {failed} failed\n",
            self.members.len() - failed
        ));
        out
    }
}

/// Applies the plan: organization-level steps in order (a failure stops
/// there), then every member step on the bounded pool; one member's failure
/// does not stop the others.
pub async fn apply_harden(writer: &OrgWriter, plan: &HardenPlan, fan: &FanOut) -> HardenOutcome {
    let mut outcome = HardenOutcome::default();
    let mut members = Vec::new();
    for step in &plan.steps {
        let r = match step {
            HardenStep::EnableTrustedAccess { service_principal } => {
                writer.enable_trusted_access(service_principal).await
            }
            HardenStep::EnableRootCredentialsManagement => {
                writer.enable_root_credentials_management().await
            }
            HardenStep::EnableRootSessions => writer.enable_root_sessions().await,
            HardenStep::DeleteMemberRootCredentials {
                account_id, name, ..
            } => {
                members.push(OrgAccount {
                    id: account_id.clone(),
                    name: name.clone(),
                    email: String::new(),
                });
                continue;
            }
        };
        match r {
            Ok(()) => outcome.enabled.push(step.describe()),
            Err(e) => {
                outcome.failed = Some(format!("{}: {}", step.describe(), e.describe()));
                return outcome;
            }
        }
    }
    let mut done = fan_out(members, fan, "harden", |a| async move {
        match writer.delete_member_root(&a.id).await {
            Ok(deleted) => MemberOutcome {
                account_id: a.id,
                name: a.name,
                deleted,
                error: None,
            },
            Err(e) => MemberOutcome {
                account_id: a.id,
                name: a.name,
                deleted: vec![],
                error: Some(e.describe()),
            },
        }
    })
    .await;
    done.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    outcome.members = done;
    outcome
}

/// The typed confirmation: the person types the organization id.
pub fn confirm_harden(
    prompter: &mut dyn Prompter,
    plan: &HardenPlan,
) -> Result<bool, crate::term::prompt::PromptError> {
    let want = plan.organization_id.clone();
    let typed = prompter.input(
        &format!(
            "This deletes root credentials in {} member(s) of {want}. Type the organization id to apply (anything else cancels)",
            plan.steps
                .iter()
                .filter(|s| matches!(s, HardenStep::DeleteMemberRootCredentials { .. }))
                .count()
        ),
        &|_| Ok(()),
    )?;
    Ok(typed.trim() == want)
}

// ------------------------------------------------------------ the edges

/// The organization the session belongs to, or exit 2 saying where to run it.
pub async fn organization(
    session: &crate::aws::Session,
) -> Result<(OrgHandle, OrgFacts), crate::app::Stop> {
    let handle = session.org();
    let facts = handle
        .facts()
        .await
        .map_err(|e| crate::app::Stop::usage(e.to_string()))?;
    Ok((handle, facts))
}

/// `rootguard verify --org`: every member on the bounded pool, then every
/// output, and Security Hub when asked.
pub async fn run_verify(
    opts: &crate::aws::ConnectOptions,
    req: &VerifyRequest,
    outputs: &verify::Outputs,
    role: Option<&str>,
    fan: &FanOut,
) -> crate::app::Outcome {
    use crate::app::Stop;
    let session = crate::aws::Session::load(opts).await;
    let (handle, facts) = organization(&session).await?;
    let report = verify_org(&handle, &facts, req, role, fan)
        .await
        .map_err(|e| Stop::usage(e.to_string()))?;
    if let Some(line) = handle.throttle_summary() {
        if !crate::term::quiet() {
            eprintln!("{line}");
        }
    }
    let ctx = crate::render::exports::Context {
        generated_at: report.generated_at,
        region: handle.own_reader().region(),
        importer_account: facts.caller_account_id.clone(),
    };
    let emitted = crate::term::out::emit_with(&outputs.outputs, |f, w| match f {
        crate::render::Format::Text if outputs.references => {
            w.write_all(crate::render::org::text_with_references(&report, outputs.color).as_bytes())
        }
        f => crate::render::org::render_to(&report, f, outputs.color, &ctx, w),
    })?;
    if !emitted.to_stdout {
        progress!("{}", crate::render::org::totals_line(&report));
    }
    if outputs.security_hub {
        let asff = crate::render::exports::asff_findings(&ctx, &crate::render::org::rows(&report));
        return Ok(verify::to_security_hub(
            &session.security_hub(),
            &asff,
            &ctx,
            report.exit_code(),
        )
        .await);
    }
    Ok(report.exit_code())
}

/// `rootguard org status`.
pub async fn run_status(
    opts: &crate::aws::ConnectOptions,
    fan: &FanOut,
    json: bool,
) -> crate::app::Outcome {
    let session = crate::aws::Session::load(opts).await;
    let (handle, facts) = organization(&session).await?;
    let roots = member_roots(&handle, &facts, fan)
        .await
        .map_err(|e| crate::app::Stop::usage(e.to_string()))?;
    let status = crate::domain::org::status(&facts, &roots);
    out!(
        "{}",
        if json {
            crate::render::org::status_json(&status)
        } else {
            crate::render::org::status_text(&status)
        }
    );
    Ok(crate::domain::exit::OK)
}

/// `rootguard org harden`: plan, show, typed confirmation, apply.
pub async fn run_harden(
    opts: &crate::aws::ConnectOptions,
    fan: &FanOut,
    dry_run: bool,
    yes: bool,
    json: bool,
) -> crate::app::Outcome {
    use crate::domain::exit;
    crate::term::needs_confirmation("org harden", dry_run, yes)?;
    let session = crate::aws::Session::load(opts).await;
    let (handle, facts) = organization(&session).await?;
    let roots = member_roots(&handle, &facts, fan)
        .await
        .map_err(|e| crate::app::Stop::usage(e.to_string()))?;
    let plan = crate::domain::org::plan_harden(&facts, &roots);
    out!("{}", if json { plan.json() } else { plan.text() });
    if dry_run {
        return Ok(exit::OK);
    }
    if plan.is_noop() {
        progress!("nothing to change");
        return Ok(exit::OK);
    }
    if !yes {
        crate::term::trap_ctrl_c();
        let mut term = crate::term::prompt::Terminal::default();
        if !confirm_harden(&mut term, &plan).map_err(crate::term::prompt_stop)? {
            eprintln!("cancelled: the typed id did not match; nothing was changed");
            return Ok(exit::OK);
        }
    }
    let outcome = apply_harden(&session.writer().org(), &plan, fan).await;
    eprint!("{}", outcome.text());
    Ok(if outcome.ok() { exit::OK } else { exit::FAILED })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::OrganizationFeatures;
    use crate::term::prompt::Scripted;

    fn org_with(ids: &[&str]) -> OrgFacts {
        OrgFacts {
            now: time::OffsetDateTime::UNIX_EPOCH,
            organization_id: "o-abc".into(),
            management_account_id: "111111111111".into(),
            caller_account_id: "111111111111".into(),
            caller_arn: "arn:aws:iam::111111111111:user/admin".into(),
            features: Ok(OrganizationFeatures::Enabled {
                organization_id: "o-abc".into(),
                features: vec![],
            }),
            trusted_access: Ok(vec![]),
            delegated_admins: Ok(vec![]),
            accounts: ids
                .iter()
                .map(|i| OrgAccount {
                    id: i.to_string(),
                    name: format!("n{i}"),
                    email: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn pick_accounts_names_ids_outside_the_organization() {
        let org = org_with(&["111111111111", "222222222222"]);
        assert_eq!(pick_accounts(&org, &[]).unwrap().len(), 2);
        let one = pick_accounts(&org, &["222222222222".into()]).unwrap();
        assert_eq!(one[0].id, "222222222222");
        let err = pick_accounts(&org, &["333333333333".into(), "222222222222".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--accounts") && err.contains("333333333333"),
            "{err}"
        );
        assert!(!err.contains("222222222222"), "{err}");
    }

    #[test]
    fn typed_confirmation_must_be_the_organization_id() {
        let plan = crate::domain::org::plan_harden(&org_with(&["111111111111"]), &[]);
        let mut yes = Scripted::new(["o-abc"]);
        assert!(confirm_harden(&mut yes, &plan).unwrap());
        let mut no = Scripted::new(["yes"]);
        assert!(!confirm_harden(&mut no, &plan).unwrap());
    }

    #[test]
    fn refused_root_reads_are_not_attempted_when_management_is_off() {
        let org = org_with(&[]);
        let e = root_reads_refused(&org).expect("feature off");
        assert_eq!(e.action, "sts:AssumeRoot");
        let mut on = org.clone();
        on.features = Ok(OrganizationFeatures::Enabled {
            organization_id: "o-abc".into(),
            features: vec!["RootCredentialsManagement".into()],
        });
        assert!(root_reads_refused(&on).is_none());
    }
}

//! `verify` for one account: the selected checks' sources read through a
//! read-only [`Reader`], judged by the pure core, returned as a [`Report`].
//!
//! This is the unit an organization-wide run repeats per account (in a role
//! session) and for the management account itself. It never writes: it is
//! handed a `Reader` only.

use crate::app::{Outcome, Stop};
use crate::aws::{ConnectError, ConnectOptions, Reader};
use crate::domain::checks::{self, CheckConfig, CheckDef, Source};
use crate::domain::facts::AccountFacts;
use crate::domain::finding::Report;

/// What to check and how to judge.
#[derive(Clone)]
pub struct VerifyRequest {
    pub checks: Vec<&'static CheckDef>,
    pub config: CheckConfig,
    /// `--compliance cis-X`: the CIS AWS Foundations version whose checks
    /// were selected and whose ids label the findings.
    pub compliance: Option<&'static str>,
}

impl VerifyRequest {
    /// The sources the selected checks read, each once.
    pub fn sources(&self) -> Vec<Source> {
        let mut needs: Vec<Source> = Vec::new();
        for s in self.checks.iter().flat_map(|c| c.sources.iter().copied()) {
            if !needs.contains(&s) {
                needs.push(s);
            }
        }
        needs
    }
}

/// The checks selected by `--check`, in catalogue order; all when none given.
pub fn selected_checks(ids: &[String]) -> Vec<&'static CheckDef> {
    checks::CATALOGUE
        .iter()
        .filter(|c| ids.is_empty() || ids.iter().any(|i| i == c.id))
        .collect()
}

/// Reads what the request needs. Fails only when AWS cannot be used at all.
pub async fn read(reader: &Reader, req: &VerifyRequest) -> Result<AccountFacts, ConnectError> {
    reader.collect(&req.sources()).await
}

/// Judges a snapshot: pure.
pub fn judge(facts: &AccountFacts, req: &VerifyRequest) -> Report {
    Report {
        account_id: facts.account_id.clone(),
        caller_arn: facts.caller_arn.clone(),
        generated_at: facts.now,
        root_use_window: crate::domain::text::fmt_window(req.config.root_use_window),
        findings: checks::evaluate(facts, &req.config, &req.checks),
        compliance: req.compliance,
    }
}

/// One account, read and judged.
pub async fn verify_account(reader: &Reader, req: &VerifyRequest) -> Result<Report, ConnectError> {
    Ok(judge(&read(reader, req).await?, req))
}

/// Where a report goes: the `-o` outputs, colour, and `--security-hub`.
pub struct Outputs {
    pub outputs: Vec<crate::render::OutputSpec>,
    pub color: bool,
    pub security_hub: bool,
    /// `-v`: the text output gives each check's references too.
    pub references: bool,
}

/// `rootguard verify` for the caller's account: read under a spinner, judge,
/// write every output, and import into Security Hub when asked.
pub async fn run(
    opts: &ConnectOptions,
    req: &VerifyRequest,
    outputs: &Outputs,
    spin: bool,
) -> Outcome {
    // verify holds only the read-only handle; the session also yields the
    // Security Hub importer, and nothing else, when --security-hub asks.
    let session = crate::aws::Session::load(opts).await;
    let reader = session.reader();
    let sources = req.sources();
    tracing::info!(
        checks = req.checks.len(),
        sources = sources.len(),
        region = %reader.region(),
        "verify: reading {} source(s) for {} check(s)",
        sources.len(),
        req.checks.len()
    );
    // A spinner while AWS answers (the credential report can take seconds).
    let spinner = crate::term::spinner(
        &format!(
            "reading {} source(s) for {} check(s)…",
            sources.len(),
            req.checks.len()
        ),
        spin,
    );
    let started = std::time::Instant::now();
    let read = verify_account(&reader, req).await;
    spinner.finish_and_clear();
    let report = read.map_err(|e| Stop::usage(e.to_string()))?;
    tracing::info!(
        account = %report.account_id,
        caller = %report.caller_arn,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "verify: read and judged"
    );
    let ctx = crate::render::exports::Context {
        generated_at: report.generated_at,
        region: reader.region(),
        importer_account: report.account_id.clone(),
    };
    let emitted = crate::term::out::emit(&outputs.outputs, |f| match f {
        crate::render::Format::Text if outputs.references => {
            crate::render::text_with_references(&report, outputs.color)
        }
        f => crate::render::render(&report, f, outputs.color, &ctx),
    })?;
    if !emitted.to_stdout {
        // Every output went to a file: the totals, so the run says what it found.
        progress!("{}", crate::render::summary_line(&report));
    }
    if outputs.security_hub {
        let asff = crate::render::exports::asff_findings(&ctx, &crate::render::rows(&report));
        return Ok(to_security_hub(&session.security_hub(), &asff, &ctx, report.exit_code()).await);
    }
    Ok(report.exit_code())
}

/// `--security-hub`: imports the findings, says what happened on stderr, and
/// returns the exit code with the import's outcome folded in.
pub async fn to_security_hub(
    importer: &crate::aws::securityhub::FindingsImporter,
    findings: &[crate::domain::asff::Asff],
    ctx: &crate::render::exports::Context,
    verdict: u8,
) -> u8 {
    let outcome = crate::app::securityhub::import(importer, findings).await;
    if !crate::term::quiet() || !outcome.ok() {
        eprint!("{}", outcome.text(importer.region(), &ctx.importer_account));
    }
    outcome.exit_code(verdict)
}

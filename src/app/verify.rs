//! `verify` for one account: the selected checks' sources read through a
//! read-only [`Reader`], judged by the pure core, returned as a [`Report`].
//!
//! This is the unit an organization-wide run repeats per account (in a role
//! session) and for the management account itself. It never writes: it is
//! handed a `Reader` only.

use crate::aws::{ConnectError, Reader};
use crate::checks::{self, CheckConfig, CheckDef, Source};
use crate::facts::AccountFacts;
use crate::finding::Report;

/// What to check and how to judge.
#[derive(Clone)]
pub struct VerifyRequest {
    pub checks: Vec<&'static CheckDef>,
    pub config: CheckConfig,
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
        root_use_window: checks::fmt_window(req.config.root_use_window),
        findings: checks::evaluate(facts, &req.config, &req.checks),
    }
}

/// One account, read and judged.
pub async fn verify_account(reader: &Reader, req: &VerifyRequest) -> Result<Report, ConnectError> {
    Ok(judge(&read(reader, req).await?, req))
}

//! `verify --security-hub`: the report's ASFF findings imported into the
//! caller's Security Hub, so the central place a security team watches
//! holds rootguard's verdicts.
//!
//! read what Security Hub holds → import in batches of 100 → resolve the
//! findings that now pass. Security Hub keeps a finding's workflow status
//! once it exists (BatchImportFindings cannot change it), so a check that
//! passes now has its finding set to `RESOLVED` with BatchUpdateFindings,
//! unless a person suppressed or already resolved it. Talks to AWS only
//! through [`FindingsSink`]; it never touches the account's configuration.

use std::collections::HashMap;
use std::future::Future;

use futures::StreamExt;

use crate::aws::securityhub::{FindingsImporter, HeldFinding, Refused};
use crate::domain::asff::Asff;
use crate::domain::exit;
use crate::domain::facts::FactError;
use crate::domain::text::escape;

/// Security Hub takes at most 100 findings per call.
pub const BATCH: usize = 100;
/// Batches in flight at once (BatchImportFindings allows 10 requests a
/// second, bursting to 30).
const IN_FLIGHT: usize = 4;

/// What the import needs from Security Hub; [`FindingsImporter`] is the real one.
pub trait FindingsSink: Sync {
    fn held(
        &self,
        product_arn: &str,
    ) -> impl Future<Output = Result<Vec<HeldFinding>, FactError>> + Send;
    fn import(
        &self,
        batch: &[Asff],
    ) -> impl Future<Output = Result<Vec<Refused>, FactError>> + Send;
    fn resolve(
        &self,
        product_arn: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<Refused>, FactError>> + Send;
}

impl FindingsSink for FindingsImporter {
    fn held(
        &self,
        product_arn: &str,
    ) -> impl Future<Output = Result<Vec<HeldFinding>, FactError>> + Send {
        FindingsImporter::held(self, product_arn)
    }
    fn import(
        &self,
        batch: &[Asff],
    ) -> impl Future<Output = Result<Vec<Refused>, FactError>> + Send {
        FindingsImporter::import(self, batch)
    }
    fn resolve(
        &self,
        product_arn: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<Refused>, FactError>> + Send {
        FindingsImporter::resolve(self, product_arn, ids)
    }
}

/// One batch and Security Hub's answer to it.
type BatchResult<'a> = (&'a [Asff], Result<Vec<Refused>, FactError>);

/// What the import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Findings Security Hub accepted.
    pub imported: usize,
    /// Of those, findings it did not hold before.
    pub created: usize,
    /// Findings set to RESOLVED because their check passes now.
    pub resolved: usize,
    /// Findings refused one by one.
    pub refused: Vec<Refused>,
    /// Calls that failed as a whole (each names its action).
    pub errors: Vec<String>,
}

impl ImportOutcome {
    pub fn ok(&self) -> bool {
        self.refused.is_empty() && self.errors.is_empty()
    }

    /// The verdict's exit code, raised to `UNKNOWN` when findings did not
    /// reach Security Hub: the central place would be out of date.
    pub fn exit_code(&self, verdict: u8) -> u8 {
        if self.ok() || verdict != exit::OK {
            verdict
        } else {
            exit::UNKNOWN
        }
    }

    /// Lines for stderr.
    pub fn text(&self, region: &str, account: &str) -> String {
        let mut out = format!(
            "security hub ({account}, {region}): {} finding(s) imported ({} new, {} updated), {} resolved",
            self.imported,
            self.created,
            self.imported - self.created,
            self.resolved
        );
        if !self.refused.is_empty() {
            out += &format!(", {} refused", self.refused.len());
        }
        out += "\n";
        for r in &self.refused {
            out += &format!(
                "  refused {}: {} {}\n",
                escape(&r.id),
                escape(&r.code),
                escape(&r.message)
            );
        }
        for e in &self.errors {
            out += &format!("  error: {}\n", escape(e));
        }
        out
    }
}

/// Imports `findings` (all of one product ARN) and resolves the ones that pass.
pub async fn import(sink: &impl FindingsSink, findings: &[Asff]) -> ImportOutcome {
    let mut outcome = ImportOutcome::default();
    let Some(product_arn) = findings.first().map(|f| f.product_arn.clone()) else {
        return outcome;
    };
    let held: HashMap<String, HeldFinding> = match sink.held(&product_arn).await {
        Ok(h) => h.into_iter().map(|f| (f.id.clone(), f)).collect(),
        Err(e) => {
            outcome.errors.push(format!(
                "{} (cannot tell which findings exist; none is resolved)",
                e.describe()
            ));
            HashMap::new()
        }
    };
    let knows_held = outcome.errors.is_empty();
    let results: Vec<BatchResult> = futures::stream::iter(findings.chunks(BATCH))
        .map(|batch| async move { (batch, sink.import(batch).await) })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    let mut accepted: Vec<&Asff> = Vec::new();
    for (batch, result) in results {
        match result {
            Ok(refused) => {
                accepted.extend(
                    batch
                        .iter()
                        .filter(|f| !refused.iter().any(|r| r.id == f.id)),
                );
                outcome.refused.extend(refused);
            }
            Err(e) => {
                let why = e.describe();
                if !outcome.errors.contains(&why) {
                    outcome.errors.push(why);
                }
                outcome.refused.extend(batch.iter().map(|f| Refused {
                    id: f.id.clone(),
                    code: e.action.clone(),
                    message: "not imported: the whole batch failed".into(),
                }));
            }
        }
    }
    outcome.imported = accepted.len();
    outcome.created = accepted
        .iter()
        .filter(|f| !held.contains_key(&f.id))
        .count();
    if !knows_held {
        return outcome;
    }
    // A finding created now carries RESOLVED already; one that existed keeps
    // its workflow, so a passing check moves it from NEW or NOTIFIED.
    let to_resolve: Vec<String> = accepted
        .iter()
        .filter(|f| f.compliance.status == "PASSED")
        .filter(|f| {
            held.get(&f.id)
                .is_some_and(|h| matches!(h.workflow.as_str(), "NEW" | "NOTIFIED"))
        })
        .map(|f| f.id.clone())
        .collect();
    for ids in to_resolve.chunks(BATCH) {
        match sink.resolve(&product_arn, ids).await {
            Ok(unprocessed) => {
                outcome.resolved += ids.len() - unprocessed.len();
                outcome.refused.extend(unprocessed);
            }
            Err(e) => outcome.errors.push(e.describe()),
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::FactErrorKind;
    use crate::domain::finding::{Finding, Severity, Status};
    use crate::render::exports::{asff_finding, Context, Row};
    use std::sync::Mutex;

    /// A fake Security Hub: what it holds, ids it refuses, calls it saw.
    #[derive(Default)]
    struct Hub {
        held: Mutex<HashMap<String, (String, String)>>,
        refuse: Vec<String>,
        down: bool,
        calls: Mutex<Vec<String>>,
    }

    impl FindingsSink for Hub {
        async fn held(&self, _arn: &str) -> Result<Vec<HeldFinding>, FactError> {
            self.calls.lock().unwrap().push("held".into());
            Ok(self
                .held
                .lock()
                .unwrap()
                .iter()
                .map(|(id, (w, c))| HeldFinding {
                    id: id.clone(),
                    workflow: w.clone(),
                    compliance: c.clone(),
                })
                .collect())
        }
        async fn import(&self, batch: &[Asff]) -> Result<Vec<Refused>, FactError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("import {}", batch.len()));
            if self.down {
                return Err(FactError::new(
                    "securityhub:BatchImportFindings",
                    FactErrorKind::Error,
                    "InvalidAccessException: not subscribed",
                ));
            }
            let mut refused = Vec::new();
            let mut held = self.held.lock().unwrap();
            for f in batch {
                if self.refuse.contains(&f.id) {
                    refused.push(Refused {
                        id: f.id.clone(),
                        code: "InvalidInput".into(),
                        message: "rejected".into(),
                    });
                    continue;
                }
                let workflow = held
                    .get(&f.id)
                    .map_or(f.workflow.status.to_string(), |h| h.0.clone());
                held.insert(f.id.clone(), (workflow, f.compliance.status.to_string()));
            }
            Ok(refused)
        }
        async fn resolve(&self, _arn: &str, ids: &[String]) -> Result<Vec<Refused>, FactError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("resolve {}", ids.len()));
            let mut held = self.held.lock().unwrap();
            for id in ids {
                held.get_mut(id).unwrap().0 = "RESOLVED".into();
            }
            Ok(Vec::new())
        }
    }

    fn findings(n: usize, status: Status) -> Vec<Asff> {
        let ctx = Context {
            generated_at: time::macros::datetime!(2026-12-03 08:00 UTC),
            region: "us-east-1".into(),
            importer_account: "111122223333".into(),
        };
        let ids: Vec<String> = (0..n)
            .map(|i| format!("{:012}", 200000000000u64 + i as u64))
            .collect();
        ids.iter()
            .map(|account| {
                let f = Finding {
                    id: "root-mfa",
                    title: "Root user has MFA",
                    status,
                    severity: Severity::Critical,
                    evidence: vec![],
                    remediation: "".into(),
                    references: crate::domain::finding::References {
                        cis: vec![],
                        security_hub: vec![],
                        ..Default::default()
                    },
                };
                asff_finding(
                    &ctx,
                    &Row {
                        account_id: account,
                        scope: "account",
                        finding: &f,
                    },
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn batches_of_100_and_a_rerun_updates_without_duplicates() {
        let hub = Hub::default();
        let all = findings(250, Status::Fail);
        let first = import(&hub, &all).await;
        assert!(first.ok(), "{first:?}");
        assert_eq!((first.imported, first.created), (250, 250));
        let calls = hub.calls.lock().unwrap().clone();
        assert_eq!(calls, ["held", "import 100", "import 100", "import 50"]);
        let again = import(&hub, &all).await;
        assert_eq!(
            (again.imported, again.created),
            (250, 0),
            "updated, not new"
        );
        assert_eq!(hub.held.lock().unwrap().len(), 250);
    }

    #[tokio::test]
    async fn a_check_that_passes_now_resolves_its_finding_unless_a_person_suppressed_it() {
        let hub = Hub::default();
        let failing = findings(3, Status::Fail);
        import(&hub, &failing).await;
        hub.held.lock().unwrap().get_mut(&failing[2].id).unwrap().0 = "SUPPRESSED".into();
        let passing = findings(3, Status::Pass);
        let out = import(&hub, &passing).await;
        assert_eq!(out.resolved, 2, "{out:?}");
        let held = hub.held.lock().unwrap();
        assert_eq!(held[&passing[0].id], ("RESOLVED".into(), "PASSED".into()));
        assert_eq!(
            held[&passing[2].id].0, "SUPPRESSED",
            "a person's choice stays"
        );
    }

    #[tokio::test]
    async fn refusals_are_reported_and_raise_a_clean_exit_code() {
        let all = findings(5, Status::Pass);
        let hub = Hub {
            refuse: vec![all[1].id.clone()],
            ..Hub::default()
        };
        let out = import(&hub, &all).await;
        assert_eq!(out.imported, 4);
        assert_eq!(out.refused.len(), 1);
        assert!(out
            .text("us-east-1", "111122223333")
            .contains(&format!("refused {}: InvalidInput rejected", all[1].id)));
        assert_eq!(out.exit_code(exit::OK), exit::UNKNOWN);
        assert_eq!(out.exit_code(exit::FAILED), exit::FAILED);

        let down = Hub {
            down: true,
            ..Hub::default()
        };
        let out = import(&down, &all).await;
        assert_eq!(out.imported, 0);
        assert_eq!(out.refused.len(), 5);
        assert_eq!(
            out.errors.len(),
            1,
            "one message for the whole failure: {out:?}"
        );
        assert!(out.errors[0].contains("securityhub:BatchImportFindings"));
    }
}

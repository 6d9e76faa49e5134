//! Security Hub for `verify --security-hub`: the one write a verify run can
//! make, and only to findings.
//!
//! [`FindingsImporter`] can read rootguard's findings (`GetFindings`), import
//! (`BatchImportFindings`) and set a workflow status (`BatchUpdateFindings`);
//! nothing else. It comes from [`super::Session::security_hub`], never from a
//! [`super::Reader`], so verify's read-only handle still cannot write. SDK
//! types stay here: findings come in as [`Asff`], answers go out as ours.

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, AwsSecurityFindingIdentifier, Compliance,
    ComplianceStatus, Partition, Recommendation, RecordState, Remediation, Resource, Severity,
    SeverityLabel, StringFilter, StringFilterComparison, Workflow, WorkflowStatus, WorkflowUpdate,
};

use crate::domain::asff::Asff;
use crate::domain::facts::FactError;

/// A finding Security Hub already holds: its id and where a person (or
/// Security Hub) has taken it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldFinding {
    pub id: String,
    pub workflow: String,
    pub compliance: String,
}

/// One finding Security Hub refused, with its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub id: String,
    pub code: String,
    pub message: String,
}

/// Imports findings into the caller's Security Hub in one region.
#[derive(Clone, Debug)]
pub struct FindingsImporter {
    /// Built without the SDK's retry: its calls go through `budget`.
    client: aws_sdk_securityhub::Client,
    region: String,
    budget: super::budget::Budget,
}

impl FindingsImporter {
    pub(super) fn new(config: &aws_types::SdkConfig, budget: super::budget::Budget) -> Self {
        FindingsImporter {
            budget,
            client: aws_sdk_securityhub::Client::new(&super::budget::unretried(config)),
            region: config
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| super::FALLBACK_REGION.to_string()),
        }
    }

    /// The region findings go to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// `securityhub:GetFindings`: every finding of `product_arn` whose
    /// generator is rootguard's, all pages.
    pub async fn held(&self, product_arn: &str) -> Result<Vec<HeldFinding>, FactError> {
        let filters = AwsSecurityFindingFilters::builder()
            .product_arn(
                StringFilter::builder()
                    .comparison(StringFilterComparison::Equals)
                    .value(product_arn)
                    .build(),
            )
            .generator_id(
                StringFilter::builder()
                    .comparison(StringFilterComparison::Prefix)
                    .value("rootguard/")
                    .build(),
            )
            .build();
        let action = "securityhub:GetFindings";
        let pages = self
            .budget
            .pages(
                action,
                Some(&self.region),
                |t| {
                    self.client
                        .get_findings()
                        .filters(filters.clone())
                        .max_results(100)
                        .set_next_token(t)
                        .send()
                },
                |p| p.next_token(),
            )
            .await
            .map_err(|e| e.fact(action))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.findings())
            .map(|f| HeldFinding {
                id: f.id().unwrap_or_default().to_string(),
                workflow: f
                    .workflow()
                    .and_then(|w| w.status())
                    .map_or("NEW", |s| s.as_str())
                    .to_string(),
                compliance: f
                    .compliance()
                    .and_then(|c| c.status())
                    .map_or("", |s| s.as_str())
                    .to_string(),
            })
            .collect())
    }

    /// `securityhub:BatchImportFindings` for at most 100 findings; the
    /// findings it refused.
    pub async fn import(&self, batch: &[Asff]) -> Result<Vec<Refused>, FactError> {
        let call = self
            .client
            .batch_import_findings()
            .set_findings(Some(batch.iter().map(to_sdk).collect()));
        let out = self
            .budget
            .call(
                "securityhub:BatchImportFindings",
                Some(&self.region),
                || call.clone().send(),
            )
            .await
            .map_err(|e| e.fact("securityhub:BatchImportFindings"))?;
        Ok(out
            .failed_findings()
            .iter()
            .map(|f| Refused {
                id: f.id().unwrap_or_default().to_string(),
                code: f.error_code().unwrap_or_default().to_string(),
                message: f.error_message().unwrap_or_default().to_string(),
            })
            .collect())
    }

    /// `securityhub:BatchUpdateFindings`: workflow `RESOLVED` for at most 100
    /// findings of `product_arn`; the ones it could not update.
    pub async fn resolve(
        &self,
        product_arn: &str,
        ids: &[String],
    ) -> Result<Vec<Refused>, FactError> {
        let call = self
            .client
            .batch_update_findings()
            .set_finding_identifiers(Some(
                ids.iter()
                    .map(|id| {
                        AwsSecurityFindingIdentifier::builder()
                            .id(id)
                            .product_arn(product_arn)
                            .build()
                    })
                    .collect(),
            ))
            .workflow(
                WorkflowUpdate::builder()
                    .status(WorkflowStatus::Resolved)
                    .build(),
            );
        let out = self
            .budget
            .call(
                "securityhub:BatchUpdateFindings",
                Some(&self.region),
                || call.clone().send(),
            )
            .await
            .map_err(|e| e.fact("securityhub:BatchUpdateFindings"))?;
        Ok(out
            .unprocessed_findings()
            .iter()
            .map(|f| Refused {
                id: f
                    .finding_identifier()
                    .and_then(|i| i.id())
                    .unwrap_or_default()
                    .to_string(),
                code: f.error_code().unwrap_or_default().to_string(),
                message: f.error_message().unwrap_or_default().to_string(),
            })
            .collect())
    }
}

/// Our ASFF finding as the SDK's, field by field.
fn to_sdk(a: &Asff) -> AwsSecurityFinding {
    let mut b = AwsSecurityFinding::builder()
        .schema_version(a.schema_version)
        .id(&a.id)
        .product_arn(&a.product_arn)
        .generator_id(&a.generator_id)
        .aws_account_id(&a.aws_account_id)
        .created_at(&a.created_at)
        .updated_at(&a.updated_at)
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(a.severity.label))
                .original(a.severity.original)
                .build(),
        )
        .title(&a.title)
        .description(&a.description)
        .remediation(
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .text(&a.remediation.recommendation.text)
                        .url(&a.remediation.recommendation.url)
                        .build(),
                )
                .build(),
        )
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::from(a.compliance.status))
                .set_related_requirements(
                    (!a.compliance.related_requirements.is_empty())
                        .then(|| a.compliance.related_requirements.clone()),
                )
                .build(),
        )
        .record_state(RecordState::from(a.record_state))
        .workflow(
            Workflow::builder()
                .status(WorkflowStatus::from(a.workflow.status))
                .build(),
        );
    for t in &a.types {
        b = b.types(*t);
    }
    for (k, v) in &a.product_fields {
        b = b.product_fields(k, v);
    }
    for r in &a.resources {
        b = b.resources(
            Resource::builder()
                .r#type(r.kind)
                .id(&r.id)
                .partition(Partition::from(r.partition))
                .region(&r.region)
                .build(),
        );
    }
    b.build()
}

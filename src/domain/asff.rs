//! The AWS Security Finding Format, typed: the value `-o asff` prints
//! (`render::exports` builds it from findings) and `--security-hub` hands to
//! `BatchImportFindings` (`aws::securityhub` converts it field by field). Pure
//! data.

use serde::Serialize;

/// One ASFF finding, typed: what `-o asff` prints and what `--security-hub`
/// hands to `BatchImportFindings` (the adapter converts it field by field).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Asff {
    pub schema_version: &'static str,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    /// The account that imports the finding: BatchImportFindings accepts a
    /// default-product finding only from the account named here. The account
    /// the finding is about is the resource.
    pub aws_account_id: String,
    pub types: Vec<&'static str>,
    pub created_at: String,
    pub updated_at: String,
    pub severity: AsffSeverity,
    pub title: String,
    pub description: String,
    pub remediation: AsffRemediation,
    pub product_fields: std::collections::BTreeMap<String, String>,
    pub resources: Vec<AsffResource>,
    pub compliance: AsffCompliance,
    pub record_state: &'static str,
    pub workflow: AsffStatus,
}

/// `Compliance`: the status and the requirements the check maps to.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_requirements: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    pub label: &'static str,
    pub original: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    pub recommendation: AsffRecommendation,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRecommendation {
    pub text: String,
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub id: String,
    pub partition: &'static str,
    pub region: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffStatus {
    pub status: &'static str,
}

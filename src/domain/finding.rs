//! Verdicts, findings and the exit code they add up to.
//!
//! This module owns the vocabulary every renderer and check shares. It must not
//! know how a finding was produced or how it is printed.

use serde::Serialize;

use crate::domain::exit;

/// The verdict of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fail,
    Unknown,
    Warn,
    Manual,
    Pass,
    NotApplicable,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Pass,
        Status::Fail,
        Status::Warn,
        Status::NotApplicable,
        Status::Manual,
        Status::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::NotApplicable => "not_applicable",
            Status::Manual => "manual",
            Status::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// Every CIS AWS Foundations Benchmark version's recommendation ids for a
/// check: `("7.0", &["2.5"])`. Static: a thousand members' findings share it.
pub type CisVersions = &'static [(&'static str, &'static [&'static str])];

/// The CIS AWS Foundations Benchmark versions rootguard cites, oldest first.
pub const CIS_VERSIONS: [&str; 4] = ["3.0", "5.0", "6.0", "7.0"];

/// Cross-references auditors use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct References {
    /// CIS AWS Foundations Benchmark v3.0.0 recommendation ids (the field's
    /// meaning since rootguard.verify/v1; every version is in `cis_versions`).
    pub cis: Vec<&'static str>,
    /// Each CIS AWS Foundations Benchmark version's ids, as an object keyed
    /// by version ("3.0", "5.0", "6.0", "7.0").
    #[serde(serialize_with = "versions_map")]
    pub cis_versions: CisVersions,
    /// AWS Security Hub CSPM control ids.
    pub security_hub: Vec<&'static str>,
    /// NIST SP 800-53 Rev. 5 controls.
    pub nist_800_53_r5: &'static [&'static str],
}

fn versions_map<S: serde::Serializer>(v: &CisVersions, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(v.len()))?;
    for (version, ids) in v.iter() {
        m.serialize_entry(version, ids)?;
    }
    m.end()
}

impl References {
    /// The ids of one CIS version (empty when that version does not cover it).
    pub fn cis_in(&self, version: &str) -> &'static [&'static str] {
        self.cis_versions
            .iter()
            .find(|(v, _)| *v == version)
            .map_or(&[], |(_, ids)| *ids)
    }

    /// "v3.0 1.5 · v7.0 2.5", or empty.
    pub fn cis_text(&self) -> String {
        self.cis_versions
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(v, ids)| format!("v{v} {}", ids.join(", ")))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// ASFF `Compliance.RelatedRequirements`, in Security Hub's own spelling
    /// ("CIS AWS Foundations Benchmark v3.0.0/1.5", "NIST.800-53.r5 IA-2(1)").
    pub fn related_requirements(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .cis_versions
            .iter()
            .flat_map(|(v, ids)| {
                ids.iter()
                    .map(move |id| format!("CIS AWS Foundations Benchmark v{v}.0/{id}"))
            })
            .collect();
        out.extend(
            self.nist_800_53_r5
                .iter()
                .map(|c| format!("NIST.800-53.r5 {c}")),
        );
        out
    }
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    pub severity: Severity,
    /// The facts read, one statement a line.
    pub evidence: Vec<String>,
    /// The catalogue's text, shared by every finding of a check (a thousand
    /// members' findings do not each carry a copy), or a finding's own.
    pub remediation: std::borrow::Cow<'static, str>,
    pub references: References,
}

/// The process exit code for a set of findings: any fail wins, then unknown.
pub fn exit_code(findings: &[Finding]) -> u8 {
    if findings.iter().any(|f| f.status == Status::Fail) {
        exit::FAILED
    } else if findings.iter().any(|f| f.status == Status::Unknown) {
        exit::UNKNOWN
    } else {
        exit::OK
    }
}

/// How many findings have each status, in [`Status::ALL`] order.
pub fn tally(findings: &[Finding]) -> Vec<(Status, usize)> {
    Status::ALL
        .iter()
        .map(|s| (*s, findings.iter().filter(|f| f.status == *s).count()))
        .collect()
}

/// The result of one verify run, as every renderer receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub account_id: String,
    pub caller_arn: String,
    pub generated_at: time::OffsetDateTime,
    /// The --root-use-window in force, e.g. "1d".
    pub root_use_window: String,
    pub findings: Vec<Finding>,
    /// `--compliance cis-X`: the CIS version the findings are labelled with.
    pub compliance: Option<&'static str>,
}

impl Report {
    pub fn exit_code(&self) -> u8 {
        exit_code(&self.findings)
    }
}

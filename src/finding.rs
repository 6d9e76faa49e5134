//! Verdicts, findings and the exit code they add up to.
//!
//! This module owns the vocabulary every renderer and check shares. It must not
//! know how a finding was produced or how it is printed.

use serde::Serialize;

use crate::exit;

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

/// Cross-references auditors use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct References {
    /// CIS AWS Foundations Benchmark v3.0.0 recommendation ids.
    pub cis: Vec<&'static str>,
    /// AWS Security Hub control ids.
    pub security_hub: Vec<&'static str>,
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
}

impl Report {
    pub fn exit_code(&self) -> u8 {
        exit_code(&self.findings)
    }
}

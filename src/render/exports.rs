//! Exports for the tools auditors already use: CSV (one row per account ×
//! check), AWS Security Finding Format (ASFF, what Security Hub imports) and
//! OCSF 1.1 Compliance Finding (class 2003, what Security Lake and Prowler
//! speak).
//!
//! Pure: findings in, text out. Strings stay faithful (no terminal escaping):
//! these are data formats, and CSV/JSON quoting keeps them safe.

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::domain::asff::{
    Asff, AsffCompliance, AsffRecommendation, AsffRemediation, AsffResource, AsffSeverity,
    AsffStatus,
};
use crate::domain::finding::{Finding, Severity, Status};
use crate::domain::text::fmt_time;

/// What every row needs besides the finding.
#[derive(Clone, Debug)]
pub struct Context {
    pub generated_at: OffsetDateTime,
    /// Region the findings are filed under (Security Hub is regional).
    pub region: String,
    /// The account whose Security Hub receives the findings (the caller's).
    pub importer_account: String,
}

/// One finding about one account (`scope` is "account" or "organization").
pub struct Row<'a> {
    pub account_id: &'a str,
    pub scope: &'static str,
    pub finding: &'a Finding,
}

pub fn csv(rows: &[Row]) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "account_id",
        "scope",
        "check_id",
        "title",
        "status",
        "severity",
        "evidence",
        "remediation",
        "cis",
        "security_hub",
    ]);
    for r in rows {
        let f = r.finding;
        let _ = w.write_record([
            r.account_id,
            r.scope,
            f.id,
            f.title,
            f.status.as_str(),
            f.severity.as_str(),
            &f.evidence.join(" | "),
            &f.remediation,
            &f.references.cis.join(" "),
            &f.references.security_hub.join(" "),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The stable ASFF `Id`: a rerun updates the same finding.
pub fn asff_id(account_id: &str, check: &str) -> String {
    format!("rootguard/{account_id}/{check}")
}

fn asff_compliance(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASSED",
        Status::Fail => "FAILED",
        Status::Warn => "WARNING",
        Status::NotApplicable | Status::Manual | Status::Unknown => "NOT_AVAILABLE",
    }
}

fn severity_label(f: &Finding) -> &'static str {
    if matches!(f.status, Status::Pass | Status::NotApplicable) {
        return "INFORMATIONAL";
    }
    match f.severity {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
    }
}

/// The default product ARN of the importing account: the one Security Hub
/// accepts from it without a partner integration.
pub fn default_product_arn(region: &str, account: &str) -> String {
    format!("arn:aws:securityhub:{region}:{account}:product/{account}/default")
}

/// One ASFF finding (BatchImportFindings shape).
pub fn asff_finding(ctx: &Context, r: &Row) -> Asff {
    let f = r.finding;
    let now = fmt_time(ctx.generated_at);
    let desc: String = f.evidence.join("; ").chars().take(1024).collect();
    let fields = [
        ("rootguard/CheckId", f.id.to_string()),
        ("rootguard/Status", f.status.as_str().to_string()),
        ("rootguard/Scope", r.scope.to_string()),
        ("rootguard/Account", r.account_id.to_string()),
        ("rootguard/CIS", f.references.cis.join(" ")),
        (
            "rootguard/SecurityHubControls",
            f.references.security_hub.join(" "),
        ),
    ];
    Asff {
        schema_version: "2018-10-08",
        id: asff_id(r.account_id, f.id),
        product_arn: default_product_arn(&ctx.region, &ctx.importer_account),
        generator_id: format!("rootguard/{}", f.id),
        aws_account_id: ctx.importer_account.clone(),
        types: vec!["Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"],
        created_at: now.clone(),
        updated_at: now,
        severity: AsffSeverity {
            label: severity_label(f),
            original: f.severity.as_str(),
        },
        title: f.title.to_string(),
        description: if desc.is_empty() {
            f.title.to_string()
        } else {
            desc
        },
        remediation: AsffRemediation {
            recommendation: AsffRecommendation {
                text: f.remediation.chars().take(512).collect(),
                url: format!(
                    "https://github.com/rootguard/rootguard/blob/main/docs/checks.md#{}",
                    f.id
                ),
            },
        },
        product_fields: fields
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        resources: vec![AsffResource {
            kind: "AwsAccount",
            id: format!("AWS::::Account:{}", r.account_id),
            partition: "aws",
            region: ctx.region.clone(),
        }],
        compliance: AsffCompliance {
            status: asff_compliance(f.status),
            related_requirements: f.references.related_requirements(),
        },
        record_state: "ACTIVE",
        workflow: AsffStatus {
            status: if f.status == Status::Pass {
                "RESOLVED"
            } else {
                "NEW"
            },
        },
    }
}

/// Every row as an ASFF finding.
pub fn asff_findings(ctx: &Context, rows: &[Row]) -> Vec<Asff> {
    rows.iter().map(|r| asff_finding(ctx, r)).collect()
}

pub fn asff(ctx: &Context, rows: &[Row]) -> String {
    let all = asff_findings(ctx, rows);
    serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"
}

fn ocsf_severity(f: &Finding) -> (u8, &'static str) {
    if matches!(f.status, Status::Pass | Status::NotApplicable) {
        return (1, "Informational");
    }
    match f.severity {
        Severity::Critical => (5, "Critical"),
        Severity::High => (4, "High"),
        Severity::Medium => (3, "Medium"),
        Severity::Low => (2, "Low"),
    }
}

fn ocsf_compliance(s: Status) -> (u8, &'static str) {
    match s {
        Status::Pass => (1, "Pass"),
        Status::Warn => (2, "Warning"),
        Status::Fail => (3, "Fail"),
        Status::NotApplicable | Status::Manual | Status::Unknown => (0, "Unknown"),
    }
}

/// One OCSF 1.1 Compliance Finding (class_uid 2003, activity Create).
pub fn ocsf_finding(ctx: &Context, r: &Row) -> Value {
    let f = r.finding;
    let (sev_id, sev) = ocsf_severity(f);
    let (cstat_id, cstat) = ocsf_compliance(f.status);
    let ms = (ctx.generated_at.unix_timestamp_nanos() / 1_000_000) as i64;
    json!({
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200301,
        "type_name": "Compliance Finding: Create",
        "severity_id": sev_id,
        "severity": sev,
        "status_id": 1,
        "status": "New",
        "time": ms,
        "message": f.title,
        "metadata": {
            "version": "1.1.0",
            "product": {"name": "rootguard", "vendor_name": "rootguard", "version": env!("CARGO_PKG_VERSION")},
            "event_code": f.id
        },
        "finding_info": {
            "uid": asff_id(r.account_id, f.id),
            "title": f.title,
            "desc": f.evidence.join("; "),
            "types": ["CIS AWS Foundations Benchmark"]
        },
        "compliance": {
            "status_id": cstat_id,
            "status": cstat,
            "requirements": f.references.related_requirements(),
            "control": f.id,
            "standards": ["CIS AWS Foundations Benchmark"]
        },
        "remediation": {"desc": f.remediation},
        "cloud": {"provider": "AWS", "region": ctx.region, "account": {"uid": r.account_id, "type": "AWS Account", "type_id": 10}},
        "resources": [{"type": "AWS::::Account", "uid": r.account_id, "region": ctx.region}],
        "unmapped": {"rootguard_status": f.status.as_str(), "scope": r.scope}
    })
}

pub fn ocsf(ctx: &Context, rows: &[Row]) -> String {
    let all: Vec<Value> = rows.iter().map(|r| ocsf_finding(ctx, r)).collect();
    serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::finding::References;

    fn finding(status: Status) -> Finding {
        Finding {
            id: "root-mfa",
            title: "Root user has MFA enabled",
            status,
            severity: Severity::Critical,
            evidence: vec![
                "GetAccountSummary: AccountMFAEnabled=0".into(),
                "a,\"quoted\" value".into(),
            ],
            remediation: "Sign in as root".into(),
            references: References {
                cis: vec!["1.5"],
                cis_versions: &[("3.0", &["1.5"]), ("7.0", &["2.5"])],
                security_hub: vec!["IAM.9"],
                nist_800_53_r5: &["IA-2(1)"],
            },
        }
    }

    fn ctx() -> Context {
        Context {
            generated_at: time::macros::datetime!(2026-11-25 12:00 UTC),
            region: "us-east-1".into(),
            importer_account: "111122223333".into(),
        }
    }

    #[test]
    fn asff_has_the_required_fields_and_a_stable_id() {
        let f = finding(Status::Fail);
        let row = Row {
            account_id: "444455556666",
            scope: "account",
            finding: &f,
        };
        let v = serde_json::to_value(asff_finding(&ctx(), &row)).unwrap();
        for k in [
            "SchemaVersion",
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Types",
            "CreatedAt",
            "UpdatedAt",
            "Severity",
            "Title",
            "Description",
            "Resources",
        ] {
            assert!(v.get(k).is_some(), "ASFF requires {k}");
        }
        assert_eq!(v["Id"], "rootguard/444455556666/root-mfa");
        assert_eq!(v["Compliance"]["Status"], "FAILED");
        assert_eq!(v["Severity"]["Label"], "CRITICAL");
        assert_eq!(v["Resources"][0]["Id"], "AWS::::Account:444455556666");
        assert_eq!(
            v["AwsAccountId"],
            ctx().importer_account,
            "BatchImportFindings takes default-product findings only from the account they name"
        );
        let passed = finding(Status::Pass);
        let p = serde_json::to_value(asff_finding(
            &ctx(),
            &Row {
                account_id: "444455556666",
                scope: "account",
                finding: &passed,
            },
        ))
        .unwrap();
        assert_eq!(p["Id"], v["Id"], "a rerun updates the same finding");
        assert_eq!(p["Compliance"]["Status"], "PASSED");
        assert_eq!(p["Workflow"]["Status"], "RESOLVED");
    }

    #[test]
    fn ocsf_is_a_compliance_finding() {
        let f = finding(Status::Warn);
        let v = ocsf_finding(
            &ctx(),
            &Row {
                account_id: "444455556666",
                scope: "account",
                finding: &f,
            },
        );
        assert_eq!(v["class_uid"], 2003);
        assert_eq!(v["category_uid"], 2);
        assert_eq!(v["type_uid"], 200301);
        assert_eq!(v["compliance"]["status"], "Warning");
        assert_eq!(v["severity_id"], 5);
        assert_eq!(v["time"], 1795608000000i64);
        assert_eq!(v["metadata"]["product"]["name"], "rootguard");
        assert_eq!(v["cloud"]["account"]["uid"], "444455556666");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let f = finding(Status::Fail);
        let out = csv(&[Row {
            account_id: "444455556666",
            scope: "account",
            finding: &f,
        }]);
        let mut r = ::csv::Reader::from_reader(out.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[0], "444455556666");
        assert_eq!(&rec[2], "root-mfa");
        assert!(rec[6].contains("a,\"quoted\" value"));
    }
}

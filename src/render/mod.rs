//! Renderers: a [`Report`] to text, JSON, JUnit XML or Markdown.
//!
//! The render layer (an edge, beside `aws` and `term`) owns every output
//! format of `verify` and `verify --org`, including the versioned JSON schema
//! documented in `docs/output-schema.md`. Renderers are pure functions from a
//! domain value to a string (or a writer); they import only `domain`, must not
//! call AWS, decide verdicts, touch the terminal or write files (`term::out`
//! does), and colour is only ever added when the caller says so.

use serde::Serialize;

use crate::domain::finding::{tally, Finding, Report, Status};
use crate::domain::text::fmt_time;

pub mod exports;
pub mod html;
pub mod org;

use crate::domain::text::escape;

/// The JSON schema identifier; bump on any incompatible change.
pub const JSON_SCHEMA: &str = "rootguard.verify/v1";

pub use crate::domain::output::{Format, OutputSpec};

/// One export row per finding of the account.
pub fn rows(report: &Report) -> Vec<exports::Row<'_>> {
    report
        .findings
        .iter()
        .map(|f| exports::Row {
            account_id: &report.account_id,
            scope: "account",
            finding: f,
        })
        .collect()
}

pub fn render(report: &Report, format: Format, color: bool, ctx: &exports::Context) -> String {
    let rows = || rows(report);
    match format {
        Format::Text => text(report, color),
        Format::Json => json(report),
        Format::Junit => junit(report),
        Format::Markdown => markdown(report),
        Format::Html => html::account(report),
        Format::Csv => exports::csv(&rows()),
        Format::Asff => exports::asff(ctx, &rows()),
        Format::Ocsf => exports::ocsf(ctx, &rows()),
    }
}

fn label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Warn => "WARN",
        Status::NotApplicable => "N/A",
        Status::Manual => "MANUAL",
        Status::Unknown => "UNKNOWN",
    }
}

pub fn paint(s: &str, status: Status, color: bool) -> String {
    if !color {
        return s.to_string();
    }
    let code = match status {
        Status::Pass => "32",
        Status::Fail => "1;31",
        Status::Warn => "33",
        Status::Unknown => "35",
        Status::Manual => "36",
        Status::NotApplicable => "2",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

pub fn summary_line(report: &Report) -> String {
    let parts: Vec<String> = tally(&report.findings)
        .into_iter()
        .map(|(s, n)| format!("{n} {}", s.as_str().replace('_', " ")))
        .collect();
    format!("{} checks: {}", report.findings.len(), parts.join(", "))
}

fn id_width(report: &Report) -> usize {
    report
        .findings
        .iter()
        .map(|f| f.id.len())
        .max()
        .unwrap_or(0)
}

/// `STATUS  severity  id  title`, aligned.
fn line(f: &Finding, id_w: usize, color: bool) -> String {
    let status = format!("{:<7}", label(f.status));
    format!(
        "{}  {:<8}  {:<id_w$}  {}\n",
        paint(&status, f.status, color),
        f.severity.as_str(),
        f.id,
        f.title
    )
}

/// One aligned line per check and the tally: the wizard's overview.
pub fn summary(report: &Report, color: bool) -> String {
    let id_w = id_width(report);
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&line(f, id_w, color));
    }
    out.push_str(&summary_line(report));
    out
}

/// Aligned columns; evidence and fixes under each finding that is not a pass.
pub fn text(report: &Report, color: bool) -> String {
    text_opts(report, color, false)
}

/// [`text`] with each check's references under it (`verify -v`): every CIS
/// AWS Foundations version's ids, Security Hub controls, NIST SP 800-53 r5.
pub fn text_with_references(report: &Report, color: bool) -> String {
    text_opts(report, color, true)
}

pub(crate) fn references_line(f: &Finding) -> Option<String> {
    let r = &f.references;
    let mut parts = Vec::new();
    let cis = r.cis_text();
    if !cis.is_empty() {
        parts.push(format!("CIS {cis}"));
    }
    if !r.security_hub.is_empty() {
        parts.push(format!("Security Hub {}", r.security_hub.join(", ")));
    }
    if !r.nist_800_53_r5.is_empty() {
        parts.push(format!("NIST 800-53 r5 {}", r.nist_800_53_r5.join(", ")));
    }
    (!parts.is_empty()).then(|| format!("{:21}refs: {}\n", "", parts.join("; ")))
}

fn text_opts(report: &Report, color: bool, references: bool) -> String {
    let mut out = format!(
        "rootguard verify: account {} as {} at {}\n\n",
        escape(&report.account_id),
        escape(&report.caller_arn),
        fmt_time(report.generated_at)
    );
    if let Some(v) = report.compliance {
        out.push_str(&format!(
            "compliance: CIS AWS Foundations Benchmark v{v}: the checks it covers, with its ids\n\n"
        ));
    }
    let id_w = id_width(report);
    for f in &report.findings {
        out.push_str(&line(f, id_w, color));
        if references {
            out.extend(references_line(f));
        }
        if let Some(v) = report.compliance {
            out.push_str(&format!(
                "{:21}CIS v{v} {}\n",
                "",
                f.references.cis_in(v).join(", ")
            ));
        }
        if f.status != Status::Pass {
            for e in &f.evidence {
                out.push_str(&format!("{:21}- {}\n", "", escape(e)));
            }
            if matches!(
                f.status,
                Status::Fail | Status::Warn | Status::Manual | Status::Unknown
            ) {
                out.push_str(&format!("{:21}fix: {}\n", "", f.remediation));
            }
        }
    }
    out.push_str(&format!("\n{}\n", summary_line(report)));
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    rootguard_version: &'static str,
    generated_at: String,
    account_id: &'a str,
    caller_arn: &'a str,
    root_use_window: &'a str,
    exit_code: u8,
    /// `--compliance`: the framework and version, or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    compliance: Option<serde_json::Value>,
    summary: serde_json::Map<String, serde_json::Value>,
    findings: &'a [Finding],
}

/// The versioned JSON document (schema `rootguard.verify/v1`).
pub fn json(report: &Report) -> String {
    let mut summary = serde_json::Map::new();
    summary.insert("total".into(), report.findings.len().into());
    for (s, n) in tally(&report.findings) {
        summary.insert(s.as_str().into(), n.into());
    }
    let doc = JsonReport {
        schema: JSON_SCHEMA,
        rootguard_version: env!("CARGO_PKG_VERSION"),
        generated_at: fmt_time(report.generated_at),
        account_id: &report.account_id,
        caller_arn: &report.caller_arn,
        root_use_window: &report.root_use_window,
        exit_code: report.exit_code(),
        compliance: report.compliance.map(
            |v| serde_json::json!({"framework": "CIS AWS Foundations Benchmark", "version": v}),
        ),
        summary,
        findings: &report.findings,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("report serializes");
    s.push('\n');
    s
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// One testcase per check: fail is a failure, unknown an error,
/// not_applicable and manual are skipped, warn passes with a note.
pub fn junit(report: &Report) -> String {
    let n = |s: Status| report.findings.iter().filter(|f| f.status == s).count();
    let (failures, errors) = (n(Status::Fail), n(Status::Unknown));
    let skipped = n(Status::NotApplicable) + n(Status::Manual);
    let total = report.findings.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"rootguard verify\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">\n"
    ));
    junit_suite(
        &mut out,
        &format!("rootguard verify {}", report.account_id),
        &format!("rootguard.{}", report.account_id),
        &report.findings,
        &fmt_time(report.generated_at),
        &[
            ("account_id", report.account_id.as_str()),
            ("caller_arn", report.caller_arn.as_str()),
            ("root_use_window", report.root_use_window.as_str()),
        ],
    );
    out.push_str("</testsuites>\n");
    out
}

/// One `<testsuite>`: a testcase per finding, with optional properties.
fn junit_suite(
    out: &mut String,
    name: &str,
    classname: &str,
    findings: &[Finding],
    ts: &str,
    properties: &[(&str, &str)],
) {
    let n = |s: Status| findings.iter().filter(|f| f.status == s).count();
    out.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{ts}\">\n",
        xml(name),
        findings.len(),
        n(Status::Fail),
        n(Status::Unknown),
        n(Status::NotApplicable) + n(Status::Manual),
    ));
    if !properties.is_empty() {
        out.push_str("    <properties>\n");
        for (k, v) in properties {
            out.push_str(&format!(
                "      <property name=\"{k}\" value=\"{}\"/>\n",
                xml(v)
            ));
        }
        out.push_str("    </properties>\n");
    }
    for f in findings {
        let body = {
            let mut b = f.evidence.join("\n");
            b.push_str(&format!("\nremediation: {}", f.remediation));
            xml(&b)
        };
        let first = xml(f.evidence.first().map(String::as_str).unwrap_or(f.title));
        out.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\">\n",
            xml(classname),
            f.id
        ));
        match f.status {
            Status::Fail => out.push_str(&format!(
                "      <failure type=\"fail\" message=\"{first}\">{body}</failure>\n"
            )),
            Status::Unknown => out.push_str(&format!(
                "      <error type=\"unknown\" message=\"{first}\">{body}</error>\n"
            )),
            Status::NotApplicable | Status::Manual => out.push_str(&format!(
                "      <skipped message=\"{}: {first}\"/>\n",
                f.status.as_str()
            )),
            Status::Warn => out.push_str(&format!("      <system-out>warn: {body}</system-out>\n")),
            Status::Pass => {}
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

fn md(s: &str) -> String {
    escape(s)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn icon(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅",
        Status::Fail => "❌",
        Status::Warn => "⚠️",
        Status::NotApplicable => "➖",
        Status::Manual => "👤",
        Status::Unknown => "❓",
    }
}

/// Every CIS version's ids ("v3.0 1.5 · v7.0 2.5"), or a dash.
fn cis_refs(f: &Finding) -> String {
    match f.references.cis_text() {
        t if t.is_empty() => "—".to_string(),
        t => t,
    }
}

fn refs(v: &[&str]) -> String {
    if v.is_empty() {
        "—".into()
    } else {
        v.join(", ")
    }
}

/// An audit report: context, a summary table, then each finding with its
/// evidence, remediation and CIS / Security Hub references.
pub fn markdown(report: &Report) -> String {
    let code = report.exit_code();
    let verdict = match code {
        crate::domain::exit::OK => "PASS",
        crate::domain::exit::FAILED => "FAIL",
        _ => "INCOMPLETE (some checks could not be decided)",
    };
    let mut out = String::from("# rootguard audit report: AWS root user\n\n");
    out.push_str("| | |\n|---|---|\n");
    out.push_str(&format!("| Account | `{}` |\n", md(&report.account_id)));
    out.push_str(&format!("| Audited as | `{}` |\n", md(&report.caller_arn)));
    out.push_str(&format!(
        "| Generated | {} |\n",
        fmt_time(report.generated_at)
    ));
    out.push_str(&format!(
        "| Root-use window | {} |\n",
        report.root_use_window
    ));
    out.push_str(&format!(
        "| Tool | rootguard {} (read-only verify) |\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str(&format!("| Result | **{verdict}** (exit {code}) |\n\n"));
    out.push_str(&format!("{}\n\n", summary_line(report)));
    out.push_str("## Summary\n\n| Check | Status | Severity | CIS AWS Foundations | Security Hub |\n|---|---|---|---|---|\n");
    for f in &report.findings {
        out.push_str(&format!(
            "| [`{}`](#{}) {} | {} {} | {} | {} | {} |\n",
            f.id,
            f.id,
            md(f.title),
            icon(f.status),
            f.status.as_str(),
            f.severity.as_str(),
            cis_refs(f),
            refs(&f.references.security_hub)
        ));
    }
    out.push_str("\n## Findings\n");
    for f in &report.findings {
        out.push_str(&format!("\n### {}\n\n", f.id));
        out.push_str(&format!(
            "{} **{}**: {}  \nSeverity: {} · CIS: {} · Security Hub: {}{}\n\n",
            icon(f.status),
            f.status.as_str(),
            md(f.title),
            f.severity.as_str(),
            cis_refs(f),
            refs(&f.references.security_hub),
            if f.references.nist_800_53_r5.is_empty() {
                String::new()
            } else {
                format!(
                    " · NIST SP 800-53 r5: {}",
                    f.references.nist_800_53_r5.join(", ")
                )
            }
        ));
        out.push_str("Evidence:\n\n");
        for e in &f.evidence {
            out.push_str(&format!("- {}\n", md(e)));
        }
        if f.status != Status::Pass && f.status != Status::NotApplicable {
            out.push_str(&format!("\nRemediation: {}\n", md(&f.remediation)));
        }
    }
    out
}

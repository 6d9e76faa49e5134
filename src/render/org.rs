//! Renderers for `verify --org` and `org status`: an [`OrgReport`] to text,
//! JSON (`rootguard.verify-org/v1`), JUnit (one testsuite per account) and
//! Markdown (an account × check matrix, then details).
//!
//! Pure string builders like the rest of `render`; every string from AWS
//! passes through `escape` (text) or `md` (Markdown) or `xml` (JUnit).

use serde::Serialize;

use super::{icon, junit_suite, label, md, paint, refs, xml, Format};
use crate::domain::finding::{Finding, Status};
use crate::domain::org::{AccountResult, OrgReport, OrgStatus};
use crate::domain::text::escape;
use crate::domain::text::fmt_time;

pub const JSON_SCHEMA: &str = "rootguard.verify-org/v1";

/// One export row per finding: the organization's, then each member's.
pub fn rows(report: &OrgReport) -> Vec<super::exports::Row<'_>> {
    use super::exports::Row;
    report
        .findings
        .iter()
        .map(|f| Row {
            account_id: &report.management_account_id,
            scope: "organization",
            finding: f,
        })
        .chain(report.accounts.iter().flat_map(|a| {
            a.findings.iter().map(|f| Row {
                account_id: &a.account.id,
                scope: "account",
                finding: f,
            })
        }))
        .collect()
}

pub fn render(
    report: &OrgReport,
    format: Format,
    color: bool,
    ctx: &super::exports::Context,
) -> String {
    use super::exports;
    let rows = || rows(report);
    match format {
        Format::Text => text(report, color),
        Format::Json => json(report),
        Format::Junit => junit(report),
        Format::Markdown => markdown(report),
        Format::Html => super::html::org(report),
        Format::Csv => exports::csv(&rows()),
        Format::Asff => exports::asff(ctx, &rows()),
        Format::Ocsf => exports::ocsf(ctx, &rows()),
    }
}

/// [`render`] into a writer: the JSON document is written as it is
/// serialized, never held whole (a thousand accounts make about 10 MB).
pub fn render_to(
    report: &OrgReport,
    format: Format,
    color: bool,
    ctx: &super::exports::Context,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json_to(report, w),
        other => w.write_all(render(report, other, color, ctx).as_bytes()),
    }
}

fn counts<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut total = 0usize;
    let mut by = std::collections::BTreeMap::new();
    for f in findings {
        total += 1;
        *by.entry(f.status).or_insert(0usize) += 1;
    }
    let mut m = serde_json::Map::new();
    m.insert("total".into(), total.into());
    for s in crate::domain::finding::Status::ALL {
        m.insert(
            s.as_str().into(),
            by.get(&s).copied().unwrap_or_default().into(),
        );
    }
    m
}

fn status_cell(findings: &[Finding], s: Status) -> usize {
    findings.iter().filter(|f| f.status == s).count()
}

/// The organization's totals in one line: accounts, failing and unknown ones,
/// and the findings by status.
pub fn totals_line(report: &OrgReport) -> String {
    let t = report.tally();
    let parts: Vec<String> = t
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str().replace('_', " ")))
        .collect();
    format!(
        "{} accounts ({} failing, {} unknown); {} findings: {}",
        report.accounts.len(),
        report.accounts_with(crate::domain::exit::FAILED),
        report.accounts_with(crate::domain::exit::UNKNOWN),
        t.iter().map(|(_, n)| n).sum::<usize>(),
        parts.join(", ")
    )
}

/// An account × status table, the organization's findings, then what did not
/// pass per account.
pub fn text(report: &OrgReport, color: bool) -> String {
    text_opts(report, color, false)
}

/// [`text`] followed by each check's references, once per check in the
/// report (`verify --org -v`): CIS versions, Security Hub, NIST SP 800-53 r5.
pub fn text_with_references(report: &OrgReport, color: bool) -> String {
    text_opts(report, color, true)
}

fn text_opts(report: &OrgReport, color: bool, references: bool) -> String {
    let mut out = format!(
        "rootguard verify --org: organization {} (management account {}) as {} at {}\n\n",
        escape(&report.organization_id),
        report.management_account_id,
        escape(&report.caller_arn),
        fmt_time(report.generated_at)
    );
    out.push_str("organization\n");
    for f in &report.findings {
        out.push_str(&format!(
            "  {}  {:<8}  {:<24}  {}\n",
            paint(&format!("{:<7}", label(f.status)), f.status, color),
            f.severity.as_str(),
            f.id,
            f.title
        ));
        if f.status != Status::Pass {
            for e in &f.evidence {
                out.push_str(&format!("{:21}- {}\n", "", escape(e)));
            }
            out.push_str(&format!("{:21}fix: {}\n", "", f.remediation));
        }
    }
    let name_w = report
        .accounts
        .iter()
        .map(|a| a.account.name.chars().count().min(32))
        .max()
        .unwrap_or(4)
        .max(4);
    out.push_str(&format!(
        "\n{:<12}  {:<name_w$}  {:<13}  {:>4} {:>4} {:>4} {:>4} {:>6} {:>7}\n",
        "account", "name", "access", "pass", "fail", "warn", "n/a", "manual", "unknown"
    ));
    for a in &report.accounts {
        let f = &a.findings;
        let name: String = escape(&a.account.name).chars().take(32).collect();
        out.push_str(&format!(
            "{:<12}  {:<name_w$}  {:<13}  {:>4} {:>4} {:>4} {:>4} {:>6} {:>7}\n",
            a.account.id,
            name,
            access_str(a),
            status_cell(f, Status::Pass),
            status_cell(f, Status::Fail),
            status_cell(f, Status::Warn),
            status_cell(f, Status::NotApplicable),
            status_cell(f, Status::Manual),
            status_cell(f, Status::Unknown),
        ));
    }
    let mut fixes: Vec<(&Finding, Vec<&str>)> = Vec::new();
    for a in &report.accounts {
        let bad: Vec<&Finding> = a
            .findings
            .iter()
            .filter(|f| matches!(f.status, Status::Fail | Status::Unknown | Status::Warn))
            .collect();
        if bad.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n{} ({})\n",
            a.account.id,
            escape(&a.account.name)
        ));
        for f in bad {
            out.push_str(&format!(
                "  {}  {}\n",
                paint(&format!("{:<7}", label(f.status)), f.status, color),
                f.id
            ));
            for e in &f.evidence {
                out.push_str(&format!("{:11}- {}\n", "", escape(e)));
            }
            match fixes.iter_mut().find(|(x, _)| x.id == f.id) {
                Some((_, ids)) => ids.push(&a.account.id),
                None => fixes.push((f, vec![&a.account.id])),
            }
        }
    }
    // Each check's fix once, not once per account (a thousand members that
    // fail the same check share one remedy).
    if !fixes.is_empty() {
        out.push_str("\nhow to fix (each check once)\n");
        for (f, ids) in fixes {
            // A member's root credential has one fix, for every member that
            // has it: deleted at the source.
            let fix = crate::domain::org::member_fix(f.id, &ids)
                .map_or(f.remediation.clone(), std::borrow::Cow::Owned);
            out.push_str(&format!("  {}\n{:11}fix: {}\n", f.id, "", fix));
        }
    }
    out.push_str(&format!("\n{}\n", totals_line(report)));
    if references {
        let mut seen = std::collections::BTreeSet::new();
        let checks = report
            .findings
            .iter()
            .chain(report.accounts.iter().flat_map(|a| &a.findings))
            .filter(|f| seen.insert(f.id));
        let mut block = String::new();
        for f in checks {
            if let Some(line) = super::references_line(f) {
                block.push_str(&format!("  {}\n{line}", f.id));
            }
        }
        if !block.is_empty() {
            out.push_str("\nreferences\n");
            out.push_str(&block);
        }
    }
    out
}

pub(super) fn access_str(a: &AccountResult) -> &'static str {
    a.access.as_str()
}

#[derive(Serialize)]
struct JsonAccount<'a> {
    account_id: &'a str,
    name: &'a str,
    email: &'a str,
    access: &'static str,
    exit_code: u8,
    summary: serde_json::Map<String, serde_json::Value>,
    findings: &'a [Finding],
}

#[derive(Serialize)]
struct JsonOrg<'a> {
    findings: &'a [Finding],
}

#[derive(Serialize)]
struct JsonOrgReport<'a> {
    schema: &'static str,
    rootguard_version: &'static str,
    generated_at: String,
    organization_id: &'a str,
    management_account_id: &'a str,
    caller_arn: &'a str,
    root_use_window: &'a str,
    exit_code: u8,
    summary: serde_json::Map<String, serde_json::Value>,
    organization: JsonOrg<'a>,
    accounts: Vec<JsonAccount<'a>>,
}

/// The versioned JSON document (schema `rootguard.verify-org/v1`).
pub fn json(report: &OrgReport) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = json_to(report, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`json`] into a writer.
fn json_to(report: &OrgReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut summary = serde_json::Map::new();
    summary.insert("accounts".into(), report.accounts.len().into());
    summary.insert(
        "accounts_failing".into(),
        report.accounts_with(crate::domain::exit::FAILED).into(),
    );
    summary.insert(
        "accounts_unknown".into(),
        report.accounts_with(crate::domain::exit::UNKNOWN).into(),
    );
    // Counted over references: a copy of every finding would double the memory.
    summary.extend(counts(report.all_findings()));
    let doc = JsonOrgReport {
        schema: JSON_SCHEMA,
        rootguard_version: env!("CARGO_PKG_VERSION"),
        generated_at: fmt_time(report.generated_at),
        organization_id: &report.organization_id,
        management_account_id: &report.management_account_id,
        caller_arn: &report.caller_arn,
        root_use_window: &report.root_use_window,
        exit_code: report.exit_code(),
        summary,
        organization: JsonOrg {
            findings: &report.findings,
        },
        accounts: report
            .accounts
            .iter()
            .map(|a| JsonAccount {
                account_id: &a.account.id,
                name: &a.account.name,
                email: &a.account.email,
                access: access_str(a),
                exit_code: a.exit_code(),
                summary: counts(&a.findings),
                findings: &a.findings,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    w.write_all(b"\n")
}

/// One `<testsuite>` for the organization's checks and one per account.
pub fn junit(report: &OrgReport) -> String {
    let all: Vec<Finding> = report.all_findings().cloned().collect();
    let n = |s: Status| all.iter().filter(|f| f.status == s).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"rootguard verify --org {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
        xml(&report.organization_id),
        all.len(),
        n(Status::Fail),
        n(Status::Unknown),
        n(Status::NotApplicable) + n(Status::Manual),
    ));
    let ts = fmt_time(report.generated_at);
    junit_suite(
        &mut out,
        &format!("rootguard organization {}", report.organization_id),
        &format!("rootguard.{}", report.organization_id),
        &report.findings,
        &ts,
        &[],
    );
    for a in &report.accounts {
        junit_suite(
            &mut out,
            &format!("rootguard verify {} {}", a.account.id, a.account.name),
            &format!("rootguard.{}", a.account.id),
            &a.findings,
            &ts,
            &[],
        );
    }
    out.push_str("</testsuites>\n");
    out
}

/// An account × check matrix, then the organization's findings and each
/// account's findings that did not pass.
pub fn markdown(report: &OrgReport) -> String {
    let code = report.exit_code();
    let verdict = match code {
        crate::domain::exit::OK => "PASS",
        crate::domain::exit::FAILED => "FAIL",
        _ => "INCOMPLETE (some checks could not be decided)",
    };
    let mut out = String::from("# rootguard audit report: root users of an AWS organization\n\n");
    out.push_str("| | |\n|---|---|\n");
    out.push_str(&format!(
        "| Organization | `{}` |\n",
        md(&report.organization_id)
    ));
    out.push_str(&format!(
        "| Management account | `{}` |\n",
        report.management_account_id
    ));
    out.push_str(&format!("| Audited as | `{}` |\n", md(&report.caller_arn)));
    out.push_str(&format!(
        "| Generated | {} |\n",
        fmt_time(report.generated_at)
    ));
    out.push_str(&format!("| Accounts | {} |\n", report.accounts.len()));
    out.push_str(&format!("| Result | **{verdict}** (exit {code}) |\n\n"));
    let ids: Vec<&'static str> = report
        .accounts
        .iter()
        .flat_map(|a| a.findings.iter().map(|f| f.id))
        .fold(Vec::new(), |mut v, id| {
            if !v.contains(&id) {
                v.push(id);
            }
            v
        });
    out.push_str("## Accounts × checks\n\n| Account | Name | Access |");
    for id in &ids {
        out.push_str(&format!(" `{id}` |"));
    }
    out.push_str("\n|---|---|---|");
    for _ in &ids {
        out.push_str("---|");
    }
    out.push('\n');
    for a in &report.accounts {
        out.push_str(&format!(
            "| `{}` | {} | {} |",
            a.account.id,
            md(&a.account.name),
            access_str(a)
        ));
        for id in &ids {
            let cell = a
                .findings
                .iter()
                .find(|f| f.id == *id)
                .map(|f| icon(f.status))
                .unwrap_or("");
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out.push_str("\n## Organization\n");
    for f in &report.findings {
        finding_md(&mut out, f);
    }
    for a in &report.accounts {
        let shown: Vec<&Finding> = a
            .findings
            .iter()
            .filter(|f| !matches!(f.status, Status::Pass | Status::NotApplicable))
            .collect();
        if shown.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n## Account {} ({})\n",
            a.account.id,
            md(&a.account.name)
        ));
        for f in shown {
            finding_md(&mut out, f);
        }
    }
    out
}

fn finding_md(out: &mut String, f: &Finding) {
    out.push_str(&format!(
        "\n### {}\n\n{} **{}**: {}  \nSeverity: {} · CIS: {} · Security Hub: {}\n\nEvidence:\n\n",
        f.id,
        icon(f.status),
        f.status.as_str(),
        md(f.title),
        f.severity.as_str(),
        match f.references.cis_text() {
            t if t.is_empty() => "—".to_string(),
            t => t,
        },
        refs(&f.references.security_hub)
    ));
    for e in &f.evidence {
        out.push_str(&format!("- {}\n", md(e)));
    }
    if f.status != Status::Pass && f.status != Status::NotApplicable {
        out.push_str(&format!("\nRemediation: {}\n", md(&f.remediation)));
    }
}

/// `org status` as text.
pub fn status_text(s: &OrgStatus) -> String {
    let yn = |v: Option<bool>| match v {
        Some(true) => "enabled",
        Some(false) => "not enabled",
        None => "unknown",
    };
    let mut out = format!(
        "organization {} (management account {})\n",
        escape(&s.organization_id),
        s.management_account_id
    );
    out.push_str(&format!(
        "  RootCredentialsManagement  {}\n  RootSessions               {}\n",
        yn(s.features.root_credentials_management),
        yn(s.features.root_sessions)
    ));
    if let Some(e) = &s.features.error {
        out.push_str(&format!("    ({})\n", escape(e)));
    }
    for t in &s.trusted_access {
        out.push_str(&format!(
            "  trusted access {:<22} {}\n",
            t.service_principal,
            yn(t.enabled)
        ));
    }
    match (
        &s.delegated_administrators,
        &s.delegated_administrators_error,
    ) {
        (Some(l), _) if l.is_empty() => out.push_str("  IAM delegated administrator: none\n"),
        (Some(l), _) => out.push_str(&format!(
            "  IAM delegated administrator: {}\n",
            l.join(", ")
        )),
        (None, e) => out.push_str(&format!(
            "  IAM delegated administrator: unknown ({})\n",
            escape(e.as_deref().unwrap_or("not read"))
        )),
    }
    let m = &s.members;
    out.push_str(&format!(
        "\nmembers: {} total, {} without root credentials, {} not read\n  with a root password          {}\n  with root access keys         {}\n  with root signing certificates {}\n  with root MFA devices         {}\n",
        m.total,
        m.without_root_credentials,
        m.not_read,
        m.with_password,
        m.with_access_keys,
        m.with_signing_certificates,
        m.with_mfa_devices
    ));
    if !s.members_with_root_credentials.is_empty() {
        out.push_str("\nmembers that still have root credentials:\n");
        for c in &s.members_with_root_credentials {
            out.push_str(&format!(
                "  {}  {}: {}\n",
                c.account_id,
                escape(&c.name),
                c.detail.join(", ")
            ));
        }
        out.push_str("remove them with `rootguard org harden`\n");
    }
    if !s.members_not_read.is_empty() {
        out.push_str("\nmembers not read:\n");
        for c in &s.members_not_read {
            out.push_str(&format!(
                "  {}  {}: {}\n",
                c.account_id,
                escape(&c.name),
                escape(&c.detail.join("; "))
            ));
        }
    }
    out
}

pub fn status_json(s: &OrgStatus) -> String {
    serde_json::to_string_pretty(s).unwrap_or_default() + "\n"
}

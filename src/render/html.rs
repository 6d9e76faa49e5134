//! `-o html`: one self-contained report an auditor opens in a browser and
//! attaches to the evidence: inline style and script only (nothing is loaded
//! from the network), status in words and symbols as well as colour, and a
//! print style. For `verify --org`, an account × check matrix that sorts and
//! filters in the page.
//!
//! Pure string building. Every string that came from AWS (account names,
//! ARNs, evidence) goes through [`h`], which makes control characters visible
//! ([`crate::domain::text::escape`]) and then escapes HTML, so it renders as text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::domain::finding::{tally, Finding, Report, Status};
use crate::domain::org::OrgReport;
use crate::domain::text::fmt_time;

/// Text for HTML: control characters made visible, then `& < > " '` escaped.
pub fn h(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::domain::text::escape(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn symbol(s: Status) -> &'static str {
    match s {
        Status::Pass => "✔",
        Status::Fail => "✘",
        Status::Warn => "!",
        Status::Unknown => "?",
        Status::Manual => "✎",
        Status::NotApplicable => "–",
    }
}

/// A status as a reader says it: `not applicable`, not `not_applicable`.
fn word(s: Status) -> String {
    s.as_str().replace('_', " ")
}

/// A status as a symbol and a word: readable without colour and in print.
fn badge(s: Status) -> String {
    format!(
        "<span class=\"st {c}\" data-status=\"{c}\">{} {}</span>",
        symbol(s),
        word(s),
        c = s.as_str()
    )
}

/// What each status means, for the legend.
fn meaning(s: Status) -> &'static str {
    match s {
        Status::Pass => "the check holds",
        Status::Fail => "the check does not hold: fix it",
        Status::Warn => "holds, with a weakness worth fixing",
        Status::Unknown => {
            "could not be decided (the evidence names the missing permission or error)"
        }
        Status::Manual => "a person must look where the evidence says: no API can decide it",
        Status::NotApplicable => "does not apply to this account",
    }
}

/// The symbols the matrix uses, with their words and what they mean.
fn legend() -> String {
    let items: Vec<String> = Status::ALL
        .iter()
        .map(|s| format!("<li>{}: {}</li>", badge(*s), meaning(*s)))
        .collect();
    format!("<ul class=\"legend\">{}</ul>", items.join(""))
}

/// Our own sentences (remediation, evidence) for HTML: [`h`], then each
/// `` `code` `` span as `<code>`, so commands read as commands.
fn prose(s: &str) -> String {
    let escaped = h(s);
    let mut out = String::with_capacity(escaped.len() + 16);
    let mut parts = escaped.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    // An odd backtick out (no closing one) stays as it is.
    let pairs = rest.len() / 2 * 2;
    for (i, part) in rest.iter().enumerate() {
        if i >= pairs {
            out.push('`');
            out.push_str(part);
        } else if i % 2 == 0 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Whether a finding asks anything of the reader (its remediation is shown).
fn needs_action(s: Status) -> bool {
    !matches!(s, Status::Pass | Status::NotApplicable)
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#1b1f24;max-width:1200px}
h1{font-size:1.5em;margin:0 0 .4em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #d0d7de;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}th.sort{cursor:pointer}th.sort:after{content:" \21C5";color:#8c959f}
.meta td:first-child{font-weight:600}
.st{font-weight:600;white-space:nowrap}.nb{white-space:nowrap}
th.check{vertical-align:bottom;white-space:nowrap}th.check a{writing-mode:vertical-rl;transform:rotate(180deg)}
.legend{list-style:none;padding:0;margin:.3em 0}.legend li{margin:.1em 0}.notread{color:#57606a}
section.account{border-left:3px solid #d0d7de;padding-left:.8em;margin:1em 0}
.pass{color:#1a7f37}.fail{color:#cf222e}.warn{color:#9a6700}.unknown{color:#8250df}.manual{color:#0969da}.not_applicable{color:#57606a}
td.cell{text-align:center}
.evidence{margin:.3em 0 .3em 1.2em;padding:0}.remedy{margin:.3em 0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em;overflow-wrap:anywhere}
td code,th code{overflow-wrap:normal;white-space:nowrap}
.controls{margin:.6em 0}.controls input,.controls select{font:inherit;padding:.2em .4em;margin-right:.6em}
details{margin:.2em 0}summary{cursor:pointer}
@media print{.controls{display:none}th.sort:after{content:""}details{break-inside:avoid}details>*{display:block}body{margin:0}section.account{break-inside:avoid}}
"#;

/// Sorting by a column and filtering the matrix, without any network.
const SCRIPT: &str = r#"
(function(){
  var t=document.getElementById('matrix'); if(!t) return;
  var rows=function(){return Array.prototype.slice.call(t.tBodies[0].rows);};
  var order=['fail','unknown','warn','manual','not_applicable','pass'];
  function key(td){if(!td) return '~'; var s=td.getAttribute('data-status'); return s? String(order.indexOf(s)) : td.textContent.trim().toLowerCase();}
  Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){
    th.classList.add('sort');
    th.addEventListener('click',function(){
      var dir=th.getAttribute('data-dir')==='asc'?'desc':'asc'; th.setAttribute('data-dir',dir);
      var r=rows(); r.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]); return (x<y?-1:x>y?1:0)*(dir==='asc'?1:-1);});
      r.forEach(function(x){t.tBodies[0].appendChild(x);});
    });
  });
  var q=document.getElementById('q'), s=document.getElementById('only');
  function filter(){var text=q.value.toLowerCase(), st=s.value;
    rows().forEach(function(r){
      var okText=!text||r.cells[0].textContent.toLowerCase().indexOf(text)>=0||r.cells[1].textContent.toLowerCase().indexOf(text)>=0;
      var okSt=!st||r.getAttribute('data-worst')===st||r.querySelector('[data-status="'+st+'"]');
      r.style.display=okText&&okSt?'':'none';});}
  q.addEventListener('input',filter); s.addEventListener('change',filter);
})();
"#;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}<script>{SCRIPT}</script>\n</body>\n</html>\n",
        h(title)
    )
}

fn references(f: &Finding) -> String {
    let mut parts = Vec::new();
    let cis = f.references.cis_text();
    if !cis.is_empty() {
        parts.push(format!("CIS AWS Foundations {}", h(&cis)));
    }
    if !f.references.security_hub.is_empty() {
        parts.push(format!(
            "Security Hub {}",
            h(&f.references.security_hub.join(", "))
        ));
    }
    if !f.references.nist_800_53_r5.is_empty() {
        parts.push(format!(
            "NIST SP 800-53 r5 {}",
            h(&f.references.nist_800_53_r5.join(", "))
        ));
    }
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join("; ")
    }
}

fn tally_line(findings: &[Finding]) -> String {
    tally(findings)
        .into_iter()
        .map(|(s, n)| format!("{n} {}", badge(s)))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn verdict(code: u8) -> &'static str {
    match code {
        crate::domain::exit::OK => "PASS",
        crate::domain::exit::FAILED => "FAIL",
        _ => "INCOMPLETE (some checks could not be decided)",
    }
}

/// One finding in full: status, severity, references, evidence, remediation.
fn finding_section(out: &mut String, f: &Finding, anchor: &str) {
    let _ = write!(
        out,
        "<section id=\"{anchor}\" class=\"finding\" data-check=\"{id}\">\n<h3>{badge} <code>{id}</code> {title}</h3>\n\
         <p>Severity: {sev} · {refs}</p>\n<ul class=\"evidence\">",
        id = f.id,
        badge = badge(f.status),
        title = h(f.title),
        sev = f.severity.as_str(),
        refs = references(f)
    );
    // A long list (a thousand members' root credentials) folds after the
    // first lines, so the matrix below stays in reach.
    const SHOWN: usize = 10;
    for e in f.evidence.iter().take(SHOWN) {
        let _ = write!(out, "<li>{}</li>", prose(e));
    }
    out.push_str("</ul>");
    if f.evidence.len() > SHOWN {
        let _ = write!(
            out,
            "<details><summary>{} more line(s)</summary><ul class=\"evidence\">",
            f.evidence.len() - SHOWN
        );
        for e in &f.evidence[SHOWN..] {
            let _ = write!(out, "<li>{}</li>", prose(e));
        }
        out.push_str("</ul></details>");
    }
    if needs_action(f.status) {
        let _ = write!(
            out,
            "\n<p class=\"remedy\"><b>Remediation:</b> {}</p>",
            prose(&f.remediation)
        );
    }
    out.push_str("\n</section>\n");
}

/// `verify -o html`: one account.
pub fn account(report: &Report) -> String {
    let code = report.exit_code();
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>rootguard audit report: AWS root user</h1>\n<table class=\"meta\">\
         <tr><td>Account</td><td><code>{}</code></td></tr>\
         <tr><td>Audited as</td><td><code>{}</code></td></tr>\
         <tr><td>Generated</td><td>{}</td></tr>\
         <tr><td>Root-use window</td><td>{}</td></tr>\
         <tr><td>Tool</td><td>rootguard {} (read-only verify)</td></tr>\
         <tr><td>Result</td><td><b>{}</b> (exit {code})</td></tr></table>\n<p>{} checks: {}</p>\n",
        h(&report.account_id),
        h(&report.caller_arn),
        fmt_time(report.generated_at),
        h(&report.root_use_window),
        env!("CARGO_PKG_VERSION"),
        verdict(code),
        report.findings.len(),
        tally_line(&report.findings)
    );
    b.push_str("<h2>Summary</h2>\n<table><thead><tr><th>Check</th><th>Status</th><th>Severity</th><th>References</th></tr></thead><tbody>\n");
    for f in &report.findings {
        let _ = writeln!(
            b,
            "<tr><td><a href=\"#{id}\" class=\"nb\"><code>{id}</code></a> {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            h(f.title),
            badge(f.status),
            f.severity.as_str(),
            references(f),
            id = f.id
        );
    }
    b.push_str("</tbody></table>\n<h2>Findings</h2>\n");
    for f in &report.findings {
        finding_section(&mut b, f, f.id);
    }
    page(
        &format!("rootguard report for account {}", report.account_id),
        &b,
    )
}

fn worst(findings: &[Finding]) -> Status {
    [
        Status::Fail,
        Status::Unknown,
        Status::Warn,
        Status::Manual,
        Status::NotApplicable,
    ]
    .into_iter()
    .find(|s| findings.iter().any(|f| f.status == *s))
    .unwrap_or(Status::Pass)
}

/// `verify --org -o html`: the organization's findings, the account × check
/// matrix (sortable, filterable), each check's remediation once, and for each
/// account the evidence of what did not pass.
pub fn org(report: &OrgReport) -> String {
    let code = report.exit_code();
    let all: Vec<Finding> = report.all_findings().cloned().collect();
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>rootguard audit report: AWS root user across an organization</h1>\n<table class=\"meta\">\
         <tr><td>Organization</td><td><code>{}</code></td></tr>\
         <tr><td>Management account</td><td><code>{}</code></td></tr>\
         <tr><td>Audited as</td><td><code>{}</code></td></tr>\
         <tr><td>Generated</td><td>{}</td></tr>\
         <tr><td>Root-use window</td><td>{}</td></tr>\
         <tr><td>Tool</td><td>rootguard {} (read-only verify --org)</td></tr>\
         <tr><td>Result</td><td><b>{}</b> (exit {code})</td></tr></table>\n<p>{} account(s), {} finding(s): {}</p>\n",
        h(&report.organization_id),
        h(&report.management_account_id),
        h(&report.caller_arn),
        fmt_time(report.generated_at),
        h(&report.root_use_window),
        env!("CARGO_PKG_VERSION"),
        verdict(code),
        report.accounts.len(),
        all.len(),
        tally_line(&all)
    );
    b.push_str("<h2>Organization</h2>\n");
    for f in &report.findings {
        finding_section(&mut b, f, &format!("org-{}", f.id));
    }
    // The checks, in first-seen order, with their text once.
    let mut checks: Vec<&Finding> = Vec::new();
    for a in &report.accounts {
        for f in &a.findings {
            if !checks.iter().any(|c| c.id == f.id) {
                checks.push(f);
            }
        }
    }
    // A check no member was read for (no --role) is said once, not drawn
    // as a column of cells that all say the same.
    let (unread, mut read): (Vec<&Finding>, Vec<&Finding>) = checks.iter().partition(|c| {
        !report.accounts.is_empty() && report.accounts.iter().all(|a| a.needs_role(c.id))
    });
    // Checks some members were not read for go last, so each such member's
    // row says "not read" once, in one cell across them.
    read.sort_by_key(|c| report.accounts.iter().any(|a| a.needs_role(c.id)));
    let partial = read
        .iter()
        .filter(|c| report.accounts.iter().any(|a| a.needs_role(c.id)))
        .count();
    let acted = |a: &crate::domain::org::AccountResult, f: &Finding| {
        needs_action(f.status) && !a.needs_role(f.id)
    };
    let wanted: Vec<&&Finding> = read
        .iter()
        .filter(|c| {
            report
                .accounts
                .iter()
                .any(|a| a.findings.iter().any(|f| f.id == c.id && acted(a, f)))
        })
        .collect();
    b.push_str("<h2>Accounts × checks</h2>\n");
    if !unread.is_empty() {
        let ids: Vec<String> = unread
            .iter()
            .map(|c| format!("<code>{}</code>", c.id))
            .collect();
        let _ = writeln!(
            b,
            "<p class=\"notread\" id=\"not-read\"><b>Not read (needs <code>--role</code>):</b> {}. \
             Without a role in the members the management account reads only root credentials and contacts; \
             run <code>rootguard verify --org --role NAME</code> with a role every member trusts to decide these too.</p>",
            ids.join(", ")
        );
    }
    b.push_str("<div class=\"controls\"><label>Filter accounts <input id=\"q\" type=\"search\" placeholder=\"id or name\"></label>\
<label>Only with <select id=\"only\"><option value=\"\">any status</option>");
    for s in Status::ALL {
        let _ = write!(b, "<option value=\"{}\">{}</option>", s.as_str(), word(s));
    }
    let _ = write!(
        b,
        "</select></label></div>\n<p>Legend:</p>{}\n",
        legend().replace(
            "</ul>",
            "<li><span class=\"notread\">not read (needs <code>--role</code>)</span>: a check decided only from inside the member; no finding, nothing to act on</li></ul>"
        )
    );
    b.push_str("<table id=\"matrix\"><thead><tr><th>Account</th><th>Name</th><th>Access</th><th>Worst</th>");
    for c in &read {
        // The name never breaks: set upright along the column, whole.
        let name = if wanted.iter().any(|w| w.id == c.id) {
            format!("<a href=\"#check-{id}\"><code>{id}</code></a>", id = c.id)
        } else {
            format!("<a><code>{}</code></a>", c.id)
        };
        let _ = write!(
            b,
            "<th class=\"check\" title=\"{}: {}\">{name}</th>",
            c.id,
            h(c.title)
        );
    }
    b.push_str("</tr></thead><tbody>\n");
    for a in &report.accounts {
        let by: BTreeMap<&str, &Finding> = a.findings.iter().map(|f| (f.id, f)).collect();
        let judged: Vec<Finding> = a
            .findings
            .iter()
            .filter(|f| !a.needs_role(f.id))
            .cloned()
            .collect();
        let w = worst(&judged);
        let _ = write!(
            b,
            "<tr data-worst=\"{}\"><td><a href=\"#acct-{id}\" class=\"nb\"><code>{id}</code></a></td><td>{}</td><td>{}</td><td class=\"cell\" data-status=\"{}\">{}</td>",
            w.as_str(),
            h(&a.account.name),
            a.access.as_str(),
            w.as_str(),
            badge(w),
            id = h(&a.account.id)
        );
        let mut said_not_read = false;
        for c in &read {
            match by.get(c.id) {
                Some(_) if a.needs_role(c.id) => {
                    if !std::mem::replace(&mut said_not_read, true) {
                        let _ = write!(
                            b,
                            "<td class=\"notread\" colspan=\"{partial}\" title=\"not read without --role: the management account reads only root credentials and contacts\">not read (needs <code>--role</code>)</td>"
                        );
                    }
                }
                // A symbol (its word in the legend and the title), coloured:
                // 13 checks x 1,000 accounts stay small.
                Some(f) => {
                    let _ = write!(
                        b,
                        "<td class=\"cell {st}\" data-status=\"{st}\" title=\"{}: {}\">{}</td>",
                        c.id,
                        word(f.status),
                        symbol(f.status),
                        st = f.status.as_str()
                    );
                }
                None => b.push_str("<td class=\"cell\">—</td>"),
            }
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody></table>\n");
    // Each account's evidence with that account, expanded (a printout shows
    // it), before the generic remediation of each check.
    b.push_str("<h2>What needs action, per account</h2>\n<p>Each account's findings that failed, warned, could not be decided or need a person to look, with their evidence (passing and not-applicable ones are in the matrix).</p>\n");
    for a in &report.accounts {
        let open: Vec<&Finding> = a.findings.iter().filter(|f| acted(a, f)).collect();
        let _ = write!(
            b,
            "<section class=\"account\" id=\"acct-{id}\"><h3><code>{id}</code> {} — {}</h3>",
            h(&a.account.name),
            if open.is_empty() {
                "nothing needs action".to_string()
            } else {
                format!("{} finding(s) need action", open.len())
            },
            id = h(&a.account.id)
        );
        for f in open {
            let _ = write!(
                b,
                "<div class=\"finding\" data-check=\"{id}\"><p>{} <a href=\"#check-{id}\"><code>{id}</code></a></p><ul class=\"evidence\">",
                badge(f.status),
                id = f.id
            );
            for e in &f.evidence {
                let _ = write!(b, "<li>{}</li>", prose(e));
            }
            b.push_str("</ul>");
            // A finding's own remediation (not the catalogue's) is shown here.
            if let std::borrow::Cow::Owned(r) = &f.remediation {
                let _ = write!(
                    b,
                    "<p class=\"remedy\"><b>Remediation:</b> {}</p>",
                    prose(r)
                );
            }
            b.push_str("</div>");
        }
        b.push_str("</section>\n");
    }
    // Each check's remediation once, only for checks some account must act on.
    if !wanted.is_empty() {
        b.push_str("<h2>How to fix each check</h2>\n");
    }
    for c in wanted {
        // A member's root credential has one fix for every member: deleted
        // at the source (never "assign hardware MFA" beside it).
        let ids: Vec<&str> = report
            .accounts
            .iter()
            .filter(|a| a.findings.iter().any(|f| f.id == c.id && acted(a, f)))
            .map(|a| a.account.id.as_str())
            .collect();
        let fix =
            crate::domain::org::member_fix(c.id, &ids).unwrap_or_else(|| c.remediation.to_string());
        let _ = writeln!(
            b,
            "<section id=\"check-{id}\"><h3><code>{id}</code> {}</h3><p>Severity: {} · {}</p><p class=\"remedy\"><b>Remediation:</b> {}</p></section>",
            h(c.title),
            c.severity.as_str(),
            references(c),
            prose(&fix),
            id = c.id
        );
    }
    page(
        &format!(
            "rootguard report for organization {}",
            report.organization_id
        ),
        &b,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_strings_render_as_text() {
        assert_eq!(
            h("<script>alert('x')</script>&\u{1b}[2J"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;\\u{1b}[2J"
        );
        assert!(badge(Status::Fail).contains("✘ fail"));
        assert!(badge(Status::NotApplicable).contains("– not applicable"));
    }

    #[test]
    fn inline_code_renders_as_code_and_stays_escaped() {
        assert_eq!(
            prose("run `rootguard verify --org` then `x<y>`"),
            "run <code>rootguard verify --org</code> then <code>x&lt;y&gt;</code>"
        );
        assert_eq!(prose("an odd ` backtick"), "an odd ` backtick");
        assert_eq!(prose("`a` and `b"), "<code>a</code> and `b");
    }
}

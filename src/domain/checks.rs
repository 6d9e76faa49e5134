//! The check catalogue: pure functions from an [`AccountFacts`] snapshot to findings.
//!
//! This module owns every pass/fail rule of the check catalogue (docs/checks.md). It must
//! not do I/O, call AWS or know SDK types: it reads plain facts and returns
//! [`Finding`]s. A source that could not be read makes a check `unknown`
//! (naming the failed action) unless another source already proves a `fail`.

use time::{Duration, OffsetDateTime};

use crate::domain::credreport::{ReportRow, ReportTime};
use crate::domain::facts::{AccountFacts, AlternateContact, OrganizationFeatures};
use crate::domain::finding::{Finding, References, Severity, Status};

/// The sources a check reads; the adapter fetches only what selected checks need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Summary,
    CredentialReport,
    VirtualMfa,
    AlternateContacts,
    ContactInformation,
    PasswordPolicy,
    Users,
    Organization,
    /// Trails, their log groups, metric filters, alarms and SNS topics.
    AlarmChain,
    /// The real-time EventBridge rule in us-east-1, its targets and topics,
    /// and its pattern tested on the corpus.
    Realtime,
}

/// Settings that change how checks judge.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// root-recent-use fails if root was used within this window.
    pub root_use_window: Duration,
    /// security-contact fails unless its email is in this domain.
    pub contact_domain: Option<String>,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            root_use_window: Duration::days(1),
            contact_domain: None,
        }
    }
}

/// A check's verdict before the catalogue's static data is attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub evidence: Vec<String>,
}

pub fn verdict(status: Status, evidence: Vec<String>) -> Verdict {
    Verdict { status, evidence }
}

/// One entry of the catalogue.
pub struct CheckDef {
    pub id: &'static str,
    pub title: &'static str,
    /// Why it matters, in one sentence: the wizard shows it before each fix.
    pub why: &'static str,
    pub severity: Severity,
    pub sources: &'static [Source],
    pub remediation: &'static str,
    /// Every CIS AWS Foundations Benchmark version's recommendation ids
    /// (v3.0, v5.0, v6.0, v7.0; the benchmark renumbers between versions).
    pub cis: crate::domain::finding::CisVersions,
    /// NIST SP 800-53 Rev. 5 controls the check maps to.
    pub nist: &'static [&'static str],
    pub security_hub: &'static [&'static str],
    pub run: fn(&AccountFacts, &CheckConfig) -> Verdict,
}

/// Every check verify runs, in report order.
pub static CATALOGUE: &[CheckDef] = &[
    CheckDef {
        id: "root-mfa",
        title: "Root user has MFA enabled",
        why: "Root cannot be limited by any IAM policy; a leaked root password without MFA loses the account.",
        severity: Severity::Critical,
        sources: &[Source::Summary, Source::CredentialReport],
        remediation: "Sign in as root at https://console.aws.amazon.com/ and open Security credentials \
            (https://console.aws.amazon.com/iam/home#/security_credentials) > Multi-factor authentication (MFA) > \
            Assign MFA device. Prefer a hardware key or passkey, and register a second device (root may have up to 8). \
            `rootguard setup` walks you through it and waits until AWS reports MFA enabled.",
        cis: &[("3.0", &["1.5"]), ("5.0", &["1.4"]), ("6.0", &["2.4"]), ("7.0", &["2.5"])],
        nist: &["AC-2(1)", "IA-2(1)", "IA-2(2)", "IA-2(6)", "IA-2(8)"],
        security_hub: &["IAM.9"],
        run: root_mfa,
    },
    CheckDef {
        id: "root-hardware-mfa",
        title: "Root user MFA is hardware or passkey, not virtual",
        why: "A virtual MFA app can be phished or cloned with the phone; a hardware key or passkey cannot.",
        severity: Severity::Medium,
        sources: &[Source::Summary, Source::VirtualMfa],
        remediation: "Sign in as root, open Security credentials > Multi-factor authentication (MFA), assign a \
            hardware TOTP token, security key or passkey, then remove the virtual (authenticator app) device.",
        cis: &[("3.0", &["1.6"]), ("5.0", &["1.5"]), ("6.0", &["2.5"]), ("7.0", &["2.6"])],
        nist: &["AC-2(1)", "IA-2(1)", "IA-2(2)", "IA-2(6)", "IA-2(8)"],
        security_hub: &["IAM.6"],
        run: root_hardware_mfa,
    },
    CheckDef {
        id: "root-access-keys",
        title: "Root user has no active access keys",
        why: "Root access keys are long-lived, unrestricted credentials; one leak in code or CI hands over the account.",
        severity: Severity::Critical,
        sources: &[Source::Summary, Source::CredentialReport],
        remediation: "Root access keys can be removed only with root's own credentials or, in an organization \
            with centralized root access, through sts:AssumeRoot. Sign in as root, open Security credentials > \
            Access keys, deactivate each key, confirm nothing breaks, then delete it. `rootguard setup` does this \
            when run as root.",
        cis: &[("3.0", &["1.4"]), ("5.0", &["1.3"]), ("6.0", &["2.3"]), ("7.0", &["2.4"])],
        nist: &["AC-2(1)", "AC-6", "AC-6(2)", "AC-6(10)"],
        security_hub: &["IAM.4"],
        run: root_access_keys,
    },
    CheckDef {
        id: "root-signing-certs",
        title: "Root user has no active X.509 signing certificates",
        why: "A root signing certificate is another unrestricted long-lived credential.",
        severity: Severity::High,
        sources: &[Source::Summary, Source::CredentialReport],
        remediation: "Sign in as root, open Security credentials > X.509 certificates, make each certificate \
            inactive, then delete it.",
        cis: &[],
        nist: &[],
        security_hub: &[],
        run: root_signing_certs,
    },
    CheckDef {
        id: "root-recent-use",
        title: "Root user was not used recently",
        why: "Root should almost never be used; recent use is either an incident or a habit to break.",
        severity: Severity::High,
        sources: &[Source::CredentialReport],
        remediation: "Find out who used root and why: `rootguard events --since 7d` lists root's API calls and \
            sign-ins from the trail's log group. Move daily work to IAM users or roles with MFA.",
        cis: &[("3.0", &["1.7"]), ("5.0", &["1.6"]), ("6.0", &["2.6"]), ("7.0", &["2.7"])],
        nist: &[],
        security_hub: &[],
        run: root_recent_use,
    },
    CheckDef {
        id: "security-contact",
        title: "Security alternate contact is set and reachable",
        why: "AWS sends security notices (abuse reports, exposed keys) to this contact.",
        severity: Severity::Medium,
        sources: &[Source::AlternateContacts],
        remediation: "Set a monitored security mailbox (a team distribution list, not a person): \
            `aws account put-alternate-contact --alternate-contact-type SECURITY --email-address ADDR --name NAME \
            --title TITLE --phone-number PHONE`, or Console > Account > Alternate contacts. `rootguard setup` \
            prompts for it.",
        cis: &[("3.0", &["1.2"]), ("5.0", &["1.2"]), ("6.0", &["2.2"]), ("7.0", &["2.3"])],
        nist: &[],
        security_hub: &["Account.1"],
        run: security_contact,
    },
    CheckDef {
        id: "contact-info",
        title: "Account contact information is complete",
        why: "AWS uses the account contact details to verify ownership when you need to recover root.",
        severity: Severity::Low,
        sources: &[Source::ContactInformation],
        remediation: "Complete the account's contact information: `aws account put-contact-information`, or \
            Console > Account > Contact information (https://console.aws.amazon.com/billing/home#/account). \
            Check there too that the root email is a monitored mailbox you control.",
        cis: &[("3.0", &["1.1"]), ("5.0", &["1.1"]), ("6.0", &["2.1"]), ("7.0", &["2.2"])],
        nist: &[],
        security_hub: &[],
        run: contact_info,
    },
    CheckDef {
        id: "password-policy",
        title: "IAM password policy meets CIS",
        why: "Weak IAM user passwords become the easy way in once root is locked down.",
        severity: Severity::Medium,
        sources: &[Source::PasswordPolicy],
        remediation: "`aws iam update-account-password-policy --minimum-password-length 14 \
            --password-reuse-prevention 24 --require-uppercase-characters --require-lowercase-characters \
            --require-numbers --require-symbols`. This policy governs IAM users' passwords, not root's.",
        cis: &[("3.0", &["1.8", "1.9"]), ("5.0", &["1.7", "1.8"]), ("6.0", &["2.7", "2.8"]), ("7.0", &["2.8", "2.9"])],
        nist: &["IA-5", "IA-5(1)"],
        security_hub: &["IAM.7", "IAM.15", "IAM.16"],
        run: password_policy,
    },
    CheckDef {
        id: "iam-user-mfa",
        title: "Every IAM user with a console password has MFA",
        why: "The admin users that replace root need MFA as much as root does.",
        severity: Severity::High,
        sources: &[Source::Users],
        remediation: "Enroll a virtual MFA device for each listed user: `rootguard mfa enroll --user NAME` shows \
            a QR code and checks two codes before enabling it.",
        cis: &[("3.0", &["1.10"]), ("5.0", &["1.9"]), ("6.0", &["2.9"]), ("7.0", &["2.10"])],
        nist: &["IA-2(1)", "IA-2(2)", "IA-2(6)", "IA-2(8)"],
        security_hub: &["IAM.5"],
        run: iam_user_mfa,
    },
    CheckDef {
        id: "org-root-management",
        title: "Organizations centralized root access is enabled",
        why: "Centralized root access removes member accounts' root credentials altogether.",
        severity: Severity::Medium,
        sources: &[Source::Organization],
        remediation: "In the management account: `aws organizations enable-aws-service-access \
            --service-principal iam.amazonaws.com`, then `aws iam enable-organizations-root-credentials-management` \
            and `aws iam enable-organizations-root-sessions`. Member accounts then need no root credentials.",
        cis: &[("7.0", &["2.1.1"])],
        nist: &[],
        security_hub: &[],
        run: org_root_management,
    },
    CheckDef {
        id: "cloudtrail",
        title: "A multi-region trail records management events to CloudWatch Logs",
        why: "Without an alarm, nobody learns that root was used until the damage shows.",
        severity: Severity::High,
        sources: &[Source::AlarmChain],
        remediation: "Use a multi-region trail that is logging, records read and write management events and \
            delivers to a CloudWatch Logs log group (CloudTrail > Trails > Edit > CloudWatch Logs). An organization \
            trail counts. `rootguard deploy --create-trail` creates one when none qualifies.",
        cis: &[("3.0", &["3.1"]), ("5.0", &["3.1"]), ("6.0", &["4.1"]), ("7.0", &["4.1"])],
        nist: &["AU-2", "AU-3", "AU-12"],
        security_hub: &["CloudTrail.1", "CloudTrail.5"],
        run: chain::cloudtrail,
    },
    CheckDef {
        id: "root-alarm",
        title: "Root activity raises an alarm that reaches a person",
        why: "Without an alarm, nobody learns that root was used until the damage shows.",
        severity: Severity::High,
        sources: &[Source::AlarmChain],
        remediation: "`rootguard deploy --email you@example.com` creates the metric filter (CIS pattern, \
            CISBenchmark/RootAccountUsage), an alarm (Sum, 300 s, >= 1) and an SNS topic with an email \
            subscription; confirm the subscription from the inbox, then run `rootguard alarm test`.",
        cis: &[("3.0", &["4.3"]), ("5.0", &["4.3"]), ("6.0", &["5.3"]), ("7.0", &["5.3"])],
        nist: &[],
        security_hub: &["CloudWatch.1"],
        run: chain::root_alarm,
    },
    CheckDef {
        id: "root-realtime-alert",
        title: "Root activity reaches a person in seconds (EventBridge)",
        why: "The CIS alarm reports root minutes late and only says a threshold was crossed; the real-time rule says who did what from where.",
        severity: Severity::Medium,
        sources: &[Source::Realtime],
        remediation: "`rootguard deploy --email you@example.com` adds the EventBridge rules on the default bus in \
            us-east-1 (one per kind of root event: sign-ins, API calls with reads, refused calls, privileged-session \
            writes, sts:AssumeRoot starts; each in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS with a \
            readable message to the rootguard topic) and a forwarding rule in every other enabled region; confirm \
            the subscription, then `rootguard alarm test --realtime`.",
        cis: &[],
        nist: &[],
        security_hub: &[],
        run: |facts, _| realtime::check(facts),
    },
];

/// Looks a check up by id.
pub fn find(id: &str) -> Option<&'static CheckDef> {
    CATALOGUE.iter().find(|c| c.id == id)
}

/// All check ids, in report order.
pub fn ids() -> Vec<&'static str> {
    CATALOGUE.iter().map(|c| c.id).collect()
}

/// Runs the given checks against a snapshot.
pub fn evaluate(facts: &AccountFacts, config: &CheckConfig, checks: &[&CheckDef]) -> Vec<Finding> {
    checks
        .iter()
        .map(|def| finding(def, (def.run)(facts, config)))
        .collect()
}

/// A verdict with the catalogue entry's static data attached. An `unknown`
/// gets the permission to grant instead of the fix for a failure.
pub fn finding(def: &CheckDef, v: Verdict) -> Finding {
    let unknown = v.status == Status::Unknown;
    let remediation = std::borrow::Cow::Borrowed(interned(def.id, unknown, || {
        if unknown {
            permission_advice(def)
        } else {
            one_line(def.remediation)
        }
    }));
    Finding {
        id: def.id,
        title: def.title,
        status: v.status,
        severity: def.severity,
        evidence: v.evidence,
        remediation,
        references: References {
            cis: def
                .cis
                .iter()
                .find(|(v, _)| *v == "3.0")
                .map(|(_, ids)| ids.to_vec())
                .unwrap_or_default(),
            cis_versions: def.cis,
            security_hub: def.security_hub.to_vec(),
            nist_800_53_r5: def.nist,
        },
    }
}

/// The remediation text of a check (its fix, or for `unknown` the permission
/// to grant), made once per process and shared by every finding of that check:
/// at most two strings per catalogue entry, kept for the life of the process.
fn interned(id: &'static str, unknown: bool, make: impl FnOnce() -> String) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static TEXTS: OnceLock<Mutex<HashMap<(&'static str, bool), &'static str>>> = OnceLock::new();
    let mut texts = TEXTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    texts
        .entry((id, unknown))
        .or_insert_with(|| Box::leak(make().into_boxed_str()))
}

/// What an `unknown` finding tells the reader: the reads this check needs,
/// from its sources, and where the whole policy is.
pub fn permission_advice(def: &CheckDef) -> String {
    format!(
        "Could not decide. Allow the reads this check needs: {} (`rootguard policy verify` prints \
         the whole read-only policy; with --org, `rootguard policy org`). If the evidence shows \
         throttling, a 5xx or a timeout instead of a denial, run verify again.",
        def.actions().join(", ")
    )
}

impl CheckDef {
    /// Every IAM action this check's sources call, in order, without repeats.
    pub fn actions(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for a in self
            .sources
            .iter()
            .flat_map(|s| s.actions().iter().copied())
        {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

impl Source {
    /// The IAM actions the adapter calls to read this source.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Source::Summary => &["iam:GetAccountSummary"],
            Source::CredentialReport => {
                &["iam:GenerateCredentialReport", "iam:GetCredentialReport"]
            }
            Source::VirtualMfa => &["iam:ListVirtualMFADevices"],
            Source::AlternateContacts => &["account:GetAlternateContact"],
            Source::ContactInformation => &["account:GetContactInformation"],
            Source::PasswordPolicy => &["iam:GetAccountPasswordPolicy"],
            Source::Users => &["iam:ListUsers", "iam:GetLoginProfile", "iam:ListMFADevices"],
            Source::Organization => &["iam:ListOrganizationsFeatures"],
            Source::AlarmChain => &[
                "cloudtrail:DescribeTrails",
                "cloudtrail:GetTrailStatus",
                "cloudtrail:GetEventSelectors",
                "logs:DescribeMetricFilters",
                "cloudwatch:DescribeAlarmsForMetric",
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
            ],
            Source::Realtime => &[
                "account:ListRegions",
                "events:ListRules",
                "events:ListTargetsByRule",
                "events:TestEventPattern",
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
            ],
        }
    }
}

/// Collapses the catalogue's wrapped text to one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ------------------------------------------------------------------ helpers

use crate::domain::text::{ago, fmt_time, fmt_window, valid_email};

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The report's root row, or why it is unavailable.
fn root_row(facts: &AccountFacts) -> Result<&ReportRow, String> {
    match &facts.credential_report {
        Ok(report) => report
            .root()
            .ok_or_else(|| "the credential report has no <root_account> row".to_string()),
        Err(e) => Err(e.describe()),
    }
}

pub fn unknown(reasons: Vec<String>, mut evidence: Vec<String>) -> Verdict {
    evidence.extend(
        reasons
            .into_iter()
            .map(|r| format!("could not decide: {r}")),
    );
    verdict(Status::Unknown, evidence)
}

/// Whether root has no credentials at all (centralized root access). `None`
/// when that cannot be decided. An absent password flag counts as present.
fn root_without_credentials(facts: &AccountFacts) -> Option<bool> {
    let s = facts.summary.as_ref().ok()?;
    let mut has = s.password_present.unwrap_or(true)
        || s.access_keys_present.unwrap_or(true)
        || s.signing_certificates_present.unwrap_or(true);
    if let Ok(row) = root_row(facts) {
        has |= row.access_keys.iter().any(|k| k.active) || row.certs_active.iter().any(|c| *c);
    }
    Some(!has)
}

const NO_CREDENTIALS: &str =
    "root has no password, no access keys and no signing certificates (AccountPasswordPresent=0, \
     AccountAccessKeysPresent=0, AccountSigningCertificatesPresent=0), as under Organizations centralized root access";

fn flag(v: Option<bool>) -> String {
    match v {
        Some(true) => "1".into(),
        Some(false) => "0".into(),
        None => "absent".into(),
    }
}

// ------------------------------------------------------------------- checks

fn root_mfa(facts: &AccountFacts, _: &CheckConfig) -> Verdict {
    if root_without_credentials(facts) == Some(true) {
        return verdict(
            Status::NotApplicable,
            vec![NO_CREDENTIALS
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")],
        );
    }
    let mut evidence = Vec::new();
    let mut reasons = Vec::new();
    let summary = match &facts.summary {
        Ok(s) => {
            evidence.push(format!(
                "GetAccountSummary: AccountMFAEnabled={}",
                flag(s.mfa_enabled)
            ));
            if s.mfa_enabled.is_none() {
                reasons.push("GetAccountSummary has no AccountMFAEnabled key".into());
            }
            s.mfa_enabled
        }
        Err(e) => {
            reasons.push(e.describe());
            None
        }
    };
    let report = match root_row(facts) {
        Ok(row) => {
            evidence.push(format!(
                "credential report <root_account>: mfa_active={}",
                row.mfa_active
            ));
            Some(row.mfa_active)
        }
        Err(e) => {
            reasons.push(e);
            None
        }
    };
    if let (Some(a), Some(b)) = (summary, report) {
        if a != b {
            let generated = facts
                .credential_report
                .as_ref()
                .ok()
                .and_then(|r| r.generated_at)
                .map(|t| format!(" (report generated {})", fmt_time(t)))
                .unwrap_or_default();
            evidence.push(format!(
                "the sources disagree: GetAccountSummary says MFA is {}, the credential report says {}{generated}; \
                 the report can be up to 4 hours old",
                if a { "enabled" } else { "disabled" },
                if b { "enabled" } else { "disabled" },
            ));
        }
    }
    match (summary, report) {
        (Some(false), _) | (None, Some(false)) => verdict(Status::Fail, evidence),
        (Some(true), Some(true)) => verdict(Status::Pass, evidence),
        (Some(true), Some(false)) => verdict(Status::Warn, evidence),
        _ => unknown(reasons, evidence),
    }
}

fn is_root_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5] == "root"
}

fn root_hardware_mfa(facts: &AccountFacts, _: &CheckConfig) -> Verdict {
    if root_without_credentials(facts) == Some(true) {
        return verdict(
            Status::NotApplicable,
            vec![NO_CREDENTIALS
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")],
        );
    }
    let devices = match &facts.assigned_virtual_mfa {
        Ok(d) => d,
        Err(e) => return unknown(vec![e.describe()], vec![]),
    };
    let on_root: Vec<&str> = devices
        .iter()
        .filter(|d| d.user_arn.as_deref().is_some_and(is_root_arn))
        .map(|d| d.serial_number.as_str())
        .collect();
    if !on_root.is_empty() {
        return verdict(
            Status::Warn,
            on_root
                .iter()
                .map(|s| {
                    format!("virtual MFA device {s} is assigned to root (User.Arn ends with :root)")
                })
                .collect(),
        );
    }
    let others = devices.len();
    let base =
        format!("no assigned virtual MFA device belongs to root ({others} assigned to IAM users)");
    match &facts.summary {
        Ok(s) if s.mfa_enabled == Some(true) => verdict(
            Status::Pass,
            vec![
                base,
                "AccountMFAEnabled=1: root's MFA is a hardware device or passkey".into(),
            ],
        ),
        Ok(s) => verdict(
            Status::Fail,
            vec![
                format!(
                    "root has no MFA device at all (AccountMFAEnabled={})",
                    flag(s.mfa_enabled)
                ),
                base,
            ],
        ),
        Err(e) => unknown(vec![e.describe()], vec![base]),
    }
}

fn describe_key(
    now: OffsetDateTime,
    n: usize,
    k: &crate::domain::credreport::AccessKeyColumns,
) -> String {
    let used = match k.last_used {
        ReportTime::At(t) => {
            let mut s = format!("last used {} ({})", fmt_time(t), ago(now, t));
            if let Some(svc) = &k.last_used_service {
                s.push_str(&format!(", service {svc}"));
            }
            if let Some(region) = &k.last_used_region {
                s.push_str(&format!(", region {region}"));
            }
            s
        }
        _ => "never used".to_string(),
    };
    format!(
        "access key {n} is {}: {used}",
        if k.active { "active" } else { "inactive" }
    )
}

fn root_access_keys(facts: &AccountFacts, _: &CheckConfig) -> Verdict {
    let mut evidence = Vec::new();
    let mut reasons = Vec::new();
    let mut failing = false;
    let mut present = None;
    match &facts.summary {
        Ok(s) => {
            evidence.push(format!(
                "GetAccountSummary: AccountAccessKeysPresent={}",
                flag(s.access_keys_present)
            ));
            present = s.access_keys_present;
        }
        Err(e) => reasons.push(e.describe()),
    }
    match root_row(facts) {
        Ok(row) => {
            let mut any = false;
            for (i, k) in row.access_keys.iter().enumerate() {
                if k.active || k.last_used.at().is_some() {
                    evidence.push(describe_key(facts.now, i + 1, k));
                }
                any |= k.active;
            }
            failing |= any;
            if !any && present == Some(true) {
                evidence.push("an inactive root access key still exists: delete it".into());
                if reasons.is_empty() {
                    return verdict(Status::Warn, evidence);
                }
            }
        }
        Err(e) => {
            // The summary alone proves keys exist; their activity is unknown.
            if present == Some(true) {
                evidence.push(format!("key details unavailable: {e}"));
                return verdict(Status::Fail, evidence);
            }
            reasons.push(e);
        }
    }
    if failing {
        verdict(Status::Fail, evidence)
    } else if !reasons.is_empty() {
        unknown(reasons, evidence)
    } else {
        evidence.push("root has no active access keys".into());
        verdict(Status::Pass, evidence)
    }
}

fn root_signing_certs(facts: &AccountFacts, _: &CheckConfig) -> Verdict {
    let mut evidence = Vec::new();
    let mut reasons = Vec::new();
    let mut present = None;
    match &facts.summary {
        Ok(s) => {
            evidence.push(format!(
                "GetAccountSummary: AccountSigningCertificatesPresent={}",
                flag(s.signing_certificates_present)
            ));
            present = s.signing_certificates_present;
        }
        Err(e) => reasons.push(e.describe()),
    }
    match root_row(facts) {
        Ok(row) => {
            let active: Vec<usize> = (0..2)
                .filter(|i| row.certs_active[*i])
                .map(|i| i + 1)
                .collect();
            for n in &active {
                evidence.push(format!("signing certificate {n} is active"));
            }
            if !active.is_empty() {
                return verdict(Status::Fail, evidence);
            }
            if present == Some(true) && reasons.is_empty() {
                evidence
                    .push("an inactive root signing certificate still exists: delete it".into());
                return verdict(Status::Warn, evidence);
            }
        }
        Err(e) => {
            if present == Some(true) {
                evidence.push(format!("certificate details unavailable: {e}"));
                return verdict(Status::Fail, evidence);
            }
            reasons.push(e);
        }
    }
    if !reasons.is_empty() {
        return unknown(reasons, evidence);
    }
    evidence.push("root has no active signing certificates".into());
    verdict(Status::Pass, evidence)
}

fn root_recent_use(facts: &AccountFacts, config: &CheckConfig) -> Verdict {
    let row = match root_row(facts) {
        Ok(r) => r,
        Err(e) => return unknown(vec![e], vec![]),
    };
    let candidates = [
        ("password (console sign-in)", row.password_last_used),
        ("access key 1", row.access_keys[0].last_used),
        ("access key 2", row.access_keys[1].last_used),
    ];
    let mut evidence: Vec<String> = candidates
        .iter()
        .map(|(what, t)| match t {
            ReportTime::At(t) => format!(
                "{what}: last used {} ({})",
                fmt_time(*t),
                ago(facts.now, *t)
            ),
            ReportTime::NoInformation => format!("{what}: no_information (no recorded use)"),
            ReportTime::NotApplicable | ReportTime::NotSupported => format!("{what}: N/A"),
        })
        .collect();
    let latest = candidates
        .iter()
        .filter_map(|(what, t)| t.at().map(|t| (t, *what)))
        .max_by_key(|(t, _)| *t);
    let window = fmt_window(config.root_use_window);
    match latest {
        Some((t, what)) if facts.now - t <= config.root_use_window => {
            evidence.insert(
                0,
                format!(
                    "root was used {} ({}) via {what}, within the {window} window",
                    fmt_time(t),
                    ago(facts.now, t)
                ),
            );
            verdict(Status::Fail, evidence)
        }
        Some((t, what)) => {
            evidence.insert(
                0,
                format!(
                    "most recent root use: {} via {what}, outside the {window} window",
                    fmt_time(t)
                ),
            );
            verdict(Status::Pass, evidence)
        }
        None => {
            evidence.insert(0, "root has no recorded use".into());
            verdict(Status::Pass, evidence)
        }
    }
}

fn security_contact(facts: &AccountFacts, config: &CheckConfig) -> Verdict {
    let contact: &AlternateContact = match &facts.security_contact {
        Err(e) => return unknown(vec![e.describe()], vec![]),
        Ok(None) => {
            return verdict(
                Status::Fail,
                vec![
                    "no SECURITY alternate contact is set (GetAlternateContact: ResourceNotFound)"
                        .into(),
                ],
            )
        }
        Ok(Some(c)) => c,
    };
    let mut evidence = vec![format!(
        "SECURITY contact: {} <{}>, title {:?}, phone {:?}",
        contact.name, contact.email, contact.title, contact.phone
    )];
    let email = contact.email.trim().to_ascii_lowercase();
    if let Some(domain) = &config.contact_domain {
        let want = domain.trim_start_matches('@').to_ascii_lowercase();
        if !email.ends_with(&format!("@{want}")) {
            evidence.push(format!(
                "the email is not in the required domain {want} (--contact-domain)"
            ));
            return verdict(Status::Fail, evidence);
        }
    }
    let mut warn = false;
    if !valid_email(&email) {
        evidence.push(format!("the email {:?} is malformed", contact.email));
        warn = true;
    }
    if contact.name.trim().is_empty() || contact.phone.trim().is_empty() {
        evidence.push("the contact's name or phone number is empty".into());
        warn = true;
    }
    let mut reasons = Vec::new();
    for (kind, other) in [
        ("BILLING", &facts.billing_contact),
        ("OPERATIONS", &facts.operations_contact),
    ] {
        match other {
            Ok(Some(o)) if o.email.trim().eq_ignore_ascii_case(&email) => {
                evidence.push(format!(
                    "the SECURITY email is the same as the {kind} contact's: security notices compete with {} mail",
                    kind.to_ascii_lowercase()
                ));
                warn = true;
            }
            Ok(_) => {}
            // Not read on purpose (`verify --org` without --compare-contacts).
            Err(e) if e.kind == crate::domain::facts::FactErrorKind::NotCollected => {
                if !evidence.iter().any(|e| e.contains("not compared")) {
                    evidence.push(
                        "not compared with the BILLING and OPERATIONS contacts (--compare-contacts does)"
                            .into(),
                    );
                }
            }
            Err(e) => reasons.push(format!(
                "cannot compare with the {kind} contact: {}",
                e.describe()
            )),
        }
    }
    if warn {
        verdict(Status::Warn, evidence)
    } else if !reasons.is_empty() {
        unknown(reasons, evidence)
    } else {
        verdict(Status::Pass, evidence)
    }
}

fn contact_info(facts: &AccountFacts, _: &CheckConfig) -> Verdict {
    let info = match &facts.contact_information {
        Err(e) => return unknown(vec![e.describe()], vec![]),
        Ok(None) => {
            return verdict(
                Status::Fail,
                vec![
                "the account has no contact information (GetContactInformation: ResourceNotFound)"
                    .into(),
            ],
            )
        }
        Ok(Some(i)) => i,
    };
    let fields = [
        ("FullName", &info.full_name),
        ("AddressLine1", &info.address_line1),
        ("City", &info.city),
        ("PostalCode", &info.postal_code),
        ("CountryCode", &info.country_code),
        ("PhoneNumber", &info.phone_number),
    ];
    let missing: Vec<&str> = fields
        .iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| *k)
        .collect();
    if !missing.is_empty() {
        return verdict(
            Status::Fail,
            vec![format!(
                "contact information is incomplete: missing {}",
                missing.join(", ")
            )],
        );
    }
    verdict(
        Status::Pass,
        vec![
            format!(
                "contact information: {}, {} {}, {}, phone {}",
                info.full_name, info.postal_code, info.city, info.country_code, info.phone_number
            ),
            "the root email is readable through the API (account:GetPrimaryEmail) only from an organization's \
             management account for its members; confirm it at Console > Account > Account details"
                .into(),
        ],
    )
}

const POLICY_SCOPE: &str = "this policy governs IAM users' console passwords, not the root user's";

fn password_policy(facts: &AccountFacts, _: &CheckConfig) -> Verdict {
    let policy = match &facts.password_policy {
        Err(e) => return unknown(vec![e.describe()], vec![]),
        Ok(None) => {
            return verdict(
                Status::Fail,
                vec![
                    "no account password policy is set (NoSuchEntity): IAM's default allows 8-character \
                     passwords and reuse"
                        .into(),
                    POLICY_SCOPE.into(),
                ],
            )
        }
        Ok(Some(p)) => p,
    };
    let mut evidence = Vec::new();
    let mut status = Status::Pass;
    let len = policy.minimum_length.unwrap_or(0);
    if len < 14 {
        evidence.push(format!(
            "MinimumPasswordLength is {len}, CIS requires 14 or more"
        ));
        status = Status::Fail;
    } else {
        evidence.push(format!("MinimumPasswordLength is {len} (>= 14)"));
    }
    match policy.reuse_prevention {
        Some(n) if n >= 24 => evidence.push(format!("PasswordReusePrevention is {n} (>= 24)")),
        Some(n) => {
            evidence.push(format!("PasswordReusePrevention is {n}, CIS requires 24"));
            status = Status::Fail;
        }
        None => {
            evidence.push("PasswordReusePrevention is not set, CIS requires 24".into());
            status = Status::Fail;
        }
    }
    let missing: Vec<&str> = [
        ("uppercase", policy.require_uppercase),
        ("lowercase", policy.require_lowercase),
        ("numbers", policy.require_numbers),
        ("symbols", policy.require_symbols),
    ]
    .iter()
    .filter(|(_, on)| !on)
    .map(|(k, _)| *k)
    .collect();
    if missing.is_empty() {
        evidence.push("requires uppercase, lowercase, numbers and symbols".into());
    } else {
        evidence.push(format!(
            "does not require {} (Security Hub IAM.7)",
            missing.join(", ")
        ));
        if status == Status::Pass {
            status = Status::Warn;
        }
    }
    evidence.push(format!(
        "passwords expire: {}",
        match (policy.expire_passwords, policy.max_age_days) {
            (true, Some(d)) => format!("after {d} days"),
            _ => yes_no(false).to_string(),
        }
    ));
    evidence.push(POLICY_SCOPE.into());
    verdict(status, evidence)
}

fn iam_user_mfa(facts: &AccountFacts, _: &CheckConfig) -> Verdict {
    let users = match &facts.users {
        Err(e) => return unknown(vec![e.describe()], vec![]),
        Ok(u) => u,
    };
    let console: Vec<_> = users.iter().filter(|u| u.console_password).collect();
    let bad: Vec<_> = console.iter().filter(|u| u.mfa_devices == 0).collect();
    if bad.is_empty() {
        return verdict(
            Status::Pass,
            vec![format!(
                "{} IAM users, {} with a console password, all of them with MFA",
                users.len(),
                console.len()
            )],
        );
    }
    let mut evidence = vec![format!(
        "{} of {} console users have no MFA device",
        bad.len(),
        console.len()
    )];
    evidence.extend(bad.iter().map(|u| {
        format!(
            "{} ({}) has a console password and no MFA: rootguard mfa enroll --user {}",
            u.name, u.arn, u.name
        )
    }));
    verdict(Status::Fail, evidence)
}

fn org_root_management(facts: &AccountFacts, _: &CheckConfig) -> Verdict {
    match &facts.organization {
        Err(e) => unknown(vec![e.describe()], vec![]),
        Ok(OrganizationFeatures::NotInOrganization) => verdict(
            Status::NotApplicable,
            vec!["the account is not in an AWS Organizations organization (OrganizationNotFoundException)".into()],
        ),
        Ok(OrganizationFeatures::NotManagementAccount) => verdict(
            Status::NotApplicable,
            vec!["the account is not the organization's management account or IAM delegated administrator; \
                  run this check there"
                .into()],
        ),
        Ok(OrganizationFeatures::TrustedAccessDisabled) => verdict(
            Status::Fail,
            vec!["trusted access for IAM is not enabled in Organizations, so centralized root access is off \
                  (ServiceAccessNotEnabledException)"
                .into()],
        ),
        Ok(OrganizationFeatures::Enabled { organization_id, features }) => {
            let has = |f: &str| features.iter().any(|x| x == f);
            let mut evidence = vec![format!(
                "organization {organization_id}: enabled features [{}]",
                features.join(", ")
            )];
            if !has("RootCredentialsManagement") {
                evidence.push("RootCredentialsManagement is not enabled: member accounts keep root credentials".into());
                return verdict(Status::Fail, evidence);
            }
            if !has("RootSessions") {
                evidence.push(
                    "RootSessions is not enabled: privileged root tasks in members need root credentials".into(),
                );
                return verdict(Status::Warn, evidence);
            }
            verdict(Status::Pass, evidence)
        }
    }
}

pub mod chain;
pub mod realtime;

#[cfg(test)]
mod tests;

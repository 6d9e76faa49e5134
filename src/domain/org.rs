//! The organization's root posture: plain facts about an AWS Organizations
//! organization and its members' root users, the org-level checks, each
//! member's findings, and the `org harden` plan.
//!
//! This module owns the organization rules of docs/checks.md (`org-root-management`, `member-root-credentials`, member checks). Like
//! `checks`, it is pure: it takes facts the adapter read (`crate::aws::org`)
//! and returns findings, reports and plans. It must not do I/O or know SDK
//! types. A member whose root could not be read is `unknown` naming the
//! failed action, never `pass`.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::domain::checks::{self, unknown, verdict, CheckConfig, Verdict};
use crate::domain::exit;
use crate::domain::facts::{
    AccountFacts, AlternateContact, ContactInformation, Fact, FactError, OrganizationFeatures,
};
use crate::domain::finding::{tally, Finding, References, Severity, Status};
use crate::domain::text::{ago, fmt_time, fmt_window};

/// The audit and delete root-task policies (`crate::domain::roottask` has the three repair tasks).
pub const AUDIT_TASK_POLICY: &str = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials";
pub const DELETE_TASK_POLICY: &str =
    "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials";
/// `sts:AssumeRoot` sessions last at most 900 s; rootguard's need seconds.
pub const ROOT_SESSION_SECONDS: i32 = 900;
pub const FEATURE_CREDENTIALS: &str = "RootCredentialsManagement";
pub const FEATURE_SESSIONS: &str = "RootSessions";
pub const IAM_PRINCIPAL: &str = "iam.amazonaws.com";
pub const ACCOUNT_PRINCIPAL: &str = "account.amazonaws.com";

/// One ACTIVE account of the organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// What the caller's account reads about the organization.
#[derive(Clone, Debug)]
pub struct OrgFacts {
    pub now: OffsetDateTime,
    pub organization_id: String,
    pub management_account_id: String,
    pub caller_account_id: String,
    pub caller_arn: String,
    /// `iam:ListOrganizationsFeatures`.
    pub features: Fact<OrganizationFeatures>,
    /// `organizations:ListAWSServiceAccessForOrganization`: enabled principals.
    pub trusted_access: Fact<Vec<String>>,
    /// `organizations:ListDelegatedAdministrators` for IAM: account ids.
    pub delegated_admins: Fact<Vec<String>>,
    /// ACTIVE accounts, management account included.
    pub accounts: Vec<OrgAccount>,
}

impl OrgFacts {
    pub fn feature(&self, name: &str) -> Option<bool> {
        match &self.features {
            Ok(OrganizationFeatures::Enabled { features, .. }) => {
                Some(features.iter().any(|f| f == name))
            }
            Ok(OrganizationFeatures::TrustedAccessDisabled) => Some(false),
            _ => None,
        }
    }

    pub fn trusted(&self, principal: &str) -> Option<bool> {
        self.trusted_access
            .as_ref()
            .ok()
            .map(|l| l.iter().any(|p| p == principal))
    }
}

fn opt_time<S: serde::Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(&fmt_time(*t)),
        None => s.serialize_none(),
    }
}

/// A root access key as read in an `sts:AssumeRoot` session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RootKey {
    pub id: String,
    pub active: bool,
    #[serde(serialize_with = "opt_time")]
    pub last_used: Option<OffsetDateTime>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
}

/// A root X.509 signing certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RootCert {
    pub id: String,
    pub active: bool,
}

/// A member's root credentials, read in an `sts:AssumeRoot` session with
/// `IAMAuditRootUserCredentials` (calls without a user name act on root).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MemberRoot {
    /// `GetLoginProfile` found a console password.
    pub password: bool,
    /// `GetUser`'s `PasswordLastUsed`, read only when a password exists.
    #[serde(serialize_with = "opt_time")]
    pub password_last_used: Option<OffsetDateTime>,
    pub access_keys: Vec<RootKey>,
    pub signing_certs: Vec<RootCert>,
    /// `ListMFADevices` serial numbers (virtual devices are `arn:…:mfa/…`).
    pub mfa_devices: Vec<String>,
}

impl MemberRoot {
    /// What root still has, one word each: `password`, `2 access keys`, …
    pub fn credentials(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.password {
            out.push("password".to_string());
        }
        let n = |count: usize, what: &str| {
            format!("{count} {what}{}", if count == 1 { "" } else { "s" })
        };
        if !self.access_keys.is_empty() {
            out.push(n(self.access_keys.len(), "access key"));
        }
        if !self.signing_certs.is_empty() {
            out.push(n(self.signing_certs.len(), "signing certificate"));
        }
        if !self.mfa_devices.is_empty() {
            out.push(n(self.mfa_devices.len(), "MFA device"));
        }
        out
    }

    pub fn has_credentials(&self) -> bool {
        !self.credentials().is_empty()
    }
}

/// Whether an MFA serial number names a virtual (authenticator app) device.
pub fn is_virtual_mfa(serial: &str) -> bool {
    serial.starts_with("arn:")
        && serial
            .split(':')
            .nth(5)
            .is_some_and(|r| r.starts_with("mfa/"))
}

/// How a member account was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Root credentials through `sts:AssumeRoot`, contacts through the Account API.
    AssumeRoot,
    /// The whole single-account verify in `--role`.
    Role,
    /// The caller's own account (the management account or delegated admin).
    Management,
    /// Nothing could be read.
    None,
}

impl Access {
    /// Its name in reports (the JSON's `access`).
    pub fn as_str(self) -> &'static str {
        match self {
            Access::AssumeRoot => "assume-root",
            Access::Role => "role",
            Access::Management => "management",
            Access::None => "none",
        }
    }
}

/// What the management account reads of a member without any role in it.
#[derive(Clone, Debug)]
pub struct MemberFacts {
    pub now: OffsetDateTime,
    pub account: OrgAccount,
    pub root: Fact<MemberRoot>,
    pub security_contact: Fact<Option<AlternateContact>>,
    pub billing_contact: Fact<Option<AlternateContact>>,
    pub operations_contact: Fact<Option<AlternateContact>>,
    pub contact_information: Fact<Option<ContactInformation>>,
}

/// One account's result in an organization-wide run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountResult {
    pub account: OrgAccount,
    pub access: Access,
    pub findings: Vec<Finding>,
    /// What root still has, when it was read (for `member-root-credentials`).
    pub root_credentials: Result<Vec<String>, String>,
}

impl AccountResult {
    pub fn exit_code(&self) -> u8 {
        crate::domain::finding::exit_code(&self.findings)
    }

    /// Whether `check` was not read for this member because it needs reads
    /// inside the member (`--role`): without a role the management account
    /// decides only root credentials and contacts.
    pub fn needs_role(&self, check: &str) -> bool {
        self.access == Access::AssumeRoot
            && !ROOT_CHECKS.contains(&check)
            && !CONTACT_CHECKS.contains(&check)
            && !ORG_LEVEL.contains(&check)
    }
}

// -------------------------------------------------------- member checks

/// Checks the management account decides for a member through AssumeRoot.
const ROOT_CHECKS: &[&str] = &[
    "root-mfa",
    "root-hardware-mfa",
    "root-access-keys",
    "root-signing-certs",
    "root-recent-use",
];
/// Checks the management account decides through the Account API.
const CONTACT_CHECKS: &[&str] = &["security-contact", "contact-info"];
/// Org-level checks are reported once, for the organization.
pub const ORG_LEVEL: &[&str] = &["org-root-management"];

/// The selected per-account checks (org-level ones removed).
pub fn account_checks(selected: &[&'static checks::CheckDef]) -> Vec<&'static checks::CheckDef> {
    selected
        .iter()
        .copied()
        .filter(|c| !ORG_LEVEL.contains(&c.id))
        .collect()
}

fn no_credentials_evidence() -> Vec<String> {
    vec!["root has no password, no access keys, no signing certificates and no MFA devices \
          (read through sts:AssumeRoot with IAMAuditRootUserCredentials), as under centralized root access"
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")]
}

fn describe_key(now: OffsetDateTime, k: &RootKey) -> String {
    let used = match k.last_used {
        Some(t) => {
            let mut s = format!("last used {} ({})", fmt_time(t), ago(now, t));
            if let Some(svc) = &k.last_used_service {
                s.push_str(&format!(", service {svc}"));
            }
            if let Some(r) = &k.last_used_region {
                s.push_str(&format!(", region {r}"));
            }
            s
        }
        None => "never used".into(),
    };
    format!(
        "access key {} is {}: {used}",
        k.id,
        if k.active { "active" } else { "inactive" }
    )
}

/// One root check of a member, judged from its AssumeRoot reads.
fn member_root_check(id: &str, m: &MemberFacts, config: &CheckConfig) -> Verdict {
    let root = match &m.root {
        Ok(r) => r,
        Err(e) => return unknown(vec![e.describe()], vec![]),
    };
    let creds = root.has_credentials();
    match id {
        "root-mfa" | "root-hardware-mfa" if !creds => {
            verdict(Status::NotApplicable, no_credentials_evidence())
        }
        "root-mfa" => {
            let mut ev = vec![format!(
                "ListMFADevices: {} device(s) on root; root still has {}",
                root.mfa_devices.len(),
                root.credentials().join(", ")
            )];
            if root.mfa_devices.is_empty() {
                ev.push("root has credentials and no MFA device".into());
                verdict(Status::Fail, ev)
            } else {
                verdict(Status::Pass, ev)
            }
        }
        "root-hardware-mfa" => {
            let virt: Vec<&String> = root
                .mfa_devices
                .iter()
                .filter(|s| is_virtual_mfa(s))
                .collect();
            if root.mfa_devices.is_empty() {
                verdict(
                    Status::Fail,
                    vec!["root has credentials and no MFA device at all".into()],
                )
            } else if !virt.is_empty() {
                verdict(
                    Status::Warn,
                    virt.iter()
                        .map(|s| format!("virtual MFA device {s} is assigned to root"))
                        .collect(),
                )
            } else {
                verdict(
                    Status::Pass,
                    root.mfa_devices
                        .iter()
                        .map(|s| format!("MFA device {s} is a hardware device or passkey"))
                        .collect(),
                )
            }
        }
        "root-access-keys" => {
            let mut ev: Vec<String> = root
                .access_keys
                .iter()
                .map(|k| describe_key(m.now, k))
                .collect();
            if root.access_keys.iter().any(|k| k.active) {
                verdict(Status::Fail, ev)
            } else {
                ev.insert(0, "ListAccessKeys: no active root access key".into());
                verdict(Status::Pass, ev)
            }
        }
        "root-signing-certs" => {
            let mut ev: Vec<String> = root
                .signing_certs
                .iter()
                .map(|c| {
                    format!(
                        "signing certificate {} is {}",
                        c.id,
                        if c.active { "active" } else { "inactive" }
                    )
                })
                .collect();
            if root.signing_certs.iter().any(|c| c.active) {
                verdict(Status::Fail, ev)
            } else {
                ev.insert(
                    0,
                    "ListSigningCertificates: no active root signing certificate".into(),
                );
                verdict(Status::Pass, ev)
            }
        }
        "root-recent-use" => {
            let mut uses: Vec<(OffsetDateTime, String)> = Vec::new();
            if let Some(t) = root.password_last_used {
                uses.push((t, "password (console sign-in)".into()));
            }
            for k in &root.access_keys {
                if let Some(t) = k.last_used {
                    uses.push((t, format!("access key {}", k.id)));
                }
            }
            let window = fmt_window(config.root_use_window);
            match uses.into_iter().max_by_key(|(t, _)| *t) {
                Some((t, what)) if m.now - t <= config.root_use_window => verdict(
                    Status::Fail,
                    vec![format!(
                        "root was used {} ({}) via {what}, within the {window} window",
                        fmt_time(t),
                        ago(m.now, t)
                    )],
                ),
                Some((t, what)) => verdict(
                    Status::Pass,
                    vec![format!(
                        "most recent root use: {} via {what}, outside the {window} window",
                        fmt_time(t)
                    )],
                ),
                None => verdict(Status::Pass, vec!["root has no recorded use".into()]),
            }
        }
        other => unknown(vec![format!("{other} is not a root check")], vec![]),
    }
}

fn role_needed(def: &checks::CheckDef) -> Verdict {
    verdict(
        Status::Manual,
        vec![format!(
            "not decided without --role: {} needs reads inside the member account ({}); \
             run `rootguard verify --org --role NAME` with a role every member trusts",
            def.id,
            sources_phrase(def)
        )],
    )
}

fn sources_phrase(def: &checks::CheckDef) -> &'static str {
    use checks::Source::*;
    match def.sources.first() {
        Some(PasswordPolicy) => "iam:GetAccountPasswordPolicy",
        Some(Users) => "iam:ListUsers and each user's login profile and MFA devices",
        Some(AlarmChain) => "trails, log groups, metric filters, alarms and topics",
        Some(Realtime) => "the EventBridge rule in the member's us-east-1",
        _ => "reads in the member",
    }
}

/// The one fix for a member whose root has a credential it should not: delete
/// it at the source. With centralized root access a member's root needs no
/// MFA, keys or certificates at all, so the single-account advice (assign
/// hardware MFA, rotate a key) would contradict it. `None` for checks whose
/// fix is not a deletion (recent use is investigated first).
pub fn member_fix(check: &str, accounts: &[&str]) -> Option<String> {
    let what = match check {
        "root-mfa" => "root's password (a root without MFA)",
        "root-hardware-mfa" => "root's virtual MFA device, and its password",
        "root-access-keys" => "root's access keys",
        "root-signing-certs" => "root's signing certificates",
        _ => return None,
    };
    Some(format!(
        "Delete {what} at the source: `rootguard org harden --accounts {}` (turns centralized root access on \
         if it is not, then an sts:AssumeRoot session with IAMDeleteRootUserCredentials removes every root \
         credential of the member; root-only tasks then use `rootguard org root recover`)",
        accounts.join(",")
    ))
}

/// A member's findings from what the management account read without a role.
pub fn member_findings(
    m: &MemberFacts,
    config: &CheckConfig,
    selected: &[&'static checks::CheckDef],
) -> Vec<Finding> {
    let mut contacts = AccountFacts::empty(&m.account.id, m.now);
    contacts.security_contact = m.security_contact.clone();
    contacts.billing_contact = m.billing_contact.clone();
    contacts.operations_contact = m.operations_contact.clone();
    contacts.contact_information = m.contact_information.clone();
    account_checks(selected)
        .into_iter()
        .map(|def| {
            let mut v = if ROOT_CHECKS.contains(&def.id) {
                member_root_check(def.id, m, config)
            } else if CONTACT_CHECKS.contains(&def.id) {
                (def.run)(&contacts, config)
            } else {
                role_needed(def)
            };
            if def.id == "contact-info" {
                // The management account can read what a member cannot: the root email.
                v.evidence.retain(|e| !e.contains("GetPrimaryEmail) only from"));
                if m.account.email.is_empty() {
                    v.evidence
                        .push("root email: ListAccounts gave none for this account".into());
                } else {
                    v.evidence.push(format!(
                        "root email (ListAccounts): {}; make sure it is a monitored mailbox you control",
                        m.account.email
                    ));
                }
            }
            let mut f = checks::finding(def, v);
            if matches!(f.status, Status::Fail | Status::Warn) {
                if let Some(fix) = member_fix(def.id, &[m.account.id.as_str()]) {
                    f.remediation = fix.into();
                }
            }
            f
        })
        .collect()
}

/// A member's real-time coverage by `deploy --org`: its spoke stack instance
/// in us-east-1. `None` when there is no StackSet (the finding stays as it is).
pub fn spoke_verdict(
    member: &str,
    spokes: &Result<crate::domain::orgdeploy::StackSetState, FactError>,
) -> Option<(Status, Vec<String>)> {
    use crate::domain::orgdeploy::STACKSET_NAME;
    let ss = match spokes {
        Err(e) => {
            return Some((
                Status::Unknown,
                vec![format!("could not decide: {}", e.describe())],
            ))
        }
        Ok(ss) if !ss.exists => return None,
        Ok(ss) => ss,
    };
    // Every region the StackSet deploys to (the hub's first): a member is
    // covered only where its instance there is CURRENT.
    let mut regions: Vec<&str> = vec![crate::domain::realtime::RULE_REGION];
    for i in &ss.instances {
        if !regions.contains(&i.region.as_str()) {
            regions.push(&i.region);
        }
    }
    let mine: Vec<&crate::domain::orgdeploy::StackInstance> = ss
        .instances
        .iter()
        .filter(|i| i.account == member)
        .collect();
    if mine.is_empty() {
        return Some((
            Status::Warn,
            vec![format!(
                "no stack instance of StackSet {STACKSET_NAME} in this member: root activity here reaches nobody \
                 in real time; run `rootguard deploy --org` (auto-deployment covers accounts that join later)"
            )],
        ));
    }
    // A spoke that was deployed and is broken: nothing is forwarded from there.
    let broken: Vec<String> = mine
        .iter()
        .filter(|i| !i.is_current())
        .map(|i| format!("{}: {}", i.region, i.describe()))
        .collect();
    if !broken.is_empty() {
        return Some((
            Status::Fail,
            vec![format!(
                "stack instance(s) of StackSet {STACKSET_NAME} not CURRENT ({}): root activity there may reach \
                 nobody in real time; fix the cause and run `rootguard deploy --org` again (it redeploys only \
                 instances that are not CURRENT)",
                broken.join("; ")
            )],
        ));
    }
    let missing: Vec<&str> = regions
        .iter()
        .filter(|r| !mine.iter().any(|i| i.region == **r))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Some((
            Status::Warn,
            vec![format!(
                "no stack instance of StackSet {STACKSET_NAME} in {} for this member: root activity there reaches \
                 nobody in real time; run `rootguard deploy --org`",
                missing.join(", ")
            )],
        ));
    }
    Some((
        Status::Pass,
        vec![format!(
            "stack instances of StackSet {STACKSET_NAME} in {} are CURRENT: the member's root activity in each is \
             forwarded to the hub bus in the management account, which notifies the hub topic",
            regions.join(", ")
        )],
    ))
}

/// Every selected check `unknown` with one reason: a member that could not be reached.
pub fn unreachable_findings(
    err: &FactError,
    selected: &[&'static checks::CheckDef],
) -> Vec<Finding> {
    account_checks(selected)
        .into_iter()
        .map(|def| checks::finding(def, unknown(vec![err.describe()], vec![])))
        .collect()
}

/// What root still has according to a full single-account read (role or
/// management access): the summary flags.
pub fn credentials_from_summary(facts: &AccountFacts) -> Result<Vec<String>, String> {
    let s = facts.summary.as_ref().map_err(|e| e.describe())?;
    let mut out = Vec::new();
    for (flag, what) in [
        (s.password_present, "password"),
        (s.access_keys_present, "access keys"),
        (s.signing_certificates_present, "signing certificates"),
        (s.mfa_enabled, "MFA device"),
    ] {
        match flag {
            Some(true) => out.push(what.to_string()),
            Some(false) => {}
            None => return Err(format!("GetAccountSummary has no flag for {what}")),
        }
    }
    Ok(out)
}

// ------------------------------------------------------- org-level checks

/// The org-level catalogue: the same shape as the account checks' entries.
pub static ORG_ROOT_MANAGEMENT: OrgCheck = OrgCheck {
    id: "org-root-management",
    title: "Organizations centralized root access is enabled",
    severity: Severity::High,
    remediation: "From the management account: `rootguard org harden --dry-run` shows the plan; \
        `rootguard org harden` enables trusted access for IAM, RootCredentialsManagement and RootSessions \
        (aws organizations enable-aws-service-access --service-principal iam.amazonaws.com; \
        aws iam enable-organizations-root-credentials-management; aws iam enable-organizations-root-sessions).",
    cis: &[("7.0", &["2.1.1"])],
    security_hub: &[],
};

pub static MEMBER_ROOT_CREDENTIALS: OrgCheck = OrgCheck {
    id: "member-root-credentials",
    title: "Member accounts have no root credentials",
    severity: Severity::High,
    remediation: "Delete the listed members' root credentials: `rootguard org harden --accounts ID,..` \
        (sts:AssumeRoot with IAMDeleteRootUserCredentials deletes the password, access keys and signing \
        certificates and removes MFA devices). New members are created without root credentials.",
    cis: &[("7.0", &["2.1.1"])],
    security_hub: &[],
};

pub struct OrgCheck {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub remediation: &'static str,
    /// CIS AWS Foundations Benchmark ids by version (2.1.1 is new in v7.0).
    pub cis: crate::domain::finding::CisVersions,
    pub security_hub: &'static [&'static str],
}

impl OrgCheck {
    fn finding(&self, v: Verdict) -> Finding {
        Finding {
            id: self.id,
            title: self.title,
            status: v.status,
            severity: self.severity,
            evidence: v.evidence,
            remediation: checks::one_line(self.remediation).into(),
            references: References {
                cis: References {
                    cis_versions: self.cis,
                    ..Default::default()
                }
                .cis_in("3.0")
                .to_vec(),
                cis_versions: self.cis,
                security_hub: self.security_hub.to_vec(),
                nist_800_53_r5: &[],
            },
        }
    }
}

/// `org-root-management`: RootCredentialsManagement and trusted access for
/// IAM must be on; RootSessions missing is a warn.
pub fn org_root_management(org: &OrgFacts) -> Finding {
    let mut ev = Vec::new();
    let mut reasons = Vec::new();
    let trusted = match &org.trusted_access {
        Ok(list) => {
            let on = list.iter().any(|p| p == IAM_PRINCIPAL);
            ev.push(format!(
                "trusted access for {IAM_PRINCIPAL}: {}",
                if on { "enabled" } else { "not enabled" }
            ));
            Some(on)
        }
        Err(e) => {
            reasons.push(e.describe());
            None
        }
    };
    let features = match &org.features {
        Ok(OrganizationFeatures::Enabled {
            organization_id,
            features,
        }) => {
            ev.push(format!(
                "organization {organization_id}: enabled features [{}]",
                features.join(", ")
            ));
            Some(features.clone())
        }
        Ok(OrganizationFeatures::TrustedAccessDisabled) => {
            ev.push("ListOrganizationsFeatures: trusted access for IAM is not enabled (ServiceAccessNotEnabledException)".into());
            Some(vec![])
        }
        Ok(other) => {
            reasons.push(format!("ListOrganizationsFeatures answered {other:?}"));
            None
        }
        Err(e) => {
            reasons.push(e.describe());
            None
        }
    };
    let has = |f: &str| features.as_ref().map(|l| l.iter().any(|x| x == f));
    let v = if trusted == Some(false) || has(FEATURE_CREDENTIALS) == Some(false) {
        if has(FEATURE_CREDENTIALS) == Some(false) {
            ev.push(format!(
                "{FEATURE_CREDENTIALS} is not enabled: member accounts keep root credentials and new ones get them"
            ));
        }
        ev.push("run `rootguard org harden` to enable centralized root access".into());
        verdict(Status::Fail, ev)
    } else if !reasons.is_empty() {
        unknown(reasons, ev)
    } else if has(FEATURE_SESSIONS) == Some(false) {
        ev.push(format!(
            "{FEATURE_SESSIONS} is not enabled: root-only tasks in members still need a root sign-in"
        ));
        verdict(Status::Warn, ev)
    } else {
        verdict(Status::Pass, ev)
    };
    ORG_ROOT_MANAGEMENT.finding(v)
}

/// `member-root-credentials`: with centralized root management on, no member
/// may keep a root password, access key, signing certificate or MFA device.
pub fn member_root_credentials(org: &OrgFacts, accounts: &[AccountResult]) -> Finding {
    let members: Vec<&AccountResult> = accounts
        .iter()
        .filter(|a| a.account.id != org.management_account_id)
        .collect();
    let v = match org.feature(FEATURE_CREDENTIALS) {
        None => match &org.features {
            Err(e) => unknown(vec![e.describe()], vec![]),
            Ok(other) => unknown(
                vec![format!("ListOrganizationsFeatures answered {other:?}")],
                vec![],
            ),
        },
        Some(false) => verdict(
            Status::NotApplicable,
            vec![format!(
                "{FEATURE_CREDENTIALS} is off, so members are expected to hold root credentials \
                 (org-root-management fails); turn it on first"
            )],
        ),
        Some(true) => {
            let mut with = Vec::new();
            let mut unread = Vec::new();
            for a in &members {
                match &a.root_credentials {
                    Ok(c) if !c.is_empty() => with.push(format!(
                        "{} ({}): root still has {}",
                        a.account.id,
                        a.account.name,
                        c.join(", ")
                    )),
                    Ok(_) => {}
                    Err(e) => unread.push(format!("{} ({}): {e}", a.account.id, a.account.name)),
                }
            }
            let clean = members.len() - with.len() - unread.len();
            let mut ev = vec![format!(
                "{} of {} members checked: {} without root credentials, {} with, {} not read",
                members.len(),
                members.len(),
                clean,
                with.len(),
                unread.len()
            )];
            let failing = !with.is_empty();
            ev.extend(with);
            if failing {
                ev.extend(unread.iter().map(|u| format!("not read: {u}")));
                verdict(Status::Fail, ev)
            } else if !unread.is_empty() {
                unknown(unread, ev)
            } else {
                verdict(Status::Pass, ev)
            }
        }
    };
    MEMBER_ROOT_CREDENTIALS.finding(v)
}

// ---------------------------------------------------------------- report

/// The result of `verify --org`, as every renderer receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgReport {
    pub organization_id: String,
    pub management_account_id: String,
    pub caller_arn: String,
    pub generated_at: OffsetDateTime,
    pub root_use_window: String,
    pub findings: Vec<Finding>,
    pub accounts: Vec<AccountResult>,
}

impl OrgReport {
    pub fn new(org: &OrgFacts, mut accounts: Vec<AccountResult>, window: Duration) -> Self {
        accounts.sort_by(|a, b| a.account.id.cmp(&b.account.id));
        let findings = vec![
            org_root_management(org),
            member_root_credentials(org, &accounts),
        ];
        OrgReport {
            organization_id: org.organization_id.clone(),
            management_account_id: org.management_account_id.clone(),
            caller_arn: org.caller_arn.clone(),
            generated_at: org.now,
            root_use_window: fmt_window(window),
            findings,
            accounts,
        }
    }

    /// Every finding, organization first.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .chain(self.accounts.iter().flat_map(|a| a.findings.iter()))
    }

    /// The whole organization's exit code: any fail anywhere, else any unknown.
    pub fn exit_code(&self) -> u8 {
        let all: Vec<&Finding> = self.all_findings().collect();
        if all.iter().any(|f| f.status == Status::Fail) {
            exit::FAILED
        } else if all.iter().any(|f| f.status == Status::Unknown) {
            exit::UNKNOWN
        } else {
            exit::OK
        }
    }

    /// Counts for every status over every finding.
    pub fn tally(&self) -> Vec<(Status, usize)> {
        let all: Vec<Finding> = self.all_findings().cloned().collect();
        tally(&all)
    }

    pub fn accounts_with(&self, code: u8) -> usize {
        self.accounts
            .iter()
            .filter(|a| a.exit_code() == code)
            .count()
    }
}

// ---------------------------------------------------------------- status

/// `org status`: the organization's root posture at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrgStatus {
    pub schema: &'static str,
    pub organization_id: String,
    pub management_account_id: String,
    pub features: StatusFeatures,
    pub trusted_access: Vec<TrustedAccess>,
    /// Account ids registered as IAM delegated administrator; `None` when not read.
    pub delegated_administrators: Option<Vec<String>>,
    pub delegated_administrators_error: Option<String>,
    pub members: MemberCounts,
    /// Members that still have root credentials, with what each has.
    pub members_with_root_credentials: Vec<MemberCredentials>,
    /// Members whose root could not be read, with why.
    pub members_not_read: Vec<MemberCredentials>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusFeatures {
    pub root_credentials_management: Option<bool>,
    pub root_sessions: Option<bool>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustedAccess {
    pub service_principal: &'static str,
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MemberCounts {
    pub total: usize,
    pub without_root_credentials: usize,
    pub with_password: usize,
    pub with_access_keys: usize,
    pub with_signing_certificates: usize,
    pub with_mfa_devices: usize,
    pub not_read: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberCredentials {
    pub account_id: String,
    pub name: String,
    pub detail: Vec<String>,
}

pub const STATUS_SCHEMA: &str = "rootguard.org-status/v1";

/// Builds `org status` from the org facts and each member's root read.
pub fn status(org: &OrgFacts, members: &[(OrgAccount, Fact<MemberRoot>)]) -> OrgStatus {
    let mut counts = MemberCounts {
        total: members.len(),
        ..Default::default()
    };
    let mut with = Vec::new();
    let mut not_read = Vec::new();
    for (acct, root) in members {
        match root {
            Ok(r) => {
                counts.with_password += r.password as usize;
                counts.with_access_keys += !r.access_keys.is_empty() as usize;
                counts.with_signing_certificates += !r.signing_certs.is_empty() as usize;
                counts.with_mfa_devices += !r.mfa_devices.is_empty() as usize;
                if r.has_credentials() {
                    with.push(MemberCredentials {
                        account_id: acct.id.clone(),
                        name: acct.name.clone(),
                        detail: r.credentials(),
                    });
                } else {
                    counts.without_root_credentials += 1;
                }
            }
            Err(e) => {
                counts.not_read += 1;
                not_read.push(MemberCredentials {
                    account_id: acct.id.clone(),
                    name: acct.name.clone(),
                    detail: vec![e.describe()],
                });
            }
        }
    }
    OrgStatus {
        schema: STATUS_SCHEMA,
        organization_id: org.organization_id.clone(),
        management_account_id: org.management_account_id.clone(),
        features: StatusFeatures {
            root_credentials_management: org.feature(FEATURE_CREDENTIALS),
            root_sessions: org.feature(FEATURE_SESSIONS),
            error: org.features.as_ref().err().map(|e| e.describe()),
        },
        trusted_access: [IAM_PRINCIPAL, ACCOUNT_PRINCIPAL]
            .into_iter()
            .map(|p| TrustedAccess {
                service_principal: p,
                enabled: org.trusted(p),
            })
            .collect(),
        delegated_administrators: org.delegated_admins.clone().ok(),
        delegated_administrators_error: org.delegated_admins.as_ref().err().map(|e| e.describe()),
        members: counts,
        members_with_root_credentials: with,
        members_not_read: not_read,
    }
}

// ---------------------------------------------------------------- harden

/// One step of `org harden`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum HardenStep {
    /// `organizations:EnableAWSServiceAccess` for iam.amazonaws.com.
    EnableTrustedAccess { service_principal: &'static str },
    /// `iam:EnableOrganizationsRootCredentialsManagement`.
    EnableRootCredentialsManagement,
    /// `iam:EnableOrganizationsRootSessions`.
    EnableRootSessions,
    /// An `IAMDeleteRootUserCredentials` session in the member that deletes
    /// whatever root credentials it finds. `expected` is what the audit read
    /// saw (`None` when it could not read yet, e.g. before the features are on).
    DeleteMemberRootCredentials {
        account_id: String,
        name: String,
        expected: Option<Vec<String>>,
    },
}

impl HardenStep {
    pub fn describe(&self) -> String {
        match self {
            HardenStep::EnableTrustedAccess { service_principal } => format!(
                "enable trusted access for {service_principal} (organizations:EnableAWSServiceAccess)"
            ),
            HardenStep::EnableRootCredentialsManagement => {
                "enable RootCredentialsManagement (iam:EnableOrganizationsRootCredentialsManagement)".into()
            }
            HardenStep::EnableRootSessions => {
                "enable RootSessions (iam:EnableOrganizationsRootSessions)".into()
            }
            HardenStep::DeleteMemberRootCredentials {
                account_id,
                name,
                expected,
            } => match expected {
                Some(c) => format!(
                    "delete root credentials of {account_id} ({name}): {}",
                    c.join(", ")
                ),
                None => format!(
                    "delete whatever root credentials {account_id} ({name}) has (not readable before the features are on)"
                ),
            },
        }
    }
}

/// The whole `org harden` plan: the same value `--dry-run` prints and apply runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HardenPlan {
    pub schema: &'static str,
    pub organization_id: String,
    pub steps: Vec<HardenStep>,
    /// Members that need nothing, for the reader.
    pub members_clean: usize,
    /// Members whose root could not be read for a reason the plan cannot fix.
    pub members_not_read: Vec<MemberCredentials>,
}

pub const HARDEN_SCHEMA: &str = "rootguard.org-harden-plan/v1";

impl HardenPlan {
    pub fn is_noop(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn text(&self) -> String {
        let mut out = format!("org harden plan for {}:\n", self.organization_id);
        if self.steps.is_empty() {
            out.push_str("  nothing to change: centralized root access is on and no member has root credentials\n");
        }
        for s in &self.steps {
            out.push_str(&format!(
                "  + {}\n",
                crate::domain::text::escape(&s.describe())
            ));
        }
        out.push_str(&format!(
            "  {} member(s) already without root credentials\n",
            self.members_clean
        ));
        for m in &self.members_not_read {
            out.push_str(&format!(
                "  ! {} ({}) not read: {}\n",
                m.account_id,
                crate::domain::text::escape(&m.name),
                crate::domain::text::escape(&m.detail.join("; "))
            ));
        }
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// Builds the harden plan from the org facts and each member's audit read.
/// A member whose read was refused while the features are still off gets a
/// step with `expected: None`; one refused with the features on is reported,
/// not planned (a second refusal would only repeat it).
pub fn plan_harden(org: &OrgFacts, members: &[(OrgAccount, Fact<MemberRoot>)]) -> HardenPlan {
    let mut steps = Vec::new();
    if org.trusted(IAM_PRINCIPAL) != Some(true) {
        steps.push(HardenStep::EnableTrustedAccess {
            service_principal: IAM_PRINCIPAL,
        });
    }
    let creds_on = org.feature(FEATURE_CREDENTIALS) == Some(true);
    if !creds_on {
        steps.push(HardenStep::EnableRootCredentialsManagement);
    }
    if org.feature(FEATURE_SESSIONS) != Some(true) {
        steps.push(HardenStep::EnableRootSessions);
    }
    let mut clean = 0;
    let mut not_read = Vec::new();
    for (acct, root) in members {
        match root {
            Ok(r) if r.has_credentials() => steps.push(HardenStep::DeleteMemberRootCredentials {
                account_id: acct.id.clone(),
                name: acct.name.clone(),
                expected: Some(r.credentials()),
            }),
            Ok(_) => clean += 1,
            Err(_) if !creds_on => steps.push(HardenStep::DeleteMemberRootCredentials {
                account_id: acct.id.clone(),
                name: acct.name.clone(),
                expected: None,
            }),
            Err(e) => not_read.push(MemberCredentials {
                account_id: acct.id.clone(),
                name: acct.name.clone(),
                detail: vec![e.describe()],
            }),
        }
    }
    HardenPlan {
        schema: HARDEN_SCHEMA,
        organization_id: org.organization_id.clone(),
        steps,
        members_clean: clean,
        members_not_read: not_read,
    }
}

#[cfg(test)]
mod tests;

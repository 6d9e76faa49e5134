//! Data tests of the organization core: facts in, verdicts and plans out.

use time::macros::datetime;

use super::*;
use crate::domain::facts::{FactErrorKind, OrganizationFeatures};

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);
const MGMT: &str = "111111111111";

fn acct(id: &str) -> OrgAccount {
    OrgAccount {
        id: id.into(),
        name: format!("name-{id}"),
        email: format!("{id}@example.com"),
    }
}

fn org(features: &[&str], trusted: &[&str]) -> OrgFacts {
    OrgFacts {
        now: NOW,
        organization_id: "o-test".into(),
        management_account_id: MGMT.into(),
        caller_account_id: MGMT.into(),
        caller_arn: format!("arn:aws:iam::{MGMT}:user/admin"),
        features: if trusted.contains(&IAM_PRINCIPAL) {
            Ok(OrganizationFeatures::Enabled {
                organization_id: "o-test".into(),
                features: features.iter().map(|s| s.to_string()).collect(),
            })
        } else {
            Ok(OrganizationFeatures::TrustedAccessDisabled)
        },
        trusted_access: Ok(trusted.iter().map(|s| s.to_string()).collect()),
        delegated_admins: Ok(vec![]),
        accounts: vec![acct(MGMT)],
    }
}

fn on() -> OrgFacts {
    org(
        &[FEATURE_CREDENTIALS, FEATURE_SESSIONS],
        &[IAM_PRINCIPAL, ACCOUNT_PRINCIPAL],
    )
}

fn member(id: &str, root: Fact<MemberRoot>) -> MemberFacts {
    MemberFacts {
        now: NOW,
        account: acct(id),
        root,
        security_contact: Ok(Some(AlternateContact {
            name: "Sec Team".into(),
            title: "Security".into(),
            email: "security@example.com".into(),
            phone: "+1 555 0100".into(),
        })),
        billing_contact: Ok(None),
        operations_contact: Ok(None),
        contact_information: Ok(None),
    }
}

fn key(active: bool, used: Option<OffsetDateTime>) -> RootKey {
    RootKey {
        id: "AKIAROOTKEY1".into(),
        active,
        last_used: used,
        last_used_service: used.map(|_| "s3".into()),
        last_used_region: used.map(|_| "eu-west-1".into()),
    }
}

fn all() -> Vec<&'static checks::CheckDef> {
    checks::CATALOGUE.iter().collect()
}

fn status_of(findings: &[Finding], id: &str) -> Status {
    findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
        .status
}

/// (member root, check id, expected status, a needle in the evidence)
#[test]
fn member_root_checks_by_data() {
    let clean = MemberRoot::default();
    let password = MemberRoot {
        password: true,
        password_last_used: Some(NOW - Duration::days(30)),
        ..Default::default()
    };
    let used_key = MemberRoot {
        access_keys: vec![key(true, Some(NOW - Duration::hours(20)))],
        ..Default::default()
    };
    let virtual_mfa = MemberRoot {
        mfa_devices: vec!["arn:aws:iam::222222222222:mfa/root-account-mfa-device".into()],
        ..Default::default()
    };
    let hardware = MemberRoot {
        password: true,
        mfa_devices: vec!["GAHT12345678".into()],
        ..Default::default()
    };
    let cert = MemberRoot {
        signing_certs: vec![RootCert {
            id: "CERT1".into(),
            active: true,
        }],
        ..Default::default()
    };
    let denied = Err(FactError::new(
        "sts:AssumeRoot",
        FactErrorKind::AccessDenied,
        "AccessDenied: no",
    ));
    let cases: Vec<(Fact<MemberRoot>, &str, Status, &str)> = vec![
        (
            Ok(clean.clone()),
            "root-mfa",
            Status::NotApplicable,
            "no password",
        ),
        (
            Ok(clean.clone()),
            "root-hardware-mfa",
            Status::NotApplicable,
            "AssumeRoot",
        ),
        (
            Ok(clean.clone()),
            "root-access-keys",
            Status::Pass,
            "no active root access key",
        ),
        (
            Ok(clean.clone()),
            "root-recent-use",
            Status::Pass,
            "no recorded use",
        ),
        (
            Ok(password.clone()),
            "root-mfa",
            Status::Fail,
            "no MFA device",
        ),
        (
            Ok(password.clone()),
            "root-recent-use",
            Status::Pass,
            "outside the 1d window",
        ),
        (
            Ok(used_key.clone()),
            "root-access-keys",
            Status::Fail,
            "service s3, region eu-west-1",
        ),
        (
            Ok(used_key.clone()),
            "root-recent-use",
            Status::Fail,
            "via access key AKIAROOTKEY1",
        ),
        (
            Ok(virtual_mfa.clone()),
            "root-hardware-mfa",
            Status::Warn,
            ":mfa/root-account-mfa-device",
        ),
        (
            Ok(virtual_mfa.clone()),
            "root-mfa",
            Status::Pass,
            "1 device",
        ),
        (
            Ok(hardware.clone()),
            "root-hardware-mfa",
            Status::Pass,
            "GAHT12345678",
        ),
        (
            Ok(cert.clone()),
            "root-signing-certs",
            Status::Fail,
            "CERT1 is active",
        ),
        (
            denied.clone(),
            "root-mfa",
            Status::Unknown,
            "sts:AssumeRoot was denied",
        ),
        (
            denied.clone(),
            "root-access-keys",
            Status::Unknown,
            "sts:AssumeRoot",
        ),
    ];
    for (root, id, want, needle) in cases {
        let m = member("222222222222", root);
        let fs = member_findings(&m, &CheckConfig::default(), &all());
        let f = fs.iter().find(|f| f.id == id).unwrap();
        assert_eq!(f.status, want, "{id}: {:?}", f.evidence);
        assert!(
            f.evidence.iter().any(|e| e.contains(needle)),
            "{id}: {needle:?} not in {:?}",
            f.evidence
        );
    }
}

#[test]
fn member_checks_without_a_role_are_reported_as_such_never_pass() {
    let m = member("222222222222", Ok(MemberRoot::default()));
    let fs = member_findings(&m, &CheckConfig::default(), &all());
    for id in [
        "password-policy",
        "iam-user-mfa",
        "cloudtrail",
        "root-alarm",
    ] {
        let f = fs.iter().find(|f| f.id == id).unwrap();
        assert_eq!(f.status, Status::Manual, "{id}");
        assert!(f.evidence[0].contains("--role"), "{:?}", f.evidence);
    }
    assert!(fs.iter().all(|f| f.id != "org-root-management"));
    // Contacts through the Account API are judged by the single-account rules.
    assert_eq!(status_of(&fs, "security-contact"), Status::Pass);
    let info = fs.iter().find(|f| f.id == "contact-info").unwrap();
    assert_eq!(info.status, Status::Fail);
    assert!(info
        .evidence
        .iter()
        .any(|e| e.contains("root email (ListAccounts): 222222222222@example.com")));
}

#[test]
fn failing_root_checks_point_to_org_harden() {
    let m = member(
        "222222222222",
        Ok(MemberRoot {
            password: true,
            ..Default::default()
        }),
    );
    let fs = member_findings(&m, &CheckConfig::default(), &all());
    let f = fs.iter().find(|f| f.id == "root-mfa").unwrap();
    assert!(
        f.remediation
            .contains("at the source: `rootguard org harden --accounts 222222222222`"),
        "{}",
        f.remediation
    );
    assert!(
        !f.remediation.contains("Assign MFA device"),
        "one fix, not the single-account one beside it: {}",
        f.remediation
    );
    // A virtual MFA device on a member's root: deleted, not swapped for hardware.
    let m = member(
        "222222222222",
        Ok(MemberRoot {
            password: true,
            mfa_devices: vec!["arn:aws:iam::222222222222:mfa/root-account-mfa-device".into()],
            ..Default::default()
        }),
    );
    let fs = member_findings(&m, &CheckConfig::default(), &all());
    let f = fs.iter().find(|f| f.id == "root-hardware-mfa").unwrap();
    assert_eq!(f.status, Status::Warn, "{f:?}");
    assert!(f.remediation.contains("org harden --accounts 222222222222"));
    assert!(
        !f.remediation.to_lowercase().contains("hardware key"),
        "{}",
        f.remediation
    );
}

#[test]
fn org_root_management_by_data() {
    let cases = [
        (
            org(&[FEATURE_CREDENTIALS, FEATURE_SESSIONS], &[IAM_PRINCIPAL]),
            Status::Pass,
            "trusted access for iam.amazonaws.com: enabled",
        ),
        (
            org(&[FEATURE_CREDENTIALS], &[IAM_PRINCIPAL]),
            Status::Warn,
            "RootSessions is not enabled",
        ),
        (
            org(&[], &[IAM_PRINCIPAL]),
            Status::Fail,
            "RootCredentialsManagement is not enabled",
        ),
        (org(&[], &[]), Status::Fail, "rootguard org harden"),
    ];
    for (o, want, needle) in cases {
        let f = org_root_management(&o);
        assert_eq!(f.status, want, "{:?}", f.evidence);
        assert!(
            f.evidence.iter().any(|e| e.contains(needle)),
            "{needle:?} in {:?}",
            f.evidence
        );
        assert!(f.references.cis.is_empty(), "not in CIS v3.0");
        assert_eq!(f.references.cis_in("7.0"), ["2.1.1"]);
    }
    let mut broken = on();
    broken.features = Err(FactError::new(
        "iam:ListOrganizationsFeatures",
        FactErrorKind::AccessDenied,
        "AccessDenied",
    ));
    assert_eq!(org_root_management(&broken).status, Status::Unknown);
}

fn result(id: &str, creds: Result<Vec<String>, String>) -> AccountResult {
    AccountResult {
        account: acct(id),
        access: Access::AssumeRoot,
        findings: vec![],
        root_credentials: creds,
    }
}

#[test]
fn member_root_credentials_lists_exactly_the_members_with_credentials() {
    let accounts = vec![
        result(MGMT, Ok(vec!["password".into()])), // the management account is not a member
        result("222222222222", Ok(vec![])),
        result("333333333333", Ok(vec!["password".into()])),
        result("444444444444", Ok(vec!["1 access key".into()])),
    ];
    let f = member_root_credentials(&on(), &accounts);
    assert_eq!(f.status, Status::Fail);
    let listed: Vec<&String> = f
        .evidence
        .iter()
        .filter(|e| e.contains("root still has"))
        .collect();
    assert_eq!(listed.len(), 2, "{:?}", f.evidence);
    assert!(listed[0].starts_with("333333333333") && listed[1].starts_with("444444444444"));

    let clean = vec![result("222222222222", Ok(vec![]))];
    assert_eq!(member_root_credentials(&on(), &clean).status, Status::Pass);
    let unread = vec![result(
        "222222222222",
        Err("sts:AssumeRoot was denied".into()),
    )];
    assert_eq!(
        member_root_credentials(&on(), &unread).status,
        Status::Unknown
    );
    let off = org(&[], &[IAM_PRINCIPAL]);
    assert_eq!(
        member_root_credentials(&off, &accounts).status,
        Status::NotApplicable
    );
}

#[test]
fn org_exit_code_is_the_whole_organizations() {
    let info = Ok(Some(ContactInformation {
        full_name: "A".into(),
        address_line1: "1 Road".into(),
        city: "C".into(),
        postal_code: "1".into(),
        country_code: "US".into(),
        phone_number: "+1".into(),
        company_name: None,
    }));
    let mut a = result("222222222222", Ok(vec![]));
    let mut unreachable = member(
        "222222222222",
        Err(FactError::new(
            "sts:AssumeRoot",
            FactErrorKind::AccessDenied,
            "no",
        )),
    );
    unreachable.contact_information = info.clone();
    a.findings = member_findings(&unreachable, &CheckConfig::default(), &all());
    let mut b = result("333333333333", Ok(vec![]));
    let mut m = member("333333333333", Ok(MemberRoot::default()));
    m.contact_information = info;
    b.findings = member_findings(&m, &CheckConfig::default(), &all());
    let failing: Vec<_> = b
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .collect();
    assert_eq!(b.exit_code(), exit::OK, "{failing:?}");
    let report = OrgReport::new(&on(), vec![b.clone(), a.clone()], Duration::days(1));
    assert_eq!(report.accounts[0].account.id, "222222222222", "sorted");
    assert_eq!(report.exit_code(), exit::UNKNOWN);
    assert_eq!(report.accounts_with(exit::UNKNOWN), 1);
    let off = OrgReport::new(&org(&[], &[]), vec![b], Duration::days(1));
    assert_eq!(off.exit_code(), exit::FAILED);
}

#[test]
fn harden_plan_is_idempotent_and_resumable() {
    let members = vec![
        (acct("222222222222"), Ok(MemberRoot::default())),
        (
            acct("333333333333"),
            Ok(MemberRoot {
                password: true,
                ..Default::default()
            }),
        ),
    ];
    let plan = plan_harden(&on(), &members);
    assert_eq!(
        plan.steps,
        vec![HardenStep::DeleteMemberRootCredentials {
            account_id: "333333333333".into(),
            name: "name-333333333333".into(),
            expected: Some(vec!["password".into()]),
        }]
    );
    assert_eq!(plan.members_clean, 1);
    // Everything done: nothing planned.
    let done = vec![(acct("333333333333"), Ok(MemberRoot::default()))];
    assert!(plan_harden(&on(), &done).is_noop());
    // Features off: enable them first; members not readable yet get a step.
    let off = org(&[], &[]);
    let unread = vec![(
        acct("222222222222"),
        Err(FactError::new(
            "sts:AssumeRoot",
            FactErrorKind::Error,
            "off",
        )),
    )];
    let plan = plan_harden(&off, &unread);
    assert_eq!(
        plan.steps[0],
        HardenStep::EnableTrustedAccess {
            service_principal: IAM_PRINCIPAL
        }
    );
    assert_eq!(plan.steps[1], HardenStep::EnableRootCredentialsManagement);
    assert_eq!(plan.steps[2], HardenStep::EnableRootSessions);
    assert!(matches!(
        &plan.steps[3],
        HardenStep::DeleteMemberRootCredentials { expected: None, .. }
    ));
    // A member refused with the features on is reported, not planned.
    let plan = plan_harden(&on(), &unread);
    assert!(plan.is_noop());
    assert_eq!(plan.members_not_read.len(), 1);
    let json: serde_json::Value = serde_json::from_str(&plan.json()).unwrap();
    assert_eq!(json["schema"], HARDEN_SCHEMA);
}

#[test]
fn status_counts_members_by_credential() {
    let members = vec![
        (acct("222222222222"), Ok(MemberRoot::default())),
        (
            acct("333333333333"),
            Ok(MemberRoot {
                password: true,
                access_keys: vec![key(true, None)],
                ..Default::default()
            }),
        ),
        (
            acct("444444444444"),
            Err(FactError::new(
                "sts:AssumeRoot",
                FactErrorKind::AccessDenied,
                "no",
            )),
        ),
    ];
    let s = status(&on(), &members);
    assert_eq!(s.members.total, 3);
    assert_eq!(s.members.without_root_credentials, 1);
    assert_eq!(s.members.with_password, 1);
    assert_eq!(s.members.with_access_keys, 1);
    assert_eq!(s.members.not_read, 1);
    assert_eq!(
        s.members_with_root_credentials[0].detail,
        vec!["password", "1 access key"]
    );
    assert_eq!(s.features.root_sessions, Some(true));
}

#[test]
fn virtual_mfa_serials_are_told_from_hardware() {
    assert!(is_virtual_mfa(
        "arn:aws:iam::123456789012:mfa/root-account-mfa-device"
    ));
    assert!(is_virtual_mfa("arn:aws:iam::123456789012:mfa/anything"));
    assert!(!is_virtual_mfa("GAHT12345678"));
    assert!(!is_virtual_mfa(
        "arn:aws:iam::123456789012:u2f/root/key-ABC"
    ));
}

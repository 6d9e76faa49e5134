//! Data-driven tests of the pure checks: one `check` helper, many cases.

use time::macros::datetime;
use time::Duration;

use super::*;
use crate::domain::credreport::{AccessKeyColumns, CredentialReport, ReportFlag, ReportRow};
use crate::domain::facts::*;

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);
const ACCT: &str = "111122223333";

fn key(active: bool, used: Option<OffsetDateTime>) -> AccessKeyColumns {
    AccessKeyColumns {
        active,
        last_used: used
            .map(ReportTime::At)
            .unwrap_or(ReportTime::NotApplicable),
        last_used_region: used.map(|_| "eu-west-1".to_string()),
        last_used_service: used.map(|_| "s3".to_string()),
    }
}

fn root(mfa: bool) -> ReportRow {
    ReportRow {
        user: "<root_account>".into(),
        arn: format!("arn:aws:iam::{ACCT}:root"),
        password_enabled: ReportFlag::NotSupported,
        password_last_used: ReportTime::At(NOW - Duration::days(40)),
        mfa_active: mfa,
        access_keys: [key(false, None), key(false, None)],
        certs_active: [false, false],
    }
}

fn contact(email: &str) -> AlternateContact {
    AlternateContact {
        name: "Security Team".into(),
        title: "CISO".into(),
        email: email.into(),
        phone: "+1-555-0100".into(),
    }
}

/// A hardened account: every check passes.
fn hardened() -> AccountFacts {
    let mut f = AccountFacts::empty(ACCT, NOW);
    f.realtime = Ok(crate::domain::facts::RealtimeFacts {
        rules: crate::domain::realtime::KINDS
            .iter()
            .map(|k| {
                (
                    k.rule,
                    Some(crate::domain::facts::RuleFacts {
                        arn: crate::domain::realtime::rule_arn_of(ACCT, k.rule),
                        enabled: true,
                        read_only_events: true,
                        pattern: (k.pattern)().to_string(),
                        targets: vec![TOPIC.into()],
                        topics: good_alarm().topics,
                        tests: crate::domain::realtime::expectations(k)
                            .into_iter()
                            .map(|(name, should, _)| (name, should, Ok(should)))
                            .collect(),
                    }),
                )
            })
            .collect(),
        forwarding: Ok(vec![]),
    });
    f.summary = Ok(AccountSummary {
        mfa_enabled: Some(true),
        access_keys_present: Some(false),
        signing_certificates_present: Some(false),
        password_present: Some(true),
    });
    f.credential_report = Ok(CredentialReport {
        generated_at: Some(NOW),
        rows: vec![root(true)],
    });
    f.assigned_virtual_mfa = Ok(vec![VirtualMfaDevice {
        serial_number: format!("arn:aws:iam::{ACCT}:mfa/rootops"),
        user_arn: Some(format!("arn:aws:iam::{ACCT}:user/rootops")),
    }]);
    f.security_contact = Ok(Some(contact("security@example.com")));
    f.billing_contact = Ok(Some(contact("billing@example.com")));
    f.operations_contact = Ok(None);
    f.contact_information = Ok(Some(ContactInformation {
        full_name: "Example Corp".into(),
        address_line1: "1 Main St".into(),
        city: "Springfield".into(),
        postal_code: "12345".into(),
        country_code: "US".into(),
        phone_number: "+15550100".into(),
        company_name: None,
    }));
    f.password_policy = Ok(Some(PasswordPolicy {
        minimum_length: Some(14),
        require_uppercase: true,
        require_lowercase: true,
        require_numbers: true,
        require_symbols: true,
        max_age_days: Some(90),
        reuse_prevention: Some(24),
        expire_passwords: true,
    }));
    f.users = Ok(vec![IamUser {
        name: "rootops".into(),
        arn: format!("arn:aws:iam::{ACCT}:user/rootops"),
        console_password: true,
        mfa_devices: 1,
    }]);
    f.organization = Ok(OrganizationFeatures::Enabled {
        organization_id: "o-abc".into(),
        features: vec!["RootCredentialsManagement".into(), "RootSessions".into()],
    });
    f.alarm_chain = Ok(good_chain());
    f
}

const LOG_GROUP: &str = "arn:aws:logs:us-east-1:111122223333:log-group:trail-logs:*";
const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:root-activity";

fn good_trail() -> Trail {
    Trail {
        name: "main".into(),
        arn: format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/main"),
        home_region: "us-east-1".into(),
        multi_region: true,
        organization_trail: false,
        log_group_arn: Some(LOG_GROUP.into()),
        status: Ok(TrailStatus {
            is_logging: true,
            latest_cloudwatch_logs_delivery_error: None,
        }),
        selectors: Ok(EventSelectors::Basic(vec![BasicSelector {
            read_write_type: "All".into(),
            include_management_events: true,
            exclude_management_event_sources: vec![],
        }])),
    }
}

fn good_alarm() -> Alarm {
    Alarm {
        name: "root-activity".into(),
        namespace: "CISBenchmark".into(),
        metric_name: "RootAccountUsage".into(),
        statistic: Some("Sum".into()),
        period: Some(300),
        threshold: Some(1.0),
        comparison: Some("GreaterThanOrEqualToThreshold".into()),
        evaluation_periods: Some(1),
        datapoints_to_alarm: None,
        dimensions: vec![],
        actions_enabled: true,
        alarm_actions: vec![TOPIC.into()],
        state: Some("OK".into()),
        state_updated: Some(NOW - Duration::days(3)),
        topics: vec![Topic {
            arn: TOPIC.into(),
            exists: Ok(true),
            subscriptions: Ok(vec![Subscription {
                protocol: "email".into(),
                endpoint: "sec@example.com".into(),
                arn: format!("{TOPIC}:8a21d249-4329-4871-acc6-7be709c6ea7f"),
            }]),
            policy: None,
            kms_key: None,
        }],
        ..Default::default()
    }
}

fn good_chain() -> AlarmChainFacts {
    AlarmChainFacts {
        trails: Ok(vec![good_trail()]),
        log_groups: vec![LogGroupChain {
            arn: LOG_GROUP.trim_end_matches(":*").into(),
            name: "trail-logs".into(),
            region: "us-east-1".into(),
            filters: Ok(vec![MetricFilter {
                name: "root-usage".into(),
                pattern: crate::domain::rootactivity::CIS_ROOT_PATTERN.into(),
                metrics: vec![FilterMetric {
                    namespace: "CISBenchmark".into(),
                    name: "RootAccountUsage".into(),
                    value: "1".into(),
                    dimensions: vec![],
                    alarms: Ok(vec![good_alarm()]),
                }],
            }]),
        }],
    }
}

/// (what, edit of the good chain, expected status, evidence needle)
type ChainCase = (
    &'static str,
    Box<dyn FnOnce(&mut AlarmChainFacts)>,
    Status,
    &'static str,
);

fn edit_chain(edit: impl FnOnce(&mut AlarmChainFacts)) -> AccountFacts {
    let mut f = hardened();
    edit(f.alarm_chain.as_mut().unwrap());
    f
}

fn trail(c: &mut AlarmChainFacts) -> &mut Trail {
    &mut c.trails.as_mut().unwrap()[0]
}

fn filter(c: &mut AlarmChainFacts) -> &mut MetricFilter {
    &mut c.log_groups[0].filters.as_mut().unwrap()[0]
}

fn alarm(c: &mut AlarmChainFacts) -> &mut Alarm {
    &mut filter(c).metrics[0].alarms.as_mut().unwrap()[0]
}

fn denied(action: &str) -> FactError {
    FactError::new(action, FactErrorKind::AccessDenied, "not authorized")
}

fn with_root(f: &mut AccountFacts, edit: impl FnOnce(&mut ReportRow)) {
    let report = f.credential_report.as_mut().unwrap();
    edit(&mut report.rows[0]);
}

/// Runs check `id` and asserts its status and that every `needle` occurs in
/// the evidence.
#[track_caller]
fn check(id: &str, facts: AccountFacts, config: CheckConfig, expect: Status, needles: &[&str]) {
    let def = find(id).unwrap_or_else(|| panic!("no check {id}"));
    let got = evaluate(&facts, &config, &[def]).remove(0);
    let text = got.evidence.join("\n");
    assert_eq!(got.status, expect, "{id}: evidence:\n{text}");
    for n in needles {
        assert!(text.contains(n), "{id}: evidence lacks {n:?}:\n{text}");
    }
}

fn cfg() -> CheckConfig {
    CheckConfig::default()
}

#[test]
fn hardened_account_passes_everything() {
    for def in CATALOGUE {
        check(def.id, hardened(), cfg(), Status::Pass, &[]);
    }
}

#[test]
fn root_mfa_cases() {
    let mut f = hardened();
    f.summary.as_mut().unwrap().mfa_enabled = Some(false);
    with_root(&mut f, |r| r.mfa_active = false);
    check(
        "root-mfa",
        f,
        cfg(),
        Status::Fail,
        &["AccountMFAEnabled=0", "mfa_active=false"],
    );

    // Summary live says no MFA, stale report says yes: fail, and say they disagree.
    let mut f = hardened();
    f.summary.as_mut().unwrap().mfa_enabled = Some(false);
    check("root-mfa", f, cfg(), Status::Fail, &["disagree", "4 hours"]);

    // Summary says MFA, report says none: warn with the disagreement.
    let mut f = hardened();
    with_root(&mut f, |r| r.mfa_active = false);
    check("root-mfa", f, cfg(), Status::Warn, &["disagree"]);

    // Report denied: unknown, naming the action.
    let mut f = hardened();
    f.credential_report = Err(denied("iam:GenerateCredentialReport"));
    check(
        "root-mfa",
        f,
        cfg(),
        Status::Unknown,
        &["iam:GenerateCredentialReport"],
    );

    // Report denied but the summary proves no MFA: still a fail.
    let mut f = hardened();
    f.credential_report = Err(denied("iam:GenerateCredentialReport"));
    f.summary.as_mut().unwrap().mfa_enabled = Some(false);
    check("root-mfa", f, cfg(), Status::Fail, &["AccountMFAEnabled=0"]);

    // No root row in the report: unknown.
    let mut f = hardened();
    f.credential_report.as_mut().unwrap().rows.clear();
    check(
        "root-mfa",
        f,
        cfg(),
        Status::Unknown,
        &["no <root_account> row"],
    );
}

fn no_credentials(f: &mut AccountFacts) {
    let s = f.summary.as_mut().unwrap();
    s.password_present = Some(false);
    s.access_keys_present = Some(false);
    s.signing_certificates_present = Some(false);
    s.mfa_enabled = Some(false);
    with_root(f, |r| {
        r.mfa_active = false;
        r.password_last_used = ReportTime::NotApplicable;
    });
}

#[test]
fn root_without_credentials_is_not_applicable() {
    for id in ["root-mfa", "root-hardware-mfa"] {
        let mut f = hardened();
        no_credentials(&mut f);
        check(
            id,
            f,
            cfg(),
            Status::NotApplicable,
            &["centralized root access"],
        );
    }
    // An absent AccountPasswordPresent flag counts as a password.
    let mut f = hardened();
    no_credentials(&mut f);
    f.summary.as_mut().unwrap().password_present = None;
    check("root-mfa", f, cfg(), Status::Fail, &[]);
    // An active key in the report means root has credentials.
    let mut f = hardened();
    no_credentials(&mut f);
    with_root(&mut f, |r| r.access_keys[0] = key(true, None));
    check("root-mfa", f, cfg(), Status::Fail, &[]);
}

#[test]
fn root_hardware_mfa_cases() {
    let mut f = hardened();
    f.assigned_virtual_mfa
        .as_mut()
        .unwrap()
        .push(VirtualMfaDevice {
            serial_number: format!("arn:aws:iam::{ACCT}:mfa/my-phone"),
            user_arn: Some(format!("arn:aws:iam::{ACCT}:root")),
        });
    check(
        "root-hardware-mfa",
        f,
        cfg(),
        Status::Warn,
        &["mfa/my-phone"],
    );

    // Prowler's false positive: a user whose name contains "root".
    let mut f = hardened();
    f.assigned_virtual_mfa = Ok(vec![VirtualMfaDevice {
        serial_number: format!("arn:aws:iam::{ACCT}:mfa/root-account-mfa-device"),
        user_arn: Some(format!("arn:aws:iam::{ACCT}:user/rootadmin")),
    }]);
    check("root-hardware-mfa", f, cfg(), Status::Pass, &["hardware"]);

    let mut f = hardened();
    f.summary.as_mut().unwrap().mfa_enabled = Some(false);
    check(
        "root-hardware-mfa",
        f,
        cfg(),
        Status::Fail,
        &["no MFA device at all"],
    );

    let mut f = hardened();
    f.assigned_virtual_mfa = Err(denied("iam:ListVirtualMFADevices"));
    check(
        "root-hardware-mfa",
        f,
        cfg(),
        Status::Unknown,
        &["iam:ListVirtualMFADevices"],
    );
}

#[test]
fn root_access_key_cases() {
    let mut f = hardened();
    f.summary.as_mut().unwrap().access_keys_present = Some(true);
    with_root(&mut f, |r| {
        r.access_keys = [key(true, Some(NOW - Duration::hours(2))), key(true, None)];
    });
    check(
        "root-access-keys",
        f,
        cfg(),
        Status::Fail,
        &["access key 1 is active: last used 2026-11-24T10:00:00Z (2h ago), service s3, region eu-west-1", "access key 2 is active: never used"],
    );

    let mut f = hardened();
    f.summary.as_mut().unwrap().access_keys_present = Some(true);
    check(
        "root-access-keys",
        f,
        cfg(),
        Status::Warn,
        &["inactive root access key"],
    );

    let mut f = hardened();
    f.summary.as_mut().unwrap().access_keys_present = Some(true);
    f.credential_report = Err(denied("iam:GetCredentialReport"));
    check(
        "root-access-keys",
        f,
        cfg(),
        Status::Fail,
        &["key details unavailable"],
    );

    let mut f = hardened();
    f.summary = Err(denied("iam:GetAccountSummary"));
    check(
        "root-access-keys",
        f,
        cfg(),
        Status::Unknown,
        &["iam:GetAccountSummary was denied"],
    );
}

#[test]
fn root_signing_cert_cases() {
    let mut f = hardened();
    f.summary.as_mut().unwrap().signing_certificates_present = Some(true);
    with_root(&mut f, |r| r.certs_active = [false, true]);
    check(
        "root-signing-certs",
        f,
        cfg(),
        Status::Fail,
        &["signing certificate 2 is active"],
    );

    let mut f = hardened();
    f.credential_report = Err(denied("iam:GenerateCredentialReport"));
    check(
        "root-signing-certs",
        f,
        cfg(),
        Status::Unknown,
        &["iam:GenerateCredentialReport"],
    );
}

#[test]
fn root_recent_use_takes_the_most_recent_of_all_credentials() {
    // Prowler's bug: it takes the first set column. Password used 40 days ago,
    // key 2 used 3 hours ago: that is recent use.
    let mut f = hardened();
    with_root(&mut f, |r| {
        r.access_keys[1] = key(true, Some(NOW - Duration::hours(3)))
    });
    check(
        "root-recent-use",
        f,
        cfg(),
        Status::Fail,
        &["via access key 2, within the 1d window"],
    );

    let f = hardened();
    check(
        "root-recent-use",
        f,
        cfg(),
        Status::Pass,
        &["outside the 1d window"],
    );

    // A wider window catches the 40-day-old sign-in.
    let f = hardened();
    let wide = CheckConfig {
        root_use_window: Duration::days(90),
        ..cfg()
    };
    check(
        "root-recent-use",
        f,
        wide,
        Status::Fail,
        &["via password", "90d window"],
    );

    let mut f = hardened();
    with_root(&mut f, |r| r.password_last_used = ReportTime::NoInformation);
    check(
        "root-recent-use",
        f,
        cfg(),
        Status::Pass,
        &["no recorded use", "no_information"],
    );

    let mut f = hardened();
    f.credential_report = Err(FactError::new(
        "iam:GetCredentialReport",
        FactErrorKind::Error,
        "timed out",
    ));
    check(
        "root-recent-use",
        f,
        cfg(),
        Status::Unknown,
        &["iam:GetCredentialReport failed: timed out"],
    );
}

#[test]
fn security_contact_cases() {
    let mut f = hardened();
    f.security_contact = Ok(None);
    check(
        "security-contact",
        f,
        cfg(),
        Status::Fail,
        &["no SECURITY alternate contact"],
    );

    let mut f = hardened();
    f.security_contact = Ok(Some(contact("security@@example")));
    check("security-contact", f, cfg(), Status::Warn, &["malformed"]);

    let mut f = hardened();
    f.security_contact = Ok(Some(contact("Billing@Example.com")));
    check(
        "security-contact",
        f,
        cfg(),
        Status::Warn,
        &["same as the BILLING contact"],
    );

    let strict = CheckConfig {
        contact_domain: Some("corp.example".into()),
        ..cfg()
    };
    check(
        "security-contact",
        hardened(),
        strict.clone(),
        Status::Fail,
        &["--contact-domain"],
    );
    let mut f = hardened();
    f.security_contact = Ok(Some(contact("sec@corp.example")));
    check("security-contact", f, strict, Status::Pass, &[]);

    let mut f = hardened();
    f.security_contact = Err(denied("account:GetAlternateContact"));
    check(
        "security-contact",
        f,
        cfg(),
        Status::Unknown,
        &["account:GetAlternateContact was denied"],
    );
}

#[test]
fn contact_info_cases() {
    let mut f = hardened();
    f.contact_information = Ok(None);
    check(
        "contact-info",
        f,
        cfg(),
        Status::Fail,
        &["no contact information"],
    );

    let mut f = hardened();
    f.contact_information
        .as_mut()
        .unwrap()
        .as_mut()
        .unwrap()
        .phone_number
        .clear();
    check(
        "contact-info",
        f,
        cfg(),
        Status::Fail,
        &["missing PhoneNumber"],
    );

    check(
        "contact-info",
        hardened(),
        cfg(),
        Status::Pass,
        &["GetPrimaryEmail", "Console > Account"],
    );
}

#[test]
fn password_policy_cases() {
    let mut f = hardened();
    f.password_policy = Ok(None);
    check(
        "password-policy",
        f,
        cfg(),
        Status::Fail,
        &["no account password policy", "not the root user's"],
    );

    let mut f = hardened();
    f.password_policy
        .as_mut()
        .unwrap()
        .as_mut()
        .unwrap()
        .minimum_length = Some(8);
    check(
        "password-policy",
        f,
        cfg(),
        Status::Fail,
        &["MinimumPasswordLength is 8"],
    );

    let mut f = hardened();
    f.password_policy
        .as_mut()
        .unwrap()
        .as_mut()
        .unwrap()
        .reuse_prevention = None;
    check(
        "password-policy",
        f,
        cfg(),
        Status::Fail,
        &["PasswordReusePrevention is not set"],
    );

    let mut f = hardened();
    f.password_policy
        .as_mut()
        .unwrap()
        .as_mut()
        .unwrap()
        .require_symbols = false;
    check(
        "password-policy",
        f,
        cfg(),
        Status::Warn,
        &["does not require symbols"],
    );
}

#[test]
fn iam_user_mfa_cases() {
    let mut f = hardened();
    f.users.as_mut().unwrap().push(IamUser {
        name: "alice".into(),
        arn: format!("arn:aws:iam::{ACCT}:user/alice"),
        console_password: true,
        mfa_devices: 0,
    });
    f.users.as_mut().unwrap().push(IamUser {
        name: "ci".into(),
        arn: format!("arn:aws:iam::{ACCT}:user/ci"),
        console_password: false,
        mfa_devices: 0,
    });
    check(
        "iam-user-mfa",
        f,
        cfg(),
        Status::Fail,
        &["1 of 2 console users", "rootguard mfa enroll --user alice"],
    );
}

#[test]
fn org_root_management_cases() {
    let cases = [
        (
            OrganizationFeatures::NotInOrganization,
            Status::NotApplicable,
            "not in an AWS Organizations",
        ),
        (
            OrganizationFeatures::NotManagementAccount,
            Status::NotApplicable,
            "management account",
        ),
        (
            OrganizationFeatures::TrustedAccessDisabled,
            Status::Fail,
            "trusted access",
        ),
        (
            OrganizationFeatures::Enabled {
                organization_id: "o-1".into(),
                features: vec![],
            },
            Status::Fail,
            "RootCredentialsManagement is not enabled",
        ),
        (
            OrganizationFeatures::Enabled {
                organization_id: "o-1".into(),
                features: vec!["RootCredentialsManagement".into()],
            },
            Status::Warn,
            "RootSessions",
        ),
    ];
    for (org, status, needle) in cases {
        let mut f = hardened();
        f.organization = Ok(org);
        check("org-root-management", f, cfg(), status, &[needle]);
    }
}

#[test]
fn exit_codes_follow_the_spec() {
    use crate::domain::finding::exit_code;
    let all = evaluate(&hardened(), &cfg(), &CATALOGUE.iter().collect::<Vec<_>>());
    assert_eq!(exit_code(&all), crate::domain::exit::OK);
    let mut f = hardened();
    f.users = Err(denied("iam:ListUsers"));
    let some_unknown = evaluate(&f, &cfg(), &CATALOGUE.iter().collect::<Vec<_>>());
    assert_eq!(exit_code(&some_unknown), crate::domain::exit::UNKNOWN);
    f.password_policy = Ok(None);
    let failed = evaluate(&f, &cfg(), &CATALOGUE.iter().collect::<Vec<_>>());
    assert_eq!(exit_code(&failed), crate::domain::exit::FAILED);
}

#[test]
fn cloudtrail_cases() {
    let cases: Vec<ChainCase> = vec![
        (
            "single-region",
            Box::new(|c| trail(c).multi_region = false),
            Status::Fail,
            "is single-region",
        ),
        (
            "stopped logging",
            Box::new(|c| trail(c).status.as_mut().unwrap().is_logging = false),
            Status::Fail,
            "is not logging",
        ),
        (
            "no CloudWatch Logs",
            Box::new(|c| trail(c).log_group_arn = None),
            Status::Fail,
            "does not deliver to CloudWatch Logs",
        ),
        (
            "write-only",
            Box::new(|c| {
                trail(c).selectors = Ok(EventSelectors::Basic(vec![BasicSelector {
                    read_write_type: "WriteOnly".into(),
                    include_management_events: true,
                    exclude_management_event_sources: vec![],
                }]))
            }),
            Status::Fail,
            "records only write management events",
        ),
        (
            "advanced selectors, write-only",
            Box::new(|c| {
                trail(c).selectors = Ok(EventSelectors::Advanced(vec![AdvancedSelector {
                    name: None,
                    fields: vec![
                        AdvancedField {
                            field: "eventCategory".into(),
                            equals: vec!["Management".into()],
                            ..Default::default()
                        },
                        AdvancedField {
                            field: "readOnly".into(),
                            equals: vec!["false".into()],
                            ..Default::default()
                        },
                    ],
                }]))
            }),
            Status::Fail,
            "records only write management events",
        ),
        (
            "advanced selectors, all management events",
            Box::new(|c| {
                trail(c).selectors = Ok(EventSelectors::Advanced(vec![AdvancedSelector {
                    name: Some("Management events".into()),
                    fields: vec![AdvancedField {
                        field: "eventCategory".into(),
                        equals: vec!["Management".into()],
                        ..Default::default()
                    }],
                }]))
            }),
            Status::Pass,
            "qualifies",
        ),
        (
            "organization trail counts",
            Box::new(|c| trail(c).organization_trail = true),
            Status::Pass,
            "organization trail",
        ),
        (
            "delivery failing",
            Box::new(|c| {
                trail(c)
                    .status
                    .as_mut()
                    .unwrap()
                    .latest_cloudwatch_logs_delivery_error = Some("AccessDenied".into())
            }),
            Status::Fail,
            "fails to deliver",
        ),
        (
            "status denied",
            Box::new(|c| trail(c).status = Err(denied("cloudtrail:GetTrailStatus"))),
            Status::Unknown,
            "cloudtrail:GetTrailStatus",
        ),
        (
            "no trails",
            Box::new(|c| c.trails = Ok(vec![])),
            Status::Fail,
            "no CloudTrail trail",
        ),
    ];
    for (what, edit, status, needle) in cases {
        eprintln!("case: {what}");
        check("cloudtrail", edit_chain(edit), cfg(), status, &[needle]);
    }
}

#[test]
fn root_alarm_cases() {
    let cases: Vec<ChainCase> = vec![
        (
            "hardened",
            Box::new(|_| {}),
            Status::Pass,
            "1 confirmed subscription(s)",
        ),
        (
            "broader pattern passes with a noise note",
            Box::new(|c| {
                filter(c).pattern =
                    r#"{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }"#.into()
            }),
            Status::Pass,
            "expect some noise",
        ),
        (
            "IAMUser pattern misses root",
            Box::new(|c| filter(c).pattern = r#"{ $.userIdentity.type = "IAMUser" }"#.into()),
            Status::Fail,
            "broken link 2 of 6",
        ),
        (
            "unparseable pattern",
            Box::new(|c| filter(c).pattern = r#"{ $.userIdentity.type = }"#.into()),
            Status::Unknown,
            "cannot be parsed at position",
        ),
        (
            "wrong namespace: no alarm on the filter's metric",
            Box::new(|c| filter(c).metrics[0].alarms = Ok(vec![])),
            Status::Fail,
            "broken link 3 of 6",
        ),
        (
            "Average",
            Box::new(|c| alarm(c).statistic = Some("Average".into())),
            Status::Fail,
            "statistic is Average",
        ),
        (
            "threshold 5",
            Box::new(|c| alarm(c).threshold = Some(5.0)),
            Status::Fail,
            "does not fire on a single root event",
        ),
        (
            "greater than zero is fine",
            Box::new(|c| {
                alarm(c).threshold = Some(0.0);
                alarm(c).comparison = Some("GreaterThanThreshold".into());
            }),
            Status::Pass,
            "confirmed",
        ),
        (
            "period 3600",
            Box::new(|c| alarm(c).period = Some(3600)),
            Status::Fail,
            "period is 3600 s",
        ),
        (
            "actions disabled",
            Box::new(|c| alarm(c).actions_enabled = false),
            Status::Fail,
            "ActionsEnabled is false",
        ),
        (
            "three datapoints",
            Box::new(|c| alarm(c).evaluation_periods = Some(3)),
            Status::Fail,
            "needs 3 breaching periods",
        ),
        (
            "no actions",
            Box::new(|c| {
                alarm(c).alarm_actions.clear();
                alarm(c).topics.clear();
            }),
            Status::Fail,
            "has no SNS action",
        ),
        (
            "topic deleted",
            Box::new(|c| alarm(c).topics[0].exists = Ok(false)),
            Status::Fail,
            "the topic does not exist",
        ),
        (
            "no subscriptions",
            Box::new(|c| alarm(c).topics[0].subscriptions = Ok(vec![])),
            Status::Fail,
            "the topic has no subscriptions",
        ),
        (
            "only pending",
            Box::new(|c| {
                alarm(c).topics[0].subscriptions.as_mut().unwrap()[0].arn =
                    "PendingConfirmation".into()
            }),
            Status::Fail,
            "1 pending confirmation: sec@example.com",
        ),
        (
            "subscriptions denied",
            Box::new(|c| {
                alarm(c).topics[0].subscriptions = Err(denied("sns:ListSubscriptionsByTopic"))
            }),
            Status::Unknown,
            "sns:ListSubscriptionsByTopic",
        ),
        (
            "no qualifying trail",
            Box::new(|c| trail(c).multi_region = false),
            Status::Fail,
            "broken link 1 of 6",
        ),
        (
            "filters denied",
            Box::new(|c| c.log_groups[0].filters = Err(denied("logs:DescribeMetricFilters"))),
            Status::Unknown,
            "logs:DescribeMetricFilters",
        ),
    ];
    for (what, edit, status, needle) in cases {
        eprintln!("case: {what}");
        check("root-alarm", edit_chain(edit), cfg(), status, &[needle]);
    }
}

#[test]
fn malformed_or_partial_chain_data_gives_evidence_not_a_panic() {
    let cases: Vec<ChainCase> = vec![
        (
            "filter without metric transformations",
            Box::new(|c| filter(c).metrics.clear()),
            Status::Fail,
            "emits no metric",
        ),
        (
            "empty pattern matches all activity: its alarm says nothing about root",
            Box::new(|c| filter(c).pattern = String::new()),
            Status::Fail,
            "matches all activity",
        ),
        (
            "a match-all JSON pattern fails too",
            Box::new(|c| filter(c).pattern = "{ $.eventVersion = * }".into()),
            Status::Fail,
            "every non-root event of the corpus too",
        ),
        (
            "a root-only pattern broader than CIS passes with noise",
            Box::new(|c| filter(c).pattern = r#"{ $.userIdentity.type = "Root" }"#.into()),
            Status::Pass,
            "expect some noise",
        ),
        (
            "an alarm stuck in ALARM for two days never notifies again",
            Box::new(|c| {
                alarm(c).state = Some("ALARM".into());
                alarm(c).state_updated = Some(NOW - Duration::days(2));
            }),
            Status::Fail,
            "has been in ALARM since",
        ),
        (
            "an alarm in ALARM for an hour still notified",
            Box::new(|c| {
                alarm(c).state = Some("ALARM".into());
                alarm(c).state_updated = Some(NOW - Duration::hours(1));
            }),
            Status::Pass,
            "confirmed",
        ),
        (
            "alarm with no statistic, period or threshold",
            Box::new(|c| {
                let a = alarm(c);
                a.statistic = None;
                a.period = None;
                a.threshold = None;
                a.comparison = None;
            }),
            Status::Fail,
            "uses no simple statistic",
        ),
        (
            "log group of the trail missing from the reads",
            Box::new(|c| c.log_groups.clear()),
            Status::Unknown,
            "was not read",
        ),
        (
            "trail selectors unreadable",
            Box::new(|c| trail(c).selectors = Err(denied("cloudtrail:GetEventSelectors"))),
            Status::Unknown,
            "cloudtrail:GetEventSelectors",
        ),
        (
            "topic existence unreadable",
            Box::new(|c| alarm(c).topics[0].exists = Err(denied("sns:GetTopicAttributes"))),
            Status::Unknown,
            "sns:GetTopicAttributes",
        ),
    ];
    for (what, edit, status, needle) in cases {
        eprintln!("case: {what}");
        check("root-alarm", edit_chain(edit), cfg(), status, &[needle]);
    }
}

#[test]
fn a_log_group_in_another_account_is_checked_there() {
    let f = edit_chain(|c| {
        trail(c).log_group_arn = Some("arn:aws:logs:us-east-1:999999999999:log-group:org:*".into());
        c.log_groups.clear();
    });
    check(
        "root-alarm",
        f,
        cfg(),
        Status::Manual,
        &["account 999999999999"],
    );
}

#[test]
fn every_catalogue_entry_is_complete_and_tied_to_the_policy_and_the_docs() {
    let docs = include_str!("../../../docs/checks.md");
    let mut all_actions = Vec::new();
    for def in CATALOGUE {
        assert!(!def.title.is_empty(), "{} has no title", def.id);
        assert!(
            !def.why.is_empty(),
            "{} has no why (the wizard shows it)",
            def.id
        );
        assert!(!def.remediation.is_empty(), "{} has no remediation", def.id);
        assert!(!def.sources.is_empty(), "{} reads nothing", def.id);
        assert!(
            docs.contains(&format!("## {} (", def.id)),
            "docs/checks.md has no section for {}",
            def.id
        );
        for a in def.actions() {
            assert!(
                crate::domain::policy::VERIFY_ACTIONS.contains(&a),
                "{}: the verify policy lacks {a}",
                def.id
            );
            all_actions.push(a);
        }
    }
    for a in crate::domain::policy::VERIFY_ACTIONS {
        assert!(
            *a == "sts:GetCallerIdentity" || all_actions.contains(a),
            "the verify policy lists {a}, which no check's source calls"
        );
    }
    assert!(docs.contains("## member-root-credentials ("));
}

#[test]
fn unknown_findings_say_which_permission_to_grant_not_the_fix() {
    let def = find("root-access-keys").unwrap();
    let f = finding(
        def,
        unknown(vec!["iam:GetAccountSummary was denied".into()], vec![]),
    );
    assert!(
        f.remediation.contains(
            "iam:GetAccountSummary, iam:GenerateCredentialReport, iam:GetCredentialReport"
        ),
        "{}",
        f.remediation
    );
    assert!(f.remediation.contains("rootguard policy verify"));
    assert!(
        !f.remediation.contains("deactivate each key"),
        "{}",
        f.remediation
    );
    let failed = finding(def, verdict(Status::Fail, vec![]));
    assert!(failed.remediation.contains("deactivate each key"));
}

/// Each check's CIS AWS Foundations ids, per version, as the benchmarks
/// number them (v3.0, v5.0, v6.0, v7.0; the same numbers as Prowler's public
/// compliance mappings): one assertion per check and version.
#[test]
fn cis_ids_per_check_and_version() {
    let table: &[(&str, [&[&str]; 4])] = &[
        ("root-mfa", [&["1.5"], &["1.4"], &["2.4"], &["2.5"]]),
        (
            "root-hardware-mfa",
            [&["1.6"], &["1.5"], &["2.5"], &["2.6"]],
        ),
        ("root-access-keys", [&["1.4"], &["1.3"], &["2.3"], &["2.4"]]),
        ("root-recent-use", [&["1.7"], &["1.6"], &["2.6"], &["2.7"]]),
        ("security-contact", [&["1.2"], &["1.2"], &["2.2"], &["2.3"]]),
        ("contact-info", [&["1.1"], &["1.1"], &["2.1"], &["2.2"]]),
        (
            "password-policy",
            [
                &["1.8", "1.9"],
                &["1.7", "1.8"],
                &["2.7", "2.8"],
                &["2.8", "2.9"],
            ],
        ),
        ("iam-user-mfa", [&["1.10"], &["1.9"], &["2.9"], &["2.10"]]),
        ("org-root-management", [&[], &[], &[], &["2.1.1"]]),
        ("cloudtrail", [&["3.1"], &["3.1"], &["4.1"], &["4.1"]]),
        ("root-alarm", [&["4.3"], &["4.3"], &["5.3"], &["5.3"]]),
        ("root-signing-certs", [&[], &[], &[], &[]]),
        ("root-realtime-alert", [&[], &[], &[], &[]]),
    ];
    assert_eq!(table.len(), crate::domain::checks::CATALOGUE.len());
    for (id, want) in table {
        let def = crate::domain::checks::find(id).unwrap();
        let refs = crate::domain::finding::References {
            cis_versions: def.cis,
            ..Default::default()
        };
        for (version, ids) in crate::domain::finding::CIS_VERSIONS.iter().zip(want) {
            assert_eq!(refs.cis_in(version), *ids, "{id} in CIS v{version}");
        }
    }
}

/// A check that some CIS version covers has ids in every later version too:
/// a version left out is a reference the auditor cannot find.
#[test]
fn a_check_covered_by_cis_has_ids_in_every_version_since() {
    for def in crate::domain::checks::CATALOGUE {
        let refs = crate::domain::finding::References {
            cis_versions: def.cis,
            ..Default::default()
        };
        let covered: Vec<bool> = crate::domain::finding::CIS_VERSIONS
            .iter()
            .map(|v| !refs.cis_in(v).is_empty())
            .collect();
        if let Some(first) = covered.iter().position(|c| *c) {
            assert!(
                covered[first..].iter().all(|c| *c),
                "{}: CIS ids from v{} on, but not in every later version: {:?}",
                def.id,
                crate::domain::finding::CIS_VERSIONS[first],
                def.cis
            );
        }
        for (v, _) in def.cis {
            assert!(
                crate::domain::finding::CIS_VERSIONS.contains(v),
                "{}: v{v}",
                def.id
            );
        }
    }
    let f = crate::domain::checks::finding(
        crate::domain::checks::find("root-mfa").unwrap(),
        crate::domain::checks::verdict(crate::domain::finding::Status::Pass, vec![]),
    );
    assert_eq!(
        f.references.cis,
        ["1.5"],
        "the v3.0 field keeps its meaning"
    );
    assert_eq!(
        f.references.related_requirements()[..2],
        [
            "CIS AWS Foundations Benchmark v3.0.0/1.5",
            "CIS AWS Foundations Benchmark v5.0.0/1.4"
        ]
    );
    assert!(f
        .references
        .related_requirements()
        .contains(&"NIST.800-53.r5 IA-2(1)".to_string()));
}

//! `verify --org`, `org status`, `org harden` and `policy org` against an
//! emulated organization: moto's Organizations plus the launcher's
//! centralized root access, `sts:AssumeRoot` sessions and member root state.

mod common;

use common::*;
use serde_json::{json, Value};

const BOTH: [&str; 2] = ["RootCredentialsManagement", "RootSessions"];
const TRUSTED: [&str; 2] = ["iam.amazonaws.com", "account.amazonaws.com"];

/// The hardened fixture as the management account (it passes every check).
fn management() -> Value {
    let mut m = fixture("hardened");
    m.as_object_mut().unwrap().remove("organization");
    m
}

fn contacts() -> Value {
    let h = fixture("hardened");
    json!({"alternate_contacts": h["alternate_contacts"], "contact_information": h["contact_information"]})
}

fn member(name: &str, root: Value) -> Value {
    let mut m = contacts();
    m["name"] = json!(name);
    m["root"] = root;
    m
}

fn clean() -> Value {
    json!({"password_present": false})
}

fn org_run(org: &Org, args: &[&str]) -> Run {
    let mut cmd = rootguard_as(&org.management);
    cmd.args(args);
    run(cmd)
}

fn org_json(org: &Org, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["verify", "--org", "--output", "json"];
    all.extend_from_slice(args);
    let r = org_run(org, &all);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}\n{}", r.stderr, r.stdout));
    (r.code, v)
}

fn account<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == id)
        .unwrap_or_else(|| panic!("no account {id}"))
}

fn org_finding<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["organization"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no org finding {id}"))
}

fn status(doc: &Value, account_id: &str, check: &str) -> String {
    finding(account(doc, account_id), check)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn six_members() -> Org {
    emulator().seed_org(json!({
        "management": management(),
        "features": BOTH,
        "trusted_access": TRUSTED,
        "members": [
            member("clean-a", clean()),
            member("clean-b", clean()),
            member("clean-c", clean()),
            member("password-only", json!({"password_present": true, "password_last_used": "-30d"})),
            member("used-key", json!({"password_present": false,
                "access_keys": [{"active": true, "last_used_date": "-20h", "last_used_service": "s3", "last_used_region": "eu-west-1"}]})),
            member("virtual-mfa", json!({"password_present": false, "virtual_mfa": true, "mfa_enabled": true})),
        ]
    }))
}

#[test]
fn six_members_each_judged_from_its_root_session() {
    let org = six_members();
    let m = &org.members;
    let (code, doc) = org_json(&org, &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["schema"], "rootguard.verify-org/v1");
    assert_eq!(doc["organization_id"], org.id.as_str());
    assert_eq!(doc["management_account_id"], org.management.id.as_str());
    assert_eq!(doc["summary"]["accounts"], 7);
    assert_eq!(account(&doc, &org.management.id)["access"], "management");
    for clean in &m[0..3] {
        assert_eq!(account(&doc, clean)["access"], "assume-root");
        for check in ["root-mfa", "root-hardware-mfa"] {
            assert_eq!(
                status(&doc, clean, check),
                "not_applicable",
                "{clean} {check}"
            );
        }
        for check in [
            "root-access-keys",
            "root-signing-certs",
            "root-recent-use",
            "security-contact",
            "contact-info",
        ] {
            assert_eq!(status(&doc, clean, check), "pass", "{clean} {check}");
        }
        for check in [
            "password-policy",
            "iam-user-mfa",
            "cloudtrail",
            "root-alarm",
        ] {
            let f = finding(account(&doc, clean), check);
            assert_eq!(f["status"], "manual", "{check}");
            assert!(evidence(f).contains("--role"), "{f:#}");
        }
        assert_eq!(account(&doc, clean)["exit_code"], 0);
    }
    // A password only: MFA fails, nothing else about credentials.
    assert_eq!(status(&doc, &m[3], "root-mfa"), "fail");
    assert!(evidence(finding(account(&doc, &m[3]), "root-mfa")).contains("root still has password"));
    assert_eq!(status(&doc, &m[3], "root-access-keys"), "pass");
    assert_eq!(status(&doc, &m[3], "root-recent-use"), "pass");
    // An active key used yesterday: keys and recent use fail, with last-use evidence.
    let keys = finding(account(&doc, &m[4]), "root-access-keys");
    assert_eq!(keys["status"], "fail");
    assert!(
        evidence(keys).contains("service s3, region eu-west-1"),
        "{keys:#}"
    );
    assert_eq!(status(&doc, &m[4], "root-recent-use"), "fail");
    // A virtual MFA device only: warn, naming the device.
    let hw = finding(account(&doc, &m[5]), "root-hardware-mfa");
    assert_eq!(hw["status"], "warn");
    assert!(evidence(hw).contains(&format!("arn:aws:iam::{}:mfa/", m[5])));
    // The contact check saw the root email from ListAccounts (no GetPrimaryEmail per member).
    assert!(evidence(finding(account(&doc, &m[0]), "contact-info"))
        .contains("root email (ListAccounts)"));

    assert_eq!(org_finding(&doc, "org-root-management")["status"], "pass");
    let mrc = org_finding(&doc, "member-root-credentials");
    assert_eq!(mrc["status"], "fail");
    let listed: Vec<&str> = mrc["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .filter(|e| e.contains("root still has"))
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    for (i, id) in m[3..6].iter().enumerate() {
        assert!(listed[i].starts_with(id.as_str()), "{listed:?}");
    }

    // Requests per member without --role: AssumeRoot, then the root reads
    // (GetLoginProfile, ListAccessKeys, ListMFADevices, ListSigningCertificates).
    let clean_stats = emulator().stats_of(&m[0]);
    assert_eq!(clean_stats["requests"], 4, "{clean_stats:#}");
    let mgmt = emulator().stats(&org.management);
    assert_eq!(mgmt["by_action"]["sts:AssumeRoot"], 6, "{mgmt:#}");
}

#[test]
fn junit_has_one_suite_per_account_and_text_and_markdown_summarise() {
    let org = six_members();
    let r = org_run(&org, &["verify", "--org", "--output", "junit"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout.matches("<testsuite ").count(),
        8,
        "org + 7 accounts"
    );
    for id in &org.members {
        assert!(r.stdout.contains(&format!("classname=\"rootguard.{id}\"")));
    }
    let r = org_run(&org, &["verify", "--org"]);
    assert!(
        r.stdout.contains("7 accounts (2 failing, 0 unknown)"),
        "{}",
        r.stdout
    );
    let header = r
        .stdout
        .lines()
        .find(|l| l.starts_with("account "))
        .unwrap();
    assert!(header.contains("pass") && header.contains("unknown"));
    assert!(!r.stdout.contains("refs:"), "references only with -v");
    // Each failing check's fix once, though two members fail some checks.
    let fixes = &r.stdout[r
        .stdout
        .find("\nhow to fix (each check once)\n")
        .expect("fixes")..];
    let fix_lines = r.stdout.matches("fix: ").count();
    let checks_fixed = fixes
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .count();
    assert!(checks_fixed > 0, "{fixes}");
    let org_fixes = r.stdout[..r.stdout.find("\naccount ").unwrap()]
        .matches("fix: ")
        .count();
    assert_eq!(fix_lines, org_fixes + checks_fixed, "{}", r.stdout);
    let account_findings = r.stdout[r.stdout.find("\naccount ").unwrap()..]
        .lines()
        .filter(|l| {
            ["  FAIL ", "  WARN ", "  UNKNOWN "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .count();
    assert!(
        account_findings > checks_fixed,
        "some check fails in more than one account: {}",
        r.stdout
    );
    // -v: each check's references once, after the report (not per account).
    let v = org_run(&org, &["verify", "--org", "-v"]);
    let refs = &v.stdout[v.stdout.find("\nreferences\n").expect("a references block")..];
    assert_eq!(refs.matches("\n  root-mfa\n").count(), 1, "{refs}");
    assert!(
        refs.contains("refs: CIS v3.0 1.5 · v5.0 1.4 · v6.0 2.4 · v7.0 2.5; Security Hub IAM.9"),
        "{refs}"
    );
    assert!(refs.contains("\n  org-root-management\n"), "{refs}");
    assert!(refs.contains("v7.0 2.1.1"), "{refs}");
    assert_eq!(
        v.stdout.matches("refs: ").count(),
        refs.matches("refs: ").count()
    );
    let csv = org_run(&org, &["verify", "--org", "-o", "csv", "-o", "asff"]);
    let (csv_text, asff_text) = csv
        .stdout
        .split_once("\n[")
        .expect("csv, then the ASFF array");
    let rows: Vec<::csv::StringRecord> = ::csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows.iter().filter(|r| &r[1] == "organization").count(), 2);
    assert_eq!(
        rows.iter()
            .filter(|r| &r[0] == org.members[4].as_str())
            .count(),
        12,
        "one row per check"
    );
    let asff: Value = serde_json::from_str(&format!("[{asff_text}")).unwrap();
    assert_eq!(
        asff.as_array().unwrap().len(),
        rows.len(),
        "one ASFF finding per account × check"
    );
    let md = org_run(&org, &["verify", "--org", "--output", "markdown"]);
    assert!(md.stdout.contains("## Accounts × checks"));
    assert!(md.stdout.contains(&format!(
        "| `{}` | used-key | assume-root |",
        org.members[4]
    )));
}

#[test]
fn centralized_root_off_fails_and_sessions_off_warns() {
    let off = emulator().seed_org(json!({
        "management": management(),
        "features": [],
        "trusted_access": [],
        "members": [member("m", clean())]
    }));
    let (code, doc) = org_json(&off, &[]);
    assert_eq!(code, 1);
    let f = org_finding(&doc, "org-root-management");
    assert_eq!(f["status"], "fail");
    assert!(evidence(f).contains("rootguard org harden"), "{f:#}");
    // Without centralized root management no root session is even tried.
    assert!(emulator().stats(&off.management)["by_action"]["sts:AssumeRoot"].is_null());
    assert_eq!(status(&doc, &off.members[0], "root-mfa"), "unknown");

    let sessions_off = emulator().seed_org(json!({
        "management": management(),
        "features": ["RootCredentialsManagement"],
        "trusted_access": TRUSTED,
        "members": [member("m", clean())]
    }));
    let (_, doc) = org_json(&sessions_off, &[]);
    let f = org_finding(&doc, "org-root-management");
    assert_eq!(f["status"], "warn");
    assert!(evidence(f).contains("RootSessions is not enabled"));
}

#[test]
fn a_member_whose_assume_root_is_denied_is_unknown_and_the_others_still_run() {
    let mut denied = member("denied", clean());
    denied["assume_root"] = json!("deny");
    let org = emulator().seed_org(json!({
        "management": management(),
        "features": BOTH,
        "trusted_access": TRUSTED,
        "members": [member("ok", clean()), denied]
    }));
    let (code, doc) = org_json(&org, &[]);
    let d = account(&doc, &org.members[1]);
    assert_eq!(d["access"], "none");
    let f = finding(d, "root-mfa");
    assert_eq!(f["status"], "unknown");
    assert!(evidence(f).contains("sts:AssumeRoot was denied"), "{f:#}");
    assert_eq!(account(&doc, &org.members[0])["exit_code"], 0);
    assert_eq!(
        org_finding(&doc, "member-root-credentials")["status"],
        "unknown"
    );
    assert_eq!(code, 3, "unknown and nothing failed: {doc:#}");
}

#[test]
fn from_a_member_or_outside_an_organization_says_where_to_run_it() {
    let org = emulator().seed_org(json!({"members": [member("m", clean())]}));
    let caller = &org.member_callers[0];
    let mut cmd = rootguard_as(caller);
    cmd.args(["verify", "--org"]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("not its management account") && r.stderr.contains(&org.management.id)
    );
    let seen = emulator().stats(caller)["by_action"].clone();
    for a in seen.as_object().unwrap().keys() {
        assert!(
            [
                "sts:GetCallerIdentity",
                "organizations:DescribeOrganization",
                "organizations:ListAccounts"
            ]
            .contains(&a.as_str()),
            "unexpected request {a}"
        );
    }

    let alone = emulator().seed(json!({}));
    let mut cmd = rootguard_as(&alone);
    cmd.args(["org", "status"]);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("is not in an AWS Organizations organization"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1);
}

#[test]
fn with_a_role_each_member_gets_the_whole_verify() {
    let mut with_role = member("with-role", clean());
    with_role["roles"] = json!(["RootguardAudit"]);
    let org = emulator().seed_org(json!({
        "management": management(),
        "features": BOTH,
        "trusted_access": TRUSTED,
        "members": [with_role, member("without-role", clean())]
    }));
    let (_, doc) = org_json(&org, &["--role", "RootguardAudit"]);
    let a = account(&doc, &org.members[0]);
    assert_eq!(a["access"], "role");
    // Read inside the member: the password policy is judged, not "manual".
    assert_eq!(finding(a, "password-policy")["status"], "fail");
    assert_eq!(finding(a, "cloudtrail")["status"], "fail");
    let stats = emulator().stats_of(&org.members[0]);
    assert!(stats["by_action"]["iam:GetAccountPasswordPolicy"].as_u64() >= Some(1));
    let b = account(&doc, &org.members[1]);
    assert_eq!(b["access"], "none");
    let f = finding(b, "root-mfa");
    assert_eq!(f["status"], "unknown");
    assert!(evidence(f).contains("sts:AssumeRole was denied"), "{f:#}");
}

#[test]
fn org_status_counts_members_by_credential() {
    let org = six_members();
    let r = org_run(&org, &["org", "status", "--output", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["schema"], "rootguard.org-status/v1");
    assert_eq!(v["features"]["root_credentials_management"], true);
    assert_eq!(v["members"]["total"], 6);
    assert_eq!(v["members"]["without_root_credentials"], 3);
    assert_eq!(v["members"]["with_password"], 1);
    assert_eq!(v["members"]["with_access_keys"], 1);
    assert_eq!(v["members"]["with_mfa_devices"], 1);
    assert_eq!(v["delegated_administrators"], json!([]));
    let text = org_run(&org, &["org", "status"]);
    assert!(text.stdout.contains("trusted access iam.amazonaws.com"));
    assert!(text
        .stdout
        .contains("members that still have root credentials"));
}

#[test]
fn org_harden_plans_applies_converges_and_reports_each_member() {
    let org = emulator().seed_org(json!({
        "management": management(),
        "features": [],
        "trusted_access": ["account.amazonaws.com"],
        "members": [
            member("clean", clean()),
            member("password", json!({"password_present": true})),
            member("everything", json!({"password_present": true, "virtual_mfa": true, "mfa_enabled": true,
                "access_keys": [{"active": true}, {"active": false}], "signing_certs": [{"active": true}]})),
        ]
    }));
    // --dry-run: the plan, no write anywhere.
    let r = org_run(&org, &["org", "harden", "--dry-run", "--output", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["schema"], "rootguard.org-harden-plan/v1");
    let steps: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        &steps[..3],
        [
            "enable_trusted_access",
            "enable_root_credentials_management",
            "enable_root_sessions"
        ]
    );
    assert_eq!(
        steps.len(),
        6,
        "one delete step per member whose root cannot be read yet"
    );
    assert!(
        writes(&org.management).is_empty(),
        "{:?}",
        writes(&org.management)
    );
    assert_eq!(
        emulator().root_state(&org.members[2])["password_present"],
        true
    );

    // Without --yes and without a terminal: refused before any request.
    let before = emulator().stats(&org.management)["requests"].clone();
    let r = org_run(&org, &["org", "harden"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--yes"));
    assert_eq!(emulator().stats(&org.management)["requests"], before);

    let r = org_run(&org, &["org", "harden", "--yes"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("3 member(s) done, 0 failed"),
        "{}",
        r.stderr
    );
    for id in &org.members {
        let st = emulator().root_state(id);
        assert_eq!(st["password_present"], false, "{id}: {st:#}");
        assert_eq!(
            st["access_keys"].as_array().map(Vec::len).unwrap_or(0),
            0,
            "{st:#}"
        );
        assert_eq!(
            st["signing_certs"].as_array().map(Vec::len).unwrap_or(0),
            0,
            "{st:#}"
        );
        assert_eq!(st["mfa_devices"], json!([]), "{st:#}");
        assert_eq!(st["features"], json!(BOTH), "{st:#}");
        assert!(st["trusted_access"]
            .as_array()
            .unwrap()
            .contains(&json!("iam.amazonaws.com")));
    }
    // The virtual MFA device is gone, not just unassigned.
    let devices = emulator().mfa_devices(&Account {
        id: org.members[2].clone(),
        access_key_id: String::new(),
        secret_access_key: String::new(),
    });
    assert!(devices.is_empty(), "{devices:?}");

    // A second run plans nothing and writes nothing.
    let count = |a: &str| {
        emulator().stats(&org.management)["by_action"][a]
            .as_u64()
            .unwrap_or(0)
    };
    // Audit sessions (sts:AssumeRoot) are reads of the members, not writes.
    let changes = || -> Vec<String> {
        writes(&org.management)
            .into_iter()
            .filter(|a| a != "sts:AssumeRoot")
            .collect()
    };
    let writes_before: Vec<u64> = changes().iter().map(|a| count(a)).collect();
    let r = org_run(&org, &["org", "harden", "--yes"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("nothing to change"), "{}", r.stdout);
    let writes_after: Vec<u64> = changes().iter().map(|a| count(a)).collect();
    assert_eq!(writes_before, writes_after, "the second run wrote");
    let (_, doc) = org_json(&org, &[]);
    assert_eq!(
        org_finding(&doc, "member-root-credentials")["status"],
        "pass"
    );
    assert_eq!(org_finding(&doc, "org-root-management")["status"], "pass");
}

#[test]
fn org_harden_finishes_the_others_when_one_member_refuses() {
    let mut refusing = member("refusing", json!({"password_present": true}));
    refusing["assume_root"] = json!("deny-delete");
    let org = emulator().seed_org(json!({
        "management": management(),
        "features": BOTH,
        "trusted_access": TRUSTED,
        "members": [member("a", json!({"password_present": true})), refusing,
                    member("c", json!({"password_present": false, "access_keys": [{"active": true}]}))]
    }));
    let r = org_run(&org, &["org", "harden", "--yes"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("2 member(s) done, 1 failed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "FAILED   {} (refusing): sts:AssumeRoot was denied",
            org.members[1]
        )),
        "{}",
        r.stderr
    );
    assert_eq!(
        emulator().root_state(&org.members[0])["password_present"],
        false
    );
    assert_eq!(
        emulator().root_state(&org.members[1])["password_present"],
        true
    );
    assert_eq!(
        emulator().root_state(&org.members[2])["access_keys"],
        json!([])
    );
}

#[test]
fn bad_org_flags_exit_2_before_any_request() {
    let org = emulator().seed_org(json!({"members": [member("m", clean())]}));
    let cases: &[(&[&str], &str)] = &[
        (&["verify", "--org", "--accounts", "12345"], "--accounts"),
        (
            &["verify", "--org", "--accounts", "123456789012,abc"],
            "--accounts",
        ),
        (&["verify", "--org", "--concurrency", "0"], "--concurrency"),
        (
            &["verify", "--org", "--concurrency", "100000"],
            "--concurrency",
        ),
        (&["verify", "--org", "--role", "bad/role"], "--role"),
        (
            &[
                "verify",
                "--org",
                "--role",
                "arn:aws:iam::123456789012:role/x",
            ],
            "--role",
        ),
        (&["verify", "--role", "Audit"], "--org"),
        (&["verify", "--accounts", "123456789012"], "--org"),
        (&["org", "harden", "--concurrency=-3"], "--concurrency"),
    ];
    for (args, needle) in cases {
        let r = org_run(&org, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"));
    }
    assert_eq!(
        emulator().stats(&org.management)["requests"],
        0,
        "no request for bad input"
    );
    // An id that is not in the organization is found after ListAccounts, and named.
    let r = org_run(&org, &["verify", "--org", "--accounts", "999999999999"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--accounts") && r.stderr.contains("999999999999"),
        "{}",
        r.stderr
    );
    assert!(emulator().stats(&org.management)["by_action"]["sts:AssumeRoot"].is_null());
}

#[test]
fn policy_org_lists_every_action_the_org_commands_send() {
    let org = six_members();
    for args in [
        &["verify", "--org"][..],
        &["org", "status"][..],
        &["org", "harden", "--yes"][..],
    ] {
        org_run(&org, args);
    }
    let mut cmd = bare_command();
    cmd.args(["policy", "org"]);
    let policy: Value = serde_json::from_str(&run(cmd).stdout).unwrap();
    let allowed = rootguard::domain::policy::actions(&policy);
    let seen = emulator().stats(&org.management)["by_action"].clone();
    for action in seen.as_object().unwrap().keys() {
        assert!(
            allowed.contains(action),
            "{action} is not in `rootguard policy org`"
        );
    }
    assert!(seen["sts:AssumeRoot"].as_u64().unwrap() > 0);
    assert!(seen["iam:ListOrganizationsFeatures"].as_u64().unwrap() > 0);
}

#[test]
fn an_organization_trail_chain_deployed_by_rootguard_covers_every_member() {
    let mut mgmt = management();
    mgmt["chain"]["trails"][0]["organization"] = json!(true);
    for k in ["metric_filters", "topics", "alarms", "realtime_rule"] {
        mgmt["chain"].as_object_mut().unwrap().remove(k);
    }
    let org = emulator().seed_org(json!({
        "management": mgmt,
        "features": BOTH,
        "trusted_access": TRUSTED,
        "members": [member("a", clean()), member("b", clean())]
    }));
    // Before: a member's root-alarm needs --role.
    let (_, doc) = org_json(&org, &["--check", "root-alarm"]);
    assert_eq!(status(&doc, &org.members[0], "root-alarm"), "manual");

    let r = org_run(
        &org,
        &["deploy", "--email", "security@example.com", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("receives the organization trail management-events: this alarm covers root activity in every account"),
        "{}",
        r.stderr
    );
    emulator().confirm(&org.management, "security@example.com");
    let (_, doc) = org_json(&org, &["--check", "root-alarm"]);
    for id in &org.members {
        let f = finding(account(&doc, id), "root-alarm");
        assert_eq!(f["status"], "pass", "{f:#}");
        let ev = evidence(f);
        assert!(
            ev.contains(&format!(
                "covered by the organization trail's chain in account {}",
                org.management.id
            )),
            "{ev}"
        );
        assert!(
            ev.contains("trail management-events") && ev.contains("alarm rootguard-root-activity"),
            "{ev}"
        );
    }
}

#[test]
fn html_report_shows_every_account_and_check_and_renders_aws_strings_as_text() {
    let hostile = "<script>alert('pwned')</script>";
    let org = emulator().seed_org(json!({
        "management": management(),
        "features": BOTH,
        "trusted_access": TRUSTED,
        "members": [member(hostile, clean()), member("password-only", json!({"password_present": true}))]
    }));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.html");
    let out = format!("html={}", path.display());
    let r = org_run(&org, &["verify", "--org", "-o", &out, "-o", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = scraper::Html::parse_document(&text);
    assert!(doc.errors.is_empty(), "parses cleanly: {:?}", doc.errors);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    // One inline script (the table's sort and filter), loading nothing.
    let scripts: Vec<_> = doc.select(&sel("script")).collect();
    assert_eq!(scripts.len(), 1, "the member's name is not a script");
    assert!(scripts[0].value().attr("src").is_none());
    assert!(doc
        .select(&sel("link, img, iframe, [src]"))
        .next()
        .is_none());
    // The member's name is shown as the text it is.
    let rows: Vec<_> = doc.select(&sel("#matrix tbody tr")).collect();
    assert_eq!(rows.len(), json["accounts"].as_array().unwrap().len());
    let names: Vec<String> = rows
        .iter()
        .map(|r| r.select(&sel("td")).nth(1).unwrap().text().collect())
        .collect();
    assert!(names.iter().any(|n| n == hostile), "{names:?}");
    // Every account's every check is a cell whose status matches the JSON.
    for a in json["accounts"].as_array().unwrap() {
        let id = a["account_id"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| {
                r.select(&sel("td code"))
                    .next()
                    .map(|c| c.text().collect::<String>())
                    == Some(id.to_string())
            })
            .unwrap_or_else(|| panic!("no row for {id}"));
        let section = doc
            .select(&sel(&format!("section.account[id=\"acct-{id}\"]")))
            .next()
            .unwrap_or_else(|| panic!("no section for {id}"));
        // Expanded, so a printout shows it: never folded in a <details>.
        assert!(section.select(&sel("details")).next().is_none(), "{id}");
        for f in a["findings"].as_array().unwrap() {
            let check = f["id"].as_str().unwrap();
            let status = f["status"].as_str().unwrap();
            let cell = row.select(&sel(&format!("td[title^=\"{check}:\"]"))).next();
            if evidence(f).contains("not decided without --role") {
                // Not read without --role: said once for the row (or the
                // column), never a ✎ cell per check, and nothing to act on.
                assert!(
                    cell.is_none(),
                    "{id}: a cell for {check}, which needs --role"
                );
                let said: Vec<String> = row
                    .select(&sel("td.notread"))
                    .map(|td| td.text().collect())
                    .collect();
                let column: Option<String> = doc
                    .select(&sel("#not-read"))
                    .next()
                    .map(|p| p.text().collect());
                assert!(
                    said == ["not read (needs --role)"]
                        || column.is_some_and(|c| c.contains(check)),
                    "{id} {check}: {said:?}"
                );
                assert!(section
                    .select(&sel(&format!("[data-check=\"{check}\"]")))
                    .next()
                    .is_none());
                continue;
            }
            let cell = cell.unwrap_or_else(|| panic!("{id}: no cell for {check}"));
            assert_eq!(
                cell.value().attr("data-status"),
                Some(status),
                "{id} {check}"
            );
            assert_ne!(cell.text().collect::<String>(), "✎", "{id} {check}");
            let in_section = section
                .select(&sel(&format!("[data-check=\"{check}\"]")))
                .next();
            if matches!(status, "pass" | "not_applicable") {
                assert!(
                    in_section.is_none(),
                    "{id} {check}: listed as needing action"
                );
            } else {
                // The evidence sits with its account.
                let shown: String = in_section
                    .unwrap_or_else(|| panic!("{id} {check}: evidence not with the account"))
                    .text()
                    .collect();
                let first = f["evidence"][0].as_str().unwrap_or("");
                let plain = first.replace('`', "");
                assert!(shown.contains(&plain), "{id} {check}: {shown}");
                // Each check's remediation is written once, in the checks section.
                assert!(doc
                    .select(&sel(&format!("#check-{check}")))
                    .next()
                    .is_some());
            }
        }
    }
    // Account ids and check names never break inside: a no-break element.
    for code in doc.select(&sel("#matrix tbody tr td:first-child a")) {
        assert_eq!(code.value().attr("class"), Some("nb"));
    }
    assert!(text.contains(".nb{white-space:nowrap}"));
    for th in doc.select(&sel("#matrix th.check")) {
        assert!(
            th.value().attr("title").is_some(),
            "the full name in a tooltip"
        );
    }
    assert!(text.contains("th.check{vertical-align:bottom;white-space:nowrap}"));
    // No remediation under a passing check, anywhere.
    for sec in doc.select(&sel("section.finding")) {
        let passing = sec
            .select(&sel("h3 .st"))
            .next()
            .and_then(|b| b.value().attr("data-status"))
            .is_some_and(|s| s == "pass" || s == "not_applicable");
        if passing {
            assert!(sec.select(&sel(".remedy")).next().is_none());
        }
    }
    // Statuses read as words; inline code is code.
    assert!(!doc
        .select(&sel("body > :not(script)"))
        .any(|e| e.text().any(|t| t.contains("not_applicable"))));
    assert!(!doc
        .select(&sel(".remedy"))
        .any(|r| r.text().any(|t| t.contains('`'))));
    for f in json["organization"]["findings"].as_array().unwrap() {
        let id = f["id"].as_str().unwrap();
        assert!(doc
            .select(&sel(&format!("section[data-check=\"{id}\"]")))
            .next()
            .is_some());
    }
}

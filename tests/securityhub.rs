//! `verify --security-hub`: findings imported into the caller's Security Hub
//! (the launcher models BatchImportFindings, GetFindings and
//! BatchUpdateFindings as the Security Hub API Reference documents them).

mod common;

use common::*;
use serde_json::{json, Value};

fn rg(acct: &Account, args: &[&str]) -> Run {
    let mut cmd = rootguard_as(acct);
    cmd.args(args);
    run(cmd)
}

fn with_hub(name: &str) -> Account {
    let mut s = fixture(name);
    s["security_hub"] = json!(["us-east-1"]);
    emulator().seed(s)
}

fn by_id(findings: &[Value]) -> std::collections::BTreeMap<String, Value> {
    findings
        .iter()
        .map(|f| (f["Id"].as_str().unwrap().to_string(), f.clone()))
        .collect()
}

#[test]
fn import_then_rerun_updates_the_same_findings_and_a_fixed_check_is_resolved() {
    let acct = with_hub("neglected");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.asff");
    let r = rg(
        &acct,
        &[
            "verify",
            "--security-hub",
            "-o",
            &format!("asff={}", file.display()),
        ],
    );
    assert_eq!(r.code, 1, "the verdict stays the checks': {}", r.stderr);
    let printed: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let held = emulator().security_hub(&acct, "us-east-1");
    assert_eq!(held.len(), printed.len(), "one finding per check");
    let held_ids = by_id(&held);
    for f in &printed {
        let h = &held_ids[f["Id"].as_str().unwrap()];
        assert_eq!(h["Compliance"], f["Compliance"]);
        assert_eq!(h["AwsAccountId"], acct.id.as_str());
        assert_eq!(
            h["Resources"][0]["Id"],
            format!("AWS::::Account:{}", acct.id)
        );
        assert_eq!(h["Title"], f["Title"]);
    }
    assert!(
        r.stderr.contains(&format!(
            "security hub ({}, us-east-1): {} finding(s) imported ({} new, 0 updated)",
            acct.id,
            printed.len(),
            printed.len()
        )),
        "{}",
        r.stderr
    );
    let root_mfa = format!("rootguard/{}/root-mfa", acct.id);
    assert_eq!(held_ids[&root_mfa]["Compliance"]["Status"], "FAILED");
    assert_eq!(held_ids[&root_mfa]["Workflow"]["Status"], "NEW");

    // A person marks the finding NOTIFIED; then root MFA is turned on.
    emulator().security_hub_set(
        &acct,
        "us-east-1",
        json!({"workflow": {&root_mfa: "NOTIFIED"}}),
    );
    emulator().set_root(&acct, json!({"mfa_enabled": true}));
    let again = rg(&acct, &["verify", "--security-hub", "-o", "json"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    let held2 = emulator().security_hub(&acct, "us-east-1");
    assert_eq!(held2.len(), held.len(), "updated, not duplicated");
    let h = &by_id(&held2)[&root_mfa];
    assert_eq!(h["Compliance"]["Status"], "PASSED");
    assert_eq!(
        h["Workflow"]["Status"], "RESOLVED",
        "a check that passes now resolves its finding"
    );
    let now_passing = held2
        .iter()
        .filter(|f| {
            f["Compliance"]["Status"] == "PASSED"
                && held_ids[f["Id"].as_str().unwrap()]["Compliance"]["Status"] != "PASSED"
        })
        .count();
    assert!(now_passing >= 1);
    for f in &held2 {
        if f["Compliance"]["Status"] == "PASSED" {
            assert_eq!(f["Workflow"]["Status"], "RESOLVED", "{f:#}");
        }
    }
    assert!(
        again.stderr.contains(&format!(
            "0 new, {} updated), {now_passing} resolved",
            held.len()
        )),
        "{}",
        again.stderr
    );
    let by = &emulator().stats(&acct)["by_action"];
    assert_eq!(
        by["securityhub:BatchImportFindings"], 2,
        "one batch per run: {by}"
    );
    assert_eq!(by["securityhub:BatchUpdateFindings"], 1, "{by}");
}

#[test]
fn a_refused_finding_is_named_and_turns_a_clean_run_unknown() {
    let acct = with_hub("hardened");
    let clean = rg(&acct, &["verify", "--security-hub", "-q"]);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    assert!(
        clean.stderr.is_empty(),
        "-q keeps a good import quiet: {}",
        clean.stderr
    );
    let refused = format!("rootguard/{}/root-access-keys", acct.id);
    emulator().security_hub_set(&acct, "us-east-1", json!({"reject": [&refused]}));
    let r = rg(&acct, &["verify", "--security-hub", "-q"]);
    assert_eq!(r.code, 3, "the central place is out of date: {}", r.stderr);
    assert!(
        r.stderr.contains("1 refused")
            && r.stderr
                .contains(&format!("refused {refused}: InvalidInput")),
        "{}",
        r.stderr
    );
}

#[test]
fn security_hub_not_enabled_or_denied_is_said_once_and_the_run_is_unknown() {
    let acct = emulator().seed(fixture("hardened"));
    let r = rg(&acct, &["verify", "--security-hub"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("securityhub:GetFindings") && r.stderr.contains("InvalidAccessException"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("0 finding(s) imported"), "{}", r.stderr);

    let acct = with_hub("hardened");
    emulator().deny(&acct, &["securityhub:BatchImportFindings"]);
    let r = rg(&acct, &["verify", "--security-hub"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(
        r.stderr.matches("error: ").count(),
        1,
        "one line for the failed call: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("securityhub:BatchImportFindings"),
        "{}",
        r.stderr
    );
    assert!(emulator().security_hub(&acct, "us-east-1").is_empty());
}

#[test]
fn org_findings_go_to_the_callers_hub_one_per_member_and_check_in_batches_of_100() {
    let mut management = fixture("hardened");
    management.as_object_mut().unwrap().remove("organization");
    management["security_hub"] = json!(["us-east-1"]);
    let h = fixture("hardened");
    let members: Vec<Value> = (0..12)
        .map(|i| {
            json!({"name": format!("m{i}"), "root": {"password_present": false},
                   "alternate_contacts": h["alternate_contacts"], "contact_information": h["contact_information"]})
        })
        .collect();
    let org = emulator().seed_org(json!({
        "management": management,
        "features": ["RootCredentialsManagement", "RootSessions"],
        "trusted_access": ["iam.amazonaws.com", "account.amazonaws.com"],
        "members": members
    }));
    let mut cmd = rootguard_as(&org.management);
    cmd.args(["verify", "--org", "--security-hub", "-o", "asff"]);
    let r = run(cmd);
    let printed: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        printed.len() > 100,
        "more than one batch: {}",
        printed.len()
    );
    let held = emulator().security_hub(&org.management, "us-east-1");
    assert_eq!(held.len(), printed.len(), "{}", r.stderr);
    for m in &org.members {
        let mine: Vec<&Value> = held
            .iter()
            .filter(|f| f["Resources"][0]["Id"] == format!("AWS::::Account:{m}"))
            .collect();
        assert!(!mine.is_empty(), "member {m} has findings");
        for f in mine {
            assert!(f["Id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("rootguard/{m}/")));
            assert_eq!(
                f["AwsAccountId"],
                org.management.id.as_str(),
                "imported by the caller"
            );
        }
    }
    let by = &emulator().stats(&org.management)["by_action"];
    assert_eq!(
        by["securityhub:BatchImportFindings"].as_u64().unwrap() as usize,
        printed.len().div_ceil(100),
        "{by}"
    );
}

#[test]
fn every_call_the_import_makes_is_in_the_optional_statement_of_policy_verify() {
    let mut cmd = bare_command();
    cmd.args(["policy", "verify"]);
    let policy: Value = serde_json::from_str(&run(cmd).stdout).unwrap();
    let optional = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "OptionalSecurityHubImport")
        .expect("an optional Security Hub statement");
    let allowed: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
        })
        .collect();
    let acct = with_hub("neglected");
    rg(&acct, &["verify", "--security-hub", "-q"]);
    emulator().set_root(&acct, json!({"mfa_enabled": true}));
    rg(&acct, &["verify", "--security-hub", "-q"]);
    let by = emulator().stats(&acct)["by_action"].clone();
    for action in by.as_object().unwrap().keys() {
        assert!(
            allowed.contains(&action.as_str()),
            "{action} is not in policy verify"
        );
        if action.starts_with("securityhub:") {
            assert!(
                optional["Action"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a == action),
                "{action} belongs to the optional statement"
            );
        }
    }
    assert!(by.get("securityhub:BatchUpdateFindings").is_some(), "{by}");
}

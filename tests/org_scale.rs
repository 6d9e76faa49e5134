//! `verify --org` within AWS's request quotas: the launcher throttles the
//! management account as AWS documents (Account Management 10/s burst 15,
//! Security Hub BatchImportFindings 10/s burst 30) and at rates the test sets
//! where AWS publishes none (sts:AssumeRoot, Organizations). rootguard must
//! give every verdict an unthrottled run gives, and say when it could not.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{json, Value};

/// Members of several kinds, so verdicts differ between them: a root
/// password (root checks fail), no SECURITY contact, no contact information,
/// an AssumeRoot refused by an SCP, and clean ones.
fn members(n: usize) -> Vec<Value> {
    let h = fixture("hardened");
    (0..n)
        .map(|i| {
            let mut m = json!({
                "name": format!("m{i:04}"),
                "root": {"password_present": i % 10 == 3},
                "alternate_contacts": h["alternate_contacts"],
                "contact_information": h["contact_information"],
            });
            if i % 7 == 1 {
                m["alternate_contacts"] = json!({});
            }
            if i % 11 == 2 {
                m.as_object_mut().unwrap().remove("contact_information");
            }
            if i % 13 == 5 {
                m["assume_root"] = json!("deny");
            }
            m
        })
        .collect()
}

fn org_of(n: usize) -> Org {
    let mut management = fixture("hardened");
    management.as_object_mut().unwrap().remove("organization");
    management["security_hub"] = json!(["us-east-1"]);
    emulator().seed_org(json!({
        "management": management,
        "features": ["RootCredentialsManagement", "RootSessions"],
        "trusted_access": ["iam.amazonaws.com", "account.amazonaws.com"],
        "members": members(n),
    }))
}

/// (member name, check id) -> status, for every member of a verify --org run.
fn verdicts(doc: &Value) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for a in doc["accounts"].as_array().unwrap() {
        for f in a["findings"].as_array().unwrap() {
            out.insert(
                (
                    a["name"].as_str().unwrap().to_string(),
                    f["id"].as_str().unwrap().to_string(),
                ),
                f["status"].as_str().unwrap().to_string(),
            );
        }
    }
    out
}

fn verify_org(org: &Org, extra: &[&str]) -> (Run, Value) {
    let mut cmd = rootguard_as(&org.management);
    cmd.args(["verify", "--org", "--output", "json"]).args(extra);
    let r = run(cmd);
    let doc: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}\n{}", r.stderr, r.stdout));
    (r, doc)
}

/// The same organization twice, one run without quotas and one with them:
/// every (member, check) verdict is the same.
fn same_verdicts_under(n: usize, rate: f64) {
    let free = org_of(n);
    let (free_run, free_doc) = verify_org(&free, &[]);
    let limited = org_of(n);
    emulator().set_quotas(
        &limited.management,
        json!({"documented": true, "rates": {"sts:AssumeRoot": rate, "organizations": rate}}),
    );
    let (run, doc) = verify_org(&limited, &[]);
    let want = verdicts(&free_doc);
    let got = verdicts(&doc);
    assert_eq!(want.len(), got.len(), "{}", run.stderr);
    let changed: Vec<_> = want
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k:?}: {v} -> {:?}", got.get(k)))
        .collect();
    assert!(
        changed.is_empty(),
        "{} of {} verdicts changed under quotas (AssumeRoot/Organizations {rate}/s):\n{}\n{}",
        changed.len(),
        want.len(),
        changed.join("\n"),
        run.stderr
    );
    assert_eq!(free_run.code, run.code, "{}", run.stderr);
    // The quotas were real: the adaptive AssumeRoot pace was throttled while
    // it found the rate, and rootguard said so and that every call got through.
    let throttled = emulator().throttled(&limited.management);
    assert!(
        throttled["sts:AssumeRoot"].as_u64().unwrap_or(0) > 0,
        "AssumeRoot at {rate}/s was never throttled: {throttled}"
    );
    assert!(
        run.stderr.contains("AWS throttled") && run.stderr.contains("retried and answered"),
        "{}",
        run.stderr
    );
    // No unknown in the limited run that the free run did not have.
    assert_eq!(
        doc["summary"]["unknown"], free_doc["summary"]["unknown"],
        "{}",
        run.stderr
    );
}

#[test]
fn two_hundred_members_under_documented_quotas_and_assume_root_at_8_a_second_give_every_unthrottled_verdict(
) {
    same_verdicts_under(200, 8.0);
}

#[test]
fn a_low_unpublished_rate_of_2_a_second_is_found_and_every_verdict_holds() {
    same_verdicts_under(30, 2.0);
}

#[test]
fn no_get_primary_email_and_no_billing_or_operations_contacts_by_default() {
    let org = org_of(6);
    let (r, doc) = verify_org(&org, &[]);
    let by = &emulator().stats(&org.management)["by_action"];
    assert!(by.get("account:GetPrimaryEmail").is_none(), "{by}");
    // One SECURITY contact and one contact information per member, nothing
    // more (the management account's own single-account verify reads its
    // three contacts and its contact information).
    assert_eq!(by["account:GetAlternateContact"], json!(6 + 3), "{by}");
    assert_eq!(by["account:GetContactInformation"], json!(6 + 1), "{by}");
    let m = &doc["accounts"].as_array().unwrap()[0];
    let f = m["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "security-contact")
        .unwrap();
    assert!(evidence(f).contains("--compare-contacts"), "{}", r.stderr);
    // Asked for, the shared-address comparison reads both others per member.
    let before = emulator().stats(&org.management)["by_action"]["account:GetAlternateContact"]
        .as_u64()
        .unwrap();
    let (_, _) = verify_org(&org, &["--compare-contacts"]);
    let after = emulator().stats(&org.management)["by_action"]["account:GetAlternateContact"]
        .as_u64()
        .unwrap();
    assert_eq!(after - before, 6 * 3 + 3);
}

#[test]
fn a_call_still_throttled_at_the_deadline_is_unknown_and_says_it_was_throttled() {
    let org = org_of(4);
    // One AssumeRoot a hundred seconds: the first member gets through, the
    // others are throttled past a 10 s deadline.
    emulator().set_quotas(
        &org.management,
        json!({"documented": true, "rates": {"sts:AssumeRoot": [0.01, 1]}}),
    );
    let (r, doc) = verify_org(&org, &["--throttle-deadline", "10s"]);
    let throttled: Vec<&Value> = doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["findings"].as_array().unwrap())
        .filter(|f| f["id"] == "root-mfa" && f["status"] == "unknown")
        .collect();
    assert!(!throttled.is_empty(), "{}", r.stderr);
    for f in throttled {
        let e = evidence(f);
        assert!(e.contains("sts:AssumeRoot was throttled"), "{e}");
        assert!(e.contains("--throttle-deadline"), "{e}");
    }
    assert!(
        r.stderr.contains("still throttled at the deadline"),
        "{}",
        r.stderr
    );
    assert_ne!(r.code, 0);
}

#[test]
fn security_hub_import_under_its_quota_refuses_nothing() {
    let org = org_of(40);
    // Lower than AWS's 10/s so the test is throttled within seconds.
    emulator().set_quotas(
        &org.management,
        json!({"documented": true, "rates": {"securityhub:BatchImportFindings": [1, 1]}}),
    );
    let mut cmd = rootguard_as(&org.management);
    cmd.args(["verify", "--org", "--security-hub", "-o", "asff"]);
    let r = run(cmd);
    let printed: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let held = emulator().security_hub(&org.management, "us-east-1");
    assert_eq!(held.len(), printed.len(), "{}", r.stderr);
    assert!(!r.stderr.contains("refused"), "{}", r.stderr);
    let throttled = emulator().throttled(&org.management);
    assert!(
        throttled["securityhub:BatchImportFindings"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "the import was never throttled: {throttled}"
    );
}

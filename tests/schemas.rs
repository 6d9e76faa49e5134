//! Every JSON output of the real binary validates against its JSON Schema in
//! docs/schemas/ (the schemas a consumer can use), with a JSON Schema
//! validator, on outputs from accounts and an organization in several states.

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};

/// Validates `out` (one JSON document) against the schema its `schema`
/// field names; returns that name.
fn validate(what: &str, out: &str) -> String {
    let doc: Value =
        serde_json::from_str(out).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {out}"));
    let id = doc["schema"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no schema field"))
        .to_string();
    let path = manifest_dir()
        .join("docs/schemas")
        .join(format!("{}.schema.json", id.replace('/', "-")));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} ({id}): {errors:#?}");
    id
}

fn out(acct: &Account, args: &[&str]) -> String {
    let mut c = rootguard_as(acct);
    c.args(args);
    let r = run(c);
    assert!(r.code != 2, "{args:?}: {}", r.stderr);
    r.stdout
}

#[test]
fn every_json_output_validates_against_its_schema() {
    let mut seen = BTreeSet::new();
    for fx in ["neglected", "hardened"] {
        let acct = emulator().seed(fixture(fx));
        seen.insert(validate(fx, &out(&acct, &["verify", "-o", "json"])));
        seen.insert(validate(
            fx,
            &out(&acct, &["verify", "--compliance", "cis-7.0", "-o", "json"]),
        ));
        seen.insert(validate(
            fx,
            &out(&acct, &["events", "--since", "1d", "-o", "json"]),
        ));
    }
    let neglected = emulator().seed(fixture("neglected"));
    seen.insert(validate(
        "create-trail plan",
        &out(
            &neglected,
            &[
                "deploy",
                "--email",
                EMAIL,
                "--create-trail",
                "--dry-run",
                "-o",
                "json",
            ],
        ),
    ));
    let acct = emulator().seed(trail_only());
    out(&acct, &["deploy", "--email", EMAIL, "--yes"]);
    seen.insert(validate(
        "deployed plan",
        &out(
            &acct,
            &["deploy", "--email", EMAIL, "--dry-run", "-o", "json"],
        ),
    ));
    seen.insert(validate(
        "teardown",
        &out(&acct, &["teardown", "--dry-run", "-o", "json"]),
    ));

    let org = emulator().seed_org(json!({
        "management": {"regions": ["us-east-1", "eu-west-1"]},
        "features": ["RootCredentialsManagement"],
        "trusted_access": ["iam.amazonaws.com", "account.amazonaws.com"],
        "members": [{"name": "a", "root": {"password_present": true}}, {"name": "<b>"}]
    }));
    let m = &org.management;
    seen.insert(validate(
        "verify --org",
        &out(m, &["verify", "--org", "-o", "json"]),
    ));
    seen.insert(validate(
        "org status",
        &out(m, &["org", "status", "-o", "json"]),
    ));
    seen.insert(validate(
        "org harden",
        &out(m, &["org", "harden", "--dry-run", "-o", "json"]),
    ));
    let member = &org.members[1]; // "<b>": no password, so the plan has a step
    seen.insert(validate(
        "org root recover",
        &out(
            m,
            &[
                "org",
                "root",
                "recover",
                "--account",
                member,
                "--dry-run",
                "-o",
                "json",
            ],
        ),
    ));
    seen.insert(validate(
        "deploy --org",
        &out(
            m,
            &[
                "deploy",
                "--org",
                "--email",
                EMAIL,
                "--dry-run",
                "-o",
                "json",
            ],
        ),
    ));
    out(m, &["deploy", "--org", "--email", EMAIL, "--yes"]);
    seen.insert(validate(
        "teardown --org",
        &out(m, &["teardown", "--org", "--dry-run", "-o", "json"]),
    ));

    // Every schema in docs/schemas/ was exercised, and every output has one.
    let files: BTreeSet<String> = std::fs::read_dir(manifest_dir().join("docs/schemas"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let used: BTreeSet<String> = seen
        .iter()
        .map(|id| format!("{}.schema.json", id.replace('/', "-")))
        .collect();
    assert_eq!(files, used);
}

#[test]
fn a_changed_field_fails_its_schema() {
    let acct = emulator().seed(fixture("hardened"));
    let text = out(&acct, &["verify", "-o", "json"]);
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    doc["findings"][0]["status"] = json!("passed");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            manifest_dir().join("docs/schemas/rootguard.verify-v1.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        !jsonschema::is_valid(&schema, &doc),
        "an unknown status is refused"
    );
    doc["findings"][0]["status"] = json!("pass");
    doc.as_object_mut().unwrap().remove("exit_code");
    assert!(
        !jsonschema::is_valid(&schema, &doc),
        "a removed field is refused"
    );
}

const EMAIL: &str = "security@example.com";

//! `rootguard verify` end to end: the real binary against the moto launcher.

mod common;

use common::*;
use serde_json::{json, Value};

fn statuses(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn status(doc: &Value, id: &str) -> String {
    finding(doc, id)["status"].as_str().unwrap().to_string()
}

fn with(mut base: Value, edit: impl FnOnce(&mut Value)) -> Value {
    edit(&mut base);
    base
}

#[test]
fn hardened_account_passes_everything_and_exits_0() {
    let acct = emulator().seed(fixture("hardened"));
    let (code, doc) = verify_json(&acct, &[]);
    for (id, st) in statuses(&doc) {
        assert_eq!(st, "pass", "{id}: {:#}", finding(&doc, &id));
    }
    assert_eq!(doc["findings"].as_array().unwrap().len(), 13);
    assert_eq!(doc["schema"], "rootguard.verify/v1");
    assert_eq!(doc["account_id"], acct.id.as_str());
    assert_eq!(doc["summary"]["pass"], 13);
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(code, 0);
    // rootops' virtual device is seen, and is not mistaken for root's.
    assert!(evidence(finding(&doc, "root-hardware-mfa")).contains("1 assigned to IAM users"));
}

#[test]
fn neglected_account_fails_each_check_with_evidence() {
    let acct = emulator().seed(fixture("neglected"));
    let (code, doc) = verify_json(&acct, &[]);
    assert_eq!(code, 1);
    let expect = [
        (
            "root-mfa",
            "fail",
            vec!["AccountMFAEnabled=0", "mfa_active=false"],
        ),
        ("root-hardware-mfa", "fail", vec!["no MFA device at all"]),
        (
            "root-access-keys",
            "fail",
            vec![
                "access key 1 is active: last used",
                "(1h ago), service s3, region eu-west-1",
                "access key 2 is active: last used",
                "(3h ago), service ec2, region us-east-1",
            ],
        ),
        (
            "root-signing-certs",
            "fail",
            vec!["signing certificate 1 is active"],
        ),
        (
            "root-recent-use",
            "fail",
            vec!["(1h ago) via access key 1, within the 1d window"],
        ),
        (
            "security-contact",
            "fail",
            vec!["no SECURITY alternate contact"],
        ),
        ("contact-info", "fail", vec!["no contact information"]),
        (
            "password-policy",
            "fail",
            vec!["no account password policy", "not the root user's"],
        ),
        (
            "iam-user-mfa",
            "fail",
            vec![
                "1 of 1 console users",
                "alice",
                "rootguard mfa enroll --user alice",
            ],
        ),
        (
            "org-root-management",
            "not_applicable",
            vec!["not in an AWS Organizations organization"],
        ),
    ];
    for (id, want, needles) in expect {
        let f = finding(&doc, id);
        assert_eq!(f["status"], want, "{id}: {f:#}");
        let ev = evidence(f);
        for n in needles {
            assert!(ev.contains(n), "{id}: evidence lacks {n:?}:\n{ev}");
        }
        assert!(!f["remediation"].as_str().unwrap().is_empty());
    }
    assert!(
        !evidence(finding(&doc, "iam-user-mfa")).contains("deploy-bot"),
        "a user without a password needs no MFA"
    );
}

#[test]
fn neglected_account_golden_text_markdown_junit() {
    let acct = emulator().seed(fixture("neglected"));
    for (format, file) in [
        ("text", "neglected.txt"),
        ("markdown", "neglected.md"),
        ("junit", "neglected.junit.xml"),
    ] {
        let mut cmd = rootguard_as(&acct);
        cmd.args(["verify", "--output", format]);
        let r = run(cmd);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(
            !r.stdout.contains('\x1b'),
            "{format}: no colour when stdout is not a terminal"
        );
        assert_golden(file, &normalize(&r.stdout, &acct));
    }
}

#[test]
fn junit_maps_fail_to_failure_and_unknown_to_error() {
    let acct = emulator().seed(with(fixture("neglected"), |s| {
        s["deny"] = json!(["iam:GetAccountPasswordPolicy"]);
    }));
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "--output", "junit"]);
    let r = run(cmd);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout.matches("<testcase ").count(), 13);
    assert_eq!(r.stdout.matches("<failure ").count(), 10, "{}", r.stdout);
    assert_eq!(r.stdout.matches("<error ").count(), 1);
    assert!(r
        .stdout
        .contains("failures=\"10\" errors=\"1\" skipped=\"1\""));
    let error_case = r
        .stdout
        .split("<testcase ")
        .find(|c| c.contains("name=\"password-policy\""))
        .unwrap();
    assert!(
        error_case.contains("<error type=\"unknown\"")
            && error_case.contains("iam:GetAccountPasswordPolicy")
    );
}

#[test]
fn virtual_mfa_on_root_warns_and_a_user_named_rootops_does_not_count() {
    let acct = emulator().seed(with(fixture("hardened"), |s| {
        s["root"]["virtual_mfa"] = json!(true);
    }));
    let (code, doc) = verify_json(&acct, &[]);
    let f = finding(&doc, "root-hardware-mfa");
    assert_eq!(f["status"], "warn");
    let ev = evidence(f);
    assert!(
        ev.contains(&format!(
            "arn:aws:iam::{}:mfa/root-account-mfa-device is assigned to root",
            acct.id
        )),
        "{ev}"
    );
    assert!(
        !ev.contains("rootops"),
        "rootops is an IAM user, not root: {ev}"
    );
    assert_eq!(status(&doc, "root-mfa"), "pass");
    assert_eq!(code, 0, "a warning alone does not fail the run");

    // Only rootops has a virtual device: no false warning.
    let acct = emulator().seed(fixture("hardened"));
    let (_, doc) = verify_json(&acct, &["--check", "root-hardware-mfa"]);
    assert_eq!(status(&doc, "root-hardware-mfa"), "pass");
}

#[test]
fn root_without_credentials_is_not_applicable() {
    let acct = emulator().seed(with(fixture("hardened"), |s| {
        s["root"] = json!({"mfa_enabled": false, "password_present": false, "access_keys": [], "signing_certs": []});
    }));
    let (code, doc) = verify_json(&acct, &[]);
    for id in ["root-mfa", "root-hardware-mfa"] {
        let f = finding(&doc, id);
        assert_eq!(f["status"], "not_applicable", "{id}: {f:#}");
        assert!(evidence(f).contains("AccountPasswordPresent=0"));
    }
    assert_eq!(status(&doc, "root-access-keys"), "pass");
    assert_eq!(status(&doc, "root-recent-use"), "pass");
    assert_eq!(code, 0);
}

#[test]
fn access_denied_on_one_api_is_unknown_and_exits_3() {
    let acct = emulator().seed(with(fixture("hardened"), |s| {
        s["deny"] = json!(["iam:GetAccountPasswordPolicy"]);
    }));
    let (code, doc) = verify_json(&acct, &[]);
    let f = finding(&doc, "password-policy");
    assert_eq!(f["status"], "unknown");
    assert!(
        evidence(f).contains("iam:GetAccountPasswordPolicy was denied"),
        "{f:#}"
    );
    for (id, st) in statuses(&doc) {
        if id != "password-policy" {
            assert_eq!(st, "pass", "the other checks still run: {id}");
        }
    }
    assert_eq!(code, 3);
    assert_eq!(doc["exit_code"], 3);
}

#[test]
fn denied_credential_report_makes_root_checks_unknown_not_pass() {
    let acct = emulator().seed(with(fixture("hardened"), |s| {
        s["deny"] = json!(["iam:GenerateCredentialReport"]);
    }));
    let (code, doc) = verify_json(&acct, &[]);
    for id in [
        "root-mfa",
        "root-access-keys",
        "root-signing-certs",
        "root-recent-use",
    ] {
        let f = finding(&doc, id);
        assert_eq!(f["status"], "unknown", "{id}: {f:#}");
        assert!(evidence(f).contains("iam:GenerateCredentialReport"), "{id}");
    }
    assert_eq!(code, 3);
}

#[test]
fn denied_report_still_fails_what_the_summary_proves() {
    let acct = emulator().seed(with(fixture("neglected"), |s| {
        s["deny"] = json!(["iam:GenerateCredentialReport"]);
    }));
    let (code, doc) = verify_json(&acct, &[]);
    assert_eq!(status(&doc, "root-mfa"), "fail");
    assert_eq!(status(&doc, "root-access-keys"), "fail");
    assert_eq!(status(&doc, "root-recent-use"), "unknown");
    assert_eq!(code, 1);
}

#[test]
fn summary_and_report_disagreeing_is_stated_in_evidence() {
    let acct = emulator().seed(with(fixture("hardened"), |s| {
        s["root"]["report_mfa_active"] = json!(false);
    }));
    let (_, doc) = verify_json(&acct, &["--check", "root-mfa"]);
    let f = finding(&doc, "root-mfa");
    assert_eq!(f["status"], "warn");
    let ev = evidence(f);
    assert!(ev.contains("the sources disagree: GetAccountSummary says MFA is enabled, the credential report says disabled"), "{ev}");
}

#[test]
fn credential_report_is_polled_until_ready() {
    let acct = emulator().seed(with(fixture("neglected"), |s| {
        s["report_delay_ms"] = json!(600);
    }));
    let (code, doc) = verify_json(&acct, &["--check", "root-recent-use"]);
    assert_eq!(code, 1);
    assert_eq!(status(&doc, "root-recent-use"), "fail");
    let stats = emulator().stats(&acct);
    let polls = stats["by_action"]["iam:GenerateCredentialReport"]
        .as_u64()
        .unwrap();
    assert!(polls >= 2, "expected polling, saw {stats}");
    assert!(
        polls <= 12,
        "polling must back off, saw {polls} calls in 600 ms"
    );
}

#[test]
fn check_flag_selects_checks_and_only_their_calls() {
    let acct = emulator().seed(fixture("neglected"));
    let (code, doc) = verify_json(
        &acct,
        &["--check", "password-policy", "--check", "root-mfa"],
    );
    let ids: Vec<String> = statuses(&doc).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["root-mfa", "password-policy"], "catalogue order");
    assert_eq!(code, 1);
    let by = &emulator().stats(&acct)["by_action"];
    assert!(
        by.get("iam:ListUsers").is_none(),
        "unselected checks make no calls: {by}"
    );
    assert!(by.get("account:GetAlternateContact").is_none(), "{by}");
    assert!(by.get("iam:GetAccountPasswordPolicy").is_some(), "{by}");
}

#[test]
fn root_use_window_changes_the_verdict() {
    let acct = emulator().seed(fixture("hardened"));
    let (_, doc) = verify_json(&acct, &["--check", "root-recent-use"]);
    assert_eq!(status(&doc, "root-recent-use"), "pass");
    let (code, doc) = verify_json(
        &acct,
        &["--check", "root-recent-use", "--root-use-window", "90d"],
    );
    assert_eq!(status(&doc, "root-recent-use"), "fail");
    assert!(evidence(finding(&doc, "root-recent-use")).contains("within the 90d window"));
    assert_eq!(doc["root_use_window"], "90d");
    assert_eq!(code, 1);
}

#[test]
fn every_call_verify_makes_is_in_the_read_only_policy() {
    let policy = run({
        let mut c = bare_command();
        c.args(["policy", "verify"]);
        c
    });
    assert_eq!(policy.code, 0);
    let doc_copy =
        std::fs::read_to_string(manifest_dir().join("docs/policies/verify.json")).unwrap();
    assert_eq!(
        policy.stdout, doc_copy,
        "docs/policies/verify.json is the printed policy"
    );
    let policy: Value = serde_json::from_str(&policy.stdout).unwrap();
    let allowed: Vec<&str> = policy["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in &allowed {
        assert!(rootguard::domain::policy::is_read_only(a), "{a} is a write");
    }
    for scenario in ["neglected", "hardened"] {
        let acct = emulator().seed(fixture(scenario));
        verify_json(&acct, &[]);
        let stats = emulator().stats(&acct);
        let by = stats["by_action"].as_object().unwrap();
        assert!(by.len() >= 10, "{stats}");
        for action in by.keys() {
            assert!(
                allowed.contains(&action.as_str()),
                "verify called {action}, which the policy does not list"
            );
        }
    }
}

#[test]
fn caller_is_root_is_reported() {
    let acct = emulator().seed(with(fixture("neglected"), |s| {
        s["caller"] = json!("root");
    }));
    let (_, doc) = verify_json(&acct, &["--check", "root-mfa"]);
    assert_eq!(doc["caller_arn"], format!("arn:aws:iam::{}:root", acct.id));
}

#[test]
fn markdown_report_carries_references() {
    let acct = emulator().seed(fixture("hardened"));
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "--output", "markdown"]);
    let r = run(cmd);
    assert_eq!(r.code, 0);
    for needle in [
        "| Result | **PASS** (exit 0) |",
        "IAM.9",
        "CIS: v3.0 1.5 · v5.0 1.4 · v6.0 2.4 · v7.0 2.5",
        "NIST SP 800-53 r5: AC-2(1), IA-2(1)",
        "Account.1",
        "### root-mfa",
    ] {
        assert!(r.stdout.contains(needle), "markdown lacks {needle:?}");
    }
}

/// Text output in a pseudo-terminal: coloured, unless NO_COLOR or --no-color.
#[test]
fn text_is_coloured_only_on_a_terminal_and_never_with_no_color() {
    use expectrl::{Eof, Expect, Session};
    let acct = emulator().seed(fixture("neglected"));
    let on_tty = |extra_env: Option<(&str, &str)>, args: &[&str]| -> String {
        let mut cmd = rootguard_as(&acct);
        cmd.args([
            "verify",
            "--check",
            "root-mfa",
            "--check",
            "org-root-management",
        ])
        .args(args)
        .stdin(std::process::Stdio::inherit());
        if let Some((k, v)) = extra_env {
            cmd.env(k, v);
        }
        let mut p = Session::spawn(cmd).unwrap();
        p.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
        String::from_utf8_lossy(p.expect(Eof).unwrap().as_bytes()).into_owned()
    };
    let coloured = on_tty(None, &[]);
    assert!(
        coloured.contains("\x1b[1;31mFAIL"),
        "fail is red on a terminal: {coloured:?}"
    );
    assert!(
        !on_tty(Some(("NO_COLOR", "1")), &[]).contains('\x1b'),
        "NO_COLOR"
    );
    assert!(
        !on_tty(None, &["--no-color"]).contains('\x1b'),
        "--no-color"
    );
    assert!(
        on_tty(Some(("NO_COLOR", "")), &[]).contains('\x1b'),
        "an empty NO_COLOR does not count"
    );
}

#[test]
fn throttling_and_5xx_are_retried_by_the_sdk_then_unknown() {
    // Two throttles, then success: the SDK's standard retry (3 attempts) absorbs them.
    let acct = emulator().seed(with(fixture("hardened"), |s| {
        s["faults"] = json!({
            "iam:GetAccountPasswordPolicy": {"count": 2, "status": 400, "code": "Throttling"},
            "account:GetContactInformation": {"count": 1, "status": 503, "code": "ServiceUnavailableException"}
        });
    }));
    let (code, doc) = verify_json(
        &acct,
        &["--check", "password-policy", "--check", "contact-info"],
    );
    assert_eq!(status(&doc, "password-policy"), "pass");
    assert_eq!(status(&doc, "contact-info"), "pass");
    assert_eq!(code, 0);
    let by = &emulator().stats(&acct)["by_action"];
    assert_eq!(by["iam:GetAccountPasswordPolicy"], 3, "{by}");
    assert_eq!(by["account:GetContactInformation"], 2, "{by}");

    // Throttled past the retry budget: unknown, naming the error, never pass.
    let acct = emulator().seed(with(fixture("hardened"), |s| {
        s["faults"] = json!({"iam:GetAccountPasswordPolicy": {"count": 50, "status": 400, "code": "Throttling"}});
    }));
    let (code, doc) = verify_json(&acct, &["--check", "password-policy"]);
    let f = finding(&doc, "password-policy");
    assert_eq!(f["status"], "unknown");
    assert!(
        evidence(f).contains("iam:GetAccountPasswordPolicy failed: Throttling"),
        "{f:#}"
    );
    assert_eq!(code, 3);
    assert_eq!(
        emulator().stats(&acct)["by_action"]["iam:GetAccountPasswordPolicy"],
        3,
        "standard mode: 3 attempts"
    );
}

#[test]
fn check_lists_exclusions_and_a_severity_floor_select_checks() {
    let acct = emulator().seed(fixture("neglected"));
    let ids = |doc: &Value| -> Vec<String> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, doc) = verify_json(&acct, &["--check", "root-mfa,root-alarm"]);
    assert_eq!(ids(&doc), ["root-mfa", "root-alarm"]);
    let (_, doc) = verify_json(&acct, &["--severity-at-least", "critical"]);
    assert_eq!(ids(&doc), ["root-mfa", "root-access-keys"]);
    let (_, doc) = verify_json(
        &acct,
        &[
            "--severity-at-least",
            "high",
            "--exclude-check",
            "cloudtrail,root-alarm",
        ],
    );
    let got = ids(&doc);
    assert!(
        got.contains(&"iam-user-mfa".to_string()) && !got.contains(&"cloudtrail".to_string()),
        "{got:?}"
    );
    assert!(
        !got.contains(&"password-policy".to_string()),
        "medium is below the floor: {got:?}"
    );
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "--check", "root-mfa,nope"]);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nope"), "{}", r.stderr);
}

#[test]
fn several_outputs_in_one_run_and_files_written_whole() {
    let acct = emulator().seed(fixture("neglected"));
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let mut cmd = rootguard_as(&acct);
    cmd.args([
        "verify",
        "-o",
        &format!("json={}", p("a.json")),
        "-o",
        &format!("junit={}", p("b.xml")),
        "-o",
        &format!("asff={}", p("c.json")),
        "-o",
        &format!("ocsf={}", p("d.json")),
        "-o",
        "csv",
    ]);
    let r = run(cmd);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(p("a.json")).unwrap()).unwrap();
    let n = json["findings"].as_array().unwrap().len();
    let junit = std::fs::read_to_string(p("b.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), n, "identical findings");
    let asff: Value = serde_json::from_str(&std::fs::read_to_string(p("c.json")).unwrap()).unwrap();
    let asff = asff.as_array().unwrap();
    assert_eq!(asff.len(), n);
    for f in asff {
        for k in [
            "SchemaVersion",
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Types",
            "CreatedAt",
            "UpdatedAt",
            "Severity",
            "Title",
            "Description",
            "Resources",
        ] {
            assert!(f.get(k).is_some(), "ASFF requires {k}: {f:#}");
        }
        assert_eq!(f["AwsAccountId"], acct.id.as_str());
        assert_eq!(
            f["Id"],
            format!(
                "rootguard/{}/{}",
                acct.id,
                f["GeneratorId"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("rootguard/")
            )
        );
    }
    let ocsf: Value = serde_json::from_str(&std::fs::read_to_string(p("d.json")).unwrap()).unwrap();
    for f in ocsf.as_array().unwrap() {
        assert_eq!(f["class_uid"], 2003);
        for k in [
            "category_uid",
            "activity_id",
            "type_uid",
            "severity_id",
            "time",
            "metadata",
            "finding_info",
            "compliance",
            "cloud",
        ] {
            assert!(f.get(k).is_some(), "OCSF requires {k}");
        }
    }
    let mut csv = ::csv::Reader::from_reader(r.stdout.as_bytes());
    assert_eq!(csv.records().count(), n, "csv on stdout, a row per check");
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");

    // A file that cannot be written: exit 2 naming it, nothing partial.
    let missing = dir.path().join("no/such/dir/out.json");
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "-o", &format!("json={}", missing.display())]);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot write -o") && r.stderr.contains("out.json"),
        "{}",
        r.stderr
    );
    assert!(!missing.exists());
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "-o", "yaml=x"]);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not an output format"), "{}", r.stderr);
}

#[test]
fn a_spinner_on_a_terminal_never_on_a_pipe_and_v_says_each_phase() {
    let acct = emulator().seed(with(fixture("neglected"), |s| {
        s["report_delay_ms"] = json!(1500);
    }));
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty(&acct, &["verify"], dir.path());
    use expectrl::Expect;
    p.expect("reading ")
        .expect("a spinner while the credential report is generated");
    let rest = pty_rest(&mut p);
    assert!(rest.contains("checks:"), "{rest}");

    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "-v"]);
    let r = run(cmd);
    assert!(
        !r.stderr.contains('⠋') && !r.stderr.contains("\u{1b}[2K"),
        "no spinner on a pipe: {}",
        r.stderr
    );
    assert!(r.stderr.contains("verify: reading"), "{}", r.stderr);
    assert!(r.stderr.contains("verify: read and judged"), "{}", r.stderr);
}

/// verify under exactly `rootguard policy verify`, with the launcher enforcing
/// the caller's identity policy: nothing is refused and only reads are sent.
/// Without one of the policy's actions, the check that needs it is unknown and
/// names it, so the enforcement is real.
#[test]
fn verify_runs_under_exactly_policy_verify_with_iam_enforced() {
    let printed = run({
        let mut c = bare_command();
        c.args(["policy", "verify"]);
        c
    });
    let policy: Value = serde_json::from_str(&printed.stdout).unwrap();
    for scenario in ["neglected", "hardened"] {
        let acct = emulator().seed(with(fixture(scenario), |s| {
            s["iam_policy"] = policy.clone();
        }));
        let (_, doc) = verify_json(&acct, &[]);
        for f in doc["findings"].as_array().unwrap() {
            let evidence = f["evidence"].to_string();
            assert!(
                !evidence.contains("AccessDenied") && !evidence.contains("access denied"),
                "{scenario}: {} was refused under policy verify: {evidence}",
                f["id"]
            );
        }
        let stats = emulator().stats(&acct);
        let by = stats["by_action"].as_object().unwrap();
        assert!(by.len() >= 10, "{stats}");
        for action in by.keys() {
            assert!(!action.ends_with("(denied)"), "{scenario}: {action}");
            assert!(
                rootguard::domain::policy::is_read_only(action),
                "{action} is a write"
            );
        }
    }

    let mut short = policy.clone();
    let actions = short["Statement"][0]["Action"].as_array_mut().unwrap();
    actions.retain(|a| a != "iam:ListVirtualMFADevices");
    let acct = emulator().seed(with(fixture("hardened"), |s| {
        s["iam_policy"] = short.clone();
    }));
    let (code, doc) = verify_json(&acct, &[]);
    assert_eq!(code, 3, "{doc:#}");
    let f = finding(&doc, "root-hardware-mfa");
    assert_eq!(f["status"], "unknown");
    assert!(f.to_string().contains("iam:ListVirtualMFADevices"), "{f:#}");
    assert!(
        emulator().stats(&acct)["by_action"]["iam:ListVirtualMFADevices(denied)"].as_u64()
            >= Some(1)
    );
}

/// What a browser would load from the network: any `src`, `href` to another
/// site, stylesheet link or CSS import.
fn loads_from_the_network(doc: &scraper::Html) -> Vec<String> {
    let mut out = Vec::new();
    let any = scraper::Selector::parse("[src], link, [href]").unwrap();
    for e in doc.select(&any) {
        let v = e.value();
        if v.attr("src").is_some() || v.name() == "link" {
            out.push(e.html());
        }
        if let Some(href) = v.attr("href") {
            if !href.starts_with('#') {
                out.push(e.html());
            }
        }
    }
    out
}

#[test]
fn html_report_is_self_contained_and_carries_every_check_and_status() {
    let acct = emulator().seed(fixture("neglected"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.html");
    let mut cmd = rootguard_as(&acct);
    cmd.args([
        "verify",
        "-o",
        &format!("html={}", path.display()),
        "-o",
        "json",
    ]);
    let r = run(cmd);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = scraper::Html::parse_document(&text);
    assert!(doc.errors.is_empty(), "parses cleanly: {:?}", doc.errors);
    assert!(
        loads_from_the_network(&doc).is_empty(),
        "{:?}",
        loads_from_the_network(&doc)
    );
    assert!(!text.contains("@import") && !text.contains("url("));
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    for f in json["findings"].as_array().unwrap() {
        let id = f["id"].as_str().unwrap();
        let section = doc
            .select(&sel(&format!("section[data-check=\"{id}\"]")))
            .next()
            .unwrap_or_else(|| panic!("no section for {id}"));
        let status = section
            .select(&sel(".st"))
            .next()
            .unwrap()
            .value()
            .attr("data-status")
            .unwrap();
        assert_eq!(status, f["status"].as_str().unwrap(), "{id}");
        let words: String = section.text().collect();
        let remedy = f["remediation"].as_str().unwrap().replace('`', "");
        if matches!(f["status"].as_str().unwrap(), "pass" | "not_applicable") {
            assert!(
                section.select(&sel(".remedy")).next().is_none(),
                "{id}: a passing check carries no remediation"
            );
        } else {
            assert!(words.contains(&remedy), "{id}: remediation in the report");
        }
    }
    // Inline code is code, not backticks.
    assert!(doc.select(&sel(".remedy code")).next().is_some());
    assert!(!doc
        .select(&sel(".remedy"))
        .any(|r| r.text().any(|t| t.contains('`'))));
    // The run says what it wrote; with every output in a file, the totals too.
    assert!(
        r.stderr
            .contains(&format!("wrote {} (html, ", path.display())),
        "{}",
        r.stderr
    );
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "-o", &format!("html={}", path.display())]);
    let only_file = run(cmd);
    assert_eq!(only_file.code, 1);
    assert!(only_file.stdout.trim().is_empty(), "{}", only_file.stdout);
    assert!(
        only_file.stderr.contains("13 checks: "),
        "the totals: {}",
        only_file.stderr
    );
    // The status is a word and a symbol, not colour alone.
    let first = doc.select(&sel(".st")).next().unwrap();
    let word: String = first.text().collect();
    assert!(word.split(' ').count() == 2, "{word}");
}

#[test]
fn compliance_cis_7_runs_the_checks_it_covers_labelled_with_its_ids() {
    let acct = emulator().seed(fixture("neglected"));
    let (_, doc) = verify_json(&acct, &["--compliance", "cis-7.0"]);
    assert_eq!(
        doc["compliance"],
        json!({"framework": "CIS AWS Foundations Benchmark", "version": "7.0"})
    );
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"org-root-management"), "new in v7.0: {ids:?}");
    assert!(
        !ids.contains(&"root-signing-certs") && !ids.contains(&"root-realtime-alert"),
        "not in the benchmark: {ids:?}"
    );
    let mfa = finding(&doc, "root-mfa");
    assert_eq!(mfa["references"]["cis_versions"]["7.0"], json!(["2.5"]));
    assert_eq!(mfa["references"]["cis"], json!(["1.5"]));
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "--compliance", "cis-7.0"]);
    let text = run(cmd);
    assert!(
        text.stdout.contains("CIS v7.0 2.5"),
        "each finding labelled: {}",
        text.stdout
    );
    // -v: every check's references under it in the text output.
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "-v", "--check", "root-mfa"]);
    let verbose = run(cmd);
    assert!(
        verbose.stdout.contains(
            "refs: CIS v3.0 1.5 · v5.0 1.4 · v6.0 2.4 · v7.0 2.5; Security Hub IAM.9; NIST 800-53 r5 AC-2(1), IA-2(1)"
        ),
        "{}",
        verbose.stdout
    );
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "--check", "root-mfa"]);
    assert!(!run(cmd).stdout.contains("refs:"), "only with -v");
    // ASFF carries every version and NIST.
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "--check", "root-mfa", "-o", "asff"]);
    let asff: Value = serde_json::from_str(&run(cmd).stdout).unwrap();
    let req = &asff[0]["Compliance"]["RelatedRequirements"];
    assert!(
        req.as_array()
            .unwrap()
            .contains(&json!("CIS AWS Foundations Benchmark v7.0.0/2.5")),
        "{req}"
    );
    assert!(req
        .as_array()
        .unwrap()
        .contains(&json!("NIST.800-53.r5 IA-2(1)")));
    // Not a framework rootguard cites: exit 2, naming the flag.
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "--compliance", "cis-4.0"]);
    let bad = run(cmd);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--compliance"), "{}", bad.stderr);
}

#[test]
fn on_an_80_column_terminal_prose_wraps_under_itself_and_piped_output_does_not() {
    let acct = emulator().seed(fixture("neglected"));
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty_sized(&acct, &["verify", "--no-color"], dir.path(), (80, 24));
    let shown = pty_rest(&mut p);
    let report = &shown[shown.find("rootguard verify:").expect("the report")..];
    let lines: Vec<&str> = report.lines().map(|l| l.trim_end_matches('\r')).collect();
    assert!(
        lines.iter().all(|l| textwrap::core::display_width(l) <= 80),
        "{report}"
    );
    // A fix paragraph continues under its text, not at column 0.
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("fix: ") && l.len() > 70)
        .expect("a long fix line");
    assert!(
        lines[at + 1].starts_with(&" ".repeat(26)),
        "hanging indent: {:?}",
        &lines[at..at + 2]
    );
    // Piped: one line per fix, as before (machine-friendly).
    let mut cmd = rootguard_as(&acct);
    cmd.args(["verify", "--no-color"]);
    let piped = run(cmd);
    assert!(
        piped
            .stdout
            .lines()
            .any(|l| l.len() > 120 && l.contains("fix: ")),
        "{}",
        piped.stdout
    );
}

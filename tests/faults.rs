//! Faults between rootguard and AWS: tests/fault_proxy.py stands in front of
//! the launcher and answers a fifth of the requests with a fault (503, the
//! throttling error of each wire protocol including CloudWatch's RPCv2 CBOR,
//! a connection reset before or after the launcher acted, a delay).
//! verify's verdicts under faults are the fault-free ones or `unknown`, never
//! different; deploy under faults converges, with nothing duplicated or
//! orphaned.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use common::*;
use serde_json::Value;

struct FaultProxy {
    url: String,
    child: Child,
}

impl FaultProxy {
    fn start(rate: f64, seed: u64) -> Self {
        Self::start_with(rate, seed, &[])
    }

    fn start_with(rate: f64, seed: u64, extra: &[&str]) -> Self {
        let mut child = Command::new(python())
            .arg(manifest_dir().join("tests/fault_proxy.py"))
            .args(["--upstream", &emulator().endpoint])
            .args(["--rate", &rate.to_string(), "--seed", &seed.to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("failed to start the fault proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .strip_prefix("ROOTGUARD_FAULT_PROXY ")
            .expect("the fault proxy did not start")
            .trim()
            .to_string();
        FaultProxy { url, child }
    }

    fn run(&self, acct: &Account, args: &[&str]) -> Run {
        let mut cmd = rootguard_as(acct);
        cmd.env("AWS_ENDPOINT_URL", &self.url).args(args);
        run(cmd)
    }

    /// Stops the proxy; how many requests met each fault.
    fn stop(mut self) -> Value {
        drop(self.child.stdin.take());
        let mut err = String::new();
        self.child
            .stderr
            .as_mut()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let _ = self.child.wait();
        serde_json::from_str(err.trim()).unwrap_or_else(|_| panic!("proxy said: {err}"))
    }
}

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

#[test]
fn verify_verdicts_under_20_percent_faults_are_the_same_or_unknown() {
    let mut seen: std::collections::BTreeMap<String, u64> = Default::default();
    for scenario in ["neglected", "hardened"] {
        let acct = emulator().seed(fixture(scenario));
        let mut cmd = rootguard_as(&acct);
        cmd.args(["verify", "-o", "json"]);
        let clean = run(cmd);
        let baseline = statuses(&serde_json::from_str(&clean.stdout).unwrap());
        let results: Vec<Result<Value, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4u64)
                .map(|t| {
                    let (acct, baseline, clean_code) = (&acct, &baseline, clean.code);
                    s.spawn(move || {
                        (0..4u64)
                            .map(|i| {
                                let proxy = FaultProxy::start(0.2, t * 100 + i);
                                let r = proxy.run(acct, &["verify", "-o", "json"]);
                                let counts = proxy.stop();
                                if r.code == 2 {
                                    // AWS unusable at all (GetCallerIdentity failed past
                                    // the retries): no verdict is given, and it says so.
                                    return if r.stderr.contains("after the SDK's retries")
                                        || r.stderr.contains("cannot reach AWS")
                                    {
                                        Ok(counts)
                                    } else {
                                        Err(format!("exit 2 without saying why: {}", r.stderr))
                                    };
                                }
                                let doc: Value = serde_json::from_str(&r.stdout)
                                    .map_err(|e| format!("{e}: {}", r.stderr))?;
                                for ((id, want), (_, got)) in baseline.iter().zip(statuses(&doc)) {
                                    if &got != want && got != "unknown" {
                                        return Err(format!(
                                            "{id}: {want} became {got} under faults {counts}"
                                        ));
                                    }
                                }
                                let ok_codes = [clean_code, 1, 3];
                                if !ok_codes.contains(&r.code) || (clean_code == 0 && r.code == 1) {
                                    return Err(format!(
                                        "exit {} (fault-free {clean_code})",
                                        r.code
                                    ));
                                }
                                Ok(counts)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        for r in results {
            let counts = r.unwrap_or_else(|e| panic!("{scenario}: {e}"));
            for (k, v) in counts.as_object().unwrap() {
                *seen.entry(k.clone()).or_default() += v.as_u64().unwrap();
            }
        }
    }
    eprintln!("faults injected: {seen:?}");
    for fault in ["503", "throttle", "reset-before", "reset-after", "delay"] {
        assert!(
            seen.get(fault).copied().unwrap_or(0) > 0,
            "{fault} never injected: {seen:?}"
        );
    }
}

#[test]
fn deploy_under_20_percent_faults_converges_with_nothing_duplicated() {
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3u64)
            .map(|seed| {
                s.spawn(move || {
                    let acct = emulator().seed(fixture("neglected"));
                    let args = [
                        "deploy",
                        "--email",
                        "oncall@example.com",
                        "--create-trail",
                        "--yes",
                        "-q",
                    ];
                    let mut runs = 0;
                    loop {
                        runs += 1;
                        let proxy = FaultProxy::start(0.2, 1000 + seed * 10 + runs);
                        let r = proxy.run(&acct, &args);
                        proxy.stop();
                        if r.code == 0 {
                            break;
                        }
                        if runs == 8 {
                            return Some(format!(
                                "seed {seed}: no success in 8 runs: {}",
                                r.stderr
                            ));
                        }
                    }
                    if let Err(e) = whole_chain(&acct) {
                        return Some(format!("seed {seed} after {runs} run(s): {e}"));
                    }
                    let mut cmd = rootguard_as(&acct);
                    cmd.args([
                        "deploy",
                        "--email",
                        "oncall@example.com",
                        "--create-trail",
                        "--dry-run",
                    ]);
                    let plan = run(cmd);
                    (!plan
                        .stdout
                        .contains("0 to create, 0 to update, 30 unchanged"))
                    .then(|| {
                        format!(
                            "seed {seed}: work left after {runs} run(s): {}",
                            plan.stdout
                        )
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// CloudWatch speaks Smithy RPCv2 CBOR; its throttling error is CBOR too. The
/// SDK must read it as throttling and retry, so root-alarm still passes.
#[test]
fn cloudwatch_cbor_throttling_is_retried_not_misread() {
    let acct = emulator().seed(fixture("hardened"));
    let mut throttled = 0;
    let mut passed_despite = 0;
    for seed in 0..12 {
        let proxy =
            FaultProxy::start_with(0.5, seed, &["--protocols", "cbor", "--faults", "throttle"]);
        let r = proxy.run(&acct, &["verify", "--check", "root-alarm", "-o", "json"]);
        let counts = proxy.stop();
        let doc: Value =
            serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
        let status = doc["findings"][0]["status"].as_str().unwrap().to_string();
        assert!(
            status == "pass" || status == "unknown",
            "{status} under CBOR throttling: {doc:#}"
        );
        let n = counts["throttle:cbor"].as_u64().unwrap_or(0);
        throttled += n;
        if n > 0 && status == "pass" {
            passed_despite += 1;
        }
    }
    assert!(throttled > 0, "no CBOR request was throttled");
    assert!(
        passed_despite > 0,
        "a CBOR throttle was never retried to a pass"
    );
}

#[test]
fn org_harden_under_20_percent_faults_converges() {
    let h = fixture("hardened");
    let member = |name: &str, root: Value| {
        serde_json::json!({"name": name, "root": root,
               "alternate_contacts": h["alternate_contacts"], "contact_information": h["contact_information"]})
    };
    let mut management = fixture("hardened");
    management.as_object_mut().unwrap().remove("organization");
    let org = emulator().seed_org(serde_json::json!({
        "management": management,
        "features": [],
        "trusted_access": ["account.amazonaws.com"],
        "members": [
            member("a", serde_json::json!({"password_present": true, "access_keys": [{"active": true}]})),
            member("b", serde_json::json!({"password_present": true, "virtual_mfa": true, "mfa_enabled": true,
                "signing_certs": [{"active": true}]})),
        ],
        // AWS's quotas on as well: injected faults and real throttling together.
        "quotas": {"documented": true, "rates": {"sts:AssumeRoot": [2, 2], "organizations": [4, 4]}}
    }));
    let mut runs = 0;
    loop {
        runs += 1;
        let proxy = FaultProxy::start(0.2, 5000 + runs);
        let r = proxy.run(&org.management, &["org", "harden", "--yes", "-q"]);
        proxy.stop();
        if r.code == 0 {
            break;
        }
        assert!(runs < 10, "no success in 10 runs: {}", r.stderr);
    }
    member_roots_cleared(&org).unwrap();
    let mut cmd = rootguard_as(&org.management);
    cmd.args(["org", "harden", "--dry-run"]);
    let plan = run(cmd);
    assert!(
        plan.stdout.contains("nothing to change"),
        "after {runs} run(s): {}",
        plan.stdout
    );
}

//! The table of bad input (tests/fixtures/bad_input.json): flags, environment
//! variables, config files and answers that cannot be given. Each case must
//! exit 2, name what was wrong on stderr, print nothing on stdout, never
//! panic, and make no request: a loopback listener stands in for AWS and must
//! see no connection.

mod common;

use std::net::TcpListener;

use common::*;
use serde_json::Value;

#[test]
fn every_bad_input_exits_2_names_it_and_makes_no_request() {
    let cases: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(manifest_dir().join("tests/fixtures/bad_input.json")).unwrap(),
    )
    .unwrap();
    assert!(cases.len() >= 100, "the table holds {} cases", cases.len());
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let url = format!("http://{}", trap.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<&[Value]> = cases.chunks(cases.len().div_ceil(4)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .enumerate()
            .map(|(n, chunk)| {
                let (url, dir, empty) = (&url, dir.path(), &empty);
                s.spawn(move || {
                    let mut bad = Vec::new();
                    for (i, case) in chunk.iter().enumerate() {
                        let args: Vec<&str> = case["args"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|a| a.as_str().unwrap())
                            .collect();
                        let mut cmd = bare_command();
                        cmd.env("AWS_ENDPOINT_URL", url)
                            .env("AWS_ACCESS_KEY_ID", "AKIATEST")
                            .env("AWS_SECRET_ACCESS_KEY", "secret")
                            .env("AWS_CONFIG_FILE", empty)
                            .env("AWS_SHARED_CREDENTIALS_FILE", empty)
                            .args(&args);
                        if let Some(text) = case["config"].as_str() {
                            let path = dir.join(format!("config-{n}-{i}"));
                            std::fs::write(&path, text).unwrap();
                            cmd.env("AWS_CONFIG_FILE", &path);
                        }
                        if let Some(text) = case["credentials"].as_str() {
                            let path = dir.join(format!("credentials-{n}-{i}"));
                            std::fs::write(&path, text).unwrap();
                            cmd.env("AWS_SHARED_CREDENTIALS_FILE", &path);
                        }
                        // A file's bytes, one per character (U+0000..U+00FF),
                        // for bytes that are not UTF-8.
                        for (key, var) in [
                            ("config_bytes", "AWS_CONFIG_FILE"),
                            ("credentials_bytes", "AWS_SHARED_CREDENTIALS_FILE"),
                        ] {
                            if let Some(text) = case[key].as_str() {
                                let bytes: Vec<u8> = text
                                    .chars()
                                    .map(|c| u8::try_from(u32::from(c)).expect("one byte a char"))
                                    .collect();
                                let path = dir.join(format!("{key}-{n}-{i}"));
                                std::fs::write(&path, bytes).unwrap();
                                cmd.env(var, &path);
                            }
                        }
                        for var in case["unset"].as_array().into_iter().flatten() {
                            cmd.env_remove(var.as_str().unwrap());
                        }
                        if let Some(vars) = case["env"].as_object() {
                            for (k, v) in vars {
                                cmd.env(k, v.as_str().unwrap());
                            }
                        }
                        let r = run(cmd);
                        let names = case["names"].as_str().unwrap();
                        let what = format!("{} {args:?} {}", case["kind"], case["env"]);
                        if r.code != 2 {
                            bad.push(format!("{what}: exit {} ({})", r.code, r.stderr.trim()));
                        } else if let Some(missing) = case["also"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|a| a.as_str().unwrap())
                            .find(|a| !r.stderr.contains(a))
                        {
                            bad.push(format!(
                                "{what}: stderr does not name {missing:?}: {}",
                                r.stderr.trim()
                            ));
                        } else if !r.stderr.contains(names) {
                            bad.push(format!(
                                "{what}: stderr does not name {names:?}: {}",
                                r.stderr.trim()
                            ));
                        } else if r.stderr.contains("panicked") || !r.stdout.is_empty() {
                            bad.push(format!("{what}: panic or stdout: {}{}", r.stdout, r.stderr));
                        } else if r.stderr.len() > 2000 {
                            bad.push(format!("{what}: {} bytes of stderr", r.stderr.len()));
                        }
                    }
                    bad
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let connections = std::iter::from_fn(|| trap.accept().ok()).count();
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(connections, 0, "bad input made an AWS request");
}

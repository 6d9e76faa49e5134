//! Bad input and setup errors: exit 2, a message naming the flag, and no AWS
//! request. A listener on a free loopback port stands in for AWS and must see
//! no connection.

mod common;

use std::net::TcpListener;

use common::*;

/// A loopback listener that counts connection attempts.
struct Trap(TcpListener);

impl Trap {
    fn new() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Trap(l)
    }
    fn url(&self) -> String {
        format!("http://{}", self.0.local_addr().unwrap())
    }
    fn connections(&self) -> usize {
        std::iter::from_fn(|| self.0.accept().ok()).count()
    }
}

fn against_trap(trap: &Trap, args: &[&str]) -> Run {
    let mut cmd = bare_command();
    cmd.env("AWS_ENDPOINT_URL", trap.url())
        .env("AWS_ACCESS_KEY_ID", "AKIATEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .args(args);
    run(cmd)
}

#[test]
fn bad_flags_exit_2_name_the_flag_and_make_no_request() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["verify", "--check", "root-nope"],
            &["--check", "root-nope", "root-mfa"],
        ),
        (
            &["verify", "--output", "yaml"],
            &["--output", "yaml", "text", "json", "junit", "markdown"],
        ),
        (
            &["verify", "--root-use-window", "tomorrow"],
            &["--root-use-window", "30m, 24h, 1d"],
        ),
        (
            &["verify", "--root-use-window", "5"],
            &["--root-use-window", "no unit"],
        ),
        (
            &["verify", "--endpoint-url", "localhost:4566"],
            &["--endpoint-url", "http://"],
        ),
        (
            &["verify", "--endpoint-url", "http://host:port"],
            &["--endpoint-url", "invalid port"],
        ),
        (
            &["verify", "--region", "mars-1"],
            &["--region", "us-east-1"],
        ),
        (
            &["verify", "--contact-domain", "not a domain"],
            &["--contact-domain", "example.com"],
        ),
        (&["verify", "--frobnicate"], &["--frobnicate"]),
        (&["nonsense"], &["nonsense"]),
    ];
    for (args, needles) in cases {
        let trap = Trap::new();
        let r = against_trap(&trap, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        for n in *needles {
            assert!(
                r.stderr.contains(n),
                "{args:?}: stderr lacks {n:?}:\n{}",
                r.stderr
            );
        }
        assert!(r.stdout.is_empty(), "{args:?}: nothing on stdout");
        assert_eq!(trap.connections(), 0, "{args:?} made an AWS request");
    }
}

#[test]
fn no_credentials_exit_2_with_one_line() {
    let trap = Trap::new();
    let mut cmd = bare_command();
    cmd.env("AWS_ENDPOINT_URL", trap.url()).args(["verify"]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("error: no usable AWS credentials"),
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.trim_end().lines().count(),
        1,
        "one clear line:\n{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("DispatchFailure") && !r.stderr.contains('{'),
        "no Rust debug dump:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("-v "),
        "says where the detail is: {}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
    assert_eq!(trap.connections(), 0, "no request without credentials");
}

#[test]
fn unreachable_endpoint_exit_2_with_one_line() {
    // Bind then drop: the port is free and refuses connections.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = bare_command();
    cmd.env("AWS_ACCESS_KEY_ID", "AKIATEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .args([
            "verify",
            "--endpoint-url",
            &format!("http://127.0.0.1:{port}"),
        ]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with(&format!(
            "error: cannot reach AWS at http://127.0.0.1:{port}"
        )),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("Connection refused") && !r.stderr.contains("DispatchFailure"),
        "the cause, without the SDK's debug dump: {}",
        r.stderr
    );
}

#[test]
fn unknown_profile_exit_2() {
    let trap = Trap::new();
    let mut cmd = bare_command();
    cmd.env("AWS_ENDPOINT_URL", trap.url())
        .args(["verify", "--profile", "does-not-exist"]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("does-not-exist"), "{}", r.stderr);
    assert_eq!(trap.connections(), 0);
}

#[test]
fn help_version_and_completions() {
    let help = run({
        let mut c = bare_command();
        c.arg("--help");
        c
    });
    assert_eq!(help.code, 0);
    for flag in [
        "--profile",
        "--region",
        "--endpoint-url",
        "--no-color",
        "--verbose",
        "--quiet",
        "verify",
        "completions",
    ] {
        assert!(help.stdout.contains(flag), "help lacks {flag}");
    }
    let verify_help = run({
        let mut c = bare_command();
        c.args(["verify", "--help"]);
        c
    });
    let (own, global) = verify_help
        .stdout
        .split_once("Global options:")
        .expect("global flags under their own heading");
    assert!(
        global.contains("--profile") && !own.contains("--profile"),
        "{}",
        verify_help.stdout
    );
    for flag in [
        "--output",
        "--check",
        "--root-use-window",
        "--contact-domain",
    ] {
        assert!(
            verify_help.stdout.contains(flag),
            "verify help lacks {flag}"
        );
    }
    let version = run({
        let mut c = bare_command();
        c.arg("--version");
        c
    });
    assert_eq!(
        version.stdout.trim(),
        format!("rootguard {}", env!("CARGO_PKG_VERSION"))
    );
    for shell in ["bash", "zsh", "fish"] {
        let r = run({
            let mut c = bare_command();
            c.args(["completions", shell]);
            c
        });
        assert_eq!(r.code, 0, "{shell}");
        assert!(
            r.stdout.contains("root-use-window"),
            "{shell} completion lacks verify's flags"
        );
    }
}

#[test]
fn malformed_aws_environment_and_config_values_exit_2_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let bad_config = dir.path().join("config");
    std::fs::write(&bad_config, "[default]\nmax_attempts = banana\n").unwrap();
    let trap = Trap::new();
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![("AWS_MAX_ATTEMPTS", "banana".into())],
            "AWS_MAX_ATTEMPTS",
        ),
        (vec![("AWS_RETRY_MODE", "yolo".into())], "AWS_RETRY_MODE"),
        (
            vec![("AWS_ENDPOINT_URL", String::new())],
            "AWS_ENDPOINT_URL",
        ),
        (vec![("AWS_REGION", "moon base".into())], "AWS_REGION"),
        (
            vec![("AWS_CONFIG_FILE", bad_config.display().to_string())],
            "max_attempts",
        ),
        (
            vec![("AWS_PROFILE", "ghost".into())],
            "\"ghost\" was not found",
        ),
    ];
    for (vars, needle) in cases {
        for args in [&["verify"][..], &["events"][..], &["org", "status"][..]] {
            let mut cmd = bare_command();
            cmd.env("AWS_ENDPOINT_URL", trap.url())
                .env("AWS_ACCESS_KEY_ID", "AKIATEST")
                .env("AWS_SECRET_ACCESS_KEY", "secret")
                .args(args);
            for (k, v) in &vars {
                cmd.env(k, v);
            }
            let r = run(cmd);
            assert_eq!(r.code, 2, "{vars:?} {args:?}: {}", r.stderr);
            assert!(r.stderr.contains(needle), "{vars:?}: {}", r.stderr);
            assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
            assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
        }
    }
    let file = bad_config.display().to_string();
    let mut cmd = bare_command();
    cmd.env("AWS_CONFIG_FILE", &file).args(["verify"]);
    assert!(
        run(cmd).stderr.contains(&file),
        "the message names the file"
    );
    assert_eq!(trap.connections(), 0, "bad environment makes no request");
}

#[test]
fn completions_into_a_closed_pipe_end_quietly() {
    let mut cmd = bare_command();
    cmd.args(["completions", "bash"]);
    let (status, stderr) = run_with_closed_stdout(cmd);
    assert_quiet_pipe_exit(status, &stderr, "completions bash");
}

#[test]
fn an_endpoint_that_is_not_aws_gets_its_own_message() {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<h1>not found</h1>\r\n",
            );
        }
    });
    let mut cmd = bare_command();
    cmd.env("AWS_ENDPOINT_URL", &url)
        .env("AWS_ACCESS_KEY_ID", "AKIATEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .args(["verify"]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with(&format!(
            "error: the endpoint {url} does not speak AWS: it answered HTTP 404"
        )),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("rejected the credentials"));
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
}

#[test]
fn aws_unavailable_after_retries_is_not_called_a_credential_problem() {
    let acct = emulator().seed(serde_json::json!({
        "faults": {"sts:GetCallerIdentity": {"count": 50, "status": 503, "code": "ServiceUnavailable"}}
    }));
    let mut cmd = rootguard_as(&acct);
    cmd.env("AWS_MAX_ATTEMPTS", "2").args(["verify"]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("AWS is unavailable"), "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 503"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("rejected the credentials"),
        "{}",
        r.stderr
    );
    let n = emulator().stats(&acct)["by_action"]["sts:GetCallerIdentity"].as_u64();
    assert_eq!(n, Some(2), "retried by the SDK up to AWS_MAX_ATTEMPTS");
}

#[test]
fn values_aws_would_refuse_are_refused_before_any_request() {
    let trap = Trap::new();
    let long_label = format!("a@{}.com", "x".repeat(64));
    let long_alias = format!("alias/{}", "k".repeat(300));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["deploy", "--email", "<script>@example.com", "--dry-run"],
            "--email",
        ),
        (
            vec!["deploy", "--email", long_label.as_str(), "--dry-run"],
            "--email",
        ),
        (
            vec!["deploy", "--email", "a\u{7}b@example.com", "--dry-run"],
            "--email",
        ),
        (
            vec![
                "deploy",
                "--email",
                "a@b.com",
                "--kms-key",
                "arn:x:kms:;rm:1:alias/k",
                "--dry-run",
            ],
            "--kms-key",
        ),
        (
            vec![
                "deploy",
                "--email",
                "a@b.com",
                "--kms-key",
                long_alias.as_str(),
                "--dry-run",
            ],
            "--kms-key",
        ),
        (
            vec![
                "deploy",
                "--email",
                "a@b.com",
                "--kms-key",
                "arn:aws:kms:us-east-1:123456789012:key/-",
                "--dry-run",
            ],
            "--kms-key",
        ),
        (
            vec![
                "deploy",
                "--email",
                "a@b.com",
                "--kms-key",
                "alias/aws/sns",
                "--dry-run",
            ],
            "--kms-key",
        ),
        (vec!["alarm", "test", "--alarm", ""], "--alarm"),
        (
            vec!["verify", "--contact-domain", "exa mple.com"],
            "--contact-domain",
        ),
        // A change without --yes and without a terminal: refused before the first read.
        (vec!["deploy", "--email", "a@b.com"], "--yes"),
        (vec!["teardown"], "--yes"),
    ];
    for (args, needle) in &cases {
        let r = against_trap(&trap, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(
            r.stderr.len() < 2000,
            "the value is not echoed at length: {}",
            r.stderr.len()
        );
    }
    assert_eq!(trap.connections(), 0, "no request for bad input");
}

//! Test harness: one moto launcher per test binary, one fresh account per test.
//!
//! The launcher (tests/moto_launcher.py) runs moto in server mode on a free
//! 127.0.0.1 port with the pieces moto lacks. Each test seeds its own 12-digit
//! account from a scenario and runs the real `rootguard` binary against it, so
//! tests run in parallel without resets. Nothing here talks to anything but
//! loopback.

#![allow(dead_code)]

pub mod qr;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};

pub struct Emulator {
    pub endpoint: String,
    addr: String,
    // Held open: the launcher exits when this pipe closes with the test binary.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ROOTGUARD_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = manifest_dir().join("tests/.venv/bin/python");
    assert!(
        venv.exists(),
        "the emulator venv is missing: run scripts/test (it creates tests/.venv), or set ROOTGUARD_PYTHON"
    );
    venv
}

/// The shared launcher, started on first use.
pub fn emulator() -> &'static Emulator {
    static EMU: OnceLock<Emulator> = OnceLock::new();
    EMU.get_or_init(|| {
        let mut child = Command::new(python())
            .arg(manifest_dir().join("tests/moto_launcher.py"))
            .arg("--exit-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("failed to start the moto launcher");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let endpoint = loop {
            let line = lines
                .next()
                .expect("the moto launcher exited before it was ready")
                .expect("failed to read the launcher's stdout");
            if let Some(ep) = line.strip_prefix("ROOTGUARD_MOTO_READY ") {
                break ep.trim().to_string();
            }
        };
        let addr = endpoint.trim_start_matches("http://").to_string();
        assert!(
            addr.starts_with("127.0.0.1:"),
            "launcher must bind loopback, got {addr}"
        );
        let stdin = child.stdin.take().unwrap();
        Emulator {
            endpoint,
            addr,
            _stdin: Mutex::new(stdin),
            _child: Mutex::new(child),
        }
    })
}

/// A minimal HTTP/1.0 exchange with the launcher's control endpoints.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("failed to connect to the launcher");
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A fresh 12-digit account id, unique within this test process.
pub fn fresh_account_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let pid = std::process::id() as u64 % 100_000;
    format!("{:012}", 100_000_000_000 + pid * 10_000 + n)
}

/// A seeded organization: its id, the management account's caller, member ids.
#[derive(Clone, Debug)]
pub struct Org {
    pub id: String,
    pub management: Account,
    pub members: Vec<String>,
    /// Callers inside each member (for running rootguard from a member).
    pub member_callers: Vec<Account>,
}

#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Emulator {
    /// Seeds a fresh account from a scenario; any `account_id` in it is replaced.
    pub fn seed(&self, mut scenario: Value) -> Account {
        scenario["account_id"] = json!(fresh_account_id());
        let (status, body) = http(
            &self.addr,
            "POST",
            "/_rootguard/accounts",
            &scenario.to_string(),
        );
        assert_eq!(status, 200, "seeding failed: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        Account {
            id: v["account_id"].as_str().unwrap().to_string(),
            access_key_id: v["access_key_id"].as_str().unwrap().to_string(),
            secret_access_key: v["secret_access_key"].as_str().unwrap().to_string(),
        }
    }

    /// Seeds a management account, its organization and members (fresh ids).
    pub fn seed_org(&self, mut spec: Value) -> Org {
        if spec.get("management").is_none() {
            spec["management"] = json!({});
        }
        spec["management"]["account_id"] = json!(fresh_account_id());
        if let Some(members) = spec["members"].as_array_mut() {
            for m in members {
                m["account_id"] = json!(fresh_account_id());
            }
        }
        let (status, body) = http(
            &self.addr,
            "POST",
            "/_rootguard/organization",
            &spec.to_string(),
        );
        assert_eq!(status, 200, "seeding the organization failed: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let m = &v["management"];
        Org {
            id: v["organization_id"].as_str().unwrap().to_string(),
            management: Account {
                id: m["account_id"].as_str().unwrap().to_string(),
                access_key_id: m["access_key_id"].as_str().unwrap().to_string(),
                secret_access_key: m["secret_access_key"].as_str().unwrap().to_string(),
            },
            members: v["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect(),
            member_callers: v["member_credentials"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| Account {
                    id: m["account_id"].as_str().unwrap().to_string(),
                    access_key_id: m["access_key_id"].as_str().unwrap().to_string(),
                    secret_access_key: m["secret_access_key"].as_str().unwrap().to_string(),
                })
                .collect(),
        }
    }

    /// Request quotas for one calling account (`{"documented": true, "rates": {...}}`).
    pub fn set_quotas(&self, account: &Account, spec: Value) {
        let mut spec = spec;
        spec["account"] = json!(account.id);
        let (status, body) = http(&self.addr, "POST", "/_rootguard/quotas", &spec.to_string());
        assert_eq!(status, 200, "setting quotas failed: {body}");
    }

    /// StackSet operations of `account` paced as AWS runs them (`round_seconds`,
    /// members that `fail`, `lift` a failure, `hold` a running operation).
    pub fn set_stackset_pacing(&self, account: &Account, spec: Value) {
        let mut spec = spec;
        spec["account"] = json!(account.id);
        let (status, body) = http(
            &self.addr,
            "POST",
            "/_rootguard/stacksets",
            &spec.to_string(),
        );
        assert_eq!(status, 200, "pacing StackSets failed: {body}");
    }

    /// How many requests of `account` the emulator's quotas throttled, per quota.
    pub fn throttled(&self, account: &Account) -> Value {
        let (status, body) = http(
            &self.addr,
            "GET",
            &format!("/_rootguard/quotas?account={}", account.id),
            "",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["throttled"].clone()
    }

    /// A member's root state as the emulator holds it, with the organization's
    /// features and trusted access.
    pub fn root_state(&self, account_id: &str) -> Value {
        let (status, body) = http(
            &self.addr,
            "GET",
            &format!("/_rootguard/root?account={account_id}"),
            "",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Puts an object into a bucket as a service would (CloudTrail delivering
    /// a log file), past the bucket policy.
    pub fn put_object(&self, account: &Account, bucket: &str, key: &str) {
        let (status, body) = http(
            &self.addr,
            "POST",
            "/_rootguard/object",
            &json!({"account_id": account.id, "bucket": bucket, "key": key}).to_string(),
        );
        assert_eq!(status, 200, "{body}");
    }

    /// Every bucket and queue of an account with its policy (or null):
    /// `{"buckets": {name: policy}, "queues": {name: {"region", "policy"}}}`.
    pub fn policies(&self, account_id: &str) -> Value {
        let (status, body) = http(
            &self.addr,
            "GET",
            &format!("/_rootguard/policies?account={account_id}"),
            "",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Requests the launcher counted for an account id.
    pub fn stats_of(&self, account_id: &str) -> Value {
        let (status, body) = http(
            &self.addr,
            "GET",
            &format!("/_rootguard/stats?account={account_id}"),
            "",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Puts a corpus CloudTrail record on the account's default bus in the
    /// record's own region, as CloudTrail does with a management event.
    pub fn put_event(&self, account: &Account, corpus: &str) {
        let body = json!({"account_id": account.id, "corpus": corpus}).to_string();
        let (status, body) = http(&self.addr, "POST", "/_rootguard/put_event", &body);
        assert_eq!(status, 200, "{body}");
    }

    /// The same call made in `region`: the record lands on that region's bus.
    pub fn put_event_in(&self, account: &Account, corpus: &str, region: &str) {
        let body =
            json!({"account_id": account.id, "corpus": corpus, "region": region}).to_string();
        let (status, body) = http(&self.addr, "POST", "/_rootguard/put_event", &body);
        assert_eq!(status, 200, "{body}");
    }

    /// A new member joins `org` under its root (as a created or invited
    /// account does); the launcher's automatic deployment follows. Its caller.
    pub fn join_org(&self, org: &Org, name: &str) -> Account {
        let body = json!({"management": org.management.id, "member": {"name": name, "account_id": fresh_account_id()}})
            .to_string();
        let (status, body) = http(&self.addr, "POST", "/_rootguard/organization/join", &body);
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        Account {
            id: v["account_id"].as_str().unwrap().to_string(),
            access_key_id: v["access_key_id"].as_str().unwrap().to_string(),
            secret_access_key: v["secret_access_key"].as_str().unwrap().to_string(),
        }
    }

    /// A member leaves `org` (organizations:RemoveAccountFromOrganization).
    pub fn leave_org(&self, org: &Org, account_id: &str) {
        let body = json!({"management": org.management.id, "account_id": account_id}).to_string();
        let (status, body) = http(&self.addr, "POST", "/_rootguard/organization/leave", &body);
        assert_eq!(status, 200, "{body}");
    }

    /// Deletes the real-time rule (`op: "delete"`) or replaces its pattern
    /// (`op: "pattern"`), as a person in the console would.
    pub fn edit_rule(&self, account: &Account, op: &str, pattern: Value) {
        self.edit_rule_in(account, "rootguard-root-activity", "us-east-1", op, pattern)
    }

    /// Deletes an IAM role (and its inline policies) behind rootguard's back.
    pub fn delete_role(&self, account: &Account, name: &str) {
        let body = json!({"account_id": account.id, "name": name}).to_string();
        let (status, body) = http(&self.addr, "POST", "/_rootguard/role", &body);
        assert_eq!(status, 200, "{body}");
    }

    /// [`Self::edit_rule`] on the rule `name` in `region`.
    pub fn edit_rule_in(
        &self,
        account: &Account,
        name: &str,
        region: &str,
        op: &str,
        pattern: Value,
    ) {
        let body = json!({"account_id": account.id, "name": name, "region": region, "op": op, "pattern": pattern})
            .to_string();
        let (status, body) = http(&self.addr, "POST", "/_rootguard/rule", &body);
        assert_eq!(status, 200, "{body}");
    }

    /// Changes the account's root state as a person in the console would
    /// (`{"mfa_enabled": true}` assigns root MFA).
    pub fn set_root(&self, account: &Account, set: Value) {
        let body = json!({"account_id": account.id, "set": set}).to_string();
        let (status, body) = http(&self.addr, "POST", "/_rootguard/root", &body);
        assert_eq!(status, 200, "{body}");
    }

    /// Confirms an email subscription, as the recipient's click would.
    pub fn confirm(&self, account: &Account, endpoint: &str) {
        let body = json!({"account_id": account.id, "endpoint": endpoint}).to_string();
        let (status, body) = http(&self.addr, "POST", "/_rootguard/confirm", &body);
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(
            v["confirmed"].as_u64().unwrap() >= 1,
            "nothing was pending for {endpoint}: {body}"
        );
    }

    /// Replaces the account's list of denied `service:Action`s.
    pub fn deny(&self, account: &Account, actions: &[&str]) {
        let body = json!({"account_id": account.id, "deny": actions}).to_string();
        let (status, body) = http(&self.addr, "POST", "/_rootguard/deny", &body);
        assert_eq!(status, 200, "{body}");
    }

    /// Topics (with tags, policy, subscriptions and notifications), log groups
    /// with their metric filter names, alarms and trails in us-east-1.
    pub fn resources(&self, account: &Account) -> Value {
        self.resources_in(account, "us-east-1")
    }

    /// [`Self::resources`] in `region` (IAM roles are global).
    pub fn resources_in(&self, account: &Account, region: &str) -> Value {
        let (status, body) = http(
            &self.addr,
            "GET",
            &format!(
                "/_rootguard/resources?account={}&region={region}",
                account.id
            ),
            "",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Virtual MFA devices with their seeds and assigned users.
    pub fn mfa_devices(&self, account: &Account) -> Vec<Value> {
        let (status, body) = http(
            &self.addr,
            "GET",
            &format!("/_rootguard/mfa?account={}", account.id),
            "",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The findings Security Hub holds for the account in `region`.
    pub fn security_hub(&self, account: &Account, region: &str) -> Vec<Value> {
        let (status, body) = http(
            &self.addr,
            "GET",
            &format!(
                "/_rootguard/securityhub?account={}&region={region}",
                account.id
            ),
            "",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// What a person does in the Security Hub console: set workflow statuses
    /// (`{"workflow": {ID: STATUS}}`), or make it refuse ids (`{"reject": [ID]}`).
    pub fn security_hub_set(&self, account: &Account, region: &str, change: Value) {
        let (status, body) = http(
            &self.addr,
            "POST",
            &format!(
                "/_rootguard/securityhub?account={}&region={region}",
                account.id
            ),
            &change.to_string(),
        );
        assert_eq!(status, 200, "{body}");
    }

    /// Requests the launcher saw for an account, by `service:Action`.
    pub fn stats(&self, account: &Account) -> Value {
        let (status, body) = http(
            &self.addr,
            "GET",
            &format!("/_rootguard/stats?account={}", account.id),
            "",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }
}

/// The hardened account without the alarm chain yet: a qualifying trail only.
/// Two regions are enabled (us-east-1 and eu-west-1), so deploy forwards
/// from one other region.
pub fn trail_only() -> Value {
    let mut s = fixture("hardened");
    let chain = s["chain"].as_object_mut().unwrap();
    for k in ["metric_filters", "topics", "alarms", "realtime_rule"] {
        chain.remove(k);
    }
    s["regions"] = json!(["us-east-1", "eu-west-1"]);
    s
}

/// The messages published to `account`'s topic whose ARN ends with `:name`
/// (us-east-1), oldest first: what its subscribers would read.
pub fn topic_messages(account: &Account, name: &str) -> Vec<String> {
    emulator().resources(account)["topics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["arn"].as_str().unwrap().ends_with(&format!(":{name}")))
        .flat_map(|t| t["notifications"].as_array().unwrap().clone())
        .map(|n| n["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Loads a scenario from tests/fixtures.
pub fn fixture(name: &str) -> Value {
    let path = manifest_dir()
        .join("tests/fixtures")
        .join(format!("{name}.json"));
    serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}")),
    )
    .unwrap()
}

/// The rootguard binary with a clean AWS environment: no shared config, no
/// IMDS, no inherited credentials.
pub fn bare_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rootguard"));
    for (k, _) in std::env::vars_os() {
        if let Some(k) = k.to_str() {
            if k.starts_with("AWS_") || k == "NO_COLOR" {
                cmd.env_remove(k);
            }
        }
    }
    cmd.env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .stdin(Stdio::null());
    cmd
}

/// rootguard pointed at the emulator as `account`.
pub fn rootguard_as(account: &Account) -> Command {
    let mut cmd = bare_command();
    cmd.env("AWS_ENDPOINT_URL", &emulator().endpoint)
        .env("AWS_ACCESS_KEY_ID", &account.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &account.secret_access_key);
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(mut cmd: Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("failed to run rootguard");
    Run {
        code: status.code().expect("rootguard was killed by a signal"),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// `rootguard verify --output json ARGS` as `account`: the parsed document.
pub fn verify_json(account: &Account, args: &[&str]) -> (i32, Value) {
    let mut cmd = rootguard_as(account);
    cmd.args(["verify", "--output", "json"]).args(args);
    let r = run(cmd);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "verify did not print JSON ({e}); stderr:\n{}\nstdout:\n{}",
            r.stderr, r.stdout
        )
    });
    (r.code, v)
}

/// The finding with `id` from a verify JSON document.
pub fn finding<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {doc:#}"))
}

pub fn evidence(f: &Value) -> String {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces what changes between runs (account ids, RFC 3339 times) with
/// placeholders, so output can be compared with golden files.
pub fn normalize(s: &str, account: &Account) -> String {
    let s = s.replace(&account.id, "ACCOUNT");
    let b = s.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:ddZ";
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let fits = i + shape.len() <= b.len()
            && shape.iter().zip(&b[i..i + shape.len()]).all(|(p, c)| {
                if *p == b'd' {
                    c.is_ascii_digit()
                } else {
                    p == c
                }
            });
        if fits {
            out.push_str("TIME");
            i += shape.len();
        } else {
            let ch = s[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Compares with tests/golden/NAME; UPDATE_GOLDEN=1 rewrites the file.
pub fn assert_golden(name: &str, actual: &str) {
    let path = manifest_dir().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path:?}: {e} (run with UPDATE_GOLDEN=1 to create it)"));
    if expected != actual {
        panic!("output differs from {path:?} (UPDATE_GOLDEN=1 to accept)\n--- expected\n{expected}\n--- actual\n{actual}");
    }
}

/// The TOTP code an authenticator app with `seed` shows at unix time `t`.
pub fn totp_code(seed: &str, t: u64) -> String {
    let bytes = rootguard::app::mfa::base32_decode(seed).unwrap();
    rootguard::app::mfa::totp(&bytes)
        .unwrap()
        .generate(t)
        .to_string()
}

/// The seed of the account's first virtual MFA device, as the emulator holds it.
pub fn device_seed(account: &Account) -> String {
    emulator().mfa_devices(account)[0]["seed"]
        .as_str()
        .unwrap()
        .to_string()
}

/// rootguard in a real pseudo-terminal (140x60), as `account`, with HOME and
/// the working directory set to `dir` so every file it could write is there.
pub type Pty =
    expectrl::Session<expectrl::process::unix::UnixProcess, expectrl::process::unix::PtyStream>;

pub fn spawn_pty(account: &Account, args: &[&str], dir: &std::path::Path) -> Pty {
    spawn_pty_sized(account, args, dir, (140, 60))
}

/// [`spawn_pty`] on a terminal of `(cols, rows)`.
pub fn spawn_pty_sized(
    account: &Account,
    args: &[&str],
    dir: &std::path::Path,
    (cols, rows): (u16, u16),
) -> Pty {
    let mut cmd = rootguard_as(account);
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::inherit());
    let mut p = expectrl::Session::spawn(cmd).expect("spawn rootguard in a pty");
    p.get_process_mut().set_window_size(cols, rows).unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
    p
}

/// Waits for the first match of `pattern` (a regex); everything shown up to
/// it is added to `raw`; returns (all shown, the first group).
pub fn upto(p: &mut Pty, raw: &mut Vec<u8>, pattern: &str) -> (String, String) {
    let re = format!("(?s)^.*?({pattern})");
    let c = expectrl::Expect::expect(p, expectrl::Regex(re.as_str())).unwrap_or_else(|e| {
        panic!(
            "waiting for {pattern:?}: {e}\n{}",
            String::from_utf8_lossy(raw)
        )
    });
    let all = c.get(0).unwrap().to_vec();
    let hit = String::from_utf8_lossy(c.get(1).unwrap()).into_owned();
    raw.extend_from_slice(&all);
    (String::from_utf8_lossy(&all).into_owned(), hit)
}

/// Everything until the program closes the terminal.
pub fn pty_rest(p: &mut Pty) -> String {
    use expectrl::Expect;
    String::from_utf8_lossy(p.expect(expectrl::Eof).unwrap().as_bytes()).into_owned()
}

/// Ctrl-C, then everything up to the end of output. The prompts hold the
/// terminal raw so Ctrl-C is read as a key (`prompt::KeysRaw`); one that lands
/// in the instant before a prompt takes the terminal is SIGINT, whose handler
/// may set the flag just after the prompt's last check, and the prompt then
/// waits for a key. A person would press Ctrl-C again; so does this helper,
/// once, after 5 s.
pub fn interrupt(p: &mut Pty) -> expectrl::Captures {
    use expectrl::Expect;
    p.send(expectrl::ControlCode::EndOfText).unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(5)));
    let first = p.expect(expectrl::Eof);
    p.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
    match first {
        Ok(c) => c,
        Err(_) => {
            p.send(expectrl::ControlCode::EndOfText).unwrap();
            p.expect(expectrl::Eof).unwrap()
        }
    }
}

pub fn pty_exit(p: &mut Pty) -> i32 {
    match p.get_process().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("rootguard did not exit normally: {other:?}"),
    }
}

/// The write actions the emulator saw from `account`'s caller.
pub fn writes(account: &Account) -> Vec<String> {
    emulator().stats(account)["by_action"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|a| !rootguard::domain::policy::is_read_only(a))
        .cloned()
        .collect()
}

/// Runs `cmd` with its stdout closed before it writes (as `| head -0` would):
/// the exit status, and stderr. A panic would show as exit 101.
pub fn run_with_closed_stdout(mut cmd: Command) -> (std::process::ExitStatus, String) {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("failed to run rootguard");
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap(), err)
}

/// Quiet on a closed pipe: exit 0, or killed by SIGPIPE (141 in a shell), never a panic.
pub fn assert_quiet_pipe_exit(status: std::process::ExitStatus, stderr: &str, what: &str) {
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.code() == Some(0) || status.signal() == Some(13),
        "{what}: {status:?}\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
}

/// What a person would see: a terminal screen of `(cols, rows)` with
/// scrollback, fed everything the program wrote.
pub struct Screen {
    pub parser: vt100::Parser,
}

impl Screen {
    pub fn new((cols, rows): (u16, u16)) -> Screen {
        Screen {
            parser: vt100::Parser::new(
                rows.try_into().expect("rows > 0"),
                cols.try_into().expect("cols > 0"),
                10_000,
            ),
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
    }

    /// The visible rows, as text.
    pub fn visible(&self) -> String {
        self.parser.screen().contents()
    }

    /// Every row a person could scroll back to on the normal screen, then
    /// the visible ones.
    pub fn with_scrollback(&mut self) -> String {
        let mut all = String::new();
        self.parser.screen_mut().set_scrollback(usize::MAX);
        let back = self.parser.screen().scrollback();
        for offset in (1..=back).rev() {
            self.parser.screen_mut().set_scrollback(offset);
            if let Some(row) = self.parser.screen().rows(0, 1000).next() {
                all.push_str(&row);
                all.push('\n');
            }
        }
        self.parser.screen_mut().set_scrollback(0);
        all + &self.visible()
    }

    /// The QR code on the visible screen, read from the cells drawn on a
    /// white background, decoded; `None` if it is not all there.
    pub fn qr(&self) -> Option<String> {
        let screen = self.parser.screen();
        let (rows, cols) = screen.size();
        let mut lines = Vec::new();
        for r in 0..rows.get() {
            let row: Vec<char> = (0..cols.get())
                .filter_map(|c| screen.cell(r, c))
                .filter(|cell| cell.bgcolor() == vt100::Color::Idx(7))
                .map(|cell| cell.contents().chars().next().unwrap_or(' '))
                .collect();
            if !row.is_empty() {
                lines.push(row);
            }
        }
        qr::decode_rows(&lines)
    }
}

/// Exactly one of everything rootguard's deploy --create-trail makes.
pub fn whole_chain(acct: &Account) -> Result<(), String> {
    let res = emulator().resources(acct);
    let topics: Vec<&Value> = res["topics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["arn"].as_str().unwrap().contains("rootguard"))
        .collect();
    let check = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("{what}: {res:#}"))
        }
    };
    check(topics.len() == 1, "one topic")?;
    check(
        topics[0]["subscriptions"].as_array().unwrap().len() == 1,
        "one subscription",
    )?;
    check(
        topics[0]["tags"]["managed-by"] == "rootguard",
        "topic tagged",
    )?;
    check(
        res["trails"] == json!(["rootguard-management-events"]),
        "one trail",
    )?;
    check(
        res["log_groups"]["rootguard-cloudtrail"] == json!(["rootguard-root-activity"]),
        "one metric filter on the created group",
    )?;
    check(
        res["alarms"].as_array().unwrap().len() == 1
            && res["alarms"][0]["tags"]["managed-by"] == "rootguard",
        "one tagged alarm",
    )?;
    check(
        res["rules"]["rootguard-root-activity"] == 1,
        "one rule with its target",
    )?;
    let bucket = format!("rootguard-cloudtrail-{}-us-east-1", acct.id);
    check(
        res["buckets"][&bucket]["policy"] == true,
        "bucket with its policy",
    )?;
    check(res["buckets"].as_object().unwrap().len() == 1, "one bucket")?;
    check(
        res["roles"]["rootguard-cloudtrail-to-logs"]
            .as_array()
            .is_some_and(|p| p.len() == 1),
        "role with its policy",
    )?;
    Ok(())
}

/// After `org harden`: both centralized-root features on, and every member's
/// root without password, keys, certificates or MFA devices.
pub fn member_roots_cleared(org: &Org) -> Result<(), String> {
    for id in &org.members {
        let st = emulator().root_state(id);
        let empty = |k: &str| st[k].as_array().map(Vec::len).unwrap_or(0) == 0;
        if st["password_present"] != false
            || !empty("access_keys")
            || !empty("signing_certs")
            || !empty("mfa_devices")
        {
            return Err(format!("member {id} root not cleared: {st:#}"));
        }
        if st["features"] != json!(["RootCredentialsManagement", "RootSessions"]) {
            return Err(format!("features: {st:#}"));
        }
    }
    Ok(())
}

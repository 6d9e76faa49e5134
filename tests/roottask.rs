//! `org root recover`, `org unlock-bucket` and `org unlock-queue` against an
//! emulated organization: the launcher opens `IAMCreateRootUserPassword`,
//! `S3UnlockBucketPolicy` and `SQSUnlockQueuePolicy` sessions limited to the
//! task policies' actions on the member's own buckets and queues. Each test
//! checks the plan, the write, the saved file, a second run with nothing to
//! do, and that every refusal writes nothing (the launcher's request log).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use serde_json::{json, Value};

const BOTH: [&str; 2] = ["RootCredentialsManagement", "RootSessions"];

fn deny_all(bucket: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "LockEveryoneOut", "Effect": "Deny",
        "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}]})
}

fn queue_deny_all() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "LockQueue", "Effect": "Deny",
        "Principal": "*", "Action": "sqs:*", "Resource": "*"}]})
}

/// An organization with one member holding a locked bucket (eu-west-1), an
/// open bucket, a locked queue and an open queue; a second member with a
/// bucket of its own.
fn org_with(features: &[&str]) -> (Org, String) {
    let tag = fresh_account_id();
    let locked = format!("locked-{tag}");
    let org = emulator().seed_org(json!({
        "features": features,
        "trusted_access": ["iam.amazonaws.com"],
        "members": [
            {"name": "workloads", "root": {"password_present": false},
             "buckets": [{"name": locked, "region": "eu-west-1", "policy": deny_all(&locked)},
                         {"name": format!("open-{tag}")}],
             "queues": [{"name": "jobs", "policy": queue_deny_all()}, {"name": "open"}]},
            {"name": "other", "buckets": [{"name": format!("theirs-{tag}")}]}
        ]
    }));
    (org, tag)
}

fn rg(org: &Org, args: &[&str]) -> Run {
    let mut cmd = rootguard_as(&org.management);
    cmd.args(args);
    run(cmd)
}

/// Write actions (not reads, not AssumeRoot) each account of the
/// organization has seen.
fn writes_in(org: &Org) -> BTreeSet<String> {
    std::iter::once(&org.management.id)
        .chain(&org.members)
        .flat_map(|id| {
            emulator().stats_of(id)["by_action"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|a| {
                    !rootguard::domain::policy::is_read_only(a) && a.as_str() != "sts:AssumeRoot"
                })
                .map(|a| format!("{id} {a}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn count(id: &str, action: &str) -> u64 {
    emulator().stats_of(id)["by_action"][action]
        .as_u64()
        .unwrap_or(0)
}

fn saved(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    files.sort();
    files
}

#[test]
fn recover_creates_root_login_profile_once() {
    let (org, _) = org_with(&BOTH);
    let m = &org.members[0];
    let before = writes_in(&org);
    let plan = rg(
        &org,
        &[
            "org",
            "root",
            "recover",
            "--account",
            m,
            "--dry-run",
            "-o",
            "json",
        ],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let v: Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(v["task"], "recover_password");
    assert_eq!(v["step"]["step"], "create_root_login_profile");
    assert!(
        v["notes"]
            .to_string()
            .contains(&format!("org harden --accounts {m}")),
        "{v}"
    );
    assert_eq!(writes_in(&org), before, "--dry-run wrote");
    assert_eq!(emulator().root_state(m)["password_present"], false);

    let r = rg(&org, &["org", "root", "recover", "--account", m, "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("IAMCreateRootUserPassword"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("Forgot password"), "{}", r.stderr);
    assert_eq!(emulator().root_state(m)["password_present"], true);
    assert_eq!(count(m, "iam:CreateLoginProfile"), 1);

    let again = rg(&org, &["org", "root", "recover", "--account", m, "--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("nothing to do"), "{}", again.stdout);
    assert_eq!(count(m, "iam:CreateLoginProfile"), 1, "a second run wrote");

    // org harden then takes the password away again, as the plan says.
    let h = rg(&org, &["org", "harden", "--accounts", m, "--yes", "-q"]);
    assert_eq!(h.code, 0, "{}", h.stderr);
    assert_eq!(emulator().root_state(m)["password_present"], false);
}

/// The member's own IAM principal calls `action` on `bucket` with boto3 (the
/// launcher's Python): the S3 error code, or "ok".
fn as_member_admin(caller: &Account, action: &str, bucket: &str) -> String {
    let script = format!(
        "import boto3, botocore\n\
         s3 = boto3.client('s3', endpoint_url='{}', region_name='eu-west-1', \
         aws_access_key_id='{}', aws_secret_access_key='{}')\n\
         try:\n    s3.{action}(Bucket='{bucket}')\n    print('ok')\n\
         except botocore.exceptions.ClientError as e:\n    print(e.response['Error']['Code'])\n",
        emulator().endpoint,
        caller.access_key_id,
        caller.secret_access_key
    );
    let out = std::process::Command::new(python())
        .args(["-c", &script])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn unlock_bucket_shows_saves_then_deletes_the_policy() {
    let (org, tag) = org_with(&BOTH);
    let m = &org.members[0];
    let bucket = format!("locked-{tag}");
    let policy = emulator().policies(m)["buckets"][&bucket]
        .as_str()
        .expect("the seeded policy")
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().to_str().unwrap();
    let args = [
        "org",
        "unlock-bucket",
        "--account",
        m,
        "--bucket",
        &bucket,
        "--save-dir",
        save,
    ];
    // The lockout: the member's own administrator cannot even delete the policy.
    let admin = &org.member_callers[0];
    assert_eq!(
        as_member_admin(admin, "delete_bucket_policy", &bucket),
        "AccessDenied"
    );
    let deletes = || count(m, "s3:DeleteBucketPolicy") - 1; // less the refused one

    let mut dry = args.to_vec();
    dry.extend(["--dry-run", "-o", "json"]);
    let plan = rg(&org, &dry);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let v: Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(v["step"]["step"], "delete_bucket_policy");
    assert_eq!(
        v["step"]["region"], "eu-west-1",
        "the region from ListBuckets"
    );
    assert_eq!(v["step"]["policy"], policy.as_str());
    assert!(saved(dir.path()).is_empty(), "--dry-run saved a file");
    assert_eq!(deletes(), 0);

    let mut yes = args.to_vec();
    yes.push("--yes");
    let r = rg(&org, &yes);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("LockEveryoneOut"),
        "the policy in full: {}",
        r.stdout
    );
    let files = saved(dir.path());
    assert_eq!(
        files,
        vec![policy.clone()],
        "the saved file is the deleted policy"
    );
    let name = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    assert!(
        r.stderr.contains(&name.to_string_lossy().to_string()),
        "the file is named: {}",
        r.stderr
    );
    assert_eq!(emulator().policies(m)["buckets"][&bucket], Value::Null);
    // Unlocked: the administrator can manage the bucket's policy again.
    assert_eq!(
        as_member_admin(admin, "get_bucket_policy", &bucket),
        "NoSuchBucketPolicy"
    );

    let again = rg(&org, &yes);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("nothing to do") && again.stdout.contains("no bucket policy"),
        "{}",
        again.stdout
    );
    assert_eq!(deletes(), 1, "a second run wrote");
    assert_eq!(saved(dir.path()).len(), 1, "a second run saved a file");
}

#[test]
fn unlock_queue_by_name_and_by_url() {
    let (org, _) = org_with(&BOTH);
    let m = &org.members[0];
    let policy = emulator().policies(m)["queues"]["jobs"]["policy"]
        .as_str()
        .expect("the seeded queue policy")
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().to_str().unwrap();
    let r = rg(
        &org,
        &[
            "org",
            "unlock-queue",
            "--account",
            m,
            "--queue",
            "jobs",
            "--save-dir",
            save,
            "--yes",
            "-o",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let url = v["step"]["queue_url"].as_str().unwrap().to_string();
    assert!(url.ends_with(&format!("/{m}/jobs")), "{url}");
    assert_eq!(saved(dir.path()), vec![policy]);
    assert_eq!(
        emulator().policies(m)["queues"]["jobs"]["policy"],
        Value::Null
    );
    assert_eq!(count(m, "sqs:SetQueueAttributes"), 1);

    // By URL: nothing left to do, and nothing written.
    let again = rg(
        &org,
        &[
            "org",
            "unlock-queue",
            "--account",
            m,
            "--queue",
            &url,
            "--save-dir",
            save,
            "--yes",
        ],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("no queue policy"), "{}", again.stdout);
    assert_eq!(count(m, "sqs:SetQueueAttributes"), 1);
    assert_eq!(saved(dir.path()).len(), 1);
}

#[test]
fn every_refusal_says_why_and_writes_nothing() {
    let (org, tag) = org_with(&BOTH);
    let (sessions_off, _) = org_with(&["RootCredentialsManagement"]);
    let m = org.members[0].clone();
    let other = org.members[1].clone();
    let stranger = fresh_account_id();
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().to_str().unwrap();
    let foreign_url = format!("https://sqs.us-east-1.amazonaws.com/{other}/jobs");
    let open = format!("open-{tag}");
    let theirs = format!("theirs-{tag}");
    let mgmt = org.management.id.clone();
    let cases: Vec<(&Org, Vec<&str>, i32, &str)> = vec![
        (
            &org,
            vec!["org", "root", "recover", "--account", &mgmt, "--yes"],
            2,
            "management account",
        ),
        (
            &org,
            vec!["org", "root", "recover", "--account", &stranger, "--yes"],
            2,
            "not an ACTIVE member",
        ),
        (
            &sessions_off,
            vec![
                "org",
                "unlock-bucket",
                "--account",
                &sessions_off.members[0],
                "--bucket",
                &open,
                "--save-dir",
                save,
                "--yes",
            ],
            2,
            "RootSessions is not enabled",
        ),
        (
            &org,
            vec![
                "org",
                "unlock-bucket",
                "--account",
                &m,
                "--bucket",
                "no-such-bucket-here",
                "--save-dir",
                save,
                "--yes",
            ],
            2,
            "no such bucket",
        ),
        (
            &org,
            vec![
                "org",
                "unlock-bucket",
                "--account",
                &m,
                "--bucket",
                &theirs,
                "--save-dir",
                save,
                "--yes",
            ],
            2,
            "no such bucket",
        ),
        (
            &org,
            vec![
                "org",
                "unlock-queue",
                "--account",
                &m,
                "--queue",
                "nope",
                "--save-dir",
                save,
                "--yes",
            ],
            2,
            "no such queue",
        ),
        (
            &org,
            vec![
                "org",
                "unlock-queue",
                "--account",
                &m,
                "--queue",
                &foreign_url,
                "--save-dir",
                save,
                "--yes",
            ],
            2,
            "not --account",
        ),
        (
            &org,
            vec![
                "org",
                "unlock-bucket",
                "--account",
                &m,
                "--bucket",
                &open,
                "--save-dir",
                save,
                "--yes",
            ],
            0,
            "no bucket policy",
        ),
        (
            &org,
            vec![
                "org",
                "unlock-queue",
                "--account",
                &m,
                "--queue",
                "open",
                "--save-dir",
                save,
                "--yes",
            ],
            0,
            "no queue policy",
        ),
    ];
    let before = (writes_in(&org), writes_in(&sessions_off));
    for (o, args, code, says) in &cases {
        let r = rg(o, args);
        assert_eq!(r.code, *code, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(says) || r.stdout.contains(says),
            "{args:?} does not say {says:?}: {}{}",
            r.stdout,
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    assert_eq!(
        (writes_in(&org), writes_in(&sessions_off)),
        before,
        "a refusal wrote"
    );
    assert!(saved(dir.path()).is_empty(), "a refusal saved a file");
    // The feature refusal comes from the organization read: no session at all.
    assert_eq!(count(&sessions_off.management.id, "sts:AssumeRoot"), 0);

    // From a member account: exit 2, where to run it.
    let mut cmd = rootguard_as(&org.member_callers[0]);
    cmd.args(["org", "root", "recover", "--account", &other, "--yes"]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("management account"), "{}", r.stderr);
}

/// Each command stopped after its read and before its write (the launcher
/// refuses the write once): exit 1 with nothing half done; the next run
/// completes it.
#[test]
fn each_task_stopped_before_its_write_is_completed_by_the_next_run() {
    let (org, tag) = org_with(&BOTH);
    let m = org.members[0].clone();
    let member = Account {
        id: m.clone(),
        access_key_id: String::new(),
        secret_access_key: String::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().to_str().unwrap();
    let bucket = format!("locked-{tag}");
    let bucket_policy = emulator().policies(&m)["buckets"][&bucket]
        .as_str()
        .unwrap()
        .to_string();
    let queue_policy = emulator().policies(&m)["queues"]["jobs"]["policy"]
        .as_str()
        .unwrap()
        .to_string();
    let tasks: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["org", "root", "recover", "--account", &m, "--yes"],
            "iam:CreateLoginProfile",
        ),
        (
            vec![
                "org",
                "unlock-bucket",
                "--account",
                &m,
                "--bucket",
                &bucket,
                "--save-dir",
                save,
                "--yes",
            ],
            "s3:DeleteBucketPolicy",
        ),
        (
            vec![
                "org",
                "unlock-queue",
                "--account",
                &m,
                "--queue",
                "jobs",
                "--save-dir",
                save,
                "--yes",
            ],
            "sqs:SetQueueAttributes",
        ),
    ];
    for (args, write) in &tasks {
        emulator().deny(&member, &[write]);
        let stopped = rg(&org, args);
        assert_eq!(stopped.code, 1, "{write} refused: {}", stopped.stderr);
        assert!(
            stopped.stderr.contains("FAILED") && stopped.stderr.contains(write),
            "{}",
            stopped.stderr
        );
        emulator().deny(&member, &[]);
        let resumed = rg(&org, args);
        assert_eq!(resumed.code, 0, "{}", resumed.stderr);
        let third = rg(&org, args);
        assert!(
            third.stdout.contains("nothing to do"),
            "{write}: {}",
            third.stdout
        );
    }
    assert_eq!(emulator().root_state(&m)["password_present"], true);
    let p = emulator().policies(&m);
    assert_eq!(p["buckets"][&bucket], Value::Null);
    assert_eq!(p["queues"]["jobs"]["policy"], Value::Null);
    // Both runs of each unlock saved the policy first; nothing else was saved.
    let mut want = vec![
        bucket_policy.clone(),
        bucket_policy,
        queue_policy.clone(),
        queue_policy,
    ];
    want.sort();
    assert_eq!(saved(dir.path()), want);
}

//! `rootguard events` on an account where no trail delivers to CloudWatch
//! Logs: CloudTrail event history (LookupEvents) in every enabled region,
//! paged and paced to its rate limit, root's own activity only.

mod common;

use common::*;
use serde_json::{json, Value};

fn rg(acct: &Account, args: &[&str]) -> Run {
    let mut cmd = rootguard_as(acct);
    cmd.args(args);
    run(cmd)
}

/// No trail; three enabled regions with recorded management events.
fn no_trail_with_history() -> Account {
    emulator().seed(json!({
        "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"],
        "history": [
            {"corpus": "root-console-signin-success", "region": "us-east-1", "minutes_ago": 30},
            {"corpus": "root-api-call", "region": "eu-west-1", "minutes_ago": 90, "count": 120},
            {"corpus": "iam-user-call", "region": "eu-west-1", "minutes_ago": 20},
            {"corpus": "root-invoked-by-service", "region": "ap-southeast-2", "minutes_ago": 10},
            {"corpus": "root-aws-service-event", "region": "ap-southeast-2", "minutes_ago": 10},
            {"corpus": "root-api-call", "region": "ap-southeast-2", "minutes_ago": 4320}
        ]
    }))
}

#[test]
fn without_a_trail_every_enabled_regions_event_history_is_read_paged_and_paced() {
    let acct = no_trail_with_history();
    let r = rg(&acct, &["events", "--since", "1d", "--output", "json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["source"], "event-history");
    assert_eq!(
        doc["regions"],
        json!(["us-east-1", "ap-southeast-2", "eu-west-1"]),
        "every enabled region, us-east-1 first"
    );
    let events = doc["events"].as_array().unwrap();
    let by_region = |r: &str| events.iter().filter(|e| e["region"] == r).count();
    assert_eq!(by_region("us-east-1"), 1, "the root console sign-in");
    assert_eq!(
        by_region("eu-west-1"),
        120,
        "every page of root's API calls"
    );
    assert_eq!(
        by_region("ap-southeast-2"),
        0,
        "service-invoked root calls, AWS service events and events before --since are not root's activity"
    );
    assert_eq!(events.len(), 121);
    let stats = emulator().stats(&acct);
    let by = &stats["by_action"];
    assert_eq!(
        by["cloudtrail:LookupEvents"], 8,
        "root's events (1 + 3 pages + 1) and sts:AssumeRoot calls (one per region): {by}"
    );
    assert!(
        by.get("cloudtrail:LookupEvents(throttled)").is_none(),
        "paced under two requests a second per region: {by}"
    );
    assert_eq!(by["account:ListRegions"], 1);
    assert!(by.get("logs:FilterLogEvents").is_none());

    // A fresh account: the one above has just used its rate budget.
    let text = rg(&no_trail_with_history(), &["events", "--since", "1d"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    let first = text.stdout.lines().next().unwrap();
    assert!(
        first.contains("source: CloudTrail event history")
            && first.contains("3 of 3 region(s) read")
            && first.contains("121 event(s)"),
        "{first}"
    );
    assert!(text.stdout.contains("ConsoleLogin"), "{}", text.stdout);
}

#[test]
fn in_a_management_account_assume_root_calls_are_listed_who_which_member_which_task() {
    let acct = emulator().seed(json!({
        "regions": ["us-east-1", "us-west-2"],
        "history": [
            {"corpus": "assume-root-call", "region": "us-west-2", "minutes_ago": 30},
            {"corpus": "assume-root-audit", "region": "us-west-2", "minutes_ago": 60},
            {"corpus": "assumed-role-call", "region": "us-west-2", "minutes_ago": 5}
        ]
    }));
    let r = rg(&acct, &["events", "--since", "1d", "--output", "json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let events = doc["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "the two AssumeRoot calls only: {doc:#}");
    let who = "sts:AssumeRoot by arn:aws:sts::999988887777:assumed-role/OrgAdmin/mallory for member 111122223333";
    assert_eq!(
        events[0]["credential"],
        format!("{who}, task IAMAuditRootUserCredentials")
    );
    assert_eq!(
        events[1]["credential"],
        format!("{who}, task IAMCreateRootUserPassword")
    );
    assert_eq!(events[1]["region"], "us-west-2");
    assert_eq!(events[1]["source_ip"], "192.0.2.1");
    let text = rg(&acct, &["events", "--since", "1d"]);
    assert!(
        text.stdout.contains("task IAMCreateRootUserPassword"),
        "{}",
        text.stdout
    );
}

#[test]
fn regions_that_cannot_be_listed_or_read_are_said_never_silently_dropped() {
    let acct = no_trail_with_history();
    emulator().deny(&acct, &["account:ListRegions"]);
    let r = rg(&acct, &["--region", "eu-west-1", "events", "--since", "1d"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("cannot list the enabled regions")
            && r.stderr.contains("account:ListRegions")
            && r.stderr.contains("us-east-1 and eu-west-1"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("121 event(s)"), "{}", r.stdout);

    let acct = no_trail_with_history();
    emulator().deny(&acct, &["cloudtrail:LookupEvents"]);
    let r = rg(&acct, &["events", "--since", "1d"]);
    assert_eq!(
        r.code, 3,
        "unread regions make the answer unknown: {}",
        r.stderr
    );
    for region in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
        assert!(
            r.stderr
                .contains(&format!("cannot read the event history in {region}"))
                && r.stderr.contains("cloudtrail:LookupEvents"),
            "{}",
            r.stderr
        );
    }
    assert!(r.stdout.contains("0 of 3 region(s) read"), "{}", r.stdout);
}

#[test]
fn guardduty_root_credential_findings_are_listed_with_count_and_last_seen() {
    let acct = emulator().seed(json!({
        "regions": ["us-east-1", "eu-west-1"],
        "history": [{"corpus": "root-api-call", "region": "eu-west-1", "minutes_ago": 30}],
        "guardduty": {"region": "eu-west-1", "findings": [
            {"api": "ListBuckets", "service": "s3.amazonaws.com", "ip": "203.0.113.7", "count": 12, "minutes_ago": 5},
            {"api": "CreateUser", "service": "iam.amazonaws.com", "ip": "198.51.100.9", "count": 1, "minutes_ago": 60},
            {"api": "GetSecretValue", "minutes_ago": 4320},
            {"type": "Recon:IAMUser/MaliciousIPCaller", "minutes_ago": 5}
        ]}
    }));
    let r = rg(&acct, &["events", "--since", "1d"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("GuardDuty Policy:IAMUser/RootCredentialUsage: 2 finding(s)"),
        "only root-credential findings updated since --since: {}",
        r.stdout
    );
    let lines: Vec<&str> = r.stdout.lines().filter(|l| l.contains(" x")).collect();
    assert!(
        lines[0].contains("eu-west-1  ListBuckets (s3.amazonaws.com)  x12  last seen")
            && lines[0].contains("from 203.0.113.7"),
        "newest first, with its count: {lines:?}"
    );
    assert!(
        lines[1].contains("CreateUser (iam.amazonaws.com)  x1"),
        "{lines:?}"
    );
    assert!(
        r.stdout.contains("no GuardDuty detector in us-east-1"),
        "{}",
        r.stdout
    );

    let j = rg(&acct, &["events", "--since", "1d", "--output", "json"]);
    let doc: Value = serde_json::from_str(&j.stdout).unwrap();
    let gd = doc["guardduty"].as_array().unwrap();
    let read = gd.iter().find(|g| g["state"] == "read").unwrap();
    assert_eq!(read["region"], "eu-west-1");
    assert_eq!(read["findings"].as_array().unwrap().len(), 2);
    assert_eq!(read["findings"][0]["count"], 12);
    let by = &emulator().stats(&acct)["by_action"];
    assert!(by["guardduty:GetFindings"].as_u64().unwrap() >= 1, "{by}");

    // GuardDuty unreadable: said, and the answer is unknown.
    emulator().deny(&acct, &["guardduty:ListDetectors"]);
    let r = rg(&acct, &["events", "--since", "1d"]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("cannot read GuardDuty in eu-west-1")
            && r.stdout.contains("guardduty:ListDetectors"),
        "{}",
        r.stdout
    );
}

#[test]
fn on_an_80_column_terminal_every_event_fits_and_piped_output_stays_a_table() {
    let acct = emulator().seed(json!({
        "regions": ["us-east-1", "us-west-2"],
        "history": [
            {"corpus": "root-console-signin-success", "region": "us-east-1", "minutes_ago": 30},
            {"corpus": "assume-root-call", "region": "us-west-2", "minutes_ago": 20},
            {"corpus": "root-api-call", "region": "us-west-2", "minutes_ago": 10}
        ]
    }));
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty_sized(&acct, &["events", "--since", "1d"], dir.path(), (80, 24));
    let all = pty_rest(&mut p).replace('\r', "");
    assert_eq!(pty_exit(&mut p), 0, "{all}");
    let at = all.find("root activity in").expect("the report");
    // Each frame of the progress bar (drawn between cursor moves) fits too.
    let frames: Vec<&str> = all[..at]
        .split('\x1b')
        .map(|f| f.trim_start_matches(|c: char| c == '[' || c.is_ascii_digit()))
        .map(|f| f.get(1..).unwrap_or_default().trim_end())
        .filter(|f| textwrap::core::display_width(f) > 80)
        .collect();
    assert!(
        frames.is_empty(),
        "a progress frame wider than the terminal: {frames:?}"
    );
    let screen = &all[at..];
    let wide: Vec<&str> = screen
        .lines()
        .filter(|l| textwrap::core::display_width(l) > 80)
        .collect();
    assert!(wide.is_empty(), "lines wider than the terminal: {wide:?}");
    assert!(
        !screen.contains("TIME "),
        "no table at 80 columns: {screen}"
    );
    for name in [
        "ConsoleLogin (signin)",
        "AssumeRoot (sts)",
        "  who: sts:AssumeRoot by",
    ] {
        assert!(screen.contains(name), "{name}: {screen}");
    }
    // The AssumeRoot caller's long line continues under its label.
    let lines: Vec<&str> = screen.lines().collect();
    let who = lines
        .iter()
        .position(|l| l.starts_with("  who: sts:AssumeRoot by"))
        .unwrap();
    assert!(lines[who + 1].starts_with("       "), "{screen}");

    let piped = rg(&acct, &["events", "--since", "1d"]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert!(
        piped.stdout.lines().nth(1).unwrap().starts_with("TIME "),
        "{}",
        piped.stdout
    );
}

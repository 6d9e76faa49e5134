//! `rootguard setup` driven through a real pseudo-terminal on a neglected
//! account, signed in as root: every fix the API allows is offered, confirmed
//! and applied, and a fresh verify shows those checks passing.

mod common;

use common::qr::decode_terminal_qr;
use common::*;
use expectrl::{Eof, Expect};
use serde_json::json;

#[test]
fn happy_path_on_a_neglected_account_fixes_everything_the_api_allows() {
    let mut scenario = fixture("neglected");
    scenario["caller"] = json!("root");
    let acct = emulator().seed(scenario);
    let dir = tempfile::tempdir().unwrap();
    let mut p = wizard(&acct, dir.path());
    let mut screen = String::new();

    step(
        &mut p,
        &mut screen,
        "WARNING: you are signed in as the ROOT USER",
    );
    step(&mut p, &mut screen, "[1/");
    step(&mut p, &mut screen, "CRITICAL root-mfa");
    step(&mut p, &mut screen, "Assign MFA device");
    step(
        &mut p,
        &mut screen,
        "Wait here until AWS reports root MFA enabled?",
    );
    p.send_line("y").unwrap();
    step(&mut p, &mut screen, "not yet: AWS does not report root MFA");

    step(&mut p, &mut screen, "CRITICAL root-access-keys");
    for _ in 0..2 {
        step(&mut p, &mut screen, "Type the account id");
        p.send_line("111111111111").unwrap();
        step(&mut p, &mut screen, "type the 12-digit account id exactly");
        p.send("\x15").unwrap(); // clear the line, then type it right
        p.send_line(&acct.id).unwrap();
        step(&mut p, &mut screen, "done    deactivated and deleted");
    }

    step(&mut p, &mut screen, "HIGH iam-user-mfa");
    step(
        &mut p,
        &mut screen,
        "Enroll a virtual MFA device for which users?",
    );
    p.send(" ").unwrap();
    p.send("\r").unwrap();
    let shown = step(&mut p, &mut screen, "Can't scan it?");
    let uri = decode_terminal_qr(&shown).expect("a QR code on screen");
    let seed = device_seed(&acct);
    assert!(uri.contains(&format!("secret={seed}&")));
    p.send_line("n").unwrap();
    step(&mut p, &mut screen, "First 6-digit code");
    let t = rootguard::term::unix_now();
    p.send_line(totp_code(&seed, t)).unwrap();
    step(&mut p, &mut screen, "Next 6-digit code");
    p.send_line(totp_code(&seed, t + 30)).unwrap();
    step(&mut p, &mut screen, "MFA enabled for alice");

    step(&mut p, &mut screen, "HIGH cloudtrail");
    step(
        &mut p,
        &mut screen,
        "Email address(es) to notify of root activity",
    );
    p.send_line("security@corp.example").unwrap();
    step(
        &mut p,
        &mut screen,
        "Create an S3 bucket, a log group, the CloudTrail role and a multi-region trail?",
    );
    p.send_line("y").unwrap();
    step(
        &mut p,
        &mut screen,
        "30 to create, 0 to update, 0 unchanged",
    );
    step(&mut p, &mut screen, "Apply this plan?");
    p.send_line("y").unwrap();
    step(&mut p, &mut screen, "ACTION NEEDED");
    // The drill waits, with a countdown, until someone confirms the email.
    step(&mut p, &mut screen, "Confirm subscription");
    step(&mut p, &mut screen, "waiting for a confirmed subscription");
    emulator().confirm(&acct, "security@corp.example");
    p.send("\r").unwrap(); // check now
    step(&mut p, &mut screen, "a subscription is confirmed");
    step(&mut p, &mut screen, "Run the fire drill now");
    p.send_line("y").unwrap();
    step(&mut p, &mut screen, "1 confirmed subscriber(s)");

    step(&mut p, &mut screen, "MEDIUM security-contact");
    step(&mut p, &mut screen, "Security contact name");
    p.send_line("Security Team").unwrap();
    step(&mut p, &mut screen, "Title");
    p.send_line("CISO").unwrap();
    step(&mut p, &mut screen, "Email");
    p.send_line("not-an-email").unwrap();
    step(&mut p, &mut screen, "is not an email address");
    p.send("\x15").unwrap();
    p.send_line("security@corp.example").unwrap();
    step(&mut p, &mut screen, "Phone");
    p.send_line("+1 555 0100").unwrap();
    step(&mut p, &mut screen, "Set the SECURITY contact to");
    p.send_line("y").unwrap();
    step(&mut p, &mut screen, "Apply the CIS password policy?");
    p.send_line("y").unwrap();
    step(&mut p, &mut screen, "LOW contact-info");
    for (prompt, answer) in [
        ("Full name (or company) on the account", "Example Corp"),
        ("Address", "1 Main Street"),
        ("City", "Springfield"),
        ("Postal code", "12345"),
        ("Country code", "us"),
        ("Phone", "+1 555 0100"),
    ] {
        step(&mut p, &mut screen, prompt);
        p.send_line(answer).unwrap();
    }
    step(
        &mut p,
        &mut screen,
        "Set the account contact to Example Corp",
    );
    p.send_line("y").unwrap();
    step(&mut p, &mut screen, "What remains");
    let tail = String::from_utf8_lossy(p.expect(Eof).unwrap().as_bytes()).into_owned();
    screen += &tail;
    assert_eq!(
        pty_exit(&mut p),
        1,
        "root MFA is still missing, so the final verify fails"
    );
    assert!(!screen.contains(&seed), "the seed was printed");

    let (_, doc) = verify_json(&acct, &[]);
    for id in [
        "root-access-keys",
        "iam-user-mfa",
        "cloudtrail",
        "root-alarm",
        "security-contact",
        "password-policy",
        "contact-info",
    ] {
        assert_eq!(
            finding(&doc, id)["status"],
            "pass",
            "{id}: {:#}",
            finding(&doc, id)
        );
    }
    assert_eq!(
        finding(&doc, "root-mfa")["status"],
        "fail",
        "only the console can fix root MFA"
    );
    let allowed = rootguard::domain::policy::actions(&rootguard::domain::policy::setup_policy());
    for a in emulator().stats(&acct)["by_action"]
        .as_object()
        .unwrap()
        .keys()
    {
        assert!(
            allowed.contains(a),
            "setup called {a}, which `policy setup` does not allow"
        );
    }
    let notes = emulator().resources(&acct)["topics"][0]["notifications"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(notes, 1, "the fire drill published to the topic");
}

#[test]
fn setup_without_a_terminal_exits_2_and_points_to_deploy_and_verify() {
    let acct = emulator().seed(fixture("neglected"));
    let mut cmd = rootguard_as(&acct);
    cmd.arg("setup");
    let r = run(cmd);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("setup needs a terminal"), "{}", r.stderr);
    assert!(r.stderr.contains("rootguard deploy") && r.stderr.contains("rootguard verify"));
    assert!(
        emulator().stats(&acct)["by_action"]
            .as_object()
            .unwrap()
            .is_empty(),
        "no AWS call"
    );
}

/// An item's one-key prompt.
const ITEM_PROMPT: &str = r"Press Enter [a-z ]+, or s to skip it:";

/// Waits for `needle`, taking on (Enter) every item offered on the way;
/// returns what was shown before it.
fn step(p: &mut Pty, screen: &mut String, needle: &str) -> String {
    let mut shown = String::new();
    // Anchored and lazy: one match, the first prompt or needle shown (expectrl
    // consumes up to the last match in its buffer).
    let re = format!("(?s)^.*?({ITEM_PROMPT}|{})", regex::escape(needle));
    loop {
        let c = p
            .expect(expectrl::Regex(re.as_str()))
            .unwrap_or_else(|e| panic!("waiting for {needle:?}: {e}\n{screen}"));
        let all = String::from_utf8_lossy(c.get(0).unwrap()).into_owned();
        let hit = String::from_utf8_lossy(c.get(1).unwrap()).into_owned();
        let before = &all[..all.len() - hit.len()];
        screen.push_str(&all);
        shown.push_str(before);
        if hit.contains(needle) {
            return shown;
        }
        p.send("\r").unwrap();
    }
}

fn wizard(acct: &Account, dir: &std::path::Path) -> Pty {
    spawn_pty(acct, &["setup", "--mfa-wait", "1s"], dir)
}

#[test]
fn a_hardened_account_has_nothing_to_fix() {
    let acct = emulator().seed(fixture("hardened"));
    let dir = tempfile::tempdir().unwrap();
    let mut p = wizard(&acct, dir.path());
    p.expect("Nothing to fix: every check passes or does not apply.")
        .unwrap();
    p.expect("All done: nothing remains.").unwrap();
    p.expect(Eof).unwrap();
    assert_eq!(pty_exit(&mut p), 0);
    let writes = writes(&acct);
    assert!(
        writes.is_empty(),
        "nothing to fix means nothing changed: {writes:?}"
    );
}

#[test]
fn not_signed_in_as_root_it_guides_instead_of_deleting_keys() {
    let acct = emulator().seed(fixture("neglected"));
    let dir = tempfile::tempdir().unwrap();
    let mut p = wizard(&acct, dir.path());
    let mut screen = String::new();
    step(
        &mut p,
        &mut screen,
        "Wait here until AWS reports root MFA enabled?",
    );
    p.send_line("n").unwrap();
    step(&mut p, &mut screen, "CRITICAL root-access-keys");
    let guide = step(&mut p, &mut screen, "Press Enter once you have read this");
    assert!(
        guide.contains("aws sts assume-root --target-principal"),
        "{guide}"
    );
    p.send("\r").unwrap();
    // Ctrl-C at the next prompt stops the wizard cleanly.
    step(
        &mut p,
        &mut screen,
        "Enroll a virtual MFA device for which users?",
    );
    let rest = String::from_utf8_lossy(interrupt(&mut p).as_bytes()).into_owned();
    assert!(rest.contains("stopped at your request"), "{rest}");
    assert_eq!(pty_exit(&mut p), 130);
    let by = &emulator().stats(&acct)["by_action"];
    assert!(
        by.get("iam:DeleteAccessKey").is_none() && by.get("iam:CreateVirtualMFADevice").is_none(),
        "{by}"
    );
}

#[test]
fn in_a_management_account_the_wizard_offers_org_harden() {
    let mut mgmt = fixture("hardened");
    mgmt.as_object_mut().unwrap().remove("organization");
    let org = emulator().seed_org(json!({
        "management": mgmt,
        "features": [],
        "trusted_access": ["iam.amazonaws.com", "account.amazonaws.com"],
        "members": [{"name": "legacy", "root": {"password_present": true}},
                    {"name": "clean", "root": {"password_present": false}}]
    }));
    let dir = tempfile::tempdir().unwrap();
    let mut p = wizard(&org.management, dir.path());
    let mut screen = String::new();
    step(&mut p, &mut screen, "org-root-management");
    step(&mut p, &mut screen, "enable RootCredentialsManagement");
    p.expect("Type the organization id").unwrap();
    p.send_line(&org.id).unwrap();
    p.expect("member(s) done, 0 failed").unwrap();
    // How to give a member its root back, when it needs it.
    p.expect("org root recover --account ID").unwrap();
    p.expect(Eof).unwrap();
    assert_eq!(pty_exit(&mut p), 0);
    let st = emulator().root_state(&org.members[0]);
    assert_eq!(st["password_present"], false, "{st:#}");
    assert_eq!(
        st["features"],
        json!(["RootCredentialsManagement", "RootSessions"])
    );
}

#[test]
fn every_item_can_be_skipped_with_one_key_and_the_summary_lists_them() {
    let mut scenario = fixture("neglected");
    scenario["caller"] = json!("root");
    let acct = emulator().seed(scenario);
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty_sized(&acct, &["setup", "--mfa-wait", "1s"], dir.path(), (80, 24));
    let mut items = Vec::new();
    let header = r"(?s)^.*?\[\d+/(\d+)\] [A-Z]+ ([a-z-]+):";
    let total: usize = loop {
        let c = p.expect(expectrl::Regex(header)).unwrap();
        items.push(String::from_utf8_lossy(c.get(2).unwrap()).into_owned());
        let total = String::from_utf8_lossy(c.get(1).unwrap()).parse().unwrap();
        p.expect(expectrl::Regex(format!("(?s)^.*?{ITEM_PROMPT}")))
            .unwrap();
        p.send("s").unwrap();
        if items.len() == total {
            break total;
        }
    };
    assert!(total >= 6, "a neglected account has many items: {items:?}");
    let rest = pty_rest(&mut p);
    // One closing summary: each item once, marked as skipped.
    // Everything that remains was skipped (the alarm chain's one item stands
    // for its three checks).
    let counts = regex::Regex::new(r"What remains \((\d+); (\d+) skipped\)")
        .unwrap()
        .captures(&rest)
        .unwrap_or_else(|| panic!("{rest}"));
    assert_eq!(&counts[1], &counts[2], "{rest}");
    assert!(counts[2].parse::<usize>().unwrap() >= total, "{rest}");
    for id in &items {
        let lines: Vec<&str> = rest
            .lines()
            .filter(|l| l.contains(&format!(" {id} (skipped): ")))
            .collect();
        assert_eq!(lines.len(), 1, "{id} once in the summary, marked: {rest}");
    }
    // At 80 columns every line fits: prose is wrapped, never cut mid-word.
    let summary = &rest[rest.find("Summary:").expect("the summary")..];
    assert!(
        summary
            .lines()
            .all(|l| textwrap::core::display_width(l.trim_end_matches('\r')) <= 80),
        "{summary}"
    );
    assert!(!rest.contains("Skipped ("), "no second list: {rest}");
    assert_eq!(pty_exit(&mut p), 1);
    assert!(
        writes(&acct).is_empty(),
        "skipping changes nothing: {:?}",
        writes(&acct)
    );
}

#[test]
fn the_mfa_wait_counts_down_checks_now_on_enter_and_skips_on_s() {
    // Enter checks at once: root MFA assigned in the console is seen.
    let acct = emulator().seed(fixture("neglected"));
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty(&acct, &["setup", "--mfa-wait", "5m"], dir.path());
    let mut screen = String::new();
    step(
        &mut p,
        &mut screen,
        "Wait here until AWS reports root MFA enabled?",
    );
    p.send_line("y").unwrap();
    step(&mut p, &mut screen, "waiting for root MFA: ");
    let c = p
        .expect(expectrl::Regex(
            r"[45]:\d\d left · s skips, Enter checks now",
        ))
        .unwrap();
    assert!(!c.is_empty(), "a countdown from the 5-minute limit");
    emulator().set_root(&acct, json!({"mfa_enabled": true}));
    p.send("\r").unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_millis(1500)));
    p.expect("done    AWS reports root MFA enabled").unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
    step(&mut p, &mut screen, "CRITICAL root-access-keys");
    interrupt(&mut p);

    // s leaves the wait and the wizard goes on to the next item.
    let acct = emulator().seed(fixture("neglected"));
    let mut p = spawn_pty(&acct, &["setup", "--mfa-wait", "5m"], dir.path());
    let mut screen = String::new();
    step(
        &mut p,
        &mut screen,
        "Wait here until AWS reports root MFA enabled?",
    );
    p.send_line("y").unwrap();
    step(&mut p, &mut screen, "s skips, Enter checks now");
    p.send("s").unwrap();
    step(&mut p, &mut screen, "skipped the wait");
    step(&mut p, &mut screen, "CRITICAL root-access-keys");
    let rest = String::from_utf8_lossy(interrupt(&mut p).as_bytes()).into_owned();
    assert!(rest.contains("stopped at your request"), "{rest}");
    assert_eq!(pty_exit(&mut p), 130);
}

#[test]
fn wrong_mfa_codes_fail_that_enrollment_and_the_wizard_goes_on() {
    let mut scenario = fixture("neglected");
    scenario["caller"] = json!("root");
    let acct = emulator().seed(scenario);
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty_sized(&acct, &["setup", "--mfa-wait", "1s"], dir.path(), (80, 24));
    let header = r"(?s)^.*?\[\d+/(\d+)\] [A-Z]+ ([a-z-]+):";
    let mut after = Vec::new();
    let mut enrolled = false;
    loop {
        let c = p.expect(expectrl::Regex(header)).unwrap();
        let id = String::from_utf8_lossy(c.get(2).unwrap()).into_owned();
        let total: usize = String::from_utf8_lossy(c.get(1).unwrap()).parse().unwrap();
        p.expect(expectrl::Regex(format!("(?s)^.*?{ITEM_PROMPT}")))
            .unwrap();
        if id == "iam-user-mfa" {
            p.send("\r").unwrap();
            p.expect("Enroll a virtual MFA device for which users?")
                .unwrap();
            p.send(" ").unwrap();
            p.send("\r").unwrap();
            p.expect("Can't scan it?").unwrap();
            p.send_line("n").unwrap();
            for _ in 0..3 {
                p.expect("First 6-digit code").unwrap();
                p.send_line("123456").unwrap();
                p.expect("Next 6-digit code").unwrap();
                p.send_line("654321").unwrap();
            }
            p.expect("did not match 3 times").unwrap();
            enrolled = true;
        } else {
            if enrolled {
                after.push(id);
            }
            p.send("s").unwrap();
        }
        if after.len() + 1 >= total || (enrolled && after.len() >= 2) {
            break;
        }
    }
    assert!(enrolled, "the wizard offered iam-user-mfa");
    assert!(
        !after.is_empty(),
        "the wizard went on after the failed enrollment"
    );
    // Skip whatever is left; the run ends with its summary, not as a Ctrl-C.
    let either = format!(r"(?s)^.*?({ITEM_PROMPT}|What remains \(\d+)");
    loop {
        let c = p.expect(expectrl::Regex(either.as_str())).unwrap();
        if String::from_utf8_lossy(c.get(1).unwrap()).starts_with("What remains") {
            break;
        }
        p.send("s").unwrap();
    }
    let code = pty_exit(&mut p);
    assert_ne!(code, 130, "wrong codes are not a Ctrl-C");
    assert_eq!(code, 1);
    assert_eq!(
        emulator().mfa_devices(&acct),
        Vec::<serde_json::Value>::new(),
        "nothing orphaned"
    );
}

#[test]
fn the_fire_drill_waits_for_a_confirmed_subscription_and_s_skips_it() {
    let mut scenario = trail_only();
    scenario["caller"] = json!("root");
    let acct = emulator().seed(scenario);
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty_sized(
        &acct,
        &["setup", "--mfa-wait", "1s", "--confirm-wait", "5m"],
        dir.path(),
        (100, 30),
    );
    let header = r"(?s)^.*?\[\d+/(\d+)\] [A-Z]+ ([a-z-]+):";
    let either = format!(r"(?s)^.*?({ITEM_PROMPT}|What remains|All done)");
    let mut deployed = false;
    loop {
        let c = p.expect(expectrl::Regex(either.as_str())).unwrap();
        let hit = String::from_utf8_lossy(c.get(1).unwrap()).into_owned();
        if hit.starts_with("What remains") || hit.starts_with("All done") {
            break;
        }
        let before = String::from_utf8_lossy(c.get(0).unwrap()).into_owned();
        let is_chain = regex::Regex::new(header)
            .unwrap()
            .captures(&before)
            .is_some_and(|m| matches!(&m[2], "root-alarm" | "cloudtrail"));
        if is_chain && !deployed {
            p.send("\r").unwrap();
            p.expect("Email address(es) to notify").unwrap();
            p.send_line("security@corp.example").unwrap();
            p.expect("Apply this plan?").unwrap();
            p.send_line("y").unwrap();
            p.expect("waiting for a confirmed subscription").unwrap();
            p.send("s").unwrap();
            p.expect("skipped the fire drill").unwrap();
            deployed = true;
        } else {
            p.send("s").unwrap();
        }
    }
    assert!(deployed, "the wizard offered the alarm chain");
    let _ = pty_rest(&mut p);
    let notes = emulator().resources(&acct)["topics"][0]["notifications"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(notes, 0, "no drill before anyone confirmed");
}

/// The wizard in a real pseudo-terminal of `size`, run by bash, which after
/// it exits reads one line of whatever input is left for the shell and prints
/// `EXIT=<code> LEFT=[<line>]`.
fn wizard_then_shell(
    acct: &Account,
    args: &[&str],
    dir: &std::path::Path,
    size: (u16, u16),
) -> Pty {
    let inner = rootguard_as(acct);
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(r#""$0" "$@"; code=$?; IFS= read -r -t 2 left; printf 'EXIT=%s LEFT=[%s]\n' "$code" "$left""#)
        .arg(inner.get_program())
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("TERM", "xterm-256color");
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut p = expectrl::Session::spawn(cmd).expect("spawn bash in a pty");
    p.get_process_mut().set_window_size(size.0, size.1).unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
    p
}

/// Answers each `(prompt, answer)` in turn, then waits for `then` (a regex).
fn answer_each(p: &mut Pty, raw: &mut Vec<u8>, answers: &[(&str, &str)], then: &str) {
    for (prompt, answer) in answers {
        upto(p, raw, &regex::escape(prompt));
        p.send_line(answer).unwrap();
    }
    upto(p, raw, then);
}

/// Every line drawn fits `cols`: the output split at line feeds and carriage
/// returns, escape sequences taken out, is never wider.
fn wider_than(raw: &[u8], cols: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let csi =
        regex::Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]").unwrap();
    let plain = csi.replace_all(&text, "");
    plain
        .split(['\n', '\r'])
        .filter(|l| textwrap::core::display_width(l) > cols)
        .map(str::to_string)
        .collect()
}

#[test]
fn answers_are_whole_lines_and_keys_typed_ahead_answer_nothing() {
    let mut scenario = fixture("neglected");
    scenario["caller"] = json!("root");
    let acct = emulator().seed(scenario);
    let dir = tempfile::tempdir().unwrap();
    let mut p = wizard_then_shell(&acct, &["setup", "--mfa-wait", "2s"], dir.path(), (80, 24));
    let mut raw = Vec::new();
    let header = regex::Regex::new(r"\[\d+/\d+\] [A-Z]+ ([a-z-]+):").unwrap();
    let either = format!("{ITEM_PROMPT}|What remains");
    let mut seen = Vec::new();
    let mut typed_ahead = false;
    loop {
        let (shown, hit) = upto(&mut p, &mut raw, &either);
        if hit.starts_with("What remains") {
            break;
        }
        let id = header
            .captures_iter(&shown)
            .last()
            .map(|m| m[1].to_string())
            .unwrap_or_else(|| panic!("an item prompt without its header: {shown}"));
        if typed_ahead {
            // The `s` typed with the last answer, before this prompt was
            // drawn, must not have skipped this item.
            p.set_expect_timeout(Some(std::time::Duration::from_millis(1500)));
            let leaked = p.expect(format!("skipped {id}"));
            p.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
            assert!(
                leaked.is_err(),
                "a key typed before the prompt skipped {id}"
            );
            typed_ahead = false;
        }
        assert!(
            !seen.contains(&"contact-info".to_string()),
            "contact-info is the last item: {id} came after it"
        );
        seen.push(id.clone());
        match id.as_str() {
            "root-mfa" => {
                p.send("\r").unwrap();
                upto(
                    &mut p,
                    &mut raw,
                    r"Wait here until AWS reports root MFA enabled\? \[Y/n\]",
                );
                // `yes` is one answer: the `s` in it does not skip the wait.
                p.send_line("yes").unwrap();
                let (_, end) = upto(
                    &mut p,
                    &mut raw,
                    "not yet: AWS does not report root MFA|skipped the wait",
                );
                assert!(
                    end.starts_with("not yet"),
                    "yes⏎ skipped the wait it asked for"
                );
            }
            "iam-user-mfa" => {
                p.send("\r").unwrap();
                upto(
                    &mut p,
                    &mut raw,
                    "Enroll a virtual MFA device for which users",
                );
                p.send("\r").unwrap(); // nothing ticked
                upto(&mut p, &mut raw, r"no users picked \(Space ticks a user");
            }
            "security-contact" => {
                p.send("\r").unwrap();
                answer_each(
                    &mut p,
                    &mut raw,
                    &[
                        ("Security contact name", "Security Team"),
                        ("Title", "CISO"),
                        ("Email", "security@corp.example"),
                        ("Phone", "+1 555 0100"),
                    ],
                    r"Set the SECURITY contact to(?s:.*?)\[Y/n\]",
                );
                // The answer and, typed ahead, a key for whatever comes next.
                p.send("y\rs").unwrap();
                upto(&mut p, &mut raw, "done    security contact set");
                typed_ahead = true;
            }
            "password-policy" => {
                p.send("\r").unwrap();
                upto(&mut p, &mut raw, r"Apply the CIS password policy\? \[Y/n\]");
                p.send_line("maybe").unwrap();
                upto(&mut p, &mut raw, "answer y or yes, n or no");
                upto(&mut p, &mut raw, r"Apply the CIS password policy\? \[Y/n\]");
                assert!(
                    !writes(&acct).contains(&"iam:UpdateAccountPasswordPolicy".to_string()),
                    "maybe⏎ applied the policy"
                );
                p.send_line("no").unwrap();
                upto(&mut p, &mut raw, "skipped password-policy");
            }
            "contact-info" => {
                p.send("\r").unwrap();
                answer_each(
                    &mut p,
                    &mut raw,
                    &[
                        ("Full name (or company) on the account", "Example Corp"),
                        ("Address", "1 Main Street"),
                        ("City", "Springfield"),
                        ("Postal code", "12345"),
                        ("Country code", "us"),
                        ("Phone", "+1 555 0100"),
                    ],
                    r"Set the account contact to(?s:.*?)\[Y/n\]",
                );
                // The last answer, and keys nobody asked for: they must not
                // reach the shell after the wizard.
                p.send("y\rjunk\r").unwrap();
                upto(&mut p, &mut raw, "done    contact information set");
            }
            _ => p.send("s").unwrap(),
        }
    }
    let (_, _) = upto(&mut p, &mut raw, r"EXIT=\d+ LEFT=\[[^\]]*\]");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let end = regex::Regex::new(r"EXIT=(\d+) LEFT=\[([^\]]*)\]").unwrap();
    let m = end.captures(&text).unwrap();
    assert_eq!(&m[2], "", "typed keys reached the shell");
    assert_eq!(&m[1], "1", "root MFA still fails");
    for id in [
        "root-mfa",
        "iam-user-mfa",
        "security-contact",
        "password-policy",
        "contact-info",
    ] {
        assert!(seen.contains(&id.to_string()), "{id} offered: {seen:?}");
    }
    // The summary: what was fixed, what was skipped, marked.
    assert!(text.contains("iam-user-mfa (skipped)"), "{text}");
    assert!(text.contains("password-policy (skipped)"), "{text}");
    let fixed = text
        .lines()
        .find(|l| l.starts_with("Fixed in this run"))
        .unwrap_or_else(|| panic!("no fixed line: {text}"));
    assert!(
        fixed.contains("security-contact") && fixed.contains("contact-info"),
        "{fixed}"
    );
    assert!(
        !fixed.contains("password-policy") && !fixed.contains("root-mfa"),
        "{fixed}"
    );
    // What a person saw: no ghost of an answered prompt, every line fits.
    let mut screen = Screen::new((80, 24));
    screen.feed(&raw);
    let seen_rows = screen.with_scrollback();
    for prompt in ["Set the SECURITY contact to", "Set the account contact to"] {
        assert_eq!(
            seen_rows.lines().filter(|l| l.starts_with(prompt)).count(),
            1,
            "a ghost of {prompt:?}:\n{seen_rows}"
        );
    }
    let wide = wider_than(&raw, 80);
    assert!(wide.is_empty(), "lines wider than 80 columns: {wide:#?}");
    assert_eq!(
        finding(&verify_json(&acct, &[]).1, "password-policy")["status"],
        "fail",
        "no policy was applied"
    );
}

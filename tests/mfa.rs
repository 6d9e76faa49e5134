//! `rootguard mfa enroll` driven through a real pseudo-terminal: the QR code
//! on screen is decoded and compared with the emulator's seed, codes are typed,
//! Ctrl-C is pressed, and the secret is looked for where it must not be.

mod common;

use common::qr::decode_terminal_qr;
use common::*;
use expectrl::{Eof, Expect};
use serde_json::{json, Value};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn alice_account() -> Account {
    emulator().seed(json!({"users": [{"name": "alice", "console_password": true}]}))
}

/// Reads the screen up to the secret prompt: (everything shown, the seed the
/// emulator holds for the new device).
fn read_qr(p: &mut Pty, acct: &Account) -> (String, String) {
    let shown = text(p.expect("Can't scan it?").unwrap().before());
    let devices = emulator().mfa_devices(acct);
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(devices[0]["enabled"], false);
    (shown, devices[0]["seed"].as_str().unwrap().to_string())
}

#[test]
fn qr_code_on_screen_carries_the_devices_seed_and_two_good_codes_enable_it() {
    let acct = alice_account();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty(&acct, &["mfa", "enroll", "--user", "alice"], dir.path());
    let (shown, seed) = read_qr(&mut p, &acct);
    let uri =
        decode_terminal_qr(&shown).unwrap_or_else(|| panic!("no QR code decoded from:\n{shown}"));
    assert!(
        uri.starts_with(&format!("otpauth://totp/AWS:alice@{}?", acct.id)),
        "{uri}"
    );
    assert!(
        uri.contains(&format!("secret={seed}&")),
        "the QR secret is the device's Base32StringSeed"
    );
    assert!(
        !shown.contains(&seed),
        "the secret itself is not printed unless asked"
    );

    p.send_line("n").unwrap();
    p.expect("First 6-digit code").unwrap();
    let t = rootguard::term::unix_now();
    p.send_line(totp_code(&seed, t)).unwrap();
    p.expect("Next 6-digit code").unwrap();
    p.send_line(totp_code(&seed, t + 30)).unwrap();
    let rest = pty_rest(&mut p);
    assert!(rest.contains("MFA enabled for alice"), "{rest}");
    assert_eq!(pty_exit(&mut p), 0);
    let devices = emulator().mfa_devices(&acct);
    assert_eq!(devices[0]["enabled"], true);
    assert_eq!(
        devices[0]["user_arn"],
        format!("arn:aws:iam::{}:user/alice", acct.id)
    );

    let (_, doc) = verify_json(&acct, &["--check", "iam-user-mfa"]);
    assert_eq!(finding(&doc, "iam-user-mfa")["status"], "pass");
}

#[test]
fn wrong_codes_are_rejected_locally_without_an_api_call() {
    let acct = alice_account();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty(&acct, &["mfa", "enroll", "--user", "alice"], dir.path());
    let (_, seed) = read_qr(&mut p, &acct);
    p.send_line("n").unwrap();
    p.expect("First 6-digit code").unwrap();
    p.send_line("12345").unwrap();
    p.expect("enter the 6 digits your authenticator app shows")
        .unwrap();
    p.send_line("123456").unwrap();
    p.expect("Next 6-digit code").unwrap();
    p.send_line("654321").unwrap();
    p.expect("do not match this device (attempt 1 of 3)")
        .unwrap();
    let by = &emulator().stats(&acct)["by_action"];
    assert!(
        by.get("iam:EnableMFADevice").is_none(),
        "a typo never reaches AWS: {by}"
    );

    p.expect("First 6-digit code").unwrap();
    let t = rootguard::term::unix_now();
    p.send_line(totp_code(&seed, t)).unwrap();
    p.expect("Next 6-digit code").unwrap();
    p.send_line(totp_code(&seed, t + 30)).unwrap();
    p.expect(Eof).unwrap();
    assert_eq!(pty_exit(&mut p), 0);
    assert_eq!(
        emulator().stats(&acct)["by_action"]["iam:EnableMFADevice"],
        1
    );
}

#[test]
fn ctrl_c_during_enrollment_leaves_no_unassigned_device() {
    for stage in ["secret prompt", "code prompt"] {
        let acct = alice_account();
        let dir = tempfile::tempdir().unwrap();
        let mut p = spawn_pty(&acct, &["mfa", "enroll", "--user", "alice"], dir.path());
        read_qr(&mut p, &acct);
        if stage == "code prompt" {
            p.send_line("n").unwrap();
            p.expect("First 6-digit code").unwrap();
            p.send("12").unwrap();
        }
        let rest = String::from_utf8_lossy(interrupt(&mut p).as_bytes()).into_owned();
        assert!(
            rest.contains("the unassigned MFA device was deleted"),
            "{stage}: {rest}"
        );
        assert_eq!(pty_exit(&mut p), 130, "{stage}");
        assert_eq!(
            emulator().mfa_devices(&acct),
            Vec::<Value>::new(),
            "{stage}: nothing orphaned"
        );
    }
}

#[test]
fn the_seed_never_reaches_logs_or_files_even_at_trace_level() {
    let acct = alice_account();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty(
        &acct,
        &["-vvv", "mfa", "enroll", "--user", "alice"],
        dir.path(),
    );
    let (mut all, seed) = read_qr(&mut p, &acct);
    p.send_line("n").unwrap();
    all += &text(p.expect("First 6-digit code").unwrap().before());
    let t = rootguard::term::unix_now();
    p.send_line(totp_code(&seed, t)).unwrap();
    all += &text(p.expect("Next 6-digit code").unwrap().before());
    p.send_line(totp_code(&seed, t + 30)).unwrap();
    all += &pty_rest(&mut p);
    assert_eq!(pty_exit(&mut p), 0);
    assert!(
        all.contains("DEBUG") || all.contains("TRACE"),
        "-vvv logs were on"
    );
    assert!(!all.contains(&seed), "the seed appeared in the output");
    assert!(
        !all.contains(&seed[..16]),
        "part of the seed appeared in the output"
    );
    for entry in walk(dir.path()) {
        let content = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&content).contains(&seed),
            "the seed was written to {entry:?}"
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_secret_is_shown_only_on_request() {
    let acct = alice_account();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty(&acct, &["mfa", "enroll", "--user", "alice"], dir.path());
    let (shown, seed) = read_qr(&mut p, &acct);
    assert!(
        shown.contains(&format!("secret key: {}", &seed[..4])),
        "a masked hint"
    );
    p.send_line("y").unwrap();
    let after = text(p.expect("First 6-digit code").unwrap().before());
    assert!(after.contains(&format!("secret key: {seed}")), "{after}");
    interrupt(&mut p);
}

#[test]
fn unknown_user_is_a_clear_error_before_anything_is_created() {
    let acct = alice_account();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty(&acct, &["mfa", "enroll", "--user", "ghost"], dir.path());
    let out = pty_rest(&mut p);
    assert!(out.contains("iam user \"ghost\" does not exist"), "{out}");
    assert_eq!(pty_exit(&mut p), 2);
    let by = &emulator().stats(&acct)["by_action"];
    assert!(by.get("iam:CreateVirtualMFADevice").is_none(), "{by}");
}

#[test]
fn without_a_terminal_it_exits_2_and_points_to_deploy_and_verify() {
    let acct = alice_account();
    let mut cmd = rootguard_as(&acct);
    cmd.args(["mfa", "enroll", "--user", "alice"]);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("needs a terminal")
            && r.stderr.contains("rootguard deploy")
            && r.stderr.contains("rootguard verify"),
        "{}",
        r.stderr
    );
    assert!(
        emulator().stats(&acct)["by_action"]
            .as_object()
            .unwrap()
            .is_empty(),
        "no AWS call"
    );
}

/// Feeds what an expect consumed to the screen; returns it as text.
fn seen(screen: &mut Screen, c: expectrl::Captures) -> String {
    screen.feed(c.as_bytes());
    text(c.as_bytes())
}

#[test]
fn at_80x24_the_whole_code_is_on_screen_at_once_and_gone_when_enrollment_ends() {
    let acct = alice_account();
    let dir = tempfile::tempdir().unwrap();
    let size = (80, 24);
    let mut p = spawn_pty_sized(
        &acct,
        &["mfa", "enroll", "--user", "alice"],
        dir.path(),
        size,
    );
    let mut screen = Screen::new(size);
    seen(&mut screen, p.expect("Can't scan it?").unwrap());
    let seed = device_seed(&acct);
    let uri = screen.qr().unwrap_or_else(|| {
        panic!(
            "no whole QR code on the 80x24 screen:\n{}",
            screen.visible()
        )
    });
    assert!(uri.contains(&format!("secret={seed}")), "{uri}");
    assert!(
        screen.visible().contains("secret key:"),
        "the heading is on screen too:\n{}",
        screen.visible()
    );

    // Reveal the secret, then enroll: afterwards neither the code nor the
    // secret is on the screen or in its scrollback.
    p.send_line("y").unwrap();
    seen(&mut screen, p.expect("First 6-digit code").unwrap());
    assert!(
        screen.visible().contains(&seed),
        "the secret was shown on request"
    );
    let t = rootguard::term::unix_now();
    p.send_line(totp_code(&seed, t)).unwrap();
    seen(&mut screen, p.expect("Next 6-digit code").unwrap());
    p.send_line(totp_code(&seed, t + 30)).unwrap();
    let rest = seen(&mut screen, p.expect(Eof).unwrap());
    assert_eq!(pty_exit(&mut p), 0, "{rest}");
    let all = screen.with_scrollback();
    assert!(all.contains("MFA enabled for alice"), "{all}");
    assert!(!all.contains(&seed), "the secret stayed on screen:\n{all}");
    assert!(
        !all.contains('▀') && !all.contains('▄') && screen.qr().is_none(),
        "the code stayed on screen:\n{all}"
    );
}

#[test]
fn ctrl_c_clears_the_code_from_the_screen() {
    let acct = alice_account();
    let dir = tempfile::tempdir().unwrap();
    let size = (80, 24);
    let mut p = spawn_pty_sized(
        &acct,
        &["mfa", "enroll", "--user", "alice"],
        dir.path(),
        size,
    );
    let mut screen = Screen::new(size);
    seen(&mut screen, p.expect("Can't scan it?").unwrap());
    assert!(screen.qr().is_some());
    seen(&mut screen, interrupt(&mut p));
    assert_eq!(pty_exit(&mut p), 130);
    let all = screen.with_scrollback();
    assert!(
        all.contains("the unassigned MFA device was deleted"),
        "{all}"
    );
    assert!(!all.contains('▀') && screen.qr().is_none(), "{all}");
}

#[test]
fn a_terminal_too_short_for_the_code_says_so_and_offers_the_secret() {
    let acct = alice_account();
    let dir = tempfile::tempdir().unwrap();
    let size = (80, 16);
    let mut p = spawn_pty_sized(
        &acct,
        &["mfa", "enroll", "--user", "alice"],
        dir.path(),
        size,
    );
    let mut screen = Screen::new(size);
    let shown = seen(
        &mut screen,
        p.expect("press s to type the secret key instead").unwrap(),
    );
    assert!(
        shown.contains("The terminal is 80x16; the QR code needs"),
        "{shown}"
    );
    assert!(!shown.contains('▀'), "no code scrolled off the top");
    p.send("s").unwrap();
    seen(&mut screen, p.expect("First 6-digit code").unwrap());
    let seed = device_seed(&acct);
    assert!(screen.visible().contains(&format!("secret key: {seed}")));
    seen(&mut screen, interrupt(&mut p));
    assert!(
        !screen.with_scrollback().contains(&seed),
        "cleared afterwards"
    );
    assert_eq!(emulator().mfa_devices(&acct), Vec::<Value>::new());
}

#[test]
fn three_wrong_code_pairs_fail_with_exit_1_not_as_an_interrupt() {
    let acct = alice_account();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_pty(&acct, &["mfa", "enroll", "--user", "alice"], dir.path());
    read_qr(&mut p, &acct);
    p.send_line("n").unwrap();
    for _ in 0..3 {
        p.expect("First 6-digit code").unwrap();
        p.send_line("123456").unwrap();
        p.expect("Next 6-digit code").unwrap();
        p.send_line("654321").unwrap();
    }
    p.expect("did not match 3 times").unwrap();
    p.expect(Eof).unwrap();
    assert_eq!(pty_exit(&mut p), 1);
    assert_eq!(emulator().mfa_devices(&acct), Vec::<Value>::new());
}

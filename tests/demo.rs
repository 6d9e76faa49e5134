//! The README's demo walk, taken as a person would, with this build's binary
//! and a state directory of its own: `scripts/demo setup` waits at root MFA,
//! `scripts/demo root-mfa` does what the console would, and the wizard ends
//! with root MFA fixed.

mod common;

use common::*;
use expectrl::Expect;

/// `scripts/demo ARGS` with this test's state and binary.
fn demo(state: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(manifest_dir().join("scripts/demo"));
    cmd.current_dir(manifest_dir())
        .env("ROOTGUARD_DEMO_STATE", state)
        .env("ROOTGUARD_BIN", env!("CARGO_BIN_EXE_rootguard"))
        .env("TERM", "xterm-256color")
        .env_remove("AWS_ENDPOINT_URL");
    cmd
}

/// Stops the demo's emulator however the test ends.
struct Stop<'a>(&'a std::path::Path);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        let _ = demo(self.0).arg("stop").output();
    }
}

#[test]
fn the_readme_demo_walk_ends_the_wizard_with_root_mfa_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("demo");
    let _stop = Stop(&state);
    let mut cmd = demo(&state);
    cmd.arg("setup");
    let mut p = expectrl::Session::spawn(cmd).expect("scripts/demo setup in a pty");
    p.get_process_mut().set_window_size(80, 24).unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(90)));
    let mut raw = Vec::new();
    let mut take = |p: &mut Pty, pattern: &str| upto(p, &mut raw, pattern).1;
    take(&mut p, "CRITICAL root-mfa");
    take(&mut p, "Press Enter to set it up now");
    p.send("\r").unwrap();
    take(
        &mut p,
        r"Wait here until AWS reports root MFA enabled\? \[Y/n\]",
    );
    p.send_line("y").unwrap();
    take(&mut p, "waiting for root MFA");
    // In a second terminal, the person assigns the device in the console.
    let mfa = demo(&state).arg("root-mfa").output().unwrap();
    assert!(
        mfa.status.success(),
        "{}",
        String::from_utf8_lossy(&mfa.stderr)
    );
    assert!(String::from_utf8_lossy(&mfa.stderr).contains("hardware MFA device"));
    p.send("\r").unwrap(); // check now
    take(&mut p, "done    AWS reports root MFA enabled");
    // Skip what is left; hardware MFA is read again and needs nothing.
    loop {
        let hit = take(
            &mut p,
            r"Press Enter [a-z ]+, or s to skip it:|What remains|All done",
        );
        if !hit.starts_with("Press") {
            break;
        }
        p.send("s").unwrap();
    }
    let rest = pty_rest(&mut p);
    let all = String::from_utf8_lossy(&raw).into_owned() + &rest;
    let words = all.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "root-hardware-mfa: Root user MFA is hardware or passkey, not virtual: passes now, \
             after the changes above; nothing to do"
        ),
        "root-hardware-mfa read again after root MFA was set: {all}"
    );
    let fixed = all
        .lines()
        .find(|l| l.starts_with("Fixed in this run"))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(fixed.contains("root-mfa"), "{fixed}");
    assert!(
        !fixed.contains("root-hardware-mfa"),
        "the wizard did not fix that: {fixed}"
    );
    let summary = &all[all.rfind("Summary:").expect("the summary")..];
    assert!(
        !summary.contains(" root-mfa:") && !summary.contains(" root-mfa (skipped)"),
        "root MFA no longer remains: {summary}"
    );
    // The sign-in that follows is an MFA sign-in, as the account now has it.
    let signin = demo(&state).arg("root-signin").output().unwrap();
    assert!(
        String::from_utf8_lossy(&signin.stderr).contains("signed in to the console with MFA"),
        "{}",
        String::from_utf8_lossy(&signin.stderr)
    );
}

//! Virtual MFA enrollment for IAM users: otpauth URI, terminal QR code, local
//! TOTP check of two consecutive codes, and the enroll flow with clean-up.
//!
//! This module owns the secret's lifetime: the seed lives only in `Zeroizing`
//! buffers, is never logged, never written to disk, and is shown only on a
//! terminal (the QR code, and the secret itself only on request). It talks to
//! AWS only through the adapter and to the person only through [`Prompter`].

use qrcode::{Color, EcLevel, QrCode};
use totp_rs::{Algorithm, Builder, Totp};
use zeroize::Zeroizing;

use crate::domain::facts::FactError;
use crate::term::prompt::{Key, PromptError, Prompter};

pub use crate::domain::ports::Seed;

/// `otpauth://totp/AWS:user@account?secret=…&issuer=AWS`. The parameters
/// whose values are the Key URI format's defaults (SHA1, 6 digits, 30 s, which
/// is what AWS uses) are left out, so the QR symbol stays small enough for an
/// 80×24 terminal; every common authenticator app reads the defaults.
pub fn otpauth_uri(user: &str, account_id: &str, seed: &str) -> Zeroizing<String> {
    let mut uri = otpauth_uri_short(user, account_id, seed);
    uri.push_str("&issuer=AWS");
    uri
}

/// [`otpauth_uri`] without the `issuer` parameter, for a name long enough that
/// the parameter costs a symbol size: the label's `AWS:` prefix names the
/// issuer, which is how the Key URI format reads a URI without the parameter.
pub fn otpauth_uri_short(user: &str, account_id: &str, seed: &str) -> Zeroizing<String> {
    let label = pct(&format!("AWS:{user}@{account_id}"));
    Zeroizing::new(format!("otpauth://totp/{label}?secret={seed}"))
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The quiet zone the QR specification asks for, and the narrower one most
/// phone scanners still read when a terminal is short.
pub const QUIET_ZONES: [usize; 2] = [4, 2];

/// A QR code drawn for a terminal.
pub struct QrDrawing {
    pub text: Zeroizing<String>,
    /// Terminal rows and columns it takes.
    pub rows: usize,
    pub cols: usize,
}

/// The QR code as unicode half blocks, black modules on a white background set
/// with ANSI colours, so it reads the same on dark and light themes, with a
/// quiet zone of `quiet` modules. The smallest symbol: error-correction level
/// L (a screen does not smudge) and the encoder's optimal segmentation (the
/// base32 secret goes in alphanumeric mode, the account id in numeric mode).
pub fn qr_drawing(data: &str, quiet: usize) -> QrDrawing {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::L)
        .expect("an otpauth URI fits a QR code");
    let width = code.width();
    let colors = code.to_colors();
    let full = width + 2 * quiet;
    let dark = |x: usize, y: usize| -> bool {
        if x < quiet || y < quiet || x >= width + quiet || y >= width + quiet {
            return false;
        }
        colors[(y - quiet) * width + (x - quiet)] == Color::Dark
    };
    let mut out = Zeroizing::new(String::new());
    let mut y = 0;
    while y < full {
        out.push_str("\x1b[30;47m");
        for x in 0..full {
            out.push(match (dark(x, y), y + 1 < full && dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push_str("\x1b[0m\n");
        y += 2;
    }
    QrDrawing {
        text: out,
        rows: full.div_ceil(2),
        cols: full,
    }
}

/// [`qr_drawing`] with the full quiet zone.
pub fn qr_text(data: &str) -> Zeroizing<String> {
    qr_drawing(data, QUIET_ZONES[0]).text
}

/// The first drawing that leaves `extra` rows free on a terminal of `size`
/// (rows, columns), trying the widest quiet zone first and, within it, the
/// URIs in the order given; an error when none fits, with the rows the
/// smallest would need. An unknown size is taken as large enough.
pub fn fit_qr(uris: &[&str], size: Option<(u16, u16)>, extra: usize) -> Result<QrDrawing, usize> {
    let mut needed = 0;
    for quiet in QUIET_ZONES {
        for uri in uris {
            let d = qr_drawing(uri, quiet);
            let Some((rows, cols)) = size else {
                return Ok(d);
            };
            needed = d.rows + extra;
            if needed <= rows as usize && d.cols <= cols as usize {
                return Ok(d);
            }
        }
    }
    Err(needed)
}

/// `ABCD…` for showing that a secret exists without revealing it.
pub fn masked(seed: &str) -> String {
    let head: String = seed.chars().take(4).collect();
    format!("{head}…")
}

/// Checks two consecutive codes against the seed, allowing the device's clock
/// to be one step off. Returns false for anything that does not verify.
pub fn codes_match(seed: &str, code1: &str, code2: &str, unix_time: u64) -> bool {
    let Some(bytes) = base32_decode(seed) else {
        return false;
    };
    let Ok(totp) = totp(&bytes) else {
        return false;
    };
    let step = unix_time / 30;
    (step.saturating_sub(3)..=step + 1).any(|s| {
        totp.generate(s * 30).to_string() == code1
            && totp.generate((s + 1) * 30).to_string() == code2
    })
}

/// RFC 6238 as AWS virtual MFA uses it: SHA-1, 6 digits, 30 s steps.
pub fn totp(secret: &[u8]) -> Result<Totp, totp_rs::TotpError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .build()
}

/// RFC 4648 base32 without padding, into a zeroized buffer.
pub fn base32_decode(s: &str) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(s.len() * 5 / 8));
    let (mut acc, mut bits) = (0u64, 0u32);
    for c in s.trim_end_matches('=').chars() {
        let v = match c {
            'A'..='Z' => c as u64 - 'A' as u64,
            'a'..='z' => c as u64 - 'a' as u64,
            '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A six-digit code, as typed.
pub fn valid_code(s: &str) -> Result<(), String> {
    if s.len() == 6 && s.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err("enter the 6 digits your authenticator app shows".into())
    }
}

pub use crate::domain::ports::MfaApi;

/// Why enrollment did not finish.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error("iam user {0:?} does not exist: check the name (case matters)")]
    NoSuchUser(String),
    #[error("{}", .0.describe())]
    Api(FactError),
    #[error("failed to enable the device for {user}: {}{}", .cause.describe(), .cleanup.as_ref().map(|c| format!("; also failed to delete {serial}: {}", c.describe())).unwrap_or_default())]
    Enable {
        user: String,
        serial: String,
        cause: FactError,
        cleanup: Option<FactError>,
    },
    #[error("enrollment stopped, and deleting the unassigned device {serial} failed: {}", .cause.describe())]
    Cleanup { serial: String, cause: FactError },
    #[error("{0}")]
    Prompt(PromptError),
}

#[derive(Debug, PartialEq, Eq)]
pub enum EnrollOutcome {
    Enabled {
        serial: String,
    },
    /// The person pressed Ctrl-C; the device was deleted.
    Cancelled,
    /// The codes did not match `CODE_TRIES` times; the device was deleted.
    CodesRejected,
}

/// How many times wrong codes are re-asked before giving up.
pub const CODE_TRIES: usize = 3;

/// Creates a device, shows its QR code, checks two codes locally, enables it.
/// On any failure or cancellation after creation, deletes the device.
pub async fn enroll(
    api: &impl MfaApi,
    prompt: &mut impl Prompter,
    user: &str,
    account_id: &str,
    now: impl Fn() -> u64,
) -> Result<EnrollOutcome, EnrollError> {
    if !api.user_exists(user).await.map_err(EnrollError::Api)? {
        return Err(EnrollError::NoSuchUser(user.to_string()));
    }
    let (serial, seed) = api.create_device(user).await.map_err(EnrollError::Api)?;
    let result = show_and_verify(prompt, user, account_id, &serial, &seed, now).await;
    match result {
        Ok(Some((c1, c2))) => match api.enable(user, &serial, &c1, &c2).await {
            Ok(()) => Ok(EnrollOutcome::Enabled { serial }),
            Err(cause) => {
                let cleanup = api.delete_device(&serial).await.err();
                Err(EnrollError::Enable {
                    user: user.to_string(),
                    serial,
                    cause,
                    cleanup,
                })
            }
        },
        Ok(None) | Err(_) => {
            if let Err(cause) = api.delete_device(&serial).await {
                return Err(EnrollError::Cleanup { serial, cause });
            }
            match result {
                Ok(_) => Ok(EnrollOutcome::CodesRejected),
                Err(PromptError::Interrupted) => Ok(EnrollOutcome::Cancelled),
                Err(e) => Err(EnrollError::Prompt(e)),
            }
        }
    }
}

/// Terminal rows a line of `text` takes on a screen `cols` wide.
fn rows_of(text: &str, cols: Option<u16>) -> usize {
    let cols = cols.map_or(usize::MAX, |c| c.max(1) as usize);
    text.chars().count().max(1).div_ceil(cols)
}

/// Shows the code on the private screen and reads two codes; the private
/// screen is left on every way out, so neither the code nor a revealed secret
/// stays on the terminal.
async fn show_and_verify(
    prompt: &mut impl Prompter,
    user: &str,
    account_id: &str,
    serial: &str,
    seed: &Seed,
    now: impl Fn() -> u64,
) -> Result<Option<(String, String)>, PromptError> {
    let result = on_private_screen(prompt, user, account_id, serial, seed, now);
    prompt.leave_private_screen();
    result
}

fn on_private_screen(
    prompt: &mut impl Prompter,
    user: &str,
    account_id: &str,
    serial: &str,
    seed: &Seed,
    now: impl Fn() -> u64,
) -> Result<Option<(String, String)>, PromptError> {
    let uri = otpauth_uri(user, account_id, seed);
    let short = otpauth_uri_short(user, account_id, seed);
    let heading = format!(
        "Scan with your authenticator app: {}, secret key: {} (hidden)",
        serial.rsplit(':').next().unwrap_or(serial),
        masked(seed)
    );
    let drawing = loop {
        // The heading above the code and the prompt line under it.
        let extra = rows_of(&heading, prompt.size().map(|s| s.1)) + 1;
        match fit_qr(&[&uri, &short], prompt.size(), extra) {
            Ok(d) => break Some(d),
            Err(needed) => {
                let (rows, cols) = prompt.size().unwrap_or_default();
                let k = prompt.key(
                    &format!(
                        "The terminal is {cols}x{rows}; the QR code needs {needed} rows. Make the window taller and press Enter, or press s to type the secret key instead."
                    ),
                    &[Key::Enter, Key::Char('s')],
                )?;
                if k == Key::Char('s') {
                    break None;
                }
            }
        }
    };
    prompt.enter_private_screen()?;
    match drawing {
        Some(d) => {
            prompt.secret_block(&Zeroizing::new(format!(
                "{heading}\n{}",
                d.text.trim_end_matches('\n')
            )))?;
            if prompt.confirm(
                "Can't scan it? Show the secret key to type in instead?",
                false,
            )? {
                prompt.secret_block(&Zeroizing::new(format!("secret key: {}", seed.as_str())))?;
            }
        }
        None => {
            prompt.secret_block(&Zeroizing::new(format!(
                "Type this secret key into your authenticator app (device {serial}, time-based):\nsecret key: {}",
                seed.as_str()
            )))?;
        }
    }
    for attempt in 1..=CODE_TRIES {
        let c1 = Zeroizing::new(prompt.input("First 6-digit code", &valid_code)?);
        let c2 =
            Zeroizing::new(prompt.input("Next 6-digit code (wait for it to change)", &valid_code)?);
        if codes_match(seed, &c1, &c2, now()) {
            return Ok(Some((c1.to_string(), c2.to_string())));
        }
        prompt.note(&format!(
            "those codes do not match this device (attempt {attempt} of {CODE_TRIES}): use two consecutive codes, and check the phone's clock"
        ))?;
    }
    Ok(None)
}

/// `rootguard mfa enroll --user NAME`: needs a terminal (the QR code is
/// shown only there); Ctrl-C deletes the unassigned device.
pub async fn run(opts: &crate::aws::ConnectOptions, user: &str) -> crate::app::Outcome {
    use crate::app::Stop;
    crate::term::require_terminal("mfa enroll")?;
    let (_, writer, caller) = crate::app::connect(opts).await?;
    crate::term::trap_ctrl_c();
    let api = writer.mfa();
    let mut term = crate::term::prompt::Terminal::default();
    match enroll(
        &api,
        &mut term,
        user,
        &caller.account_id,
        crate::term::unix_now,
    )
    .await
    {
        Ok(EnrollOutcome::Enabled { serial }) => {
            progress!("MFA enabled for {user} ({serial})");
            Ok(crate::domain::exit::OK)
        }
        Ok(EnrollOutcome::Cancelled) => {
            eprintln!("cancelled: the unassigned MFA device was deleted, nothing was enabled");
            Ok(crate::domain::exit::INTERRUPTED)
        }
        Ok(EnrollOutcome::CodesRejected) => {
            eprintln!(
                "the codes did not match {CODE_TRIES} times: the unassigned MFA device was deleted, nothing was enabled; \
                 check the phone's clock and run `rootguard mfa enroll --user {user}` again"
            );
            Ok(crate::domain::exit::FAILED)
        }
        Err(e @ EnrollError::NoSuchUser(_)) => Err(Stop::usage(e.to_string())),
        Err(e) => Err(Stop::failed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::prompt::Scripted;
    use std::cell::RefCell;

    mod qr {
        include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/qr.rs"));
    }
    use qr::decode_terminal_qr;

    const SEED: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    fn code(seed: &str, t: u64) -> String {
        let bytes = base32_decode(seed).unwrap();
        totp(&bytes).unwrap().generate(t).to_string()
    }

    #[test]
    fn base32_and_rfc6238_vectors() {
        assert_eq!(
            base32_decode("MZXW6YTBOI======").unwrap().as_slice(),
            b"foobar"
        );
        assert!(base32_decode("not base32!").is_none());
        // RFC 6238 appendix B, SHA1, seed "12345678901234567890", T=59 -> 94287082 (8 digits).
        let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(code(seed, 59), "287082");
    }

    #[test]
    fn two_consecutive_codes_are_required() {
        let t = 1_800_000_000;
        let (a, b) = (code(SEED, t), code(SEED, t + 30));
        assert!(codes_match(SEED, &a, &b, t));
        assert!(
            codes_match(SEED, &a, &b, t + 30),
            "entered across a step boundary"
        );
        assert!(!codes_match(SEED, &b, &a, t), "order matters");
        assert!(
            !codes_match(SEED, &a, &a, t),
            "the same code twice is not two codes"
        );
        assert!(
            !codes_match(SEED, &a, &b, t + 3600),
            "stale codes are refused"
        );
        assert!(!codes_match(SEED, "000000", "111111", t));
    }

    #[test]
    fn qr_code_decodes_back_to_the_uri() {
        let uri = otpauth_uri("alice", "111122223333", SEED);
        let text = qr_text(&uri);
        assert!(
            text.starts_with("\x1b[30;47m"),
            "black on white, whatever the theme"
        );
        let decoded = decode_terminal_qr(&text).expect("decodes");
        assert_eq!(decoded, uri.as_str());
        assert!(decoded.contains(&format!("secret={SEED}")));
        assert!(decoded.starts_with("otpauth://totp/AWS:alice@111122223333?"));
    }

    struct FakeApi {
        exists: bool,
        enable_fails: bool,
        calls: RefCell<Vec<String>>,
    }

    impl MfaApi for FakeApi {
        async fn user_exists(&self, _: &str) -> Result<bool, FactError> {
            self.calls.borrow_mut().push("GetUser".into());
            Ok(self.exists)
        }
        async fn create_device(&self, name: &str) -> Result<(String, Seed), FactError> {
            self.calls.borrow_mut().push("Create".into());
            Ok((
                format!("arn:aws:iam::111122223333:mfa/{name}"),
                Zeroizing::new(SEED.to_string()),
            ))
        }
        async fn enable(&self, _: &str, _: &str, _: &str, _: &str) -> Result<(), FactError> {
            self.calls.borrow_mut().push("Enable".into());
            if self.enable_fails {
                Err(FactError::new(
                    "iam:EnableMFADevice",
                    crate::domain::facts::FactErrorKind::AccessDenied,
                    "AccessDenied",
                ))
            } else {
                Ok(())
            }
        }
        async fn delete_device(&self, _: &str) -> Result<(), FactError> {
            self.calls.borrow_mut().push("Delete".into());
            Ok(())
        }
    }

    fn api() -> FakeApi {
        FakeApi {
            exists: true,
            enable_fails: false,
            calls: RefCell::new(vec![]),
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    const T: u64 = 1_800_000_000;

    #[test]
    fn happy_path_enables_after_a_local_check() {
        let api = api();
        let mut p = Scripted::new(["n", &code(SEED, T), &code(SEED, T + 30)]);
        let out = block_on(enroll(&api, &mut p, "alice", "111122223333", || T)).unwrap();
        assert!(matches!(out, EnrollOutcome::Enabled { .. }));
        assert_eq!(*api.calls.borrow(), ["GetUser", "Create", "Enable"]);
        assert!(
            !p.transcript().contains(SEED),
            "the secret is not shown unless asked"
        );
    }

    #[test]
    fn wrong_codes_are_re_asked_locally_then_the_device_is_deleted() {
        let api = api();
        let mut p = Scripted::new([
            "n", "123456", "654321", "12345", "123456", "111111", "222222", "333333", "444444",
        ]);
        let out = block_on(enroll(&api, &mut p, "alice", "111122223333", || T)).unwrap();
        assert_eq!(out, EnrollOutcome::CodesRejected, "not a Ctrl-C");
        assert_eq!(
            *api.calls.borrow(),
            ["GetUser", "Create", "Delete"],
            "no EnableMFADevice with bad codes"
        );
        assert!(p
            .transcript()
            .contains("do not match this device (attempt 1 of 3)"));
        assert!(
            p.transcript().contains("enter the 6 digits"),
            "a malformed code is re-asked with a reason"
        );
    }

    #[test]
    fn interrupt_deletes_the_device() {
        let api = api();
        let mut p = Scripted::new(["n", "^C"]);
        let out = block_on(enroll(&api, &mut p, "alice", "111122223333", || T)).unwrap();
        assert_eq!(out, EnrollOutcome::Cancelled);
        assert_eq!(*api.calls.borrow(), ["GetUser", "Create", "Delete"]);
    }

    #[test]
    fn failed_enable_deletes_the_device() {
        let api = FakeApi {
            enable_fails: true,
            ..api()
        };
        let mut p = Scripted::new(["n", &code(SEED, T), &code(SEED, T + 30)]);
        let err = block_on(enroll(&api, &mut p, "alice", "111122223333", || T)).unwrap_err();
        assert!(
            matches!(&err, EnrollError::Enable { cleanup: None, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("AccessDenied"));
        assert_eq!(
            *api.calls.borrow(),
            ["GetUser", "Create", "Enable", "Delete"]
        );
    }

    #[test]
    fn unknown_user_creates_nothing() {
        let api = FakeApi {
            exists: false,
            ..api()
        };
        let mut p = Scripted::new(Vec::<&str>::new());
        let err = block_on(enroll(&api, &mut p, "nobody", "111122223333", || T)).unwrap_err();
        assert!(matches!(&err, EnrollError::NoSuchUser(u) if u == "nobody"));
        assert!(err.to_string().contains("\"nobody\" does not exist"));
        assert_eq!(*api.calls.borrow(), ["GetUser"]);
    }

    #[test]
    fn secret_shown_only_on_request() {
        let api = api();
        let mut p = Scripted::new(["y", &code(SEED, T), &code(SEED, T + 30)]);
        block_on(enroll(&api, &mut p, "alice", "111122223333", || T)).unwrap();
        assert!(p.transcript().contains(&format!("secret key: {SEED}")));
    }

    /// A seed as long as the ones AWS returns (64 base32 characters).
    const AWS_SEED: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    #[test]
    fn the_code_for_an_aws_seed_fits_an_80x24_terminal_and_decodes() {
        for (user, issuer_param) in [("alice", true), ("break-glass-admin", false)] {
            let uri = otpauth_uri(user, "111122223333", AWS_SEED);
            let short = otpauth_uri_short(user, "111122223333", AWS_SEED);
            let d = fit_qr(&[&uri, &short], Some((24, 80)), 2)
                .unwrap_or_else(|n| panic!("{user}: needs {n} rows"));
            assert!(
                d.rows + 2 <= 24 && d.cols <= 80,
                "{user}: {}x{}",
                d.cols,
                d.rows
            );
            let want = if issuer_param { &uri } else { &short };
            assert_eq!(decode_terminal_qr(&d.text).as_deref(), Some(want.as_str()));
        }
        let uri = otpauth_uri("alice", "111122223333", AWS_SEED);
        assert_eq!(
            fit_qr(&[&uri], None, 2).unwrap().cols,
            qr_drawing(&uri, 4).cols,
            "an unknown size gets the full quiet zone"
        );
        assert!(fit_qr(&[&uri], Some((12, 80)), 2).is_err());
        // A longer name needs a larger symbol: said, not scrolled off.
        let long = otpauth_uri_short("security-breakglass-admin", "111122223333", AWS_SEED);
        assert_eq!(fit_qr(&[&long], Some((24, 80)), 2).err(), Some(25));
        assert!(fit_qr(&[&long], Some((30, 80)), 2).is_ok());
    }

    #[test]
    fn the_uri_is_minimal_but_complete() {
        let uri = otpauth_uri("a b", "111122223333", SEED);
        assert_eq!(
            uri.as_str(),
            format!("otpauth://totp/AWS:a%20b@111122223333?secret={SEED}&issuer=AWS")
        );
    }

    #[test]
    fn the_code_is_drawn_on_a_private_screen_that_is_left_on_every_way_out() {
        let cases: [(Vec<String>, &str); 3] = [
            (
                vec!["n".into(), code(SEED, T), code(SEED, T + 30)],
                "enabled",
            ),
            (vec!["y".into(), "^C".into()], "ctrl-c"),
            (
                [
                    "n", "111111", "222222", "111111", "222222", "111111", "222222",
                ]
                .map(String::from)
                .to_vec(),
                "wrong codes",
            ),
        ];
        for (answers, case) in cases {
            let api = api();
            let mut p = Scripted::new(answers);
            block_on(enroll(&api, &mut p, "alice", "111122223333", || T)).unwrap();
            let t = p.transcript();
            let entered = t.find("[private screen]").expect(case);
            let qr = t.find("\x1b[30;47m").expect(case);
            let left = t.find("[private screen left]").expect(case);
            assert!(entered < qr && qr < left, "{case}: {t}");
            assert!(
                t.ends_with("[private screen left]\n"),
                "{case}: left last: {t}"
            );
        }
    }

    #[test]
    fn a_terminal_too_small_is_said_and_waited_for_or_the_secret_offered() {
        // Too small, Enter after "resizing" (still too small), then s.
        let fake = api();
        let mut p = Scripted::new(["", "s", &code(SEED, T), &code(SEED, T + 30)]);
        p.size = Some((12, 80));
        let out = block_on(enroll(&fake, &mut p, "alice", "111122223333", || T)).unwrap();
        assert!(matches!(out, EnrollOutcome::Enabled { .. }));
        let t = p.transcript();
        assert_eq!(
            t.matches("The terminal is 80x12; the QR code needs")
                .count(),
            2,
            "{t}"
        );
        assert!(
            !t.contains("\x1b[30;47m"),
            "no code drawn where it cannot fit"
        );
        assert!(
            t.contains(&format!("secret key: {SEED}")),
            "the secret instead"
        );

        // Big enough: no question, the code is drawn.
        let fake = api();
        let mut p = Scripted::new(["n", &code(SEED, T), &code(SEED, T + 30)]);
        p.size = Some((24, 80));
        block_on(enroll(&fake, &mut p, "alice", "111122223333", || T)).unwrap();
        assert!(!p.transcript().contains("The terminal is"));
        assert!(p.transcript().contains("\x1b[30;47m"));
    }
}

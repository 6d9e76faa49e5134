//! Talking to the person: a small [`Prompter`] trait, its terminal
//! implementation (dialoguer on stderr) and a scripted one for tests.
//!
//! The wizard and the enroll flow decide *what* to ask; this module owns *how*.
//! It must not call AWS. Everything goes to stderr, never stdout, so nothing a
//! prompt shows (a QR code, a secret) can reach a pipe.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PromptError {
    #[error("interrupted")]
    Interrupted,
    #[error("terminal error: {0}")]
    Io(String),
    #[error("no scripted answer left for {0:?}")]
    NoAnswer(String),
}

pub type Validator<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// A single-key answer: Enter, or a letter (lowercased).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Enter,
    Char(char),
}

pub trait Prompter {
    /// A line of information.
    fn note(&mut self, text: &str) -> Result<(), PromptError>;
    /// Something secret (a QR code, a key): shown on the terminal only.
    fn secret_block(&mut self, text: &str) -> Result<(), PromptError>;
    fn confirm(&mut self, question: &str, default: bool) -> Result<bool, PromptError>;
    /// Asks until `validate` accepts the answer; each rejection says why.
    fn input(&mut self, prompt: &str, validate: Validator) -> Result<String, PromptError>;
    fn select(&mut self, prompt: &str, items: &[String]) -> Result<usize, PromptError>;
    fn multi_select(&mut self, prompt: &str, items: &[String]) -> Result<Vec<usize>, PromptError>;
    /// Shows `prompt` and waits for one of `keys`; any other key is ignored.
    fn key(&mut self, prompt: &str, keys: &[Key]) -> Result<Key, PromptError>;
    /// Shows `status` on a spinner line and waits up to `timeout` for a key;
    /// `None` when none was pressed. Ctrl-C is [`PromptError::Interrupted`].
    fn wait_key(&mut self, status: &str, timeout: Duration) -> Result<Option<Key>, PromptError>;
    /// Ends a wait: the spinner line is cleared and the terminal is back to
    /// line mode.
    fn wait_done(&mut self);
    /// The terminal's size as (rows, columns), when known.
    fn size(&self) -> Option<(u16, u16)>;
    /// A private screen for a secret (the terminal's alternate screen, which
    /// keeps no scrollback), cleared, with the cursor at the top.
    fn enter_private_screen(&mut self) -> Result<(), PromptError>;
    /// Leaves the private screen: whatever it showed is gone, and the screen
    /// from before is back. Never fails and never checks for an interrupt, so
    /// it runs on every way out.
    fn leave_private_screen(&mut self);
}

/// Set by the Ctrl-C handler; every prompt checks it first.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The real terminal, through dialoguer on stderr; waits read keys with
/// crossterm in raw mode under an indicatif spinner.
pub struct Terminal {
    term: dialoguer::console::Term,
    spinner: Option<indicatif::ProgressBar>,
    private: bool,
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal {
            term: dialoguer::console::Term::stderr(),
            spinner: None,
            private: false,
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.wait_done();
        self.leave_private_screen();
        // Keys typed after the last prompt never reach the shell.
        discard_typed_ahead();
    }
}

fn io(e: std::io::Error) -> PromptError {
    PromptError::Io(e.to_string())
}

fn map(e: dialoguer::Error) -> PromptError {
    match e {
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
            PromptError::Interrupted
        }
        dialoguer::Error::IO(io) => PromptError::Io(io.to_string()),
    }
}

/// Holds the terminal in raw input mode (no line editing, no echo, no
/// signals; output processing kept) for the whole life of a prompt.
///
/// dialoguer reads one key at a time and puts the terminal back in cooked
/// mode between two keys; a Ctrl-C typed in that instant became SIGINT (which
/// only sets [`INTERRUPTED`]) while the prompt went on to wait for a key that
/// never came. Held raw, Ctrl-C is always read as a key, and dialoguer reports
/// it as an interruption. Dropping the guard restores the saved mode.
struct KeysRaw {
    fd: libc::c_int,
    saved: libc::termios,
    /// `/dev/tty`, opened when stdin is not the terminal.
    _tty: Option<std::fs::File>,
}

impl KeysRaw {
    /// `None` when there is no terminal to hold (tests with a script, pipes).
    fn hold() -> Option<KeysRaw> {
        use std::os::fd::AsRawFd;
        // SAFETY: isatty only inspects the descriptor.
        let (fd, tty) = if unsafe { libc::isatty(libc::STDIN_FILENO) } == 1 {
            (libc::STDIN_FILENO, None)
        } else {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .ok()?;
            (f.as_raw_fd(), Some(f))
        };
        let mut saved = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills `saved` when it returns 0, checked before use.
        if unsafe { libc::tcgetattr(fd, saved.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: initialised by the successful tcgetattr above.
        let saved = unsafe { saved.assume_init() };
        let mut raw = saved;
        // SAFETY: cfmakeraw edits the struct it is given; tcsetattr applies it.
        unsafe { libc::cfmakeraw(&mut raw) };
        raw.c_oflag = saved.c_oflag;
        if unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, &raw) } != 0 {
            return None;
        }
        Some(KeysRaw {
            fd,
            saved,
            _tty: tty,
        })
    }
}

impl Drop for KeysRaw {
    fn drop(&mut self) {
        // SAFETY: restores the mode read in `hold` on the same descriptor.
        unsafe { libc::tcsetattr(self.fd, libc::TCSADRAIN, &self.saved) };
    }
}

/// Runs one prompt with the terminal held raw; a Ctrl-C from before the hold
/// (delivered as SIGINT) is caught after taking it, one from during it is read
/// as a key.
fn held<T>(prompt: impl FnOnce() -> Result<T, PromptError>) -> Result<T, PromptError> {
    check()?;
    let raw = KeysRaw::hold();
    discard_typed_ahead();
    check()?;
    let r = prompt();
    drop(raw);
    check()?;
    r
}

/// What a yes/no question accepts, said when anything else is typed.
pub const YES_NO: &str = "answer y or yes, n or no (Enter takes the default)";

/// A typed yes/no answer: `y`, `yes`, `n`, `no` (any case, spaces around
/// ignored), or nothing for `default`; anything else is no answer (`None`),
/// so a stray word never changes an account.
pub fn parse_yes_no(answer: &str, default: bool) -> Option<bool> {
    match answer.trim().to_ascii_lowercase().as_str() {
        "" => Some(default),
        "y" | "yes" => Some(true),
        "n" | "no" => Some(false),
        _ => None,
    }
}

/// Discards whatever was typed on the terminal and not yet read (the kernel's
/// input queue, including a half-typed line), so keys pressed before a prompt
/// was shown answer nothing and nothing reaches the shell after rootguard
/// exits. Does nothing without a terminal.
pub fn discard_typed_ahead() {
    // SAFETY: isatty and tcflush only act on the descriptor they are given.
    if unsafe { libc::isatty(libc::STDIN_FILENO) } == 1 {
        unsafe { libc::tcflush(libc::STDIN_FILENO, libc::TCIFLUSH) };
    } else if let Ok(tty) = std::fs::OpenOptions::new().read(true).open("/dev/tty") {
        use std::os::fd::AsRawFd;
        unsafe { libc::tcflush(tty.as_raw_fd(), libc::TCIFLUSH) };
    }
}

/// `prompt` wrapped to stderr's terminal width before it is drawn, with room
/// for `answer` columns after its last line: dialoguer clears a prompt by its
/// line breaks when it is answered, so a prompt the terminal wrapped by itself
/// would leave its first row behind.
fn fitted(prompt: &str, answer: usize) -> String {
    match crate::term::out::stderr_width() {
        Some(w) => crate::domain::text::wrap_prompt(prompt, w, answer),
        None => prompt.to_string(),
    }
}

/// A validator's reason, wrapped so that after dialoguer's `error: ` every
/// row fits the terminal.
fn fitted_error(why: &str) -> String {
    match crate::term::out::stderr_width() {
        Some(w) => crate::domain::text::wrap_prompt(why, w.saturating_sub(8), 0),
        None => why.to_string(),
    }
}

fn check() -> Result<(), PromptError> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        Err(PromptError::Interrupted)
    } else {
        Ok(())
    }
}

impl Prompter for Terminal {
    fn note(&mut self, text: &str) -> Result<(), PromptError> {
        check()?;
        let text = match crate::term::out::stderr_width() {
            Some(w) => crate::domain::text::wrap_hanging(text, w),
            None => text.to_string(),
        };
        self.term
            .write_line(&text)
            .map_err(|e| PromptError::Io(e.to_string()))
    }

    /// Never wrapped: a QR code's rows must stay whole.
    fn secret_block(&mut self, text: &str) -> Result<(), PromptError> {
        check()?;
        self.term
            .write_line(text)
            .map_err(|e| PromptError::Io(e.to_string()))
    }

    /// A whole line, not a key: `maybe⏎` is asked again, `yes⏎` is one answer.
    fn confirm(&mut self, question: &str, default: bool) -> Result<bool, PromptError> {
        let hint = if default { "[Y/n]" } else { "[y/N]" };
        let prompt = fitted(&format!("{question} {hint}"), 8);
        let line = held(|| {
            dialoguer::Input::<String>::new()
                .with_prompt(prompt)
                .allow_empty(true)
                .validate_with(|s: &String| {
                    parse_yes_no(s, default)
                        .map(|_| ())
                        .ok_or_else(|| YES_NO.to_string())
                })
                .interact_text_on(&self.term)
                .map_err(map)
        })?;
        Ok(parse_yes_no(&line, default).unwrap_or(default))
    }

    fn input(&mut self, prompt: &str, validate: Validator) -> Result<String, PromptError> {
        let prompt = fitted(prompt, 24);
        held(|| {
            dialoguer::Input::<String>::new()
                .with_prompt(prompt)
                // dialoguer prints "error: " and the reason; wrapped here at
                // spaces, an address is never broken across rows.
                .validate_with(|s: &String| validate(s.trim()).map_err(|why| fitted_error(&why)))
                .interact_text_on(&self.term)
                .map(|s| s.trim().to_string())
                .map_err(map)
        })
    }

    fn select(&mut self, prompt: &str, items: &[String]) -> Result<usize, PromptError> {
        let prompt = fitted(prompt, 0);
        held(|| {
            dialoguer::Select::new()
                .with_prompt(prompt)
                .items(items)
                .default(0)
                .interact_on(&self.term)
                .map_err(map)
        })
    }

    fn multi_select(&mut self, prompt: &str, items: &[String]) -> Result<Vec<usize>, PromptError> {
        let prompt = fitted(&format!("{prompt} (space ticks, Enter goes on)"), 0);
        held(|| {
            dialoguer::MultiSelect::new()
                .with_prompt(prompt)
                .items(items)
                .interact_on(&self.term)
                .map_err(map)
        })
    }

    fn key(&mut self, prompt: &str, keys: &[Key]) -> Result<Key, PromptError> {
        use dialoguer::console::Key as K;
        let mut shown = false;
        let prompt = fitted(prompt, 1);
        held(|| loop {
            if !shown {
                // Drawn after the typed-ahead keys are gone: only keys
                // pressed while it is on screen count.
                self.term.write_str(&format!("{prompt} ")).map_err(io)?;
                shown = true;
            }
            let pressed = match self.term.read_key() {
                Ok(K::Enter) => Key::Enter,
                Ok(K::Char(c)) => Key::Char(c.to_ascii_lowercase()),
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    return Err(PromptError::Interrupted)
                }
                Err(e) => return Err(io(e)),
            };
            check()?;
            if keys.contains(&pressed) {
                self.term.write_line("").map_err(io)?;
                return Ok(pressed);
            }
        })
    }

    fn wait_key(&mut self, status: &str, timeout: Duration) -> Result<Option<Key>, PromptError> {
        use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
        check()?;
        if self.spinner.is_none() {
            // A new wait: keys typed before it was on screen do not count,
            // neither those still queued in the terminal nor those crossterm
            // already read and holds.
            discard_typed_ahead();
            while event::poll(Duration::ZERO).map_err(io)? {
                event::read().map_err(io)?;
            }
        }
        let bar = self.spinner.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                // Cut to the terminal's width, never wrapped: a wrapped
                // spinner line is redrawn one row lower each tick.
                indicatif::ProgressStyle::with_template("{spinner} {wide_msg}")
                    .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        bar.set_message(status.to_string());
        crossterm::terminal::enable_raw_mode().map_err(io)?;
        let ready = event::poll(timeout).map_err(io)?;
        let key = if ready {
            match event::read().map_err(io)? {
                Event::Key(k) if k.kind == KeyEventKind::Press => match k.code {
                    KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                        self.wait_done();
                        return Err(PromptError::Interrupted);
                    }
                    KeyCode::Enter => Some(Key::Enter),
                    KeyCode::Char(c) => Some(Key::Char(c.to_ascii_lowercase())),
                    _ => None,
                },
                _ => None,
            }
        } else {
            None
        };
        if let Err(e) = check() {
            self.wait_done();
            return Err(e);
        }
        Ok(key)
    }

    fn wait_done(&mut self) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }

    fn size(&self) -> Option<(u16, u16)> {
        self.term.size_checked()
    }

    fn enter_private_screen(&mut self) -> Result<(), PromptError> {
        check()?;
        self.private = true;
        // Alternate screen, cleared, cursor home.
        self.term.write_str("\x1b[?1049h\x1b[2J\x1b[H").map_err(io)
    }

    fn leave_private_screen(&mut self) {
        if std::mem::take(&mut self.private) {
            // Clear it first: some terminals keep the alternate screen's text.
            let _ = self.term.write_str("\x1b[2J\x1b[H\x1b[?1049l");
        }
    }
}

/// Answers from a list, for tests of the decision logic. `"^C"` interrupts;
/// `confirm` takes `y`/`n`; `select` an index; `multi_select` `0,2` or `-`;
/// `key` and `wait_key` a letter or `""` for Enter, and `wait_key` also `"-"`
/// for no key before the timeout. The private screen is recorded in the
/// transcript as `[private screen]` and `[private screen left]`.
pub struct Scripted {
    answers: VecDeque<String>,
    transcript: String,
    /// The terminal size `size()` reports; `None` (unknown) by default.
    pub size: Option<(u16, u16)>,
}

impl Scripted {
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(answers: I) -> Self {
        Scripted {
            answers: answers
                .into_iter()
                .map(|s| s.as_ref().to_string())
                .collect(),
            transcript: String::new(),
            size: None,
        }
    }

    /// Everything shown and asked, in order.
    pub fn transcript(&self) -> &str {
        &self.transcript
    }

    fn next(&mut self, prompt: &str) -> Result<String, PromptError> {
        self.transcript.push_str(&format!("? {prompt}\n"));
        match self.answers.pop_front() {
            Some(a) if a == "^C" => Err(PromptError::Interrupted),
            Some(a) => {
                self.transcript.push_str(&format!("> {a}\n"));
                Ok(a)
            }
            None => Err(PromptError::NoAnswer(prompt.to_string())),
        }
    }
}

fn scripted_key(answer: &str) -> Key {
    answer
        .chars()
        .next()
        .map_or(Key::Enter, |c| Key::Char(c.to_ascii_lowercase()))
}

impl Prompter for Scripted {
    fn note(&mut self, text: &str) -> Result<(), PromptError> {
        self.transcript.push_str(text);
        self.transcript.push('\n');
        Ok(())
    }

    fn secret_block(&mut self, text: &str) -> Result<(), PromptError> {
        self.note(text)
    }

    /// The same answers as the terminal: `y`/`yes`/`n`/`no`/`""`; anything
    /// else is asked again, saying what is accepted.
    fn confirm(&mut self, question: &str, default: bool) -> Result<bool, PromptError> {
        loop {
            match parse_yes_no(&self.next(question)?, default) {
                Some(yes) => return Ok(yes),
                None => self.note(YES_NO)?,
            }
        }
    }

    fn input(&mut self, prompt: &str, validate: Validator) -> Result<String, PromptError> {
        loop {
            let a = self.next(prompt)?;
            match validate(&a) {
                Ok(()) => return Ok(a),
                Err(why) => self.note(&why)?,
            }
        }
    }

    fn select(&mut self, prompt: &str, items: &[String]) -> Result<usize, PromptError> {
        self.note(&items.join(" | "))?;
        self.next(prompt)?
            .parse()
            .map_err(|_| PromptError::Io("scripted select needs an index".into()))
    }

    fn multi_select(&mut self, prompt: &str, items: &[String]) -> Result<Vec<usize>, PromptError> {
        self.note(&items.join(" | "))?;
        let a = self.next(prompt)?;
        if a == "-" {
            return Ok(vec![]);
        }
        a.split(',')
            .map(|i| {
                i.trim()
                    .parse()
                    .map_err(|_| PromptError::Io("scripted multi_select needs indexes".into()))
            })
            .collect()
    }

    fn key(&mut self, prompt: &str, keys: &[Key]) -> Result<Key, PromptError> {
        loop {
            let k = scripted_key(&self.next(prompt)?);
            if keys.contains(&k) {
                return Ok(k);
            }
        }
    }

    fn wait_key(&mut self, status: &str, _timeout: Duration) -> Result<Option<Key>, PromptError> {
        match self.next(status)?.as_str() {
            "-" => Ok(None),
            a => Ok(Some(scripted_key(a))),
        }
    }

    fn wait_done(&mut self) {}

    fn size(&self) -> Option<(u16, u16)> {
        self.size
    }

    fn enter_private_screen(&mut self) -> Result<(), PromptError> {
        self.note("[private screen]")
    }

    fn leave_private_screen(&mut self) {
        self.transcript.push_str("[private screen left]\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_and_no_are_whole_words_and_nothing_else_answers() {
        for (typed, default, want) in [
            ("y", false, Some(true)),
            ("YES", false, Some(true)),
            (" yes ", false, Some(true)),
            ("n", true, Some(false)),
            ("No", true, Some(false)),
            ("", true, Some(true)),
            ("", false, Some(false)),
            ("maybe", true, None),
            ("ye", true, None),
            ("yess", true, None),
            ("s", true, None),
            ("y n", true, None),
        ] {
            assert_eq!(parse_yes_no(typed, default), want, "{typed:?}");
        }
    }

    #[test]
    fn a_scripted_confirm_asks_again_until_it_gets_an_answer() {
        let mut p = Scripted::new(["maybe", "yes"]);
        assert!(p.confirm("Apply the CIS password policy?", false).unwrap());
        assert_eq!(p.transcript().matches("? Apply").count(), 2);
        assert!(p.transcript().contains(YES_NO));
        let mut p = Scripted::new([""]);
        assert!(p.confirm("Wait here?", true).unwrap(), "Enter: the default");
    }
}

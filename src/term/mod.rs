//! The terminal edge: `-q` (`QUIET` and `progress!`), whether prompts can be
//! shown, the yes/no confirmation of a plan, the Ctrl-C trap, the indicatif
//! spinner, stdout that survives a closed pipe (`out`), and the prompter
//! (`prompt`). Commands in `app` call these at their edge; the logic under them
//! never touches a terminal.
//!
//! It must not call AWS, render reports or import `app`/`cli`: it takes text
//! and values from the domain and shows them.

use std::io::IsTerminal;

use crate::domain::exit;
use crate::domain::exit::Stop;

#[macro_use]
pub mod out;
pub mod prompt;

pub use out::{quiet, QUIET};

/// `text` wrapped at spaces to stderr's terminal width, each continuation
/// under the line's own text (as plans are); unchanged when stderr is not a
/// terminal.
pub fn fit_stderr(text: &str) -> String {
    match crate::term::out::stderr_width() {
        Some(w) => crate::domain::text::wrap_hanging(text, w),
        None => text.to_string(),
    }
}

/// A progress line on stderr, unless `-q`, wrapped to the terminal's width.
macro_rules! progress {
    ($($arg:tt)*) => {
        if !$crate::term::quiet() {
            eprintln!("{}", $crate::term::fit_stderr(&format!($($arg)*)));
        }
    };
}

/// Whether prompts can be shown: stdin and stderr must both be terminals
/// (dialoguer reads /dev/tty otherwise and would block).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Whether progress bars and spinners should draw: on a terminal, not under `-q`.
pub fn show_progress() -> bool {
    !quiet() && std::io::stderr().is_terminal()
}

/// A change without `--yes` needs a terminal: the refusal, before the first request.
pub fn needs_confirmation(what: &str, dry_run: bool, yes: bool) -> Result<(), Stop> {
    if dry_run || yes || interactive() {
        Ok(())
    } else {
        Err(Stop::usage(format!(
            "{what} needs confirmation: run it in a terminal, or pass --yes (see the plan with --dry-run)"
        )))
    }
}

/// Asks `question` (default no) unless `--yes` answered it.
pub fn confirm(question: &str, yes: bool) -> Result<bool, Stop> {
    if yes {
        return Ok(true);
    }
    if !interactive() {
        return Err(Stop::usage(
            "this change needs confirmation: run it in a terminal, or pass --yes (see the plan with --dry-run)",
        ));
    }
    // A whole typed line (y/yes/n/no), as every question that leads to a change.
    use crate::term::prompt::Prompter;
    crate::term::prompt::Terminal::default()
        .confirm(question, false)
        .map_err(|e| match e {
            crate::term::prompt::PromptError::Interrupted => prompt_stop(e),
            other => Stop::usage(format!("no answer to the confirmation prompt: {other}")),
        })
}

/// One of several items, asked on the terminal; `None` when there is no terminal to ask on.
pub fn select(prompt: &str, items: &[String]) -> Result<Option<usize>, Stop> {
    if !interactive() {
        return Ok(None);
    }
    dialoguer::Select::new()
        .with_prompt(prompt)
        .items(items)
        .default(0)
        .interact()
        .map(Some)
        .map_err(|e| Stop::usage(format!("no answer to \"{prompt}\": {e}")))
}

/// Exits 2 unless stdin and stderr are terminals, pointing to the
/// non-interactive commands.
pub fn require_terminal(what: &str) -> Result<(), Stop> {
    if interactive() {
        Ok(())
    } else {
        Err(Stop::usage(format!(
            "{what} needs a terminal (stdin and stderr): it asks questions and shows QR codes. \
             For automation use `rootguard deploy` (alarm chain) and `rootguard verify` (audit)"
        )))
    }
}

/// Ctrl-C sets the prompt module's flag instead of killing the process, so
/// the flows can clean up what they created.
pub fn trap_ctrl_c() {
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            crate::term::prompt::INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
}

/// Seconds since the epoch, for TOTP.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A spinner on stderr when `show` and stderr is a terminal; hidden otherwise.
pub fn spinner(message: &str, show: bool) -> indicatif::ProgressBar {
    let pb = if show && std::io::stderr().is_terminal() {
        // The message is cut to the terminal's width: a spinner that wraps
        // is redrawn a row lower on every tick.
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {wide_msg}")
                .expect("a valid template"),
        );
        pb
    } else {
        indicatif::ProgressBar::hidden()
    };
    pb.set_message(message.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(80));
    pb
}

/// Runs `fut` while a spinner turns on stderr (drawn only on a terminal),
/// cleared when `fut` ends.
pub async fn with_spinner<T>(message: &str, fut: impl std::future::Future<Output = T>) -> T {
    let pb = spinner(message, true);
    let out = fut.await;
    pb.finish_and_clear();
    out
}

/// A prompt that ended without an answer: Ctrl-C is exit 130, anything else 2.
pub fn prompt_stop(e: crate::term::prompt::PromptError) -> Stop {
    match e {
        crate::term::prompt::PromptError::Interrupted => Stop {
            code: exit::INTERRUPTED,
            message:
                "stopped at your request; every change made so far was complete and is listed above"
                    .into(),
        },
        other => Stop::usage(other.to_string()),
    }
}

//! The application layer: one module per command. Each reads, builds a value
//! (a `Plan`, a `TeardownPlan`, a `Report`, an `OrgReport`, a `HardenPlan`),
//! shows it, confirms, and applies the same value.
//!
//! The logic of a command takes its reader and writer (a trait the real
//! `aws::Reader`/`aws::Writer` implement, or the handles themselves) and its
//! prompter as arguments, so it is tested with fakes; a thin `run` function
//! per command connects, prints and confirms. "Verify one account given a
//! reader" is a plain function an organization-wide run calls once per member.
//! Nothing here parses flags (that is `cli`) or holds SDK types (that is `aws`);
//! terminal concerns are in `crate::term`. It uses the layers below (`aws`,
//! `render`, `term`, `domain`) and is used only by the ways in (`cli`).

use std::future::Future;

use crate::aws::{Caller, ConnectOptions, Reader, Writer};
use crate::domain::facts::FactError;

pub mod alarm;
pub mod deploy;
pub mod events;
pub mod mfa;
pub mod org;
pub mod orgdeploy;
pub mod roottask;
pub mod securityhub;
pub mod setup;
pub mod teardown;
pub mod verify;

pub use crate::domain::exit::Stop;

/// A command's result: its exit code, or why it stopped.
pub type Outcome = Result<u8, Stop>;

/// The session's reader and writer and who the caller is; a connection that
/// fails is exit 2 with what is wrong.
pub async fn connect(opts: &ConnectOptions) -> Result<(Reader, Writer, Caller), Stop> {
    let session = crate::aws::Session::load(opts).await;
    let reader = session.reader();
    let caller = reader
        .caller()
        .await
        .map_err(|e| Stop::usage(e.to_string()))?;
    Ok((reader, session.writer(), caller))
}

/// How a command's plan is shown and confirmed.
pub struct Gate<'a> {
    pub dry_run: bool,
    pub yes: bool,
    /// The confirmation question.
    pub question: &'a str,
    /// Said (unless `-q`) when the plan changes nothing.
    pub nothing_to_do: &'a str,
}

/// The show → confirm step of every command that writes from a flag-driven
/// run: prints the plan on stdout, then says whether to apply it (not when it
/// changes nothing, not on `--dry-run`, not when the person says no).
pub fn show_and_confirm(plan: &str, is_noop: bool, gate: &Gate) -> Result<bool, Stop> {
    out!("{plan}");
    if is_noop {
        progress!("{}", gate.nothing_to_do);
        return Ok(false);
    }
    if gate.dry_run {
        return Ok(false);
    }
    if !crate::term::confirm(gate.question, gate.yes)? {
        progress!("nothing was changed");
        return Ok(false);
    }
    Ok(true)
}

/// What applying a plan's steps did, in order: the one apply → report step of
/// every command that writes (deploy, the wizard, teardown).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// What each applied step did ("create SNS topic …").
    pub done: Vec<String>,
    /// The step that failed and why; the steps after it were not tried.
    pub failed: Option<(String, String)>,
    pub not_done: Vec<String>,
}

impl Applied {
    pub fn ok(&self) -> bool {
        self.failed.is_none()
    }

    /// What failed and what is left, ending with the command that finishes
    /// the job; empty when everything was applied.
    pub fn failure_text(&self, rerun: &str) -> String {
        let Some((step, error)) = &self.failed else {
            return String::new();
        };
        let mut left = vec![step.clone()];
        left.extend(self.not_done.iter().cloned());
        format!(
            "error: failed to {step}: {error}\n{} step(s) done, {} not done:\n{}\n\
             fix the cause and run `{rerun}` again: it completes what is missing, without duplicates\n",
            self.done.len(),
            left.len(),
            left.iter()
                .map(|s| format!("  not done {s}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    }
}

/// Applies `steps` in order through `apply`, stopping at the first failure;
/// `on_done` hears each step as it completes (the live progress lines).
pub async fn apply_steps<'s, S: 's, Fut>(
    steps: impl IntoIterator<Item = &'s S>,
    describe: impl Fn(&S) -> String,
    mut apply: impl FnMut(&'s S) -> Fut,
    mut on_done: impl FnMut(&str),
) -> Applied
where
    Fut: Future<Output = Result<(), FactError>>,
{
    let mut applied = Applied::default();
    let mut steps = steps.into_iter();
    for step in steps.by_ref() {
        match apply(step).await {
            Ok(()) => {
                let d = describe(step);
                on_done(&d);
                applied.done.push(d);
            }
            Err(e) => {
                applied.failed = Some((describe(step), e.describe()));
                break;
            }
        }
    }
    applied.not_done = steps.map(describe).collect();
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::FactErrorKind;

    #[tokio::test]
    async fn apply_stops_at_the_first_failure_and_names_what_is_left() {
        let steps = ["a", "b", "c", "d"];
        let mut heard = Vec::new();
        let applied = apply_steps(
            &steps,
            |s| format!("make {s}"),
            |s| async move {
                if *s == "b" {
                    Err(FactError::new("x:Make", FactErrorKind::AccessDenied, "no"))
                } else {
                    Ok(())
                }
            },
            |d| heard.push(d.to_string()),
        )
        .await;
        assert_eq!(heard, vec!["make a"]);
        assert_eq!(applied.done, vec!["make a"]);
        assert_eq!(applied.failed.as_ref().unwrap().0, "make b");
        assert_eq!(applied.not_done, vec!["make c", "make d"]);
        let text = applied.failure_text("rootguard deploy");
        assert!(text.starts_with("error: failed to make b: "), "{text}");
        assert!(text.contains("1 step(s) done, 3 not done"), "{text}");
        assert!(text.contains("  not done make d"), "{text}");
        assert!(text.contains("run `rootguard deploy` again"), "{text}");
    }

    #[tokio::test]
    async fn everything_applied_is_ok_with_no_failure_text() {
        let applied = apply_steps(&[1, 2], |n| n.to_string(), |_| async { Ok(()) }, |_| {}).await;
        assert!(applied.ok());
        assert_eq!(applied.done, vec!["1", "2"]);
        assert!(applied.failure_text("x").is_empty());
    }
}

//! Talking to the person: a small [`Prompter`] trait, its terminal
//! implementation (dialoguer on stderr) and a scripted one for tests.
//!
//! The wizard and the enroll flow decide *what* to ask; this module owns *how*.
//! It must not call AWS. Everything goes to stderr, never stdout, so nothing a
//! prompt shows (a QR code, a secret) can reach a pipe.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

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
}

/// Set by the Ctrl-C handler; every prompt checks it first.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The real terminal, through dialoguer on stderr.
pub struct Terminal {
    term: dialoguer::console::Term,
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal {
            term: dialoguer::console::Term::stderr(),
        }
    }
}

fn map(e: dialoguer::Error) -> PromptError {
    match e {
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
            PromptError::Interrupted
        }
        dialoguer::Error::IO(io) => PromptError::Io(io.to_string()),
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
        self.term
            .write_line(text)
            .map_err(|e| PromptError::Io(e.to_string()))
    }

    fn secret_block(&mut self, text: &str) -> Result<(), PromptError> {
        self.note(text)
    }

    fn confirm(&mut self, question: &str, default: bool) -> Result<bool, PromptError> {
        check()?;
        let r = dialoguer::Confirm::new()
            .with_prompt(question)
            .default(default)
            .interact_on(&self.term)
            .map_err(map);
        check()?;
        r
    }

    fn input(&mut self, prompt: &str, validate: Validator) -> Result<String, PromptError> {
        check()?;
        let r = dialoguer::Input::<String>::new()
            .with_prompt(prompt)
            .validate_with(|s: &String| validate(s.trim()))
            .interact_text_on(&self.term)
            .map(|s| s.trim().to_string())
            .map_err(map);
        check()?;
        r
    }

    fn select(&mut self, prompt: &str, items: &[String]) -> Result<usize, PromptError> {
        check()?;
        dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(0)
            .interact_on(&self.term)
            .map_err(map)
    }

    fn multi_select(&mut self, prompt: &str, items: &[String]) -> Result<Vec<usize>, PromptError> {
        check()?;
        dialoguer::MultiSelect::new()
            .with_prompt(format!("{prompt} (space to pick, enter to go on)"))
            .items(items)
            .interact_on(&self.term)
            .map_err(map)
    }
}

/// Answers from a list, for tests of the decision logic. `"^C"` interrupts;
/// `confirm` takes `y`/`n`; `select` an index; `multi_select` `0,2` or `-`.
pub struct Scripted {
    answers: VecDeque<String>,
    transcript: String,
}

impl Scripted {
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(answers: I) -> Self {
        Scripted {
            answers: answers
                .into_iter()
                .map(|s| s.as_ref().to_string())
                .collect(),
            transcript: String::new(),
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

impl Prompter for Scripted {
    fn note(&mut self, text: &str) -> Result<(), PromptError> {
        self.transcript.push_str(text);
        self.transcript.push('\n');
        Ok(())
    }

    fn secret_block(&mut self, text: &str) -> Result<(), PromptError> {
        self.note(text)
    }

    fn confirm(&mut self, question: &str, _default: bool) -> Result<bool, PromptError> {
        Ok(self.next(question)? == "y")
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
}

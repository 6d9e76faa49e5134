//! Standard output that survives a closed pipe: `rootguard events | head -1`
//! ends quietly instead of panicking. Every line a command prints to stdout
//! goes through [`write`]; prompts, progress and errors go to stderr.

use std::io::Write;

/// The width to wrap stdout's prose to: the terminal's, or `None` when stdout
/// is not a terminal (piped output keeps its machine-friendly shape).
pub fn stdout_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0))
}

/// The width of stderr's terminal, for notes and prompts.
pub fn stderr_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(std::io::stderr()).map(|(w, _)| usize::from(w.0))
}

/// `s` wrapped to stdout's terminal width when it is prose; JSON (a document
/// starting with `{` or `[`) and anything written to a pipe stay as they are.
fn for_stdout(s: &str) -> std::borrow::Cow<'_, str> {
    let json = s.trim_start().starts_with(['{', '[']);
    match stdout_width() {
        Some(w) if !json => std::borrow::Cow::Owned(crate::text::wrap_hanging(s, w)),
        _ => std::borrow::Cow::Borrowed(s),
    }
}

/// Writes to stdout; if the reader has gone (broken pipe), exits quietly with
/// status 0: whatever the command did is complete, and nobody is listening.
/// Prose is wrapped to the terminal's width (see [`for_stdout`]).
pub fn write(s: &str) {
    let s = for_stdout(s);
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(i32::from(crate::exit::OK));
        }
        eprintln!("error: failed to write to stdout: {e}");
        std::process::exit(i32::from(crate::exit::USAGE));
    }
}

/// `print!` through [`write`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::write(&format!($($arg)*)) };
}

/// What [`emit`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Emitted {
    /// Whether any output went to stdout (else every one went to a file, and
    /// the person has seen nothing of the result yet).
    pub to_stdout: bool,
}

/// Writes each `-o` (text to stdout when none is given); a file is written
/// whole or not at all (temp file + rename) and said on stderr (path, size).
/// A file that cannot be written is exit 2, naming it.
pub fn emit(
    outputs: &[crate::render::OutputSpec],
    render_as: impl Fn(crate::render::Format) -> String,
) -> Result<Emitted, crate::app::Stop> {
    emit_with(outputs, |f, w| w.write_all(render_as(f).as_bytes()))
}

/// [`emit`] for a renderer that writes as it goes (a thousand accounts' JSON
/// is never held whole in memory): to stdout through a buffer, or to the
/// temp file that becomes the output file.
pub fn emit_with(
    outputs: &[crate::render::OutputSpec],
    render_to: impl Fn(crate::render::Format, &mut dyn Write) -> std::io::Result<()>,
) -> Result<Emitted, crate::app::Stop> {
    let default = [crate::render::OutputSpec {
        format: crate::render::Format::Text,
        path: None,
    }];
    let outputs = if outputs.is_empty() {
        &default[..]
    } else {
        outputs
    };
    for o in outputs {
        match &o.path {
            None if o.format == crate::render::Format::Text && stdout_width().is_some() => {
                // On a terminal the text report is wrapped to its width.
                let mut buf = Vec::new();
                if let Err(e) = render_to(o.format, &mut buf) {
                    eprintln!("error: failed to render the report: {e}");
                    std::process::exit(i32::from(crate::exit::USAGE));
                }
                write(&String::from_utf8_lossy(&buf));
            }
            None => {
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                if let Err(e) = render_to(o.format, &mut w).and_then(|_| w.flush()) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        std::process::exit(i32::from(crate::exit::OK));
                    }
                    eprintln!("error: failed to write to stdout: {e}");
                    std::process::exit(i32::from(crate::exit::USAGE));
                }
            }
            Some(p) => {
                crate::render::write_atomically_with(p, |w| render_to(o.format, w)).map_err(
                    |e| crate::app::Stop::usage(format!("cannot write -o {}: {e}", p.display())),
                )?;
                let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                if !crate::term::quiet() {
                    eprintln!(
                        "wrote {} ({}, {})",
                        p.display(),
                        o.format.name(),
                        crate::text::fmt_size(size)
                    );
                }
            }
        }
    }
    Ok(Emitted {
        to_stdout: outputs.iter().any(|o| o.path.is_none()),
    })
}

//! Standard output that survives a closed pipe: `rootguard events | head -1`
//! ends quietly instead of panicking. Every line a command prints to stdout
//! goes through [`write`]; prompts, progress and errors go to stderr.

use std::io::Write;

/// Set by `-q`: progress lines are dropped, errors and warnings still print.
pub static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether `-q` was given.
pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

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
        Some(w) if !json => std::borrow::Cow::Owned(crate::domain::text::wrap_hanging(s, w)),
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
            std::process::exit(i32::from(crate::domain::exit::OK));
        }
        eprintln!("error: failed to write to stdout: {e}");
        std::process::exit(i32::from(crate::domain::exit::USAGE));
    }
}

/// `print!` through [`write`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::term::out::write(&format!($($arg)*)) };
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
    outputs: &[crate::domain::output::OutputSpec],
    render_as: impl Fn(crate::domain::output::Format) -> String,
) -> Result<Emitted, crate::domain::exit::Stop> {
    emit_with(outputs, |f, w| w.write_all(render_as(f).as_bytes()))
}

/// [`emit`] for a renderer that writes as it goes (a thousand accounts' JSON
/// is never held whole in memory): to stdout through a buffer, or to the
/// temp file that becomes the output file.
pub fn emit_with(
    outputs: &[crate::domain::output::OutputSpec],
    render_to: impl Fn(crate::domain::output::Format, &mut dyn Write) -> std::io::Result<()>,
) -> Result<Emitted, crate::domain::exit::Stop> {
    let default = [crate::domain::output::OutputSpec {
        format: crate::domain::output::Format::Text,
        path: None,
    }];
    let outputs = if outputs.is_empty() {
        &default[..]
    } else {
        outputs
    };
    for o in outputs {
        match &o.path {
            None if o.format == crate::domain::output::Format::Text && stdout_width().is_some() => {
                // On a terminal the text report is wrapped to its width.
                let mut buf = Vec::new();
                if let Err(e) = render_to(o.format, &mut buf) {
                    eprintln!("error: failed to render the report: {e}");
                    std::process::exit(i32::from(crate::domain::exit::USAGE));
                }
                write(&String::from_utf8_lossy(&buf));
            }
            None => {
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                if let Err(e) = render_to(o.format, &mut w).and_then(|_| w.flush()) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        std::process::exit(i32::from(crate::domain::exit::OK));
                    }
                    eprintln!("error: failed to write to stdout: {e}");
                    std::process::exit(i32::from(crate::domain::exit::USAGE));
                }
            }
            Some(p) => {
                write_atomically_with(p, |w| render_to(o.format, w)).map_err(|e| {
                    crate::domain::exit::Stop::usage(format!(
                        "cannot write -o {}: {e}",
                        p.display()
                    ))
                })?;
                let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                if !quiet() {
                    eprintln!(
                        "wrote {} ({}, {})",
                        p.display(),
                        o.format.name(),
                        crate::domain::text::fmt_size(size)
                    );
                }
            }
        }
    }
    Ok(Emitted {
        to_stdout: outputs.iter().any(|o| o.path.is_none()),
    })
}

/// Writes `text` to `path` whole or not at all: a temporary file beside it,
/// then a rename.
pub fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    write_atomically_with(path, |w| w.write_all(text.as_bytes()))
}

/// [`write_atomically`] for a writer: `write` fills the temp file (buffered),
/// which then replaces `path`.
pub fn write_atomically_with(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.rootguard-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut f)?;
        let f = f.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

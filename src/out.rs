//! Standard output that survives a closed pipe: `rootguard events | head -1`
//! ends quietly instead of panicking. Every line a command prints to stdout
//! goes through [`write`]; prompts, progress and errors go to stderr.

use std::io::Write;

/// Writes to stdout; if the reader has gone (broken pipe), exits quietly with
/// status 0: whatever the command did is complete, and nobody is listening.
pub fn write(s: &str) {
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

/// Writes each `-o` (text to stdout when none is given); a file is written
/// whole or not at all (temp file + rename). A file that cannot be written
/// is exit 2, naming it.
pub fn emit(
    outputs: &[crate::render::OutputSpec],
    render_as: impl Fn(crate::render::Format) -> String,
) -> Result<(), crate::app::Stop> {
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
        let text = render_as(o.format);
        match &o.path {
            None => write(&text),
            Some(p) => crate::render::write_atomically(p, &text).map_err(|e| {
                crate::app::Stop::usage(format!("cannot write -o {}: {e}", p.display()))
            })?,
        }
    }
    Ok(())
}

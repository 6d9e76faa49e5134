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

/// `println!` through [`write`].
macro_rules! outln {
    () => { $crate::out::write("\n") };
    ($($arg:tt)*) => { $crate::out::write(&format!("{}\n", format_args!($($arg)*))) };
}

/// `print!` through [`write`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::write(&format!($($arg)*)) };
}

//! Named process exit codes, and [`Stop`]: how a command ends early with one
//! of them and one message. Every `std::process::exit` goes through these.

/// Nothing failed and nothing is unknown.
pub const OK: u8 = 0;
/// At least one check failed.
pub const FAILED: u8 = 1;
/// Usage or setup error (bad flag, no credentials, unreachable endpoint); no
/// checks were run.
pub const USAGE: u8 = 2;
/// Some checks are unknown and none failed.
pub const UNKNOWN: u8 = 3;
/// The person pressed Ctrl-C; whatever was half-made was cleaned up.
pub const INTERRUPTED: u8 = 130;

/// A failure that ends a command with an exit code and one message.
#[derive(Debug)]
pub struct Stop {
    pub code: u8,
    pub message: String,
}

impl Stop {
    /// Exit 2: the command could not start (input, connection, a read that
    /// decides what to do).
    pub fn usage(message: impl Into<String>) -> Self {
        Stop {
            code: USAGE,
            message: message.into(),
        }
    }

    /// Exit 1: the command ran and something it did failed.
    pub fn failed(message: impl Into<String>) -> Self {
        Stop {
            code: FAILED,
            message: message.into(),
        }
    }
}

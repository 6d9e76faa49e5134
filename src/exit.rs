//! Named process exit codes. Every `std::process::exit` goes through these.

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

//! rootguard: harden and monitor the root user of an AWS account.
//!
//! See ARCHITECTURE.md for the bird's-eye view. In short: `cli` parses flags,
//! `aws` is the only module that talks to AWS and fills `facts`, `checks` is
//! the pure core that turns facts into `finding`s, and `render` prints them.

#[macro_use]
pub mod out;
#[macro_use]
pub mod term;
pub mod text;

pub mod app;
pub mod aws;
pub mod checks;
pub mod cli;
pub mod credreport;
pub mod deploy;
pub mod events;
pub mod exit;
pub mod facts;
pub mod finding;
pub mod input;
pub mod org;
pub mod orgdeploy;
pub mod pattern;
pub mod policy;
pub mod ports;
pub mod prompt;
pub mod realtime;
pub mod render;
pub mod rootactivity;
pub mod roottask;

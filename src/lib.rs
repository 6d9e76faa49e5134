//! rootguard: harden and monitor the root user of an AWS account.
//!
//! One folder per layer, and imports only point down (ARCHITECTURE.md draws
//! it; `tests/layers.rs` keeps it so):
//!
//! - `cli`: the way in from a terminal, which alone parses the outside world
//!   (flags, environment) and calls `app`;
//! - `app`: one module per command (read, build a value, show, confirm, apply);
//! - `aws` (the only code that talks to AWS), `render` (outputs from values) and
//!   `term` (the terminal edge): side by side, none importing another;
//! - `domain`: the pure core (facts, findings, the check catalogue, plans,
//!   policies, text and input rules), no I/O, no SDK types, no terminal.

#[macro_use]
pub mod term;

pub mod app;
pub mod aws;
pub mod cli;
pub mod domain;
pub mod render;

//! The pure core: everything rootguard decides, as values and functions of
//! values. Facts (`facts`, `credreport`, `rootactivity`), findings and their
//! catalogue (`finding`, `checks`, `pattern`, `realtime`), the plans every write
//! path applies (`deploy`, `orgdeploy`, `org`, `roottask`), `events` rows,
//! `policy`, `text` and `input` rules, exit codes and outcomes (`exit`), and the
//! answers a person gives (`ports`).
//!
//! It must not do I/O, hold SDK types, touch a terminal, or import any other
//! layer: everything above depends on it, it depends on nothing of ours.

pub mod asff;
pub mod checks;
pub mod credreport;
pub mod deploy;
pub mod events;
pub mod exit;
pub mod facts;
pub mod finding;
pub mod input;
pub mod org;
pub mod orgdeploy;
pub mod output;
pub mod pattern;
pub mod policy;
pub mod ports;
pub mod realtime;
pub mod rootactivity;
pub mod roottask;
pub mod text;

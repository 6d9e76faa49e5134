//! The application layer: one module per command that reads, builds a value
//! (a `Report`, an `OrgReport`, a `HardenPlan`), shows it and, for commands
//! that write, applies the same value.
//!
//! Functions here take their reader (and writer) as arguments, so "verify one
//! account given a reader" is a plain function an organization-wide run calls
//! once per member. They must not parse flags (that is `cli`) or hold SDK
//! types (that is `aws`).

pub mod alarm;
pub mod events;
pub mod org;
pub mod orgdeploy;
pub mod securityhub;
pub mod teardown;
pub mod verify;

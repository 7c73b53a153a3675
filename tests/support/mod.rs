//! Test support shared by the integration tests, the network lab and the room benchmark
//! (`#[path = "support/mod.rs"] mod support;`, from benches `../../tests/support/mod.rs`):
//! driving real processes.

// Each includer uses its own part of it.
#![allow(dead_code)]

pub mod chat;
pub mod parlor;
pub mod process;
pub mod test_dir;

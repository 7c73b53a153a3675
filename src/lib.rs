//! parlor: serverless group chat for the terminal, peer to peer over iroh and iroh-gossip.
//!
//! Layout (see ARCHITECTURE.md): `proto` is the pure chat core; `app` turns typed lines into
//! commands; `front` is the front-end core both front ends drive (rooms, direct messages,
//! files, carrying out commands); `headless` renders events as lines; `net` is the only code that talks to iroh;
//! `run` wires them together.

pub mod app;
pub(crate) mod cli;
pub mod config;
pub(crate) mod front;
pub mod headless;
pub(crate) mod model;
pub mod net;
pub(crate) mod present;
pub mod proto;
pub mod run;
pub mod session;
pub(crate) mod settings_table;
pub mod store;
// Scratch directories for tests: the integration tests' support, shared as one file.
#[cfg(test)]
#[path = "../tests/support/test_dir.rs"]
pub(crate) mod test_dir;
#[cfg(test)]
#[path = "../tests/support/test_dir_tests.rs"]
mod test_dir_tests;
pub mod ui;

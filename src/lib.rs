//! parlor: serverless group chat for the terminal, peer to peer over iroh and iroh-gossip.
//!
//! Layout (see ARCHITECTURE.md): `proto` is the pure chat core; `net` is the only code that
//! talks to iroh; `headless` renders events as lines; `run` wires them together.

pub mod proto;

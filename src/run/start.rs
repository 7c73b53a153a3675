//! From the command line's start (open, join a ticket, rejoin a known room) to a session's
//! spec; the shared pieces every front end needs to run sessions: the node and the store
//! thread, and closing them in order.

use std::time::Duration;

use crate::config::{Config, ConfigError, Start};
use crate::net::Node;
use crate::session::{Entry, SessionSpec};
use crate::store::{Store, StoreHandle, StoreThread};

/// How long closing the endpoint may take: peers that are already gone never acknowledge the
/// close, and nobody should wait for them. With the session's 225 ms linger, leaving takes
/// at most ~450 ms.
pub const CLOSE_LIMIT: Duration = Duration::from_millis(225);
/// How long exiting waits for the store thread to write what is queued.
const STORE_CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// The session `start` asks for, named `name`.
pub fn spec_of(config: &Config, start: &Start, name: String) -> Result<SessionSpec, ConfigError> {
    // A ticket's room is ready once a peer answers; a new or known room at once.
    let (topic, peers, wait_for_peer) = match start {
        Start::Open => (None, Vec::new(), false),
        Start::Join(ticket) => (Some(ticket.topic), ticket.peers.clone(), true),
        Start::Rejoin { topic, peers } => (Some(*topic), peers.clone(), false),
        Start::Known(_) => return Err(ConfigError::NoCommand),
    };
    let entry = Entry {
        topic,
        peers,
        label: config.label.clone(),
    };
    Ok(SessionSpec {
        name,
        entry,
        history: config.history,
        join_timeout: wait_for_peer.then_some(config.join_timeout),
    })
}

/// The store on its own thread, if there is a store.
pub fn store_thread(store: Option<Store>) -> anyhow::Result<Option<StoreThread>> {
    store
        .map(StoreThread::spawn)
        .transpose()
        .map_err(|err| anyhow::anyhow!("cannot start the store thread: {err}"))
}

pub fn store_handle(thread: &Option<StoreThread>) -> Option<StoreHandle> {
    thread.as_ref().map(StoreThread::handle)
}

/// Close the endpoint (bounded), then let the store write what is queued and stop.
pub async fn close(node: Option<Node>, store: Option<StoreThread>) {
    if let Some(node) = node {
        node.shutdown(CLOSE_LIMIT).await;
    }
    if let Some(store) = store {
        store.close(STORE_CLOSE_LIMIT).await;
    }
}

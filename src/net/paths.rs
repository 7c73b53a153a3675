//! How each peer is reached: the endpoint keeps a weak handle to every connection once its
//! handshake completes (gossip's and ours alike), so `/net` can read the path in use (direct
//! or relayed), its address and its round-trip time without opening anything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::TransportAddr;
use iroh::endpoint::{AfterHandshakeOutcome, Connection, EndpointHooks, WeakConnectionHandle};

use crate::model::{PathKind, PeerPath};
use crate::proto::EndpointId;

/// Peers whose connections are remembered; the oldest dead entries go first.
const MAX_PEERS: usize = 1024;
/// Connections remembered per peer (gossip, catch-up, file transfers).
const MAX_PER_PEER: usize = 8;

/// The endpoint hook that remembers connections. Holds only weak handles: never keeps a
/// connection (or the endpoint) alive.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    by_peer: Arc<Mutex<HashMap<EndpointId, Vec<WeakConnectionHandle>>>>,
}

impl EndpointHooks for Connections {
    async fn after_handshake<'a>(&'a self, conn: &'a Connection) -> AfterHandshakeOutcome {
        let mut map = self.by_peer.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_PEERS && !map.contains_key(&conn.remote_id()) {
            map.retain(|_, handles| handles.iter().any(|h| h.upgrade().is_some()));
        }
        if map.len() < MAX_PEERS || map.contains_key(&conn.remote_id()) {
            let handles = map.entry(conn.remote_id()).or_default();
            handles.retain(|h| h.upgrade().is_some());
            if handles.len() >= MAX_PER_PEER {
                handles.remove(0);
            }
            handles.push(conn.weak_handle());
        }
        AfterHandshakeOutcome::accept()
    }
}

impl Connections {
    /// The open connections to `peer` remembered.
    pub fn live(&self, peer: &EndpointId) -> Vec<Connection> {
        let map = self.by_peer.lock().unwrap_or_else(|p| p.into_inner());
        let handles = map.get(peer).map(Vec::as_slice).unwrap_or_default();
        handles
            .iter()
            .filter_map(WeakConnectionHandle::upgrade)
            .collect()
    }

    /// The path `peer` is reached on now: that of the newest open connection.
    ///
    /// iroh records a connection's selected path only when the peer's selection changes, so
    /// a connection opened while an older one still holds the selection (a peer that went
    /// away without a goodbye and came back on another port) has none selected though it
    /// carries everything on its open path. Such a connection shows its best open path.
    pub fn path(&self, peer: EndpointId) -> PeerPath {
        let handles: Vec<WeakConnectionHandle> = {
            let map = self.by_peer.lock().unwrap_or_else(|p| p.into_inner());
            map.get(&peer).cloned().unwrap_or_default()
        };
        let live = handles
            .iter()
            .rev()
            .filter_map(WeakConnectionHandle::upgrade)
            .filter(|conn| conn.close_reason().is_none())
            .find_map(|conn| live_path(&conn));
        match live {
            Some((kind, addr, rtt)) => PeerPath {
                id: peer,
                kind,
                addr: Some(addr),
                rtt: Some(rtt),
            },
            None => PeerPath {
                id: peer,
                kind: PathKind::None,
                addr: None,
                rtt: None,
            },
        }
    }
}

/// A connection's selected path, or else its best open one (direct before relayed, then
/// the shortest round trip); `None` when it has no open path.
///
/// Paths the peer has answered on come first: a connection opened after the peer came back
/// on another port can also hold a path to its old address (iroh tries every address it
/// knew), and the peer's selection can still name that dead path.
fn live_path(conn: &Connection) -> Option<(PathKind, String, Duration)> {
    let paths = conn.paths();
    // Answered on, then selected, then direct before relayed, then the shortest round trip.
    let path = paths.iter().min_by_key(|p| {
        let unheard = p.stats().udp_rx.datagrams == 0;
        (unheard, !p.is_selected(), p.is_relay(), p.rtt())
    })?;
    let kind = if path.is_relay() {
        PathKind::Relay
    } else {
        PathKind::Direct
    };
    let addr = match path.remote_addr() {
        TransportAddr::Ip(ip) => ip.to_string(),
        TransportAddr::Relay(url) => url.to_string(),
        other => format!("{other:?}"),
    };
    Some((kind, addr, path.rtt()))
}

//! What the network looks like to a room, as front ends show it: the room's connectivity
//! (`session` reports it), each peer's path and our side (`net` reads them for `/net`).

use std::net::SocketAddr;
use std::time::Duration;

use iroh_base::RelayUrl;

use crate::proto::{EndpointId, MemberInfo};

/// The room's connectivity, as `{"type":"net","state":..}` and the status bar show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connectivity {
    /// At least one direct neighbour.
    Connected,
    /// No neighbour; trying to get back in.
    Reconnecting,
    /// No neighbour and no network to try through.
    Offline,
}

impl Connectivity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            Self::Offline => "offline",
        }
    }
}

/// The room's connectivity and how many direct neighbours it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetState {
    pub state: Connectivity,
    pub neighbours: usize,
}

/// How a peer is reached now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Direct,
    Relay,
    /// No open connection.
    None,
}

impl PathKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Relay => "relay",
            Self::None => "none",
        }
    }
}

/// A peer's path as `/net` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerPath {
    pub id: EndpointId,
    pub kind: PathKind,
    /// The address in use: `ip:port`, or the relay's URL.
    pub addr: Option<String>,
    pub rtt: Option<Duration>,
}

/// Our side, as `/net` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetReport {
    pub id: EndpointId,
    pub addrs: Vec<SocketAddr>,
    pub relay: Option<RelayUrl>,
    pub relay_latency: Option<Duration>,
    /// Whether LAN discovery runs, and why not when it does not.
    pub lan: Result<(), String>,
    pub peers: Vec<PeerPath>,
}

/// What `/net` shows: our side and each member's path, with the members to name them.
#[derive(Debug, Clone)]
pub struct NetView {
    pub report: NetReport,
    pub members: Vec<MemberInfo>,
}

impl NetView {
    /// The name `id` goes by in the room.
    pub fn name_of(&self, id: &EndpointId) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.id == *id)
            .map(|m| m.display.as_str())
    }
}

//! The network half of a chat session, shared by the headless and terminal front ends: the
//! endpoint, the room's topic, the `Room` state machine and (unless ephemeral) the store.
//! Feeding the room carries out what it asks: broadcast, keep on disk (before anything is
//! shown), fetch history from neighbours; peers' history requests are answered from the room.

use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;

use crate::config::{ConfigError, Start};
use crate::net::{HistoryQuery, NetConfig, NetEvent, Node, TopicHandle};
use crate::proto::backlog::HistoryWindow;
use crate::proto::room::{Event, Input, Output, Room, RoomConfig};
use crate::proto::ticket::{MAX_TICKET_PEERS, Ticket};
use crate::proto::{EndpointAddr, Now, TopicId, UnixMillis};
use crate::store::{Store, StoredMessage};

/// The store, shared between a session and whoever starts the next one (the TUI's lobby).
pub type SharedStore = std::sync::Arc<std::sync::Mutex<Store>>;

/// Run `f` on the store; a poisoned lock (a panic elsewhere) still gives the data.
fn with<T>(store: &SharedStore, f: impl FnOnce(&Store) -> T) -> T {
    let guard = store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&guard)
}

/// How long leaving may wait for the goodbye to be handed to the network.
const LEAVE_FLUSH: Duration = Duration::from_millis(300);
/// How long leaving the topic and closing the endpoint may take in all: peers that are already
/// gone never acknowledge the close, and nobody should wait for them.
const CLOSE_LIMIT: Duration = Duration::from_millis(450);
/// Neighbours asked in parallel for history.
const CATCH_UP_PEERS: usize = 2;

/// `join` gave up: nobody listed in the ticket answered in time.
#[derive(Debug, thiserror::Error)]
#[error("no peer answered within {:.1} s (the ticket lists {peers} peer(s)); the room may be empty or unreachable", waited.as_secs_f64())]
pub struct NoPeerAnswered {
    pub peers: usize,
    pub waited: Duration,
}

/// Which room to be in.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// `None`: a new room with a random topic.
    pub topic: Option<TopicId>,
    /// Peers to dial.
    pub peers: Vec<EndpointAddr>,
    pub label: Option<String>,
}

/// Where a start leads: the entry, and whether to wait for a peer before being ready.
pub(super) fn entry_of(start: &Start, label: Option<String>) -> Result<(Entry, bool), ConfigError> {
    Ok(match start {
        Start::Open => (
            Entry {
                label,
                ..Entry::default()
            },
            false,
        ),
        Start::Join(ticket) => (
            Entry {
                topic: Some(ticket.topic),
                peers: ticket.peers.clone(),
                label,
            },
            true,
        ),
        Start::Rejoin { topic, peers } => (
            Entry {
                topic: Some(*topic),
                peers: peers.clone(),
                label,
            },
            false,
        ),
        Start::Known(_) => return Err(ConfigError::NoCommand),
    })
}

/// What a session reports besides room events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Room(Event),
    /// Something went wrong that the user should know about (e.g. a message not saved).
    Warning(String),
}

pub struct Session {
    node: Node,
    net: TopicHandle,
    room: Room,
    store: Option<SharedStore>,
    queries: mpsc::Receiver<HistoryQuery>,
    history_tx: mpsc::UnboundedSender<Vec<Vec<u8>>>,
    history_rx: mpsc::UnboundedReceiver<Vec<Vec<u8>>>,
    /// Catch-up fetches not yet answered.
    fetching: usize,
    /// Peers listed in the ticket we joined with (0 when we opened the room).
    pub ticket_peers: usize,
    /// Stored history shown at start, oldest first.
    restored: Vec<Event>,
}

impl Session {
    /// Bind the endpoint and subscribe, dialing `entry`'s peers in the background. Returns
    /// without waiting for any peer. With a store, the room is recorded and its stored history
    /// loaded (see [`Self::take_restored`]).
    pub async fn start(
        net: &NetConfig,
        name: &str,
        entry: Entry,
        store: Option<SharedStore>,
        history: HistoryWindow,
    ) -> anyhow::Result<Self> {
        let (node, queries) = Node::spawn(net).await?;
        let topic = entry
            .topic
            .unwrap_or_else(|| TopicId::from_bytes(rand::random()));
        let handle = node
            .join(topic, &entry.peers)
            .await
            .context("cannot subscribe")?;
        let config = RoomConfig {
            history,
            ..RoomConfig::default()
        };
        let mut room = Room::new(
            net.secret.clone(),
            topic,
            name.to_string(),
            rand::random(),
            config,
        );
        let now = Now::system();
        let mut restored = Vec::new();
        if let Some(store) = &store {
            let envelopes = with(store, |store| {
                store.remember_room(topic, entry.label.as_deref(), &entry.peers, name, now.wall)?;
                store.set_setting("last_name", name)?;
                store.history_envelopes(topic, history, now.wall)
            })?;
            // Already on disk: only the events matter.
            for output in room.handle(Input::History(envelopes), now) {
                if let Output::Event(event) = output {
                    restored.push(event);
                }
            }
        }
        let (history_tx, history_rx) = mpsc::unbounded_channel();
        Ok(Self {
            node,
            net: handle,
            room,
            store,
            queries,
            history_tx,
            history_rx,
            fetching: 0,
            ticket_peers: entry.peers.len(),
            restored,
        })
    }

    pub fn room(&self) -> &Room {
        &self.room
    }

    /// Gossip bytes this node has sent (benchmarks).
    pub fn wire_bytes_sent(&self) -> u64 {
        self.node.gossip_bytes_sent()
    }

    /// The stored history (events with `history: true`), once.
    pub fn take_restored(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.restored)
    }

    /// Whether a catch-up is still under way.
    pub fn catching_up(&self) -> bool {
        self.fetching > 0
    }

    /// Feed the room and carry out what it asks; returns what to show.
    pub fn feed(&mut self, input: Input) -> Vec<Update> {
        let now = Now::system();
        let mut updates = Vec::new();
        for output in self.room.handle(input, now) {
            match output {
                Output::Broadcast(bytes) => self.net.broadcast(bytes),
                Output::Persist(record) => {
                    let topic = self.room.topic();
                    if let Some(store) = &self.store
                        && let Err(err) = with(store, |s| s.save(topic, &record, now.wall))
                    {
                        updates.push(Update::Warning(format!("not saved to disk: {err}")));
                    }
                }
                Output::RequestHistory { since } => self.catch_up(since),
                Output::Event(event) => updates.push(Update::Room(event)),
            }
        }
        updates
    }

    /// Ask a few neighbours for what we missed; answers come back through `next_input`.
    fn catch_up(&mut self, since: UnixMillis) {
        let limit = self.room.history_window().max_messages;
        let peers: Vec<_> = self
            .room
            .neighbors()
            .copied()
            .take(CATCH_UP_PEERS)
            .collect();
        for peer in peers {
            let fetch = self
                .node
                .fetch_history(peer, self.room.topic(), since, limit);
            let results = self.history_tx.clone();
            self.fetching += 1;
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                let envelopes = match fetch.await {
                    Ok(envelopes) => envelopes,
                    Err(err) => {
                        tracing::debug!(peer = %peer.fmt_short(), "catch-up failed: {err:#}");
                        Vec::new()
                    }
                };
                tracing::debug!(
                    peer = %peer.fmt_short(),
                    count = envelopes.len(),
                    elapsed = ?started.elapsed(),
                    "catch-up answer"
                );
                let _ = results.send(envelopes);
            });
        }
    }

    /// The next input for the room (network events, catch-up answers); answers peers'
    /// history requests on the way. `Err` once the network is gone for good.
    pub async fn next_input(&mut self) -> anyhow::Result<Input> {
        loop {
            tokio::select! {
                event = self.net.next_event() => return Ok(match event {
                    Some(NetEvent::Received(bytes)) => Input::Received(bytes.to_vec()),
                    Some(NetEvent::NeighborUp(id)) => Input::NeighborUp(id),
                    Some(NetEvent::NeighborDown(id)) => Input::NeighborDown(id),
                    Some(NetEvent::Lagged) => Input::Lagged,
                    Some(NetEvent::Closed(reason)) => anyhow::bail!("the network stopped: {reason}"),
                    None => anyhow::bail!("the network stopped"),
                }),
                Some(envelopes) = self.history_rx.recv() => {
                    self.fetching = self.fetching.saturating_sub(1);
                    return Ok(Input::History(envelopes));
                }
                Some(query) = self.queries.recv() => {
                    let answer = if query.topic == self.room.topic() {
                        self.room.history_answer(query.since, query.limit, UnixMillis::now())
                    } else {
                        Vec::new()
                    };
                    let _ = query.reply.send(answer);
                }
            }
        }
    }

    /// When the room next needs a `Tick`.
    pub fn next_deadline(&self) -> Option<tokio::time::Instant> {
        self.room
            .next_deadline()
            .map(tokio::time::Instant::from_std)
    }

    /// A fresh ticket: us first, then a few current neighbours, so it outlives any one member.
    pub async fn ticket(&self) -> String {
        let neighbors: Vec<_> = self.room.neighbors().copied().collect();
        let peers = self.node.ticket_peers(&neighbors, MAX_TICKET_PEERS).await;
        Ticket::new(self.room.topic(), peers).to_string()
    }

    /// Remember who is around now, to dial them when rejoining later.
    pub async fn remember_peers(&self) {
        let Some(store) = &self.store else {
            return;
        };
        let neighbors: Vec<_> = self.room.neighbors().copied().collect();
        let mut peers = self
            .node
            .ticket_peers(&neighbors, MAX_TICKET_PEERS + 1)
            .await;
        peers.retain(|p| p.id != self.room.id());
        let topic = self.room.topic();
        if let Err(err) = with(store, |s| s.update_room_peers(topic, &peers)) {
            tracing::warn!("cannot remember peers: {err}");
        }
    }

    /// Messages of this room containing all `words`, newest first.
    pub fn search(&self, words: &str) -> Result<Vec<StoredMessage>, String> {
        let store = self.store.as_ref().ok_or_else(|| {
            "search needs history on disk (not available with --ephemeral)".to_string()
        })?;
        let topic = self.room.topic();
        with(store, |s| s.search(topic, words, 50)).map_err(|e| e.to_string())
    }

    /// Say goodbye, give the network a moment to carry it, and close, within ~1.5 s.
    pub async fn leave(mut self) {
        let had_neighbors = self.room.is_joined();
        if had_neighbors {
            self.remember_peers().await;
        }
        if let Some(store) = &self.store {
            let topic = self.room.topic();
            let _ = with(store, |s| s.touch_room(topic, UnixMillis::now()));
        }
        self.feed(Input::Leave);
        let _ = tokio::time::timeout(LEAVE_FLUSH, self.net.flush()).await;
        self.node
            .shutdown(self.net, had_neighbors, CLOSE_LIMIT)
            .await;
    }
}

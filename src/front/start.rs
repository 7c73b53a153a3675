//! From the command line's start (open, join a ticket, rejoin a known room) to a session's
//! spec; the shared pieces every front end needs to run sessions: the node and the store
//! thread, and closing them in order.

use std::time::Duration;

use crate::config::{Config, ConfigError, Start};
use crate::net::{Nearby, Node};
use crate::proto::EndpointAddr;
use crate::proto::ticket::Ticket;
use crate::session::{Entry, SessionSpec};
use crate::store::{Store, StoreHandle, StoreThread};

/// How long closing the endpoint may take: peers that are already gone never acknowledge the
/// close, and nobody should wait for them. With the session's 225 ms linger, leaving takes
/// at most ~450 ms.
pub const CLOSE_LIMIT: Duration = Duration::from_millis(225);
/// How long exiting waits for the store thread to write what is queued.
const STORE_CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// How long `parlor nearby` and `join LABEL` listen to the LAN: mDNS asks every 0.7 s, and
/// answers come within a few rounds (0.5-0.8 s in the lab). `nearby` then lists what it
/// heard, so the whole command takes under 3 s; `join LABEL` stops as soon as it hears it.
pub const LAN_LISTEN: Duration = Duration::from_millis(2500);
/// How long `join LABEL` keeps listening after hearing a room of that label, for others of
/// the same label (mDNS asks every 0.7 s).
const LABEL_SETTLE: Duration = Duration::from_millis(1000);

/// The session `start` asks for, named `name`.
pub fn spec_of(config: &Config, start: &Start, name: String) -> Result<SessionSpec, ConfigError> {
    // A ticket's room is ready once a peer answers; a new or known room at once.
    let (topic, peers, wait_for_peer) = match start {
        Start::Open => (None, Vec::new(), false),
        Start::Join(ticket) => (Some(ticket.topic), ticket.peers.clone(), true),
        Start::Rejoin { topic, peers, .. } => (Some(*topic), peers.clone(), false),
        Start::Invite(invite) => (
            Some(super::private::invite_topic(invite)),
            invite.peers.clone(),
            false,
        ),
        Start::Known(_) | Start::Lan(_) => return Err(ConfigError::NoCommand),
    };
    // A known room keeps the name last used there, unless `--name` says otherwise.
    let name = match start {
        Start::Rejoin {
            name: Some(stored), ..
        } if !config.name_given => stored.clone(),
        _ => name,
    };
    let entry = Entry {
        topic,
        peers,
        label: config.label.clone(),
        lan: config
            .lan
            .then(|| config.label.clone().unwrap_or_else(|| name.clone())),
        // A new room is named after its label; a ticket's room shows the ticket's name
        // until a member tells it.
        room_name: match start {
            Start::Open => config.label.clone(),
            Start::Join(ticket) => ticket.name.clone(),
            Start::Invite(invite) => invite.name.clone(),
            _ => None,
        },
    };
    Ok(SessionSpec {
        name,
        entry,
        history: config.history,
        limits: config.limits,
        join_timeout: wait_for_peer.then_some(config.join_timeout),
        // Private rooms are not exposed to the command line yet (issue 23).
        private: None,
    })
}

/// `join ROOM` that is no ticket: the known room labelled `query` (or whose topic starts with
/// it), else a room announced on the LAN. Errors carry their exit code (2: bad input).
pub fn known_room(store: &Store, query: String, lan: bool) -> Result<Start, (u8, String)> {
    match store.find_room(&query).map_err(|e| (1, e.to_string()))? {
        Ok(room) => Ok(Start::Rejoin {
            topic: room.topic,
            peers: room.peers,
            name: room.my_name,
            label: room.label,
        }),
        // Perhaps someone announces it on the LAN: the front end looks once it runs.
        Err(crate::store::FindError::NotFound(_)) => {
            crate::config::lan_start(query, lan).map_err(|e| (2, e.to_string()))
        }
        Err(e) => Err((2, format!("not a ticket, and {e}"))),
    }
}

/// The spec for `start`, first finding a LAN room (`join LABEL` that matched no known room):
/// its session joins through the members announcing it, and announces it too. A private
/// room found there comes back too: joining it is a knock.
pub async fn resolve_spec(
    config: &Config,
    node: &Node,
    start: &Start,
    name: String,
) -> anyhow::Result<(SessionSpec, Option<Nearby>)> {
    let Start::Lan(query) = start else {
        return Ok((spec_of(config, start, name)?, None));
    };
    let room = find_lan_room(node, query).await?;
    let peers = room.announcers.iter().map(|id| EndpointAddr::new(*id));
    let ticket = Ticket::new(room.topic, peers.collect());
    let mut spec = spec_of(config, &Start::Join(ticket), name)?;
    spec.entry.label = Some(room.label.clone());
    spec.entry.lan = Some(room.label.clone());
    Ok((spec, room.private.is_some().then_some(room)))
}

/// `join LABEL`: no known room and no room on the LAN matches (bad input: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum NoSuchRoom {
    #[error(
        "no known room and no room on the LAN is labelled {0:?} (see `parlor rooms` and `parlor nearby`)"
    )]
    NotFound(String),
    #[error(
        "several rooms on the LAN are labelled {0:?} ({1}); join one by its topic prefix (see `parlor nearby`)"
    )]
    Ambiguous(String, String),
    /// Said otherwise (several known rooms match, not a label, LAN discovery off).
    #[error("{0}")]
    Other(String),
}

/// Listen to the LAN (at most [`LAN_LISTEN`]) for a room labelled `query` or whose topic
/// starts with it.
pub async fn find_lan_room(node: &Node, query: &str) -> anyhow::Result<Nearby> {
    let Some(lan) = node.lan() else {
        anyhow::bail!(
            "no known room is labelled {query:?}, and LAN discovery is off (see `parlor rooms`)"
        );
    };
    let mut changes = lan.subscribe();
    let topic_prefix = query.to_ascii_lowercase();
    let matching = |rooms: Vec<Nearby>| -> Vec<Nearby> {
        rooms
            .into_iter()
            .filter(|r| r.label == query || r.topic.to_string().starts_with(&topic_prefix))
            .collect()
    };
    let mut deadline = tokio::time::Instant::now() + LAN_LISTEN;
    let mut found = matching(lan.nearby());
    let mut settling = false;
    loop {
        if !found.is_empty() && !settling {
            // A whole topic names one room; a label may be on several: listen a little
            // longer, so the fastest announcer does not simply win.
            if topic_prefix.len() == 64 {
                break;
            }
            settling = true;
            deadline = tokio::time::Instant::now() + LABEL_SETTLE;
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => found = matching(lan.nearby()),
            _ => break,
        }
    }
    match found.len() {
        0 => Err(NoSuchRoom::NotFound(query.to_string()).into()),
        1 => Ok(found.remove(0)),
        _ => {
            let topics: Vec<String> = found.iter().map(|r| r.topic.fmt_short()).collect();
            Err(NoSuchRoom::Ambiguous(query.to_string(), topics.join(", ")).into())
        }
    }
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

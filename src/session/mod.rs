//! A chat session as an actor: one task owns a room's state machine, its topic subscription and
//! its share of the store, and is the only driver of the room. Front ends (the terminal UI,
//! headless mode, benchmarks) hold a cheap, cloneable [`SessionHandle`] to send commands and
//! read a bounded stream of [`SessionEvent`]s, readiness and failure included.
//!
//! Contract: sessions see `proto`, `net` and `store` handles; they never touch the terminal or
//! the disk themselves. Several sessions can share one [`Node`] (one endpoint, one gossip).
//!
//! Modelled on iroh-gossip's `net::Actor` and mini-redis's connection handler.

mod actor;
mod catch_up;
mod commands;
pub(crate) mod direct;
mod handle;
mod heal;
mod invalid;
mod leave;
mod outbox;
mod private;
mod reconnect;
mod roster;
mod saving;
mod sealed;
mod telling;

#[cfg(test)]
mod intruder_tests;
#[cfg(test)]
mod knock_tests;
#[cfg(test)]
mod net_tests;
#[cfg(test)]
mod private_tests;
#[cfg(test)]
mod sealed_tests;
#[cfg(test)]
mod tests;

use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;

use crate::net::Node;
use crate::proto::backlog::HistoryWindow;
use crate::proto::lan::LanRoom;
use crate::proto::limits::RateLimits;
use crate::proto::room::{Event, Input, Output, Record, Room, RoomConfig};
use crate::proto::{EndpointAddr, EndpointId, MemberInfo, Now, TopicId, UnixMillis};
use crate::store::StoreHandle;

pub use crate::model::{Connectivity, NetState, NetView};
/// The DM actor's handle and events (their `conversations`, `stats` and `try_recv` are the
/// tests' only, kept as the handle's public surface).
pub use direct::{DirectEvent, DirectEvents, DirectHandle, spawn_direct};
pub use handle::{Events, Left, SessionGone, SessionHandle, Status};
pub use private::{DEFAULT_INVITE_LASTS, PrivateSpec};

/// Commands waiting for the actor; senders wait beyond this.
const COMMAND_CAPACITY: usize = 64;
/// Events the front end has not read yet; beyond this they wait in the actor's outbox.
const EVENT_CAPACITY: usize = 1024;

/// What a session tells its front end, in the order things happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The session can send: at once for a new or known room, after the first peer answered
    /// for a ticket's room. Comes once, before the stored history.
    Ready {
        me: MemberInfo,
        topic: TopicId,
        ticket: String,
        /// The room's name so far: a member's signed one, else the ticket's.
        room_name: Option<String>,
        kind: crate::model::RoomKind,
    },
    Room(Event),
    /// The member list after it changed (and once with `Ready`).
    Members(Vec<MemberInfo>),
    /// The room's connectivity changed (after `Ready`).
    Net(NetState),
    /// Our address changed (a home relay was found, an interface came or went): a ticket
    /// that carries the new addresses.
    Ticket(String),
    /// Something the user should know (a message that could not be saved).
    Warning(String),
    /// A private room's signed state, once with `Ready` and after every change.
    State(crate::model::RoomStateView),
    /// We are no longer a member of this private room: removed (or banned) by `by`, for
    /// `reason`. The session ends after this.
    Removed {
        by: Option<EndpointId>,
        reason: String,
        ban: bool,
    },
    /// Someone who found this private room on the LAN knocks, calling itself `name`
    /// (unchecked); we are an admin: `/accept` or `/deny` it.
    Knock {
        id: EndpointId,
        name: String,
    },
    /// We knock at a private room found on the LAN (at the `asked` members announcing it),
    /// waiting for one of its admins; comes before the session starts.
    Knocking {
        label: String,
        asked: usize,
    },
    /// A knocker hung up before anyone answered.
    KnockGone {
        id: EndpointId,
        name: String,
    },
    /// The session ended by itself: nobody answered in time, or the network stopped. The
    /// stream ends after this.
    Failed(String),
}

/// Which room to be in.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// `None`: a new room with a random topic.
    pub topic: Option<TopicId>,
    /// Peers to dial.
    pub peers: Vec<EndpointAddr>,
    pub label: Option<String>,
    /// Announce the room on the LAN under this label (`--lan`).
    pub lan: Option<String>,
    /// A new room (`topic: None`): the name everyone sees, signed and announced (the label
    /// it is opened with). A ticket's room: the name the ticket carried (untrusted), shown
    /// until a member's signed one arrives.
    pub room_name: Option<String>,
}

/// How to start a session.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    pub name: String,
    pub entry: Entry,
    pub history: HistoryWindow,
    /// What one member may send.
    pub limits: RateLimits,
    /// `Some`: a ticket's room, ready once a peer answers, given up after this long.
    /// `None`: ready at once (lines queue until someone is there).
    pub join_timeout: Option<Duration>,
    /// `Some`: a private room's epoch: the session talks on the topic its key derives and
    /// seals what it sends, opens what it receives (see [`sealed`]). `None`: a public room,
    /// the wire as before.
    pub private: Option<PrivateSpec>,
}

/// `join` gave up: nobody listed in the ticket answered in time.
#[derive(Debug, thiserror::Error)]
#[error("no peer answered within {:.1} s (the ticket lists {peers} peer(s)); the room may be empty or unreachable", waited.as_secs_f64())]
pub struct NoPeerAnswered {
    pub peers: usize,
    pub waited: Duration,
}

/// Subscribe to the room on `node` and start its actor. With a store, the room is recorded
/// and its stored history loaded (checked off this thread) to be shown after `Ready`. Returns
/// without waiting for any peer.
pub async fn spawn(
    node: &Node,
    store: Option<StoreHandle>,
    spec: SessionSpec,
) -> anyhow::Result<(SessionHandle, Events)> {
    // A private room's envelopes are signed for, and its history kept under, its lasting
    // topic; only its epoch's topic carries traffic.
    let (topic, subscribed) = match &spec.private {
        Some(private) => {
            let net = node
                .subscribe(private.topic(), &spec.entry.peers)
                .await
                .context("cannot subscribe")?;
            (private.room_topic(), net)
        }
        None => {
            let topic = spec
                .entry
                .topic
                .unwrap_or_else(|| TopicId::from_bytes(rand::random()));
            let net = node
                .subscribe(topic, &spec.entry.peers)
                .await
                .context("cannot subscribe")?;
            (topic, net)
        }
    };
    let (net, queries) = (subscribed, node.serve_history(topic));
    let private = spec
        .private
        .as_ref()
        .map(|p| private::Private::new(p, node.serve_keys(p.room())));
    // Announced once in the room (withdrawn when the session ends, however it ends). Not
    // fatal: the room works without it, and the user hears why.
    let mut warnings = Vec::new();
    if let Some(label) = &spec.entry.lan {
        // A private room announces its id: finding it lets nobody in without a knock.
        let announced = match &spec.private {
            Some(private) => LanRoom::private(private.room(), label.clone()),
            None => LanRoom::public(topic, label.clone()),
        };
        match node.announce(topic, Some(announced)) {
            Ok(0) => {}
            Ok(n) => warnings.push(format!(
                "announced on the LAN, but {n} other room(s) of this process no longer fit in the announcement"
            )),
            Err(err) => warnings.push(format!("{err:#}")),
        }
    }
    let config = RoomConfig {
        history: spec.history,
        limits: spec.limits,
        // A sealed envelope is longer than the signed one inside: room for it under the
        // gossip message limit.
        max_envelope: crate::proto::wire::MAX_ENVELOPE_SIZE
            - if spec.private.is_some() {
                crate::proto::seal::SEAL_OVERHEAD
            } else {
                0
            },
        ..RoomConfig::default()
    };
    let mut room = Room::new(
        node.secret(),
        topic,
        spec.name.clone(),
        rand::random(),
        config,
    );
    // Deletes of others' lines are checked against the private state's owner and admins
    // (kept current by the session as the state changes).
    // (The state folded once already, for the session's `Private`.)
    if let Some(private) = &private {
        let _ = room.handle(Input::SetAdmins(private.admins()), Now::system());
    }
    let mut restored = match &store {
        Some(store) => restore(store, &mut room, &spec).await?,
        None => Vec::new(),
    };
    let room_name = spec.entry.room_name.as_deref();
    let room_name_hint = match spec.entry.topic {
        // A private room's name is its state's.
        _ if spec.private.is_some() => None,
        None => {
            if let Some(name) = room_name {
                restored.extend(name_new_room(store.as_ref(), &mut room, name).await?);
            }
            None
        }
        Some(_) => room_name.and_then(crate::proto::names::clean_room_name),
    };
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_CAPACITY);
    let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
    let handle = SessionHandle::new(cmd_tx, room.id(), topic, store.clone());
    let parts = actor::Parts {
        node: node.clone(),
        net,
        queries,
        room,
        store,
        cmds: cmd_rx,
        events: event_tx,
        restored,
        ticket_peers: spec.entry.peers.len(),
        room_name_hint,
        known_peers: spec.entry.peers.iter().map(|p| p.id).collect(),
        announced: spec.entry.lan.is_some(),
        warnings,
        join_timeout: spec.join_timeout,
        sealing: spec
            .private
            .as_ref()
            .map(|p| sealed::Sealing::with_key(&p.key)),
        private,
    };
    tokio::spawn(actor::run(parts));
    Ok((handle, Events::new(event_rx)))
}

/// A new room takes the name it was opened with: signed now, sent to whoever joins with the
/// member list, kept on disk. The events to show after `Ready`.
async fn name_new_room(
    store: Option<&StoreHandle>,
    room: &mut Room,
    name: &str,
) -> anyhow::Result<Vec<Event>> {
    let topic = room.topic();
    let mut events = Vec::new();
    let mut records = Vec::new();
    for output in room.handle(Input::SetRoomName(name.to_string()), Now::system()) {
        match output {
            Output::Event(event) => events.push(event),
            Output::Persist(record) => records.push(record),
            _ => {}
        }
    }
    if let Some(store) = store {
        store
            .call(move |store| {
                let now = UnixMillis::now();
                records
                    .iter()
                    .try_for_each(|record| store.save(topic, record, now).map(drop))
            })
            .await??;
    }
    Ok(events)
}

/// Record the room, then load its stored envelopes through the room (already on disk: only
/// the events matter). Reading and checking run off the network thread.
async fn restore(
    store: &StoreHandle,
    room: &mut Room,
    spec: &SessionSpec,
) -> anyhow::Result<Vec<Event>> {
    let topic = room.topic();
    let (name, entry, history) = (spec.name.clone(), spec.entry.clone(), spec.history);
    let (envelopes, pins, ignored) = store
        .call(move |store| {
            let now = UnixMillis::now();
            store.remember_room(topic, entry.label.as_deref(), &entry.peers, &name, now)?;
            store.set_setting("last_name", &name)?;
            store.set_open(topic, true)?;
            let envelopes = store.history_envelopes(topic, history, now)?;
            anyhow::Ok((envelopes, store.pins(topic)?, store.ignored(topic)?))
        })
        .await??;
    room.restore_pins(pins);
    room.restore_ignored(ignored);
    let checked = catch_up::check_off_thread(envelopes, topic).await;
    room.restore_established(checked.accepted.iter().map(|(v, _)| v.author));
    let mut events = Vec::new();
    let mut pins = Vec::new();
    for output in room.handle(Input::CheckedHistory(checked), Now::system()) {
        match output {
            Output::Event(event) => events.push(event),
            // Names stored before pins were kept: pin them now, as first met on disk.
            Output::Persist(record @ Record::Pin { .. }) => pins.push(record),
            _ => {}
        }
    }
    if !pins.is_empty() {
        store
            .call(move |store| {
                let now = UnixMillis::now();
                pins.iter()
                    .try_for_each(|pin| store.save(topic, pin, now).map(drop))
            })
            .await??;
    }
    Ok(events)
}

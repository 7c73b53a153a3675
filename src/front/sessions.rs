//! The rooms of one front end: several sessions on one node, started in tasks (finding a LAN
//! room and loading stored history never hold the front end up), their events merged into one
//! stream tagged with the room they are about.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::start;
use crate::config::{Config, Start};
use crate::net::Node;
use crate::proto::TopicId;
use crate::session::{self, Left, SessionEvent, SessionHandle};
use crate::store::StoreHandle;

pub use crate::model::rooms::RoomKey;

/// Events of all rooms waiting for the front end; beyond this each room's events wait in its
/// session's outbox (which, bounded too, pauses its network input).
const MERGED_CAPACITY: usize = 256;

/// `start` of room `key` is about to enter `topic`: refused when another room of ours is it.
fn claim(
    topics: &Mutex<HashMap<TopicId, RoomKey>>,
    topic: TopicId,
    key: RoomKey,
) -> anyhow::Result<()> {
    let mut topics = lock(topics);
    match topics.get(&topic) {
        Some(other) if *other != key => {
            anyhow::bail!("you are in this room already (#{})", topic.fmt_short())
        }
        _ => {
            topics.insert(topic, key);
            Ok(())
        }
    }
}

/// A known room by label or topic (`/join ops`, the lobby's rejoin), else one on the LAN;
/// naming no room is bad input ([`start::NoSuchRoom`]).
async fn known(store: Option<&StoreHandle>, query: String, lan: bool) -> anyhow::Result<Start> {
    let Some(store) = store else {
        return Ok(crate::config::lan_start(query, lan)?);
    };
    store
        .call(move |s| start::known_room(s, query, lan))
        .await?
        .map_err(|(code, message)| match code {
            2 => anyhow::Error::new(start::NoSuchRoom::Other(message)),
            _ => anyhow::anyhow!(message),
        })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while holding it.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// What happened to one room.
pub enum Update {
    /// The session runs (not yet ready for a ticket's room).
    Started(SessionHandle),
    /// It could not start: bad input (`NoSuchRoom`) or the network.
    StartFailed(anyhow::Error),
    Event(SessionEvent),
    /// Its event stream ended (after it left or failed).
    Ended,
}

/// How to start one room.
#[derive(Debug, Clone)]
pub struct RoomStart {
    pub start: Start,
    pub name: String,
    /// Replaces the configured `--label` (`/open LABEL`).
    pub label: Option<String>,
    /// A new room is private whatever the configuration says (`/lock`'s successor).
    pub private: bool,
}

pub struct Sessions {
    node: Node,
    store: Option<StoreHandle>,
    config: Config,
    handles: HashMap<RoomKey, SessionHandle>,
    /// Rooms started and not running yet, and those of them parted meanwhile (left as soon
    /// as they run).
    starting: HashSet<RoomKey>,
    parted: HashSet<RoomKey>,
    /// Which room each topic is, from the moment its start knows the topic: a room is never
    /// entered twice (two subscriptions would show everything twice).
    topics: Arc<Mutex<HashMap<TopicId, RoomKey>>>,
    tx: mpsc::Sender<(RoomKey, Update)>,
    rx: mpsc::Receiver<(RoomKey, Update)>,
}

impl Sessions {
    pub fn new(node: Node, store: Option<StoreHandle>, config: Config) -> Self {
        let (tx, rx) = mpsc::channel(MERGED_CAPACITY);
        Self {
            node,
            store,
            config,
            handles: HashMap::new(),
            starting: HashSet::new(),
            parted: HashSet::new(),
            topics: Arc::default(),
            tx,
            rx,
        }
    }

    /// Start a room in a task; its `Started` (or `StartFailed`) and then its events come
    /// through [`Self::next`] under `key`.
    pub fn start(&mut self, key: RoomKey, room: RoomStart) {
        self.starting.insert(key);
        let (node, store, config, tx) = (
            self.node.clone(),
            self.store.clone(),
            self.config.clone(),
            self.tx.clone(),
        );
        let topics = self.topics.clone();
        tokio::spawn(async move {
            let spawned = async {
                // A known room by label or topic (`/join ops`, the lobby's rejoin).
                let begin = match room.start {
                    Start::Known(query) => known(store.as_ref(), query, config.net.lan).await?,
                    begin => begin,
                };
                let (mut spec, knock) =
                    start::resolve_spec(&config, &node, &begin, room.name).await?;
                if let Some(label) = room.label {
                    // Announced on the LAN (with --lan) under the label it was opened with.
                    if spec.entry.lan.is_some() {
                        spec.entry.lan = Some(label.clone());
                    }
                    // A new room is named for everyone after the label it is opened with.
                    if spec.entry.topic.is_none() {
                        spec.entry.room_name = Some(label.clone());
                    }
                    spec.entry.label = Some(label);
                }
                if let Some(topic) = spec.entry.topic {
                    claim(&topics, topic, key)?;
                }
                if let Some(found) = &knock {
                    let knocking = SessionEvent::Knocking {
                        label: found.label.clone(),
                        asked: found.announcers.len(),
                    };
                    let _ = tx.send((key, Update::Event(knocking))).await;
                }
                let how = super::private::How {
                    force_private: room.private,
                    knock: knock.as_ref(),
                };
                super::private::prepare(&node, store.as_ref(), &config, &begin, how, &mut spec)
                    .await?;
                session::spawn(&node, store, spec).await
            };
            let (handle, mut events) = match spawned.await {
                Ok(started) => started,
                Err(err) => {
                    let _ = tx.send((key, Update::StartFailed(err))).await;
                    return;
                }
            };
            if tx.send((key, Update::Started(handle))).await.is_err() {
                return;
            }
            while let Some(event) = events.recv().await {
                if tx.send((key, Update::Event(event))).await.is_err() {
                    return;
                }
            }
            let _ = tx.send((key, Update::Ended)).await;
        });
    }

    /// The next thing that happened to any room. Never ends (the sender lives in `self`).
    pub async fn next(&mut self) -> (RoomKey, Update) {
        let (key, update) = self.rx.recv().await.expect("Sessions holds a sender");
        self.note(key, &update);
        (key, update)
    }

    /// An update if one is waiting.
    pub fn try_next(&mut self) -> Option<(RoomKey, Update)> {
        let (key, update) = self.rx.try_recv().ok()?;
        self.note(key, &update);
        Some((key, update))
    }

    fn note(&mut self, key: RoomKey, update: &Update) {
        match update {
            Update::Started(handle) => {
                self.starting.remove(&key);
                // An opened room's topic is known only now.
                lock(&self.topics).insert(handle.topic(), key);
                if self.parted.remove(&key) {
                    let handle = handle.clone();
                    tokio::spawn(async move { handle.part().await });
                } else {
                    self.handles.insert(key, handle.clone());
                }
            }
            Update::Ended | Update::StartFailed(_) => {
                self.starting.remove(&key);
                self.parted.remove(&key);
                self.handles.remove(&key);
                lock(&self.topics).retain(|_, k| *k != key);
            }
            Update::Event(_) => {}
        }
    }

    pub fn handle(&self, key: RoomKey) -> Option<&SessionHandle> {
        self.handles.get(&key)
    }

    /// `/part`: leave the room for good (not rejoined on the next start), in the background
    /// (a room still starting, as soon as it runs); its remaining events and `Ended` still
    /// come through [`Self::next`]. `false` if the room ended already.
    pub fn part(&mut self, key: RoomKey) -> bool {
        if self.starting.contains(&key) {
            // Left the moment it runs.
            self.parted.insert(key);
            return true;
        }
        let Some(handle) = self.handles.remove(&key) else {
            return false;
        };
        tokio::spawn(async move { handle.part().await });
        true
    }

    /// Leave every room at once (each says goodbye and lingers in parallel), keeping them in
    /// the list of rooms to rejoin; returns what each left unsent. Their last events are
    /// dropped: call [`Self::drain`] to read them.
    pub async fn leave_all(&mut self) -> Vec<(RoomKey, Left)> {
        let mut leaving = tokio::task::JoinSet::new();
        for (key, handle) in self.handles.drain() {
            leaving.spawn(async move { handle.leave().await.ok().map(|left| (key, left)) });
        }
        let mut left = Vec::new();
        while let Some(done) = leaving.join_next().await {
            left.extend(done.ok().flatten());
        }
        left
    }

    /// What `/join TICKET|LABEL` means: a ticket, else a known room (by label or topic
    /// prefix), else a room announced on the LAN. Errors are one line for the user.
    pub async fn resolve(&self, what: String) -> Result<Start, String> {
        let lan = self.config.net.lan;
        let start = crate::config::join_start(what, self.store.is_none(), lan)
            .map_err(|err| err.to_string())?;
        match start {
            Start::Known(query) => known(self.store.as_ref(), query, lan)
                .await
                .map_err(|err| format!("{err:#}")),
            start => Ok(start),
        }
    }
}

//! The front-end core: everything the terminal UI and headless mode share. It boots once (the
//! store thread, the node, the DM actor, the rooms' sessions, files), owns the rooms (and the
//! commands typed for one that is still starting), the direct messages, the files and name
//! resolution, and carries out every command about a room or a conversation
//! ([`Core::execute`]). The front ends turn input into [`Command`]s, hand them over with a
//! [`Target`], and present the [`Reply`]s and [`Incoming`] events, each in its own way.

pub mod direct;
mod execute;
pub mod files;
mod knock;
mod lock;
mod moderate;
pub mod private;
mod reply;
pub mod rooms;
pub mod sessions;
pub mod start;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use n0_future::FuturesUnordered;
use n0_future::StreamExt;
use tokio::sync::mpsc;

pub use self::files::{FileUpdate, Files};
pub use self::reply::{About, Answer, Reply};
pub use self::rooms::{Room, Rooms};
pub use self::sessions::{RoomKey, RoomStart, Sessions, Update};
use crate::config::{Config, Start};
use crate::net::Node;
use crate::proto::room::Event;
use crate::proto::{Directory, EndpointId, MessageId};
use crate::session::SessionEvent;
use crate::session::direct::{DirectEvent, DirectEvents, DirectHandle, spawn_direct};
use crate::store::{Store, StoreThread};

/// Where a command goes: a room, or a private conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Room(RoomKey),
    Direct(EndpointId),
}

/// Something that happened, for a front end to present (after [`Core::absorb`]).
pub enum Incoming {
    Room(RoomKey, Update),
    Direct(DirectEvent),
    File(FileUpdate),
    /// Answers to commands whose work went on in the background (terminal UI).
    Replies(Vec<Reply>),
}

type Work = Pin<Box<dyn Future<Output = Vec<Reply>> + Send>>;

/// How a front end wants slow answers (searching the disk, a ticket, hashing a file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// Awaited where the command is carried out, so replies keep the order commands were
    /// typed in (headless: a script reads its answers in order).
    InOrder,
    /// Worked on in the background and delivered through [`Core::next`] as each is done (a
    /// slow search never holds up a ticket; each reply names the view it is about),
    /// so typing never waits on the disk or the network (terminal UI).
    Later,
}

pub struct Core {
    config: Config,
    node: Node,
    store: Option<StoreThread>,
    pub(crate) sessions: Sessions,
    pub(crate) files: Files,
    file_updates: mpsc::Receiver<FileUpdate>,
    pub(crate) direct: DirectHandle,
    direct_events: DirectEvents,
    pub(crate) rooms: Rooms,
    /// Everyone seen in any room or conversation this run, for `/msg` and `/query`.
    pub(crate) directory: Directory,
    /// Our direct messages of this run not delivered yet (known when answers come in order).
    pub(crate) pending_dms: HashSet<MessageId>,
    answers: Answers,
    /// In a mutex only to be `Sync` (futures are not), so `&Core` may be held across an
    /// await; only ever reached through `&mut self`, so never locked.
    later: std::sync::Mutex<FuturesUnordered<Work>>,
    /// The name rooms opened from now on start with: `--name`, then the last `/nick`.
    name: String,
    /// `/lock` successors not running yet, and the rooms to open private whatever the
    /// configuration says.
    locks: std::collections::HashMap<RoomKey, lock::Lock>,
    forced_private: HashSet<RoomKey>,
}

impl Core {
    /// Check the rooms the command line names (bad input is reported before anything
    /// starts), then start the store thread, the node and the DM actor.
    pub async fn boot(
        config: Config,
        store: Option<Store>,
        answers: Answers,
    ) -> anyhow::Result<Self> {
        for start in config.starts() {
            // Rooms found by label (known or on the LAN) are looked up once they start.
            if !matches!(start, Start::Lan(_) | Start::Known(_)) {
                start::spec_of(&config, start, config.name.clone())?;
            }
        }
        let store = start::store_thread(store)?;
        let node = match Node::spawn(&config.net).await {
            Ok(node) => node,
            Err(err) => {
                start::close(None, store).await;
                return Err(err);
            }
        };
        let store_handle = start::store_handle(&store);
        let (direct, direct_events) =
            match spawn_direct(&node, store_handle.clone(), config.name.clone()).await {
                Ok(direct) => direct,
                Err(err) => {
                    start::close(Some(node), store).await;
                    return Err(err);
                }
            };
        let sessions = Sessions::new(node.clone(), store_handle, config.clone());
        let (files, file_updates) = Files::new(node.clone(), config.files.clone());
        let pending_dms = direct.pending_from_earlier().iter().copied().collect();
        Ok(Self {
            node,
            store,
            sessions,
            files,
            file_updates,
            direct,
            direct_events,
            rooms: Rooms::default(),
            directory: Directory::default(),
            // What earlier runs left undelivered is sent now; input ending waits for it too.
            pending_dms,
            answers,
            later: std::sync::Mutex::default(),
            name: config.name.clone(),
            locks: Default::default(),
            forced_private: HashSet::new(),
            config,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Whether direct messages are kept on disk (undelivered ones go out on the next run).
    pub fn keeps_dms(&self) -> bool {
        self.store.is_some()
    }

    /// Stop the DM actor, close the endpoint (bounded), and let the store write what is
    /// queued. Rooms are left by the front end first (it shows their last events).
    pub async fn close(self) {
        self.direct.shutdown().await;
        start::close(Some(self.node), self.store).await;
    }

    /// Start room `key` in the background (the current one when `current`) under `name` (by
    /// default the name last chosen); a label given replaces the configured one. Its
    /// `Started`, events and end come through [`Self::next`].
    pub fn start_room(
        &mut self,
        key: RoomKey,
        start: Start,
        name: Option<String>,
        label: Option<String>,
        current: bool,
    ) {
        let join_timeout = matches!(start, Start::Join(_) | Start::Lan(_) | Start::Invite(_))
            .then_some(self.config.join_timeout);
        let known = match &start {
            Start::Rejoin { label, .. } => label.clone(),
            Start::Lan(query) => Some(query.clone()),
            Start::Open => self.config.label.clone(),
            _ => None,
        };
        // Events name the room from the start when its topic is known already.
        let topic = match &start {
            Start::Join(ticket) => Some(ticket.topic),
            Start::Rejoin { topic, .. } => Some(*topic),
            Start::Invite(invite) => Some(private::invite_topic(invite)),
            _ => None,
        };
        self.rooms
            .add(key, topic, label.clone().or(known), join_timeout, current);
        let name = name.unwrap_or_else(|| self.name.clone());
        let private = self.forced_private.remove(&key);
        self.sessions.start(
            key,
            RoomStart {
                start,
                name,
                label,
                private,
            },
        );
    }

    /// The next thing that happened. Cancel-safe: nothing is taken before it is returned.
    pub async fn next(&mut self) -> Incoming {
        let later = self.later.get_mut().unwrap_or_else(|p| p.into_inner());
        tokio::select! {
            (key, update) = self.sessions.next() => Incoming::Room(key, update),
            Some(event) = self.direct_events.recv() => Incoming::Direct(event),
            Some(update) = self.file_updates.recv() => Incoming::File(update),
            Some(replies) = later.next(), if !later.is_empty() => Incoming::Replies(replies),
        }
    }

    /// A room's update if one is waiting (a burst costs one redraw).
    pub fn try_next_room(&mut self) -> Option<Incoming> {
        let (key, update) = self.sessions.try_next()?;
        Some(Incoming::Room(key, update))
    }

    /// Keep the core's own books on what came in: who may write to us and who is back (DM
    /// actor), who can be named (`/msg`), which files are offered, our lines waiting, which
    /// DMs are still pending. A room that started gets what was typed for it meanwhile, in
    /// order; the replies to that are returned.
    pub async fn absorb(&mut self, incoming: &Incoming) -> Vec<Reply> {
        match incoming {
            Incoming::Room(key, Update::Started(_)) => {
                let mut replies = Vec::new();
                for command in self.rooms.started(*key) {
                    replies.extend(self.execute(Some(Target::Room(*key)), command).await);
                }
                return replies;
            }
            Incoming::Room(key, Update::Event(event)) => {
                direct::note_members(&self.direct, event);
                self.note_seen(event);
                self.files.note(*key, event);
                match event {
                    SessionEvent::Ready {
                        topic, room_name, ..
                    } => {
                        self.rooms.ready(*key, *topic, room_name.as_deref());
                        let store = start::store_handle(&self.store);
                        files::ignored_from_disk(&self.node, store, *key, *topic);
                        if self.locks.contains_key(key) {
                            return self.lock_ready(*key).await;
                        }
                    }
                    SessionEvent::Room(Event::RoomNamed { name, by, .. }) => {
                        self.rooms.named(*key, name, &by.display);
                    }
                    // Our `/nick`, taken by the room (a refused name changes nothing):
                    // direct messages and rooms opened later carry the name last chosen.
                    SessionEvent::Room(Event::MemberRenamed { member, .. })
                        if member.id == self.direct.id() =>
                    {
                        self.direct.set_name(member.name.clone());
                        self.name = member.name.clone();
                    }
                    SessionEvent::Room(Event::Queued(waiting)) => {
                        self.rooms.set_queued(*key, *waiting);
                    }
                    SessionEvent::Failed(_) | SessionEvent::Removed { .. } => {
                        self.files.room_ended(*key)
                    }
                    SessionEvent::State(state) => {
                        self.rooms.set_state(*key, state);
                    }
                    _ => {}
                }
            }
            Incoming::Room(key, Update::StartFailed(_) | Update::Ended) => {
                self.files.room_ended(*key);
            }
            Incoming::Direct(DirectEvent::Message(message)) => {
                let me = self.direct.id();
                self.files.note_direct(message, &me);
                if message.from == me {
                    if message.state == crate::proto::direct::DmState::Pending {
                        self.pending_dms.insert(message.id);
                    }
                } else {
                    // A peer who wrote to us is reachable by name (`/msg`).
                    self.directory.note(&self.display_of(message).await);
                }
            }
            Incoming::Direct(DirectEvent::Status { id, state, .. }) => {
                if *state == crate::proto::direct::DmState::Delivered {
                    self.pending_dms.remove(id);
                }
            }
            Incoming::File(update) => self.files.update(update),
            Incoming::Direct(_) | Incoming::Replies(_) => {}
        }
        Vec::new()
    }

    /// Remember who an event shows, so `/msg` reaches them after they left.
    fn note_seen(&mut self, event: &SessionEvent) {
        match event {
            SessionEvent::Members(members) => members.iter().for_each(|m| self.directory.note(m)),
            SessionEvent::Room(
                Event::MemberJoined(member) | Event::MemberRenamed { member, .. },
            ) => {
                self.directory.note(member);
            }
            SessionEvent::Room(Event::MessageReceived(line)) => self.directory.note(&line.author),
            _ => {}
        }
    }

    /// How a direct message's sender is shown: as a room shows it, else with a fingerprint.
    async fn display_of(
        &self,
        message: &crate::proto::direct::DirectMessage,
    ) -> crate::proto::MemberInfo {
        let members = self.members().await;
        members
            .into_iter()
            .find(|m| m.id == message.from)
            .unwrap_or_else(|| direct::stranger(message.from, &message.name))
    }

    /// Every member of every room that runs.
    pub async fn members(&self) -> Vec<crate::proto::MemberInfo> {
        let mut all = Vec::new();
        for room in self.rooms.iter() {
            if let Some(session) = self.sessions.handle(room.key)
                && let Ok(members) = session.members().await
            {
                all.extend(members);
            }
        }
        all
    }

    /// Take a room off the list of rooms to rejoin (the lobby's Delete); its history stays.
    pub async fn forget_room(&mut self, topic: crate::proto::TopicId) -> Vec<Reply> {
        let Some(store) = start::store_handle(&self.store) else {
            return Vec::new();
        };
        self.answer(async move {
            match store.call(move |s| s.set_open(topic, false)).await {
                Ok(Ok(())) => Vec::new(),
                Ok(Err(err)) => vec![Reply::error(
                    About::Nothing,
                    format!("cannot forget the room: {err}"),
                )],
                Err(err) => vec![Reply::error(
                    About::Nothing,
                    format!("cannot forget the room: {err}"),
                )],
            }
        })
        .await
    }

    /// `work`'s replies: awaited now, or delivered later through [`Self::next`].
    async fn answer(
        &mut self,
        work: impl Future<Output = Vec<Reply>> + Send + 'static,
    ) -> Vec<Reply> {
        match self.answers {
            Answers::InOrder => work.await,
            Answers::Later => {
                let later = self.later.get_mut().unwrap_or_else(|p| p.into_inner());
                later.push(Box::pin(work));
                Vec::new()
            }
        }
    }
}

//! Direct messages: one actor per process on the shared [`Node`], beside the room sessions.
//! It signs our messages (`proto::direct`), keeps them pending (store, or memory with
//! `--ephemeral`) until the addressee acknowledges them over `parlor/dm/1` (`net::direct`),
//! retrying per peer in (sent, id) order; and it verifies, admits (keys we share a room or a
//! conversation with), rate-limits, saves and acknowledges what others send us.
//!
//! Front ends hold a cloneable [`DirectHandle`] and read [`DirectEvents`]; they resolve names
//! to keys and feed the actor who shares a live room ([`DirectHandle::allow`]) and who was
//! just seen online ([`DirectHandle::seen`]).

mod actor;
mod book;
mod outgoing;
mod round;

#[cfg(test)]
mod gate_tests;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, mpsc, oneshot};

use crate::net::Node;
use crate::store::StoreHandle;

pub use crate::proto::direct::{Conversation, DirectMessage, DmState};
use crate::proto::wire::FileRef;
use crate::proto::{EndpointId, MessageId};

/// Events the front end has not read yet.
const EVENT_CAPACITY: usize = 1024;
/// Commands waiting for the actor; senders wait beyond this.
const COMMAND_CAPACITY: usize = 64;
/// Peers seen online waiting for the actor to retry them.
const MAX_SEEN: usize = 4096;
/// Search results at most.
pub const SEARCH_LIMIT: usize = 200;

/// What the DM actor tells the front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectEvent {
    /// A message received, or ours once saved (state `Pending`).
    Message(DirectMessage),
    /// One of our messages changed state (to `Delivered`).
    Status {
        id: MessageId,
        peer: EndpointId,
        state: DmState,
    },
    /// Messages from a key we share no room with were dropped: at its first drop, then at
    /// most once a minute per sender with the count since the last report.
    Dropped { from: EndpointId, count: u64 },
    /// Something the user should know (a peer refusing our messages, a failed save).
    Warning(String),
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectStats {
    /// Messages from strangers, dropped.
    pub dropped_strangers: u64,
    /// Envelopes that did not verify (garbage, forged, not for us, from the future).
    pub rejected: u64,
    /// Messages refused by the per-sender rate limit.
    pub rate_limited: u64,
    /// Our messages acknowledged by their addressees.
    pub delivered: u64,
    /// Messages received and shown (duplicates not counted).
    pub received: u64,
}

/// Why a message was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("nothing to send")]
    Empty,
    #[error("you cannot message yourself")]
    ToSelf,
    #[error("message too long: {text_bytes} bytes, the limit is about {max_text_bytes}")]
    TooLong {
        text_bytes: usize,
        max_text_bytes: usize,
    },
    /// Too many waiting for that peer, or the store failed.
    #[error("{0}")]
    NotQueued(String),
    #[error("direct messages have stopped")]
    Gone,
}

/// What the handle shares with the actor without a command: cheap, synchronous updates.
#[derive(Default)]
struct Shared {
    seen: HashSet<EndpointId>,
    name: String,
}

/// What one direct message says: a line (an action, a file's), a reply, or a change to a
/// message of the conversation.
#[derive(Debug, Clone, Default)]
pub struct DmLine {
    pub text: String,
    pub action: bool,
    pub file: Option<FileRef>,
    pub reply_to: Option<MessageId>,
    pub change: Option<crate::proto::room::LineChange>,
}

enum Command {
    Send {
        to: EndpointId,
        line: DmLine,
        reply: oneshot::Sender<Result<MessageId, SendError>>,
    },
    Conversation {
        peer: EndpointId,
        limit: usize,
        reply: oneshot::Sender<Result<Vec<DirectMessage>, String>>,
    },
    Conversations(oneshot::Sender<Result<Vec<Conversation>, String>>),
    Search {
        peer: Option<EndpointId>,
        words: String,
        reply: oneshot::Sender<Result<Vec<DirectMessage>, String>>,
    },
    Stats(oneshot::Sender<DirectStats>),
    Shutdown(oneshot::Sender<()>),
}

/// The front end's way to the DM actor. Cheap to clone.
#[derive(Clone)]
pub struct DirectHandle {
    me: EndpointId,
    /// Our messages left pending by earlier runs, as loaded at start.
    earlier: Arc<[MessageId]>,
    cmds: mpsc::Sender<Command>,
    shared: Arc<Mutex<Shared>>,
    wake: Arc<Notify>,
    /// The node's keys we know: who may write to us.
    known: crate::net::known::Known,
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    // Nothing panics while holding it.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

impl DirectHandle {
    /// Our messages that earlier runs left pending (tried again from the start): a one-shot
    /// run waits for them as for its own.
    pub fn pending_from_earlier(&self) -> &[MessageId] {
        &self.earlier
    }

    pub fn id(&self) -> EndpointId {
        self.me
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.cmds.send(make(reply)).await.ok()?;
        answer.await.ok()
    }

    /// Sign and queue a message to `to`; it is saved as pending (reported as a `Message`
    /// event), then delivered (a `Status` event) whenever `to` is reachable.
    pub async fn send(
        &self,
        to: EndpointId,
        text: String,
        action: bool,
    ) -> Result<MessageId, SendError> {
        let line = DmLine {
            text,
            action,
            ..DmLine::default()
        };
        self.send_line(to, line).await
    }

    /// Send `line` (a reply, a change) to `to`, queued and delivered as any message.
    pub async fn send_line(&self, to: EndpointId, line: DmLine) -> Result<MessageId, SendError> {
        // Someone we write to may write back.
        self.known.add_talked([to]);
        self.ask(|reply| Command::Send { to, line, reply })
            .await
            .unwrap_or(Err(SendError::Gone))
    }

    /// Offer `file` (shared from our store already) to `to`, queued and delivered as a
    /// message whose text is the file's name.
    pub async fn send_file(&self, to: EndpointId, file: FileRef) -> Result<MessageId, SendError> {
        // The addressee would refuse it whole, and the queue retry it for ever.
        file.check().map_err(SendError::NotQueued)?;
        let line = DmLine {
            text: file.name.clone(),
            file: Some(file),
            ..DmLine::default()
        };
        self.send_line(to, line).await
    }

    /// These keys share a live room with us: they may message us.
    pub fn allow(&self, ids: impl IntoIterator<Item = EndpointId>) {
        self.known.add_members(ids);
    }

    /// The user ignores `id` in a room (`ignored` true), or no longer does: an ignored key's
    /// direct messages are refused on its connection, unread.
    pub fn ignore(&self, id: EndpointId, ignored: bool) {
        self.known.set_ignored(id, ignored);
    }

    /// `id` was just seen online in a room: retry what waits for it now.
    pub fn seen(&self, id: EndpointId) {
        let mut shared = lock(&self.shared);
        if shared.seen.len() < MAX_SEEN {
            shared.seen.insert(id);
        }
        drop(shared);
        self.wake.notify_one();
    }

    /// The name our next messages carry.
    pub fn set_name(&self, name: String) {
        lock(&self.shared).name = name;
    }

    /// The newest `limit` messages with `peer`, oldest first, in (sent, id) order.
    pub async fn conversation(
        &self,
        peer: EndpointId,
        limit: usize,
    ) -> Result<Vec<DirectMessage>, String> {
        self.ask(|reply| Command::Conversation { peer, limit, reply })
            .await
            .unwrap_or_else(|| Err(SendError::Gone.to_string()))
    }

    /// Every conversation, the most recent first.
    pub async fn conversations(&self) -> Result<Vec<Conversation>, String> {
        self.ask(Command::Conversations)
            .await
            .unwrap_or_else(|| Err(SendError::Gone.to_string()))
    }

    /// Messages with all of `words` (with `peer`, or anyone), newest first.
    pub async fn search(
        &self,
        peer: Option<EndpointId>,
        words: String,
    ) -> Result<Vec<DirectMessage>, String> {
        self.ask(|reply| Command::Search { peer, words, reply })
            .await
            .unwrap_or_else(|| Err(SendError::Gone.to_string()))
    }

    pub async fn stats(&self) -> DirectStats {
        self.ask(Command::Stats).await.unwrap_or_default()
    }

    /// Stop: deliveries in flight are abandoned (they stay pending), incoming messages are
    /// answered `Busy` from now on.
    pub async fn shutdown(&self) {
        let _ = self.ask(Command::Shutdown).await;
    }
}

/// The events of the DM actor, in order. Bounded: the actor holds events back (and stops
/// taking messages) while the front end does not read.
pub struct DirectEvents {
    rx: mpsc::Receiver<DirectEvent>,
}

impl DirectEvents {
    pub async fn recv(&mut self) -> Option<DirectEvent> {
        self.rx.recv().await
    }

    pub fn try_recv(&mut self) -> Option<DirectEvent> {
        self.rx.try_recv().ok()
    }
}

/// Start the process's DM actor on `node` (take over its incoming direct messages), with our
/// name `name`. Loads what waits for delivery from `store` (after a restart) and tries it at
/// once.
pub async fn spawn_direct(
    node: &Node,
    store: Option<StoreHandle>,
    name: String,
) -> anyhow::Result<(DirectHandle, DirectEvents)> {
    let book = book::Book::new(store);
    let pending = book.pending().await.map_err(anyhow::Error::msg)?;
    // Who may write to us besides live rooms' members (they come with the rooms): whom we
    // wrote to; and whom the user ignores. From now on strangers are refused unread.
    let (talked, ignored) = book.known().await.map_err(anyhow::Error::msg)?;
    let known = node.known().clone();
    known.add_talked(talked);
    for id in ignored {
        known.set_ignored(id, true);
    }
    known.gate();
    let earlier = pending.iter().map(|sealed| sealed.message.id).collect();
    let (cmds, cmd_rx) = mpsc::channel(COMMAND_CAPACITY);
    let (events, rx) = mpsc::channel(EVENT_CAPACITY);
    let shared = Arc::new(Mutex::new(Shared {
        name,
        ..Default::default()
    }));
    let wake = Arc::new(Notify::new());
    let handle = DirectHandle {
        me: node.id(),
        known,
        earlier,
        cmds,
        shared: shared.clone(),
        wake: wake.clone(),
    };
    let actor = actor::Actor::new(actor::Parts {
        node: node.clone(),
        book,
        cmds: cmd_rx,
        events,
        shared,
        wake,
        pending,
    });
    tokio::spawn(actor.run());
    Ok((handle, DirectEvents { rx }))
}

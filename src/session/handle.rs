//! The front ends' side of a session: commands in (each answer comes back on its own oneshot,
//! so nothing is matched by guessing), events out.

use tokio::sync::{mpsc, oneshot};

use super::SessionEvent;
use std::time::Duration;

use crate::model::{IssuedInvite, NetView, RoomStateView};
use crate::proto::room::{Input, RoomStats};
use crate::proto::state::Action;
use crate::proto::{EndpointId, MemberInfo, TopicId};
use crate::store::{StoreHandle, StoredMessage};

/// Most search results shown.
const SEARCH_LIMIT: usize = 50;

/// The session's actor has ended (it left, or failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the session has ended")]
pub struct SessionGone;

/// What leaving left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Left {
    /// Lines typed while nobody was there, never sent.
    pub unsent: usize,
}

/// A snapshot of the session, for `/net`-like displays and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub joined: bool,
    pub neighbors: usize,
    /// Lines waiting for a peer.
    pub queued: usize,
    /// Catch-up requests not answered yet.
    pub catching_up: usize,
    /// Messages the room holds to serve late joiners (ours included).
    pub messages: usize,
    pub stats: RoomStats,
    /// A private room: envelopes from the topic that did not open with the epoch's key
    /// (plaintext, another key, garbage), dropped unread. Always 0 in a public room.
    pub unopened: u64,
}

pub(super) enum Command {
    Say {
        text: String,
        action: bool,
    },
    Rename(String),
    /// Handed to the room as it is: `/ignore`, `/unignore`, `/ignored`.
    Room(Input),
    Members(oneshot::Sender<Vec<MemberInfo>>),
    Ticket(oneshot::Sender<String>),
    Status(oneshot::Sender<Status>),
    Net(oneshot::Sender<NetView>),
    /// Answered once no typed line is waiting for a peer.
    Drained(oneshot::Sender<()>),
    /// Hand the saves waiting to be batched to the store thread now, then answer.
    FlushSaves(oneshot::Sender<()>),
    Leave(oneshot::Sender<Left>),
    /// A private room's change, made as us (`Err`: why not).
    Moderate(Action, oneshot::Sender<Result<(), String>>),
    Invite {
        uses: Option<u32>,
        lasts: Duration,
        reply: oneshot::Sender<Result<IssuedInvite, String>>,
    },
    Invites(oneshot::Sender<Vec<IssuedInvite>>),
    Revoke(String, oneshot::Sender<Result<String, String>>),
    /// `/accept WHO`: who was let in.
    Accept(String, oneshot::Sender<Result<String, String>>),
    /// `/deny WHO REASON`: who was denied.
    Deny {
        who: String,
        reason: String,
        reply: oneshot::Sender<Result<String, String>>,
    },
    State(oneshot::Sender<Option<RoomStateView>>),
    /// Tests: feed the room as if gossip had dropped messages for us.
    #[cfg(test)]
    Lagged,
}

/// A cheap, cloneable handle on a running session.
#[derive(Clone)]
pub struct SessionHandle {
    cmds: mpsc::Sender<Command>,
    id: EndpointId,
    topic: TopicId,
    store: Option<StoreHandle>,
}

impl SessionHandle {
    pub(super) fn new(
        cmds: mpsc::Sender<Command>,
        id: EndpointId,
        topic: TopicId,
        store: Option<StoreHandle>,
    ) -> Self {
        Self {
            cmds,
            id,
            topic,
            store,
        }
    }

    pub fn id(&self) -> EndpointId {
        self.id
    }

    pub fn topic(&self) -> TopicId {
        self.topic
    }

    async fn send(&self, command: Command) -> Result<(), SessionGone> {
        self.cmds.send(command).await.map_err(|_| SessionGone)
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, SessionGone> {
        let (reply, answer) = oneshot::channel();
        self.send(command(reply)).await?;
        answer.await.map_err(|_| SessionGone)
    }

    /// Send a chat line (queued while nobody is there). A refusal comes back as an event that
    /// carries the line.
    pub async fn say(&self, text: String) -> Result<(), SessionGone> {
        self.send(Command::Say {
            text,
            action: false,
        })
        .await
    }

    /// Send an action (`/me waves`).
    pub async fn act(&self, text: String) -> Result<(), SessionGone> {
        self.send(Command::Say { text, action: true }).await
    }

    pub async fn rename(&self, name: String) -> Result<(), SessionGone> {
        self.send(Command::Rename(name)).await
    }

    /// A reply, reaction, edit or delete (`Input::Reply`, `React`, `Edit`, `Delete`): it
    /// comes back as a `MessageSent` or `Changed` event, or a refusal.
    pub async fn line(&self, input: Input) -> Result<(), SessionGone> {
        self.send(Command::Room(input)).await
    }

    /// `/topic TEXT`: name the room for everyone (a `RoomNamed` event, or a refusal, answers).
    pub async fn set_room_name(&self, name: String) -> Result<(), SessionGone> {
        self.send(Command::Room(Input::SetRoomName(name))).await
    }

    /// Offer a file already in our store (its line comes back as a `MessageSent`, or a
    /// refusal as an event).
    pub async fn share(&self, file: crate::proto::wire::FileRef) -> Result<(), SessionGone> {
        self.send(Command::Room(Input::ShareFile(file))).await
    }

    /// `/ignore WHO` (or `/unignore` with `ignore: false`); the room answers with an event.
    pub async fn ignore(&self, who: String, ignore: bool) -> Result<(), SessionGone> {
        self.send(Command::Room(Input::Ignore { who, ignore }))
            .await
    }

    /// `/ignored`: answered with an `IgnoredList` event.
    pub async fn list_ignored(&self) -> Result<(), SessionGone> {
        self.send(Command::Room(Input::ListIgnored)).await
    }

    /// Everyone announced, me included, sorted by display name.
    pub async fn members(&self) -> Result<Vec<MemberInfo>, SessionGone> {
        self.ask(Command::Members).await
    }

    /// A fresh ticket: us first, then a few current neighbours.
    pub async fn ticket(&self) -> Result<String, SessionGone> {
        self.ask(Command::Ticket).await
    }

    pub async fn status(&self) -> Result<Status, SessionGone> {
        self.ask(Command::Status).await
    }

    /// Our addresses and relay, and how each member is reached.
    pub async fn net(&self) -> Result<NetView, SessionGone> {
        self.ask(Command::Net).await
    }

    /// Resolves once no typed line is waiting for a peer.
    pub async fn drained(&self) -> Result<(), SessionGone> {
        self.ask(Command::Drained).await
    }

    /// Say goodbye and leave the room; the event stream ends shortly after (once the last
    /// events are read). The node stays up for other sessions: its owner closes it.
    pub async fn leave(&self) -> Result<Left, SessionGone> {
        self.ask(Command::Leave).await
    }

    /// A private room's change (`/kick`, `/ban`, `/op`, `/roomname`, ...), signed as us and
    /// sent; `Err` says why it was not made (a public room, a role that does not allow it).
    pub async fn moderate(&self, action: Action) -> Result<Result<(), String>, SessionGone> {
        self.ask(|reply| Command::Moderate(action, reply)).await
    }

    /// `/invite`: a private room's signed invite, for `uses` joins within `lasts`.
    pub async fn invite(
        &self,
        uses: Option<u32>,
        lasts: Duration,
    ) -> Result<Result<IssuedInvite, String>, SessionGone> {
        self.ask(|reply| Command::Invite { uses, lasts, reply })
            .await
    }

    /// `/invites`: the invites issued here, with their uses so far.
    pub async fn invites(&self) -> Result<Vec<IssuedInvite>, SessionGone> {
        self.ask(Command::Invites).await
    }

    /// `/revoke PREFIX`: the id of the invite ended.
    pub async fn revoke(&self, prefix: String) -> Result<Result<String, String>, SessionGone> {
        self.ask(|reply| Command::Revoke(prefix, reply)).await
    }

    /// `/accept WHO`: let a knocker in (answers how it is shown).
    pub async fn accept(&self, who: String) -> Result<Result<String, String>, SessionGone> {
        self.ask(|reply| Command::Accept(who, reply)).await
    }

    /// `/deny WHO [REASON]`: turn a knocker away (answers how it is shown).
    pub async fn deny(
        &self,
        who: String,
        reason: String,
    ) -> Result<Result<String, String>, SessionGone> {
        self.ask(|reply| Command::Deny { who, reason, reply }).await
    }

    /// A private room's state (`None`: a public room).
    pub async fn state(&self) -> Result<Option<RoomStateView>, SessionGone> {
        self.ask(Command::State).await
    }

    /// `/part`: leave, and do not come back on the next start (quitting leaves every room
    /// but keeps them in the list of rooms we are in). In a private room we leave its state
    /// too (a new epoch starts without us); its owner cannot, and stays its owner.
    pub async fn part(&self) -> Result<Left, SessionGone> {
        let _ = self.moderate(Action::Leave).await;
        let left = self.leave().await;
        // Even if the session ended by itself meanwhile: the room is not rejoined.
        if let Some(store) = &self.store {
            let topic = self.topic;
            let _ = store.call(move |s| s.set_open(topic, false)).await;
        }
        left
    }

    /// Tests: act as if gossip had dropped messages for us (`Lagged`).
    #[cfg(test)]
    pub(crate) async fn lagged(&self) -> Result<(), SessionGone> {
        self.send(Command::Lagged).await
    }

    /// This room's stored messages containing all `words`, newest first. Runs on the store
    /// thread; the session's actor is not involved.
    pub async fn search(&self, words: String) -> Result<Vec<StoredMessage>, String> {
        let store = self.store.as_ref().ok_or_else(|| {
            "search needs history on disk (not available with --ephemeral)".to_string()
        })?;
        let topic = self.topic;
        // What was shown is found: lines saved a moment later (see `saving`) go first.
        let _ = self.ask(Command::FlushSaves).await;
        store
            .call(move |s| s.search(topic, &words, SEARCH_LIMIT))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }
}

/// The session's events, in order. Ends after the session left or failed.
pub struct Events {
    rx: mpsc::Receiver<SessionEvent>,
}

impl Events {
    pub(super) fn new(rx: mpsc::Receiver<SessionEvent>) -> Self {
        Self { rx }
    }

    /// The next event; `None` once the session has ended and everything was read.
    pub async fn recv(&mut self) -> Option<SessionEvent> {
        self.rx.recv().await
    }

    /// An event if one is waiting.
    pub fn try_recv(&mut self) -> Option<SessionEvent> {
        self.rx.try_recv().ok()
    }
}

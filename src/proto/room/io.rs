//! What a room is configured with, what it is fed ([`Input`]) and what it asks of its
//! caller ([`Output`]).

use std::time::Duration;

use super::super::backlog::{HistoryWindow, Page};
use super::super::limits::RateLimits;
use super::super::members::PresenceTiming;
use super::super::wire;
use super::super::{EndpointId, UnixMillis};
use super::{ANSWERERS, Event, Record};

#[derive(Debug, Clone)]
pub struct RoomConfig {
    pub timing: PresenceTiming,
    /// Our lines kept while not joined or beyond our pace; more are refused.
    pub max_queue: usize,
    /// Envelope ids remembered to drop replays.
    pub replay_memory: usize,
    /// A member answers one peer's `WhoIsThere` at most this often.
    pub answer_interval: Duration,
    /// Answers to a `WhoIsThere` go out at a point of this window fixed per (member, asker),
    /// not all at once: see [`Room::answer_due`].
    pub answer_spread: Duration,
    /// How much history is kept, served and asked for.
    pub history: HistoryWindow,
    /// What one author may send, per kind, and how often we answer newcomers.
    pub limits: RateLimits,
    /// About how many members answer a newcomer's `WhoIsThere` ([`ANSWERERS`]; `u64::MAX`:
    /// everyone, as before member lists, for comparison).
    pub answerers: u64,
    /// The largest envelope we send: the wire's limit, less what the session adds around it
    /// (a private room's seal), so what goes out always fits a gossip message.
    pub max_envelope: usize,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            timing: PresenceTiming::default(),
            max_queue: 1000,
            replay_memory: 100_000,
            answer_interval: Duration::from_secs(5),
            answer_spread: Duration::from_millis(50),
            history: HistoryWindow::default(),
            limits: RateLimits::default(),
            answerers: ANSWERERS,
            max_envelope: crate::proto::wire::MAX_ENVELOPE_SIZE,
        }
    }
}

#[derive(Debug)]
pub enum Input {
    /// Bytes that arrived on the room's gossip topic.
    Received(Vec<u8>),
    /// Envelopes from a catch-up answer or from disk: verified one by one, never trusted.
    History(Vec<Vec<u8>>),
    /// The same, already checked on another thread ([`wire::check_batch`]).
    CheckedHistory(wire::CheckedBatch),
    /// A neighbour's member list (its answer to [`Output::RequestRoster`]), checked: recent
    /// signed `AboutMe`s of the members it knows to be here.
    Roster(wire::CheckedBatch),
    /// A direct gossip neighbour connected; the first one means we have joined.
    NeighborUp(EndpointId),
    NeighborDown(EndpointId),
    /// The gossip layer dropped messages for us.
    Lagged,
    /// The user typed a chat line.
    Say(String),
    /// The user typed `/me ACTION`.
    Act(String),
    /// `/reply ID TEXT`: a line answering line `to`. Every `to` here is a line's id or the
    /// start of one (8 hex digits or more), resolved among the lines the room knows.
    Reply {
        to: String,
        text: String,
    },
    /// `/react ID EMOJI` (`on`) or `/unreact ID EMOJI`.
    React {
        to: String,
        emoji: String,
        on: bool,
    },
    /// `/edit ID TEXT`: our line's new text.
    Edit {
        to: String,
        text: String,
    },
    /// `/delete ID`: our line (or, as a private room's admin, anyone's) gone.
    Delete {
        to: String,
    },
    /// The user is typing in this room: others are told, at most once every few seconds,
    /// in rooms of up to [`super::typing::MAX_TYPING_ROOM`] members.
    Typing,
    /// Who may delete anyone's line (a private room's owner and admins; none in a public
    /// room), whenever that changes.
    SetAdmins(Vec<EndpointId>),
    /// The user shares a file (already on offer from our store): a line naming it.
    ShareFile(wire::FileRef),
    /// The user changed their name.
    SetName(String),
    /// `/topic TEXT` (or opening a room with a label): name the room for everyone.
    SetRoomName(String),
    /// The user is leaving: announce it.
    Leave,
    /// Time passed: heartbeats and expiry.
    Tick,
    /// The clock jumped: the machine slept or the process was frozen. Links that look alive
    /// may be dead and others have likely timed us out: announce ourselves, ask who is here,
    /// and catch up on everything said meanwhile.
    Resumed,
    /// `/ignore WHO` (`ignore: true`) or `/unignore WHO`: hide or show again a key's messages
    /// and presence in this room. `who` is a shown name (`alice#1a2b`), a name that only one
    /// key uses, or a key's hex prefix.
    Ignore {
        who: String,
        ignore: bool,
    },
    /// `/ignored`: answered with [`Event::IgnoredList`].
    ListIgnored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A sealed envelope to broadcast on the topic.
    Broadcast(Vec<u8>),
    /// Something to keep on disk; comes before the event that shows it.
    Persist(Record),
    /// Ask members for the messages sent since `since` (over the direct history protocol):
    /// the newest (joining) or, after `Lagged`, all of them from the oldest on, page by page.
    RequestHistory {
        since: UnixMillis,
        page: Page,
    },
    /// Ask one neighbour for its member list (see [`Room::roster`]); the answer comes back
    /// as [`Input::Roster`].
    RequestRoster,
    Event(Event),
}

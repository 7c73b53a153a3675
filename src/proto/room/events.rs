//! What the room tells its caller: records to keep, events to show, and why a user's action
//! was refused.

use std::collections::BTreeMap;

use super::{Envelope, MemberInfo};
use crate::proto::{EndpointId, MessageId, UnixMillis};

/// What is worth keeping of the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Message(ChatLine),
    /// A member's name, with the signed `AboutMe` that claims it.
    Name {
        id: EndpointId,
        name: String,
        sent: UnixMillis,
        envelope: Envelope,
    },
    /// The first key seen with a name in this room owns it (`key` is [`super::names::name_key`]).
    Pin {
        key: String,
        id: EndpointId,
    },
    /// The room's name changed (see [`super::RoomName`]).
    RoomName(super::RoomName),
    /// The user ignores (or no longer ignores) a key in this room.
    Ignore {
        id: EndpointId,
        name: String,
        ignored: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    pub id: MessageId,
    pub author: MemberInfo,
    pub text: String,
    /// An IRC-style action (`/me waves`).
    pub action: bool,
    pub sent: UnixMillis,
    /// Caught up from history rather than received live.
    pub history: bool,
    /// The signed envelope, as sent or received.
    pub envelope: Envelope,
    /// A file shared with the line (`text` is its name).
    pub file: Option<crate::proto::wire::FileRef>,
    /// A reply: the line it answers (which may be unknown here). Boxed like `change`.
    pub reply_to: Option<Box<MessageId>>,
    /// Not a line but a change to one (shown as [`Event::Changed`]); an edit's new text is
    /// `text`. Boxed: most lines are none, and events stay small.
    pub change: Option<Box<LineChange>>,
}

/// A change to a line: which line, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineChange {
    pub to: MessageId,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// Add (`on`) or take back an emoji.
    React { emoji: String, on: bool },
    /// The line's text is now the change's text.
    Edit,
    /// The line is gone (a tombstone stays).
    Delete,
}

impl ChangeKind {
    /// What peers that predate changes show instead.
    pub fn fallback(&self, text: &str) -> String {
        match self {
            Self::React { emoji, on: true } => format!("reacted {emoji}"),
            Self::React { emoji, on: false } => format!("took back {emoji}"),
            Self::Edit => text.to_string(),
            Self::Delete => "(deleted a message)".to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// The member said goodbye.
    Left,
    /// The member went silent past its deadline.
    TimedOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    MessageReceived(ChatLine),
    /// A member is typing (shown for a few seconds, or until its line comes).
    Typing(MemberInfo),
    /// A change to a line (a reaction, an edit, a delete), checked against the line's
    /// author: the `change` of this line says which line and what. Ours too.
    Changed(ChatLine),
    /// Our own line was handed to the network.
    MessageSent(ChatLine),
    MemberJoined(MemberInfo),
    MemberLeft {
        member: MemberInfo,
        reason: LeaveReason,
    },
    /// `member` carries the new name; for our own rename, `member.id` is ours.
    MemberRenamed {
        member: MemberInfo,
        old: String,
    },
    /// The number of direct neighbours changed; zero means waiting for peers.
    NeighborsChanged(usize),
    Lagged,
    /// `member` sent more than the rate limits allow: `dropped` of its messages were not
    /// shown since the last report (at most one report a minute per sender).
    Flooded {
        member: MemberInfo,
        dropped: u64,
    },
    /// `member` (shown with a fingerprint) claims a name that `owner`, seen first in this
    /// room, owns.
    NameClash {
        member: MemberInfo,
        owner: MemberInfo,
        /// Our own new name is the one that clashes.
        own: bool,
    },
    /// The user's `/ignore` or `/unignore` took effect.
    Ignored {
        member: MemberInfo,
        ignored: bool,
    },
    /// The room has a new name (`/topic`), signed by `by` at `sent`; also for the name a
    /// late joiner learns and the one stored from before.
    RoomNamed {
        name: String,
        by: MemberInfo,
        sent: UnixMillis,
    },
    /// How many of our lines wait to go out (typed before joining, or beyond the rate others
    /// accept); reported whenever it changes, `0` once all went out.
    Queued(usize),
    /// Answer to [`Input::ListIgnored`].
    IgnoredList(Vec<MemberInfo>),
    /// Something the user asked for was not done; `attempt` is what they asked, to give back.
    Refused {
        refusal: Refusal,
        attempt: Attempt,
    },
}

impl Event {
    pub fn refused(refusal: Refusal, attempt: Attempt) -> Self {
        Self::Refused { refusal, attempt }
    }
}

/// A user's action as they asked for it, carried by [`Event::Refused`] so that a front end gives
/// back exactly what was refused (never a guess at which line it was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Say(String),
    Act(String),
    /// Sharing a file.
    Share(crate::proto::wire::FileRef),
    SetName(String),
    SetRoomName(String),
    Ignore(String),
    /// A reply, reaction, edit or delete, as the command that asked for it.
    Change(String),
}

impl Attempt {
    pub fn said(text: String, action: bool) -> Self {
        if action {
            Self::Act(text)
        } else {
            Self::Say(text)
        }
    }
}

/// Why a user's action was not carried out. Each renders as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("message too long: {text_bytes} bytes, the limit is about {max_text_bytes}")]
    TooLong {
        text_bytes: usize,
        max_text_bytes: usize,
    },
    #[error("not connected yet and {0} messages are already waiting; try again once a peer joins")]
    QueueFull(usize),
    #[error(
        "{0} of your lines are already waiting to go out at the rate others accept; this one was not sent"
    )]
    Backlogged(usize),
    #[error("that name is empty once control characters, '#' and spaces are removed")]
    InvalidName,
    #[error("that room name is empty once control and invisible characters are removed")]
    InvalidRoomName,
    #[error("no member here or remembered matches {0:?}")]
    NoSuchMember(String),
    #[error("cannot share this file: {0}")]
    BadFile(String),
    #[error("{0:?} matches several members ({1}); use the name with its #fingerprint")]
    AmbiguousMember(String, String),
    #[error("you cannot ignore yourself")]
    IgnoreSelf,
    #[error("no line here has the id {0} (give 8 or more of its hex digits, as shown)")]
    NoSuchLine(String),
    #[error("several lines have ids starting with {0}; give more of the id")]
    AmbiguousLine(String),
    #[error("only its author can {0} that line")]
    NotYourLine(&'static str),
    #[error("that line was deleted")]
    LineDeleted,
    #[error("{0:?} is not an emoji to react with (one emoji or a :name:, no spaces)")]
    BadEmoji(String),
}

/// Counters of what arrived, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomStats {
    pub accepted: u64,
    pub history_accepted: u64,
    pub rejected: BTreeMap<&'static str, u64>,
}

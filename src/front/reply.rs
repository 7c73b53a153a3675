//! What the core answers to a command. Each front end presents these its own way (the
//! terminal UI as notices in a view, headless as one event per line).

use super::RoomKey;
use crate::front::files::SharedFile;
use crate::front::rooms::{Room, RoomInfo};
use crate::model::IssuedInvite;
use crate::proto::{EndpointId, MemberInfo};
use crate::session::NetView;
use crate::store::StoredMessage;

/// What a reply is about: shown in that room or conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    Room(RoomKey),
    Direct(EndpointId),
    /// Nothing in particular (`/rooms`, a room that could not be found).
    Nothing,
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub about: About,
    pub answer: Answer,
}

#[derive(Debug, Clone)]
pub enum Answer {
    /// Done, and worth saying.
    Info(String),
    /// Not done: why.
    Error(String),
    /// `/who`.
    Members(Vec<MemberInfo>),
    /// `/ticket`.
    Ticket(String),
    /// `/net`.
    Net(NetView),
    /// `/search`, newest first.
    Found {
        words: String,
        found: Vec<StoredMessage>,
    },
    /// `/files`: the files offered there, oldest first.
    Files(Vec<SharedFile>),
    /// `/rooms`.
    Rooms(Vec<RoomInfo>),
    /// `/query`: the member named, for the front end to talk to privately.
    Query { peer: EndpointId, display: String },
    /// A direct message that could not be queued (the terminal UI gives it back to the input).
    Unsent {
        peer: EndpointId,
        text: String,
        action: bool,
    },
    /// A direct message of ours is queued (it is pending until delivered).
    DirectQueued(crate::proto::MessageId),
    /// `/part`: the room is gone from our rooms (its session says goodbye in the background).
    Parted(Box<Room>),
    /// `/invite` in a private room: a signed invite.
    Invite(IssuedInvite),
    /// `/invites`: those issued here.
    Invites(Vec<IssuedInvite>),
}

impl Reply {
    pub fn new(about: About, answer: Answer) -> Self {
        Self { about, answer }
    }

    pub fn error(about: About, why: impl Into<String>) -> Self {
        Self::new(about, Answer::Error(why.into()))
    }

    pub fn info(about: About, text: impl Into<String>) -> Self {
        Self::new(about, Answer::Info(text.into()))
    }
}

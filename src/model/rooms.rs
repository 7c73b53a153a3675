//! The rooms a front end is in, as `/rooms` lists them.

use crate::proto::TopicId;

/// A front end's name for one of its rooms, given before the room has a topic.
pub type RoomKey = u64;

/// A room as `/rooms` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInfo {
    /// `None` while a new room is being opened.
    pub topic: Option<TopicId>,
    pub label: Option<String>,
    /// The name everyone sees (`/topic`), or the ticket's until a member's arrives.
    pub room_name: Option<String>,
    /// Lines typed on stdin go here.
    pub current: bool,
    /// The room can send (its `ready` event came).
    pub ready: bool,
    /// Private (members, roles, a key per epoch) or public (the ticket is the membership).
    pub kind: super::RoomKind,
}

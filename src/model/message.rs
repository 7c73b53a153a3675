//! A stored message as the store hands it out (search results, export, history pages).

use crate::proto::{EndpointId, MessageId, UnixMillis};

/// A message as stored (for search results and export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: MessageId,
    pub author: EndpointId,
    /// The name the author claimed when the message came.
    pub name: String,
    /// How to show the author: `name`, or `name#abcd` when another key owns or shares the
    /// name in this room (see [`crate::proto::name_index`]).
    pub display: String,
    pub text: String,
    pub action: bool,
    pub sent: UnixMillis,
    /// The line it answers.
    pub reply_to: Option<MessageId>,
    /// Its author changed its text since.
    pub edited: bool,
    /// Deleted: a tombstone (its text is gone).
    pub deleted: bool,
    /// The reactions on it now: each emoji with who reacted (export only).
    pub reactions: Reactions,
}

/// Reactions on one message: each emoji with who reacted, oldest first.
pub type Reactions = Vec<(String, Vec<EndpointId>)>;

//! Files offered in rooms and conversations, as `/files` lists them (`front::files` keeps
//! them; their text is `present::files`).

use std::path::PathBuf;

use super::rooms::RoomKey;
use crate::proto::wire::FileRef;
use crate::proto::{EndpointId, MemberInfo};

/// Where a file was offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    Room(RoomKey),
    /// A direct message, in the conversation with this peer.
    Direct(EndpointId),
}

/// A file someone shared in one of our rooms or conversations.
#[derive(Debug, Clone)]
pub struct Offer {
    pub file: FileRef,
    pub from: MemberInfo,
    pub place: Place,
    /// Ours: nothing to fetch.
    pub own: bool,
}

/// A file `/files` lists: its offer and where it is.
#[derive(Debug, Clone)]
pub struct SharedFile {
    pub offer: Offer,
    pub state: FileState,
}

/// Where a file is: offered, being fetched, saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Offered,
    Fetching {
        done: u64,
    },
    Saved(PathBuf),
    Failed(String),
    /// Its providers are gone; fetched again when one is back.
    Waiting(String),
}

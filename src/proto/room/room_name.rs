//! The room's name: a signed `RoomInfo` that any member may send (`/topic`, like IRC without
//! modes). Last writer wins: the newest by its author's clock, ties broken by the greater
//! author key, then the greater message id, so every member settles on the same one whatever
//! order they heard them in. Members serve the winner with their member list, so a late
//! joiner learns it from the one list it asks for.

use super::{Attempt, Envelope, Event, Output, Record, Refusal, Room};
use crate::proto::names::clean_room_name;
use crate::proto::wire::{MessageBody, Verified};
use crate::proto::{EndpointId, MessageId, Now, UnixMillis};

/// Bytes a room name may take on the wire before cleaning: a longer one was not written by
/// parlor (which cleans to [`crate::proto::names::MAX_ROOM_NAME_CHARS`] first) and is dropped.
pub const MAX_ROOM_NAME_BYTES: usize = 1024;

/// The room's name as its newest signed `RoomInfo` set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName {
    /// Cleaned ([`clean_room_name`]).
    pub name: String,
    pub by: EndpointId,
    pub sent: UnixMillis,
    pub id: MessageId,
    /// The signed `RoomInfo`, served with the member list and kept on disk.
    pub envelope: Envelope,
}

impl RoomName {
    /// Whether this one wins over `other`: newer, else the greater author key, else the
    /// greater id. A total order, so every member picks the same.
    pub fn beats(&self, other: &RoomName) -> bool {
        (self.sent, self.by.as_bytes(), self.id.as_bytes())
            > (other.sent, other.by.as_bytes(), other.id.as_bytes())
    }

    /// The name a verified `RoomInfo` sets, if it is one and its name is acceptable.
    pub fn of(verified: &Verified, envelope: &Envelope) -> Option<Self> {
        let MessageBody::RoomInfo { name, .. } = &verified.body else {
            return None;
        };
        if name.len() > MAX_ROOM_NAME_BYTES {
            return None;
        }
        Some(Self {
            name: clean_room_name(name)?,
            by: verified.author,
            sent: verified.sent,
            id: verified.id,
            envelope: envelope.clone(),
        })
    }
}

impl Room {
    /// The room's current name, if any member ever set one.
    pub fn room_name(&self) -> Option<&RoomName> {
        self.room_name.as_ref()
    }

    /// `/topic TEXT`: sign and broadcast the room's new name (kept while alone: the member
    /// list we serve carries it to whoever joins).
    pub(super) fn set_room_name(&mut self, raw: &str, now: Now, out: &mut Vec<Output>) {
        let Some(name) = clean_room_name(raw) else {
            let attempt = Attempt::SetRoomName(raw.to_string());
            out.push(Output::Event(Event::refused(
                Refusal::InvalidRoomName,
                attempt,
            )));
            return;
        };
        let body = MessageBody::RoomInfo {
            from: self.me,
            name: name.clone(),
        };
        // A cleaned name is at most 64 characters: it always fits.
        let Ok(bytes) = self.seal(body, now) else {
            return;
        };
        let id = MessageId::of(&bytes);
        self.seen.insert(id);
        let named = RoomName {
            name,
            by: self.me,
            sent: now.wall,
            id,
            envelope: bytes.as_slice().into(),
        };
        if self.is_joined() {
            out.push(Output::Broadcast(bytes));
        }
        self.take_room_name(named, out);
    }

    /// A verified `RoomInfo` (live, from a member list or from disk): it becomes the room's
    /// name if it beats the current one. `false` when its name is unacceptable.
    pub(super) fn on_room_info(
        &mut self,
        verified: &Verified,
        envelope: &Envelope,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(named) = RoomName::of(verified, envelope) else {
            return false;
        };
        if self.room_name.as_ref().is_none_or(|now| named.beats(now)) {
            self.take_room_name(named, out);
        }
        true
    }

    fn take_room_name(&mut self, named: RoomName, out: &mut Vec<Output>) {
        let by = self.members.info_or_stranger(&named.by);
        out.push(Output::Persist(Record::RoomName(named.clone())));
        out.push(Output::Event(Event::RoomNamed {
            name: named.name.clone(),
            by,
            sent: named.sent,
        }));
        self.room_name = Some(named);
    }
}

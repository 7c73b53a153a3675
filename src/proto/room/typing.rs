//! "bob is typing…": a signal the room sends while the user types, at most one every
//! [`TYPING_EVERY`], only in rooms small enough for it to matter (a room of hundreds would
//! hear a constant murmur), never kept on disk nor served to anyone who catches up.

use std::time::Duration;

use super::{Event, Output, Room};
use crate::proto::wire::{MAX_CLOCK_SKEW_MS, MessageBody};
use crate::proto::{EndpointId, Now, UnixMillis};

/// Typing signals we send, at most one this often.
pub const TYPING_EVERY: Duration = Duration::from_secs(3);
/// Rooms with more members than this hear no typing signals from us.
pub const MAX_TYPING_ROOM: usize = 30;

impl Room {
    /// The user typed: tell the room, unless we did lately or the room is large.
    pub(super) fn typing(&mut self, now: Now, out: &mut Vec<Output>) {
        let lately = self
            .typing_said
            .is_some_and(|at| now.at.duration_since(at) < TYPING_EVERY);
        if lately || !self.is_joined() || self.members.listed_ids().count() > MAX_TYPING_ROOM {
            return;
        }
        self.typing_said = Some(now.at);
        self.send(MessageBody::Typing { from: self.me }, now, out);
    }

    /// A member says it is typing: shown if it is one we know and the signal is current.
    pub(super) fn on_typing(
        &mut self,
        author: EndpointId,
        sent: UnixMillis,
        now: Now,
        out: &mut Vec<Output>,
    ) {
        if sent.0 + MAX_CLOCK_SKEW_MS < now.wall.0 || author == self.me {
            return;
        }
        if let Some(member) = self.members.info(&author) {
            out.push(Output::Event(Event::Typing(member)));
        }
    }
}

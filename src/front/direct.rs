//! Direct messages between the DM actor and the front ends: who may write to us (fed from
//! every room's member list), whom to retry (members seen online), and how a message looks
//! to the terminal UI.

use crate::app::direct::DirectLine;
use crate::proto::direct::{DirectMessage, DmState};
use crate::proto::names::fingerprint;
use crate::proto::room::Event;
use crate::proto::{EndpointId, MemberInfo};
use crate::session::SessionEvent;
use crate::session::direct::DirectHandle;
use crate::store::StoredMessage;

/// Tell the DM actor what a room's event says about its members: everyone listed may write
/// to us, and a member who (re)appeared is online, so what waits for it goes now.
pub fn note_members(direct: &DirectHandle, event: &SessionEvent) {
    match event {
        SessionEvent::Members(members) => direct.allow(members.iter().map(|m| m.id)),
        SessionEvent::Room(Event::MemberJoined(member)) => {
            direct.allow([member.id]);
            direct.seen(member.id);
        }
        _ => {}
    }
}

/// How a sender we may not know from any room is shown: its claimed name and a fingerprint,
/// so it cannot pass for a member.
pub fn stranger(id: EndpointId, name: &str) -> MemberInfo {
    MemberInfo {
        id,
        name: name.to_string(),
        display: format!("{name}#{}", fingerprint(&id, 4)),
    }
}

/// A direct message for the terminal UI (the app names known members as their rooms do).
pub fn line(message: DirectMessage, me: &EndpointId, history: bool) -> DirectLine {
    let own = message.from == *me;
    DirectLine {
        id: message.id,
        peer: message.peer(me),
        author: stranger(message.from, &message.name),
        pending: message.state == DmState::Pending,
        text: message.text,
        action: message.action,
        file: message.file,
        sent: message.sent,
        own,
        history,
    }
}

/// A direct message as search results show messages.
pub fn stored(message: DirectMessage, me: &EndpointId) -> StoredMessage {
    let display = if message.from == *me {
        message.name.clone()
    } else {
        stranger(message.from, &message.name).display
    };
    StoredMessage {
        id: message.id,
        author: message.from,
        name: message.name,
        display,
        text: message.text,
        action: message.action,
        sent: message.sent,
        reply_to: None,
        edited: false,
        deleted: false,
    }
}

/// A one-line warning about messages dropped from a stranger.
pub fn dropped(from: &EndpointId, count: u64) -> String {
    format!(
        "dropped {count} direct message(s) from {}…, who shares no room with you",
        fingerprint(from, 8)
    )
}

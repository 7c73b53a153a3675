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
/// to us, a member who (re)appeared is online, so what waits for it goes now; a key the user
/// ignores may not write to us.
pub fn note_members(direct: &DirectHandle, event: &SessionEvent) {
    match event {
        SessionEvent::Members(members) => direct.allow(members.iter().map(|m| m.id)),
        SessionEvent::Room(Event::MemberJoined(member)) => {
            direct.allow([member.id]);
            direct.seen(member.id);
        }
        // `/ignore` in a room also refuses that key's direct messages.
        SessionEvent::Room(Event::Ignored { member, ignored }) => {
            direct.ignore(member.id, *ignored);
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
        reply_to: message.reply_to.map(|id| *id),
        change: message.change.map(|c| *c),
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
        reactions: Vec::new(),
    }
}

/// A one-line warning about messages dropped from a stranger.
pub fn dropped(from: &EndpointId, count: u64) -> String {
    format!(
        "dropped {count} direct message(s) from {}…, who shares no room with you",
        fingerprint(from, 8)
    )
}

/// How far back a conversation's messages are looked for by id (its newest ones).
const LINE_LOOKBACK: usize = 1_000;

impl super::Core {
    /// `/reply`, `/react`, `/unreact`, `/edit`, `/delete` in the conversation with `peer`: the
    /// message named among the newest of it (its id or 8+ hex digits), the change checked as
    /// the addressee will (only our own edited or deleted), then sent as a direct message.
    pub(super) async fn line_in_conversation(
        &mut self,
        peer: EndpointId,
        line: crate::app::command::LineCommand,
    ) -> Vec<super::Reply> {
        use crate::app::command::LineCommand;
        use crate::proto::room::{ChangeKind, LineChange};
        use crate::session::direct::DmLine;
        let about = super::About::Direct(peer);
        let refuse = |why: String| vec![super::Reply::error(about, why)];
        let (to, text, change) = match line {
            LineCommand::Reply { to, text } => (to, text, None),
            LineCommand::React { to, emoji, on } => {
                if !crate::proto::wire::valid_emoji(&emoji) {
                    return refuse(format!("{emoji:?} is not an emoji to react with"));
                }
                (to, String::new(), Some(ChangeKind::React { emoji, on }))
            }
            LineCommand::Edit { to, text } => (to, text, Some(ChangeKind::Edit)),
            LineCommand::Delete { to } => (to, String::new(), Some(ChangeKind::Delete)),
        };
        let newest = self
            .direct
            .conversation(peer, LINE_LOOKBACK)
            .await
            .unwrap_or_default();
        let prefix = to.trim().to_ascii_lowercase();
        let matching: Vec<&DirectMessage> = newest
            .iter()
            .filter(|m| m.change.is_none())
            .filter(|m| prefix.len() >= 8 && m.id.to_string().starts_with(&prefix))
            .collect();
        let target = match matching.as_slice() {
            [one] => *one,
            [] => return refuse(format!("no message here has the id {prefix}")),
            _ => return refuse(format!("several messages start with {prefix}; give more")),
        };
        let me = self.direct.id();
        if matches!(change, Some(ChangeKind::Edit | ChangeKind::Delete)) && target.from != me {
            return refuse("only your own messages can be edited or deleted".into());
        }
        let dm = match change {
            None => DmLine {
                text,
                reply_to: Some(target.id),
                ..DmLine::default()
            },
            Some(kind) => DmLine {
                text: match &kind {
                    ChangeKind::Edit => text,
                    other => other.fallback(&text),
                },
                change: Some(LineChange {
                    to: target.id,
                    kind,
                }),
                ..DmLine::default()
            },
        };
        match self.direct.send_line(peer, dm).await {
            Ok(id) => {
                self.pending_dms.insert(id);
                Vec::new()
            }
            Err(err) => refuse(err.to_string()),
        }
    }
}

//! Test fixtures for the app and the view: members with fixed keys, a fixed clock, and an app
//! in a room with some history.

use chrono::FixedOffset;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use super::{App, Msg};
use crate::proto::room::{ChatLine, Event};
use crate::proto::{MemberInfo, MessageId, SecretKey, TopicId, UnixMillis};

/// A key pressed alone, with Ctrl, with Alt.
pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn alt(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::ALT))
}

/// 2026-11-25 12:00 UTC.
pub const NOON: UnixMillis = UnixMillis(1_795_608_000_000);

pub fn at_minute(minute: u64) -> UnixMillis {
    UnixMillis(NOON.0 + minute * 60_000)
}

/// A member whose key is `[n; 32]`.
pub fn member(n: u8, name: &str) -> MemberInfo {
    let id = SecretKey::from_bytes(&[n; 32]).public();
    MemberInfo {
        id,
        name: name.to_string(),
        display: name.to_string(),
    }
}

pub fn line(author: &MemberInfo, text: &str, minute: u64) -> ChatLine {
    ChatLine {
        id: MessageId::of(format!("{}{text}{minute}", author.name).as_bytes()),
        author: author.clone(),
        text: text.to_string(),
        action: false,
        sent: at_minute(minute),
        history: false,
        envelope: std::sync::Arc::from(&b"unused"[..]),
        file: None,
        reply_to: None,
        change: None,
    }
}

pub fn said(author: &MemberInfo, text: &str, minute: u64) -> Msg {
    Msg::Room(Event::MessageReceived(line(author, text, minute)))
}

/// A line of `author` sharing a file `name` of `size` bytes whose hash is 64 times `digit`
/// (so its handle is 8 of them).
pub fn shared_line(
    author: &MemberInfo,
    name: &str,
    size: u64,
    digit: char,
    minute: u64,
) -> ChatLine {
    let mut line = line(author, name, minute);
    line.file = Some(crate::proto::wire::FileRef {
        hash: digit.to_string().repeat(64),
        size,
        name: name.to_string(),
        mime: String::new(),
    });
    line
}

/// `author` shares a file (see [`shared_line`]).
pub fn shared(author: &MemberInfo, name: &str, size: u64, digit: char, minute: u64) -> Msg {
    Msg::Room(Event::MessageReceived(shared_line(
        author, name, size, digit, minute,
    )))
}

/// An app in the chat screen of a room, `me` being "ann" (key 1), at `width` x `height`.
pub fn in_room(width: u16, height: u16) -> App {
    let mut app = App::new(
        None,
        Rect::new(0, 0, width, height),
        FixedOffset::east_opt(0).unwrap(),
    );
    let me = member(1, "ann");
    app.update(
        Msg::Ready {
            me: me.clone(),
            topic: TopicId::from_bytes([7; 32]),
            ticket: "unused".into(),
            room_name: None,
            opened: false,
        },
        NOON,
    );
    app.update(Msg::Room(Event::NeighborsChanged(2)), NOON);
    app.update(Msg::Members(vec![me]), NOON);
    app
}

/// A real-looking ticket (fixed keys and addresses).
pub fn ticket() -> String {
    use crate::proto::EndpointAddr;
    use crate::proto::ticket::Ticket;
    let id = SecretKey::from_bytes(&[1; 32]).public();
    let addr = EndpointAddr::new(id)
        .with_ip_addr("192.0.2.10:41641".parse().unwrap())
        .with_ip_addr("[2001:db8::10]:41641".parse().unwrap());
    Ticket::new(TopicId::from_bytes([7; 32]), vec![addr]).to_string()
}

/// An app in `labels.len()` rooms (topics `[10 + i; 32]`), "ann" in each, the first current.
pub fn in_rooms(width: u16, height: u16, labels: &[&str]) -> App {
    use super::views::ViewKind;
    let mut app = App::new(
        None,
        Rect::new(0, 0, width, height),
        FixedOffset::east_opt(0).unwrap(),
    );
    let me = member(1, "ann");
    for (i, label) in labels.iter().enumerate() {
        let topic = TopicId::from_bytes([10 + i as u8; 32]);
        let view = app
            .add_view(ViewKind::Room(Some(topic)), Some(label.to_string()), false)
            .unwrap();
        let to = |msg| Msg::For(view, Box::new(msg));
        app.update(
            to(Msg::Ready {
                me: me.clone(),
                topic,
                ticket: "unused".into(),
                room_name: None,
                opened: false,
            }),
            NOON,
        );
        app.update(to(Msg::Room(Event::NeighborsChanged(1))), NOON);
        app.update(to(Msg::Members(vec![me.clone()])), NOON);
    }
    app
}

/// `msg` for the view at `index`.
pub fn to_view(app: &App, index: usize, msg: Msg) -> Msg {
    Msg::For(app.views.tabs[index].key, Box::new(msg))
}

/// A private room's state named `name` about `topic`, with `members` in their roles (the
/// owner: the one whose role is `Owner`, else the first).
pub fn room_state(
    name: &str,
    topic: &str,
    members: &[(&MemberInfo, crate::proto::state::Role)],
) -> crate::model::RoomStateView {
    use crate::model::{RoomStateView, StateMember};
    use crate::proto::state::{HistoryVisibility, Role};
    let owner = members
        .iter()
        .find(|(_, role)| *role == Role::Owner)
        .or(members.first())
        .map_or_else(|| member(1, "ann").id, |(m, _)| m.id);
    RoomStateView {
        room: "ab".repeat(16),
        name: name.to_string(),
        topic: topic.to_string(),
        epoch: 1,
        key_epoch: 1,
        owner,
        members: members
            .iter()
            .map(|(m, role)| StateMember {
                id: m.id,
                role: *role,
                name: m.name.clone(),
                display: m.display.clone(),
            })
            .collect(),
        bans: Vec::new(),
        history: HistoryVisibility::Shared,
        version: 1,
    }
}

/// The current view becomes a private room with `state`.
pub fn make_private(app: &mut App, state: crate::model::RoomStateView) {
    app.update(Msg::RoomState(state), NOON);
}

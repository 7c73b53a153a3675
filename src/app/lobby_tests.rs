//! The lobby's keys: Enter in the name goes on, fields and stored rooms, nearby rooms.

use super::*;
use crate::proto::{EndpointAddr, SecretKey, TopicId};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn enter_in_the_name_opens_a_room_with_it() {
    let mut lobby = Lobby::new("sam");
    lobby.on_key(key(KeyCode::Char('!')));
    assert_eq!(
        lobby.on_key(key(KeyCode::Enter)),
        Some(Choice::Open {
            name: "sam!".into()
        })
    );
}

#[test]
fn enter_in_the_name_joins_the_ticket_typed() {
    let mut lobby = Lobby::new("sam");
    let id = SecretKey::from_bytes(&[1; 32]).public();
    let addr = EndpointAddr::new(id).with_ip_addr("127.0.0.1:9".parse().unwrap());
    let ticket = Ticket::new(TopicId::from_bytes([2; 32]), vec![addr]);
    lobby.ticket.insert(&ticket.to_string());
    lobby.set_rooms(vec![StoredRoom {
        topic: TopicId::from_bytes([3; 32]),
        label: None,
        room_name: None,
    }]);
    assert_eq!(
        lobby.on_key(key(KeyCode::Enter)),
        Some(Choice::Join {
            name: "sam".into(),
            ticket: Box::new(ticket)
        })
    );
    // A mistyped one is said, and waits in its field to be fixed.
    lobby.ticket.insert("x");
    lobby.focus = Focus::Name;
    assert_eq!(lobby.on_key(key(KeyCode::Enter)), None);
    assert_eq!(lobby.focus, Focus::Ticket);
    assert!(lobby.error.is_some());
}

#[test]
fn delete_forgets_a_stored_room() {
    let mut lobby = Lobby::new("sam");
    let room = |n: u8| StoredRoom {
        topic: TopicId::from_bytes([n; 32]),
        label: None,
        room_name: None,
    };
    lobby.set_rooms(vec![room(1), room(2)]);
    lobby.focus = Focus::Rooms;
    lobby.cursor = 1;
    assert_eq!(
        lobby.on_key(key(KeyCode::Delete)),
        Some(Choice::Forget(room(2).topic))
    );
    assert_eq!(lobby.cursor, 0, "on the one left");
    assert_eq!(
        lobby.on_key(key(KeyCode::Char('d'))),
        Some(Choice::Forget(room(1).topic))
    );
    assert!(lobby.rooms.is_empty());
    assert_eq!(lobby.focus, Focus::Open, "no list left to be in");
    // In the name field, d is typing.
    lobby.focus = Focus::Name;
    assert_eq!(lobby.on_key(key(KeyCode::Char('d'))), None);
    assert_eq!(lobby.name.text(), "samd");
}

#[test]
fn join_needs_a_valid_ticket_and_keeps_what_was_typed() {
    let mut lobby = Lobby::new("sam");
    lobby.focus = Focus::Ticket;
    lobby.paste("not a ticket");
    assert_eq!(lobby.on_key(key(KeyCode::Enter)), None);
    assert!(
        lobby
            .error
            .as_deref()
            .unwrap()
            .starts_with("invalid ticket")
    );
    assert_eq!(
        lobby.ticket.text(),
        "notaticket",
        "the pasted text stays to be fixed"
    );

    let id = SecretKey::from_bytes(&[1; 32]).public();
    let addr = EndpointAddr::new(id).with_ip_addr("127.0.0.1:9".parse().unwrap());
    let ticket = Ticket::new(TopicId::from_bytes([2; 32]), vec![addr]);
    lobby.ticket.take();
    let text = ticket.to_string();
    lobby.paste(&format!("{}\n{}", &text[..20], &text[20..]));
    assert_eq!(
        lobby.on_key(key(KeyCode::Enter)),
        Some(Choice::Join {
            name: "sam".into(),
            ticket: Box::new(ticket)
        })
    );
}

#[test]
fn alt_digit_joins_a_nearby_room() {
    let mut lobby = Lobby::new("sam");
    let alt = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT);
    assert_eq!(lobby.on_key(alt('1')), None, "nothing nearby yet");
    let topic = TopicId::from_bytes([3; 32]);
    lobby.nearby = vec![NearbyRoom {
        topic,
        label: "standup".into(),
        members: 2,
        private: false,
    }];
    assert_eq!(lobby.on_key(alt('2')), None);
    assert_eq!(
        lobby.on_key(alt('1')),
        Some(Choice::JoinNearby {
            name: "sam".into(),
            topic
        })
    );
    // A plain digit is typing.
    assert_eq!(lobby.on_key(key(KeyCode::Char('1'))), None);
    assert_eq!(lobby.name.text(), "sam1");
}

#[test]
fn stored_rooms_are_preselected_and_rejoined_together() {
    let mut lobby = Lobby::new("sam");
    let room = |n: u8, label: Option<&str>| StoredRoom {
        topic: TopicId::from_bytes([n; 32]),
        label: label.map(String::from),
        room_name: None,
    };
    lobby.set_rooms(vec![room(1, Some("ops")), room(2, None), room(3, None)]);
    assert_eq!(lobby.on_key(key(KeyCode::Down)), None);
    assert_eq!(lobby.focus, Focus::Rooms, "after the name: the rooms");
    // Unselect the second one.
    lobby.on_key(key(KeyCode::Down));
    lobby.on_key(key(KeyCode::Char(' ')));
    assert_eq!(
        lobby.on_key(key(KeyCode::Enter)),
        Some(Choice::Rejoin {
            name: "sam".into(),
            rooms: vec![room(1, Some("ops")), room(3, None)],
        })
    );
    // Down past the last room reaches "open a new room".
    lobby.on_key(key(KeyCode::Down));
    lobby.on_key(key(KeyCode::Down));
    assert_eq!(lobby.focus, Focus::Open);
    assert_eq!(
        room(2, None).title(),
        format!("#{}", TopicId::from_bytes([2; 32]).fmt_short())
    );
}

#[test]
fn an_empty_name_is_refused() {
    let mut lobby = Lobby::new("");
    lobby.focus = Focus::Open;
    assert_eq!(lobby.on_key(key(KeyCode::Enter)), None);
    assert_eq!(lobby.focus, Focus::Name);
    assert!(lobby.error.is_some());
}

#[test]
fn an_invite_pasted_in_the_lobby_redeems_it() {
    use crate::proto::invite::{Invite, InviteDraft};
    let issuer = SecretKey::generate();
    let addr = EndpointAddr::new(issuer.public()).with_ip_addr("127.0.0.1:9".parse().unwrap());
    let draft = InviteDraft {
        room: crate::proto::state::RoomId::from_bytes([4; 32]),
        owner: issuer.public(),
        expires: crate::proto::UnixMillis(crate::proto::UnixMillis::now().0 + 60_000),
        uses: Some(1),
        peers: vec![addr],
        name: None,
    };
    let invite = Invite::issue(&issuer, draft).unwrap();
    let mut lobby = Lobby::new("sam");
    lobby.ticket.insert(&invite.to_string());
    lobby.focus = Focus::Ticket;
    assert_eq!(
        lobby.on_key(key(KeyCode::Enter)),
        Some(Choice::Redeem {
            name: "sam".into(),
            invite: Box::new(invite)
        })
    );
}

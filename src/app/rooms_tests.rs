//! Several rooms and conversations in one app: switching keeps each view's history, draft and
//! members; the background counts unread and mentions; room and direct-message commands.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::direct::DirectLine;
use super::fixtures::{NOON, in_rooms, line, member, said, to_view};
use super::log::EntryKind;
use super::views::ViewKind;
use super::*;
use crate::proto::room::Event;
use crate::proto::ticket::Ticket;
use crate::proto::{EndpointAddr, MessageId, SecretKey};
use crate::proto::{MemberInfo, TopicId};

fn key(code: KeyCode, modifiers: KeyModifiers) -> Msg {
    Msg::Key(KeyEvent::new(code, modifiers))
}

fn type_line(app: &mut App, text: &str) -> Vec<Effect> {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c), KeyModifiers::NONE), NOON);
    }
    app.update(key(KeyCode::Enter, KeyModifiers::NONE), NOON)
}

fn texts(app: &App) -> Vec<String> {
    app.view()
        .log
        .entries()
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Message { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn each_room_keeps_its_history_draft_and_members() {
    let mut app = in_rooms(100, 30, &["ops", "dev", "fun"]);
    let (bob, cy) = (member(2, "bob"), member(3, "cy"));
    app.update(to_view(&app, 1, said(&bob, "in dev", 1)), NOON);
    app.update(to_view(&app, 0, said(&cy, "in ops", 2)), NOON);
    app.update(
        to_view(&app, 1, Msg::Members(vec![member(1, "ann"), bob.clone()])),
        NOON,
    );
    assert_eq!(
        texts(&app),
        ["in ops"],
        "the current room shows its own line only"
    );
    // A draft stays with its room.
    for c in "half typed".chars() {
        app.update(key(KeyCode::Char(c), KeyModifiers::NONE), NOON);
    }
    app.update(key(KeyCode::Char('2'), KeyModifiers::ALT), NOON);
    assert_eq!(app.views.current, 1);
    assert_eq!(texts(&app), ["in dev"]);
    assert!(app.view().input.is_empty());
    assert_eq!(app.view().members.len(), 2);
    assert_eq!(app.title(), "parlor: dev");
    app.update(key(KeyCode::Char('p'), KeyModifiers::CONTROL), NOON);
    assert_eq!(app.views.current, 0);
    assert_eq!(app.view().input.text(), "half typed");
    // Wrapping around both ways.
    app.update(key(KeyCode::Up, KeyModifiers::ALT), NOON);
    assert_eq!(app.views.current, 2);
    app.update(key(KeyCode::Char('n'), KeyModifiers::CONTROL), NOON);
    assert_eq!(app.views.current, 0);
    app.update(key(KeyCode::Down, KeyModifiers::ALT), NOON);
    assert_eq!(app.views.current, 1);
    // Alt-9 with three rooms does nothing.
    app.update(key(KeyCode::Char('9'), KeyModifiers::ALT), NOON);
    assert_eq!(app.views.current, 1);
}

#[test]
fn the_background_counts_unread_and_mentions_and_rings_only_for_mentions() {
    let mut app = in_rooms(100, 30, &["ops", "dev"]);
    let bob = member(2, "bob");
    assert!(
        app.update(to_view(&app, 1, said(&bob, "one", 1)), NOON)
            .is_empty()
    );
    app.update(to_view(&app, 1, said(&bob, "two", 2)), NOON);
    let mut old = line(&bob, "from history", 0);
    old.history = true;
    app.update(
        to_view(&app, 1, Msg::Room(Event::MessageReceived(old))),
        NOON,
    );
    let dev = &app.views.tabs[1];
    assert_eq!(
        (dev.unread, dev.mention),
        (2, false),
        "history is not unread"
    );
    assert_eq!(app.title(), "parlor: ops (2 unread)");
    let effects = app.update(to_view(&app, 1, said(&bob, "ann: look", 3)), NOON);
    assert_eq!(effects, vec![Effect::Bell]);
    assert!(app.views.tabs[1].mention);
    // Going there clears both.
    app.update(key(KeyCode::Char('2'), KeyModifiers::ALT), NOON);
    let dev = &app.views.tabs[1];
    assert_eq!((dev.unread, dev.mention), (0, false));
    assert_eq!(texts(&app), ["from history", "one", "two", "ann: look"]);
}

#[test]
fn join_open_part_room_and_to() {
    let mut app = in_rooms(100, 30, &["ops"]);
    let id = SecretKey::from_bytes(&[5; 32]).public();
    let topic = TopicId::from_bytes([50; 32]);
    let ticket = Ticket::new(topic, vec![EndpointAddr::new(id)]);
    let effects = type_line(&mut app, &format!("/join {ticket}"));
    let view = app.current_view().unwrap();
    assert_eq!(
        effects,
        vec![Effect::Join {
            view,
            name: "ann".into(),
            ticket: Box::new(ticket.clone())
        }]
    );
    assert_eq!(app.views.tabs.len(), 2);
    assert_eq!(app.views.current, 1, "the new room is shown");
    // The same ticket again goes to the room instead.
    assert!(type_line(&mut app, "/room ops").is_empty());
    assert_eq!(app.views.current, 0);
    assert!(type_line(&mut app, &format!("/join {ticket}")).is_empty());
    assert_eq!((app.views.tabs.len(), app.views.current), (2, 1));
    // A label: looked up by the front end.
    let effects = type_line(&mut app, "/join standup");
    let standup = app.current_view().unwrap();
    assert_eq!(
        effects,
        vec![Effect::JoinKnown {
            view: standup,
            name: "ann".into(),
            room: "standup".into()
        }]
    );
    let effects = type_line(&mut app, "/open retro");
    let retro = app.current_view().unwrap();
    assert_eq!(
        effects,
        vec![Effect::Open {
            view: retro,
            name: "ann".into(),
            label: Some("retro".into())
        }]
    );
    let ops = app.views.tabs[0].key;
    assert_eq!(
        type_line(&mut app, "/to ops deploy done"),
        vec![Effect::SayIn(ops, "deploy done".into())]
    );
    assert!(type_line(&mut app, "/to nowhere hi").is_empty());
    assert!(app.status_error().unwrap().contains("nowhere"));
    type_line(&mut app, "/rooms");
    match &app.view().log.entries().back().unwrap().kind {
        EntryKind::Notice(text) => assert!(text.starts_with("4 open: 1: ops"), "{text}"),
        other => panic!("{other:?}"),
    }
    // /part closes the current room at once; the one before it is shown.
    assert_eq!(type_line(&mut app, "/part"), vec![Effect::Part(retro)]);
    assert_eq!(app.views.tabs.len(), 3);
    assert_eq!(app.current_view(), Some(standup));
    // A failure closes its view, saying why; the last one brings the lobby back.
    app.update(
        Msg::For(standup, Box::new(Msg::Failed("no known room".into()))),
        NOON,
    );
    assert_eq!(app.views.tabs.len(), 2);
    assert!(app.status_error().unwrap().contains("no known room"));
    for _ in 0..2 {
        type_line(&mut app, "/part");
    }
    // The lobby offers the rooms we are in: none, every one was parted.
    match &app.screen {
        Screen::Lobby(lobby) => assert!(lobby.rooms.is_empty(), "{:?}", lobby.rooms),
        Screen::Chat => panic!("no lobby"),
    }
}

fn dm(from: &MemberInfo, peer: &MemberInfo, text: &str, minute: u64, own: bool) -> Msg {
    Msg::Direct(DirectLine {
        id: MessageId::of(text.as_bytes()),
        peer: peer.id,
        author: from.clone(),
        text: text.into(),
        action: false,
        file: None,
        sent: super::fixtures::at_minute(minute),
        own,
        pending: own,
        history: false,
        reply_to: None,
        change: None,
    })
}

#[test]
fn direct_messages_open_conversations_in_order() {
    let mut app = in_rooms(100, 30, &["ops", "dev"]);
    let ann = member(1, "ann");
    let bob = member(2, "bob");
    app.update(
        to_view(&app, 1, Msg::Members(vec![ann.clone(), bob.clone()])),
        NOON,
    );
    // /msg finds bob in another room; the conversation opens in the background.
    let effects = type_line(&mut app, "/msg bob are you free?");
    let view = app.views.find_direct(&bob.id).unwrap();
    assert_eq!(
        effects,
        vec![
            Effect::LoadConversation { view, peer: bob.id },
            Effect::SendDirect {
                peer: bob.id,
                text: "are you free?".into(),
                action: false
            }
        ]
    );
    assert_eq!(app.views.current, 0);
    // The room it was typed in says where it went.
    let said = &app.view().log.entries().back().unwrap().kind;
    assert!(
        matches!(said, EntryKind::Notice(text)
            if text == "→ bob privately: are you free? (Alt-3 shows the conversation)"),
        "{said:?}"
    );
    assert!(type_line(&mut app, "/msg nobody hi").is_empty());
    assert!(app.status_error().unwrap().contains("nobody"));
    // Our message (pending), then bob's answer (sent earlier by his clock) goes before it.
    app.update(dm(&ann, &bob, "are you free?", 5, true), NOON);
    let effects = app.update(dm(&bob, &bob, "yes", 4, false), NOON);
    assert_eq!(effects, vec![Effect::Bell]);
    let tab = &app.views.tabs[2];
    assert_eq!((tab.unread, tab.mention), (1, true));
    assert!(matches!(tab.kind, ViewKind::Direct(id) if id == bob.id));
    // The same message twice shows once.
    app.update(dm(&bob, &bob, "yes", 4, false), NOON);
    type_line(&mut app, "/query bob");
    assert_eq!(app.views.current, 2);
    assert_eq!(texts(&app), ["yes", "are you free?"]);
    let pending = |app: &App| app.view().log.entries().back().unwrap().pending;
    assert!(pending(&app));
    app.update(
        Msg::Delivered {
            peer: bob.id,
            id: MessageId::of(b"are you free?"),
        },
        NOON,
    );
    assert!(!pending(&app));
    // Typing in the conversation sends privately.
    assert_eq!(
        type_line(&mut app, "/me waves"),
        vec![Effect::SendDirect {
            peer: bob.id,
            text: "waves".into(),
            action: true
        }]
    );
    assert_eq!(app.title(), "parlor: bob");
}

#[test]
fn an_invite_stays_with_its_room() {
    let mut app = in_rooms(100, 30, &["ops", "dev"]);
    app.update(to_view(&app, 1, Msg::Ticket("dev's ticket".into())), NOON);
    assert!(app.view().invite.is_none(), "not over the room shown");
    app.update(to_view(&app, 0, Msg::Ticket("ops's ticket".into())), NOON);
    // dev's address changes: only dev's popup follows.
    app.update(
        to_view(&app, 1, Msg::TicketChanged("dev's new ticket".into())),
        NOON,
    );
    assert_eq!(app.view().invite.as_ref().unwrap().ticket, "ops's ticket");
    app.update(key(KeyCode::Esc, KeyModifiers::NONE), NOON);
    app.update(key(KeyCode::Char('2'), KeyModifiers::ALT), NOON);
    assert_eq!(
        app.view().invite.as_ref().unwrap().ticket,
        "dev's new ticket"
    );
}

#[test]
fn to_reaches_conversations_and_rooms_come_first() {
    let mut app = in_rooms(100, 30, &["ops"]);
    // A member calling itself "ops" writes to us: its conversation is titled "ops" too.
    let impostor = member(6, "ops");
    app.update(
        to_view(
            &app,
            0,
            Msg::Members(vec![member(1, "ann"), impostor.clone()]),
        ),
        NOON,
    );
    app.update(dm(&impostor, &impostor, "hi", 1, false), NOON);
    let ops = app.views.tabs[0].key;
    assert_eq!(
        type_line(&mut app, "/to ops deploy"),
        vec![Effect::SayIn(ops, "deploy".into())]
    );
    assert_eq!(
        type_line(&mut app, "/to @ops hello"),
        vec![Effect::SendDirect {
            peer: impostor.id,
            text: "hello".into(),
            action: false
        }]
    );
    type_line(&mut app, "/room ops");
    assert_eq!(app.views.current, 0);
}

#[test]
fn a_direct_message_not_queued_comes_back_as_it_would_be_typed_here() {
    let mut app = in_rooms(100, 30, &["ops"]);
    let bob = member(2, "bob");
    app.update(
        to_view(&app, 0, Msg::Members(vec![member(1, "ann"), bob.clone()])),
        NOON,
    );
    type_line(&mut app, "/msg bob a secret");
    let unsent = || Msg::Unsent {
        peer: bob.id,
        text: "a secret".into(),
        action: false,
    };
    // In the room: as the command, so Enter never sends it to the room.
    app.update(unsent(), NOON);
    assert_eq!(app.view().input.text(), "/msg bob a secret");
    // With something being typed: shown, not lost.
    app.update(unsent(), NOON);
    assert!(app.status_error().unwrap().contains("a secret"));
    // In the conversation: the text itself.
    app.view_mut().input.set("");
    type_line(&mut app, "/query bob");
    app.update(unsent(), NOON);
    assert_eq!(app.view().input.text(), "a secret");
}

#[test]
fn a_shared_file_reads_as_one_with_its_handle_and_get_asks_twice_above_the_limit() {
    use crate::proto::wire::FileRef;
    let mut app = in_rooms(100, 30, &["ops"]);
    let bob = member(2, "bob");
    let mut offer = line(&bob, "report.pdf", 1);
    offer.file = Some(FileRef {
        hash: "1a2b3c4d".repeat(8),
        size: 2_411_724,
        name: "report.pdf".into(),
        mime: "application/pdf".into(),
    });
    app.update(Msg::Room(Event::MessageReceived(offer)), NOON);
    assert_eq!(texts(&app), ["shared report.pdf (2.3 MB) · /get 1a2b3c4d"]);
    assert_eq!(
        type_line(&mut app, "/get 1a2b"),
        vec![Effect::GetFile {
            handle: "1a2b".into(),
            force: false
        }]
    );
    // The same /get again means it, whatever the size.
    assert_eq!(
        type_line(&mut app, "/get 1a2b"),
        vec![Effect::GetFile {
            handle: "1a2b".into(),
            force: true
        }]
    );
    assert_eq!(
        type_line(&mut app, "/send ~/a.log"),
        vec![Effect::SendFile("~/a.log".into())]
    );
    assert_eq!(type_line(&mut app, "/files"), vec![Effect::ListFiles]);
}

#[test]
fn a_mistyped_ticket_is_one_error_line_and_no_view() {
    let mut app = in_rooms(100, 30, &["ops"]);
    let id = SecretKey::from_bytes(&[5; 32]).public();
    let addr = EndpointAddr::new(id).with_ip_addr("10.0.0.5:7".parse().unwrap());
    let ticket = Ticket::new(TopicId::from_bytes([51; 32]), vec![addr]).to_string();
    let mut typo = ticket.clone();
    let with = if &ticket[90..91] == "q" { "r" } else { "q" };
    typo.replace_range(90..91, with);
    assert!(type_line(&mut app, &format!("/join {typo}")).is_empty());
    assert_eq!(app.views.tabs.len(), 1, "no view for it");
    assert_eq!(
        app.status_error(),
        Some("this ticket is mistyped (a character is wrong or missing): copy it again")
    );
}

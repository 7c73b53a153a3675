use crossterm::event::{KeyCode, KeyModifiers, MouseEvent, MouseEventKind};

use super::fixtures::{NOON, alt, ctrl, in_room, key, member, said};
use super::log::EntryKind;
use super::*;
use crate::proto::MemberInfo;
use crate::proto::room::{Attempt, Event, LeaveReason, Refusal};

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)), NOON);
    }
}

fn last_text(app: &App) -> String {
    match &app.view().log.entries().back().unwrap().kind {
        EntryKind::Message { text, .. } | EntryKind::Notice(text) | EntryKind::Error(text) => {
            text.clone()
        }
    }
}

#[test]
fn enter_sends_and_clears_the_line() {
    let mut app = in_room(80, 24);
    type_text(&mut app, "hello");
    assert_eq!(
        app.update(key(KeyCode::Enter), NOON),
        vec![Effect::Say("hello".into())]
    );
    assert!(app.view().input.is_empty());
    assert!(
        app.update(key(KeyCode::Enter), NOON).is_empty(),
        "empty lines send nothing"
    );
}

#[test]
fn q_types_q_and_esc_does_not_quit() {
    let mut app = in_room(80, 24);
    // Typed, and the room hears we are typing (nothing quits).
    assert_eq!(
        app.update(key(KeyCode::Char('q')), NOON),
        vec![Effect::Typing]
    );
    assert_eq!(app.view().input.text(), "q");
    assert!(app.update(key(KeyCode::Esc), NOON).is_empty());
    assert_eq!(app.view().input.text(), "q", "the draft is kept");
    app.view_mut().input.take();
    assert_eq!(app.update(ctrl('c'), NOON), vec![Effect::Quit]);
}

#[test]
fn alt_enter_and_paste_make_one_multi_line_message() {
    let mut app = in_room(80, 24);
    type_text(&mut app, "one");
    app.update(alt(KeyCode::Enter), NOON);
    type_text(&mut app, "two");
    app.update(Msg::Paste("\r\nthree\r\nfour".into()), NOON);
    assert_eq!(
        app.update(key(KeyCode::Enter), NOON),
        vec![Effect::Say("one\ntwo\nthree\nfour".into())]
    );
}

#[test]
fn history_recalls_sent_lines() {
    let mut app = in_room(80, 24);
    for line in ["first", "second"] {
        type_text(&mut app, line);
        app.update(key(KeyCode::Enter), NOON);
    }
    type_text(&mut app, "draft");
    app.update(key(KeyCode::Up), NOON);
    assert_eq!(app.view().input.text(), "second");
    app.update(key(KeyCode::Up), NOON);
    assert_eq!(app.view().input.text(), "first");
    app.update(key(KeyCode::Down), NOON);
    app.update(key(KeyCode::Down), NOON);
    assert_eq!(app.view().input.text(), "draft");
}

#[test]
fn tab_completes_members_and_commands() {
    let mut app = in_room(80, 24);
    app.update(
        Msg::Members(vec![member(1, "ann"), member(2, "bob"), member(3, "bea")]),
        NOON,
    );
    type_text(&mut app, "b");
    app.update(key(KeyCode::Tab), NOON);
    assert_eq!(app.view().input.text(), "bea: ");
    app.update(key(KeyCode::Tab), NOON);
    assert_eq!(app.view().input.text(), "bob: ");
    app.view_mut().input.take();
    type_text(&mut app, "/ni");
    app.update(key(KeyCode::Tab), NOON);
    assert_eq!(app.view().input.text(), "/nick ");
}

#[test]
fn commands_become_effects_or_local_notices() {
    let mut app = in_room(80, 24);
    let run = |app: &mut App, line: &str| {
        app.view_mut().input.set(line);
        app.update(key(KeyCode::Enter), NOON)
    };
    assert_eq!(
        run(&mut app, "/nick sam"),
        vec![Effect::Rename("sam".into())]
    );
    assert_eq!(
        run(&mut app, "/me waves"),
        vec![Effect::Act("waves".into())]
    );
    assert_eq!(run(&mut app, "/ticket"), vec![Effect::ShowTicket]);
    // A command the app has no view logic for goes to the front-end core as it was typed.
    assert_eq!(
        run(&mut app, "/whois bob"),
        vec![Effect::Run(crate::app::command::Command::Whois(
            "bob".into()
        ))]
    );
    assert_eq!(run(&mut app, "/quit"), vec![Effect::Quit]);
    assert!(run(&mut app, "/who").is_empty());
    assert_eq!(last_text(&app), "1 here: ann");
    let entries = app.view().log.entries().len();
    assert!(run(&mut app, "/help").is_empty());
    assert!(app.help.is_some(), "/help opens the overlay");
    assert_eq!(
        app.view().log.entries().len(),
        entries,
        "and prints nothing"
    );
    app.update(key(KeyCode::Esc), NOON);
    assert!(run(&mut app, "/clear").is_empty());
    assert!(app.view().log.entries().is_empty());
}

#[test]
fn unknown_commands_hint_and_keep_the_line() {
    let mut app = in_room(80, 24);
    app.view_mut().input.set("/frobnicate now");
    assert!(app.update(key(KeyCode::Enter), NOON).is_empty());
    assert!(last_text(&app).contains("unknown command /frobnicate"));
    assert_eq!(app.view().input.text(), "/frobnicate now");
}

#[test]
fn a_refused_line_comes_back_to_the_input() {
    let mut app = in_room(80, 24);
    type_text(&mut app, "too long, say");
    app.update(key(KeyCode::Enter), NOON);
    let refusal = crate::proto::room::Refusal::TooLong {
        text_bytes: 40_000,
        max_text_bytes: 32_000,
    };
    let attempt = Attempt::Say("too long, say".into());
    app.update(Msg::Room(Event::refused(refusal, attempt)), NOON);
    assert_eq!(app.view().input.text(), "too long, say");
    assert!(app.status_error().unwrap().contains("too long"));
}

#[test]
fn a_refused_rename_gives_back_the_rename_not_an_earlier_line() {
    let mut app = in_room(80, 24);
    type_text(&mut app, "hello");
    app.update(key(KeyCode::Enter), NOON);
    type_text(&mut app, "/nick #");
    assert_eq!(
        app.update(key(KeyCode::Enter), NOON),
        vec![Effect::Rename("#".into())]
    );
    let refused = Event::refused(Refusal::InvalidName, Attempt::SetName("#".into()));
    app.update(Msg::Room(refused), NOON);
    assert_eq!(app.view().input.text(), "/nick #");
    // An action comes back as the command that was typed.
    app.view_mut().input.set("");
    let refused = Event::refused(Refusal::QueueFull(1000), Attempt::Act("waves".into()));
    app.update(Msg::Room(refused), NOON);
    assert_eq!(app.view().input.text(), "/me waves");
}

#[test]
fn mentions_ring_the_bell_once() {
    let mut app = in_room(80, 24);
    let bob = member(2, "bob");
    assert_eq!(
        app.update(said(&bob, "hey ANN, look", 1), NOON),
        vec![Effect::Bell]
    );
    assert!(
        app.update(said(&bob, "annoying is not a mention", 2), NOON)
            .is_empty()
    );
    assert!(matches!(
        app.view().log.entries().back().unwrap().kind,
        EntryKind::Message { mention: false, .. }
    ));
}

#[test]
fn scrolling_keeps_the_view_and_counts_new_lines() {
    let mut app = in_room(80, 24);
    let bob = member(2, "bob");
    for i in 0..60 {
        app.update(said(&bob, &format!("line {i}"), i), NOON);
    }
    app.update(key(KeyCode::PageUp), NOON);
    let scrolled = app.view().log.scroll();
    assert!(scrolled > 10);
    app.update(said(&bob, "new one", 61), NOON);
    assert_eq!(app.view().log.unread(), 1);
    assert_eq!(app.view().log.scroll(), scrolled + 1);
    let wheel = |kind| {
        Msg::Mouse(MouseEvent {
            kind,
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        })
    };
    app.update(wheel(MouseEventKind::ScrollDown), NOON);
    assert_eq!(app.view().log.scroll(), scrolled + 1 - 3);
    app.update(key(KeyCode::PageDown), NOON);
    app.update(key(KeyCode::PageDown), NOON);
    assert_eq!((app.view().log.scroll(), app.view().log.unread()), (0, 0));
}

#[test]
fn invite_popup_copies_and_closes() {
    let mut app = in_room(80, 24);
    assert_eq!(app.update(ctrl('t'), NOON), vec![Effect::ShowTicket]);
    app.update(Msg::Ticket("abc".into()), NOON);
    assert_eq!(
        app.update(ctrl('y'), NOON),
        vec![Effect::Copy("abc".into())]
    );
    assert!(app.view().invite.as_ref().unwrap().copied);
    assert_eq!(
        app.update(alt(KeyCode::Char('c')), NOON),
        vec![Effect::Copy("abc".into())]
    );
    assert!(
        app.view().input.is_empty(),
        "its own keys go to the popup, not the input"
    );
    app.update(key(KeyCode::Esc), NOON);
    assert!(app.view().invite.is_none());
    // Ctrl-T and F2 toggle it.
    app.update(Msg::Ticket("abc".into()), NOON);
    assert!(app.update(key(KeyCode::F(2)), NOON).is_empty());
    assert!(app.view().invite.is_none());
}

#[test]
fn renames_and_presence_become_notices() {
    let mut app = in_room(80, 24);
    let bob = member(2, "bob");
    app.update(Msg::Room(Event::MemberJoined(bob.clone())), NOON);
    assert_eq!(last_text(&app), "bob joined");
    let robert = MemberInfo {
        name: "robert".into(),
        display: "robert".into(),
        ..bob
    };
    app.update(
        Msg::Room(Event::MemberRenamed {
            member: robert.clone(),
            old: "bob".into(),
        }),
        NOON,
    );
    assert_eq!(last_text(&app), "bob is now known as robert");
    app.update(
        Msg::Room(Event::MemberLeft {
            member: robert,
            reason: LeaveReason::TimedOut,
        }),
        NOON,
    );
    assert_eq!(last_text(&app), "robert left (timed out)");
    app.update(Msg::Room(Event::NeighborsChanged(0)), NOON);
    assert_eq!(app.view().link, Link::Waiting);
}

#[test]
fn lobby_opens_a_room_then_failure_returns_to_it() {
    let mut app = App::new(
        Some("sam"),
        Rect::new(0, 0, 80, 24),
        chrono::FixedOffset::east_opt(0).unwrap(),
    );
    // Enter in the name field goes on: a new room with that name.
    assert_eq!(
        app.update(key(KeyCode::Enter), NOON),
        vec![Effect::Open {
            view: 0,
            name: "sam".into(),
            label: None
        }]
    );
    assert!(matches!(app.screen, Screen::Chat));
    let failed = Msg::Failed("no peer answered".into());
    app.update(Msg::For(0, Box::new(failed)), NOON);
    assert!(app.views.tabs.is_empty(), "the view closed");
    match &app.screen {
        Screen::Lobby(lobby) => assert_eq!(lobby.error.as_deref(), Some("no peer answered")),
        Screen::Chat => panic!("still in chat"),
    }
}

#[test]
fn mention_matching_is_by_whole_word() {
    assert!(mentions("hi sam!", "sam"));
    assert!(mentions("SAM: hi", "sam"));
    assert!(!mentions("samuel", "sam"));
    assert!(!mentions("hi", ""));
}

#[test]
fn history_lines_go_where_their_time_puts_them_and_never_ring() {
    let mut app = in_room(80, 24);
    let bob = member(2, "bob");
    app.update(said(&bob, "live, minute 5", 5), NOON);
    let mut earlier = |text: &str, minute| {
        let mut line = super::fixtures::line(&bob, text, minute);
        line.history = true;
        app.update(Msg::Room(Event::MessageReceived(line)), NOON)
    };
    assert!(
        earlier("ann, from history", 1).is_empty(),
        "old mentions do not ring"
    );
    earlier("minute 2", 2);
    let texts: Vec<String> = (app.view().log.entries())
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Message { text, history, .. } => Some(format!("{text} {history}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        texts,
        [
            "ann, from history true",
            "minute 2 true",
            "live, minute 5 false"
        ]
    );
}

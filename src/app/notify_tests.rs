//! Highlights (my name or a configured word, whole words, any case) and the notifications
//! they ask for: only without the focus, never for history or ignored members, at most one
//! per view every few seconds, and with text that cannot reach the terminal as escapes.

use crate::app::direct::DirectLine;
use crate::app::fixtures::{at_minute, in_rooms, line, member, said};
use crate::app::log::EntryKind;
use crate::app::notify::{MAX_BODY_CHARS, NOTIFY_GAP_MS, clean, highlighted};
use crate::app::{App, Effect, Msg};
use crate::proto::room::Event;
use crate::proto::{MemberInfo, MessageId, UnixMillis};

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

fn notifications(effects: &[Effect]) -> Vec<(String, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify { title, body } => Some((title.clone(), body.clone())),
            _ => None,
        })
        .collect()
}

/// In room "ops" as ann, highlighting "deploy", the terminal without the focus.
fn away() -> App {
    let mut app = in_rooms(80, 24, &["ops"]);
    app.set_highlights(&words(&["deploy", " ", "C++"]));
    app.update(Msg::Focus(false), at_minute(0));
    app
}

fn dm(from: &MemberInfo, text: &str, minute: u64) -> Msg {
    Msg::Direct(DirectLine {
        id: MessageId::of(text.as_bytes()),
        peer: from.id,
        author: from.clone(),
        text: text.into(),
        action: false,
        file: None,
        sent: at_minute(minute),
        own: false,
        pending: false,
        history: false,
        reply_to: None,
        change: None,
    })
}

#[test]
fn highlight_words_match_whole_words_in_any_case() {
    let list = words(&["deploy", "C++"]);
    assert!(highlighted("Deploy is done", None, &list));
    assert!(highlighted("who broke the DEPLOY?", None, &list));
    assert!(!highlighted("redeploy and deployment", None, &list));
    assert!(highlighted("ann: hi", Some("ann"), &[]));
    assert!(!highlighted("annie", Some("ann"), &[]));
    assert!(highlighted("learning c++ today", None, &list));
    assert!(!highlighted("anything", None, &[]));
}

#[test]
fn a_highlighted_line_is_styled_rings_and_notifies_while_away() {
    let mut app = away();
    let bob = member(2, "bob");
    let effects = app.update(said(&bob, "the deploy failed", 1), at_minute(1));
    assert!(effects.contains(&Effect::Bell));
    let sent = notifications(&effects);
    assert_eq!(sent, [("bob in ops".into(), "the deploy failed".into())]);
    let last = app.view().log.entries().back().unwrap();
    assert!(matches!(
        last.kind,
        EntryKind::Message { mention: true, .. }
    ));
    // An ordinary line: nothing.
    assert!(app.update(said(&bob, "lunch?", 2), at_minute(2)).is_empty());
}

#[test]
fn nothing_pops_up_while_the_terminal_has_the_focus_or_for_history() {
    let mut app = away();
    let bob = member(2, "bob");
    app.update(Msg::Focus(true), at_minute(1));
    let effects = app.update(said(&bob, "ann: are you there", 1), at_minute(1));
    assert_eq!(effects, [Effect::Bell], "the bell only");
    app.update(Msg::Focus(false), at_minute(2));
    let mut old = line(&bob, "ann: from history", 2);
    old.history = true;
    let effects = app.update(Msg::Room(Event::MessageReceived(old)), at_minute(2));
    assert!(effects.is_empty());
}

#[test]
fn a_flood_gets_one_notification_per_view_every_few_seconds() {
    let mut app = away();
    let bob = member(2, "bob");
    let start = at_minute(1);
    let mut sent = 0;
    for i in 0..50u64 {
        let now = UnixMillis(start.0 + i * 100);
        sent += notifications(&app.update(said(&bob, "ann ann", 1), now)).len();
    }
    assert_eq!(sent, 1);
    let later = UnixMillis(start.0 + NOTIFY_GAP_MS);
    let effects = app.update(said(&bob, "ann again", 2), later);
    assert_eq!(notifications(&effects).len(), 1, "once the gap is over");
}

#[test]
fn direct_messages_notify_but_not_from_an_ignored_member() {
    let mut app = away();
    let cy = member(3, "cy");
    let effects = app.update(dm(&cy, "psst", 1), at_minute(1));
    let sent = notifications(&effects);
    assert_eq!(sent, [("cy in a direct message".into(), "psst".into())]);
    let ignored = Event::Ignored {
        member: cy.clone(),
        ignored: true,
    };
    app.update(Msg::Room(ignored), at_minute(2));
    let effects = app.update(dm(&cy, "psst again", 20), at_minute(20));
    assert!(!effects.contains(&Effect::Bell), "{effects:?}");
    assert!(notifications(&effects).is_empty());
    let unignored = Event::Ignored {
        member: cy.clone(),
        ignored: false,
    };
    app.update(Msg::Room(unignored), at_minute(21));
    let effects = app.update(dm(&cy, "hello?", 30), at_minute(30));
    assert_eq!(notifications(&effects).len(), 1);
}

#[test]
fn notification_text_is_one_clean_bounded_line() {
    let mut app = away();
    let evil = MemberInfo {
        display: "bob\x1b]0;pwned\x07".into(),
        ..member(2, "bob")
    };
    let text = format!("ann \x1b]777;notify;x;y\x1b\\ {}", "z".repeat(500));
    let effects = app.update(said(&evil, &text, 1), at_minute(1));
    let [(title, body)] = &notifications(&effects)[..] else {
        panic!("one notification: {effects:?}");
    };
    for part in [title, body] {
        assert!(!part.chars().any(char::is_control), "{part:?}");
    }
    assert!(body.chars().count() <= MAX_BODY_CHARS);
    assert!(body.ends_with('…'));
    assert_eq!(clean("two\nlines", 20), "two lines");
}

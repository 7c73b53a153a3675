//! The read marker: what counts as seen, where the marker goes on return, and the positions
//! kept across restarts.

use std::collections::HashMap;

use crossterm::event::KeyCode;

use crate::app::fixtures::{NOON, alt, at_minute, in_rooms, key, member, said, to_view};
use crate::app::read::{marker_index, read_key};
use crate::app::{App, Msg};

/// The text of the line the marker is above in the current view.
fn marked(app: &App) -> Option<String> {
    let view = app.view();
    let index = marker_index(&view.log, view.read.marker)?;
    match &view.log.entries()[index].kind {
        crate::app::log::EntryKind::Message { text, .. } => Some(text.clone()),
        other => Some(format!("{other:?}")),
    }
}

fn two_rooms() -> App {
    let mut app = in_rooms(80, 24, &["one", "two"]);
    let bob = member(2, "bob");
    app.update(to_view(&app, 0, said(&bob, "read before", 1)), at_minute(1));
    app
}

#[test]
fn lines_that_came_while_away_are_below_the_marker_on_return() {
    let mut app = two_rooms();
    let bob = member(2, "bob");
    assert_eq!(marked(&app), None, "nothing new where we are");
    app.update(alt(KeyCode::Char('2')), at_minute(2));
    for (text, minute) in [("first unseen", 3), ("second unseen", 4)] {
        app.update(
            to_view(&app, 0, said(&bob, text, minute)),
            at_minute(minute),
        );
    }
    app.update(alt(KeyCode::Char('1')), at_minute(5));
    assert_eq!(marked(&app).as_deref(), Some("first unseen"));
    // It stays while the view is shown, though everything is on screen (seen) now...
    app.update(Msg::Tick, at_minute(6));
    assert_eq!(marked(&app).as_deref(), Some("first unseen"));
    // ...and goes at the next return, everything below it having been seen.
    app.update(alt(KeyCode::Char('2')), at_minute(7));
    app.update(alt(KeyCode::Char('1')), at_minute(8));
    assert_eq!(marked(&app), None);
}

#[test]
fn lines_are_not_seen_while_the_terminal_has_no_focus() {
    let mut app = two_rooms();
    let bob = member(2, "bob");
    app.update(Msg::Focus(false), at_minute(2));
    app.update(to_view(&app, 0, said(&bob, "while away", 3)), at_minute(3));
    assert_eq!(app.view().read.seen, Some(at_minute(1)));
    app.update(Msg::Focus(true), at_minute(4));
    assert_eq!(marked(&app).as_deref(), Some("while away"));
    assert_eq!(app.view().read.seen, Some(at_minute(3)), "seen once back");
}

#[test]
fn scrolled_up_only_what_is_on_screen_is_seen() {
    let mut app = in_rooms(80, 12, &["one"]);
    let bob = member(2, "bob");
    for minute in 1..=20 {
        app.update(
            said(&bob, &format!("line {minute}"), minute),
            at_minute(minute),
        );
    }
    app.update(key(KeyCode::PageUp), at_minute(21));
    app.update(Msg::Focus(false), at_minute(21));
    app.update(said(&bob, "below the screen", 22), at_minute(22));
    app.update(Msg::Focus(true), at_minute(23));
    app.update(said(&bob, "also below", 24), at_minute(24));
    assert_eq!(marked(&app).as_deref(), Some("below the screen"));
    let seen = app.view().read.seen.expect("something was on screen");
    assert!(
        seen <= at_minute(20),
        "lines below the screen are not seen: {seen:?}"
    );
    app.update(key(KeyCode::Esc), at_minute(25));
    assert_eq!(
        app.view().read.seen,
        Some(at_minute(24)),
        "back at the bottom"
    );
}

#[test]
fn saying_something_means_caught_up() {
    let mut app = two_rooms();
    let bob = member(2, "bob");
    app.update(alt(KeyCode::Char('2')), at_minute(2));
    app.update(to_view(&app, 0, said(&bob, "unseen", 3)), at_minute(3));
    app.update(alt(KeyCode::Char('1')), at_minute(4));
    assert_eq!(marked(&app).as_deref(), Some("unseen"));
    for c in "hello".chars() {
        app.update(key(KeyCode::Char(c)), at_minute(4));
    }
    app.update(key(KeyCode::Enter), at_minute(4));
    assert_eq!(marked(&app), None);
}

#[test]
fn own_lines_and_notices_never_get_the_marker() {
    let mut app = two_rooms();
    let ann = member(1, "ann");
    app.update(alt(KeyCode::Char('2')), at_minute(2));
    let mut own = crate::app::fixtures::line(&ann, "mine, from elsewhere", 3);
    own.history = true;
    let own = Msg::Room(crate::proto::room::Event::MessageSent(own));
    app.update(to_view(&app, 0, own), at_minute(3));
    app.update(
        to_view(&app, 0, Msg::Notice("a notice".into())),
        at_minute(3),
    );
    app.update(alt(KeyCode::Char('1')), at_minute(4));
    assert_eq!(marked(&app), None);
}

#[test]
fn a_line_from_a_clock_ahead_is_seen_as_now() {
    let mut app = in_rooms(80, 24, &["one"]);
    let bob = member(2, "bob");
    app.update(said(&bob, "from the future", 60), at_minute(1));
    assert_eq!(app.view().read.seen, Some(at_minute(1)));
}

#[test]
fn the_last_runs_position_puts_the_marker_and_this_runs_is_kept() {
    let mut app = in_rooms(80, 24, &["one", "two"]);
    let topic = crate::proto::TopicId::from_bytes([10; 32]);
    let one = read_key(&crate::app::views::ViewKind::Room(Some(topic))).unwrap();
    let gone = "room:someroomnotopenthisrun".to_string();
    app.set_read_positions(HashMap::from([
        (one.clone(), at_minute(2)),
        (gone.clone(), NOON),
    ]));
    let bob = member(2, "bob");
    for (text, minute) in [("old", 1), ("seen last time", 2), ("new since", 3)] {
        let mut line = crate::app::fixtures::line(&bob, text, minute);
        line.history = true;
        let msg = Msg::Room(crate::proto::room::Event::MessageReceived(line));
        app.update(to_view(&app, 0, msg), at_minute(10));
    }
    assert_eq!(marked(&app).as_deref(), Some("new since"));
    let kept = app.read_positions();
    assert_eq!(kept.get(&one), Some(&at_minute(3)), "seen now, on screen");
    assert_eq!(
        kept.get(&gone),
        Some(&NOON),
        "a room not open this run keeps its own"
    );
}

#[test]
fn a_conversation_is_keyed_by_its_peer() {
    let peer = member(3, "cy");
    let key = read_key(&crate::app::views::ViewKind::Direct(peer.id)).unwrap();
    assert_eq!(key, format!("dm:{}", peer.id));
}

#[test]
fn a_view_closed_this_run_keeps_where_it_was_left_off() {
    let mut app = two_rooms();
    let key = read_key(&app.views.tabs[0].kind).unwrap();
    app.remove_view(app.views.tabs[0].key);
    assert_eq!(app.read_positions().get(&key), Some(&at_minute(1)));
}

#[test]
fn scrolling_up_reaches_the_oldest_line_above_the_marker() {
    let mut app = in_rooms(80, 12, &["one", "two"]);
    let bob = member(2, "bob");
    for minute in 1..=10 {
        let msg = said(&bob, &format!("line {minute}"), minute);
        app.update(to_view(&app, 0, msg), at_minute(minute));
    }
    app.update(alt(KeyCode::Char('2')), at_minute(11));
    for minute in 12..=20 {
        let msg = said(&bob, &format!("line {minute}"), minute);
        app.update(to_view(&app, 0, msg), at_minute(minute));
    }
    app.update(alt(KeyCode::Char('1')), at_minute(21));
    assert_eq!(marked(&app).as_deref(), Some("line 12"));
    let rows: usize = {
        let log = &app.view().log;
        let width = log.time.width;
        log.entries()
            .iter()
            .map(|e| e.layout(80, width).height())
            .sum()
    };
    for _ in 0..10 {
        app.update(key(KeyCode::PageUp), at_minute(21));
    }
    let (_, height) = app.history_size();
    // Entries' rows plus the marker's fill the pane from the top.
    assert_eq!(app.view().log.scroll() + height, rows + 1);
}

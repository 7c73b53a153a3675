//! Each view's own state: errors stay in the view they happened in and leave its status bar
//! after [`ERROR_MS`] or the next thing that succeeds there; being alone in a room is not an
//! error; a message for a view in the background changes that view only.

use crossterm::event::KeyCode;

use super::fixtures::{NOON, in_rooms, key, line, member, to_view};
use super::view::ERROR_MS;
use super::*;
use crate::model::{Connectivity, NetState};
use crate::proto::room::Event;

fn type_line(app: &mut App, text: &str, now: UnixMillis) -> Vec<Effect> {
    app.view_mut().input.set(text);
    app.update(key(KeyCode::Enter), now)
}

fn net(state: Connectivity, neighbours: usize) -> Msg {
    Msg::Net(NetState { state, neighbours })
}

fn later(ms: u64) -> UnixMillis {
    UnixMillis(NOON.0 + ms)
}

#[test]
fn an_error_in_one_room_is_not_shown_in_another() {
    let mut app = in_rooms(80, 24, &["ops", "dev"]);
    type_line(&mut app, "/frobnicate", NOON);
    let error = app.status_error().map(String::from);
    assert!(
        error.as_deref().is_some_and(|e| e.contains("frobnicate")),
        "{error:?}"
    );
    app.switch_to(1);
    assert_eq!(app.status_error(), None, "dev has had no error");
    app.switch_to(0);
    assert_eq!(
        app.status_error().map(String::from),
        error,
        "ops still has it"
    );
}

#[test]
fn an_error_said_in_the_background_stays_in_its_room() {
    let mut app = in_rooms(80, 24, &["ops", "dev"]);
    let warning = to_view(&app, 1, Msg::Warning("disk full".into()));
    app.update(warning, NOON);
    assert_eq!(app.status_error(), None, "not in ops, where we are");
    app.switch_to(1);
    assert_eq!(app.status_error(), Some("disk full"));
}

#[test]
fn an_error_leaves_the_status_bar_after_10_s() {
    let mut app = in_rooms(80, 24, &["ops", "dev"]);
    app.update(Msg::Warning("disk full".into()), NOON);
    assert_eq!(app.next_deadline(), Some(later(ERROR_MS)));
    app.update(Msg::Tick, later(ERROR_MS - 1));
    assert_eq!(app.status_error(), Some("disk full"), "not yet");
    app.update(Msg::Tick, later(ERROR_MS));
    assert_eq!(app.status_error(), None);
    assert_eq!(app.next_deadline(), None, "nothing left to wait for");
    // The history keeps it.
    let kept = app
        .view()
        .log
        .entries()
        .iter()
        .any(|e| matches!(&e.kind, log::EntryKind::Error(text) if text == "disk full"));
    assert!(kept);
}

#[test]
fn an_error_in_the_background_expires_there_too() {
    let mut app = in_rooms(80, 24, &["ops", "dev"]);
    app.update(to_view(&app, 1, Msg::Warning("disk full".into())), NOON);
    app.update(Msg::Tick, later(ERROR_MS));
    app.switch_to(1);
    assert_eq!(app.status_error(), None);
}

#[test]
fn an_error_clears_when_the_next_line_is_sent() {
    let mut app = in_rooms(80, 24, &["ops"]);
    type_line(&mut app, "/frobnicate", NOON);
    assert!(app.status_error().is_some());
    let effects = type_line(&mut app, "hello", later(1));
    assert_eq!(effects, vec![Effect::Say("hello".into())]);
    assert_eq!(app.status_error(), None, "the next line typed is fine");
    // A refusal comes back as an error; the line that goes out next ends it.
    let refused = Event::Refused {
        refusal: crate::proto::room::Refusal::QueueFull(5),
        attempt: crate::proto::room::Attempt::Say(String::new()),
    };
    app.update(Msg::Room(refused), later(2));
    assert!(app.status_error().is_some());
    let sent = Event::MessageSent(line(&member(1, "ann"), "hello", 1));
    app.update(Msg::Room(sent), later(3));
    assert_eq!(app.status_error(), None);
}

#[test]
fn being_alone_in_a_room_is_waiting_not_an_error() {
    let mut app = in_rooms(80, 24, &["ops"]);
    let (ann, bob) = (member(1, "ann"), member(2, "bob"));
    // bob says goodbye: he leaves the member list, then the last neighbour goes.
    app.update(Msg::Members(vec![ann.clone(), bob.clone()]), NOON);
    app.update(Msg::Members(vec![ann.clone()]), NOON);
    app.update(Msg::Room(Event::NeighborsChanged(0)), NOON);
    app.update(net(Connectivity::Reconnecting, 0), NOON);
    assert_eq!(app.status_error(), None, "alone is not an error");
    // Someone comes: no "back in the room", as nothing was lost.
    app.update(Msg::Members(vec![ann.clone(), bob.clone()]), NOON);
    app.update(net(Connectivity::Connected, 1), NOON);
    let back =
        app.view().log.entries().iter().any(
            |e| matches!(&e.kind, log::EntryKind::Notice(text) if text.starts_with("back in")),
        );
    assert!(!back);
    // Cut off while bob is here: that is a loss.
    app.update(net(Connectivity::Reconnecting, 0), NOON);
    assert_eq!(app.status_error(), Some(link::LOST));
    // bob times out meanwhile: we are alone, waiting, nothing is wrong any more.
    app.update(Msg::Members(vec![ann]), NOON);
    assert_eq!(app.status_error(), None);
}

#[test]
fn a_message_for_a_background_view_changes_that_view_only() {
    let mut app = in_rooms(80, 24, &["ops", "dev"]);
    let bob = member(2, "bob");
    app.view_mut().input.set("draft in ops");
    let members = Msg::Members(vec![member(1, "ann"), bob.clone()]);
    app.update(to_view(&app, 1, members), NOON);
    app.update(to_view(&app, 1, net(Connectivity::Reconnecting, 0)), NOON);
    app.update(to_view(&app, 1, Msg::Ticket("dev-ticket".into())), NOON);
    let ops = app.view();
    assert_eq!(ops.members.len(), 1);
    assert_eq!(ops.link, Link::Connected(1));
    assert!(ops.invite.is_none());
    assert_eq!(ops.input.text(), "draft in ops");
    app.switch_to(1);
    let dev = app.view();
    assert_eq!(dev.members.len(), 2);
    assert_eq!(dev.link, Link::Reconnecting);
    assert_eq!(
        dev.invite.as_ref().map(|i| i.ticket.as_str()),
        Some("dev-ticket")
    );
    assert_eq!(dev.input.text(), "");
    assert_eq!(app.status_error(), Some(link::LOST));
}

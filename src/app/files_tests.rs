//! Shared files in the terminal UI: picking a file line with Ctrl-G and fetching it with
//! Enter, and Tab completing the path after `/send`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::complete_path::PathCandidate;
use super::fixtures::{NOON, in_room, in_rooms, member, said, shared, shared_line, to_view};
use super::log::EntryKind;
use super::*;
use crate::proto::room::Event;

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)), NOON);
    }
}

/// The picked file's handle (its hash's first 8 hex digits; the pick holds the whole hash).
fn picked(app: &App) -> Option<&str> {
    app.picked_file().and_then(|file| file.handle.get(..8))
}

/// `/get` of the file whose handle is `handle`, by its whole hash (the fixtures' hashes are
/// one hex digit 64 times, so the handle eight times over).
fn get(handle: &str, force: bool) -> Vec<Effect> {
    vec![Effect::GetFile {
        handle: handle.repeat(8),
        force,
    }]
}

/// A room where bob shared two files (handles `aaaaaaaa`, then `bbbbbbbb`) between lines.
fn room_with_files() -> App {
    let mut app = in_room(80, 24);
    let bob = member(2, "bob");
    app.update(said(&bob, "the minutes:", 1), NOON);
    app.update(shared(&bob, "minutes.txt", 2_000, 'a', 2), NOON);
    app.update(shared(&bob, "build.iso", 700 << 20, 'b', 3), NOON);
    app.update(said(&bob, "and the build", 4), NOON);
    app
}

#[test]
fn ctrl_g_picks_the_newest_file_and_up_down_move_between_files() {
    let mut app = room_with_files();
    assert!(!app.picking());
    assert!(app.update(ctrl('g'), NOON).is_empty());
    assert_eq!(picked(&app), Some("bbbbbbbb"));
    app.update(key(KeyCode::Up), NOON);
    assert_eq!(picked(&app), Some("aaaaaaaa"));
    app.update(key(KeyCode::Up), NOON);
    assert_eq!(
        picked(&app),
        Some("aaaaaaaa"),
        "the oldest file stays picked"
    );
    app.update(key(KeyCode::Down), NOON);
    app.update(key(KeyCode::Down), NOON);
    assert_eq!(
        picked(&app),
        Some("bbbbbbbb"),
        "the newest file stays picked"
    );
    assert!(app.view().input.is_empty(), "Up and Down recalled no line");
}

#[test]
fn enter_gets_the_picked_file_as_get_does_and_again_forces_it() {
    let mut app = room_with_files();
    app.update(ctrl('g'), NOON);
    assert_eq!(
        app.update(key(KeyCode::Enter), NOON),
        get("bbbbbbbb", false)
    );
    assert!(app.picking(), "still picking: the next file is one Up away");
    // Above --max-get the first answer asks to confirm: Enter again is the second /get.
    assert_eq!(app.update(key(KeyCode::Enter), NOON), get("bbbbbbbb", true));
    app.update(key(KeyCode::Up), NOON);
    assert_eq!(
        app.update(key(KeyCode::Enter), NOON),
        get("aaaaaaaa", false)
    );
    // Typed or picked, it is the same /get.
    app.update(key(KeyCode::Esc), NOON);
    app.view_mut().input.set("/get aaaaaaaa");
    let typed = vec![Effect::GetFile {
        handle: "aaaaaaaa".into(),
        force: true,
    }];
    assert_eq!(app.update(key(KeyCode::Enter), NOON), typed);
}

#[test]
fn esc_stops_picking_and_does_not_quit() {
    let mut app = room_with_files();
    app.update(ctrl('g'), NOON);
    assert!(app.update(key(KeyCode::Esc), NOON).is_empty());
    assert!(!app.picking());
    // Ctrl-G again toggles too.
    app.update(ctrl('g'), NOON);
    assert!(app.update(ctrl('g'), NOON).is_empty());
    assert!(!app.picking());
    assert!(
        app.update(key(KeyCode::Esc), NOON).is_empty(),
        "Esc never quits"
    );
}

#[test]
fn typing_stops_picking_and_types() {
    let mut app = room_with_files();
    app.update(ctrl('g'), NOON);
    type_text(&mut app, "th");
    assert!(!app.picking());
    assert_eq!(app.view().input.text(), "th");
    assert_eq!(
        app.update(key(KeyCode::Enter), NOON),
        vec![Effect::Say("th".into())]
    );
    // A paste is typing too; a draft stays as it was while picking.
    app.update(ctrl('g'), NOON);
    app.update(Msg::Paste("x".into()), NOON);
    assert!(!app.picking());
    assert_eq!(app.view().input.text(), "x");
    app.update(ctrl('g'), NOON);
    assert_eq!(
        app.update(key(KeyCode::Enter), NOON),
        get("bbbbbbbb", false)
    );
    assert_eq!(
        app.view().input.text(),
        "x",
        "Enter fetched; the draft waits"
    );
}

#[test]
fn without_a_file_from_others_a_notice_says_so() {
    let mut app = in_room(80, 24);
    let ann = member(1, "ann");
    let own = shared_line(&ann, "mine.txt", 10, 'c', 1);
    app.update(Msg::Room(Event::MessageSent(own)), NOON);
    app.update(ctrl('g'), NOON);
    assert!(!app.picking(), "our own file is nothing to fetch");
    let last = app.view().log.entries().back().map(|e| e.kind.clone());
    assert!(
        matches!(&last, Some(EntryKind::Notice(text)) if text.starts_with("no file shared here")),
        "{last:?}"
    );
}

#[test]
fn picking_brings_the_file_line_into_sight() {
    let mut app = in_room(80, 24);
    let bob = member(2, "bob");
    app.update(shared(&bob, "old.txt", 10, 'a', 0), NOON);
    for minute in 1..=60 {
        app.update(said(&bob, &format!("line {minute}"), minute), NOON);
    }
    app.update(ctrl('g'), NOON);
    assert_eq!(picked(&app), Some("aaaaaaaa"));
    // 60 one-row lines below it; the pane shows height - 1 rows above the marker.
    let height = app.layout().history.height as usize;
    let scroll = app.view().log.scroll();
    assert!(scroll <= 60 && 60 < scroll + height - 1, "scroll {scroll}");
    // Down at the newest file: the view stays.
    app.update(key(KeyCode::Down), NOON);
    assert_eq!(app.view().log.scroll(), scroll);
}

#[test]
fn scrolled_up_the_newest_file_on_screen_is_picked_first() {
    let mut app = in_room(80, 24);
    let bob = member(2, "bob");
    app.update(shared(&bob, "seen.txt", 10, 'a', 0), NOON);
    for minute in 1..=30 {
        app.update(said(&bob, &format!("line {minute}"), minute), NOON);
    }
    app.update(shared(&bob, "newest.txt", 10, 'b', 31), NOON);
    for _ in 0..3 {
        app.update(key(KeyCode::PageUp), NOON);
    }
    let scroll = app.view().log.scroll();
    app.update(ctrl('g'), NOON);
    assert_eq!(picked(&app), Some("aaaaaaaa"));
    assert_eq!(
        app.view().log.scroll(),
        scroll,
        "on screen already: nothing moves"
    );
    // PageDown looks around without losing the pick.
    app.update(key(KeyCode::PageDown), NOON);
    assert_eq!(picked(&app), Some("aaaaaaaa"));
}

#[test]
fn the_pick_stays_on_its_line_as_history_arrives_and_ends_with_the_view() {
    let mut app = in_rooms(80, 24, &["ops", "dev"]);
    let bob = member(2, "bob");
    app.update(to_view(&app, 0, shared(&bob, "a.txt", 10, 'a', 5)), NOON);
    app.update(ctrl('g'), NOON);
    let before = app.view().log.picked().unwrap();
    let mut earlier = super::fixtures::line(&bob, "from before", 1);
    earlier.history = true;
    let msg = Msg::Room(Event::MessageReceived(earlier));
    app.update(to_view(&app, 0, msg), NOON);
    assert_eq!(
        app.view().log.picked(),
        Some(before + 1),
        "one line went above it"
    );
    assert_eq!(picked(&app), Some("aaaaaaaa"));
    app.update(
        Msg::Key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::ALT)),
        NOON,
    );
    app.update(
        Msg::Key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::ALT)),
        NOON,
    );
    assert!(!app.picking(), "switching views stopped picking");
}

#[test]
fn ctrl_g_is_in_the_help() {
    assert!(chat::KEYS.iter().any(|(key, _)| *key == "Ctrl-G"));
}

fn candidates(names: &[&str]) -> Vec<PathCandidate> {
    names
        .iter()
        .map(|name| PathCandidate {
            name: name.trim_end_matches('/').to_string(),
            dir: name.ends_with('/'),
        })
        .collect()
}

fn answer(app: &mut App, prefix: &str, names: &[&str]) {
    let msg = Msg::PathCompletions {
        prefix: prefix.into(),
        candidates: candidates(names),
    };
    assert!(app.update(msg, NOON).is_empty());
}

fn complete_path(prefix: &str) -> Vec<Effect> {
    vec![Effect::CompletePath {
        prefix: prefix.into(),
    }]
}

#[test]
fn tab_after_send_asks_for_the_paths_directory() {
    let mut app = in_room(80, 24);
    type_text(&mut app, "/send ~/Do");
    assert_eq!(app.update(key(KeyCode::Tab), NOON), complete_path("~/Do"));
    // A command completed to /send: the next Tab completes the path.
    app.view_mut().input.set("/sen");
    assert!(app.update(key(KeyCode::Tab), NOON).is_empty());
    assert_eq!(app.view().input.text(), "/send ");
    assert_eq!(app.update(key(KeyCode::Tab), NOON), complete_path(""));
    // Elsewhere Tab completes names and commands, as before.
    app.view_mut().input.set("/s");
    assert!(app.update(key(KeyCode::Tab), NOON).is_empty());
    assert_eq!(app.view().input.text(), "/search ");
    assert!(app.update(key(KeyCode::Tab), NOON).is_empty());
    assert_eq!(
        app.view().input.text(),
        "/send ",
        "cycling commands goes on"
    );
}

#[test]
fn one_candidate_completes_whole_and_a_directory_goes_on_inside() {
    let mut app = in_room(80, 24);
    type_text(&mut app, "/send ~/Do");
    app.update(key(KeyCode::Tab), NOON);
    answer(&mut app, "~/Do", &["Documents/"]);
    assert_eq!(app.view().input.text(), "/send ~/Documents/");
    assert_eq!(
        app.update(key(KeyCode::Tab), NOON),
        complete_path("~/Documents/")
    );
    answer(&mut app, "~/Documents/", &["report.pdf"]);
    assert_eq!(app.view().input.text(), "/send ~/Documents/report.pdf");
    // Nothing found: nothing changes.
    app.view_mut().input.set("/send zz");
    answer(&mut app, "zz", &[]);
    assert_eq!(app.view().input.text(), "/send zz");
}

#[test]
fn several_complete_their_common_start_then_cycle() {
    let mut app = in_room(80, 24);
    type_text(&mut app, "/send rep");
    app.update(key(KeyCode::Tab), NOON);
    answer(
        &mut app,
        "rep",
        &["report-2.pdf", "reports/", "report-1.pdf"],
    );
    assert_eq!(app.view().input.text(), "/send report");
    for expected in ["report-1.pdf", "report-2.pdf", "reports/", "report-1.pdf"] {
        assert!(app.update(key(KeyCode::Tab), NOON).is_empty(), "cycling");
        assert_eq!(app.view().input.text(), format!("/send {expected}"));
    }
    // No common start beyond what is typed: the first at once, then the next.
    app.update(key(KeyCode::Char(' ')), NOON);
    app.view_mut().input.set("/send ");
    answer(&mut app, "", &["b.txt", "a.txt"]);
    assert_eq!(app.view().input.text(), "/send a.txt");
    app.update(key(KeyCode::Tab), NOON);
    assert_eq!(app.view().input.text(), "/send b.txt");
}

#[test]
fn an_answer_for_what_is_no_longer_typed_is_ignored() {
    let mut app = in_room(80, 24);
    type_text(&mut app, "/send rep");
    app.update(key(KeyCode::Tab), NOON);
    type_text(&mut app, "o");
    answer(&mut app, "rep", &["report.pdf"]);
    assert_eq!(app.view().input.text(), "/send repo");
    app.view_mut().input.set("hello");
    answer(&mut app, "repo", &["report.pdf"]);
    assert_eq!(app.view().input.text(), "hello");
}

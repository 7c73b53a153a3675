//! Keys that must never cost the user what they typed: Esc never quits, Ctrl-C asks before
//! dropping a draft, popups let typing through to the input, Ctrl-U/Ctrl-K take the whole
//! draft (and Ctrl-Y gives it back), the help overlay scrolls, the mouse can be let go.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

use super::fixtures::{NOON, alt, ctrl, in_room, in_rooms, key, member, said};
use super::help::Help;
use super::lobby::Choice;
use super::*;

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(app.update(key(KeyCode::Char(c)), NOON));
    }
    effects
}

fn after_ms(ms: u64) -> UnixMillis {
    UnixMillis(NOON.0 + ms)
}

/// 60 lines of history, `draft` typed, a page up.
fn scrolled_up_with(draft: &str) -> App {
    let mut app = in_room(80, 24);
    let bob = member(2, "bob");
    for i in 0..60 {
        app.update(said(&bob, &format!("line {i}"), i), NOON);
    }
    type_text(&mut app, draft);
    app.update(key(KeyCode::PageUp), NOON);
    assert!(app.view().log.scroll() > 0);
    app
}

#[test]
fn esc_goes_back_to_the_newest_line_and_keeps_the_draft() {
    let mut app = scrolled_up_with("half a thought");
    assert!(app.update(key(KeyCode::Esc), NOON).is_empty());
    assert_eq!(app.view().log.scroll(), 0, "back at the bottom");
    assert!(
        app.update(key(KeyCode::Esc), NOON).is_empty(),
        "never quits"
    );
    assert_eq!(app.view().input.text(), "half a thought");
    // With nothing else to do, Esc dismisses the status bar's error.
    app.update(Msg::Warning("something failed".into()), NOON);
    app.update(key(KeyCode::Esc), NOON);
    assert_eq!(app.status_error(), None);
}

#[test]
fn ctrl_c_with_a_draft_quits_only_when_pressed_again_within_2_s() {
    let mut app = in_room(80, 24);
    type_text(&mut app, "not sent yet");
    assert!(app.update(ctrl('c'), NOON).is_empty());
    let notice = app.view().log.entries().back().unwrap();
    assert!(
        matches!(&notice.kind, log::EntryKind::Notice(t) if t.contains("Ctrl-C again within 2 s")),
        "{notice:?}"
    );
    assert_eq!(app.view().input.text(), "not sent yet");
    // Too late: it warns again, and the press after that in time quits.
    assert!(app.update(ctrl('c'), after_ms(2_500)).is_empty());
    assert_eq!(app.update(ctrl('c'), after_ms(4_000)), vec![Effect::Quit]);
    // Scrolled up under the help overlay: the warning is brought into sight.
    let mut app = scrolled_up_with("draft");
    app.update(key(KeyCode::F(1)), NOON);
    assert!(app.update(ctrl('c'), NOON).is_empty());
    assert_eq!((app.help, app.view().log.scroll()), (None, 0));
    // Another key in between starts over.
    let mut app = in_room(80, 24);
    type_text(&mut app, "draft");
    app.update(ctrl('c'), NOON);
    type_text(&mut app, "!");
    assert!(app.update(ctrl('c'), after_ms(100)).is_empty());
    assert_eq!(app.update(ctrl('c'), after_ms(200)), vec![Effect::Quit]);
    // No draft: at once.
    let mut app = in_room(80, 24);
    assert_eq!(app.update(ctrl('c'), NOON), vec![Effect::Quit]);
}

#[test]
fn ctrl_c_counts_drafts_in_other_views_too() {
    let mut app = in_rooms(100, 30, &["ops", "dev"]);
    type_text(&mut app, "left in ops");
    app.update(alt(KeyCode::Char('2')), NOON);
    assert!(app.view().input.is_empty());
    assert!(app.update(ctrl('c'), NOON).is_empty(), "ops holds a draft");
    assert_eq!(app.update(ctrl('c'), after_ms(500)), vec![Effect::Quit]);
}

#[test]
fn ctrl_d_quits_on_an_empty_line_and_deletes_otherwise() {
    let mut app = in_room(80, 24);
    type_text(&mut app, "abc");
    app.update(key(KeyCode::Home), NOON);
    assert!(app.update(ctrl('d'), NOON).is_empty());
    assert_eq!(app.view().input.text(), "bc");
    app.view_mut().input.take();
    assert_eq!(app.update(ctrl('d'), NOON), vec![Effect::Quit]);
}

#[test]
fn ctrl_u_clears_a_60_line_draft_and_ctrl_y_brings_it_back() {
    let mut app = in_room(80, 24);
    for i in 0..60 {
        type_text(&mut app, &format!("line {i}"));
        app.update(alt(KeyCode::Enter), NOON);
    }
    let draft = app.view().input.text().to_string();
    app.update(ctrl('u'), NOON);
    assert!(
        app.view().input.is_empty(),
        "the whole draft, not its last row"
    );
    app.update(ctrl('y'), NOON);
    assert_eq!(app.view().input.text(), draft);
    // Ctrl-K from the start of the draft takes every line after the cursor.
    app.view_mut().input.set("first\nsecond\nthird");
    // Ctrl-A goes to the start of the cursor's line, the third.
    app.update(ctrl('a'), NOON);
    app.update(ctrl('k'), NOON);
    assert_eq!(app.view().input.text(), "first\nsecond\n");
    app.update(ctrl('w'), NOON);
    assert_eq!(app.view().input.text(), "first\n");
}

#[test]
fn typing_over_the_invite_goes_to_the_input_and_closes_it() {
    let mut app = in_room(80, 24);
    // As after `/open`: the invite shows by itself.
    app.show_invite("abc".into());
    // Typing types (the room hears once that we are typing: the keys copy and quit nothing).
    assert_eq!(
        type_text(&mut app, "anyone here yet? c q"),
        vec![Effect::Typing]
    );
    assert!(app.view().invite.is_none());
    assert_eq!(app.view().input.text(), "anyone here yet? c q");
    app.show_invite("abc".into());
    assert_eq!(
        app.update(key(KeyCode::Enter), NOON),
        vec![Effect::Say("anyone here yet? c q".into())],
        "Enter sends the draft"
    );
    assert!(app.view().invite.is_none());
    // Enter with nothing typed only closes it.
    app.show_invite("abc".into());
    assert!(app.update(key(KeyCode::Enter), NOON).is_empty());
    assert!(app.view().invite.is_none());
    // A paste is typing too.
    app.show_invite("abc".into());
    app.update(Msg::Paste("pasted".into()), NOON);
    assert!(app.view().invite.is_none());
    assert_eq!(app.view().input.text(), "pasted");
}

#[test]
fn f1_opens_a_scrollable_help_overlay_instead_of_printing() {
    let mut app = in_room(80, 24);
    let entries = app.view().log.entries().len();
    app.update(key(KeyCode::F(1)), NOON);
    assert_eq!(app.help, Some(Help { scroll: 0 }));
    assert_eq!(app.view().log.entries().len(), entries, "nothing printed");
    app.update(key(KeyCode::Down), NOON);
    assert_eq!(app.help.unwrap().scroll, 1);
    app.update(key(KeyCode::PageDown), NOON);
    let page = help::help_layout(app.area).rows - 1;
    assert_eq!(app.help.unwrap().scroll, 1 + page);
    let max = Help::max_scroll(app.area);
    assert!(max > page, "80x24 shows only part of it");
    for _ in 0..10 {
        app.update(key(KeyCode::PageDown), NOON);
    }
    assert_eq!(app.help.unwrap().scroll, max, "stops at the end");
    app.update(key(KeyCode::Home), NOON);
    assert_eq!(app.help.unwrap().scroll, 0);
    // Past the end on a larger screen, Up moves from the end in sight.
    app.help = Some(Help { scroll: 1_000 });
    app.update(key(KeyCode::Up), NOON);
    assert_eq!(app.help.unwrap().scroll, max - 1);
    app.update(key(KeyCode::Home), NOON);
    let wheel = Msg::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 0,
        row: 0,
        modifiers: KeyModifiers::NONE,
    });
    app.update(wheel, NOON);
    assert_eq!(app.help.unwrap().scroll, 3, "the wheel scrolls the overlay");
    assert!(app.update(key(KeyCode::Esc), NOON).is_empty());
    assert_eq!(app.help, None);
    // F1 toggles; typing closes it and types.
    app.update(key(KeyCode::F(1)), NOON);
    app.update(key(KeyCode::F(1)), NOON);
    assert_eq!(app.help, None);
    app.update(key(KeyCode::F(1)), NOON);
    type_text(&mut app, "hi");
    assert_eq!((app.help, app.view().input.text()), (None, "hi"));
}

#[test]
fn the_help_lists_every_command_and_key() {
    let rows = help::help_rows(76);
    let text: Vec<String> = rows
        .iter()
        .map(|row| match row {
            help::HelpRow::Entry { key, text } => format!("{key}{text}"),
            help::HelpRow::Heading(title) => title.to_string(),
            help::HelpRow::Blank => String::new(),
        })
        .collect();
    for (key, _) in command::COMMANDS.iter().chain(chat::KEYS) {
        assert!(text.iter().any(|row| row.starts_with(key)), "{key} missing");
    }
    // Narrow: each key on its own row, nothing wider than the popup.
    for row in help::help_rows(30) {
        if let help::HelpRow::Entry { key, text } = row {
            assert!(wrap::width(&key) + wrap::width(&text) <= 30 || text.is_empty());
        }
    }
}

#[test]
fn f3_and_alt_m_let_go_of_the_mouse_and_take_it_back() {
    let mut app = in_room(80, 24);
    assert!(app.mouse);
    assert_eq!(
        app.update(key(KeyCode::F(3)), NOON),
        vec![Effect::Mouse(false)]
    );
    assert!(!app.mouse);
    let notice = app.view().log.entries().back().unwrap();
    assert!(matches!(&notice.kind, log::EntryKind::Notice(t) if t.starts_with("mouse off")));
    assert_eq!(
        app.update(alt(KeyCode::Char('m')), NOON),
        vec![Effect::Mouse(true)]
    );
    assert!(app.mouse);
}

#[test]
fn the_lobby_keeps_what_was_typed_on_esc_and_quits_on_ctrl_c() {
    let mut app = App::new(
        Some("sam"),
        Rect::new(0, 0, 80, 24),
        chrono::FixedOffset::east_opt(0).unwrap(),
    );
    type_text(&mut app, "my");
    assert!(app.update(key(KeyCode::Esc), NOON).is_empty());
    let Screen::Lobby(lobby) = &app.screen else {
        panic!("left the lobby");
    };
    assert_eq!(lobby.name.text(), "sammy");
    assert_eq!(app.update(ctrl('c'), NOON), vec![Effect::Quit]);
    // Ctrl-D: deletes in a field with text, quits from an empty one.
    let mut lobby = lobby::Lobby::new("sam");
    lobby.on_key(KeyEvent::new(KeyCode::Home, KeyModifiers::NONE));
    let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
    assert_eq!(lobby.on_key(ctrl_d), None);
    assert_eq!(lobby.name.text(), "am");
    lobby.name.take();
    assert_eq!(lobby.on_key(ctrl_d), Some(Choice::Quit));
}

#[test]
fn a_room_and_a_conversation_keep_their_own_drafts() {
    let mut app = in_rooms(100, 30, &["ops"]);
    type_text(&mut app, "for ops");
    let bob = member(2, "bob");
    app.add_view(views::ViewKind::Direct(bob.id), Some("bob".into()), true);
    assert!(
        app.view().input.is_empty(),
        "a new view starts with an empty line"
    );
    type_text(&mut app, "for bob");
    app.update(alt(KeyCode::Char('1')), NOON);
    assert_eq!(app.view().input.text(), "for ops");
    app.update(alt(KeyCode::Char('2')), NOON);
    assert_eq!(app.view().input.text(), "for bob");
    // Up recalls from one history for every view.
    app.update(key(KeyCode::Enter), NOON);
    app.update(alt(KeyCode::Char('1')), NOON);
    app.update(key(KeyCode::Up), NOON);
    assert_eq!(app.view().input.text(), "for bob");
    app.update(key(KeyCode::Down), NOON);
    assert_eq!(app.view().input.text(), "for ops", "the draft comes back");
}

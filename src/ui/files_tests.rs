//! Shared files on screen: the file line picked with Ctrl-G is a bar across the history pane
//! in every palette, and the status bar says what Enter does.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier, Style};

use super::tests::{render, style_of};
use super::theme::{self, Palette};
use super::view;
use crate::app::fixtures::{NOON, in_room, member, said, shared};
use crate::app::{App, Msg};

/// bob shared two files; the older one is picked.
fn picking() -> App {
    let mut app = in_room(80, 24);
    let bob = member(2, "bob");
    app.update(said(&bob, "here are the minutes", 1), NOON);
    app.update(shared(&bob, "minutes.txt", 2_000, 'a', 2), NOON);
    app.update(shared(&bob, "build.iso", 700 << 20, 'b', 3), NOON);
    app.update(said(&bob, "and the build", 4), NOON);
    let key = |code, modifiers| Msg::Key(KeyEvent::new(code, modifiers));
    app.update(key(KeyCode::Char('g'), KeyModifiers::CONTROL), NOON);
    app.update(key(KeyCode::Up, KeyModifiers::NONE), NOON);
    app
}

/// The style of the cell at column `x` of the first row that contains `text`.
fn style_in_row(app: &App, text: &str, x: u16) -> Style {
    let area = app.area;
    let mut terminal = Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
    terminal.draw(|frame| view(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let row = (0..area.height).find(|&y| {
        let row: String = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
        row.contains(text)
    });
    match row {
        Some(y) => buffer[(x, y)].style(),
        None => panic!("{text:?} is not on screen"),
    }
}

#[test]
fn the_picked_file_line_is_a_bar_and_the_status_bar_says_what_enter_does() {
    let app = picking();
    let text = render(&app);
    assert!(
        text.contains("Enter: get minutes.txt (2.0 KB) │ Up/Down: other files"),
        "{text}"
    );
    let bar = theme::picked();
    // From the time at the left edge to the pane's right edge (the member list starts at 60).
    let history_edge = app.layout().history.width - 1;
    for style in [
        style_of(&app, "12:02 * bob shared minutes.txt"),
        style_of(&app, "minutes.txt (2.0 KB) · /get aaaaaaaa"),
        style_in_row(&app, "shared minutes.txt", history_edge),
    ] {
        assert_eq!((style.fg, style.bg), (bar.fg, bar.bg), "{style:?}");
        assert_eq!(style.bg, Some(Color::Cyan));
    }
    // The other file line and the member list beside the bar are as always.
    let unset = |style: Style| style.bg.unwrap_or(Color::Reset) == Color::Reset;
    assert!(unset(style_of(&app, "bob shared build.iso")));
    assert!(unset(style_in_row(
        &app,
        "shared minutes.txt",
        history_edge + 2
    )));
    insta::assert_snapshot!(text);
}

#[test]
fn without_colours_the_picked_line_is_reversed() {
    let app = picking();
    theme::set_palette(Palette::Mono);
    let picked = style_of(&app, "12:02 * bob shared minutes.txt");
    let other = style_of(&app, "12:03 * bob shared build.iso");
    theme::set_palette(Palette::Light);
    let light = style_of(&app, "12:02 * bob shared minutes.txt");
    theme::set_palette(Palette::Dark);
    assert!(
        picked.add_modifier.contains(Modifier::REVERSED),
        "{picked:?}"
    );
    assert!(
        !other.add_modifier.contains(Modifier::REVERSED),
        "{other:?}"
    );
    let unset = |colour: Option<Color>| colour.unwrap_or(Color::Reset) == Color::Reset;
    assert!(
        unset(picked.fg) && unset(picked.bg),
        "no colours: {picked:?}"
    );
    assert_eq!(light.bg, Some(Color::Blue));
}

//! The read marker on screen: `── new ──` above the first line not seen, in its own style,
//! below it a mention with a link and a highlight word (snapshots of the whole buffer with
//! its styles, at 120x40 and the 40x12 minimum); and links as OSC 8 hyperlinks.

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

use super::tests::{render, render_styled, same_fg, style_of};
use super::theme;
use super::view;
use crate::app::App;
use crate::app::fixtures::{alt, at_minute, in_rooms, member, said, to_view};

/// In room "one", bob said two things; we went to "two", and back after three more lines
/// (the second naming us with a link, the third with a highlight word).
fn back_with_new_lines(width: u16, height: u16) -> App {
    let mut app = in_rooms(width, height, &["one", "two"]);
    app.set_highlights(&["deploy".to_string()]);
    let bob = member(2, "bob");
    let lines = [
        "before we left",
        "seen too",
        "while we were away",
        "ann: notes at https://example.org/notes/2026.",
        "Deploy done",
    ];
    for (minute, text) in (1..).zip(lines) {
        if minute == 3 {
            app.update(alt(KeyCode::Char('2')), at_minute(3));
        }
        let minute = if minute >= 3 { minute + 1 } else { minute };
        app.update(
            to_view(&app, 0, said(&bob, text, minute)),
            at_minute(minute),
        );
    }
    app.update(alt(KeyCode::Char('1')), at_minute(7));
    app
}

#[test]
fn the_marker_is_above_the_first_line_not_seen() {
    for (w, h) in [(120, 40), (40, 12)] {
        let app = back_with_new_lines(w, h);
        let screen = render(&app);
        let marker = screen.find(" new ").expect("a marker");
        assert!(screen.find("seen too").unwrap() < marker, "{screen}");
        assert!(marker < screen.find("while we were").unwrap(), "{screen}");
        assert!(same_fg(style_of(&app, "─ new ─"), theme::read_marker()));
        assert!(same_fg(style_of(&app, "Deploy done"), theme::mention()));
        let link = style_of(&app, "https://exa");
        assert!(link.add_modifier.contains(Modifier::UNDERLINED));
        assert_eq!(
            link.fg,
            theme::mention().fg,
            "a link keeps its line's colour"
        );
        insta::assert_snapshot!(format!("read_marker_{w}x{h}"), render_styled(&app));
    }
}

#[test]
fn no_marker_once_everything_below_it_was_seen() {
    let mut app = back_with_new_lines(120, 40);
    app.update(alt(KeyCode::Char('2')), at_minute(8));
    app.update(alt(KeyCode::Char('1')), at_minute(9));
    assert!(!render(&app).contains(" new "), "{}", render(&app));
}

/// Every cell of a link cut over two rows carries the same OSC 8 hyperlink; the rest of the
/// line stays plain.
#[test]
fn a_link_is_a_hyperlink_in_every_cell_and_one_over_two_rows() {
    let app = back_with_new_lines(40, 12);
    super::links::set_hyperlinks(true);
    let area = app.area;
    let mut terminal = Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
    terminal.draw(|frame| view(&app, frame)).unwrap();
    super::links::set_hyperlinks(false);
    let buffer = terminal.backend().buffer();
    let target = "https://example.org/notes/2026\x1b\\";
    let mut linked = String::new();
    let mut ids = std::collections::HashSet::new();
    let mut rows = std::collections::HashSet::new();
    for y in 0..area.height {
        for x in 0..area.width {
            let symbol = buffer[(x, y)].symbol();
            if let Some(rest) = symbol.strip_prefix("\x1b]8;id=") {
                let (id, rest) = rest.split_once(';').unwrap();
                ids.insert(id.to_string());
                rows.insert(y);
                let rest = rest.strip_prefix(target).expect(symbol);
                linked.push_str(rest.strip_suffix("\x1b]8;;\x1b\\").expect(symbol));
            }
        }
    }
    assert_eq!(
        linked, "https://example.org/notes/2026",
        "the dot is not the link's"
    );
    assert_eq!(
        (ids.len(), rows.len()),
        (1, 2),
        "one link over two rows: {ids:?}"
    );
    let row_text =
        |y: u16| -> String { (0..area.width).map(|x| buffer[(x, y)].symbol()).collect() };
    assert!(
        (0..area.height).any(|y| row_text(y).contains("ann: notes at")),
        "plain text stays plain"
    );
}

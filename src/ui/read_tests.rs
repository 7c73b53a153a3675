//! The read marker on screen: `── new ──` above the first line not seen, in its own style
//! (snapshots of the whole buffer with its styles, at 120x40 and the 40x12 minimum).

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::tests::{render, same_fg, style_of};
use super::theme;
use super::view;
use crate::app::App;
use crate::app::fixtures::{alt, at_minute, in_rooms, member, said, to_view};

/// The screen with every cell's style (ratatui's buffer as `Debug` lists style changes).
fn render_styled(app: &App) -> String {
    let area = app.area;
    let mut terminal = Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
    terminal.draw(|frame| view(app, frame)).unwrap();
    format!("{:#?}", terminal.backend().buffer())
}

/// In room "one", bob said two things; we went to "two", and back after two more lines
/// (the second naming us).
fn back_with_new_lines(width: u16, height: u16) -> App {
    let mut app = in_rooms(width, height, &["one", "two"]);
    let bob = member(2, "bob");
    app.update(
        to_view(&app, 0, said(&bob, "before we left", 1)),
        at_minute(1),
    );
    app.update(to_view(&app, 0, said(&bob, "seen too", 2)), at_minute(2));
    app.update(alt(KeyCode::Char('2')), at_minute(3));
    app.update(
        to_view(&app, 0, said(&bob, "while we were away", 4)),
        at_minute(4),
    );
    app.update(
        to_view(&app, 0, said(&bob, "ann: look at this", 5)),
        at_minute(5),
    );
    app.update(alt(KeyCode::Char('1')), at_minute(6));
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
        insta::assert_snapshot!(format!("read_marker_{w}x{h}"), render_styled(&app));
    }
}

#[test]
fn no_marker_once_everything_below_it_was_seen() {
    let mut app = back_with_new_lines(120, 40);
    app.update(alt(KeyCode::Char('2')), at_minute(7));
    app.update(alt(KeyCode::Char('1')), at_minute(8));
    assert!(!render(&app).contains(" new "), "{}", render(&app));
}

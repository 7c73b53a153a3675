//! The help overlay on screen: every command and key at 120x40, scrolled at 40x12, its keys
//! on its last row, and the styles that tell headings and keys from descriptions.

use crossterm::event::{KeyCode, KeyEvent};

use super::tests::{render, same_fg, style_of};
use super::theme;
use crate::app::Msg;
use crate::app::fixtures::{NOON, in_room};

fn press(app: &mut crate::app::App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::from(code)), NOON);
}

#[test]
fn help_overlay_120x40() {
    let mut app = in_room(120, 40);
    press(&mut app, KeyCode::F(1));
    let text = render(&app);
    for shown in ["Help 1-", "Commands", "/nick NAME", "Esc close"] {
        assert!(text.contains(shown), "{shown} missing:\n{text}");
    }
    assert!(same_fg(style_of(&app, "Commands"), theme::title()));
    assert!(same_fg(style_of(&app, "/nick NAME"), theme::prompt()));
    assert!(same_fg(
        style_of(&app, "change your name"),
        ratatui::style::Style::new()
    ));
    assert!(same_fg(style_of(&app, "Up/Down, PageUp"), theme::hint()));
    insta::assert_snapshot!(text);
    // Scrolled to the end: the keys and the last of them are in sight.
    press(&mut app, KeyCode::End);
    let text = render(&app);
    assert!(text.contains("Keys") && text.contains("Ctrl-D"), "{text}");
}

#[test]
fn help_overlay_40x12() {
    let mut app = in_room(40, 12);
    press(&mut app, KeyCode::F(1));
    insta::assert_snapshot!("help_overlay_40x12_top", render(&app));
    press(&mut app, KeyCode::PageDown);
    let text = render(&app);
    assert!(
        text.contains("Help 9-17 of"),
        "a page: 9 rows less the one kept:\n{text}"
    );
    insta::assert_snapshot!("help_overlay_40x12_page_2", text);
}

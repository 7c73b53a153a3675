//! The status bar: an error shows in the view it happened in only, and being alone in a
//! room reads as waiting, in the bar's own neutral style.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Style;

use super::tests::{render, same_fg};
use crate::app::fixtures::{NOON, in_rooms, member};
use crate::app::{App, Msg};
use crate::model::{Connectivity, NetState};
use crate::proto::room::Event;

fn status_row(app: &App) -> String {
    let text = render(app);
    let rows: Vec<&str> = text.lines().collect();
    rows[rows.len() - 3].to_string()
}

/// The style of the status bar's cell where `text` starts.
fn status_style(app: &App, text: &str) -> Style {
    let area = app.area;
    let mut terminal = Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
    terminal.draw(|frame| super::view(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let y = area.height - 3;
    let row: String = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
    let at = row
        .find(text)
        .unwrap_or_else(|| panic!("{text:?} not in {row:?}"));
    buffer[(row[..at].chars().count() as u16, y)].style()
}

/// Drawn as `meant` says: colours and modifiers.
fn drawn_as(shown: Style, meant: Style) -> bool {
    same_fg(shown, meant) && shown.bg == meant.bg
}

#[test]
fn an_error_shows_in_its_own_room_only() {
    let mut app = in_rooms(80, 12, &["ops", "dev"]);
    app.update(Msg::Warning("could not save the message".into()), NOON);
    let ops = render(&app);
    assert!(status_row(&app).contains("! could not save"), "{ops}");
    let error = status_style(&app, "! could not save");
    assert!(drawn_as(error, super::theme::status_error()), "{error:?}");
    insta::assert_snapshot!("error_in_ops", ops);
    app.switch_to(1);
    let dev = render(&app);
    assert!(!dev.contains("! could not save"), "{dev}");
    insta::assert_snapshot!("no_error_in_dev", dev);
}

#[test]
fn alone_in_a_room_is_waiting_in_a_neutral_style() {
    let mut app = in_rooms(80, 12, &["ops"]);
    let (ann, bob) = (member(1, "ann"), member(2, "bob"));
    app.update(Msg::Members(vec![ann.clone(), bob.clone()]), NOON);
    app.update(
        Msg::Room(Event::MemberLeft {
            member: bob,
            reason: crate::proto::room::LeaveReason::Left,
        }),
        NOON,
    );
    app.update(Msg::Members(vec![ann]), NOON);
    app.update(Msg::Room(Event::NeighborsChanged(0)), NOON);
    let state = NetState {
        state: Connectivity::Reconnecting,
        neighbours: 0,
    };
    app.update(Msg::Net(state), NOON);
    let text = render(&app);
    let bar = status_row(&app);
    assert!(bar.contains("waiting for others to join"), "{text}");
    assert!(
        !text.contains("reconnecting") && !bar.contains('!'),
        "{text}"
    );
    let waiting = status_style(&app, "waiting for others to join");
    assert!(drawn_as(waiting, super::theme::status_bar()), "{waiting:?}");
    insta::assert_snapshot!(text);
}

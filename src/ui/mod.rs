//! The terminal UI's view: `ui::view(&App, &mut Frame)`, one file per widget, every style in
//! `theme`. Contract: draws from `&App` only; no state, no IO.

mod help;
mod history;
mod input;
pub(crate) mod invite;
pub(crate) mod links;
mod lobby;
mod members;
mod rooms;
mod status;
pub(crate) mod theme;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::{App, Screen};

/// A `width` x `height` rectangle in the middle of `area` (clipped to it).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

pub fn view(app: &App, frame: &mut Frame) {
    if let Screen::Lobby(lobby) = &app.screen {
        lobby::render(lobby, frame, frame.area());
        return;
    }
    let layout = app.layout();
    if let Some(list) = layout.rooms {
        rooms::render(app, frame, list);
    }
    history::render(app, frame, layout.history);
    if let Some(area) = layout.members {
        members::render(app, frame, area);
    }
    status::render(app, frame, layout.status);
    input::render(
        app,
        frame,
        layout.input,
        app.view().invite.is_none() && app.help.is_none(),
    );
    if let Some(invite) = &app.view().invite {
        invite::render(invite, app.view().private(), frame, frame.area());
    }
    if let Some(help) = &app.help {
        help::render(help, frame, frame.area());
    }
}

#[cfg(test)]
#[path = "ui_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "rooms_tests.rs"]
mod rooms_tests;

#[cfg(test)]
#[path = "files_tests.rs"]
mod files_tests;

#[cfg(test)]
#[path = "help_tests.rs"]
mod help_tests;

#[cfg(test)]
#[path = "status_tests.rs"]
mod status_tests;

#[cfg(test)]
#[path = "private_tests.rs"]
mod private_tests;

#[cfg(test)]
#[path = "read_tests.rs"]
mod read_tests;

#[cfg(test)]
#[path = "marks_tests.rs"]
mod marks_tests;

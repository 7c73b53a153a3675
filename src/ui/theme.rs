//! Every style the UI uses, in one place.

use ratatui::style::{Color, Modifier, Style};

use crate::proto::EndpointId;

/// Name colours: the 16-colour palette minus what is unreadable on dark or light backgrounds.
const NAME_COLORS: [Color; 10] = [
    Color::Cyan,
    Color::Green,
    Color::Yellow,
    Color::Magenta,
    Color::LightRed,
    Color::LightBlue,
    Color::LightGreen,
    Color::LightCyan,
    Color::LightMagenta,
    Color::Blue,
];

/// A member's colour, stable for their key (not their name: two "sam"s differ).
pub fn name(id: &EndpointId) -> Style {
    let bytes = id.as_bytes();
    let index = (u16::from(bytes[0]) << 8 | u16::from(bytes[1])) as usize % NAME_COLORS.len();
    Style::new()
        .fg(NAME_COLORS[index])
        .add_modifier(Modifier::BOLD)
}

pub fn time() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn notice() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn error() -> Style {
    Style::new().fg(Color::Red)
}

/// Messages from history (caught up or from disk): dimmed, so live talk stands out.
pub fn earlier() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// Our direct message, not delivered yet.
pub fn pending() -> Style {
    Style::new()
        .fg(Color::DarkGray)
        .add_modifier(Modifier::ITALIC)
}

/// A message that names me.
pub fn mention() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

pub fn status_bar() -> Style {
    Style::new().fg(Color::White).bg(Color::DarkGray)
}

pub fn status_error() -> Style {
    Style::new()
        .fg(Color::LightRed)
        .bg(Color::DarkGray)
        .add_modifier(Modifier::BOLD)
}

/// The room shown now, in the room list.
pub fn current_room() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Cyan)
        .add_modifier(Modifier::BOLD)
}

/// The one-row room list on narrow terminals.
pub fn tab_bar() -> Style {
    Style::new().bg(Color::Black)
}

pub fn marker() -> Style {
    Style::new().fg(Color::Black).bg(Color::Yellow)
}

pub fn rule() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn prompt() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

pub fn focused() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

pub fn hint() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn title() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// QR code modules: black on white whatever the terminal's colours, so phones can read it.
pub fn qr() -> Style {
    Style::new().fg(Color::Black).bg(Color::White)
}

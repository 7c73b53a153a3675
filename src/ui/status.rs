//! The status bar: room, member count, your name, connection state, keys, last error.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::view::Delivery;
use crate::app::views::ViewKind;
use crate::app::{App, Link};
use crate::proto::names::sanitize_text;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let narrow = area.width < 60;
    let room = match app.views.current_tab() {
        Some(tab) if matches!(tab.kind, ViewKind::Direct(_)) => {
            format!("private: @{}", sanitize_text(&tab.title, false))
        }
        Some(tab) => sanitize_text(&tab.title, false),
        None => (app.view().topic)
            .map_or_else(|| "parlor".to_string(), |t| format!("#{}", t.fmt_short())),
    };
    let view = app.view();
    let link = match view.link {
        Link::Joining => "joining…".to_string(),
        // No one else here (yet, or any more): nothing is wrong, we wait.
        Link::Waiting | Link::Reconnecting if view.alone() => match narrow {
            true => "waiting for others".to_string(),
            false => "waiting for others to join".to_string(),
        },
        Link::Waiting => "waiting for peers".to_string(),
        Link::Reconnecting => "reconnecting…".to_string(),
        Link::Offline => "offline: no network".to_string(),
        Link::Connected(n) => format!("connected to {n}"),
    };
    // Our lines waiting to go out: part of the connection state, so narrow terminals keep it.
    let link = match app.views.current_tab().map_or(0, |tab| tab.queued) {
        0 => link,
        waiting => format!("{link} · {waiting} waiting to send"),
    };
    let here = format!("{} here", view.members.len());
    // Narrow terminals keep what matters most: the room, who is here, the connection.
    let parts = if app.direct_peer().is_some() {
        // A conversation has no members or connection of its own: what it has is whether
        // our messages arrived (each pending one is marked "…" in the history).
        let mut parts = vec![room];
        match view.delivery() {
            Delivery::Pending(n) => parts.push(format!("{n} pending")),
            Delivery::Delivered => parts.push("all delivered".to_string()),
            Delivery::Nothing => {}
        }
        parts.push("F1 help".to_string());
        parts
    } else if narrow {
        let room: String = room.chars().take(7).collect();
        vec![room, here, link]
    } else {
        let mut parts = vec![room, here];
        if let Some(me) = app.my_display() {
            parts.push(format!("you: {}", sanitize_text(me, false)));
        }
        parts.push(link);
        parts.push("^T invite  F1 help".to_string());
        parts
    };
    // Picking a file line: what the keys do now, first, as narrow terminals cut the rest.
    let parts = match app.picked_file() {
        Some(file) => vec![
            format!(
                "Enter: get {} ({})",
                sanitize_text(&file.name, false),
                crate::present::show_size(file.size)
            ),
            "Up/Down: other files".to_string(),
            "Esc: back to typing".to_string(),
        ],
        None => parts,
    };
    // A fetch in progress: how far, how fast, how long yet.
    let parts = match &app.transfer {
        Some(t) if t.hashing => {
            let mut parts = parts;
            let percent = t.done.saturating_mul(100) / t.total.max(1);
            parts.insert(1, format!("↑ hashing {} {percent}%", t.name));
            parts
        }
        Some(t) => {
            let mut parts = parts;
            let left = t.total.saturating_sub(t.done);
            let eta = (t.rate > 0).then(|| left / t.rate);
            parts.insert(
                1,
                format!(
                    "↓ {} {}% {}/s{}",
                    t.name,
                    t.done.saturating_mul(100) / t.total.max(1),
                    crate::present::show_size(t.rate),
                    eta.map_or_else(String::new, |s| format!(" {s}s left"))
                ),
            );
            parts
        }
        None => parts,
    };
    let mut spans = vec![Span::styled(
        format!(" {} ", parts.join(" │ ")),
        theme::status_bar(),
    )];
    if let Some(error) = &app.status_error() {
        spans.push(Span::styled(
            format!(" ! {} ", sanitize_text(error, false)),
            theme::status_error(),
        ));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme::status_bar()),
        area,
    );
}

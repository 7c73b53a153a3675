//! The status bar: room, member count, your name, connection state, keys, last error.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::view::Delivery;
use crate::app::views::ViewKind;
use crate::app::wrap::width;
use crate::app::{App, Link};
use crate::proto::names::sanitize_text;
use crate::proto::state::Role;

/// A private room's topic in the status bar is left out below this many columns.
const MIN_TOPIC_COLS: usize = 12;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let narrow = area.width < 60;
    let room = match app.views.current_tab() {
        Some(tab) if matches!(tab.kind, ViewKind::Direct(_)) => {
            format!("private: @{}", sanitize_text(&tab.title, false))
        }
        Some(tab) => super::rooms::title(app, tab),
        None => (app.view().topic)
            .map_or_else(|| "parlor".to_string(), |t| format!("#{}", t.fmt_short())),
    };
    let view = app.view();
    let link = match view.link {
        // Removed from a private room: nothing to connect to any more.
        _ if view.removed => match narrow {
            true => "removed".to_string(),
            false => "removed: /part closes it".to_string(),
        },
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
    let here = format!("{} here", view.here());
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
            let role = match view.my_role() {
                Some(Role::Owner) => " (owner)",
                Some(Role::Admin) => " (admin)",
                _ => "",
            };
            parts.push(format!("you: {}{role}", sanitize_text(me, false)));
        }
        parts.push(link);
        parts.push(match view.removed {
            true => "F1 help".to_string(),
            false => "^T invite  F1 help".to_string(),
        });
        with_topic(app, parts, area.width as usize)
    };
    // Someone typing here: after the room, where even a narrow bar keeps it.
    let parts = match view.typing_line() {
        Some(typing) => {
            let mut parts = parts;
            parts.insert(1.min(parts.len()), typing);
            parts
        }
        None => parts,
    };
    // Picking a line or a file line: what the keys do now, first, as narrow terminals cut
    // the rest.
    let parts = match (app.line_pick_help(), app.picked_file()) {
        (Some(help), _) => help,
        (None, file) => match file {
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
        },
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

/// A private room's topic after its name (`parts[0]`), cut to what the bar has left (an error
/// shown counts), or left out when too little is.
fn with_topic(app: &App, mut parts: Vec<String>, cols: usize) -> Vec<String> {
    let Some(state) = &app.view().state else {
        return parts;
    };
    let topic = sanitize_text(&state.topic, false);
    if topic.is_empty() || parts.is_empty() {
        return parts;
    }
    let error = app
        .status_error()
        .map_or(0, |e| width(&sanitize_text(e, false)) + 4);
    let used = 2 + width(&parts.join(" │ ")) + error;
    let left = cols.saturating_sub(used + 3);
    if left >= MIN_TOPIC_COLS {
        parts.insert(1, super::rooms::fit(&topic, left));
    }
    parts
}

//! The room list: a sidebar on wide terminals, a one-row tab bar on narrow ones. Each room or
//! conversation shows its Alt-digit, its title, its unread count, and a marker when a
//! message there named me (or a direct message came).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme;
use crate::app::App;
use crate::app::layout::RoomList;
use crate::app::private::PRIVATE_MARK;
use crate::app::views::{DIGIT_KEYS, Tab, ViewKind};
use crate::app::wrap::width;
use crate::proto::names::sanitize_text;

pub fn render(app: &App, frame: &mut Frame, list: RoomList) {
    match list {
        RoomList::Sidebar(area) => sidebar(app, frame, area),
        RoomList::TabBar(area) => tab_bar(app, frame, area),
    }
}

/// `@` before a conversation, the private mark before a private room, nothing before a
/// public room.
pub(super) fn title(app: &App, tab: &Tab) -> String {
    let title = sanitize_text(&tab.title, false);
    let private = app.view_of(tab.key).is_some_and(|v| v.private());
    match tab.kind {
        ViewKind::Direct(_) => format!("@{title}"),
        ViewKind::Room(_) if private => format!("{PRIVATE_MARK}{title}"),
        ViewKind::Room(_) => title,
    }
}

/// The digit Alt reaches it with (blank past 9).
fn digit(index: usize) -> String {
    if index < DIGIT_KEYS {
        format!("{}", index + 1)
    } else {
        " ".to_string()
    }
}

fn tab_style(app: &App, index: usize, tab: &Tab) -> ratatui::style::Style {
    if index == app.views.current {
        theme::current_room()
    } else if tab.mention {
        theme::mention()
    } else if tab.unread > 0 {
        theme::title()
    } else {
        theme::notice()
    }
}

/// `s` cut to `cols` columns, with `…` when cut.
pub(super) fn fit(s: &str, cols: usize) -> String {
    if width(s) <= cols {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if width(&out) + width(&c.to_string()) + 1 > cols {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

fn sidebar(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::new()
        .borders(Borders::RIGHT)
        .border_style(theme::rule());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let cols = inner.width as usize;
    let rows = inner.height as usize;
    // More rooms than rows: the list scrolls so the current one is always on it.
    let first = (app.views.current + 1).saturating_sub(rows);
    let mut lines = Vec::new();
    for (i, tab) in app.views.tabs.iter().enumerate().skip(first) {
        let style = tab_style(app, i, tab);
        let count = match (tab.unread, tab.mention) {
            (0, false) => String::new(),
            (0, true) => "!".to_string(),
            (n, false) => format!("{n}"),
            (n, true) => format!("{n}!"),
        };
        // "1 title" then the count at the right edge.
        let room = cols.saturating_sub(2 + width(&count) + usize::from(!count.is_empty()));
        let name = fit(&title(app, tab), room);
        let pad = cols.saturating_sub(2 + width(&name) + width(&count));
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", digit(i)), theme::hint()),
            Span::styled(format!("{name}{}", " ".repeat(pad)), style),
            Span::styled(count, if tab.mention { theme::mention() } else { style }),
        ]));
        if lines.len() >= rows {
            break;
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn tab_bar(app: &App, frame: &mut Frame, area: Rect) {
    let cols = area.width as usize;
    let tabs: Vec<(String, ratatui::style::Style)> = app
        .views
        .tabs
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            let count = match (tab.unread, tab.mention) {
                (0, false) => String::new(),
                (0, true) => " !".to_string(),
                (n, false) => format!(" {n}"),
                (n, true) => format!(" {n}!"),
            };
            let key = match digit(i).trim() {
                "" => String::new(),
                digit => format!("{digit}:"),
            };
            let label = format!(" {key}{}{count} ", fit(&title(app, tab), 16));
            (label, tab_style(app, i, tab))
        })
        .collect();
    // Start late enough that the current tab is on screen.
    let current = app.views.current.min(tabs.len().saturating_sub(1));
    let mut first = 0;
    while first < current
        && tabs[first..=current]
            .iter()
            .map(|(label, _)| width(label))
            .sum::<usize>()
            > cols.saturating_sub(1)
    {
        first += 1;
    }
    let mut spans = Vec::new();
    let mut used = 0;
    if first > 0 {
        spans.push(Span::styled("‹", theme::hint()));
        used += 1;
    }
    let shown = tabs.len() - first;
    for (k, (label, style)) in tabs.into_iter().skip(first).enumerate() {
        // The last column says that more tabs follow.
        let more = k + 1 < shown;
        if used + width(&label) + usize::from(more) > cols {
            spans.push(Span::styled("›", theme::hint()));
            break;
        }
        used += width(&label);
        spans.push(Span::styled(label, style));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme::tab_bar()),
        area,
    );
}

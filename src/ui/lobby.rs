//! The lobby screen: name, "open a new room", "join with a ticket".

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph, Wrap};

use super::{centered, theme};
use crate::app::editor::Editor;
use crate::app::lobby::{Focus, Lobby};
use crate::app::wrap::width;
use crate::proto::names::sanitize_text;

/// One field's row: the tail of its text that fits, and the cursor column in it.
fn field(editor: &Editor, cols: usize) -> (String, usize) {
    let before = &editor.text()[..editor.cursor()];
    let mut shown: String = before.to_string();
    while width(&shown) >= cols.max(1) {
        shown.remove(0);
    }
    let cursor = width(&shown);
    let after = &editor.text()[editor.cursor()..];
    for c in after.chars() {
        if width(&shown) + width(&c.to_string()) >= cols {
            break;
        }
        shown.push(c);
    }
    (shown, cursor)
}

pub fn render(lobby: &Lobby, frame: &mut Frame, area: Rect) {
    // Small terminals get the form without the subtitle and spacing.
    let compact = area.height < 16;
    let nearby_rows = if lobby.nearby.is_empty() {
        0
    } else {
        1 + lobby.nearby.len() as u16 + u16::from(!compact)
    };
    let room_rows = if lobby.rooms.is_empty() {
        0
    } else {
        1 + lobby.rooms.len() as u16 + u16::from(!compact)
    };
    let rows =
        if compact { 6 } else { 11 } + u16::from(lobby.error.is_some()) + nearby_rows + room_rows;
    let popup = centered(area, 64, rows + 2);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(" parlor ", theme::title()))
        .border_style(theme::rule())
        .padding(Padding::horizontal(1));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let cols = inner.width.saturating_sub(2) as usize;
    let style = |focus| {
        if lobby.focus == focus {
            theme::focused()
        } else {
            Default::default()
        }
    };
    let (name, name_cursor) = field(&lobby.name, cols);
    let (ticket, ticket_cursor) = field(&lobby.ticket, cols);
    let mut lines = Vec::new();
    let spacer = |lines: &mut Vec<Line>| {
        if !compact {
            lines.push(Line::default());
        }
    };
    if !compact {
        lines.push(Line::from(Span::styled(
            "serverless group chat for the terminal",
            theme::hint(),
        )));
    }
    spacer(&mut lines);
    // Enter in the name goes on at once: say with what.
    let enter = match lobby.default_action() {
        Focus::Ticket => "Enter: join with the ticket",
        Focus::Rooms => "Enter: rejoin your rooms",
        Focus::Open | Focus::Name => "Enter: open a new room",
    };
    let mut name_label = vec![Span::styled("Your name", style(Focus::Name))];
    if lobby.focus == Focus::Name {
        name_label.push(Span::styled(format!("  {enter}"), theme::hint()));
    }
    lines.push(Line::from(name_label));
    let name_row = lines.len() as u16;
    lines.push(Line::from(vec![
        Span::styled("> ", theme::prompt()),
        Span::raw(name),
    ]));
    spacer(&mut lines);
    if !lobby.rooms.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("Your rooms", style(Focus::Rooms)),
            Span::styled(
                "  Space: select · Enter: rejoin · Del: forget",
                theme::hint(),
            ),
        ]));
        for (i, (room, selected)) in lobby.rooms.iter().enumerate() {
            let mark = if *selected { "[x] " } else { "[ ] " };
            let row = if lobby.focus == Focus::Rooms && i == lobby.cursor {
                theme::focused()
            } else {
                Default::default()
            };
            lines.push(Line::from(vec![
                Span::styled(mark, theme::prompt()),
                Span::styled(sanitize_text(&room.title(), false), row),
            ]));
        }
        spacer(&mut lines);
    }
    lines.push(Line::from(Span::styled(
        "[ Open a new room ]",
        style(Focus::Open),
    )));
    spacer(&mut lines);
    lines.push(Line::from(Span::styled(
        "Join with a ticket (paste it)",
        style(Focus::Ticket),
    )));
    let ticket_row = lines.len() as u16;
    lines.push(Line::from(vec![
        Span::styled("> ", theme::prompt()),
        Span::raw(ticket),
    ]));
    spacer(&mut lines);
    if let Some(error) = &lobby.error {
        lines.push(Line::from(Span::styled(error.clone(), theme::error())));
    }
    if !lobby.nearby.is_empty() {
        lines.push(Line::from(
            "Rooms on this LAN (+ private: an admin lets you in)",
        ));
        for (i, room) in lobby.nearby.iter().enumerate() {
            let members = match room.members {
                1 => "1 member".to_string(),
                n => format!("{n} members"),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("Alt-{} ", i + 1), theme::prompt()),
                Span::raw(if room.private { "+" } else { "" }),
                Span::raw(sanitize_text(&room.label, false)),
                Span::styled(format!("  {members}"), theme::hint()),
            ]));
        }
        spacer(&mut lines);
    }
    lines.push(Line::from(Span::styled(
        "Tab: next · Enter: go · Ctrl-C: quit",
        theme::hint(),
    )));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    let cursor = match lobby.focus {
        Focus::Name => Some((name_row, name_cursor)),
        Focus::Ticket => Some((ticket_row, ticket_cursor)),
        Focus::Open | Focus::Rooms => None,
    };
    if let Some((row, col)) = cursor
        && row < inner.height
    {
        frame.set_cursor_position(Position {
            x: inner.x + 2 + col as u16,
            y: inner.y + row,
        });
    }
}

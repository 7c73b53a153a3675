//! The member list on the right, for terminals at least 70 columns wide. In a private room
//! its state is the membership: every member is listed, the owner first (`~`), then the
//! admins (`@`), then the rest, and those not here now are dimmed.

use std::collections::{HashMap, HashSet};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme;
use crate::app::App;
use crate::app::view::View;
use crate::present::private::role_mark;
use crate::proto::names::sanitize_text;
use crate::proto::state::Role;
use crate::proto::{EndpointId, MemberInfo};

/// One row of the list.
struct Row<'a> {
    id: EndpointId,
    display: &'a str,
    role: Role,
    /// Announced itself in this room (a private room's member may not have, yet or now).
    here: bool,
}

/// The rows in the order shown, at most `limit` of them, and how many there are: who is here
/// as the room lists them; in a private room, its members by role (the owner, the admins, the
/// rest), each group who is here first. A public room's rows past `limit` are never looked at
/// (a room of 10,000 keys costs a frame no more than one of 40); a private room has at most
/// `MAX_MEMBERS`.
fn rows(view: &View, limit: usize) -> (Vec<Row<'_>>, usize) {
    let Some(state) = &view.state else {
        let rows = view.members.iter().take(limit);
        return (
            rows.map(|m| row(m, Role::Member)).collect(),
            view.members.len(),
        );
    };
    let roles: HashMap<EndpointId, Role> = state.members.iter().map(|m| (m.id, m.role)).collect();
    let announced: HashSet<EndpointId> = view.members.iter().map(|m| m.id).collect();
    let mut rows: Vec<Row> = view
        .members
        .iter()
        .filter_map(|m| roles.get(&m.id).map(|role| row(m, *role)))
        .collect();
    rows.extend(
        state
            .members
            .iter()
            .filter(|m| !announced.contains(&m.id))
            .map(|m| Row {
                id: m.id,
                display: &m.display,
                role: m.role,
                here: false,
            }),
    );
    // Stable: within a role, the order above.
    rows.sort_by_key(|r| std::cmp::Reverse(r.role));
    let total = rows.len();
    rows.truncate(limit);
    (rows, total)
}

fn row(member: &MemberInfo, role: Role) -> Row<'_> {
    Row {
        id: member.id,
        display: &member.display,
        role,
        here: true,
    }
}

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let view = app.view();
    let me = view.me.as_ref().map(|m| m.id);
    // Only what fits is drawn.
    let height = area.height.saturating_sub(1) as usize;
    let (rows, total) = rows(view, height);
    // A private room's absent members are listed (dimmed) but not counted.
    let here = view.here();
    let title = match view.private() {
        true => format!(" {here} here · private "),
        false => format!(" {here} here "),
    };
    let shown = if total > height {
        height.saturating_sub(1)
    } else {
        height
    };
    let more = total.saturating_sub(shown);
    let mut lines: Vec<Line> = rows
        .iter()
        .take(shown)
        .map(|member| {
            let name = sanitize_text(member.display, false);
            let mut spans = Vec::new();
            let mark = role_mark(member.role);
            if !mark.is_empty() {
                spans.push(Span::styled(mark, theme::role_mark()));
            }
            let style = match member.here {
                true => theme::name(&member.id),
                false => theme::absent(),
            };
            spans.push(Span::styled(name, style));
            if Some(member.id) == me {
                spans.push(Span::styled(" (you)", theme::hint()));
            } else if view.relayed.contains(&member.id) {
                spans.push(Span::styled(" (relay)", theme::hint()));
            }
            Line::from(spans)
        })
        .collect();
    if more > 0 {
        lines.push(Line::from(Span::styled(
            format!("… {more} more (/who)"),
            theme::hint(),
        )));
    }
    let block = Block::new()
        .borders(Borders::LEFT)
        .border_style(theme::rule())
        .title(Span::styled(title, theme::title()));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

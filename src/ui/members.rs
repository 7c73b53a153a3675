//! The member list on the right, for terminals at least 70 columns wide.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme;
use crate::app::App;
use crate::proto::names::sanitize_text;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let view = app.view();
    let me = view.me.as_ref().map(|m| m.id);
    let title = format!(" {} here ", view.members.len());
    // Only what fits is drawn: a room of 10,000 keys costs a frame no more than one of 40.
    let rows = area.height.saturating_sub(1) as usize;
    let shown = if view.members.len() > rows {
        rows.saturating_sub(1)
    } else {
        rows
    };
    let more = view.members.len().saturating_sub(shown);
    let mut lines: Vec<Line> = view
        .members
        .iter()
        .take(shown)
        .map(|member| {
            let name = sanitize_text(&member.display, false);
            let mut spans = vec![Span::styled(name, theme::name(&member.id))];
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

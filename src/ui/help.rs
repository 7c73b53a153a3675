//! The help overlay: every command and key (rows laid out by `app::help`), a scroll position
//! in its title, and its own keys on the last row.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::theme;
use crate::app::help::{Help, HelpRow, help_layout, help_rows};

/// What the overlay's keys are, by the room there is to say it.
const KEYS_WIDE: &str = "Up/Down, PageUp/PageDown scroll · Esc close · typing goes to the chat";
const KEYS_NARROW: &str = "PgUp/PgDn · Esc close";

pub fn render(help: &Help, frame: &mut Frame, area: Rect) {
    let layout = help_layout(area);
    if layout.popup.width < 3 || layout.popup.height < 3 {
        return;
    }
    let rows = help_rows(layout.cols);
    let first = help.scroll.min(rows.len().saturating_sub(layout.rows));
    let last = (first + layout.rows).min(rows.len());
    let title = format!(" Help {}-{} of {} ", first + 1, last, rows.len());
    frame.render_widget(Clear, layout.popup);
    let block = Block::bordered()
        .title(Span::styled(title, theme::title()))
        .border_style(theme::rule());
    let inner = block.inner(layout.popup);
    frame.render_widget(block, layout.popup);
    let mut lines: Vec<Line> = rows[first..last].iter().map(row_line).collect();
    lines.resize(layout.rows, Line::default());
    let keys = if KEYS_WIDE.chars().count() <= layout.cols {
        KEYS_WIDE
    } else {
        KEYS_NARROW
    };
    lines.push(Line::from(Span::styled(keys, theme::hint())));
    let text = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), text);
}

fn row_line(row: &HelpRow) -> Line<'static> {
    match row {
        HelpRow::Heading(title) => Line::from(Span::styled(*title, theme::title())),
        HelpRow::Entry { key, text } => Line::from(vec![
            Span::styled(key.clone(), theme::prompt()),
            Span::raw(text.clone()),
        ]),
        HelpRow::Blank => Line::default(),
    }
}

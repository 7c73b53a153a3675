//! The input line: a rule, then the text after a `> ` prompt, wrapped, growing up to five rows
//! and scrolling to keep the cursor in view.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::App;
use crate::app::layout::PROMPT_WIDTH;
use crate::app::wrap::wrap_input;

pub fn render(app: &App, frame: &mut Frame, area: Rect, show_cursor: bool) {
    let rule = Rect {
        y: area.y.saturating_sub(1),
        height: 1,
        ..area
    };
    frame.render_widget(
        Paragraph::new(Span::styled("─".repeat(area.width as usize), theme::rule())),
        rule,
    );
    if area.height == 0 || area.width <= PROMPT_WIDTH {
        return;
    }
    let cols = area.width.saturating_sub(PROMPT_WIDTH) as usize;
    let text = app.view().input.text();
    let (rows, (cursor_row, cursor_col)) = wrap_input(text, app.view().input.cursor(), cols);
    let height = area.height as usize;
    let first = (cursor_row + 1).saturating_sub(height);
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, &(start, end))| {
            let prompt = if i == 0 { "> " } else { "  " };
            Line::from(vec![
                Span::styled(prompt, theme::prompt()),
                Span::raw(text[start..end].to_string()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
    if show_cursor {
        frame.set_cursor_position(Position {
            x: area.x + PROMPT_WIDTH + cursor_col as u16,
            y: area.y + (cursor_row - first) as u16,
        });
    }
}

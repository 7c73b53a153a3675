//! The invite popup: the whole ticket (wrapped, nothing cut), its QR code drawn with half
//! blocks, and its keys: one that copies the ticket to the clipboard, Esc, and that typing
//! goes on to the chat.

use qrcode::{Color as Module, EcLevel, QrCode};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::{centered, theme};
use crate::app::Invite;

/// Light modules around the code, so scanners find its edges.
const QUIET: usize = 1;

/// The ticket as a QR code, two modules per character cell (`▀`, `▄`, `█`). Upper case puts
/// base32 in QR's compact alphanumeric mode; tickets parse in either case.
pub fn qr_rows(ticket: &str) -> Option<Vec<String>> {
    let code = QrCode::with_error_correction_level(ticket.to_uppercase(), EcLevel::L).ok()?;
    let n = code.width();
    let colors = code.to_colors();
    let dark = |x: usize, y: usize| {
        x >= QUIET
            && y >= QUIET
            && x < n + QUIET
            && y < n + QUIET
            && colors[(y - QUIET) * n + (x - QUIET)] == Module::Dark
    };
    let size = n + 2 * QUIET;
    let rows = (0..size.div_ceil(2))
        .map(|row| {
            (0..size)
                .map(|x| match (dark(x, 2 * row), dark(x, 2 * row + 1)) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                })
                .collect()
        })
        .collect();
    Some(rows)
}

fn chunks(text: &str, cols: usize) -> Vec<String> {
    text.as_bytes()
        .chunks(cols.max(1))
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

pub fn render(invite: &Invite, frame: &mut Frame, area: Rect) {
    let qr = qr_rows(&invite.ticket).unwrap_or_default();
    let qr_width = qr.first().map_or(0, |r| r.chars().count()) as u16;
    let qr_height = qr.len() as u16;
    // Side by side when there is room, stacked when tall enough, else the ticket alone.
    const MIN_TEXT_COLS: u16 = 24;
    let text_cols = area.width.saturating_sub(qr_width + 5).min(40);
    let side = text_cols >= MIN_TEXT_COLS && area.height >= qr_height + 2;
    let popup_width = if side {
        qr_width + text_cols + 5
    } else {
        area.width.min(72)
    };
    let inner_cols = popup_width.saturating_sub(if side { qr_width + 5 } else { 2 }) as usize;
    let ticket_rows = chunks(&invite.ticket, inner_cols);
    let mut text = vec![Line::from(Span::styled(
        "Others join with:",
        theme::title(),
    ))];
    text.extend(ticket_rows.iter().map(|r| Line::raw(r.clone())));
    text.push(Line::default());
    text.push(Line::from(Span::styled(
        "Ctrl-Y copy · Esc close · typing goes to the chat",
        theme::focused(),
    )));
    if invite.copied {
        text.push(Line::from(Span::styled(
            "copy sent (OSC 52); if pasting fails, allow clipboard access in your terminal",
            theme::hint(),
        )));
    }
    text.push(Line::default());
    text.push(Line::from(Span::styled(
        "parlor join TICKET, or paste it in the lobby",
        theme::hint(),
    )));
    let text_height = text.len() as u16;
    let stacked = !side && area.height >= qr_height + text_height + 3;
    let height = if side {
        qr_height.max(text_height) + 2
    } else if stacked {
        qr_height + text_height + 3
    } else {
        text_height + 3
    };
    let popup = centered(area, popup_width, height);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(" Invite ", theme::title()))
        .border_style(theme::rule());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let qr_lines = || -> Vec<Line> {
        qr.iter()
            .map(|r| Line::from(Span::styled(r.clone(), theme::qr())))
            .collect()
    };
    if side {
        let qr_area = Rect {
            x: inner.x + 1,
            width: qr_width,
            ..inner
        };
        frame.render_widget(Paragraph::new(qr_lines()), qr_area);
        let text_area = Rect {
            x: inner.x + qr_width + 3,
            width: inner.width.saturating_sub(qr_width + 3),
            ..inner
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), text_area);
    } else if stacked {
        let mut lines = text;
        lines.push(Line::default());
        lines.extend(qr_lines());
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    } else {
        let mut lines = text;
        lines.push(Line::from(Span::styled(
            "(a larger terminal shows a QR code)",
            theme::hint(),
        )));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}

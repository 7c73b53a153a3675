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

/// The popup's caption: a private room's invite is good for 7 days (see `/invite` for
/// others), a public room's ticket for as long as the room lives.
fn caption(private: bool) -> &'static str {
    match private {
        true => " Invite (7 days) ",
        false => " Ticket ",
    }
}

/// What a member of a private room who may not invite sees (the session answers them with
/// no invite).
pub const NO_INVITE: &str = "only the room's owner and admins can invite";

/// A private room's member who may not invite: said in a small popup, no empty QR code.
fn render_refusal(frame: &mut Frame, area: Rect) {
    const HINT: &str = "ask one of them (~ and @ in the member list) · Esc close";
    let width = 60.min(area.width);
    let inner = width.saturating_sub(2).max(1) as usize;
    let rows = |text: &str| text.chars().count().div_ceil(inner) as u16;
    let lines = vec![
        Line::from(Span::styled(NO_INVITE, theme::title())),
        Line::default(),
        Line::from(Span::styled(HINT, theme::hint())),
    ];
    let popup = centered(area, width, rows(NO_INVITE) + 1 + rows(HINT) + 2);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(caption(true), theme::title()))
        .border_style(theme::rule());
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        popup,
    );
}

/// The invite popup: `private` for a private room's invite, else a public room's ticket.
pub fn render(invite: &Invite, private: bool, frame: &mut Frame, area: Rect) {
    if private && invite.ticket.is_empty() {
        render_refusal(frame, area);
        return;
    }
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
        match private {
            true => "parlor join INVITE, or paste it in the lobby",
            false => "parlor join TICKET, or paste it in the lobby",
        },
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
        .title(Span::styled(caption(private), theme::title()))
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

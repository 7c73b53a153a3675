//! The history pane: entries laid out bottom-up (only as many as fill the pane, however long
//! the history), with a "new messages below" marker while scrolled up.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::links::{self, RowLink};
use super::theme;
use crate::app::App;
use crate::app::log::{EDITED, Entry, EntryKind};
use crate::app::read;
use crate::app::wrap::width;

/// A row of the pane and the links on it.
type Row = (Line<'static>, Vec<RowLink>);

/// `row` as spans in `style`, its URL pieces underlined; the row's links, its text starting
/// at column `col`.
fn text_spans(
    text: &str,
    row: String,
    style: Style,
    col: usize,
    pieces: &[(std::ops::Range<usize>, usize)],
    seed: u64,
) -> (Vec<Span<'static>>, Vec<RowLink>) {
    if pieces.is_empty() {
        return (vec![Span::styled(row, style)], Vec::new());
    }
    let links = links::row_links(text, &row, col, pieces, seed);
    let mut spans = Vec::new();
    let mut at = 0;
    for (range, _) in pieces {
        if range.start > at {
            spans.push(Span::styled(row[at..range.start].to_string(), style));
        }
        let link = style.patch(theme::link());
        spans.push(Span::styled(row[range.clone()].to_string(), link));
        at = range.end;
    }
    if at < row.len() {
        spans.push(Span::styled(row[at..].to_string(), style));
    }
    (spans, links)
}

/// The styled rows of one entry, with their links; `picked`: the file line picked to fetch,
/// shown as a bar across the pane.
fn entry_lines(app: &App, entry: &Entry, cols: usize, picked: bool) -> Vec<Row> {
    let time = &app.view().log.time;
    let layout = entry.layout(cols, time.width);
    let text = entry.shown();
    let mut pieces = links::url_pieces(&text, &layout.rows).into_iter();
    let seed = entry.time.0;
    let (prefix_style, text_style) = match &entry.kind {
        EntryKind::Message {
            author,
            mention,
            history,
            ..
        } => {
            let text = if *history {
                theme::earlier()
            } else if *mention {
                theme::mention()
            } else {
                Default::default()
            };
            let name = theme::name(&author.id);
            (
                if *history {
                    name.patch(theme::earlier())
                } else {
                    name
                },
                text,
            )
        }
        EntryKind::Notice(_) => (theme::notice(), theme::notice()),
        EntryKind::Error(_) => (theme::error(), theme::error()),
    };
    // Our direct message not delivered yet: dimmed, with a trailing marker. A deleted line's
    // tombstone is dim too.
    let text_style = if entry.pending {
        theme::pending()
    } else if entry.marks.deleted {
        theme::tombstone()
    } else {
        text_style
    };
    let indent = " ".repeat(layout.indent);
    let marker = (layout.hidden > 0).then(|| layout.rows.len() - 1);
    let mut rows = layout.rows.into_iter();
    let first = rows.next().unwrap_or_default();
    let mut lines: Vec<Row> = Vec::new();
    let has_separator = layout.separator.is_some();
    if let Some(day) = &layout.separator {
        lines.push((day_separator(day, cols), Vec::new()));
    }
    if let Some(quote) = &layout.quote {
        let row = vec![
            Span::raw(indent.clone()),
            Span::styled(quote.clone(), theme::quote()),
        ];
        lines.push((Line::from(row), Vec::new()));
    }
    let stamp = time.clock(entry.time);
    let pad = time.width.saturating_sub(width(&stamp));
    let head = time.width.max(width(&stamp)) + width(&layout.prefix);
    let first_pieces = pieces.next().unwrap_or_default();
    let (spans, links) = text_spans(&text, first, text_style, head, &first_pieces, seed);
    let mut head_spans = vec![
        Span::styled(format!("{stamp}{}", " ".repeat(pad)), theme::time()),
        Span::styled(layout.prefix, prefix_style),
    ];
    head_spans.extend(spans);
    lines.push((Line::from(head_spans), links));
    for (i, row) in rows.enumerate() {
        // The "… N more lines" row is not the author's text: it looks like the UI's own.
        let style = if Some(i + 1) == marker {
            theme::notice()
        } else {
            text_style
        };
        let row_pieces = pieces.next().unwrap_or_default();
        let (spans, links) = text_spans(&text, row, style, layout.indent, &row_pieces, seed);
        let mut row_spans = vec![Span::raw(indent.clone())];
        row_spans.extend(spans);
        lines.push((Line::from(row_spans), links));
    }
    if entry.marks.edited
        && !entry.marks.deleted
        && let Some((last, _)) = lines.last_mut()
    {
        mark_edited(last);
    }
    if entry.pending
        && let Some((last, _)) = lines.last_mut()
    {
        last.spans.push(Span::styled(" …", theme::hint()));
    }
    if let Some(reactions) = layout.reactions {
        let row = vec![
            Span::raw(indent),
            Span::styled(reactions, theme::reactions()),
        ];
        lines.push((Line::from(row), Vec::new()));
    }
    if picked {
        // The entry's own rows, not the day separator above it.
        let own = usize::from(has_separator);
        for (line, _) in lines.iter_mut().skip(own) {
            highlight(line, cols);
        }
    }
    lines
}

/// The ` (edited)` at the end of an edited line's last row, in the quiet style.
fn mark_edited(line: &mut Line<'static>) {
    let Some(last) = line.spans.pop() else {
        return;
    };
    let content = last.content.to_string();
    match content.strip_suffix(EDITED) {
        Some(text) => {
            if !text.is_empty() {
                line.spans.push(Span::styled(text.to_string(), last.style));
            }
            line.spans.push(Span::styled(EDITED, theme::hint()));
        }
        // Wrapped inside the mark: left as it is.
        None => line.spans.push(last),
    }
}

/// `line` as the selection bar: every span in the picked style, padded to `cols` columns.
fn highlight(line: &mut Line<'static>, cols: usize) {
    let style = theme::picked();
    for span in &mut line.spans {
        span.style = span.style.patch(style);
    }
    let pad = cols.saturating_sub(line.width());
    line.spans.push(Span::styled(" ".repeat(pad), style));
}

/// `──── Monday 30 November 2026 ────` across the pane.
fn day_separator(day: &str, cols: usize) -> Line<'static> {
    labelled_rule(day, cols, theme::rule())
}

/// `label` centred in a rule across `cols` columns.
fn labelled_rule(label: &str, cols: usize, style: ratatui::style::Style) -> Line<'static> {
    let label = format!(" {label} ");
    let side = cols.saturating_sub(width(&label)) / 2;
    let rule = "─".repeat(side);
    Line::from(Span::styled(format!("{rule}{label}{rule}"), style))
}

/// `──── new ────` above the first line not seen yet (see `app::read`).
fn read_marker(cols: usize) -> Line<'static> {
    labelled_rule("new", cols, theme::read_marker())
}

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let cols = area.width as usize;
    let marker = app.view().log.scroll() > 0;
    let height = area.height.saturating_sub(u16::from(marker)) as usize;
    let skip = app.view().log.scroll();
    // Walk back from the newest entry until the pane (and what is scrolled past) is full.
    let mut rows: Vec<Row> = Vec::new();
    let picked = app.view().log.picked();
    let unseen = read::marker_index(&app.view().log, app.view().read.marker);
    for (index, entry) in app.view().log.entries().iter().enumerate().rev() {
        let mut lines = entry_lines(app, entry, cols, picked == Some(index));
        if unseen == Some(index) {
            lines.insert(0, (read_marker(cols), Vec::new()));
        }
        lines.reverse();
        rows.extend(lines);
        if rows.len() >= skip + height {
            break;
        }
    }
    let mut visible: Vec<Row> = rows.into_iter().skip(skip).take(height).collect();
    visible.reverse();
    let top = area.y + (height - visible.len()) as u16;
    let filled = Rect {
        y: top,
        height: visible.len() as u16,
        ..area
    };
    let (lines, links): (Vec<Line>, Vec<Vec<RowLink>>) = visible.into_iter().unzip();
    frame.render_widget(Paragraph::new(lines), filled);
    for (y, row) in (top..).zip(&links) {
        links::apply(frame.buffer_mut(), area, y, row);
    }
    if marker {
        let text = match app.view().log.unread() {
            0 => " more below: PageDown ".to_string(),
            1 => " 1 new message below: PageDown ".to_string(),
            n => format!(" {n} new messages below: PageDown "),
        };
        let line = Rect {
            y: area.y + area.height.saturating_sub(1),
            height: 1,
            ..area
        };
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(text, theme::marker())).centered()),
            line,
        );
    }
}

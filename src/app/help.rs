//! The help overlay (F1 or `/help`): every command and key, from the tables that completion
//! and the docs use too ([`COMMANDS`], [`KEYS`]), laid out for the screen's width and
//! scrolled with Up/Down, PageUp/PageDown, Home/End and the wheel. The rows are built here,
//! not in the view, so that the app knows how far a page scrolls and where the end is.

use ratatui::layout::Rect;

use super::chat::KEYS;
use super::command::COMMANDS;
use super::wrap::{width, wrap};

/// The overlay, when shown: the first row in sight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Help {
    pub scroll: usize,
}

/// One row of the overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpRow {
    /// A section's title.
    Heading(&'static str),
    /// A key or command (empty on a description's later rows), then its description.
    Entry {
        key: String,
        text: String,
    },
    Blank,
}

/// Where the overlay goes on a screen of `area`, and what fits in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelpLayout {
    /// The popup, border included.
    pub popup: Rect,
    /// Columns of text inside (one of padding on each side).
    pub cols: usize,
    /// Rows of commands and keys in sight (the last inner row says the overlay's keys).
    pub rows: usize,
}

/// At most this wide: long descriptions read better wrapped than on one wide row.
const MAX_WIDTH: u16 = 100;
/// From this many columns of text, keys and descriptions sit side by side.
const SIDE_BY_SIDE_COLS: usize = 56;
/// The widest key column (a longer key gets a row of its own).
const MAX_KEY_COLS: usize = 26;

pub fn help_layout(area: Rect) -> HelpLayout {
    let width = area.width.min(MAX_WIDTH);
    // A margin above and below when the screen is tall enough to spare it.
    let height = if area.height >= 20 {
        area.height - 4
    } else {
        area.height
    };
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    HelpLayout {
        popup,
        cols: width.saturating_sub(4) as usize,
        rows: height.saturating_sub(3) as usize,
    }
}

/// Every command, then every key, laid out in `cols` columns.
pub fn help_rows(cols: usize) -> Vec<HelpRow> {
    let cols = cols.max(1);
    let key_cols = COMMANDS
        .iter()
        .chain(KEYS)
        .map(|(key, _)| width(key))
        .max()
        .unwrap_or(0)
        .min(MAX_KEY_COLS)
        + 2;
    let side_by_side = cols >= SIDE_BY_SIDE_COLS;
    let mut rows = Vec::new();
    for (title, table) in [("Commands", COMMANDS), ("Keys", KEYS)] {
        if !rows.is_empty() {
            rows.push(HelpRow::Blank);
        }
        rows.push(HelpRow::Heading(title));
        for (key, text) in table {
            let entry = |key: &str, text: String| HelpRow::Entry {
                key: key.to_string(),
                text,
            };
            if side_by_side && width(key) + 2 <= key_cols {
                let lines = wrap(text, cols - key_cols, cols - key_cols);
                for (i, line) in lines.into_iter().enumerate() {
                    let key = if i == 0 { *key } else { "" };
                    rows.push(entry(&format!("{key:<key_cols$}"), line));
                }
            } else {
                // The key on its own row, the description indented below it.
                rows.push(entry(key, String::new()));
                let indent = if side_by_side { key_cols } else { 2 };
                for line in wrap(
                    text,
                    cols.saturating_sub(indent),
                    cols.saturating_sub(indent),
                ) {
                    rows.push(entry(&" ".repeat(indent), line));
                }
            }
        }
    }
    rows
}

impl Help {
    /// The furthest the overlay scrolls on a screen of `area`: the last row at the bottom.
    pub fn max_scroll(area: Rect) -> usize {
        let layout = help_layout(area);
        help_rows(layout.cols).len().saturating_sub(layout.rows)
    }
}

//! The chat history shown on screen: entries, how each lays out in rows, and scrolling. The
//! scroll position counts rows up from the bottom; while it is above zero, arriving lines keep
//! the view still and are counted as unread.

use std::collections::VecDeque;

use chrono::{DateTime, FixedOffset, Utc};

use super::wrap::{width, wrap};
use crate::proto::names::sanitize_text;
use crate::proto::{MemberInfo, UnixMillis};

/// Entries kept on screen; the oldest go first.
pub const MAX_ENTRIES: usize = 20_000;
/// `"HH:MM "` before every entry.
pub const TIME_WIDTH: usize = 6;
/// Rows one entry takes on screen until `/expand`: a message of 32,000 newlines must not
/// scroll the conversation away. The text itself is kept whole.
pub const MAX_ENTRY_ROWS: usize = 40;

/// `time` in the given offset (the local one, outside tests), as chrono `format`s it.
pub fn format_time(time: UnixMillis, offset: &FixedOffset, format: &str) -> String {
    let millis = i64::try_from(time.0).unwrap_or(i64::MAX);
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .with_timezone(offset)
        .format(format)
        .to_string()
}

/// `HH:MM` in the given offset.
pub fn clock(time: UnixMillis, offset: &FixedOffset) -> String {
    format_time(time, offset, "%H:%M")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Message {
        author: MemberInfo,
        text: String,
        action: bool,
        own: bool,
        /// The text names me: highlighted.
        mention: bool,
        /// Caught up from history or loaded from disk: shown dimmed.
        history: bool,
    },
    /// joined / left / renamed / answers to commands.
    Notice(String),
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub time: UnixMillis,
    pub kind: EntryKind,
    /// Shown whole, past [`MAX_ENTRY_ROWS`] (`/expand`).
    pub expanded: bool,
    /// A direct message's id (its delivery is reported later).
    pub id: Option<crate::proto::MessageId>,
    /// Our direct message, not delivered yet.
    pub pending: bool,
}

/// An entry cut into rows for a given width: the prefix (after the time) goes on the first row;
/// later rows are indented by `indent` columns. A long entry is cut after [`MAX_ENTRY_ROWS`]
/// rows and its last row says how many more there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryLayout {
    pub prefix: String,
    pub indent: usize,
    pub rows: Vec<String>,
    /// Rows not shown (the last row of `rows` is then the "… more" marker).
    pub hidden: usize,
}

impl Entry {
    pub fn new(time: UnixMillis, kind: EntryKind) -> Self {
        Self {
            time,
            kind,
            expanded: false,
            id: None,
            pending: false,
        }
    }

    /// What precedes the text on the first row, after the time: `name: `, `* name `, `* `, `! `.
    fn prefix(&self) -> String {
        match &self.kind {
            EntryKind::Message {
                author,
                action: false,
                ..
            } => format!("{}: ", sanitize_text(&author.display, false)),
            EntryKind::Message { author, .. } => {
                format!("* {} ", sanitize_text(&author.display, false))
            }
            EntryKind::Notice(_) => "* ".to_string(),
            EntryKind::Error(_) => "! ".to_string(),
        }
    }

    fn text(&self) -> String {
        match &self.kind {
            EntryKind::Message { text, .. } => sanitize_text(text, true).replace('\t', "    "),
            EntryKind::Notice(text) | EntryKind::Error(text) => sanitize_text(text, true),
        }
    }

    /// Rows at `cols` columns. Continuation rows hang under the text, unless the prefix is
    /// so wide that little would be left, then they indent by two.
    pub fn layout(&self, cols: usize) -> EntryLayout {
        let prefix = self.prefix();
        let head = TIME_WIDTH + width(&prefix);
        let indent = if head <= cols / 2 { head } else { 2.min(cols) };
        let first = cols.saturating_sub(head).max(1);
        let rest = cols.saturating_sub(indent).max(1);
        let mut rows = wrap(&self.text(), first, rest);
        let mut hidden = 0;
        if !self.expanded && rows.len() > MAX_ENTRY_ROWS {
            hidden = rows.len() - (MAX_ENTRY_ROWS - 1);
            rows.truncate(MAX_ENTRY_ROWS - 1);
            rows.push(format!("… {hidden} more lines: /expand shows them"));
        }
        EntryLayout {
            rows,
            prefix,
            indent,
            hidden,
        }
    }
}

#[derive(Debug, Default)]
pub struct ChatLog {
    entries: VecDeque<Entry>,
    scroll: usize,
    unread: usize,
}

impl ChatLog {
    pub fn entries(&self) -> &VecDeque<Entry> {
        &self.entries
    }

    /// Rows scrolled up from the bottom (0: following new lines).
    pub fn scroll(&self) -> usize {
        self.scroll
    }

    /// Entries that arrived while scrolled up.
    pub fn unread(&self) -> usize {
        self.unread
    }

    /// Add an entry; `cols` is the history pane's width, to keep a scrolled view still.
    /// Earlier messages (history) go where their time puts them, not at the bottom.
    pub fn push(&mut self, entry: Entry, cols: usize) {
        let history = matches!(entry.kind, EntryKind::Message { history: true, .. });
        if history {
            let at = self.entries.partition_point(|e| e.time <= entry.time);
            if at < self.entries.len() {
                // Inserted above newer lines; the view, counted from the bottom, stays put.
                self.entries.insert(at, entry);
                self.trim();
                return;
            }
        }
        if self.scroll > 0 {
            self.scroll += entry.layout(cols).rows.len();
            self.unread += 1;
        }
        self.entries.push_back(entry);
        self.trim();
    }

    /// Add a direct message where its time (then its id) puts it, so both sides of a
    /// conversation show the same order; one already shown is not shown twice.
    pub fn insert_ordered(&mut self, entry: Entry, cols: usize) {
        let key = (entry.time, entry.id);
        if entry.id.is_some() && self.entries.iter().rev().any(|e| e.id == entry.id) {
            return;
        }
        let at = self.entries.partition_point(|e| (e.time, e.id) <= key);
        if at < self.entries.len() {
            self.entries.insert(at, entry);
            self.trim();
        } else {
            self.push(entry, cols);
        }
    }

    /// Our direct message `id` was delivered.
    pub fn delivered(&mut self, id: &crate::proto::MessageId) {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .rev()
            .find(|e| e.id.as_ref() == Some(id))
        {
            entry.pending = false;
        }
    }

    fn trim(&mut self) {
        while self.entries.len() > MAX_ENTRIES {
            self.entries.pop_front();
        }
    }

    /// Show the newest cut entry whole; `false` if none is cut at `cols`.
    pub fn expand_newest(&mut self, cols: usize) -> bool {
        let Some(entry) = self
            .entries
            .iter_mut()
            .rev()
            .find(|e| !e.expanded && e.layout(cols).hidden > 0)
        else {
            return false;
        };
        entry.expanded = true;
        true
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    fn total_rows(&self, cols: usize) -> usize {
        self.entries.iter().map(|e| e.layout(cols).rows.len()).sum()
    }

    /// Scroll towards older lines, no further than the first line at the top of a pane of
    /// `height` rows.
    pub fn scroll_up(&mut self, rows: usize, cols: usize, height: usize) {
        let max = self.total_rows(cols).saturating_sub(height);
        self.scroll = (self.scroll + rows).min(max);
    }

    pub fn scroll_down(&mut self, rows: usize) {
        self.scroll = self.scroll.saturating_sub(rows);
        if self.scroll == 0 {
            self.unread = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(text: &str) -> Entry {
        Entry::new(UnixMillis(0), EntryKind::Notice(text.to_string()))
    }

    #[test]
    fn a_huge_message_is_cut_on_screen_and_expands() {
        let mut log = ChatLog::default();
        log.push(notice(&format!("{}x", "x\n".repeat(31_999))), 80);
        let layout = log.entries()[0].layout(80);
        assert_eq!(layout.rows.len(), MAX_ENTRY_ROWS);
        assert_eq!(layout.hidden, 32_000 - (MAX_ENTRY_ROWS - 1));
        assert!(layout.rows[MAX_ENTRY_ROWS - 1].starts_with("… 31961 more lines"));
        log.push(notice("short"), 80);
        assert!(log.expand_newest(80));
        assert_eq!(log.entries()[0].layout(80).rows.len(), 32_000);
        assert!(!log.expand_newest(80), "nothing left to expand");
    }

    #[test]
    fn layout_hangs_continuations_under_the_text() {
        let layout = notice("aaa bbb ccc ddd").layout(16);
        // "HH:MM * " is 8 columns; 8 are left on each row.
        assert_eq!(layout.rows, ["aaa bbb", "ccc ddd"]);
        assert_eq!(layout.indent, 8);
        // A prefix wider than half the row: continuations indent by two instead.
        let narrow = notice("aaa bbb ccc").layout(14);
        assert_eq!(
            (narrow.rows.as_slice(), narrow.indent),
            (&["aaa".to_string(), "bbb ccc".to_string()][..], 2)
        );
    }

    #[test]
    fn hostile_text_is_escaped_in_layout() {
        let layout = notice("\u{1b}[2Jgone").layout(80);
        assert_eq!(layout.rows, ["\\u{1b}[2Jgone"]);
    }

    #[test]
    fn scrolled_view_stays_put_and_counts_unread() {
        let mut log = ChatLog::default();
        for i in 0..30 {
            log.push(notice(&format!("line {i}")), 40);
        }
        log.scroll_up(10, 40, 10);
        assert_eq!(log.scroll(), 10);
        log.push(notice("new"), 40);
        assert_eq!((log.scroll(), log.unread()), (11, 1));
        log.scroll_up(1000, 40, 10);
        assert_eq!(log.scroll(), 31 - 10, "no further than the first line");
        log.scroll_down(1000);
        assert_eq!((log.scroll(), log.unread()), (0, 0));
    }
}

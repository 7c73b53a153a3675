//! The chat history shown on screen: entries, how each lays out in rows, and scrolling. The
//! scroll position counts rows up from the bottom; while it is above zero, arriving lines keep
//! the view still and are counted as unread.

use std::collections::VecDeque;

use super::wrap::{width, wrap};
use crate::proto::names::sanitize_text;
use crate::proto::{MemberInfo, UnixMillis};
// Times moved to their own module; callers name them through the log, where entries use them.
pub use super::time::TimeStyle;

/// Entries kept on screen; the oldest go first.
pub const MAX_ENTRIES: usize = 20_000;
/// What a view's entries may hold in all (their texts and names): 20,000 lines of 32 KiB
/// from a member minting keys would be 650 MB per view. The oldest go first.
pub const MAX_BYTES: usize = 16 << 20;
/// `"HH:MM "` before every entry (the default time format): the tests' width (the view takes
/// `TimeStyle::width`).
#[cfg(test)]
pub const TIME_WIDTH: usize = 6;
/// Rows one entry takes on screen until `/expand`: a message of 32,000 newlines must not
/// scroll the conversation away. The text itself is kept whole.
pub const MAX_ENTRY_ROWS: usize = 40;
/// What a deleted line shows instead of its text.
pub const TOMBSTONE: &str = "message deleted";
/// After an edited line's text.
pub const EDITED: &str = " (edited)";

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
    /// A day separator above it (its date): the day changed since the entry before, or it is
    /// the first entry and not of today.
    pub day: Option<String>,
    /// The file this line offers (someone else's `/send`): what Enter fetches once picked.
    pub file: Option<FileMark>,
    /// What happened to the line since (a reply's quote, reactions, an edit, a delete).
    pub marks: super::line_marks::LineMarks,
}

/// A file shared by someone else, on the line that offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMark {
    /// What `/get` takes (the whole hash).
    pub handle: String,
    /// As the sender named it: a claim, cleaned wherever it is shown.
    pub name: String,
    pub size: u64,
}

/// An entry cut into rows for a given width: the prefix (after the time) goes on the first row;
/// later rows are indented by `indent` columns. A long entry is cut after [`MAX_ENTRY_ROWS`]
/// rows and its last row says how many more there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryLayout {
    /// A day separator row above the entry.
    pub separator: Option<String>,
    pub prefix: String,
    pub indent: usize,
    pub rows: Vec<String>,
    /// Rows not shown (the last row of `rows` is then the "… more" marker).
    pub hidden: usize,
    /// A reply's quote of the line it answers, a row above (cut to the width).
    pub quote: Option<String>,
    /// The reactions row under it (cut to the width).
    pub reactions: Option<String>,
}

impl Entry {
    pub fn new(time: UnixMillis, kind: EntryKind) -> Self {
        Self {
            time,
            kind,
            expanded: false,
            id: None,
            pending: false,
            day: None,
            file: None,
            marks: Default::default(),
        }
    }

    /// About what the entry holds in memory: its text and the author's names (an edit
    /// changes it a little later; the count is for a bound, not an account).
    pub fn bytes(&self) -> usize {
        let text = match &self.kind {
            EntryKind::Message { author, text, .. } => {
                text.len() + author.name.len() + author.display.len()
            }
            EntryKind::Notice(text) | EntryKind::Error(text) => text.len(),
        };
        let file = self
            .file
            .as_ref()
            .map_or(0, |f| f.handle.len() + f.name.len());
        std::mem::size_of::<Self>() + text + file
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

    /// The text as laid out (cleaned, tabs as spaces): the rows are pieces of it.
    /// The text as shown: a deleted line's tombstone, an edited one marked.
    pub fn shown(&self) -> String {
        if self.marks.deleted {
            return TOMBSTONE.to_string();
        }
        let text = self.text();
        match self.marks.edited {
            true => format!("{text}{EDITED}"),
            false => text,
        }
    }

    pub fn text(&self) -> String {
        match &self.kind {
            EntryKind::Message { text, .. } => sanitize_text(text, true).replace('\t', "    "),
            EntryKind::Notice(text) | EntryKind::Error(text) => sanitize_text(text, true),
        }
    }

    /// Rows at `cols` columns, `time_width` of them taken by the time. Continuation rows
    /// hang under the text, unless the prefix is so wide that little would be left, then
    /// they indent by two.
    pub fn layout(&self, cols: usize, time_width: usize) -> EntryLayout {
        let prefix = self.prefix();
        let head = time_width + width(&prefix);
        let indent = if head <= cols / 2 { head } else { 2.min(cols) };
        let first = cols.saturating_sub(head).max(1);
        let rest = cols.saturating_sub(indent).max(1);
        let mut rows = wrap(&self.shown(), first, rest);
        let mut hidden = 0;
        if !self.expanded && rows.len() > MAX_ENTRY_ROWS {
            hidden = rows.len() - (MAX_ENTRY_ROWS - 1);
            rows.truncate(MAX_ENTRY_ROWS - 1);
            rows.push(format!("… {hidden} more lines: /expand shows them"));
        }
        let cut = |row: String, at: usize| -> String {
            let mut out = String::new();
            for c in row.chars() {
                if width(&out) + width(&c.to_string()) > at {
                    break;
                }
                out.push(c);
            }
            out
        };
        let room = cols.saturating_sub(indent).max(1);
        let quote = self.marks.quote.as_ref().map(|q| {
            let author = sanitize_text(&q.author, false);
            let text = sanitize_text(&q.text, false);
            let quoted = match author.is_empty() {
                true => format!("↳ {text}"),
                false => format!("↳ {author}: {text}"),
            };
            cut(quoted, room)
        });
        let reactions = self.marks.reactions_row().map(|r| cut(r, room));
        EntryLayout {
            separator: self.day.clone(),
            rows,
            prefix,
            indent,
            hidden,
            quote,
            reactions,
        }
    }
}

impl EntryLayout {
    /// Rows on screen, the day separator, a reply's quote and the reactions included.
    pub fn height(&self) -> usize {
        self.rows.len()
            + usize::from(self.separator.is_some())
            + usize::from(self.quote.is_some())
            + usize::from(self.reactions.is_some())
    }
}

#[derive(Debug, Default)]
pub struct ChatLog {
    entries: VecDeque<Entry>,
    /// What `entries` hold, as [`Entry::bytes`] counts at insertion.
    bytes: usize,
    scroll: usize,
    unread: usize,
    /// The index of the file line picked to fetch (Ctrl-G); kept on the same entry as
    /// entries come and go.
    picked: Option<usize>,
    /// How times and days are shown.
    pub time: TimeStyle,
}

impl ChatLog {
    pub fn with_time(time: TimeStyle) -> Self {
        Self {
            time,
            ..Self::default()
        }
    }

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
        let at = if history {
            self.entries.partition_point(|e| e.time <= entry.time)
        } else {
            self.entries.len()
        };
        self.insert_at(at, entry, cols);
    }

    /// Put `entry` at `at`: above newer lines the view, counted from the bottom, stays put;
    /// at the bottom of a scrolled view it counts as unread and the view stays still.
    fn insert_at(&mut self, at: usize, entry: Entry, cols: usize) {
        let bottom = at >= self.entries.len();
        let at = at.min(self.entries.len());
        self.bytes += entry.bytes();
        self.entries.insert(at, entry);
        if let Some(picked) = self.picked
            && picked >= at
        {
            self.picked = Some(picked + 1);
        }
        self.mark_day(at);
        self.mark_day(at + 1);
        if bottom && self.scroll > 0 {
            let height = self
                .entries
                .back()
                .map_or(0, |e| e.layout(cols, self.time.width).height());
            self.scroll += height;
            self.unread += 1;
        }
        self.trim();
    }

    /// Whether the entry at `index` starts a day (see [`Entry::day`]).
    fn mark_day(&mut self, index: usize) {
        let Some(entry) = self.entries.get(index) else {
            return;
        };
        let day = self.time.day(entry.time);
        let starts = match index.checked_sub(1).and_then(|i| self.entries.get(i)) {
            Some(before) => self.time.day(before.time) != day,
            None => self.time.today.is_some_and(|today| today != day),
        };
        let label = starts.then(|| self.time.day_label(entry.time));
        self.entries[index].day = label;
    }

    /// Add a direct message where its time (then its id) puts it, so both sides of a
    /// conversation show the same order; one already shown is not shown twice.
    pub fn insert_ordered(&mut self, entry: Entry, cols: usize) {
        let key = (entry.time, entry.id);
        if entry.id.is_some() && self.entries.iter().rev().any(|e| e.id == entry.id) {
            return;
        }
        let at = self.entries.partition_point(|e| (e.time, e.id) <= key);
        self.insert_at(at, entry, cols);
    }

    /// The entry of line `id`, if shown (the newest are looked at first).
    pub fn entry_mut(&mut self, id: &crate::proto::MessageId) -> Option<&mut Entry> {
        self.entries
            .iter_mut()
            .rev()
            .find(|e| e.id.as_ref() == Some(id))
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
        let mut trimmed = false;
        while self.entries.len() > MAX_ENTRIES || (self.bytes > MAX_BYTES && self.entries.len() > 1)
        {
            if let Some(gone) = self.entries.pop_front() {
                self.bytes = self.bytes.saturating_sub(gone.bytes());
            }
            // The picked line itself may go: nothing is picked then.
            self.picked = self.picked.and_then(|p| p.checked_sub(1));
            trimmed = true;
        }
        if trimmed {
            self.mark_day(0);
        }
    }

    /// Show the newest cut entry whole; `false` if none is cut at `cols`.
    pub fn expand_newest(&mut self, cols: usize) -> bool {
        let Some(entry) = self
            .entries
            .iter_mut()
            .rev()
            .find(|e| !e.expanded && e.layout(cols, self.time.width).hidden > 0)
        else {
            return false;
        };
        entry.expanded = true;
        true
    }

    pub fn clear(&mut self) {
        *self = Self::with_time(self.time.clone());
    }

    fn total_rows(&self, cols: usize) -> usize {
        let width = self.time.width;
        self.entries
            .iter()
            .map(|e| e.layout(cols, width).height())
            .sum()
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

    /// Rows of history a pane of `height` rows shows at scroll position `scroll`: while
    /// scrolled up, its bottom row is the "more below" marker.
    fn rows_shown(scroll: usize, height: usize) -> usize {
        if scroll > 0 {
            height.saturating_sub(1)
        } else {
            height
        }
    }

    /// The index of the file line picked to fetch, if any.
    pub fn picked(&self) -> Option<usize> {
        self.picked
    }

    /// The file the picked line offers.
    pub fn picked_file(&self) -> Option<&FileMark> {
        self.entries.get(self.picked?)?.file.as_ref()
    }

    /// Pick the line at `index` (`None`: stop picking).
    pub fn pick(&mut self, index: Option<usize>) {
        self.picked = index.filter(|&i| i < self.entries.len());
    }

    /// The file line to pick first in a pane of `cols` x `height`: the newest one on
    /// screen, else the newest of all.
    pub fn first_file_line(&self, cols: usize, height: usize) -> Option<usize> {
        self.first_line_where(cols, height, |e| e.file.is_some())
    }

    /// The entry that is `wanted` to pick first in a pane of `cols` x `height`: the newest
    /// one on screen, else the newest of all.
    pub fn first_line_where(
        &self,
        cols: usize,
        height: usize,
        wanted: impl Fn(&Entry) -> bool,
    ) -> Option<usize> {
        let width = self.time.width;
        let top = self.scroll + Self::rows_shown(self.scroll, height);
        let mut below = 0;
        let mut newest = None;
        for (index, entry) in self.entries.iter().enumerate().rev() {
            if below >= top && newest.is_some() {
                break;
            }
            let rows = entry.layout(cols, width).height();
            if wanted(entry) {
                if below + rows > self.scroll && below < top {
                    return Some(index);
                }
                newest.get_or_insert(index);
            }
            below += rows;
        }
        newest
    }

    /// The nearest file line older (`older`) or newer than the entry at `from`.
    pub fn next_file_line(&self, from: usize, older: bool) -> Option<usize> {
        self.next_line_where(from, older, |e| e.file.is_some())
    }

    /// The nearest `wanted` entry older (`older`) or newer than the entry at `from`.
    pub fn next_line_where(
        &self,
        from: usize,
        older: bool,
        wanted: impl Fn(&Entry) -> bool,
    ) -> Option<usize> {
        let offers = |&i: &usize| self.entries.get(i).is_some_and(&wanted);
        if older {
            (0..from).rev().find(offers)
        } else {
            (from + 1..self.entries.len()).find(offers)
        }
    }

    /// Scroll as little as needed for the entry at `index` to be on a pane of `cols` x
    /// `height`; an entry taller than the pane shows its first rows.
    pub fn reveal(&mut self, index: usize, cols: usize, height: usize) {
        let width = self.time.width;
        let Some(entry) = self.entries.get(index) else {
            return;
        };
        let rows = entry.layout(cols, width).rows.len();
        let below: usize = (self.entries.iter().skip(index + 1))
            .map(|e| e.layout(cols, width).height())
            .sum();
        if below < self.scroll {
            self.scroll = below;
        }
        if below + rows > self.scroll + Self::rows_shown(self.scroll, height) {
            // Its first row at the top, above the marker that scrolling up brings.
            self.scroll = (below + rows).saturating_sub(height.saturating_sub(1).max(1));
        }
        if self.scroll == 0 {
            self.unread = 0;
        }
    }
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;

//! Where the user left off in each view: the read marker. A line is *seen* once it was on
//! screen while its view was current and the terminal focused (terminals that do not report
//! focus count as focused). Coming back to a view (switching to it, the terminal getting the
//! focus back, or the next start restoring its history) puts the marker above the first line
//! newer than what was seen; it stays there while the view is shown (so it can be read), and
//! goes at the next return once everything below it was seen, or when the user says something
//! there (caught up).
//!
//! Positions are message times (the author's clock, as the log orders lines), so they survive
//! restarts and history arriving later; one from a clock ahead of ours is taken as ours.

use std::collections::HashMap;

use super::log::{ChatLog, EntryKind};
use super::views::ViewKind;
use super::{App, Screen};
use crate::proto::UnixMillis;

/// Views whose positions are kept across restarts; the least recently read go first.
pub const MAX_KEPT: usize = 1_000;

/// One view's read position and marker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadMark {
    /// The time of the newest line seen.
    pub seen: Option<UnixMillis>,
    /// Where the marker goes: above the first line newer than this.
    pub marker: Option<UnixMillis>,
    /// The stored position was applied (once, when the view's room or peer is known).
    restored: bool,
}

impl ReadMark {
    /// Back in the view: the marker goes where the user left off.
    fn returned(&mut self) {
        self.marker = self.seen;
    }

    fn saw(&mut self, time: UnixMillis) {
        if self.seen.is_none_or(|seen| seen < time) {
            self.seen = Some(time);
        }
    }
}

/// Whether the entry is a line someone else wrote (what the marker is about).
fn is_theirs(kind: &EntryKind) -> bool {
    matches!(kind, EntryKind::Message { own: false, .. })
}

/// The index of the entry the marker goes above in `log`: the first line of someone else's
/// newer than `marker`; none when everything was seen (or nothing was ever seen here).
pub fn marker_index(log: &ChatLog, marker: Option<UnixMillis>) -> Option<usize> {
    let marker = marker?;
    let entries = log.entries();
    let first_newer = entries.partition_point(|e| e.time <= marker);
    (first_newer..entries.len()).find(|&i| is_theirs(&entries[i].kind))
}

/// The time of the newest line on a pane of `cols` x `height` (the bottom one, or the one at
/// the bottom of the screen while scrolled up).
fn newest_on_screen(log: &ChatLog, cols: usize, height: usize) -> Option<UnixMillis> {
    let entries = log.entries();
    let messages = entries
        .iter()
        .rev()
        .filter(|e| matches!(e.kind, EntryKind::Message { .. }));
    if log.scroll() == 0 {
        return messages.map(|e| e.time).next();
    }
    // Scrolled up: skip the rows below the screen (the bottom row is the "more below" bar).
    let mut below = 0;
    for entry in entries.iter().rev() {
        let rows = entry.layout(cols, log.time.width).height();
        let on_screen = below + rows > log.scroll() && below < log.scroll() + height;
        if on_screen && matches!(entry.kind, EntryKind::Message { .. }) {
            return Some(entry.time);
        }
        below += rows;
        if below >= log.scroll() + height {
            break;
        }
    }
    None
}

/// How a view is named on disk: its room's topic or its peer (none before a room's topic is
/// known).
pub fn read_key(kind: &ViewKind) -> Option<String> {
    match kind {
        ViewKind::Room(Some(topic)) => Some(format!("room:{topic}")),
        ViewKind::Room(None) => None,
        ViewKind::Direct(peer) => Some(format!("dm:{peer}")),
    }
}

impl App {
    /// Whether the terminal has the focus (changed by [`Msg::Focus`](super::Msg::Focus)).
    pub(super) fn set_focus(&mut self, focused: bool) {
        let back = focused && !self.focused;
        self.focused = focused;
        if back {
            self.returned();
        }
    }

    /// The current view was come back to: its marker goes where the user left off.
    pub(super) fn returned(&mut self) {
        if let Some(key) = self.current_view()
            && let Some(view) = self.views.state_mut(key)
        {
            view.read.returned();
        }
    }

    /// The view at `index` closes: where it was left off is kept with the last run's.
    pub(super) fn keep_read(&mut self, index: usize) {
        let Some(tab) = self.views.tabs.get(index) else {
            return;
        };
        let seen = self.view_of(tab.key).and_then(|v| v.read.seen);
        if let (Some(key), Some(seen)) = (read_key(&tab.kind), seen) {
            self.stored_reads.insert(key, seen);
        }
    }

    /// Note what the user can see now: the lines on screen in the current view, when the
    /// terminal has the focus.
    pub(super) fn see(&mut self, now: UnixMillis) {
        if !self.focused || !matches!(self.screen, Screen::Chat) || self.views.tabs.is_empty() {
            return;
        }
        let (cols, height) = self.history_size();
        let Some(key) = self.current_view() else {
            return;
        };
        let Some(view) = self.views.state_mut(key) else {
            return;
        };
        if let Some(time) = newest_on_screen(&view.log, cols, height) {
            view.read.saw(time.min(now));
        }
    }

    /// A pane of `height` rows as scrolling counts it: the read marker's row is not an
    /// entry's, so the log has one row fewer for its entries and scrolling reaches one further
    /// (the oldest line can still be brought to the top).
    pub(super) fn scroll_height(&self, height: usize) -> usize {
        let view = self.view();
        let marked = marker_index(&view.log, view.read.marker).is_some();
        height.saturating_sub(usize::from(marked)).max(1)
    }

    /// The user said something in the view shown: they are caught up, no marker.
    pub(super) fn caught_up(&mut self) {
        self.view_mut().read.marker = None;
    }

    /// The positions kept from the last run (see [`App::read_positions`]), applied to each
    /// view as its room or peer becomes known.
    pub fn set_read_positions(&mut self, positions: HashMap<String, UnixMillis>) {
        self.stored_reads = positions;
        for index in 0..self.views.tabs.len() {
            self.restore_read(index);
        }
    }

    /// Apply the stored position of the view at `index`, once: the marker shows where the
    /// last run left off.
    pub(super) fn restore_read(&mut self, index: usize) {
        let Some(tab) = self.views.tabs.get(index) else {
            return;
        };
        let Some(stored) = read_key(&tab.kind).and_then(|k| self.stored_reads.get(&k).copied())
        else {
            return;
        };
        let key = tab.key;
        if let Some(view) = self.views.state_mut(key)
            && !view.read.restored
        {
            view.read.restored = true;
            view.read.marker = Some(stored);
            view.read.saw(stored);
        }
    }

    /// Every position to keep: this run's views over the last run's, the most recently read
    /// [`MAX_KEPT`].
    pub fn read_positions(&self) -> HashMap<String, UnixMillis> {
        let mut all = self.stored_reads.clone();
        for tab in &self.views.tabs {
            let seen = self.view_of(tab.key).and_then(|v| v.read.seen);
            if let (Some(key), Some(seen)) = (read_key(&tab.kind), seen) {
                all.insert(key, seen);
            }
        }
        if all.len() > MAX_KEPT {
            let mut times: Vec<u64> = all.values().map(|t| t.0).collect();
            times.sort_unstable_by(|a, b| b.cmp(a));
            let oldest_kept = times[MAX_KEPT - 1];
            all.retain(|_, t| t.0 >= oldest_kept);
        }
        all
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;

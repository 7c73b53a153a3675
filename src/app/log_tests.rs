//! The chat log: layout of entries, scrolling, history and direct messages in time order,
//! day separators.

use super::*;
use chrono::FixedOffset;

fn notice(text: &str) -> Entry {
    Entry::new(UnixMillis(0), EntryKind::Notice(text.to_string()))
}

#[test]
fn a_huge_message_is_cut_on_screen_and_expands() {
    let mut log = ChatLog::default();
    log.push(notice(&format!("{}x", "x\n".repeat(31_999))), 80);
    let layout = log.entries()[0].layout(80, TIME_WIDTH);
    assert_eq!(layout.rows.len(), MAX_ENTRY_ROWS);
    assert_eq!(layout.hidden, 32_000 - (MAX_ENTRY_ROWS - 1));
    assert!(layout.rows[MAX_ENTRY_ROWS - 1].starts_with("… 31961 more lines"));
    log.push(notice("short"), 80);
    assert!(log.expand_newest(80));
    assert_eq!(log.entries()[0].layout(80, TIME_WIDTH).rows.len(), 32_000);
    assert!(!log.expand_newest(80), "nothing left to expand");
}

#[test]
fn layout_hangs_continuations_under_the_text() {
    let layout = notice("aaa bbb ccc ddd").layout(16, TIME_WIDTH);
    // "HH:MM * " is 8 columns; 8 are left on each row.
    assert_eq!(layout.rows, ["aaa bbb", "ccc ddd"]);
    assert_eq!(layout.indent, 8);
    // A prefix wider than half the row: continuations indent by two instead.
    let narrow = notice("aaa bbb ccc").layout(14, TIME_WIDTH);
    assert_eq!(
        (narrow.rows.as_slice(), narrow.indent),
        (&["aaa".to_string(), "bbb ccc".to_string()][..], 2)
    );
}

#[test]
fn hostile_text_is_escaped_in_layout() {
    let layout = notice("\u{1b}[2Jgone").layout(80, TIME_WIDTH);
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

fn at(day: u64, hour: u64) -> UnixMillis {
    // 2026-11-25 00:00 UTC, plus days and hours.
    UnixMillis(1_795_564_800_000 + day * 86_400_000 + hour * 3_600_000)
}

fn message(time: UnixMillis, text: &str, history: bool) -> Entry {
    let author = crate::app::fixtures::member(2, "bob");
    Entry::new(
        time,
        EntryKind::Message {
            author,
            text: text.into(),
            action: false,
            own: false,
            mention: false,
            history,
        },
    )
}

fn days(log: &ChatLog) -> Vec<Option<String>> {
    log.entries().iter().map(|e| e.day.clone()).collect()
}

#[test]
fn a_day_separator_comes_where_the_date_changes_and_above_older_history() {
    let mut log = ChatLog::default();
    log.time.set_today(at(1, 12));
    log.push(message(at(1, 9), "today", false), 80);
    assert_eq!(days(&log), [None], "today needs no date at the top");
    // Older history goes above, with its date; today's line now follows another day.
    log.push(message(at(0, 22), "yesterday", true), 80);
    assert_eq!(
        days(&log),
        [
            Some("Wednesday 25 November 2026".to_string()),
            Some("Thursday 26 November 2026".to_string())
        ]
    );
    log.push(message(at(1, 10), "still today", false), 80);
    assert_eq!(days(&log)[2], None);
    // Past midnight.
    log.push(message(at(2, 0), "tomorrow", false), 80);
    assert_eq!(days(&log)[3].as_deref(), Some("Friday 27 November 2026"));
    // The separator is a row of its own.
    let entry = &log.entries()[3];
    assert_eq!(entry.layout(80, TIME_WIDTH).height(), 2);
}

#[test]
fn the_time_column_fits_the_configured_format() {
    let style = TimeStyle::new(FixedOffset::east_opt(0).unwrap(), "%Y-%m-%d %H:%M:%S");
    assert_eq!(style.width, 20);
    assert_eq!(style.clock(at(0, 1)), "2026-11-25 01:00:00");
    let names = TimeStyle::new(FixedOffset::east_opt(0).unwrap(), "%A %H:%M");
    assert_eq!(
        names.width,
        "Wednesday 23:59".len() + 1,
        "the widest day name"
    );
    assert_eq!(TimeStyle::default().width, TIME_WIDTH);
}

/// An entry offering a file, a minute after the notices.
fn offering(handle: &str) -> Entry {
    let mut entry = Entry::new(UnixMillis(60_000), EntryKind::Notice(handle.into()));
    entry.file = Some(FileMark {
        handle: handle.into(),
        name: format!("{handle}.txt"),
        size: 1,
    });
    entry
}

#[test]
fn the_picked_line_is_followed_as_entries_come_and_go() {
    let mut log = ChatLog::default();
    log.push(offering("old"), 80);
    log.push(offering("new"), 80);
    log.push(notice("chat"), 80);
    assert_eq!(log.first_file_line(80, 10), Some(1));
    assert_eq!(log.next_file_line(1, true), Some(0));
    assert_eq!(log.next_file_line(0, true), None);
    assert_eq!(log.next_file_line(0, false), Some(1));
    assert_eq!(log.next_file_line(1, false), None);
    log.pick(Some(1));
    // Something older goes above it: the pick moves with its line.
    log.push(message(UnixMillis(0), "from history", true), 80);
    assert_eq!(log.picked_file().map(|f| f.handle.as_str()), Some("new"));
    // The oldest entries are forgotten past MAX_ENTRIES: the pick follows, then goes.
    for _ in 0..MAX_ENTRIES - 2 {
        log.push(notice("filler"), 80);
    }
    assert_eq!(log.picked(), Some(0));
    assert_eq!(log.picked_file().map(|f| f.handle.as_str()), Some("new"));
    log.push(notice("one more"), 80);
    assert_eq!(log.picked(), None);
    log.pick(Some(MAX_ENTRIES));
    assert_eq!(log.picked(), None, "no entry there to pick");
}

#[test]
fn revealing_scrolls_as_little_as_needed() {
    let mut log = ChatLog::default();
    log.push(offering("file"), 80);
    for _ in 0..30 {
        log.push(notice("chat"), 80);
    }
    // A pane of 10 rows: on screen at scroll 0 are the 10 newest.
    log.reveal(0, 80, 10);
    // 30 rows below it; scrolled up, 9 rows show above the marker: it is the top one.
    assert_eq!(log.scroll(), 30 + 1 - 9);
    log.reveal(5, 80, 10);
    assert_eq!(log.scroll(), 30 + 1 - 9, "on screen already");
    // Below the view: its row comes just above the marker.
    log.reveal(25, 80, 10);
    assert_eq!(log.scroll(), 30 - 25);
    log.reveal(30, 80, 10);
    assert_eq!(log.scroll(), 0, "the newest at the bottom");
}

#[test]
fn a_view_is_bounded_in_bytes_not_only_in_entries() {
    let mut log = ChatLog::default();
    let big = "x".repeat(32 * 1024);
    for n in 0..1_000u64 {
        log.push(
            Entry::new(UnixMillis(n), EntryKind::Notice(big.clone())),
            80,
        );
    }
    let held: usize = log.entries().iter().map(Entry::bytes).sum();
    assert!(held <= MAX_BYTES, "{held}");
    assert!(log.entries().len() < 1_000 && log.entries().len() > 400);
    // The newest stay.
    assert_eq!(log.entries().back().unwrap().time, UnixMillis(999));
    // Small lines are not limited by it: 20,000 of them fit.
    assert!(MAX_ENTRIES * notice("hello there").bytes() < MAX_BYTES);
}

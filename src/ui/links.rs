//! Links in the history pane: the parts of rows that are URLs (`app::links`) are underlined,
//! and, where the terminal takes them, made OSC 8 hyperlinks. ratatui measures a cell by its
//! symbol's width and knows nothing of escape sequences, so the sequence goes into each cell
//! of the link with the cell's own character (`ESC]8;id=N;URL ESC\ c ESC]8;; ESC\`), the
//! cell's width forced to the character's; the shared `id` makes a link cut over two rows one
//! link. URLs are printable ASCII only (see `app::links`): nothing in one can end or add to
//! the sequence.

use std::cell::Cell;
use std::num::NonZeroU16;
use std::ops::Range;

use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::Rect;

use crate::app::links::{find_urls, target};
use crate::app::wrap::width;

thread_local! {
    // Off in tests (snapshots show plain text); the run layer turns it on.
    static HYPERLINKS: Cell<bool> = const { Cell::new(false) };
}

/// Write OSC 8 hyperlinks from now on (on this thread).
pub fn set_hyperlinks(on: bool) {
    HYPERLINKS.with(|h| h.set(on));
}

fn hyperlinks() -> bool {
    HYPERLINKS.with(Cell::get)
}

/// Whether the terminal named by `term` (`$TERM`) can be sent OSC 8: not the Linux console
/// or a dumb terminal, which would show the sequence as text.
pub fn term_takes_hyperlinks(term: Option<&str>) -> bool {
    !matches!(term, Some("linux" | "dumb"))
}

/// A link on a row of the pane: `width` columns from `col` open `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowLink {
    pub col: usize,
    pub width: usize,
    pub url: String,
    /// The same for every piece of one link (OSC 8's `id`).
    pub id: u64,
}

/// For each of `rows` (the pieces of `text` an entry was wrapped into, in order, with only
/// spaces and line breaks left out between them), the byte ranges in the row that are parts
/// of a URL, with the URL's index in `find_urls(text)`. A row that is no piece of the text
/// (the "… more lines" row) has none.
pub fn url_pieces(text: &str, rows: &[String]) -> Vec<Vec<(Range<usize>, usize)>> {
    let urls = find_urls(text);
    let mut cursor = 0;
    let mut pieces = Vec::with_capacity(rows.len());
    for row in rows {
        let skipped = text[cursor..].len() - text[cursor..].trim_start_matches([' ', '\n']).len();
        let start = cursor + skipped;
        if !text[start..].starts_with(row.as_str()) {
            pieces.push(Vec::new());
            continue;
        }
        let end = start + row.len();
        cursor = end;
        let in_row = urls.iter().enumerate().filter_map(|(i, url)| {
            let (from, to) = (url.start.max(start), url.end.min(end));
            (from < to).then(|| (from - start..to - start, i))
        });
        pieces.push(in_row.collect());
    }
    pieces
}

/// The links of a row whose text starts at column `col`, from its URL pieces.
pub fn row_links(
    text: &str,
    row: &str,
    col: usize,
    pieces: &[(Range<usize>, usize)],
    seed: u64,
) -> Vec<RowLink> {
    let urls = find_urls(text);
    pieces
        .iter()
        .filter_map(|(range, i)| {
            let url = &text[urls.get(*i)?.clone()];
            Some(RowLink {
                col: col + width(&row[..range.start]),
                width: width(&row[range.clone()]),
                url: target(url),
                id: link_id(url, seed),
            })
        })
        .collect()
}

/// A stable id for `url` in the entry `seed` (its time): FNV-1a.
fn link_id(url: &str, seed: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for byte in url.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Make `links` on the pane's row `y` hyperlinks (when on): each cell carries the sequence.
pub fn apply(buffer: &mut Buffer, area: Rect, y: u16, links: &[RowLink]) {
    if !hyperlinks() {
        return;
    }
    for link in links {
        let open = format!("\x1b]8;id={:x};{}\x1b\\", link.id, link.url);
        let cols = link.col..link.col + link.width;
        for x in cols.filter(|&x| x < area.width as usize) {
            let Some(cell) = buffer.cell_mut((area.x + x as u16, y)) else {
                continue;
            };
            let symbol = cell.symbol().to_string();
            let wide = NonZeroU16::new(width(&symbol).max(1) as u16).unwrap_or(NonZeroU16::MIN);
            cell.set_symbol(&format!("{open}{symbol}\x1b]8;;\x1b\\"));
            cell.set_diff_option(CellDiffOption::ForcedWidth(wide));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(list: &[&str]) -> Vec<String> {
        list.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn a_url_cut_over_rows_is_found_in_each_piece() {
        let text = "see https://example.org/a/long/path and\nhttp://b.io";
        let wrapped = rows(&[
            "see https://exam",
            "ple.org/a/long/p",
            "ath and",
            "http://b.io",
        ]);
        let pieces = url_pieces(text, &wrapped);
        assert_eq!(pieces[0], [(4..16, 0)]);
        assert_eq!(pieces[1], [(0..16, 0)]);
        assert_eq!(pieces[2], [(0..3, 0)]);
        assert_eq!(pieces[3], [(0..11, 1)]);
        let links = row_links(text, &wrapped[0], 10, &pieces[0], 7);
        assert_eq!((links[0].col, links[0].width), (14, 12));
        assert_eq!(links[0].url, "https://example.org/a/long/path");
        let next = row_links(text, &wrapped[1], 2, &pieces[1], 7);
        assert_eq!(next[0].id, links[0].id, "one link over both rows");
        // A row that is not the text's (the "more lines" marker): no links.
        assert_eq!(url_pieces(text, &rows(&["… 3 more lines"])), [vec![]]);
    }

    #[test]
    fn the_linux_console_gets_no_hyperlinks() {
        assert!(term_takes_hyperlinks(Some("xterm-256color")));
        assert!(term_takes_hyperlinks(None));
        assert!(!term_takes_hyperlinks(Some("linux")));
    }
}

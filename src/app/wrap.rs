//! Wrapping text into terminal rows by display width: CJK and emoji take two columns and are
//! never cut in half, lines break at spaces when they can, and `\n` always breaks. Shared by
//! the view (drawing) and the app (counting rows to scroll by).

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Display width in terminal columns.
pub fn width(s: &str) -> usize {
    s.width()
}

/// Split `text` into rows: the first row has `first` columns, later rows `rest` (both at least
/// 1). Always returns at least one row.
pub fn wrap(text: &str, first: usize, rest: usize) -> Vec<String> {
    let (first, rest) = (first.max(1), rest.max(1));
    let mut rows = Vec::new();
    for paragraph in text.split('\n') {
        let mut row = String::new();
        let mut used = 0;
        let avail = |rows: &Vec<String>| if rows.is_empty() { first } else { rest };
        for word in paragraph.split_inclusive(' ') {
            let word_width = width(word.trim_end_matches(' '));
            if used + word_width <= avail(&rows) {
                row.push_str(word);
                used += width(word);
                continue;
            }
            if !row.is_empty() && word_width <= rest {
                rows.push(row.trim_end_matches(' ').to_string());
                row = word.to_string();
                used = width(word);
                continue;
            }
            // A word longer than a row: cut it between graphemes.
            for grapheme in word.graphemes(true) {
                let w = width(grapheme);
                if used + w > avail(&rows) && !row.is_empty() {
                    rows.push(std::mem::take(&mut row).trim_end_matches(' ').to_string());
                    used = 0;
                }
                row.push_str(grapheme);
                used += w;
            }
        }
        rows.push(row.trim_end_matches(' ').to_string());
    }
    rows
}

/// Hard-wrap for the input field: every grapheme kept (spaces too), rows of `cols` columns.
/// Returns the rows' byte ranges in `text` and the cursor's (row, column).
pub fn wrap_input(text: &str, cursor: usize, cols: usize) -> (Vec<(usize, usize)>, (usize, usize)) {
    let cols = cols.max(1);
    let mut rows = Vec::new();
    let (mut start, mut used) = (0, 0);
    let mut at = (0, 0);
    for (i, grapheme) in text.grapheme_indices(true) {
        if i == cursor {
            at = (rows.len(), used);
        }
        if grapheme == "\n" {
            rows.push((start, i));
            start = i + 1;
            used = 0;
            continue;
        }
        let w = width(grapheme);
        if used + w > cols {
            rows.push((start, i));
            start = i;
            used = 0;
            if i == cursor {
                at = (rows.len(), 0);
            }
        }
        used += w;
    }
    if cursor >= text.len() {
        // The cursor after a full row goes to the start of a new one.
        at = if used >= cols {
            (rows.len() + 1, 0)
        } else {
            (rows.len(), used)
        };
    }
    rows.push((start, text.len()));
    if at.0 >= rows.len() {
        rows.push((text.len(), text.len()));
    }
    (rows, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_at_spaces() {
        assert_eq!(
            wrap("the quick brown fox", 10, 10),
            ["the quick", "brown fox"]
        );
        assert_eq!(wrap("ab cd", 2, 8), ["ab", "cd"]);
        assert_eq!(wrap("", 5, 5), [""]);
        assert_eq!(wrap("a\n\nb", 5, 5), ["a", "", "b"]);
    }

    #[test]
    fn long_words_are_cut_and_wide_characters_kept_whole() {
        assert_eq!(wrap("abcdefgh", 3, 3), ["abc", "def", "gh"]);
        // Each CJK character is two columns: five columns fit two of them, never two and a half.
        let rows = wrap("日本語のテキスト", 5, 5);
        assert!(rows.iter().all(|r| width(r) <= 5), "{rows:?}");
        assert_eq!(rows.concat(), "日本語のテキスト");
        let emoji = wrap("👍🏽👍🏽👍🏽", 4, 4);
        assert_eq!(emoji, ["👍🏽👍🏽", "👍🏽"]);
    }

    #[test]
    fn first_row_can_be_narrower() {
        assert_eq!(wrap("one two three", 4, 9), ["one", "two three"]);
    }

    #[test]
    fn input_cursor_positions() {
        assert_eq!(wrap_input("abc", 3, 10), (vec![(0, 3)], (0, 3)));
        assert_eq!(wrap_input("abcd", 4, 4), (vec![(0, 4), (4, 4)], (1, 0)));
        assert_eq!(wrap_input("ab\ncd", 4, 10), (vec![(0, 2), (3, 5)], (1, 1)));
        assert_eq!(wrap_input("abcdef", 5, 4), (vec![(0, 4), (4, 6)], (1, 1)));
        assert_eq!(wrap_input("", 0, 4), (vec![(0, 0)], (0, 0)));
    }
}

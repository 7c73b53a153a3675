//! A text field with a cursor: what the input line and the lobby's fields edit. The cursor is a
//! byte offset that always sits on a grapheme boundary, so an emoji or an accented letter is
//! one step for the arrow keys and one deletion for Backspace. Text may hold newlines
//! (multi-line messages): Home/End work on the cursor's line, while Ctrl-U and Ctrl-K treat
//! the whole draft as one line (as readline does a single line), so a 60-line paste goes
//! with one key. What they and Ctrl-W delete is kept for Ctrl-Y to put back.

use unicode_segmentation::UnicodeSegmentation;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Editor {
    text: String,
    cursor: usize,
    /// What the last Ctrl-U, Ctrl-K or Ctrl-W deleted (readline's kill buffer), for Ctrl-Y.
    killed: String,
}

impl Editor {
    pub fn with_text(text: &str) -> Self {
        Self {
            text: text.to_string(),
            cursor: text.len(),
            killed: String::new(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Byte offset of the cursor in [`Self::text`].
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Replace the text; the cursor goes to the end (what was deleted stays for Ctrl-Y).
    pub fn set(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = text.len();
    }

    /// Take the text out, leaving the field empty.
    pub fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    pub fn insert(&mut self, s: &str) {
        self.text.insert_str(self.cursor, s);
        self.cursor += s.len();
    }

    pub fn insert_char(&mut self, c: char) {
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
    }

    fn prev_boundary(&self, from: usize) -> usize {
        self.text[..from]
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, from: usize) -> usize {
        self.text[from..]
            .graphemes(true)
            .next()
            .map_or(from, |g| from + g.len())
    }

    fn line_start(&self) -> usize {
        self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_end(&self) -> usize {
        self.text[self.cursor..]
            .find('\n')
            .map_or(self.text.len(), |i| self.cursor + i)
    }

    pub fn left(&mut self) {
        self.cursor = self.prev_boundary(self.cursor);
    }

    pub fn right(&mut self) {
        self.cursor = self.next_boundary(self.cursor);
    }

    pub fn home(&mut self) {
        self.cursor = self.line_start();
    }

    pub fn end(&mut self) {
        self.cursor = self.line_end();
    }

    pub fn backspace(&mut self) {
        let start = self.prev_boundary(self.cursor);
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
    }

    pub fn delete(&mut self) {
        let end = self.next_boundary(self.cursor);
        self.text.replace_range(self.cursor..end, "");
    }

    /// Where the word before the cursor starts (skipping whitespace first), as Ctrl-W sees it.
    fn word_start(&self) -> usize {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end();
        trimmed
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8())
    }

    /// Delete `range`, keeping it for Ctrl-Y (unless empty: a second Ctrl-U at the start
    /// must not forget what the first one deleted).
    fn kill(&mut self, range: std::ops::Range<usize>) {
        if range.is_empty() {
            return;
        }
        self.killed = self.text[range.clone()].to_string();
        if range.start < self.cursor {
            self.cursor = range.start;
        }
        self.text.replace_range(range, "");
    }

    /// Ctrl-W: delete the word before the cursor.
    pub fn delete_word_before(&mut self) {
        self.kill(self.word_start()..self.cursor);
    }

    /// Ctrl-U: delete everything before the cursor, on every line of the draft (all of it
    /// with the cursor at the end, as it usually is).
    pub fn delete_to_start(&mut self) {
        self.kill(0..self.cursor);
    }

    /// Ctrl-K: delete everything after the cursor, on every line of the draft.
    pub fn delete_to_end(&mut self) {
        self.kill(self.cursor..self.text.len());
    }

    /// Ctrl-Y: put back what was deleted last, at the cursor.
    pub fn yank(&mut self) {
        let killed = self.killed.clone();
        self.insert(&killed);
    }

    /// Alt-B / Ctrl-Left: to the start of the previous word.
    pub fn word_left(&mut self) {
        self.cursor = self.word_start();
    }

    /// Alt-F / Ctrl-Right: past the end of the next word.
    pub fn word_right(&mut self) {
        let after = &self.text[self.cursor..];
        let skipped = after.len() - after.trim_start().len();
        let word = after[skipped..]
            .find(char::is_whitespace)
            .unwrap_or(after.len() - skipped);
        self.cursor += skipped + word;
    }

    /// The word the cursor is at the end of: its start offset and text (for Tab completion).
    pub fn word_before_cursor(&self) -> (usize, &str) {
        let start = self.text[..self.cursor]
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8());
        (start, &self.text[start..self.cursor])
    }

    /// Replace `start..cursor` with `with`, cursor after it.
    pub fn replace_before_cursor(&mut self, start: usize, with: &str) {
        self.text.replace_range(start..self.cursor, with);
        self.cursor = start + with.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> Editor {
        let mut e = Editor::default();
        e.insert(s);
        e
    }

    impl Editor {
        /// Put the cursor right after the first `text` (tests only).
        fn up_to(&mut self, text: &str) {
            self.cursor = self.text.find(text).unwrap() + text.len();
        }
    }

    #[test]
    fn graphemes_are_single_steps() {
        let mut e = typed("né👍🏽x");
        e.left();
        e.left();
        assert_eq!(&e.text()[e.cursor()..], "👍🏽x");
        e.backspace();
        assert_eq!(e.text(), "n👍🏽x");
        e.delete();
        assert_eq!(e.text(), "nx");
        e.right();
        e.right();
        assert_eq!(e.cursor(), 2);
    }

    #[test]
    fn line_editing_keys() {
        let mut e = typed("hello big world");
        e.delete_word_before();
        assert_eq!(e.text(), "hello big ");
        e.delete_word_before();
        assert_eq!(e.text(), "hello ");
        e.home();
        e.insert("oh ");
        e.end();
        e.insert("there");
        assert_eq!(e.text(), "oh hello there");
        e.home();
        e.word_right();
        assert_eq!(e.cursor(), 2);
        e.delete_to_end();
        assert_eq!(e.text(), "oh");
        e.delete_to_start();
        assert!(e.is_empty());
    }

    #[test]
    fn home_and_end_stay_on_the_line() {
        let mut e = typed("first\nsecond");
        e.home();
        assert_eq!(e.cursor(), 6);
        e.end();
        assert_eq!(e.cursor(), 12);
        e.backspace();
        assert_eq!(e.text(), "first\nsecon");
    }

    #[test]
    fn ctrl_u_and_ctrl_k_work_on_the_whole_draft() {
        let draft: String = (0..60).map(|i| format!("line {i}\n")).collect();
        let mut e = typed(&draft);
        e.delete_to_start();
        assert!(e.is_empty(), "all 60 lines, not the last row");
        e.yank();
        assert_eq!(e.text(), draft, "Ctrl-Y puts them back");
        // From the middle of line 2: Ctrl-K takes the rest of the draft, Ctrl-U the start.
        let mut e = typed("one\ntwo words\nthree");
        e.home();
        e.up_to("two w");
        e.delete_to_end();
        assert_eq!(e.text(), "one\ntwo w");
        e.delete_to_start();
        assert!(e.is_empty());
        e.yank();
        assert_eq!(e.text(), "one\ntwo w");
        // Deleting nothing keeps the last deletion for Ctrl-Y.
        e.delete_to_end();
        e.delete_to_start();
        e.delete_to_start();
        e.yank();
        e.yank();
        assert_eq!(e.text(), "one\ntwo wone\ntwo w");
    }

    #[test]
    fn word_before_cursor_for_completion() {
        let mut e = typed("hi al");
        assert_eq!(e.word_before_cursor(), (3, "al"));
        e.replace_before_cursor(3, "alice");
        assert_eq!(e.text(), "hi alice");
        assert_eq!(e.take(), "hi alice");
        assert_eq!(e.cursor(), 0);
    }
}

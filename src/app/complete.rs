//! Tab completion of commands (a `/word` at the start of the line) and member names
//! (anywhere; at the start of the line the name gets a `: ` as in IRC), and emoji after a `:`
//! (`:tada` → 🎉). Repeated Tab presses cycle through the candidates.

use super::editor::Editor;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    start: usize,
    candidates: Vec<String>,
    next: usize,
}

impl Completion {
    /// Start completing the word before the cursor; `None` when nothing matches.
    pub fn begin(editor: &Editor, commands: &[&str], names: &[String]) -> Option<Self> {
        let (start, word) = editor.word_before_cursor();
        let at_line_start = start == 0;
        let lower = word.to_lowercase();
        let candidates: Vec<String> = if let Some(name) = word.strip_prefix(':')
            && !name.is_empty()
        {
            // `:thu` Tab: the emoji whose names start so (👍, then 👎).
            let found = super::emoji::complete(&name.to_lowercase());
            found.into_iter().map(|e| format!("{e} ")).collect()
        } else if at_line_start && word.starts_with('/') {
            commands
                .iter()
                .filter(|c| c.starts_with(&lower))
                .map(|c| format!("{c} "))
                .collect()
        } else {
            let word = lower.trim_start_matches('@');
            let suffix = if at_line_start { ": " } else { " " };
            let mut found: Vec<String> = names
                .iter()
                .filter(|n| n.to_lowercase().starts_with(word))
                .map(|n| format!("{n}{suffix}"))
                .collect();
            found.sort_by_key(|n| n.to_lowercase());
            found.dedup();
            found
        };
        (!candidates.is_empty()).then_some(Self {
            start,
            candidates,
            next: 0,
        })
    }

    /// Completing `start..cursor` with `candidates` (at least one), found elsewhere (paths).
    pub fn of(start: usize, candidates: Vec<String>) -> Option<Self> {
        (!candidates.is_empty()).then_some(Self {
            start,
            candidates,
            next: 0,
        })
    }

    /// More than one candidate: Tab goes on to the next.
    pub fn cycles(&self) -> bool {
        self.candidates.len() > 1
    }

    /// Put the next candidate in place of the word being completed.
    pub fn apply(&mut self, editor: &mut Editor) {
        let candidate = &self.candidates[self.next % self.candidates.len()];
        editor.replace_before_cursor(self.start, candidate);
        self.next += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, presses: usize) -> String {
        let mut editor = Editor::with_text(text);
        let names = vec!["alice".to_string(), "Albert".to_string(), "bob".to_string()];
        let mut completion = Completion::begin(&editor, &["/help", "/nick", "/me"], &names);
        for _ in 0..presses {
            completion.as_mut().unwrap().apply(&mut editor);
        }
        editor.text().to_string()
    }

    #[test]
    fn names_and_commands() {
        assert_eq!(run("al", 1), "Albert: ");
        assert_eq!(run("al", 2), "alice: ");
        assert_eq!(run("al", 3), "Albert: ");
        assert_eq!(run("hi B", 1), "hi bob ");
        assert_eq!(run("hi @bo", 1), "hi bob ");
        assert_eq!(run("/n", 1), "/nick ");
        assert!(Completion::begin(&Editor::with_text("zed"), &[], &["bob".into()]).is_none());
    }

    #[test]
    fn emoji_after_a_colon() {
        assert_eq!(run("/react 1a2b3c4d :thu", 1), "/react 1a2b3c4d 👍 ");
        assert_eq!(run("/react 1a2b3c4d :thu", 2), "/react 1a2b3c4d 👎 ");
        assert_eq!(run("nice :tad", 1), "nice 🎉 ");
        let nothing = Editor::with_text(":zzz");
        assert!(Completion::begin(&nothing, &[], &[]).is_none());
    }
}

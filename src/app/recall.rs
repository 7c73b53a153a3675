//! Input history: Up and Down bring back lines sent earlier, keeping the line being typed as a
//! draft to return to. Shared by every view. The app reads no disk: the run layer loads the
//! lines kept from the last run (`store::recall`) into it at start and writes them as they are
//! added.

/// Lines kept (also on disk); older ones are forgotten.
pub const MAX_LINES: usize = 500;

#[derive(Debug, Default)]
pub struct Recall {
    lines: Vec<String>,
    /// Index into `lines` while browsing.
    browsing: Option<usize>,
    draft: String,
}

impl Recall {
    /// The newest [`MAX_LINES`] of `lines`, oldest first, to browse.
    pub fn with_lines(mut lines: Vec<String>) -> Self {
        lines.drain(..lines.len().saturating_sub(MAX_LINES));
        Self {
            lines,
            ..Self::default()
        }
    }

    /// Every line kept, oldest first.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn push(&mut self, line: &str) {
        self.browsing = None;
        if self.lines.last().map(String::as_str) != Some(line) {
            self.lines.push(line.to_string());
            if self.lines.len() > MAX_LINES {
                self.lines.remove(0);
            }
        }
    }

    /// The line before the one shown (`current` is what the field holds now).
    pub fn older(&mut self, current: &str) -> Option<String> {
        let next = match self.browsing {
            None => {
                self.draft = current.to_string();
                self.lines.len().checked_sub(1)?
            }
            Some(0) => return None,
            Some(i) => i - 1,
        };
        self.browsing = Some(next);
        Some(self.lines[next].clone())
    }

    /// The line after the one shown, and finally the draft.
    pub fn newer(&mut self) -> Option<String> {
        let i = self.browsing?;
        if i + 1 < self.lines.len() {
            self.browsing = Some(i + 1);
            Some(self.lines[i + 1].clone())
        } else {
            self.browsing = None;
            Some(std::mem::take(&mut self.draft))
        }
    }
}

impl super::App {
    /// Lines sent in an earlier run, for Up to bring back (the run layer loads them).
    pub fn set_recall(&mut self, lines: Vec<String>) {
        self.recall = Recall::with_lines(lines);
    }

    /// The lines Up brings back, oldest first (the run layer saves them).
    pub fn recall_lines(&self) -> &[String] {
        self.recall.lines()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browse_and_return_to_the_draft() {
        let mut r = Recall::default();
        assert_eq!(r.older("x"), None);
        r.push("one");
        r.push("two");
        r.push("two");
        assert_eq!(r.older("draft").as_deref(), Some("two"));
        assert_eq!(r.older("two").as_deref(), Some("one"));
        assert_eq!(r.older("one"), None);
        assert_eq!(r.newer().as_deref(), Some("two"));
        assert_eq!(r.newer().as_deref(), Some("draft"));
        assert_eq!(r.newer(), None);
    }

    #[test]
    fn lines_from_an_earlier_run_come_first_and_stay_bounded() {
        let earlier: Vec<String> = (0..MAX_LINES + 20).map(|i| format!("old {i}")).collect();
        let mut r = Recall::with_lines(earlier);
        assert_eq!(r.lines().len(), MAX_LINES);
        assert_eq!(r.lines()[0], "old 20");
        r.push("new");
        assert_eq!(r.lines().len(), MAX_LINES);
        assert_eq!(r.older("").as_deref(), Some("new"));
        assert_eq!(
            r.older("new").as_deref(),
            Some(format!("old {}", MAX_LINES + 19).as_str())
        );
    }
}

//! Input history: Up and Down bring back lines sent earlier, keeping the line being typed as a
//! draft to return to.

/// Lines kept; older ones are forgotten.
const MAX_LINES: usize = 500;

#[derive(Debug, Default)]
pub struct Recall {
    lines: Vec<String>,
    /// Index into `lines` while browsing.
    browsing: Option<usize>,
    draft: String,
}

impl Recall {
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
}

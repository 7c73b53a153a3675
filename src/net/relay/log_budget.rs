//! The relay's connection log at a bounded rate: a client that reconnects in a loop (or a
//! thousand keys that each connect once) must not fill the operator's disk or scroll the
//! useful lines away. Each window of [`WINDOW`] writes at most [`LINES_PER_WINDOW`] lines about
//! clients; what it holds back is told in one summary line when the window ends.

use std::time::{Duration, Instant};

/// How long one budget of lines lasts.
pub const WINDOW: Duration = Duration::from_secs(10);
/// Lines about clients written per window, at most (the summary line aside).
pub const LINES_PER_WINDOW: usize = 20;

/// What happened to a client that connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Admitted,
    Denied,
}

/// The lines of one window and what it held back.
#[derive(Debug)]
pub struct LogBudget {
    started: Instant,
    written: usize,
    held: usize,
    held_denied: usize,
}

impl LogBudget {
    pub fn new(now: Instant) -> Self {
        Self {
            started: now,
            written: 0,
            held: 0,
            held_denied: 0,
        }
    }

    /// The lines to write now for a client's `line`: the summary of a window that ended, if it
    /// held anything back, then `line` itself unless this window's lines are spent.
    pub fn client(&mut self, now: Instant, outcome: Outcome, line: String) -> Vec<String> {
        let mut out: Vec<String> = self.tick(now).into_iter().collect();
        if self.written < LINES_PER_WINDOW {
            self.written += 1;
            out.push(line);
        } else {
            self.held += 1;
            if outcome == Outcome::Denied {
                self.held_denied += 1;
            }
        }
        out
    }

    /// When the window has ended: the summary of what it held back (if anything), and a new
    /// window. Called on every client and by a timer, so a flood that stops is still told.
    pub fn tick(&mut self, now: Instant) -> Option<String> {
        if now.saturating_duration_since(self.started) < WINDOW {
            return None;
        }
        let summary = (self.held > 0).then(|| {
            let denied = match self.held_denied {
                0 => String::new(),
                n => format!(", {n} of them denied"),
            };
            format!(
                "… and {} more connection{} in the last {} s{denied} (not logged one by one)",
                self.held,
                if self.held == 1 { "" } else { "s" },
                WINDOW.as_secs(),
            )
        });
        *self = Self::new(now);
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_writes_a_bounded_number_of_lines_then_one_summary() {
        let start = Instant::now();
        let mut budget = LogBudget::new(start);
        let mut lines = Vec::new();
        for i in 0..1_000 {
            let outcome = if i % 2 == 0 {
                Outcome::Admitted
            } else {
                Outcome::Denied
            };
            let at = start + Duration::from_millis(i);
            lines.extend(budget.client(at, outcome, format!("client {i}")));
        }
        assert_eq!(lines.len(), LINES_PER_WINDOW, "{lines:?}");
        assert_eq!(lines[0], "client 0");
        // Quiet after the flood: the timer tells what was held back, once.
        assert_eq!(budget.tick(start + Duration::from_secs(5)), None);
        let summary = budget.tick(start + WINDOW + Duration::from_millis(1));
        assert_eq!(
            summary.as_deref(),
            Some(
                "… and 980 more connections in the last 10 s, 490 of them denied (not logged one by one)"
            )
        );
        assert_eq!(budget.tick(start + 3 * WINDOW), None, "told once");
        // The next window has its full budget again, and a client after a window that held
        // something back comes after its summary.
        let again = start + 4 * WINDOW;
        for i in 0..LINES_PER_WINDOW + 1 {
            budget.client(again, Outcome::Admitted, format!("late {i}"));
        }
        let lines = budget.client(again + WINDOW, Outcome::Denied, "denied x".into());
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].starts_with("… and 1 more connection in"),
            "{lines:?}"
        );
        assert_eq!(lines[1], "denied x");
    }
}

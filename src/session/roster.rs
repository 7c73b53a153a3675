//! When the front end gets the member list again. Each join, leave or rename changes it, and a
//! list costs O(n log n) to build: in a small room it goes out at once; in a large one at most
//! every [`LARGE_ROOM_EVERY`], so a flood of fresh keys joining cannot keep the session busy
//! rebuilding a list of thousands for every one of them.

use std::time::{Duration, Instant};

/// Rooms up to this many members get every change at once.
pub const SMALL_ROOM: usize = 200;
/// How often a larger room's list goes out at most.
pub const LARGE_ROOM_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, Default)]
pub struct Roster {
    last_sent: Option<Instant>,
    due: Option<Instant>,
}

impl Roster {
    /// The list changed at `now` (its last size was `members`): whether to send it now; if
    /// not, [`Self::due`] says when.
    pub fn changed(&mut self, now: Instant, members: usize) -> bool {
        let next = self.last_sent.map(|t| t + LARGE_ROOM_EVERY);
        if members <= SMALL_ROOM || next.is_none_or(|t| t <= now) {
            self.sent(now);
            return true;
        }
        self.due = self.due.or(next);
        false
    }

    /// When a held-back list is due.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    pub fn sent(&mut self, now: Instant) {
        self.last_sent = Some(now);
        self.due = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_rooms_get_every_change_large_ones_a_few_a_second() {
        let mut roster = Roster::default();
        let t0 = Instant::now();
        assert!(roster.changed(t0, 10));
        assert!(roster.changed(t0, 10), "small: every change");
        let mut sent = 0;
        for ms in 0..1000 {
            let now = t0 + Duration::from_millis(ms);
            if roster.changed(now, 5_000) {
                sent += 1;
            }
            if roster.due().is_some_and(|due| due <= now) {
                roster.sent(now);
                sent += 1;
            }
        }
        // Sent at 0 ms, then at 250, 500 and 750; the change at 999 ms waits for 1 s.
        assert_eq!(sent, 3);
        assert!(roster.due().is_some(), "the last change is still owed");
    }
}

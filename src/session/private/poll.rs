//! When a member of a private room asks another for the log and key with nothing amiss (see
//! [`super::POLL_EVERY`]): often after a sign that the room may have moved, then less and
//! less often while the answers bring no news.

use std::time::Duration;

use tokio::time::Instant;

use super::{POLL_EVERY, POLL_MAX};

#[derive(Debug, Clone, Copy)]
pub(in crate::session) struct PollSchedule {
    /// When to ask next.
    pub(in crate::session) at: Instant,
    /// The wait after that: [`POLL_EVERY`] doubling to [`POLL_MAX`].
    every: Duration,
}

impl PollSchedule {
    pub(super) fn new(now: Instant) -> Self {
        Self {
            at: now + POLL_EVERY,
            every: POLL_EVERY,
        }
    }

    /// We ask now: the next time after the current wait, which doubles.
    pub(super) fn asked(&mut self, now: Instant) {
        self.at = now + self.every;
        self.every = (self.every * 2).min(POLL_MAX);
    }

    /// A sign the room may have moved: ask within [`POLL_EVERY`] (never later than already
    /// due), and that often again for a while.
    pub(super) fn soon(&mut self, now: Instant) {
        self.every = POLL_EVERY;
        self.at = self.at.min(now + POLL_EVERY);
    }

    /// Keep asking often, without moving the next time forward.
    pub(super) fn keep_often(&mut self) {
        self.every = POLL_EVERY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_answers_space_the_requests_out_to_the_longest_wait() {
        let start = Instant::now();
        let mut poll = PollSchedule::new(start);
        let mut waits = Vec::new();
        let mut now = poll.at;
        for _ in 0..8 {
            poll.asked(now);
            waits.push((poll.at - now).as_secs());
            now = poll.at;
        }
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 64, 64]);
    }

    #[test]
    fn a_sign_of_change_brings_the_next_request_forward_and_makes_them_often_again() {
        let start = Instant::now();
        let mut poll = PollSchedule::new(start);
        let mut now = start;
        for _ in 0..6 {
            now = poll.at;
            poll.asked(now);
        }
        assert_eq!(poll.at - now, POLL_MAX);
        let later = now + Duration::from_secs(5);
        poll.soon(later);
        assert_eq!(poll.at, later + POLL_EVERY);
        poll.asked(poll.at);
        assert_eq!(poll.every, POLL_EVERY * 2);
        // A request already due sooner stays as it is.
        let due = poll.at;
        poll.soon(due - Duration::from_secs(1));
        assert_eq!(poll.at, due);
    }

    #[test]
    fn keeping_requests_often_leaves_the_next_one_where_it_is() {
        let start = Instant::now();
        let mut poll = PollSchedule::new(start);
        for _ in 0..4 {
            let now = poll.at;
            poll.asked(now);
        }
        let due = poll.at;
        poll.keep_often();
        assert_eq!(poll.at, due);
        poll.asked(due);
        assert_eq!(poll.at, due + POLL_EVERY);
    }
}

//! Pacing our own lines to the rate receivers allow. Every member drops what an author sends
//! above its rate limit (see [`crate::proto::limits`]), so a bot piping a build log used to
//! lose most of it without a word. The sender now keeps a bucket of its own, a little under
//! what receivers allow (so clock and delivery jitter never push it over), and lines beyond it
//! wait in the same queue as lines typed before joining: they go out, in order, as tokens come
//! back, each reported `MessageSent` only then. How many wait is reported as
//! [`Event::Queued`] whenever it changes, at most once per input.

use super::{Event, Output, Room};
use crate::proto::Now;
use crate::proto::limits::RateLimit;

/// Our own pace: this share of the rate receivers allow...
const RATE_SHARE: f64 = 0.9;
/// ...and this share of their burst.
const BURST_SHARE: f64 = 0.8;

/// The bucket our own lines are paced by, for receivers that allow `limit`.
pub(super) fn own_pace(limit: RateLimit) -> RateLimit {
    RateLimit {
        per_second: limit.per_second * RATE_SHARE,
        burst: ((f64::from(limit.burst) * BURST_SHARE) as u32).max(1),
    }
}

impl Room {
    /// Whether a line of `bytes` may go out now; takes its tokens. Lines waiting go first:
    /// order is kept.
    pub(super) fn may_send_now(&mut self, bytes: usize, now: Now) -> bool {
        self.is_joined() && self.queue.is_empty() && self.take_pace_tokens(bytes, now).is_ok()
    }

    /// A line's token and its bytes' (receivers limit both), both or neither; else how long
    /// until both are there.
    fn take_pace_tokens(&mut self, bytes: usize, now: Now) -> Result<(), std::time::Duration> {
        let (line, size) = (self.pace_limit, own_pace(self.config.limits.bytes));
        let n = bytes as f64;
        let wait_line = self.pace.has(line, 1.0, now.at).err();
        let wait_bytes = self.pace_bytes.has(size, n, now.at).err();
        if let Some(wait) = wait_line.into_iter().chain(wait_bytes).max() {
            return Err(wait);
        }
        self.pace.take(line, now.at)?;
        self.pace_bytes.take_n(size, n, now.at)
    }

    /// Send what waits, as far as the pace allows; remember when the next one may go.
    pub(super) fn send_queued(&mut self, now: Now, out: &mut Vec<Output>) {
        self.pace_due = None;
        if !self.is_joined() {
            return;
        }
        while let Some(bytes) = self.queue.front().map(|(bytes, _)| bytes.len()) {
            match self.take_pace_tokens(bytes, now) {
                Ok(()) => {
                    if let Some((bytes, line)) = self.queue.pop_front() {
                        self.sent(bytes, line, out);
                    }
                }
                Err(wait) => {
                    self.pace_due = Some(now.at + wait);
                    return;
                }
            }
        }
    }

    /// When a waiting line may go out (only while joined: otherwise a neighbour sends them).
    pub(super) fn pace_deadline(&self) -> Option<std::time::Instant> {
        self.pace_due
            .filter(|_| self.is_joined() && !self.queue.is_empty())
    }

    /// Report how many lines wait, if that changed since the last report.
    pub(super) fn report_queue(&mut self, out: &mut Vec<Output>) {
        let waiting = self.queue.len();
        if waiting != self.reported_queue {
            self.reported_queue = waiting;
            out.push(Output::Event(Event::Queued(waiting)));
        }
    }
}

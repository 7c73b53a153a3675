//! Rate limits per author: a token bucket per key and kind of message (and one for the bytes
//! of its lines), checked after the signature (so nobody can spend another's tokens) and
//! before anything is stored or shown. Excess is dropped and counted; each flooding sender is
//! reported at most once a minute.
//!
//! Keys cost nothing to make, so per-key limits alone let one member with a thousand keys send
//! a thousand times a member's share. Lines from keys first heard recently (less than
//! [`NEWCOMER_FOR`] ago) therefore draw on one allowance together, besides their own limits,
//! and so do lines any key not met before brings in a catch-up answer (see [`Newcomers`]).
//! Who was there before us is no newcomer: members restored from disk, and keys heard in the
//! first [`JOIN_GRACE`] after we joined (a newcomer to a room of hundreds hears them all at
//! once). Newcomers' presence shares an allowance too (a thousand keys reannouncing themselves
//! cost a signature check each); questions keep per-key limits only.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::EndpointId;

mod newcomers;

use newcomers::Newcomers;
pub use newcomers::{JOIN_GRACE, MAX_ESTABLISHED, NEWCOMER_FOR};

/// A sustained rate with a burst on top.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

/// Defaults a human or a chatty bot never meets; presence kinds far lower, as each member
/// sends one heartbeat per 30 s. A member's own answers plus heartbeats and renames must stay
/// under what others allow it for presence, or questions from fresh keys would make honest
/// members look like flooders: answers 0.2/s + heartbeats 0.033/s < presence 0.5/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Chat lines (`Message`).
    pub messages: RateLimit,
    /// The bytes of those lines: 20 lines a second of 32 KiB would be 2 GB an hour on every
    /// member's disk.
    pub bytes: RateLimit,
    /// `AboutMe` and `Leave`: heartbeats, renames.
    pub presence: RateLimit,
    /// `WhoIsThere`: each makes every member answer.
    pub questions: RateLimit,
    /// Our own answers to `WhoIsThere`, in total: one answer serves every newcomer that asked
    /// meanwhile, so however many ask, the room sees this many.
    pub answers: RateLimit,
}

/// Lines a second shown from one member by default (`max_rate`).
pub const DEFAULT_MESSAGES_PER_SECOND: f64 = 20.0;
/// Bytes of lines a second from one member: a pasted block of 32 KiB now and then, a bot
/// piping a log of 200-byte lines at the line rate, both far under it.
pub const DEFAULT_BYTES: RateLimit = RateLimit {
    per_second: 64.0 * 1024.0,
    burst: 512 * 1024,
};

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            messages: RateLimit {
                per_second: DEFAULT_MESSAGES_PER_SECOND,
                burst: 50,
            },
            bytes: DEFAULT_BYTES,
            presence: RateLimit {
                per_second: 0.5,
                burst: 10,
            },
            questions: RateLimit {
                per_second: 0.05,
                burst: 3,
            },
            answers: RateLimit {
                per_second: 0.2,
                burst: 3,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Message,
    Presence,
    Question,
    /// The bytes of lines.
    Bytes,
}

/// Buckets kept at most; a full bucket equals a fresh one, so those go first.
const MAX_BUCKETS: usize = 16_384;
/// Flooding senders tracked for reports at most.
const MAX_REPORTS: usize = 1024;
/// The first report waits this long to count a burst, then one per [`REPORT_INTERVAL`].
const FIRST_REPORT_AFTER: Duration = Duration::from_secs(1);
pub const REPORT_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub fn full(limit: RateLimit, now: Instant) -> Self {
        Self {
            tokens: f64::from(limit.burst),
            at: now,
        }
    }

    fn refill(&mut self, limit: RateLimit, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * limit.per_second).min(f64::from(limit.burst));
        self.at = now;
    }

    /// Take a token, or say how long until one is there.
    pub fn take(&mut self, limit: RateLimit, now: Instant) -> Result<(), Duration> {
        self.take_n(limit, 1.0, now)
    }

    /// Take `n` tokens (at most a burst's worth), or say how long until they are there.
    pub fn take_n(&mut self, limit: RateLimit, n: f64, now: Instant) -> Result<(), Duration> {
        self.has(limit, n, now)?;
        self.tokens -= n.min(f64::from(limit.burst));
        Ok(())
    }

    /// Whether `n` tokens (at most a burst's worth) are there, taking none.
    pub fn has(&mut self, limit: RateLimit, n: f64, now: Instant) -> Result<(), Duration> {
        self.refill(limit, now);
        let n = n.min(f64::from(limit.burst));
        if self.tokens >= n {
            return Ok(());
        }
        if limit.per_second <= 0.0 {
            return Err(Duration::MAX);
        }
        let wait = (n - self.tokens) / limit.per_second;
        Err(Duration::from_secs_f64(wait.min(86_400.0)))
    }

    fn is_full(&self, limit: RateLimit, now: Instant) -> bool {
        let mut copy = *self;
        copy.refill(limit, now);
        copy.tokens >= f64::from(limit.burst)
    }
}

fn limit_of(limits: &RateLimits, kind: Kind) -> RateLimit {
    match kind {
        Kind::Message => limits.messages,
        Kind::Presence => limits.presence,
        Kind::Question => limits.questions,
        Kind::Bytes => limits.bytes,
    }
}

#[derive(Debug)]
struct Report {
    dropped: u64,
    due: Instant,
}

#[derive(Debug)]
pub struct Limiter {
    limits: RateLimits,
    buckets: HashMap<(EndpointId, Kind), Bucket>,
    reports: HashMap<EndpointId, Report>,
    newcomers: Newcomers,
}

/// See [`Limiter::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub junk: bool,
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            buckets: HashMap::new(),
            reports: HashMap::new(),
            newcomers: Newcomers::default(),
        }
    }

    fn limit(&self, kind: Kind) -> RateLimit {
        limit_of(&self.limits, kind)
    }

    /// Whether `author` may send one more `kind` of `bytes` (lines: their envelope; else 0)
    /// now, within its own limits and, while it is not let in, the newcomers' shared one; a
    /// refusal is counted for its report.
    pub fn allow_sized(
        &mut self,
        author: EndpointId,
        kind: Kind,
        bytes: usize,
        now: Instant,
    ) -> bool {
        if !self.allow(author, kind, now) {
            return false;
        }
        if bytes > 0 && !self.allow_n(author, Kind::Bytes, bytes as f64, now) {
            return false;
        }
        // Any kind tells when a key was first heard; only lines draw on the shared allowance.
        if self.newcomers.let_in(author, now) || kind != Kind::Message {
            return true;
        }
        let ok = self
            .newcomers
            .take(kind, false, self.limits.messages, 1.0, now)
            && (bytes == 0
                || self
                    .newcomers
                    .take(Kind::Bytes, false, self.limits.bytes, bytes as f64, now));
        if !ok {
            self.count_drop(author, now);
        }
        ok
    }

    /// Whether `author` may send one more `kind` now; a refusal is counted for its report.
    pub fn allow(&mut self, author: EndpointId, kind: Kind, now: Instant) -> bool {
        self.allow_n(author, kind, 1.0, now)
    }

    fn allow_n(&mut self, author: EndpointId, kind: Kind, n: f64, now: Instant) -> bool {
        let limit = self.limit(kind);
        if !self.buckets.contains_key(&(author, kind)) && self.buckets.len() >= MAX_BUCKETS {
            self.shed_buckets(now);
        }
        let bucket = self
            .buckets
            .entry((author, kind))
            .or_insert_with(|| Bucket::full(limit, now));
        if bucket.take_n(limit, n, now).is_ok() {
            return true;
        }
        self.count_drop(author, now);
        false
    }

    fn shed_buckets(&mut self, now: Instant) {
        let limits = self.limits;
        self.buckets
            .retain(|(_, kind), b| !b.is_full(limit_of(&limits, *kind), now));
        if self.buckets.len() >= MAX_BUCKETS {
            // Thousands of fresh keys all draining their buckets: forget the half touched
            // longest ago. A flooder's bucket is touched all the time and stays empty.
            let mut touched: Vec<Instant> = self.buckets.values().map(|b| b.at).collect();
            touched.sort_unstable();
            let cut = touched[touched.len() / 2];
            self.buckets.retain(|_, b| b.at > cut);
        }
    }

    fn count_drop(&mut self, author: EndpointId, now: Instant) {
        if let Some(report) = self.reports.get_mut(&author) {
            report.dropped += 1;
            return;
        }
        if self.reports.len() >= MAX_REPORTS {
            self.reports.retain(|_, r| r.dropped > 0);
            if self.reports.len() >= MAX_REPORTS {
                return;
            }
        }
        self.reports.insert(
            author,
            Report {
                dropped: 1,
                due: now + FIRST_REPORT_AFTER,
            },
        );
    }

    /// Senders whose drops are due to be reported, with how many since the last report.
    pub fn due_reports(&mut self, now: Instant) -> Vec<(EndpointId, u64)> {
        let mut due = Vec::new();
        self.reports.retain(|author, report| {
            if report.due > now {
                return true;
            }
            if report.dropped == 0 {
                return false;
            }
            due.push((*author, std::mem::take(&mut report.dropped)));
            report.due = now + REPORT_INTERVAL;
            true
        });
        due.sort();
        due
    }

    /// When the next report is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.reports
            .values()
            .filter(|r| r.dropped > 0)
            .map(|r| r.due)
            .min()
    }
}

#[cfg(test)]
mod tests;

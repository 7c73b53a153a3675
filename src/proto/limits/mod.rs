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
//! once). Presence and questions keep per-key limits only: what they make us hold is bounded
//! by the member list's own caps.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::EndpointId;

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
/// How long a key first heard after we joined shares the newcomers' allowance.
pub const NEWCOMER_FOR: Duration = Duration::from_secs(600);
/// Keys heard this soon after we joined were there before us.
pub const JOIN_GRACE: Duration = Duration::from_secs(60);
/// Keys with a share of their own at most, and newcomers followed at most (past it, new keys
/// stay newcomers).
pub const MAX_ESTABLISHED: usize = 16_384;
/// Presence all newcomers together send without it counting as junk against the neighbour
/// that relays it (it is not dropped: each key keeps its own presence limit): a few dozen
/// people arriving at once, not a thousand keys announcing themselves.
const NEWCOMERS_PRESENCE: RateLimit = RateLimit {
    per_second: 2.0,
    burst: 64,
};
/// What catch-up answers may bring from keys we have not met: paging through a long outage
/// (thousands of lines, most by members who left before we came) goes whole; a neighbour
/// answering every catch-up with minted keys' lines churns our disk at a bounded rate, within
/// the room's byte budget (`store::retention`).
const NEWCOMERS_HISTORY: RateLimit = RateLimit {
    per_second: 200.0,
    burst: 10_000,
};
const NEWCOMERS_HISTORY_BYTES: RateLimit = RateLimit {
    per_second: 1024.0 * 1024.0,
    burst: 32 << 20,
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

/// Keys with a share of their own, newcomers, and the allowance newcomers share.
#[derive(Debug, Default)]
struct Newcomers {
    established: std::collections::HashSet<EndpointId>,
    /// When each newcomer was first heard.
    first_heard: HashMap<EndpointId, Instant>,
    /// Until when keys heard are taken as there before us.
    grace_until: Option<Instant>,
    /// [`Kind::Message`] and [`Kind::Bytes`], live (`false`) and from catch-up answers.
    shared: HashMap<(Kind, bool), Bucket>,
}

impl Newcomers {
    /// Whether `author`, heard live, has a share of its own.
    fn let_in(&mut self, author: EndpointId, now: Instant) -> bool {
        if self.established.contains(&author) {
            return true;
        }
        let full = self.established.len() >= MAX_ESTABLISHED;
        let before_us = self.grace_until.is_none_or(|until| now < until);
        let first = match self.first_heard.get(&author) {
            Some(first) => *first,
            None if full || self.first_heard.len() >= MAX_ESTABLISHED => return false,
            None if before_us => now - NEWCOMER_FOR,
            None => {
                self.first_heard.insert(author, now);
                now
            }
        };
        if full || now.saturating_duration_since(first) < NEWCOMER_FOR {
            return false;
        }
        self.first_heard.remove(&author);
        self.established.insert(author);
        true
    }

    /// Take `n` from the shared allowance for `kind` (`history`: from catch-up answers).
    fn take(&mut self, kind: Kind, history: bool, limit: RateLimit, n: f64, now: Instant) -> bool {
        self.shared
            .entry((kind, history))
            .or_insert_with(|| Bucket::full(limit, now))
            .take_n(limit, n, now)
            .is_ok()
    }
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

    /// Whether `id` has a share of its own (restored, there before us, or heard long enough).
    pub fn is_established(&self, id: &EndpointId) -> bool {
        self.newcomers.established.contains(id)
    }

    /// We joined at `now`: keys heard in the next [`JOIN_GRACE`] were there before us.
    pub fn joined(&mut self, now: Instant) {
        self.newcomers.grace_until = Some(now + JOIN_GRACE);
    }

    /// These keys have a share of their own (members restored from disk).
    pub fn establish(&mut self, ids: impl IntoIterator<Item = EndpointId>) {
        for id in ids {
            if self.newcomers.established.len() >= MAX_ESTABLISHED {
                break;
            }
            self.newcomers.established.insert(id);
        }
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

    /// What the limits make of one live envelope (see [`Limiter::allow_sized`]): whether it
    /// is shown, and whether it is junk to count against the neighbour that relayed it: a
    /// newcomer's envelope dropped, or its presence past what newcomers send together (shown
    /// all the same: each key keeps its own presence limit).
    pub fn check(&mut self, author: EndpointId, kind: Kind, bytes: usize, now: Instant) -> Verdict {
        let allowed = self.allow_sized(author, kind, bytes, now);
        let newcomer = !self.newcomers.established.contains(&author);
        let junk = newcomer
            && match kind {
                _ if !allowed => true,
                Kind::Presence => {
                    !self
                        .newcomers
                        .take(Kind::Presence, false, NEWCOMERS_PRESENCE, 1.0, now)
                }
                _ => false,
            };
        Verdict { allowed, junk }
    }

    /// Whether a line of `bytes` by `author` from a catch-up answer is kept: always from a
    /// key let in; from others, while the newcomers' catch-up allowance lasts.
    pub fn allow_history(&mut self, author: EndpointId, bytes: usize, now: Instant) -> bool {
        if self.newcomers.established.contains(&author) {
            return true;
        }
        let ok = self
            .newcomers
            .take(Kind::Message, true, NEWCOMERS_HISTORY, 1.0, now)
            && self.newcomers.take(
                Kind::Bytes,
                true,
                NEWCOMERS_HISTORY_BYTES,
                bytes as f64,
                now,
            );
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
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    #[test]
    fn a_flood_is_cut_to_the_rate_and_reported_once_a_minute() {
        let flooder = SecretKey::from_bytes(&[1; 32]).public();
        let honest = SecretKey::from_bytes(&[2; 32]).public();
        let mut limiter = Limiter::new(RateLimits::default());
        let start = Instant::now();
        // 200 lines a second for 10 s (10x the limit).
        let mut allowed = 0;
        for i in 0..2000u64 {
            let at = start + Duration::from_millis(i * 5);
            if limiter.allow(flooder, Kind::Message, at) {
                allowed += 1;
            }
            if i % 25 == 0 {
                assert!(
                    limiter.allow(honest, Kind::Message, at),
                    "8 lines a second pass"
                );
            }
        }
        // The burst of 50, then 20 a second for the 10 s.
        assert!((240..=252).contains(&allowed), "{allowed}");
        let first = limiter.due_reports(start + Duration::from_secs(10));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].0, flooder);
        assert_eq!(first[0].1, 2000 - allowed);
        // More drops within the minute wait for the next report.
        let later = start + Duration::from_secs(10);
        while limiter.allow(flooder, Kind::Message, later) {}
        assert!(
            limiter
                .due_reports(start + Duration::from_secs(30))
                .is_empty()
        );
        let next = limiter.next_deadline().expect("a report is pending");
        assert_eq!(limiter.due_reports(next), vec![(flooder, 1)]);
    }

    #[test]
    fn kinds_have_their_own_buckets_and_memory_is_bounded() {
        let mut limiter = Limiter::new(RateLimits::default());
        let now = Instant::now();
        let a = SecretKey::from_bytes(&[3; 32]).public();
        for _ in 0..3 {
            assert!(limiter.allow(a, Kind::Question, now));
        }
        assert!(!limiter.allow(a, Kind::Question, now));
        assert!(limiter.allow(a, Kind::Presence, now));
        for n in 0..(MAX_BUCKETS as u32 + 10) {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&n.to_le_bytes());
            let key = SecretKey::from_bytes(&seed).public();
            limiter.allow(key, Kind::Message, now);
        }
        assert!(limiter.buckets.len() <= MAX_BUCKETS);
    }

    #[test]
    fn a_bucket_says_how_long_to_wait() {
        let limit = RateLimit {
            per_second: 0.5,
            burst: 1,
        };
        let now = Instant::now();
        let mut bucket = Bucket::full(limit, now);
        assert!(bucket.take(limit, now).is_ok());
        assert_eq!(bucket.take(limit, now), Err(Duration::from_secs(2)));
        assert!(bucket.take(limit, now + Duration::from_secs(2)).is_ok());
    }

    fn key(n: u32) -> EndpointId {
        let mut seed = [9u8; 32];
        seed[..4].copy_from_slice(&n.to_le_bytes());
        SecretKey::from_bytes(&seed).public()
    }

    #[test]
    fn keys_first_heard_after_we_joined_share_one_allowance_until_they_are_old() {
        let mut limiter = Limiter::new(RateLimits::default());
        let start = Instant::now();
        limiter.joined(start);
        let member = key(0);
        assert!(limiter.allow_sized(member, Kind::Message, 100, start));
        // Two minutes later, 500 fresh keys each send a line a second for 10 s.
        let later = start + Duration::from_secs(120);
        let mut allowed = 0;
        let mut member_allowed = 0;
        for s in 0..10u64 {
            let at = later + Duration::from_secs(s);
            for n in 1..=500 {
                if limiter.allow_sized(key(n), Kind::Message, 100, at) {
                    allowed += 1;
                }
            }
            if limiter.allow_sized(member, Kind::Message, 100, at) {
                member_allowed += 1;
            }
        }
        let one = RateLimits::default().messages;
        let share = f64::from(one.burst) + 10.0 * one.per_second;
        assert!(f64::from(allowed) <= share + 1.0, "{allowed} of 5,000");
        assert_eq!(member_allowed, 10, "a member keeps its own share");
        // Ten minutes on, a newcomer has a share of its own.
        let old = later + NEWCOMER_FOR + Duration::from_secs(1);
        let passed = (0..40).filter(|_| limiter.allow_sized(key(1), Kind::Message, 100, old));
        assert_eq!(passed.count(), 40);
    }

    #[test]
    fn keys_heard_as_we_join_and_restored_ones_are_no_newcomers() {
        let mut limiter = Limiter::new(RateLimits::default());
        let start = Instant::now();
        limiter.establish([key(7)]);
        limiter.joined(start);
        let soon = start + Duration::from_secs(5);
        for n in 0..300 {
            // Each of a large room's members, heard at once as we join.
            assert!(limiter.allow_sized(key(100 + n), Kind::Message, 100, soon));
        }
        let much_later = start + Duration::from_secs(3600);
        let passed =
            (0..40).filter(|_| limiter.allow_sized(key(7), Kind::Message, 100, much_later));
        assert_eq!(passed.count(), 40);
    }

    #[test]
    fn a_key_is_limited_in_bytes_too() {
        let mut limiter = Limiter::new(RateLimits::default());
        let start = Instant::now();
        let big = key(3);
        let mut bytes = 0;
        // 20 lines of 32 KiB a second for 10 s: within the line rate, far over the byte rate.
        for i in 0..200u64 {
            let at = start + Duration::from_millis(i * 50);
            if limiter.allow_sized(big, Kind::Message, 32 * 1024, at) {
                bytes += 32 * 1024;
            }
        }
        let limit = RateLimits::default().bytes;
        let most = f64::from(limit.burst) + 10.0 * limit.per_second;
        assert!(f64::from(bytes) <= most + 32.0 * 1024.0, "{bytes}");
        assert!(bytes >= 512 * 1024);
    }

    #[test]
    fn catch_up_lines_from_unknown_keys_share_an_allowance() {
        let mut limiter = Limiter::new(RateLimits::default());
        let now = Instant::now();
        limiter.establish([key(1)]);
        let kept = (0..20_000u32)
            .filter(|n| limiter.allow_history(key(1_000 + n % 1_000), 100, now))
            .count();
        assert_eq!(kept, NEWCOMERS_HISTORY.burst as usize);
        assert!((0..20_000).all(|_| limiter.allow_history(key(1), 100, now)));
    }
}

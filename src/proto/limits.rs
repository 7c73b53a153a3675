//! Rate limits per author: a token bucket per key and kind of message, checked after the
//! signature (so nobody can spend another's tokens) and before anything is stored or shown.
//! Excess is dropped and counted; each flooding sender is reported at most once a minute.

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

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            messages: RateLimit {
                per_second: DEFAULT_MESSAGES_PER_SECOND,
                burst: 50,
            },
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
        self.refill(limit, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if limit.per_second <= 0.0 {
            return Err(Duration::MAX);
        }
        let wait = (1.0 - self.tokens) / limit.per_second;
        Err(Duration::from_secs_f64(wait.min(86_400.0)))
    }

    fn is_full(&self, limit: RateLimit, now: Instant) -> bool {
        let mut copy = *self;
        copy.refill(limit, now);
        copy.tokens >= f64::from(limit.burst)
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
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            buckets: HashMap::new(),
            reports: HashMap::new(),
        }
    }

    fn limit(&self, kind: Kind) -> RateLimit {
        match kind {
            Kind::Message => self.limits.messages,
            Kind::Presence => self.limits.presence,
            Kind::Question => self.limits.questions,
        }
    }

    /// Whether `author` may send one more `kind` now; a refusal is counted for its report.
    pub fn allow(&mut self, author: EndpointId, kind: Kind, now: Instant) -> bool {
        let limit = self.limit(kind);
        if !self.buckets.contains_key(&(author, kind)) && self.buckets.len() >= MAX_BUCKETS {
            self.shed_buckets(now);
        }
        let bucket = self
            .buckets
            .entry((author, kind))
            .or_insert_with(|| Bucket::full(limit, now));
        if bucket.take(limit, now).is_ok() {
            return true;
        }
        self.count_drop(author, now);
        false
    }

    fn shed_buckets(&mut self, now: Instant) {
        let limits = self.limits;
        let limit = |kind| match kind {
            Kind::Message => limits.messages,
            Kind::Presence => limits.presence,
            Kind::Question => limits.questions,
        };
        self.buckets
            .retain(|(_, kind), b| !b.is_full(limit(*kind), now));
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
}

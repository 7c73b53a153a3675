//! Keys first heard recently share one allowance (see the module above): who is a newcomer,
//! the allowance they share, and what the limits make of a live envelope.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Bucket, Kind, Limiter, RateLimit, Verdict};
use crate::proto::EndpointId;

/// How long a key first heard after we joined shares the newcomers' allowance.
pub const NEWCOMER_FOR: Duration = Duration::from_secs(600);
/// Keys heard this soon after we joined were there before us.
pub const JOIN_GRACE: Duration = Duration::from_secs(60);
/// Keys with a share of their own at most, and newcomers followed at most (past it, new keys
/// stay newcomers).
pub const MAX_ESTABLISHED: usize = 16_384;
/// Presence all newcomers together send (past it dropped, and junk against the neighbour that
/// relays it): a few dozen people arriving at once, not a thousand keys announcing themselves
/// every time their node comes back. Honest newcomers past it show at their next heartbeat.
const NEWCOMERS_PRESENCE: RateLimit = RateLimit {
    per_second: 2.0,
    burst: 64,
};
/// What catch-up answers may bring from keys we have not met: paging through a long outage
/// (thousands of lines, most by members who left before we came) goes whole; a neighbour
/// answering every catch-up with minted keys' lines churns our disk at a bounded rate, within
/// the room's byte budget (`store::retention`).
pub(super) const NEWCOMERS_HISTORY: RateLimit = RateLimit {
    per_second: 200.0,
    burst: 10_000,
};
const NEWCOMERS_HISTORY_BYTES: RateLimit = RateLimit {
    per_second: 1024.0 * 1024.0,
    burst: 32 << 20,
};

/// Keys with a share of their own, newcomers, and the allowance newcomers share.
#[derive(Debug, Default)]
pub(super) struct Newcomers {
    pub(super) established: std::collections::HashSet<EndpointId>,
    /// When each newcomer was first heard.
    pub(super) first_heard: HashMap<EndpointId, Instant>,
    /// Until when keys heard are taken as there before us.
    pub(super) grace_until: Option<Instant>,
    /// [`Kind::Message`] and [`Kind::Bytes`], live (`false`) and from catch-up answers.
    pub(super) shared: HashMap<(Kind, bool), Bucket>,
}

impl Newcomers {
    /// Whether `author`, heard live, has a share of its own.
    pub(super) fn let_in(&mut self, author: EndpointId, now: Instant) -> bool {
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

    /// Whether [`Newcomers::let_in`] would let `author` in now (changing nothing).
    fn lets_in(&self, author: &EndpointId, now: Instant) -> bool {
        self.established.contains(author)
            || self.grace_until.is_none_or(|until| now < until)
            || self
                .first_heard
                .get(author)
                .is_some_and(|first| now.saturating_duration_since(*first) >= NEWCOMER_FOR)
    }

    /// Take `n` from the shared allowance for `kind` (`history`: from catch-up answers).
    pub(super) fn take(
        &mut self,
        kind: Kind,
        history: bool,
        limit: RateLimit,
        n: f64,
        now: Instant,
    ) -> bool {
        self.shared
            .entry((kind, history))
            .or_insert_with(|| Bucket::full(limit, now))
            .take_n(limit, n, now)
            .is_ok()
    }
}

impl Limiter {
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

    /// What the limits make of one live envelope (see [`Limiter::allow_sized`]): whether it
    /// is shown, and whether it is junk to count against the neighbour that relayed it: a
    /// newcomer's envelope dropped (its lines or presence past what newcomers send together).
    pub fn check(&mut self, author: EndpointId, kind: Kind, bytes: usize, now: Instant) -> Verdict {
        let mut allowed = self.allow_sized(author, kind, bytes, now);
        let newcomer = !self.newcomers.established.contains(&author);
        if allowed && newcomer && kind == Kind::Presence {
            allowed = self
                .newcomers
                .take(Kind::Presence, false, NEWCOMERS_PRESENCE, 1.0, now);
        }
        Verdict {
            allowed,
            junk: newcomer && !allowed,
        }
    }

    /// Whether [`Limiter::refuses_unread`] could refuse anything of `author` now: it is a
    /// newcomer, or one of its own allowances is spent. Members within their limits (every
    /// honest line) need no look at the body.
    pub fn may_refuse_unread(&mut self, author: EndpointId, now: Instant) -> bool {
        if !self.newcomers.lets_in(&author, now) {
            return true;
        }
        [Kind::Message, Kind::Presence, Kind::Question]
            .into_iter()
            .any(|kind| self.own_spent(author, kind, now))
    }

    /// Whether `author`'s own allowance for `kind` is spent (taking nothing).
    fn own_spent(&mut self, author: EndpointId, kind: Kind, now: Instant) -> bool {
        let limit = self.limit(kind);
        self.buckets
            .get_mut(&(author, kind))
            .is_some_and(|b| b.has(limit, 1.0, now).is_err())
    }

    /// What [`Limiter::check`] will say of an envelope by `author` of `kind`, judged before
    /// it is verified, when that is sure to be a refusal: the author's own allowance for
    /// `kind` is spent, or it is a newcomer and what newcomers share for `kind` is. Checking a
    /// signature costs ~50 µs on one thread that does everything: a thousand minted keys
    /// reannouncing through each node they come back with held an honest line ~25 ms. Takes
    /// nothing and records nothing (an envelope nobody verified must not spend anyone's
    /// allowance: a forger naming someone's key cannot silence them).
    pub fn refuses_unread(
        &mut self,
        author: EndpointId,
        kind: Kind,
        now: Instant,
    ) -> Option<Verdict> {
        let newcomer = !self.newcomers.lets_in(&author, now);
        if self.own_spent(author, kind, now) {
            // Counted for its report: verified envelopes spent that allowance, so the key is
            // flooding; a forger can only add to the count of a key that is.
            self.count_drop(author, now);
            return Some(Verdict {
                allowed: false,
                junk: newcomer,
            });
        }
        let shared = match kind {
            Kind::Message => self.limits.messages,
            Kind::Presence => NEWCOMERS_PRESENCE,
            _ => return None,
        };
        let shared_spent = self
            .newcomers
            .shared
            .get_mut(&(kind, false))
            .is_some_and(|b| b.has(shared, 1.0, now).is_err());
        (newcomer && shared_spent).then_some(Verdict {
            allowed: false,
            junk: true,
        })
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
}

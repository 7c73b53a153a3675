//! A neighbour that keeps delivering junk has its gossip cut for a while (`net::guard`), in
//! public rooms as in private ones: envelopes no honest peer sends (that fail to parse or
//! verify: each costs us a signature check), and lines of keys first heard recently past
//! what they may send together (a flood of minted keys, which gossip would otherwise keep
//! relaying at full rate: it forwards before anyone checks).
//!
//! Gossip forwards before anyone checks, so an honest neighbour relays a flooder's junk too:
//! keys with a share of their own (members from before us, or heard for long; see
//! `proto::limits`) are never cut. A flooder's own neighbours cut it off, which is where a
//! flood stops.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::SessionEvent;
use super::actor::Actor;
use crate::proto::EndpointId;

/// Junk envelopes a neighbour may deliver per [`WINDOW`].
pub(super) const BUDGET: u32 = 64;
pub(super) const WINDOW: Duration = Duration::from_secs(60);
/// How long its gossip is cut.
pub(super) const CUT_FOR: Duration = Duration::from_secs(120);
/// Neighbours counted at once (gossip keeps few; more means churn, and counts start over).
const MAX_COUNTED: usize = 64;

/// Per neighbour: how many in the current window, and when it began.
#[derive(Debug, Default)]
pub(super) struct InvalidCounts(HashMap<EndpointId, (u32, Instant)>);

impl InvalidCounts {
    /// Count one from `from` at `now`; `true` when that spends its budget.
    fn count(&mut self, from: EndpointId, now: Instant) -> bool {
        if self.0.len() >= MAX_COUNTED && !self.0.contains_key(&from) {
            self.0.clear();
        }
        let (count, since) = self.0.entry(from).or_insert((0, now));
        if now.saturating_duration_since(*since) > WINDOW {
            *count = 0;
            *since = now;
        }
        *count += 1;
        if *count < BUDGET {
            return false;
        }
        self.0.remove(&from);
        true
    }
}

impl Actor {
    /// The neighbour `from` delivered a junk envelope.
    pub(super) fn invalid_from(&mut self, from: EndpointId) {
        if self.room.is_established(&from) || !self.invalid.count(from, Instant::now()) {
            return;
        }
        if self.node.block_gossip(from, CUT_FOR) {
            tracing::warn!(peer = %from.fmt_short(), "cut off a neighbour sending invalid envelopes");
            self.outbox.push_now(SessionEvent::Warning(format!(
                "{} sent {BUDGET} envelopes within a minute that do not verify or that new keys may not send (forged, damaged, or a flood of new keys): its gossip is cut here for {} min",
                from.fmt_short(),
                CUT_FOR.as_secs() / 60
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    #[test]
    fn a_budget_per_neighbour_per_window() {
        let mut counts = InvalidCounts::default();
        let (eve, bob) = (
            SecretKey::generate().public(),
            SecretKey::generate().public(),
        );
        let start = Instant::now();
        for n in 1..BUDGET {
            assert!(!counts.count(eve, start), "{n}");
        }
        assert!(!counts.count(bob, start), "counted apart");
        assert!(counts.count(eve, start), "the 64th within a minute");
        // A few now and then never add up.
        let mut at = start;
        for _ in 0..200 {
            at += WINDOW / 8;
            assert!(!counts.count(bob, at));
        }
    }
}

//! Our messages waiting for delivery, per peer, and when to try each peer next. Pure: the
//! actor feeds it the clock.
//!
//! A peer's messages go in (sent, id) order, one delivery round at a time over one
//! connection. A round that fails waits 1 s, doubling to 5 min; `send` and `seen` retry at
//! once.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use crate::proto::{EndpointId, MessageId, UnixMillis};

pub(super) const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Delivery rounds (connections) at once, in all.
pub(super) const MAX_ROUNDS: usize = 8;

/// One message of a round: its id and envelope.
pub(super) type Batch = Vec<(MessageId, Vec<u8>)>;

struct Peer {
    waiting: BTreeMap<(UnixMillis, MessageId), Vec<u8>>,
    backoff: Duration,
    due: Instant,
    in_round: bool,
}

#[derive(Default)]
pub(super) struct Outgoing {
    peers: HashMap<EndpointId, Peer>,
    rounds: usize,
}

impl Outgoing {
    /// Queue a message (a duplicate of one waiting changes nothing); its peer is due now.
    pub(super) fn add(
        &mut self,
        peer: EndpointId,
        sent: UnixMillis,
        id: MessageId,
        envelope: Vec<u8>,
        now: Instant,
    ) {
        let entry = self.peers.entry(peer).or_insert_with(|| Peer {
            waiting: BTreeMap::new(),
            backoff: FIRST_BACKOFF,
            due: now,
            in_round: false,
        });
        entry.waiting.insert((sent, id), envelope);
        entry.due = now;
    }

    /// The peer was seen online: try it now.
    pub(super) fn retry_now(&mut self, peer: &EndpointId, now: Instant) {
        if let Some(p) = self.peers.get_mut(peer) {
            p.due = now;
            p.backoff = FIRST_BACKOFF;
        }
    }

    /// Rounds to start now: peers due and not in a round, up to [`MAX_ROUNDS`] at once.
    pub(super) fn start_due(&mut self, now: Instant) -> Vec<(EndpointId, Batch)> {
        let mut started = Vec::new();
        for (peer, p) in self.peers.iter_mut() {
            if self.rounds >= MAX_ROUNDS {
                break;
            }
            if p.in_round || p.due > now || p.waiting.is_empty() {
                continue;
            }
            p.in_round = true;
            self.rounds += 1;
            let batch = p
                .waiting
                .iter()
                .map(|((_, id), envelope)| (*id, envelope.clone()))
                .collect();
            started.push((*peer, batch));
        }
        started
    }

    /// The peer saved one message.
    pub(super) fn acked(&mut self, peer: &EndpointId, id: &MessageId) {
        if let Some(p) = self.peers.get_mut(peer) {
            p.waiting.retain(|(_, waiting), _| waiting != id);
        }
    }

    /// A round ended: all sent (`ok`), or it stopped early. Messages queued meanwhile go in
    /// the next round, at once after a success.
    /// The peer was there but said "busy" (its limit for us, or its queue): again in a
    /// second, without growing the backoff that is for peers we cannot reach.
    pub(super) fn busy(&mut self, peer: &EndpointId, now: Instant) {
        self.round_done(peer, false, now);
        if let Some(p) = self.peers.get_mut(peer) {
            p.due = now + FIRST_BACKOFF;
            p.backoff = (p.backoff / 2).max(FIRST_BACKOFF);
        }
    }

    pub(super) fn round_done(&mut self, peer: &EndpointId, ok: bool, now: Instant) {
        let Some(p) = self.peers.get_mut(peer) else {
            return;
        };
        if p.in_round {
            p.in_round = false;
            self.rounds = self.rounds.saturating_sub(1);
        }
        if p.waiting.is_empty() {
            self.peers.remove(peer);
        } else if ok {
            p.backoff = FIRST_BACKOFF;
            p.due = now;
        } else {
            p.due = now + p.backoff;
            p.backoff = (p.backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// When the next waiting peer is due (none while every waiting peer is in a round).
    pub(super) fn next_due(&self) -> Option<Instant> {
        if self.rounds >= MAX_ROUNDS {
            return None;
        }
        self.peers
            .values()
            .filter(|p| !p.in_round && !p.waiting.is_empty())
            .map(|p| p.due)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    #[test]
    fn rounds_keep_order_back_off_and_retry_on_sight() {
        let peer = SecretKey::from_bytes(&[1; 32]).public();
        let now = Instant::now();
        let mut out = Outgoing::default();
        let (a, b) = (
            MessageId::from_bytes([2; 32]),
            MessageId::from_bytes([1; 32]),
        );
        out.add(peer, UnixMillis(20), a, b"later".to_vec(), now);
        out.add(peer, UnixMillis(10), b, b"first".to_vec(), now);
        let rounds = out.start_due(now);
        assert_eq!(rounds.len(), 1);
        let ids: Vec<_> = rounds[0].1.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [b, a]);
        // One round at a time per peer.
        assert!(out.start_due(now).is_empty());
        assert_eq!(out.next_due(), None);
        out.acked(&peer, &b);
        out.round_done(&peer, false, now);
        assert_eq!(out.next_due(), Some(now + FIRST_BACKOFF));
        let rounds = out.start_due(now + FIRST_BACKOFF);
        out.round_done(&peer, false, now);
        assert_eq!(rounds[0].1.len(), 1);
        assert_eq!(out.next_due(), Some(now + FIRST_BACKOFF * 2));
        out.retry_now(&peer, now);
        assert_eq!(out.next_due(), Some(now));
        out.start_due(now);
        out.acked(&peer, &a);
        out.round_done(&peer, true, now);
        assert_eq!(out.next_due(), None);
        assert!(out.peers.is_empty());
    }
}

//! Self-healing: when the room loses its last neighbour (link down, sleep, Wi-Fi change, every
//! member restarted on new ports), the session keeps dialing the peers it has known in the room
//! (and those the LAN says are in it) with a backoff capped at [`MAX_BACKOFF`] while the
//! network is up. Gossip on its own never re-dials once the idle and presence timeouts passed.
//!
//! While connected, members we knew that went silent (timed out) are dialed now and then
//! ([`PARTITION_CHECK`]): two halves of a room that both kept neighbours of their own would
//! otherwise never find each other again.
//!
//! Pure state: the actor feeds it the clock and neighbour counts and carries out the dials.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::model::{Connectivity, NetState};
use crate::proto::EndpointId;

/// The first retry after losing the last neighbour.
const FIRST_RETRY: Duration = Duration::from_millis(250);
/// Retries back off to this while the network is up.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// With no network at all, retry this seldom (an address change retries at once).
const OFFLINE_BACKOFF: Duration = Duration::from_secs(30);
/// How often a connected room dials members it lost track of.
const PARTITION_CHECK: Duration = Duration::from_secs(20);
/// Peers remembered per room, in each of the two tiers (most recent kept).
pub const MAX_KNOWN: usize = 16;
/// Peers dialed per attempt.
const MAX_DIALS: usize = 8;

#[derive(Debug)]
pub(super) struct Reconnect {
    /// Peers of this room we had a direct link with, or were given (ticket, store), least
    /// recently seen first. Dialed before `heard`.
    linked: VecDeque<EndpointId>,
    /// Members others told us about (their `AboutMe` came through gossip). A member can mint
    /// keys at will: they can fill only this tier, never push out peers we linked with.
    heard: VecDeque<EndpointId>,
    backoff: Duration,
    next: Option<Instant>,
    /// Last state reported; `None` until the room was first joined in this run (a fresh room
    /// nobody has joined yet, or a known room still dialing, is not "reconnecting"). From
    /// then on it is always the current state.
    reported: Option<NetState>,
}

impl Reconnect {
    pub(super) fn new(peers: impl IntoIterator<Item = EndpointId>) -> Self {
        let mut this = Self {
            linked: VecDeque::new(),
            heard: VecDeque::new(),
            backoff: FIRST_RETRY,
            next: None,
            reported: None,
        };
        for peer in peers {
            this.know(peer);
        }
        this
    }

    /// Remember `peer`, linked with directly or given by the user (most recent last).
    pub(super) fn know(&mut self, peer: EndpointId) {
        self.heard.retain(|p| *p != peer);
        remember(&mut self.linked, peer);
    }

    /// Remember a member heard of through the room.
    pub(super) fn know_member(&mut self, peer: EndpointId) {
        if !self.linked.contains(&peer) {
            remember(&mut self.heard, peer);
        }
    }

    /// `peer` said goodbye: do not dial it again (it may come back by itself).
    pub(super) fn forget(&mut self, peer: &EndpointId) {
        self.linked.retain(|p| p != peer);
        self.heard.retain(|p| p != peer);
    }

    fn knows(&self, peer: &EndpointId) -> bool {
        self.linked.contains(peer) || self.heard.contains(peer)
    }

    /// When to dial next.
    pub(super) fn next(&self) -> Option<Instant> {
        self.next
    }

    /// Peers to dial now: a few the LAN says are in the room (those we know first; at most
    /// half the round, since anyone on the LAN can claim the topic of a `--lan` room), then
    /// the most recently seen; never those in `skip` (current neighbours or members).
    pub(super) fn candidates(&self, lan: &[EndpointId], skip: &[EndpointId]) -> Vec<EndpointId> {
        let known_first = lan
            .iter()
            .filter(|p| self.knows(p))
            .chain(lan.iter().filter(|p| !self.knows(p)))
            .filter(|p| !skip.contains(p))
            .take(MAX_DIALS / 2);
        let mut out: Vec<EndpointId> = Vec::new();
        let known = self.linked.iter().rev().chain(self.heard.iter().rev());
        for peer in known_first.chain(known) {
            if out.len() >= MAX_DIALS {
                break;
            }
            if !skip.contains(peer) && !out.contains(peer) {
                out.push(*peer);
            }
        }
        out
    }

    /// The neighbour count changed (or the network did): schedules the next dial and returns
    /// the state to report when it differs from the last one reported.
    pub(super) fn update(
        &mut self,
        neighbours: usize,
        network_up: bool,
        now: Instant,
    ) -> Option<NetState> {
        let was_connected = self
            .reported
            .is_some_and(|r| r.state == Connectivity::Connected);
        let state = if neighbours > 0 {
            if !was_connected {
                // Back in: the next look for lost members is a while away.
                self.backoff = FIRST_RETRY;
                self.next = Some(now + PARTITION_CHECK);
            }
            Connectivity::Connected
        } else {
            if was_connected {
                // Just lost the last neighbour: try soon.
                self.backoff = FIRST_RETRY;
                self.next = Some(now + FIRST_RETRY);
            } else if self.next.is_none() {
                self.next = Some(now + self.backoff);
            }
            if network_up {
                Connectivity::Reconnecting
            } else {
                Connectivity::Offline
            }
        };
        // Nothing to report before the room was first joined in this run: a fresh room
        // waiting for its first member, or a known room still dialing, is not "reconnecting".
        let current = NetState { state, neighbours };
        let never_joined = self.reported.is_none() && state != Connectivity::Connected;
        if never_joined || self.reported == Some(current) {
            return None;
        }
        self.reported = Some(current);
        Some(current)
    }

    /// The network changed (an address came or went): retry at once if disconnected.
    pub(super) fn network_changed(&mut self, neighbours: usize, now: Instant) {
        if neighbours == 0 {
            self.backoff = FIRST_RETRY;
            self.next = Some(now);
        }
    }

    /// A dial round went out at `now`: schedule the next one.
    pub(super) fn dialed(&mut self, neighbours: usize, network_up: bool, now: Instant) {
        if neighbours > 0 {
            self.next = Some(now + PARTITION_CHECK);
            return;
        }
        let cap = if network_up {
            MAX_BACKOFF
        } else {
            OFFLINE_BACKOFF
        };
        self.backoff = (self.backoff * 2).min(cap);
        self.next = Some(now + self.backoff);
    }
}

/// Put `peer` last in `tier`, dropping the oldest when full.
fn remember(tier: &mut VecDeque<EndpointId>, peer: EndpointId) {
    tier.retain(|p| *p != peer);
    if tier.len() >= MAX_KNOWN {
        tier.pop_front();
    }
    tier.push_back(peer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    fn id(n: u8) -> EndpointId {
        SecretKey::from_bytes(&[n; 32]).public()
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_resets_on_loss() {
        let t0 = Instant::now();
        let mut r = Reconnect::new([id(1)]);
        assert_eq!(
            r.update(1, true, t0).map(|s| s.state),
            Some(Connectivity::Connected)
        );
        let lost = r.update(0, true, t0).unwrap();
        assert_eq!(lost.state, Connectivity::Reconnecting);
        assert_eq!(r.next(), Some(t0 + FIRST_RETRY));
        let mut gaps = Vec::new();
        let mut now = t0;
        for _ in 0..8 {
            now = r.next().unwrap();
            r.dialed(0, true, now);
            gaps.push(r.next().unwrap() - now);
        }
        assert_eq!(gaps[0], Duration::from_millis(500));
        assert!(gaps.iter().all(|g| *g <= MAX_BACKOFF));
        assert_eq!(*gaps.last().unwrap(), MAX_BACKOFF);
        // Unchanged state is not reported twice; offline is.
        assert_eq!(r.update(0, true, now), None);
        assert_eq!(
            r.update(0, false, now).map(|s| s.state),
            Some(Connectivity::Offline)
        );
        r.network_changed(0, now);
        assert_eq!(r.next(), Some(now));
    }

    #[test]
    fn a_fresh_room_alone_reports_nothing() {
        let mut r = Reconnect::new([]);
        assert_eq!(r.update(0, true, Instant::now()), None);
        // Nor a known room still dialing its peers after a restart.
        let mut known = Reconnect::new([id(1)]);
        assert_eq!(known.update(0, true, Instant::now()), None);
        assert_eq!(
            r.update(2, true, Instant::now()),
            Some(NetState {
                state: Connectivity::Connected,
                neighbours: 2
            })
        );
    }

    #[test]
    fn candidates_are_bounded_lan_first_and_skip_the_present() {
        let mut r = Reconnect::new((0..40).map(id));
        assert_eq!(r.linked.len(), MAX_KNOWN);
        r.forget(&id(39));
        let picked = r.candidates(&[id(100), id(38)], &[id(37)]);
        assert_eq!(picked.len(), MAX_DIALS);
        assert_eq!(
            &picked[..3],
            &[id(38), id(100), id(36)],
            "known LAN peers first"
        );
        assert!(!picked.contains(&id(37)) && !picked.contains(&id(39)));
        // A LAN full of strangers claiming the room takes at most half the round.
        let strangers: Vec<_> = (200..220).map(id).collect();
        let picked = r.candidates(&strangers, &[]);
        assert_eq!(
            picked.iter().filter(|p| strangers.contains(p)).count(),
            MAX_DIALS / 2
        );
    }
}

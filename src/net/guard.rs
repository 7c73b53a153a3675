//! Keeping a flooding non-member off our gossip: a private room's session that sees a
//! neighbour which is not a member deliver message after message that does not open (or comes
//! from no member) has the node block that peer's gossip for a while. The endpoint hook then
//! refuses its gossip connections both ways, and the open ones are closed: gossip stops
//! receiving, decrypting and forwarding what it sends, which is where nearly all of a flood's
//! cost went (parlor dropped each message cheaply, but only after gossip had done its work).
//!
//! Only gossip: a blocked peer may still ask for keys, history or to be let in (and is
//! refused there as anyone else would be).
//!
//! A blocked flooder comes back with a new node key at once (keys cost nothing), and each
//! new key costs every member it reaches a handshake and the junk it sends before it is cut.
//! So gossip connections from keys we do not know (`net::known`) are taken in at a pace
//! ([`NEW_PEERS`]: a room's worth at once, then a few a second); members are never paced.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iroh::EndpointAddr;
use iroh::endpoint::{AfterHandshakeOutcome, BeforeConnectOutcome, Connection, EndpointHooks};

use super::known::Known;
use crate::proto::EndpointId;
use crate::proto::limits::{Bucket, RateLimit};

/// Gossip connections from keys we do not know, taken in: 32 at once (a room's people joining
/// together), then 4 a second.
pub const NEW_PEERS: RateLimit = RateLimit {
    per_second: 4.0,
    burst: 32,
};
/// The close code a paced peer's gossip connection gets: try again later, or elsewhere.
const CLOSE_PACED: u32 = 0x7061; // "pa"

/// Peers blocked at once; a new block past this replaces the one ending first.
const MAX_BLOCKED: usize = 1024;
/// The close code a blocked peer's gossip connection gets.
const CLOSE_BLOCKED: u32 = 0x6b6c; // "kl"

/// The endpoint hook that keeps blocked peers off gossip.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    blocked: Arc<Mutex<HashMap<EndpointId, Instant>>>,
    /// Who is not paced.
    known: Known,
    /// Gossip connections from keys we do not know, taken in at [`NEW_PEERS`].
    new_peers: Arc<Mutex<Option<Bucket>>>,
}

impl Guard {
    pub fn new(known: Known) -> Self {
        Self {
            known,
            ..Self::default()
        }
    }

    /// Whether a gossip connection from `peer` that we did not dial is taken in now.
    fn admits(&self, peer: &EndpointId) -> bool {
        if self.known.is_known(peer) {
            return true;
        }
        let now = Instant::now();
        let mut pace = self.new_peers.lock().unwrap_or_else(|p| p.into_inner());
        pace.get_or_insert_with(|| Bucket::full(NEW_PEERS, now))
            .take(NEW_PEERS, now)
            .is_ok()
    }

    /// Block `peer`'s gossip for `lasting`; `true` when it was not blocked already.
    pub fn block(&self, peer: EndpointId, lasting: Duration) -> bool {
        let now = Instant::now();
        let mut blocked = self.lock();
        blocked.retain(|_, until| *until > now);
        let new = !blocked.contains_key(&peer);
        if new && blocked.len() >= MAX_BLOCKED {
            let first = blocked.iter().min_by_key(|(_, until)| **until);
            if let Some(first) = first.map(|(id, _)| *id) {
                blocked.remove(&first);
            }
        }
        blocked.insert(peer, now + lasting);
        new
    }

    pub fn is_blocked(&self, peer: &EndpointId) -> bool {
        self.lock()
            .get(peer)
            .is_some_and(|until| *until > Instant::now())
    }

    /// Close `conn` if it is a blocked peer's gossip: `true` when it was.
    pub fn cut(&self, conn: &Connection) -> bool {
        let cut = conn.alpn() == iroh_gossip::ALPN && self.is_blocked(&conn.remote_id());
        if cut {
            conn.close(CLOSE_BLOCKED.into(), b"blocked");
        }
        cut
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EndpointId, Instant>> {
        // Plain data: a poisoned map still blocks correctly.
        self.blocked.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl EndpointHooks for Guard {
    async fn before_connect<'a>(
        &'a self,
        remote: &'a EndpointAddr,
        alpn: &'a [u8],
    ) -> BeforeConnectOutcome {
        if alpn == iroh_gossip::ALPN && self.is_blocked(&remote.id) {
            return BeforeConnectOutcome::Reject;
        }
        BeforeConnectOutcome::Accept
    }

    async fn after_handshake<'a>(&'a self, conn: &'a Connection) -> AfterHandshakeOutcome {
        if conn.alpn() == iroh_gossip::ALPN && self.is_blocked(&conn.remote_id()) {
            return AfterHandshakeOutcome::Reject {
                error_code: CLOSE_BLOCKED.into(),
                reason: b"blocked".to_vec(),
            };
        }
        let theirs = conn.side() == iroh::endpoint::Side::Server;
        if conn.alpn() == iroh_gossip::ALPN && theirs && !self.admits(&conn.remote_id()) {
            tracing::debug!(peer = %conn.remote_id().fmt_short(), "gossip connection paced");
            return AfterHandshakeOutcome::Reject {
                error_code: CLOSE_PACED.into(),
                reason: b"busy".to_vec(),
            };
        }
        AfterHandshakeOutcome::accept()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    #[test]
    fn blocks_last_their_time_and_are_bounded() {
        let guard = Guard::default();
        let peer = SecretKey::generate().public();
        assert!(!guard.is_blocked(&peer));
        assert!(guard.block(peer, Duration::from_secs(60)));
        assert!(guard.is_blocked(&peer));
        assert!(
            !guard.block(peer, Duration::from_secs(60)),
            "already blocked"
        );
        let brief = SecretKey::generate().public();
        guard.block(brief, Duration::ZERO);
        assert!(!guard.is_blocked(&brief), "its time is over");
        for _ in 0..MAX_BLOCKED + 10 {
            guard.block(SecretKey::generate().public(), Duration::from_secs(60));
        }
        assert!(guard.lock().len() <= MAX_BLOCKED);
    }

    #[test]
    fn unknown_keys_are_taken_in_at_a_pace_members_never_wait() {
        let known = Known::default();
        let member = SecretKey::generate().public();
        known.add_members([member]);
        let guard = Guard::new(known);
        let taken = (0..100)
            .filter(|_| guard.admits(&SecretKey::generate().public()))
            .count();
        assert_eq!(taken, NEW_PEERS.burst as usize);
        assert!((0..100).all(|_| guard.admits(&member)));
    }
}

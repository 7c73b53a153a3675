//! Keeping a flooding non-member off our gossip: a private room's session that sees a
//! neighbour which is not a member deliver message after message that does not open (or comes
//! from no member) has the node block that peer's gossip for a while. The endpoint hook then
//! refuses its gossip connections both ways, and the open ones are closed: gossip stops
//! receiving, decrypting and forwarding what it sends, which is where nearly all of a flood's
//! cost went (parlor dropped each message cheaply, but only after gossip had done its work).
//!
//! Only gossip: a blocked peer may still ask for keys, history or to be let in (and is
//! refused there as anyone else would be).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iroh::EndpointAddr;
use iroh::endpoint::{AfterHandshakeOutcome, BeforeConnectOutcome, Connection, EndpointHooks};

use crate::proto::EndpointId;

/// Peers blocked at once; a new block past this replaces the one ending first.
const MAX_BLOCKED: usize = 1024;
/// The close code a blocked peer's gossip connection gets.
const CLOSE_BLOCKED: u32 = 0x6b6c; // "kl"

/// The endpoint hook that keeps blocked peers off gossip.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    blocked: Arc<Mutex<HashMap<EndpointId, Instant>>>,
}

impl Guard {
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
}

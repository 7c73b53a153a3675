//! A neighbour on a private room's topic that is not a member and keeps delivering what the
//! room drops (messages that do not open with the epoch's key, or that come from no member):
//! someone who learnt the topic (a leaked key, a stolen disk) flooding it. After a few dozen
//! such messages its gossip is blocked on this node for a while (`net::guard`): gossip stops
//! receiving, opening and forwarding what it sends, which is what such a flood costs.
//!
//! Members are never blocked: a member relays what its own neighbours send before anyone
//! could judge it, and a member whose join we have not seen yet sends honestly sealed lines.

use std::time::Duration;

use super::super::SessionEvent;
use super::super::actor::Actor;
use crate::proto::EndpointId;

/// Dropped messages a non-member neighbour may deliver before its gossip is blocked: more
/// than a newcomer says before its join reaches us (its presence, a line or two), far fewer
/// than a flood sends in a second.
pub(super) const BLOCK_AFTER: u32 = 64;
/// How long a block lasts.
pub(super) const BLOCK_FOR: Duration = Duration::from_secs(600);
/// Non-member neighbours counted at once (gossip keeps few neighbours; more means churn,
/// and the counts start over).
pub(super) const MAX_COUNTED: usize = 64;

impl Actor {
    /// The neighbour `from` delivered a message this private room dropped.
    pub(in crate::session) fn dropped_from(&mut self, from: EndpointId) {
        let Some(private) = self.private.as_mut() else {
            return;
        };
        if private.state.is_member(&from) {
            return;
        }
        if private.dropped.len() >= MAX_COUNTED && !private.dropped.contains_key(&from) {
            private.dropped.clear();
        }
        let count = private.dropped.entry(from).or_default();
        *count += 1;
        if *count < BLOCK_AFTER {
            return;
        }
        private.dropped.remove(&from);
        if self.node.block_gossip(from, BLOCK_FOR) {
            tracing::warn!(peer = %from.fmt_short(), "blocked a non-member flooding the room's topic");
            self.outbox.push_now(SessionEvent::Warning(format!(
                "{} is no member but sent {BLOCK_AFTER} messages on this room's topic that the room dropped: it holds the room's key or topic (leaked?), and its gossip is blocked here for {} min",
                from.fmt_short(),
                BLOCK_FOR.as_secs() / 60
            )));
        }
    }
}

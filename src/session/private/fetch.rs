//! Keeping a private room's key current: drawing it as the epoch's keyholder, asking members
//! for it otherwise, and moving the session to the epoch's topic once it is held.

use std::time::Duration;

use n0_future::FutureExt;
use tokio::time::Instant;

use super::super::actor::Actor;
use super::super::sealed::Sealing;
use super::Held;
use crate::net::{
    self,
    keys::{KeyFetchError, RefusalKind},
};
use crate::proto::EndpointId;
use crate::proto::room::Input;
use crate::proto::seal::{self, EpochKey};
use crate::proto::state::KeyAnswer;

/// The first retry's wait; each failure doubles it, up to [`RETRY_MAX`], each drawn between
/// half and all of it, so a room's members asking at once spread out. Short: a member without
/// the key cannot talk, and the keyholder usually has it within milliseconds.
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);
/// When no request can start (too many out), look again this soon.
const BUSY_RETRY: Duration = Duration::from_millis(100);
/// Members that must refuse us as a non-member before we take it that we were removed.
const REFUSALS_MEAN_REMOVED: usize = 2;
/// And for how long, with no member answering in between (a join reaches every member over
/// gossip within this, so a newcomer is never refused for long).
const REFUSALS_LAST: Duration = Duration::from_secs(6);

impl Actor {
    /// The state's epoch moved (or we came back): draw its key if it is ours to draw, else
    /// ask for it.
    pub(in crate::session) async fn follow_epoch(&mut self) {
        let me = self.room.id();
        let Some(private) = self.private.as_mut() else {
            return;
        };
        if private.key_is_current() {
            private.fetch_at = None;
            return;
        }
        if private.state.keyholder() == me {
            let held = Held {
                epoch: private.state.epoch(),
                op: Some(private.state.epoch_op()),
                key: EpochKey::generate(),
            };
            self.enter_epoch(held).await;
        } else if private.fetch_at.is_none() {
            private.tries = 0;
            private.fetch_at = Some(Instant::now());
        }
    }

    /// Ask the next member for the key: the keyholder first, then the others in turn.
    pub(in crate::session) fn fetch_key(&mut self) {
        let me = self.room.id();
        let neighbours: Vec<EndpointId> = self.room.neighbors().copied().collect();
        let Some(private) = self.private.as_mut() else {
            return;
        };
        private.fetch_at = None;
        let keyholder = private.state.keyholder();
        let mut candidates: Vec<EndpointId> = Vec::new();
        if keyholder != me {
            candidates.push(keyholder);
        }
        // Neighbours first (connected already), then every other member.
        let members = private.state.members().map(|(id, _)| *id);
        let mut others: Vec<EndpointId> =
            members.filter(|id| *id != me && *id != keyholder).collect();
        others.sort_by_key(|id| !neighbours.contains(id));
        candidates.extend(others);
        let Some(peer) = candidates
            .get(private.tries as usize % candidates.len().max(1))
            .copied()
        else {
            return;
        };
        private.tries += 1;
        if !self.launch_fetch(peer)
            && let Some(private) = self.private.as_mut()
        {
            private.fetch_at = Some(Instant::now() + BUSY_RETRY);
        }
    }

    /// Alone on our topic (the others may have moved to an epoch we missed, frozen or cut
    /// off while it began): ask a member for the log and key, as on every redial round.
    pub(in crate::session) fn sync_when_alone(&mut self) {
        let alone = self.room.neighbors().next().is_none();
        let Some(private) = self.private.as_mut() else {
            return;
        };
        if alone && private.fetch_at.is_none() && private.fetches.is_empty() {
            private.fetch_at = Some(Instant::now());
        }
    }

    /// Now and then (see [`super::POLL_EVERY`]): ask the next member for the log and key
    /// unless requests are under way; the next time a little later unless an answer brings
    /// news (see [`Self::poll_soon`]).
    pub(in crate::session) fn poll(&mut self) {
        self.prune_knocks();
        let Some(private) = self.private.as_mut() else {
            return;
        };
        // A held knock's hang-up is noticed here (`prune_knocks`): often while one is held.
        if !private.knocks.is_empty() {
            private.poll.keep_often();
        }
        private.poll.asked(Instant::now());
        // Beside any request still out: one to a member that is gone waits for its timeout,
        // and must not hold up asking the next.
        if private.fetches.len() < super::MAX_FETCHES {
            self.fetch_key();
        }
    }

    /// Ask a member for the log and key now (after a sleep or a freeze).
    pub(in crate::session) fn sync_now(&mut self) {
        self.poll_soon();
        if let Some(private) = self.private.as_mut()
            && private.fetch_at.is_none()
        {
            private.fetch_at = Some(Instant::now());
        }
    }

    /// The room may have moved on (a neighbour came or went, an answer brought news or a
    /// refusal, we were frozen): ask members every [`super::POLL_EVERY`] again for a while.
    pub(in crate::session) fn poll_soon(&mut self) {
        let Some(private) = self.private.as_mut() else {
            return;
        };
        private.poll.soon(Instant::now());
    }

    /// A neighbour came up (or sent an operation whose ancestors we lack): ask it for the
    /// log, unless we did lately.
    pub(in crate::session) fn sync_with(&mut self, peer: EndpointId) {
        let Some(private) = self.private.as_mut() else {
            return;
        };
        let now = Instant::now();
        if peer == self.room.id()
            || !private.state.is_member(&peer)
            || private
                .synced
                .get(&peer)
                .is_some_and(|at| now.duration_since(*at) < super::SYNC_EVERY)
        {
            return;
        }
        // Bounded by the members, who are bounded by the state.
        private.synced.insert(peer, now);
        if !self.launch_fetch(peer)
            && let Some(private) = self.private.as_mut()
        {
            // Asked again at the next neighbour event rather than never.
            private.synced.remove(&peer);
        }
    }

    /// Ask `peer`; `false` when too many requests are out already.
    fn launch_fetch(&mut self, peer: EndpointId) -> bool {
        let Some(private) = self.private.as_mut() else {
            return false;
        };
        if private.fetches.len() >= super::MAX_FETCHES {
            return false;
        }
        let fetch = self
            .node
            .fetch_key(peer, private.room(), private.held.epoch);
        private
            .fetches
            .push(async move { (peer, fetch.await) }.boxed());
        true
    }

    /// A member answered (or did not): merge its log, take its key if it is the current
    /// epoch's, and ask again later if the key is still missing.
    pub(in crate::session) async fn key_fetched(
        &mut self,
        peer: EndpointId,
        got: Result<Vec<u8>, KeyFetchError>,
    ) {
        let me = self.room.id();
        let Some(private) = self.private.as_mut() else {
            return;
        };
        let room = private.room();
        let answer = match got.map(|bytes| KeyAnswer::decode(&bytes, room)) {
            Ok(Ok(answer)) => Some(answer),
            Ok(Err(err)) => {
                tracing::debug!(peer = %peer.fmt_short(), "a malformed key answer: {err}");
                None
            }
            // (The owner is never removed: a member that says so is wrong or lying.)
            Err(KeyFetchError::Refused(why))
                if matches!(why.kind, RefusalKind::NotMember | RefusalKind::Banned)
                    && private.state.owner() != me =>
            {
                // Removed while away: the log that says so is not given to non-members, so
                // we learn it from the members refusing us (a few, lest one liar suffice,
                // and for a while: a member that has not heard of our join yet refuses too).
                private.refused_by.insert(peer);
                // Keep asking often until the refusals say something either way.
                private.poll.keep_often();
                let since = *private.refused_since.get_or_insert_with(Instant::now);
                let others = private.state.member_count().saturating_sub(1);
                if private.refused_by.len() >= others.clamp(1, REFUSALS_MEAN_REMOVED)
                    && since.elapsed() >= REFUSALS_LAST
                {
                    private.removed = Some(super::Removal {
                        by: None,
                        reason:
                            "the room's members no longer let you in: you were removed while away"
                                .into(),
                        ban: why.kind == RefusalKind::Banned,
                    });
                    return;
                }
                None
            }
            Err(err) => {
                tracing::debug!(peer = %peer.fmt_short(), "no key from this member: {err}");
                None
            }
        };
        if let Some(answer) = answer {
            private.refused_by.clear();
            private.refused_since = None;
            let mut new = false;
            if answer.log.genesis().hash == private.log.genesis().hash {
                for op in answer.log.ops() {
                    new |= matches!(
                        private.log.insert(op.clone()),
                        Ok(crate::proto::state::Inserted::New)
                    );
                }
            }
            if new {
                self.poll_soon();
                self.merged().await;
            }
            let Some(private) = self.private.as_mut() else {
                return;
            };
            if !private.key_is_current()
                && answer.epoch == private.state.epoch()
                && answer.epoch_op == private.state.epoch_op()
            {
                let held = Held {
                    epoch: answer.epoch,
                    op: Some(answer.epoch_op),
                    key: answer.key,
                };
                self.enter_epoch(held).await;
            }
        }
        let Some(private) = self.private.as_mut() else {
            return;
        };
        if private.key_is_current() || private.removed.is_some() {
            private.fetch_at = None;
        } else if private.fetch_at.is_none() && private.fetches.is_empty() {
            let wait = (RETRY_FIRST * 2u32.saturating_pow(private.tries.min(6))).min(RETRY_MAX);
            let wait = wait.mul_f64(0.5 + rand::random::<f64>() / 2.0);
            private.fetch_at = Some(Instant::now() + wait);
        }
    }

    /// Talk in the epoch of `held`: keep its key, seal with it, and move to its topic (the
    /// old one lingers a moment, so what we just said there still reaches everyone).
    pub(in crate::session) async fn enter_epoch(&mut self, held: Held) {
        let Some(private) = self.private.as_mut() else {
            return;
        };
        let room = private.room();
        let topic = seal::topic_of(&room, &held.key);
        let old_topic = seal::topic_of(&room, &private.held.key);
        private.held = held.clone();
        private.fetch_at = None;
        let members: Vec<EndpointId> = private
            .state
            .members()
            .map(|(id, _)| *id)
            .filter(|id| *id != self.room.id())
            .collect();
        if let Some(store) = &self.store {
            let key = held.key.clone();
            store.spawn_call(move |s| {
                if let Err(err) = s.save_epoch_key(room, held.epoch, &key) {
                    tracing::warn!("cannot keep the room's key: {err}");
                }
            });
        }
        self.sealing = Some(Sealing::with_key(&held.key));
        // The front ends hear that we talk in the new epoch now (`key_epoch`).
        if let Some(state) = self.state_event() {
            self.outbox.push_now(state);
        }
        if topic == old_topic {
            return;
        }
        let peers: Vec<crate::proto::EndpointAddr> = members
            .into_iter()
            .map(crate::proto::EndpointAddr::new)
            .collect();
        let subscribed = match self.node.subscribe(topic, &peers).await {
            Ok(handle) => handle,
            Err(err) => {
                self.outbox
                    .push_now(super::super::SessionEvent::Warning(format!(
                        "cannot move to the room's new epoch: {err:#}"
                    )));
                return;
            }
        };
        let old = std::mem::replace(&mut self.net, subscribed);
        tokio::spawn(net::leave_topic(old, true));
        // The old topic's neighbours are gone with it; the new one's come up as they move.
        let gone: Vec<EndpointId> = self.room.neighbors().copied().collect();
        for peer in gone {
            self.feed(Input::NeighborDown(peer)).await;
        }
    }
}

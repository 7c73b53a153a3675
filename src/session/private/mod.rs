//! A private room inside its session (issue 23): the room's signed operations and the state
//! they fold to, the key of the epoch the session talks in, and keeping both current.
//!
//! - **Operations** travel sealed on the epoch's topic, one per gossip message, marked by
//!   [`seal::OP_FRAME`]; a member that missed some gets the whole log with the key
//!   (`parlor/keys/1`), which it asks of a neighbour whenever one comes up.
//! - **Epochs**: a removal, ban or leave starts one. Its keyholder (the author of the
//!   operation that started it, if still a member, else the owner: one per epoch, never a
//!   removed member) draws the key; everyone else asks members for it, the keyholder first,
//!   until one gives it. Having it, the session moves to the epoch's topic: the removed
//!   member, keeping the old key and topic, hears nothing said after.
//! - **Removal of us**: the session tells the front end who removed us and why, and ends.

mod fetch;
mod intruders;
mod knock;
mod moderate;
mod poll;
mod serve;

use std::collections::{HashMap, HashSet};

use n0_future::FuturesUnordered;
use n0_future::boxed::BoxFuture;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::SessionEvent;
use super::actor::Actor;
use crate::model::{IssuedInvite, RoomStateView, StateMember};
use crate::net::keys::{KeyFetchError, KeyQuery};
use crate::proto::invite::Invite;
use crate::proto::seal::{self, EpochKey};
use crate::proto::state::{
    Action, HistoryVisibility, OpHash, OpLog, Role, RoomId, RoomState, SignedOp,
};
use crate::proto::{EndpointId, MemberInfo, TopicId, UnixMillis};
use poll::PollSchedule;

/// A private room's start: its log as we have it and the key we hold (perhaps an older
/// epoch's: the session then asks members for the current one).
#[derive(Debug, Clone)]
pub struct PrivateSpec {
    pub log: OpLog,
    pub key: EpochKey,
    pub epoch: u64,
    /// The operation that started the key's epoch, when known (a key read back from disk
    /// is trusted for its epoch number).
    pub epoch_op: Option<OpHash>,
}

impl PrivateSpec {
    pub fn room(&self) -> RoomId {
        self.log.room()
    }

    /// The gossip topic of the key's epoch (the ticket's topic, if any, is not used).
    pub fn topic(&self) -> TopicId {
        seal::topic_of(&self.room(), &self.key)
    }

    /// The room's lasting topic: envelopes are signed for it, history kept under it.
    pub fn room_topic(&self) -> TopicId {
        seal::room_topic(&self.room())
    }
}

/// The key the session talks with.
#[derive(Debug, Clone)]
pub(super) struct Held {
    pub epoch: u64,
    pub op: Option<OpHash>,
    pub key: EpochKey,
}

/// Who removed us, and how.
#[derive(Debug, Clone)]
pub(super) struct Removal {
    pub by: Option<EndpointId>,
    pub reason: String,
    pub ban: bool,
}

/// Asking members for the key (or just the log), one at a time.
pub(super) type Fetched = (EndpointId, Result<Vec<u8>, KeyFetchError>);
type Fetching = BoxFuture<Fetched>;

/// Invites kept for `/invites` per room; the oldest go first.
const MAX_ISSUED: usize = 256;
/// Key or log requests in flight at once (a neighbour coming up asks too).
const MAX_FETCHES: usize = 4;
/// How often a member asks another (in turn) for the log and key even when nothing seems
/// amiss: a member frozen or cut off while the others moved to a new epoch may hear nothing
/// that says so (its old neighbours gone without a word), and this is how it finds out.
/// Every few seconds after a sign that the room may have moved (coming back, a neighbour
/// coming or going, news in an answer, a refusal, a knock held, a freeze the watchdog
/// noticed); each answer with no news doubles the wait, up to [`POLL_MAX`]. Each request is
/// a connection of its own (a QUIC handshake on both sides): at a steady 2 s, ten idle
/// members spent three times the CPU of ten that never asked (12.7 against 4.7 ms a second
/// in all).
pub(super) const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
/// The longest wait between two such requests in a quiet room.
pub(super) const POLL_MAX: std::time::Duration = std::time::Duration::from_secs(64);
/// A neighbour's log is asked again only after this long.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

pub(super) struct Private {
    pub(super) log: OpLog,
    pub(super) state: RoomState,
    /// Operations the last fold skipped (a removal of us must have been applied).
    pub(super) skipped: HashSet<OpHash>,
    /// The last fold left operations waiting for an ancestor we lack.
    pub(super) waiting: bool,
    /// The state's members' keys as bytes, for the check of every live envelope's author.
    pub(super) member_keys: HashSet<[u8; 32]>,
    pub(super) held: Held,
    pub(super) queries: mpsc::Receiver<KeyQuery>,
    pub(super) fetches: FuturesUnordered<Fetching>,
    /// When to ask for the key again (`None`: not needed, or a request is out).
    pub(super) fetch_at: Option<Instant>,
    /// When to ask a member for the log and key anyway (see [`POLL_EVERY`]).
    pub(super) poll: PollSchedule,
    pub(super) tries: u32,
    /// When each neighbour's log was last asked for.
    pub(super) synced: HashMap<EndpointId, Instant>,
    pub(super) invites: Vec<IssuedInvite>,
    /// Set once a fold shows we are out: the loop ends on it.
    pub(super) removed: Option<Removal>,
    /// Members who answered that we are not a member (we were removed while away).
    pub(super) refused_by: HashSet<EndpointId>,
    /// Since when members have refused us with no answer in between.
    pub(super) refused_since: Option<Instant>,
    /// When we saw each member join, for `/history joined` (members already in the state
    /// when the session started are not in it: they read everything kept). Bounded by the
    /// members.
    pub(super) joined_at: HashMap<EndpointId, UnixMillis>,
    /// Knocks waiting for an admin here (see [`knock`]), at most [`knock::MAX_KNOCKS`].
    pub(super) knocks: Vec<knock::Held>,
    /// Messages each non-member neighbour delivered that the room dropped (see
    /// [`intruders`]), at most [`intruders::MAX_COUNTED`] neighbours.
    pub(super) dropped: HashMap<EndpointId, u32>,
}

impl Private {
    pub(super) fn new(spec: &PrivateSpec, queries: mpsc::Receiver<KeyQuery>) -> Self {
        let folded = spec.log.fold();
        Self {
            log: spec.log.clone(),
            skipped: folded.skipped.iter().map(|s| s.op).collect(),
            waiting: !folded.waiting.is_empty(),
            member_keys: member_keys(&folded.state),
            state: folded.state,
            held: Held {
                epoch: spec.epoch,
                op: spec.epoch_op,
                key: spec.key.clone(),
            },
            queries,
            fetches: FuturesUnordered::new(),
            // Whoever comes back asks a member at once: the room may have moved on.
            fetch_at: Some(Instant::now()),
            poll: PollSchedule::new(Instant::now()),
            tries: 0,
            synced: HashMap::new(),
            invites: Vec::new(),
            removed: None,
            refused_by: HashSet::new(),
            refused_since: None,
            joined_at: HashMap::new(),
            knocks: Vec::new(),
            dropped: HashMap::new(),
        }
    }

    pub(super) fn room(&self) -> RoomId {
        self.log.room()
    }

    /// Who may delete anyone's line: the state's owner and admins.
    pub(super) fn admins(&self) -> Vec<EndpointId> {
        let admins = self
            .state
            .members()
            .filter(|(_, role)| *role >= Role::Admin);
        admins.map(|(id, _)| *id).collect()
    }

    /// Fold the log again (after an insert).
    pub(super) fn refold(&mut self) {
        let folded = self.log.fold();
        self.skipped = folded.skipped.iter().map(|s| s.op).collect();
        self.waiting = !folded.waiting.is_empty();
        self.member_keys = member_keys(&folded.state);
        self.state = folded.state;
    }

    /// Whether the held key is the current epoch's.
    pub(super) fn key_is_current(&self) -> bool {
        self.held.epoch == self.state.epoch()
            && self.held.op.is_none_or(|op| op == self.state.epoch_op())
    }

    /// The state as the front ends show it, members named as `known` (the room's list).
    pub(super) fn view(&self, known: &[MemberInfo]) -> RoomStateView {
        let state = &self.state;
        let member = |(id, role): (&EndpointId, Role)| {
            let found = known.iter().find(|m| m.id == *id);
            StateMember {
                id: *id,
                role,
                name: found.map(|m| m.name.clone()).unwrap_or_default(),
                display: found
                    .map(|m| m.display.clone())
                    .unwrap_or_else(|| id.fmt_short().to_string()),
            }
        };
        RoomStateView {
            room: state.room().to_string(),
            name: state.name().to_string(),
            topic: state.topic().to_string(),
            epoch: state.epoch(),
            key_epoch: self.held.epoch,
            owner: state.owner(),
            members: state.members().map(member).collect(),
            bans: state.bans().copied().collect(),
            history: state.history(),
            version: state.version(),
        }
    }

    /// Who removed `me`, from the last applied removal or ban naming it.
    fn removal_of(&self, me: &EndpointId) -> Removal {
        let mut found: Option<(u64, Removal)> = None;
        for op in self.log.ops() {
            if self.skipped.contains(&op.hash) {
                continue;
            }
            let removal = match &op.op.action {
                Action::Remove { who, reason } if who == me => Removal {
                    by: Some(op.author),
                    reason: reason.clone(),
                    ban: false,
                },
                Action::Ban { who, reason } if who == me => Removal {
                    by: Some(op.author),
                    reason: reason.clone(),
                    ban: true,
                },
                _ => continue,
            };
            if found.as_ref().is_none_or(|(c, _)| op.op.counter >= *c) {
                found = Some((op.op.counter, removal));
            }
        }
        found.map(|(_, r)| r).unwrap_or(Removal {
            by: None,
            reason: String::new(),
            ban: false,
        })
    }

    pub(super) fn remember_invite(&mut self, invite: IssuedInvite) {
        if self.invites.len() >= MAX_ISSUED {
            self.invites.remove(0);
        }
        self.invites.push(invite);
    }
}

fn member_keys(state: &RoomState) -> HashSet<[u8; 32]> {
    state.members().map(|(id, _)| *id.as_bytes()).collect()
}

/// A signed operation as it travels on the topic (sealed like an envelope).
pub(super) fn op_frame(op: &SignedOp) -> Vec<u8> {
    let mut frame = Vec::with_capacity(1 + op.bytes().len());
    frame.push(seal::OP_FRAME);
    frame.extend_from_slice(op.bytes());
    frame
}

impl Actor {
    /// The oldest time `peer` may read history from: a private room with `/history joined`
    /// serves a member only what was said since we saw it join.
    pub(super) fn readable_since(&self, peer: &EndpointId) -> UnixMillis {
        match &self.private {
            Some(private) if private.state.history() == HistoryVisibility::Joined => private
                .joined_at
                .get(peer)
                .copied()
                .unwrap_or(UnixMillis(0)),
            _ => UnixMillis(0),
        }
    }

    /// Whether a live envelope's author (its bytes 1..33, as the wire lays them out; the
    /// signature is the room's to check) is a member: always in a public room. What is not
    /// is dropped and counted with what did not open.
    pub(super) fn sent_by_member(&self, envelope: &[u8]) -> bool {
        let Some(private) = &self.private else {
            return true;
        };
        // The raw key bytes against the members' (no curve point decoded per envelope: the
        // room's verifier does that once per author).
        let member = envelope
            .get(1..33)
            .is_some_and(|key| private.member_keys.contains(key));
        if !member && let Some(sealing) = &self.sealing {
            sealing.count_unopened();
        }
        member
    }

    /// Whether `peer` may have the room's history and member list.
    pub(super) fn may_read(&self, peer: &EndpointId) -> bool {
        self.private
            .as_ref()
            .is_none_or(|private| private.state.is_member(peer))
    }

    /// An operation arrived on the topic: merged if new (and relayed by gossip itself).
    pub(super) async fn on_op(&mut self, bytes: &[u8]) {
        let Some(private) = self.private.as_mut() else {
            return;
        };
        let Ok(op) = SignedOp::decode(bytes) else {
            return;
        };
        // From the topic, only a member's operations and a newcomer's join with an invite to
        // this room go into the log: anyone else holding the epoch's key could mint keys to
        // fill it (a member's log, asked for, brings what we refused here if it counts).
        let welcome = private.state.is_member(&op.author)
            || matches!(&op.op.action, Action::Join { invite }
                if Invite::from_bytes(invite).is_ok_and(|i| i.room == private.room()));
        if !welcome {
            return;
        }
        let author = op.author;
        match private.log.insert(op) {
            Ok(crate::proto::state::Inserted::New) => {}
            _ => return,
        }
        self.merged().await;
        // An operation whose ancestors we lack: its author has them.
        if self.private.as_ref().is_some_and(|p| p.waiting) {
            self.sync_with(author);
        }
    }

    /// Operations were added to the log: fold, keep it, tell the front end, and follow the
    /// epoch (or leave, if we are out).
    pub(super) async fn merged(&mut self) {
        let me = self.room.id();
        let Some(private) = self.private.as_mut() else {
            return;
        };
        let before = private.state.hash();
        let was_member = private.state.is_member(&me);
        let members_before: HashSet<EndpointId> = private.state.member_ids().into_iter().collect();
        private.refold();
        let now = UnixMillis::now();
        let members_after: HashSet<EndpointId> = private.state.member_ids().into_iter().collect();
        private.joined_at.retain(|id, _| members_after.contains(id));
        for joined in members_after.difference(&members_before) {
            private.joined_at.insert(*joined, now);
        }
        if private.state.hash() == before {
            return;
        }
        if let Some(store) = &self.store {
            let log = private.log.clone();
            store.spawn_call(move |s| {
                if let Err(err) = s.save_room_log(&log, UnixMillis::now()) {
                    tracing::warn!("cannot keep the room's state: {err}");
                }
            });
        }
        if !private.state.is_member(&me) {
            let removal = private.removal_of(&me);
            private.fetch_at = None;
            // Left on our own (`/part`): the leave that follows ends the session.
            if was_member && removal.by.is_some() {
                private.removed = Some(removal);
            }
            return;
        }
        let view = private.view(&self.room.members());
        self.outbox.push_now(SessionEvent::State(view));
        self.tell_room_admins();
        self.follow_epoch().await;
    }

    /// The room checks deletes of others' lines against the state's owner and admins.
    pub(super) fn tell_room_admins(&mut self) {
        let Some(private) = self.private.as_ref() else {
            return;
        };
        let admins = private.admins();
        // Nothing comes out of it (no line, no event).
        let _ = self.room.handle(
            crate::proto::room::Input::SetAdmins(admins),
            crate::proto::Now::system(),
        );
    }

    /// The front end's first view of the state (with `Ready`).
    pub(super) fn state_event(&self) -> Option<SessionEvent> {
        let known = self.room.members();
        self.private
            .as_ref()
            .map(|private| SessionEvent::State(private.view(&known)))
    }
}

impl Actor {
    /// We were removed: say so, keep what was shown, and go (not rejoined on the next start;
    /// the room's key is gone with the next epoch anyway).
    pub(super) async fn removed(mut self, removal: Removal) {
        self.withdraw();
        self.flush_saves();
        self.wait_for_saves().await;
        if let Some(store) = &self.store {
            let topic = self.room.topic();
            store.spawn_call(move |s| {
                let _ = s.set_open(topic, false);
            });
        }
        self.outbox.push_now(SessionEvent::Removed {
            by: removal.by,
            reason: removal.reason,
            ban: removal.ban,
        });
        self.flush_events().await;
    }

    /// A private room's invite for the `ready` event and `/invite` without options: issued
    /// by an admin, for [`DEFAULT_INVITE_LASTS`]; a member gets none (only admins invite).
    pub(super) async fn default_invite(&mut self) -> String {
        match self.issue_invite(None, DEFAULT_INVITE_LASTS).await {
            Ok(invite) => invite.text,
            Err(_) => String::new(),
        }
    }
}

/// How long an invite lasts unless `/invite --expires` says otherwise.
pub const DEFAULT_INVITE_LASTS: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

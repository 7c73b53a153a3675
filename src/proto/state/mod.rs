//! A private room's signed state: who owns it, who is in it with which role, who is banned, its
//! name, topic and history visibility, and its epoch (the key changes with every epoch).
//! Pure: no tokio, no network, no disk.
//!
//! The state is never sent as such: it is the fold of a set of signed operations ([`op`]) over
//! the room's genesis, and every member that holds the same set computes the same state, whatever
//! order the operations arrived in ([`merge`]). What an operation may do is decided in
//! [`apply`], against the state at the point the merge reaches it.

mod apply;
mod causal;
mod delivery;
mod log_codec;
mod merge;
mod op;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use data_encoding::HEXLOWER;
use serde::{Deserialize, Serialize};

use super::EndpointId;

pub use apply::Skip;
pub use delivery::{DELIVERY_VERSION, KeyAnswer, MAX_KEY_ANSWER_BYTES};
pub use log_codec::{LOG_VERSION, MAX_LOG_BYTES};
pub use merge::{Folded, Inserted, LogError, OpLog, Skipped};
pub use op::{Action, Op, OpError, OpHash, SignedOp};

/// The first byte of an encoded state, an encoded op and an encoded log.
pub const STATE_VERSION: u8 = 1;
/// Members a room holds (the owner included); adding past it is skipped.
pub const MAX_MEMBERS: usize = 1024;
/// Keys a room bans; banning past it is skipped.
pub const MAX_BANS: usize = 1024;
/// Operations a log holds besides its genesis. Past it, inserting fails: a later checkpoint
/// (a state signed by the owner that starts a new log) is what lets a room outlive it.
pub const MAX_OPS: usize = 2048;
/// Parents an operation may name.
pub const MAX_PARENTS: usize = 16;
/// Bytes of a room name (64 characters of up to 4 bytes, as `names::MAX_ROOM_NAME_CHARS`).
pub const MAX_NAME_BYTES: usize = 256;
/// Bytes of a topic.
pub const MAX_TOPIC_BYTES: usize = 1024;
/// Bytes of a removal's or ban's reason.
pub const MAX_REASON_BYTES: usize = 256;
/// Bytes of one encoded, signed operation.
pub const MAX_OP_BYTES: usize = 4096;
/// Operations a key that is not an admin or the owner may have in a log (see
/// [`OpLog::insert`]): one key cannot fill the log's [`MAX_OPS`].
pub const MAX_OPS_PER_MEMBER: usize = 8;
/// Invites whose uses the state counts; a join by a further one is skipped as full.
pub const MAX_INVITES_TRACKED: usize = 1024;
/// Invites a room revokes; revoking past it is skipped as full.
pub const MAX_REVOKED: usize = 1024;

/// An invite's id ([`crate::proto::invite::Invite::id`]).
pub type InviteId = [u8; 16];

/// A room's identity: 32 random bytes drawn when it is created, stable across epochs (unlike the
/// gossip topic, which changes with every key).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoomId([u8; 32]);

impl RoomId {
    pub fn generate() -> Self {
        Self(rand::random())
    }

    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&HEXLOWER.encode(&self.0))
    }
}

impl fmt::Debug for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoomId({})", HEXLOWER.encode(&self.0[..5]))
    }
}

/// What a member may do: each role may do everything the one below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Leave.
    Member,
    /// Add, remove, ban and unban members; set the name, topic and history visibility.
    Admin,
    /// Everything: also remove admins, make and unmake admins, hand the room over.
    Owner,
}

/// Whether a newcomer sees what was said before it joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HistoryVisibility {
    /// Everything the room kept.
    Shared,
    /// Only what was said since it joined.
    Joined,
}

/// The hash of an encoded [`RoomState`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct StateHash(pub [u8; 32]);

impl fmt::Debug for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateHash({})", HEXLOWER.encode(&self.0[..5]))
    }
}

/// A room's state at one point of the merge. Built only by the fold of an [`OpLog`], so its
/// invariants hold: exactly one owner, who is a member; no banned key is a member; bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomState {
    room: RoomId,
    owner: EndpointId,
    /// Every member with its role; the owner is in it as [`Role::Owner`].
    members: BTreeMap<EndpointId, Role>,
    bans: BTreeSet<EndpointId>,
    name: String,
    topic: String,
    history: HistoryVisibility,
    /// Starts at 0; every removal, ban of a member and leave moves it on (a new key).
    /// Additions (`Add`, `Join`) do not: a newcomer is given the current key.
    epoch: u64,
    /// The operation that started the current epoch (the genesis for epoch 0).
    epoch_op: OpHash,
    /// Who makes the current epoch's key: `epoch_op`'s author if it was still a member right
    /// after it, else the owner at that point. Fixed for the epoch (see [`Self::keyholder`]).
    keyholder: EndpointId,
    /// Joins applied per invite, at most [`MAX_INVITES_TRACKED`] invites.
    invite_uses: BTreeMap<InviteId, u32>,
    /// Invites revoked, at most [`MAX_REVOKED`].
    revoked: BTreeSet<InviteId>,
    /// Operations applied since the genesis.
    version: u64,
    /// The state before the last applied operation (zero for the genesis).
    previous: StateHash,
}

impl RoomState {
    pub fn room(&self) -> RoomId {
        self.room
    }

    pub fn owner(&self) -> EndpointId {
        self.owner
    }

    pub fn role_of(&self, key: &EndpointId) -> Option<Role> {
        self.members.get(key).copied()
    }

    pub fn is_member(&self, key: &EndpointId) -> bool {
        self.members.contains_key(key)
    }

    pub fn is_banned(&self, key: &EndpointId) -> bool {
        self.bans.contains(key)
    }

    /// Members and their roles, in key order.
    pub fn members(&self) -> impl Iterator<Item = (&EndpointId, Role)> {
        self.members.iter().map(|(key, role)| (key, *role))
    }

    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    pub fn bans(&self) -> impl Iterator<Item = &EndpointId> {
        self.bans.iter()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn history(&self) -> HistoryVisibility {
        self.history
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The operation that started the current epoch: the genesis's hash for epoch 0, else the
    /// removal, ban or leave that moved the epoch on.
    pub fn epoch_op(&self) -> OpHash {
        self.epoch_op
    }

    /// The one member who generates the current epoch's key; everyone else fetches it. It is
    /// the author of [`Self::epoch_op`] if that author was still a member right after it, else
    /// (a leave: the leaver is gone) the owner at that point. It is fixed when the epoch starts,
    /// so a hand-over later in the epoch does not name a second keyholder (two keys for one
    /// epoch); and it is always a member, because any member going starts a new epoch. So there
    /// is exactly one key per (epoch, epoch op), made by a key that was never removed.
    pub fn keyholder(&self) -> EndpointId {
        self.keyholder
    }

    /// How many joins by the invite `id` were applied.
    pub fn uses_of(&self, id: &InviteId) -> u32 {
        self.invite_uses.get(id).copied().unwrap_or(0)
    }

    pub fn is_revoked(&self, id: &InviteId) -> bool {
        self.revoked.contains(id)
    }

    /// The members' keys, in key order.
    pub fn member_ids(&self) -> Vec<EndpointId> {
        self.members.keys().copied().collect()
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn previous(&self) -> StateHash {
        self.previous
    }

    /// `STATE_VERSION ‖ postcard(state)`: maps and sets are ordered, so equal states encode
    /// equally.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![STATE_VERSION];
        // Plain structs, strings and ordered collections always serialize.
        out.extend(postcard::to_stdvec(self).unwrap_or_default());
        out
    }

    /// What every member compares: blake3 of [`Self::encode`].
    pub fn hash(&self) -> StateHash {
        StateHash(*blake3::hash(&self.encode()).as_bytes())
    }

    /// The state right after a genesis (`Create`, whose hash is `genesis`) by `owner`.
    fn genesis(
        genesis: OpHash,
        room: RoomId,
        owner: EndpointId,
        name: String,
        topic: String,
        history: HistoryVisibility,
    ) -> Self {
        Self {
            room,
            owner,
            members: BTreeMap::from([(owner, Role::Owner)]),
            bans: BTreeSet::new(),
            name,
            topic,
            history,
            epoch: 0,
            epoch_op: genesis,
            keyholder: owner,
            invite_uses: BTreeMap::new(),
            revoked: BTreeSet::new(),
            version: 0,
            previous: StateHash::default(),
        }
    }
}

#[cfg(test)]
mod codec_tests;
#[cfg(test)]
mod convergence_race;
#[cfg(test)]
mod convergence_tests;
#[cfg(test)]
mod join_tests;
#[cfg(test)]
mod tests;

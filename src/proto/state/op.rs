//! Operations on a room's state, signed by their author.
//!
//! Layout, as the room envelope's (`wire`): `version (1) ‖ author (32) ‖ signature (64) ‖ body`,
//! the body being postcard [`Op`] (room id, Lamport counter, parents, action). The signature
//! covers `OP_SIGNING_DOMAIN ‖ author ‖ body`: an operation verifies as nothing else parlor
//! signs, and only in the room its body names. Its [`OpHash`] is blake3 of all its bytes
//! (ed25519 checked strictly is not malleable, so one signed operation has one hash).

use std::fmt;

use data_encoding::HEXLOWER;
use iroh_base::Signature;
use serde::{Deserialize, Serialize};

use super::{
    HistoryVisibility, InviteId, MAX_NAME_BYTES, MAX_OP_BYTES, MAX_PARENTS, MAX_REASON_BYTES,
    MAX_TOPIC_BYTES, Role, RoomId, STATE_VERSION,
};
use crate::proto::{EndpointId, SecretKey};

/// Signed before the author and the body; never used by envelopes or direct messages.
const OP_SIGNING_DOMAIN: &[u8] = b"parlor-room-op-v1";
const HEADER_LEN: usize = 1 + 32 + 64;

/// An operation's identity: blake3 of its signed bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OpHash(pub [u8; 32]);

impl fmt::Debug for OpHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpHash({})", HEXLOWER.encode(&self.0[..5]))
    }
}

/// What an operation does. Who may do what is [`super::apply`]'s to decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// The genesis: the author owns the new room. Only as a log's first operation.
    Create {
        name: String,
        topic: String,
        history: HistoryVisibility,
    },
    Add {
        who: EndpointId,
    },
    Remove {
        who: EndpointId,
        reason: String,
    },
    /// Remove (if a member) and refuse every later add until an unban.
    Ban {
        who: EndpointId,
        reason: String,
    },
    Unban {
        who: EndpointId,
    },
    /// Make a member an admin (`/op`) or an admin a member (`/deop`); never `Owner`.
    SetRole {
        who: EndpointId,
        role: Role,
    },
    /// The owner hands the room to a member and becomes an admin.
    HandOver {
        to: EndpointId,
    },
    SetName(String),
    SetTopic(String),
    SetHistory(HistoryVisibility),
    /// The author leaves on its own.
    Leave,
    /// The author admits itself with an invite (its binary form,
    /// [`crate::proto::invite::Invite::to_bytes`]) issued by an admin. Signed by the joiner;
    /// any member may carry it into the log. Its expiry is not the fold's to check (the fold has
    /// no clock): the member that accepts a redemption checks `Invite::check(now)` before it
    /// carries the join.
    Join {
        invite: Vec<u8>,
    },
    /// Admins: no join by the invite `id` is applied after this.
    Revoke {
        id: InviteId,
    },
}

impl Action {
    /// Where the merge puts it among operations of one counter and one author rank: removals
    /// (and revocations, which also take access away) first (removal beats addition), then
    /// changes, then additions (joins among them).
    pub(super) fn merge_rank(&self) -> u8 {
        match self {
            Self::Remove { .. } | Self::Ban { .. } | Self::Leave | Self::Revoke { .. } => 0,
            Self::SetRole {
                role: Role::Member, ..
            } => 0,
            Self::Create { .. }
            | Self::HandOver { .. }
            | Self::SetName(_)
            | Self::SetTopic(_)
            | Self::SetHistory(_) => 1,
            Self::Add { .. } | Self::Join { .. } | Self::Unban { .. } | Self::SetRole { .. } => 2,
        }
    }

    /// Strings within their bounds, no role the action cannot give.
    fn check(&self) -> Result<(), OpError> {
        let within = |text: &str, max: usize, what: &'static str| {
            if text.len() > max {
                Err(OpError::TooLong { what, max })
            } else {
                Ok(())
            }
        };
        match self {
            Self::Create { name, topic, .. } => {
                within(name, MAX_NAME_BYTES, "name")?;
                within(topic, MAX_TOPIC_BYTES, "topic")
            }
            Self::Remove { reason, .. } | Self::Ban { reason, .. } => {
                within(reason, MAX_REASON_BYTES, "reason")
            }
            Self::SetName(name) => within(name, MAX_NAME_BYTES, "name"),
            Self::SetTopic(topic) => within(topic, MAX_TOPIC_BYTES, "topic"),
            Self::SetRole {
                role: Role::Owner, ..
            } => Err(OpError::Malformed(
                "the owner changes only by a hand-over".into(),
            )),
            _ => Ok(()),
        }
    }
}

/// The signed body of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub room: RoomId,
    /// Lamport counter: greater than every parent's (0 only for the genesis).
    pub counter: u64,
    /// The heads of the log its author had seen: the genesis at least, for anything but it.
    pub parents: Vec<OpHash>,
    pub action: Action,
}

/// An operation whose signature, bounds and form checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedOp {
    pub hash: OpHash,
    pub author: EndpointId,
    pub op: Op,
    bytes: Vec<u8>,
}

/// Why bytes are not an operation. Remote input: dropped, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    #[error("operation of {size} bytes exceeds the {MAX_OP_BYTES} byte limit")]
    Oversize { size: usize },
    #[error("operation too short ({size} bytes)")]
    Truncated { size: usize },
    #[error("unknown operation version {0}")]
    UnknownVersion(u8),
    #[error("operation signature does not verify")]
    BadSignature,
    #[error("malformed operation: {0}")]
    Malformed(String),
    #[error("operation {what} longer than {max} bytes")]
    TooLong { what: &'static str, max: usize },
}

impl SignedOp {
    /// Sign `op` as `secret`; fails only on an operation no member would accept.
    pub fn sign(secret: &SecretKey, op: Op) -> Result<Self, OpError> {
        check(&op)?;
        let author = secret.public();
        // Plain structs and strings always serialize.
        let body = postcard::to_stdvec(&op).unwrap_or_default();
        let signature = secret.sign(&signed_bytes(&author, &body));
        let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
        bytes.push(STATE_VERSION);
        bytes.extend_from_slice(author.as_bytes());
        bytes.extend_from_slice(&signature.to_bytes());
        bytes.extend_from_slice(&body);
        let size = bytes.len();
        if size > MAX_OP_BYTES {
            return Err(OpError::Oversize { size });
        }
        Ok(Self {
            hash: OpHash(*blake3::hash(&bytes).as_bytes()),
            author,
            op,
            bytes,
        })
    }

    /// Check and decode received bytes: size, version, signature, then the body and its bounds.
    pub fn decode(bytes: &[u8]) -> Result<Self, OpError> {
        let size = bytes.len();
        if size > MAX_OP_BYTES {
            return Err(OpError::Oversize { size });
        }
        if size < HEADER_LEN {
            return Err(OpError::Truncated { size });
        }
        if bytes[0] != STATE_VERSION {
            return Err(OpError::UnknownVersion(bytes[0]));
        }
        let (key, rest) = bytes[1..].split_at(32);
        let (signature, body) = rest.split_at(64);
        let key: [u8; 32] = key.try_into().map_err(|_| OpError::Truncated { size })?;
        let signature: [u8; 64] = signature
            .try_into()
            .map_err(|_| OpError::Truncated { size })?;
        // An invalid curve point cannot have produced a valid signature.
        let author = EndpointId::from_bytes(&key).map_err(|_| OpError::BadSignature)?;
        author
            .verify(
                &signed_bytes(&author, body),
                &Signature::from_bytes(&signature),
            )
            .map_err(|_| OpError::BadSignature)?;
        let (op, rest) =
            postcard::take_from_bytes::<Op>(body).map_err(|e| OpError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(OpError::Malformed(format!(
                "{} bytes after the body",
                rest.len()
            )));
        }
        check(&op)?;
        Ok(Self {
            hash: OpHash(*blake3::hash(bytes).as_bytes()),
            author,
            op,
            bytes: bytes.to_vec(),
        })
    }

    /// The signed bytes, as sent and hashed.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The form every operation has: a genesis has counter 0 and no parents, anything else a
/// counter above 0 and 1 to [`MAX_PARENTS`] distinct parents.
fn check(op: &Op) -> Result<(), OpError> {
    op.action.check()?;
    let genesis = matches!(op.action, Action::Create { .. });
    if genesis != (op.counter == 0) || genesis != op.parents.is_empty() {
        return Err(OpError::Malformed(
            "a genesis alone has counter 0 and no parents".into(),
        ));
    }
    if op.parents.len() > MAX_PARENTS {
        return Err(OpError::Malformed(format!(
            "{} parents (at most {MAX_PARENTS})",
            op.parents.len()
        )));
    }
    let mut parents = op.parents.clone();
    parents.sort_unstable();
    parents.dedup();
    if parents.len() != op.parents.len() {
        return Err(OpError::Malformed("a parent named twice".into()));
    }
    Ok(())
}

pub(super) fn signed_bytes(author: &EndpointId, body: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(OP_SIGNING_DOMAIN.len() + 32 + body.len());
    data.extend_from_slice(OP_SIGNING_DOMAIN);
    data.extend_from_slice(author.as_bytes());
    data.extend_from_slice(body);
    data
}

//! An [`OpLog`] as bytes: what a member sends a newcomer (inside a [`super::KeyAnswer`]) and
//! what the store keeps.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use super::merge::{LogError, OpLog};
use super::op::{Action, OpHash, SignedOp};
use super::{MAX_OP_BYTES, MAX_OPS, MAX_OPS_PER_MEMBER, Role};
use crate::proto::EndpointId;

/// The first byte of an encoded log.
pub const LOG_VERSION: u8 = 1;
/// The largest encoded log: the version, the list's length (2 bytes of varint) and the genesis
/// with [`MAX_OPS`] operations, each framed by its length (2 bytes of varint).
pub const MAX_LOG_BYTES: usize = (MAX_OPS + 1) * (MAX_OP_BYTES + 2) + 8;

impl OpLog {
    /// `LOG_VERSION ‖ postcard([genesis, op, ...])`, each operation as its signed bytes.
    pub fn encode(&self) -> Vec<u8> {
        let all: Vec<EncodedOp<'_>> = std::iter::once(self.genesis())
            .chain(self.ops())
            .map(|o| EncodedOp(o.bytes()))
            .collect();
        let mut out = vec![LOG_VERSION];
        out.extend(postcard::to_stdvec(&all).unwrap_or_default());
        out
    }

    /// Check and decode a log received from a member: every operation must verify (an honest
    /// member never holds one that does not), be of the genesis's room, and be within bounds.
    ///
    /// The per-author bound is checked once for the whole log rather than per operation (which
    /// would fold the log once per operation of an admin): a key with more than
    /// [`MAX_OPS_PER_MEMBER`] operations must have been an admin or the owner at some point of
    /// the log's fold (an admin demoted later keeps what it did as one).
    pub fn decode(bytes: &[u8]) -> Result<Self, LogError> {
        if bytes.len() > MAX_LOG_BYTES {
            return Err(LogError::Malformed(format!("{} bytes", bytes.len())));
        }
        let Some((&version, body)) = bytes.split_first() else {
            return Err(LogError::Malformed("empty".into()));
        };
        if version != LOG_VERSION {
            return Err(LogError::UnknownVersion(version));
        }
        let all: Vec<&[u8]> =
            postcard::from_bytes(body).map_err(|e| LogError::Malformed(e.to_string()))?;
        let mut all = all.into_iter();
        let genesis = all.next().ok_or(LogError::Genesis)?;
        let mut log = Self::new(SignedOp::decode(genesis)?)?;
        for op in all {
            log.insert_uncapped(SignedOp::decode(op)?)?;
        }
        let prolific: Vec<EndpointId> = log
            .ops()
            .map(|o| o.author)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|author| log.authored_by(author) > MAX_OPS_PER_MEMBER)
            .collect();
        if !prolific.is_empty() {
            let privileged = log.ever_privileged();
            if prolific.iter().any(|author| !privileged.contains(author)) {
                return Err(LogError::AuthorFull);
            }
        }
        Ok(log)
    }

    /// Every key that was an admin or the owner at some point of the fold: the genesis's
    /// author, the admins and owner at the end, and whoever an applied operation made one.
    fn ever_privileged(&self) -> BTreeSet<EndpointId> {
        let folded = self.folded();
        let not_applied: HashSet<&OpHash> = folded
            .skipped
            .iter()
            .map(|s| &s.op)
            .chain(&folded.waiting)
            .collect();
        let mut keys: BTreeSet<EndpointId> = folded
            .state
            .members()
            .filter(|(_, role)| *role >= Role::Admin)
            .map(|(key, _)| *key)
            .collect();
        keys.insert(self.genesis().author);
        for o in self.ops().filter(|o| !not_applied.contains(&o.hash)) {
            match &o.op.action {
                Action::SetRole {
                    who,
                    role: Role::Admin,
                }
                | Action::HandOver { to: who } => {
                    keys.insert(*who);
                }
                _ => {}
            }
        }
        keys
    }
}

/// One operation's signed bytes inside an encoded log, written as postcard bytes (length, bytes).
struct EncodedOp<'a>(&'a [u8]);

impl Serialize for EncodedOp<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

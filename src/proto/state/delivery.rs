//! A key delivery's answer: what a member (the epoch's keyholder, or anyone who holds the key)
//! sends a member that asks for the current epoch's key. It carries the sender's whole log, so
//! the asker can fold it and see the epoch and its operation for itself before using the key.
//!
//! Layout: `DELIVERY_VERSION (1) ‖ epoch (8, little endian) ‖ epoch op (32) ‖ key (32) ‖ log`,
//! the log as [`OpLog::encode`] writes it. This is the plaintext: the transport (a connection
//! between two members' keys) is what keeps the key secret. Whether the epoch and its
//! operation agree with the log's fold is the receiver's to check (it folds anyway).

use super::merge::{LogError, OpLog};
use super::op::OpHash;
use super::{MAX_LOG_BYTES, RoomId};
use crate::proto::seal::EpochKey;

/// The first byte of an encoded [`KeyAnswer`].
pub const DELIVERY_VERSION: u8 = 1;
/// Bytes before the log: version, epoch, epoch op, key.
const HEADER_LEN: usize = 1 + 8 + 32 + 32;
/// The largest encoded answer: the largest log plus the header, with room to spare.
pub const MAX_KEY_ANSWER_BYTES: usize = MAX_LOG_BYTES + 1024;

/// An epoch's key with the log that says which epoch it is.
#[derive(Debug, Clone)]
pub struct KeyAnswer {
    pub log: OpLog,
    pub epoch: u64,
    /// The operation that started `epoch` ([`super::RoomState::epoch_op`]).
    pub epoch_op: OpHash,
    pub key: EpochKey,
}

impl KeyAnswer {
    pub fn encode(&self) -> Vec<u8> {
        let log = self.log.encode();
        let mut out = Vec::with_capacity(HEADER_LEN + log.len());
        out.push(DELIVERY_VERSION);
        out.extend_from_slice(&self.epoch.to_le_bytes());
        out.extend_from_slice(&self.epoch_op.0);
        out.extend_from_slice(self.key.as_bytes());
        out.extend(log);
        out
    }

    /// Check and decode an answer about `room`: bounded, of this version, its log verifying
    /// and of `room`. Remote input: every failure is an error, never a panic.
    pub fn decode(bytes: &[u8], room: RoomId) -> Result<Self, LogError> {
        if bytes.len() > MAX_KEY_ANSWER_BYTES {
            return Err(LogError::Malformed(format!(
                "key answer of {} bytes",
                bytes.len()
            )));
        }
        let Some((&version, rest)) = bytes.split_first() else {
            return Err(LogError::Malformed("empty key answer".into()));
        };
        if version != DELIVERY_VERSION {
            return Err(LogError::UnknownVersion(version));
        }
        let short = || LogError::Malformed(format!("key answer of {} bytes", bytes.len()));
        let (epoch, rest) = rest.split_first_chunk::<8>().ok_or_else(short)?;
        let (epoch_op, rest) = rest.split_first_chunk::<32>().ok_or_else(short)?;
        let (key, log) = rest.split_first_chunk::<32>().ok_or_else(short)?;
        let log = OpLog::decode(log)?;
        if log.room() != room {
            return Err(LogError::OtherRoom);
        }
        Ok(Self {
            log,
            epoch: u64::from_le_bytes(*epoch),
            epoch_op: OpHash(*epoch_op),
            key: EpochKey::from_bytes(*key),
        })
    }
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;

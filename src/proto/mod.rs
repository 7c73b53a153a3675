//! The chat core: wire format, signatures, tickets, names and the room state machine.
//!
//! Contract: pure. No tokio, no iroh networking, no terminal, no disk. Time and randomness are
//! arguments; everything remote is validated here and every failure is a value.

pub mod backlog;
pub(crate) mod direct;
pub mod invite;
pub mod lan;
pub mod limits;
pub(crate) mod name_index;
pub mod names;
pub mod room;
pub mod seal;
pub mod sim;
pub mod state;
pub mod ticket;
pub mod wire;

mod members;
mod seen;

use std::fmt;
use std::str::FromStr;

use data_encoding::HEXLOWER;
use serde::{Deserialize, Serialize};

pub use iroh_base::{EndpointAddr, PublicKey as EndpointId, SecretKey};
pub use members::{Directory, MAX_KNOWN_KEYS, MemberInfo, PresenceTiming};

/// A room's gossip topic: 32 random bytes chosen by whoever opened the room.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TopicId([u8; 32]);

impl TopicId {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 5 bytes as hex, for status lines.
    pub fn fmt_short(&self) -> String {
        HEXLOWER.encode(&self.0[..5])
    }
}

impl fmt::Display for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&HEXLOWER.encode(&self.0))
    }
}

impl fmt::Debug for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TopicId({})", self.fmt_short())
    }
}

impl FromStr for TopicId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = HEXLOWER
            .decode(s.trim().to_ascii_lowercase().as_bytes())
            .map_err(|_| "a topic is 64 hex characters".to_string())?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "a topic is 64 hex characters".to_string())?;
        Ok(Self(bytes))
    }
}

/// A message's identity: the blake3 hash of its signed envelope bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId([u8; 32]);

impl MessageId {
    /// The smallest id, for range queries.
    pub const MIN: Self = Self([0; 32]);

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn of(envelope: &[u8]) -> Self {
        Self(*blake3::hash(envelope).as_bytes())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&HEXLOWER.encode(&self.0))
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", HEXLOWER.encode(&self.0[..5]))
    }
}

/// Wall-clock time: milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixMillis(pub u64);

impl UnixMillis {
    pub fn now() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }
}

/// Four numbers fixed by two keys (blake3 of both): each member draws otherwise for each other
/// member (where to answer in a window, whether to answer, how long to wait before a report),
/// and runs stay reproducible.
pub(crate) fn pair_draw(a: &EndpointId, b: &EndpointId) -> [u64; 4] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(a.as_bytes());
    hasher.update(b.as_bytes());
    let hash = hasher.finalize();
    let mut words = [0u64; 4];
    for (word, bytes) in words.iter_mut().zip(hash.as_bytes().chunks_exact(8)) {
        let mut le = [0u8; 8];
        le.copy_from_slice(bytes);
        *word = u64::from_le_bytes(le);
    }
    words
}

/// "Now", as the state machine sees it: a monotonic instant for timers and the wall clock for
/// timestamps. Tests build both from a fake clock.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub at: std::time::Instant,
    pub wall: UnixMillis,
}

impl Now {
    pub fn system() -> Self {
        Self {
            at: std::time::Instant::now(),
            wall: UnixMillis::now(),
        }
    }

    /// The same clock moved forward by `d` (for fake clocks in tests and the simulator).
    pub fn after(self, d: std::time::Duration) -> Self {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            at: self.at + d,
            wall: UnixMillis(self.wall.0.saturating_add(ms)),
        }
    }
}

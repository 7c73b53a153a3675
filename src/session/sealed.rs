//! A private room's session runs sealed (issue 23, "a key per epoch"): it talks on the topic
//! its epoch key derives, seals every envelope it hands to that topic and opens every one it
//! receives before the room parses it or checks its signature. What does not open (plaintext
//! from a public parlor on the topic, another epoch's or another room's key, garbage) is
//! counted and dropped, never parsed and never logged one by one: anyone who learns the topic
//! can send, and a log line per envelope would be theirs to fill.
//!
//! Catch-up (`parlor/history/1`: history pages and member lists) is not sealed yet: a private
//! session neither serves it nor asks for it (see [`Actor::catch_up_allowed`]), so nothing
//! reaches its room unsealed by that way either.

use super::actor::Actor;
use crate::proto::TopicId;
use crate::proto::seal::{self, EpochKey, MessageKey};
use crate::proto::state::RoomId;

/// A private room's identity and the key of the epoch the session runs in.
#[derive(Debug, Clone)]
pub struct PrivateSpec {
    pub room: RoomId,
    pub key: EpochKey,
}

impl PrivateSpec {
    /// The gossip topic of this epoch (the ticket's topic, if any, is not used).
    pub fn topic(&self) -> TopicId {
        seal::topic_of(&self.room, &self.key)
    }
}

/// Bytes from the topic as the room may read them: as they came in a public room (`None`),
/// opened in a private one (`None` back: dropped, counted in [`Actor::unopened`]). A function
/// of the field, not the actor: the loop's other branches hold borrows of the rest of it.
pub(super) fn unseal(sealing: &mut Option<Sealing>, bytes: &[u8]) -> Option<Vec<u8>> {
    match sealing {
        None => Some(bytes.to_vec()),
        Some(sealing) => sealing.open(bytes),
    }
}

/// The session's sealing state: the epoch's message key and what did not open with it.
pub(super) struct Sealing {
    key: MessageKey,
    unopened: u64,
}

impl Sealing {
    pub(super) fn new(spec: &PrivateSpec) -> Self {
        Self {
            key: seal::message_key(&spec.key),
            unopened: 0,
        }
    }

    /// Opened bytes, or `None` (counted) for anything sealed otherwise or not at all.
    fn open(&mut self, sealed: &[u8]) -> Option<Vec<u8>> {
        match seal::open(&self.key, sealed) {
            Ok(envelope) => Some(envelope),
            Err(_) => {
                self.unopened = self.unopened.saturating_add(1);
                None
            }
        }
    }
}

impl Actor {
    /// Bytes for the topic: the room's envelope as it is in a public room, sealed in a
    /// private one.
    pub(super) fn sealed(&self, envelope: Vec<u8>) -> Vec<u8> {
        match &self.sealing {
            None => envelope,
            Some(sealing) => seal::seal(&sealing.key, &envelope),
        }
    }

    /// Envelopes received on the topic that did not open (always 0 in a public room).
    pub(super) fn unopened(&self) -> u64 {
        self.sealing.as_ref().map_or(0, |sealing| sealing.unopened)
    }

    /// Whether `parlor/history/1` (history and member lists) runs for this session, both
    /// ways: not for a private room until its answers are sealed too.
    pub(super) fn catch_up_allowed(&self) -> bool {
        self.sealing.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(key: u8) -> PrivateSpec {
        PrivateSpec {
            room: RoomId::from_bytes([1; 32]),
            key: EpochKey::from_bytes([key; 32]),
        }
    }

    #[test]
    fn only_what_this_epoch_sealed_opens_and_the_rest_is_counted() {
        let mut ours = Sealing::new(&spec(2));
        let theirs = Sealing::new(&spec(3));
        let envelope = b"\x01a signed envelope".to_vec();
        let sealed = seal::seal(&ours.key, &envelope);
        assert_eq!(ours.open(&sealed), Some(envelope.clone()));
        assert_eq!(ours.unopened, 0);
        // Plaintext, another key's seal, garbage, nothing.
        let other = seal::seal(&theirs.key, &envelope);
        for bytes in [&envelope[..], &other[..], &[0xff; 80][..], &[][..]] {
            assert_eq!(ours.open(bytes), None);
        }
        assert_eq!(ours.unopened, 4);
    }

    #[test]
    fn a_public_session_reads_the_topic_as_before() {
        let envelope = b"\x01a signed envelope".to_vec();
        assert_eq!(unseal(&mut None, &envelope), Some(envelope));
        assert_eq!(unseal(&mut None, &[]), Some(Vec::new()));
    }

    #[test]
    fn a_private_session_opens_what_it_sealed() {
        let mut sealing = Some(Sealing::new(&spec(2)));
        let envelope = b"\x01a signed envelope".to_vec();
        let sealed = seal::seal(&sealing.as_ref().map(|s| s.key.clone()).unwrap(), &envelope);
        assert_ne!(sealed, envelope);
        assert_eq!(unseal(&mut sealing, &sealed), Some(envelope.clone()));
        assert_eq!(unseal(&mut sealing, &envelope), None);
        assert_eq!(sealing.map(|s| s.unopened), Some(1));
    }

    #[test]
    fn the_topic_is_the_epochs_not_the_keys() {
        assert_eq!(spec(2).topic(), spec(2).topic());
        assert_ne!(spec(2).topic(), spec(3).topic());
        assert_ne!(spec(2).topic().as_bytes(), spec(2).key.as_bytes());
    }
}

//! A private room's session runs sealed (issue 23, "a key per epoch"): it talks on the topic
//! its epoch key derives, seals every envelope it hands to that topic and opens every one it
//! receives before the room parses it or checks its signature. What does not open (plaintext
//! from a public parlor on the topic, another epoch's or another room's key, garbage) is
//! counted and dropped, never parsed and never logged one by one: anyone who learns the topic
//! can send, and a log line per envelope would be theirs to fill.
//!
//! Catch-up (`parlor/history/1`: history pages and member lists) goes the same way: answers
//! are sealed envelope by envelope, and what comes back is opened before it is checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::actor::Actor;
use crate::proto::seal::{self, EpochKey, MessageKey};
use crate::proto::wire::MAX_ENVELOPE_SIZE;

/// Bytes from the topic as the room may read them: as they came in a public room (`None`),
/// opened in a private one (`None` back: dropped, counted in [`Actor::unopened`]). A function
/// of the field, not the actor: the loop's other branches hold borrows of the rest of it.
pub(super) fn unseal(sealing: &Option<Sealing>, bytes: &[u8]) -> Option<Vec<u8>> {
    match sealing {
        None => Some(bytes.to_vec()),
        Some(sealing) => sealing.open(bytes),
    }
}

/// The session's sealing state: the epoch's message key and how many envelopes did not open
/// with it (shared with the catch-up tasks, which open answers off the actor).
#[derive(Clone)]
pub(super) struct Sealing {
    key: MessageKey,
    unopened: Arc<AtomicU64>,
}

impl Sealing {
    pub(super) fn with_key(key: &EpochKey) -> Self {
        Self {
            key: seal::message_key(key),
            unopened: Arc::default(),
        }
    }

    /// Opened bytes, or `None` (counted) for anything sealed otherwise or not at all.
    fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        match seal::open(&self.key, sealed) {
            Ok(envelope) => Some(envelope),
            Err(_) => {
                self.unopened.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Count one more envelope dropped unread (opened, but not a member's).
    pub(super) fn count_unopened(&self) {
        self.unopened.fetch_add(1, Ordering::Relaxed);
    }

    fn unopened(&self) -> u64 {
        self.unopened.load(Ordering::Relaxed)
    }
}

/// A catch-up answer as it goes out: as it is in a public room, sealed in a private one. An
/// envelope whose seal would pass the asker's per-envelope limit is left out (the asker would
/// refuse the whole answer for it); we never send one that large, but a peer could have.
pub(super) fn seal_answer(sealing: Option<&Sealing>, envelopes: Vec<Arc<[u8]>>) -> Vec<Arc<[u8]>> {
    let Some(sealing) = sealing else {
        return envelopes;
    };
    envelopes
        .iter()
        .map(|envelope| seal::seal(&sealing.key, envelope))
        .filter(|sealed| sealed.len() <= MAX_ENVELOPE_SIZE)
        .map(Arc::from)
        .collect()
}

/// A catch-up answer as it came back, to be checked: as it is in a public room, opened in a
/// private one (what does not open is dropped and counted, like on the topic).
pub(super) fn open_answer(sealing: Option<&Sealing>, envelopes: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    match sealing {
        None => envelopes,
        Some(sealing) => envelopes.iter().filter_map(|e| sealing.open(e)).collect(),
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

    /// Envelopes received (on the topic or in catch-up answers) that did not open: always 0
    /// in a public room.
    pub(super) fn unopened(&self) -> u64 {
        self.sealing.as_ref().map_or(0, Sealing::unopened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> EpochKey {
        EpochKey::from_bytes([byte; 32])
    }

    #[test]
    fn only_what_this_epoch_sealed_opens_and_the_rest_is_counted() {
        let ours = Sealing::with_key(&key(2));
        let theirs = Sealing::with_key(&key(3));
        let envelope = b"\x01a signed envelope".to_vec();
        let sealed = seal::seal(&ours.key, &envelope);
        assert_eq!(ours.open(&sealed), Some(envelope.clone()));
        assert_eq!(ours.unopened(), 0);
        // Plaintext, another key's seal, garbage, nothing.
        let other = seal::seal(&theirs.key, &envelope);
        for bytes in [&envelope[..], &other[..], &[0xff; 80][..], &[][..]] {
            assert_eq!(ours.open(bytes), None);
        }
        assert_eq!(ours.unopened(), 4);
    }

    #[test]
    fn a_public_session_reads_the_topic_as_before() {
        let envelope = b"\x01a signed envelope".to_vec();
        assert_eq!(unseal(&None, &envelope), Some(envelope.clone()));
        assert_eq!(unseal(&None, &[]), Some(Vec::new()));
        let answer = vec![envelope.clone(), Vec::new()];
        assert_eq!(open_answer(None, answer.clone()), answer);
        let answer: Vec<Arc<[u8]>> = answer.into_iter().map(Arc::from).collect();
        assert_eq!(seal_answer(None, answer.clone()), answer);
    }

    #[test]
    fn a_private_session_opens_what_it_sealed() {
        let sealing = Some(Sealing::with_key(&key(2)));
        let envelope = b"\x01a signed envelope".to_vec();
        let sealed = seal::seal(&Sealing::with_key(&key(2)).key, &envelope);
        assert_ne!(sealed, envelope);
        assert_eq!(unseal(&sealing, &sealed), Some(envelope.clone()));
        assert_eq!(unseal(&sealing, &envelope), None);
        assert_eq!(sealing.as_ref().map(Sealing::unopened), Some(1));
        // Answers: sealed one by one, opened back, plaintext and oversize ones dropped.
        let too_big = vec![1; MAX_ENVELOPE_SIZE];
        let answer = [envelope.clone(), envelope.clone(), too_big].map(Arc::from);
        let sealed = seal_answer(sealing.as_ref(), answer.to_vec());
        assert_eq!(sealed.len(), 2);
        assert_ne!(sealed[0], sealed[1]);
        let mut mixed: Vec<Vec<u8>> = sealed.iter().map(|e| e.to_vec()).collect();
        mixed.push(envelope.clone());
        let opened = open_answer(sealing.as_ref(), mixed);
        assert_eq!(opened, [envelope.clone(), envelope]);
        assert_eq!(sealing.as_ref().map(Sealing::unopened), Some(2));
    }
}

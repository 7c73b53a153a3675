//! Sealing per epoch: a private room's envelopes travel encrypted under the key of the room's
//! current epoch. Pure: keys and nonces are values; only [`EpochKey::generate`] and [`seal`] draw
//! randomness (the `_with_nonce` forms take it as an argument, for tests and benches).
//!
//! Every epoch has a random 32-byte [`EpochKey`]. Two things derive from it with blake3's
//! `derive_key`, each under its own context string, so neither reveals the other or the key:
//! - the gossip topic ([`topic_of`]: context, room id and key), so a removed member, who keeps
//!   the old key, is not even subscribed to where the next epoch talks;
//! - the message key ([`message_key`]), the XChaCha20-Poly1305 key envelopes are sealed with.
//!
//! Sealed layout: `version (1) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`. The nonce is random: 24
//! bytes make collisions negligible without any counter to keep between runs. The version byte
//! is authenticated (it is the associated data, after a domain string).

use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::{AeadInOut, Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};

use super::TopicId;
use super::state::RoomId;

/// The only sealed format this build speaks.
pub const SEAL_VERSION: u8 = 1;
/// Bytes of the random nonce after the version byte.
pub const NONCE_LEN: usize = 24;
/// Bytes of the authentication tag at the end.
pub const TAG_LEN: usize = 16;
/// What sealing adds to an envelope.
pub const SEAL_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// blake3 `derive_key` contexts: globally unique, fixed forever (changing one changes every
/// topic or key), and distinct so a topic never equals a message key.
const ROOM_TOPIC_CONTEXT: &str = "parlor 2026-12 private room lasting topic v1";
const TOPIC_CONTEXT: &str = "parlor 2026-12 private room epoch topic v1";
const MESSAGE_KEY_CONTEXT: &str = "parlor 2026-12 private room epoch message key v1";
/// Associated data: the domain, then the version byte.
const SEAL_DOMAIN: &[u8] = b"parlor-sealed-v1";

/// The secret of one epoch of a private room: whoever holds it reads and writes that epoch.
#[derive(Clone, PartialEq, Eq)]
pub struct EpochKey([u8; 32]);

impl EpochKey {
    /// A fresh random key, for a new room or a new epoch.
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

impl std::fmt::Debug for EpochKey {
    /// Never the key itself: it would end up in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EpochKey(..)")
    }
}

/// The key envelopes of an epoch are sealed with (derived, never the epoch key itself).
#[derive(Clone)]
pub struct MessageKey(XChaCha20Poly1305);

impl std::fmt::Debug for MessageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MessageKey(..)")
    }
}

/// The gossip topic of `room`'s epoch with key `key`: the room id is mixed in so two rooms that
/// somehow drew the same key still talk on different topics.
pub fn topic_of(room: &RoomId, key: &EpochKey) -> TopicId {
    let mut material = [0u8; 64];
    material[..32].copy_from_slice(room.as_bytes());
    material[32..].copy_from_slice(key.as_bytes());
    TopicId::from_bytes(blake3::derive_key(TOPIC_CONTEXT, &material))
}

/// A private room's lasting topic: what its envelopes are signed for, its history is kept
/// and asked under, whatever the epoch. Never subscribed to: only the epochs' topics
/// ([`topic_of`]) carry traffic, and one cannot be had from the other.
pub fn room_topic(room: &RoomId) -> TopicId {
    TopicId::from_bytes(blake3::derive_key(ROOM_TOPIC_CONTEXT, room.as_bytes()))
}

/// The first byte of a sealed plaintext that carries one signed state operation rather than
/// an envelope (whose first byte is the wire version, 1).
pub const OP_FRAME: u8 = 0xa5;

/// The message key of the epoch with key `key`.
pub fn message_key(key: &EpochKey) -> MessageKey {
    let derived = blake3::derive_key(MESSAGE_KEY_CONTEXT, key.as_bytes());
    MessageKey(XChaCha20Poly1305::new(&Key::from(derived)))
}

/// Why sealed bytes did not open. Remote input: counted and dropped, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("sealed envelope too short ({size} bytes)")]
    Truncated { size: usize },
    #[error("unknown sealed version {0}")]
    UnknownVersion(u8),
    /// Tampered, or sealed with another key (another epoch, another room, or a forger).
    #[error("sealed envelope does not open with this epoch's key")]
    NotOurs,
}

/// Seal `envelope` under `key` with a fresh random nonce.
pub fn seal(key: &MessageKey, envelope: &[u8]) -> Vec<u8> {
    seal_with_nonce(key, rand::random(), envelope)
}

/// Seal with a given nonce: a nonce must never be used twice with one key, so only tests and
/// benches call this directly.
pub fn seal_with_nonce(key: &MessageKey, nonce: [u8; NONCE_LEN], envelope: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SEAL_OVERHEAD + envelope.len());
    out.push(SEAL_VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(envelope);
    let body = &mut out[1 + NONCE_LEN..];
    // Fails only past ChaCha20's 256 GiB per message; no envelope comes near that.
    let tag = key
        .0
        .encrypt_inout_detached(
            &XNonce::from(nonce),
            &associated_data(),
            InOutBuf::from(body),
        )
        .unwrap_or_default();
    out.extend_from_slice(&tag);
    out
}

/// Open bytes sealed with [`seal`] under `key`: anything else (truncated, tampered, another
/// key, another version) is an [`OpenError`], checked before any byte of it is parsed.
pub fn open(key: &MessageKey, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    let size = sealed.len();
    if size < SEAL_OVERHEAD {
        return Err(OpenError::Truncated { size });
    }
    if sealed[0] != SEAL_VERSION {
        return Err(OpenError::UnknownVersion(sealed[0]));
    }
    let (nonce, rest) = sealed[1..].split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| OpenError::Truncated { size })?;
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| OpenError::Truncated { size })?;
    let mut plain = ciphertext.to_vec();
    key.0
        .decrypt_inout_detached(
            &XNonce::from(nonce),
            &associated_data(),
            InOutBuf::from(plain.as_mut_slice()),
            &Tag::from(tag),
        )
        .map_err(|_| OpenError::NotOurs)?;
    Ok(plain)
}

fn associated_data() -> [u8; SEAL_DOMAIN.len() + 1] {
    let mut aad = [0u8; SEAL_DOMAIN.len() + 1];
    aad[..SEAL_DOMAIN.len()].copy_from_slice(SEAL_DOMAIN);
    aad[SEAL_DOMAIN.len()] = SEAL_VERSION;
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &[u8] = &[b'x'; 200];

    fn key(byte: u8) -> MessageKey {
        message_key(&EpochKey::from_bytes([byte; 32]))
    }

    #[test]
    fn a_sealed_line_opens_with_its_key_and_hides_the_text() {
        let sealed = seal(&key(1), LINE);
        assert_eq!(sealed.len(), LINE.len() + SEAL_OVERHEAD);
        assert!(!sealed.windows(16).any(|w| w == &LINE[..16]));
        assert_eq!(open(&key(1), &sealed).as_deref(), Ok(LINE));
        assert_eq!(open(&key(1), &seal(&key(1), b"")).as_deref(), Ok(&b""[..]));
    }

    #[test]
    fn two_seals_of_one_line_differ() {
        assert_ne!(seal(&key(1), LINE), seal(&key(1), LINE));
    }

    #[test]
    fn another_key_does_not_open_it() {
        let sealed = seal(&key(1), LINE);
        assert_eq!(open(&key(2), &sealed), Err(OpenError::NotOurs));
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let sealed = seal_with_nonce(&key(1), [7; NONCE_LEN], b"hello");
        for at in 0..sealed.len() {
            for bit in 0..8 {
                let mut tampered = sealed.clone();
                tampered[at] ^= 1 << bit;
                assert!(open(&key(1), &tampered).is_err(), "byte {at} bit {bit}");
            }
        }
    }

    #[test]
    fn truncated_and_foreign_bytes_are_refused() {
        let sealed = seal(&key(1), LINE);
        for len in 0..SEAL_OVERHEAD {
            assert_eq!(
                open(&key(1), &sealed[..len]),
                Err(OpenError::Truncated { size: len })
            );
        }
        for len in SEAL_OVERHEAD..sealed.len() {
            assert_eq!(open(&key(1), &sealed[..len]), Err(OpenError::NotOurs));
        }
        let mut other_version = sealed.clone();
        other_version[0] = 2;
        assert_eq!(
            open(&key(1), &other_version),
            Err(OpenError::UnknownVersion(2))
        );
        // A plaintext envelope (wire version 1 first) is never taken for a sealed one.
        let mut plaintext = vec![1u8];
        plaintext.extend_from_slice(LINE);
        assert_eq!(open(&key(1), &plaintext), Err(OpenError::NotOurs));
    }

    #[test]
    fn topics_and_keys_differ_per_room_and_epoch() {
        let room = RoomId::from_bytes([1; 32]);
        let (a, b) = (EpochKey::from_bytes([2; 32]), EpochKey::from_bytes([3; 32]));
        assert_ne!(topic_of(&room, &a), topic_of(&room, &b));
        assert_ne!(
            topic_of(&room, &a),
            topic_of(&RoomId::from_bytes([9; 32]), &a)
        );
        assert_eq!(topic_of(&room, &a), topic_of(&room, &a.clone()));
        // The topic, seen by anyone on the network, is not the message key.
        let derived = blake3::derive_key(MESSAGE_KEY_CONTEXT, a.as_bytes());
        assert_ne!(topic_of(&room, &a).as_bytes(), &derived);
        assert_ne!(EpochKey::generate(), EpochKey::generate());
        assert_eq!(format!("{a:?}"), "EpochKey(..)");
    }
}

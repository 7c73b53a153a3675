//! What the fuzz targets share: fixed keys and clock (so a crash replays exactly), the raw
//! envelope framing (so a target can sign JSON that `wire::seal` would never write), and the
//! character classes the sanitiser properties are checked against, written out independently
//! of the code under test.

use parlor::proto::wire::{MAX_CLOCK_SKEW_MS, Verified};
use parlor::proto::{MessageId, SecretKey, TopicId, UnixMillis};

pub const NOW: UnixMillis = UnixMillis(1_750_000_000_000);

pub fn topic() -> TopicId {
    TopicId::from_bytes([5; 32])
}

/// The key every structured envelope is signed with.
pub fn signer() -> SecretKey {
    SecretKey::from_bytes(&[1; 32])
}

/// Another member: a body naming it but signed by [`signer`] is a forgery.
pub fn other() -> SecretKey {
    SecretKey::from_bytes(&[2; 32])
}

/// Frame and sign arbitrary payload bytes exactly as the wire format documents it
/// (`1 ‖ key ‖ sig(domain ‖ topic ‖ payload) ‖ payload`); `envelope_signed` checks this
/// against `wire::seal` so the two cannot drift apart unnoticed.
pub fn sign_raw(secret: &SecretKey, topic: &TopicId, json: &[u8]) -> Vec<u8> {
    let mut signed = b"parlor-envelope-v1".to_vec();
    signed.extend_from_slice(topic.as_bytes());
    signed.extend_from_slice(json);
    let sig = secret.sign(&signed);
    let mut out = vec![1];
    out.extend_from_slice(secret.public().as_bytes());
    out.extend_from_slice(&sig.to_bytes());
    out.extend_from_slice(json);
    out
}

/// What every accepted envelope must satisfy, whatever its bytes.
pub fn check_verified(v: &Verified, bytes: &[u8]) {
    assert_eq!(v.id, MessageId::of(bytes), "the id is the envelope's hash");
    assert_eq!(*v.body.from(), v.author, "the body names its signer");
    assert_eq!(
        v.author.as_bytes()[..],
        bytes[1..33],
        "the author is the framed key"
    );
    assert!(
        v.sent.0 <= NOW.0.saturating_add(MAX_CLOCK_SKEW_MS),
        "not from the future"
    );
}

/// The character classes the sanitiser properties are checked against, shared with the
/// property tests.
#[path = "../../tests/oracle/chars.rs"]
pub mod chars;

pub use chars::{acts_on_terminal, is_format};

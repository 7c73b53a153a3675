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

/// Unicode general category Cf (format), Unicode 16: invisible characters that change how
/// text around them is shown.
pub fn is_format(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}' | '\u{890}'..='\u{891}'
        | '\u{8E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// What a terminal may act on or hide text with: C0, DEL, C1, bidi controls, the line and
/// paragraph separators, and tag characters. `terminal_safe` output must hold none.
pub fn acts_on_terminal(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{61C}' | '\u{200E}' | '\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
        | '\u{E0000}'..='\u{E007F}')
}

//! The wire format: every parlor message travels as a versioned envelope signed with the author's
//! endpoint key. Pure: bytes in, values out; every decode failure is a [`Rejection`] value.
//!
//! Envelope layout, version 1 (all offsets in bytes):
//!
//! | range   | content                                                              |
//! |---------|----------------------------------------------------------------------|
//! | 0       | wire version (`1`)                                                   |
//! | 1..33   | author: ed25519 public key (the endpoint id)                         |
//! | 33..97  | ed25519 signature over `SIGNING_DOMAIN ‖ topic (32 B) ‖ payload`     |
//! | 97..    | payload: UTF-8 JSON [`Payload`] `{"nonce":..,"sent":..,"body":{..}}` |
//!
//! The topic is signed but not sent, so an envelope cannot be replayed into another room.

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;
use iroh_base::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};

use super::{MessageId, TopicId, UnixMillis};

/// The only wire version this build speaks.
pub const WIRE_VERSION: u8 = 1;
/// iroh-gossip's `max_message_size`, configured identically on every parlor peer: a peer with a
/// smaller limit would silently kill the link on the first larger message.
pub const MAX_GOSSIP_MESSAGE_SIZE: usize = 32 * 1024;
/// The largest envelope we send or accept. iroh-gossip needs 39 bytes of framing on top of the
/// payload; the rest of the margin is slack for future framing changes.
pub const MAX_ENVELOPE_SIZE: usize = MAX_GOSSIP_MESSAGE_SIZE - 64;
/// Envelopes sent more than this far in the future (by the receiver's clock) are dropped.
pub const MAX_CLOCK_SKEW_MS: u64 = 10 * 60 * 1000;

const SIGNING_DOMAIN: &[u8] = b"parlor-envelope-v1";
pub(super) const HEADER_LEN: usize = 1 + 32 + 64;

/// What a message says. `from` is repeated inside the signed body, as in the seed design; a
/// receiver accepts the envelope only if it equals the signer. `K` is the key's form: parsed
/// everywhere but inside [`Verifier::open`], which reads it as text to compare with the signer
/// (parsing would decompress the curve point once more per message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum MessageBody<K = PublicKey> {
    /// A newcomer asks every member to introduce itself.
    WhoIsThere { from: K },
    /// "This is my name": sent on joining, on rename, in answer to `WhoIsThere`, and as the slow
    /// presence heartbeat. `every`: seconds until the author's next heartbeat at the latest
    /// (it grows with the room); absent from peers that predate it, which beat every 30 s.
    AboutMe {
        from: K,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        every: Option<u32>,
    },
    /// A chat line; `action` marks an IRC-style `/me` line. Peers that predate the flag
    /// ignore it and show the text.
    Message {
        from: K,
        text: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        action: bool,
        /// A shared file (the text is its name, so peers that predate files show that).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<FileRef>,
        /// A reply: the id (hex) of the line it answers. Peers that predate replies show
        /// the text as a line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
        /// Not a line but a change to one (a reaction, an edit, a delete); the text is what
        /// peers that predate changes show instead (an edit's text is the new text).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change: Option<WireChange>,
    },
    /// The author is leaving the room on purpose.
    Leave { from: K },
    /// The author lost its link to member `who` (hex key) and heard nothing from it since:
    /// `who`, if here, answers with its `AboutMe`; the others forget it if nobody hears from
    /// it soon. Peers that predate it drop it as malformed.
    Missing { from: K, who: String },
    /// The room's name (`/topic`, or the label a room was opened with). The newest valid one
    /// wins (ties: the greater author key, then message id); members serve it with their
    /// member list, so late joiners learn it. Peers that predate it drop it as malformed.
    RoomInfo { from: K, name: String },
    /// The author is typing (at most one every few seconds; never kept or served). Peers
    /// that predate it drop it as malformed.
    Typing { from: K },
}

impl<K> MessageBody<K> {
    /// The author the body claims; must equal the envelope's signer.
    pub fn from(&self) -> &K {
        match self {
            Self::WhoIsThere { from }
            | Self::AboutMe { from, .. }
            | Self::Message { from, .. }
            | Self::Leave { from }
            | Self::Missing { from, .. }
            | Self::RoomInfo { from, .. }
            | Self::Typing { from } => from,
        }
    }

    /// The same body with its author replaced.
    fn with_author<L>(self, author: L) -> MessageBody<L> {
        match self {
            Self::WhoIsThere { .. } => MessageBody::WhoIsThere { from: author },
            Self::AboutMe { name, every, .. } => MessageBody::AboutMe {
                from: author,
                name,
                every,
            },
            Self::Message {
                text,
                action,
                file,
                reply_to,
                change,
                ..
            } => MessageBody::Message {
                from: author,
                text,
                action,
                file,
                reply_to,
                change,
            },
            Self::Leave { .. } => MessageBody::Leave { from: author },
            Self::Missing { who, .. } => MessageBody::Missing { from: author, who },
            Self::RoomInfo { name, .. } => MessageBody::RoomInfo { from: author, name },
            Self::Typing { .. } => MessageBody::Typing { from: author },
        }
    }
}

/// A change to a line, as it travels: the line it is about (`to`, its id in hex) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireChange {
    /// Add (`on`) or take back one emoji on a line; anyone may.
    React { to: String, emoji: String, on: bool },
    /// The line's new text is the message's text; only the line's author may.
    Edit { to: String },
    /// The line is gone; its author may, and in a private room an admin.
    Delete { to: String },
}

/// Bytes a presence envelope (`AboutMe`, `Leave`, `WhoIsThere`, `Missing`, `Typing`) may
/// take: a name is at most 32 characters, so an honest one is a few hundred bytes. Rooms
/// keep one `AboutMe` per key they know (and the store one per member): at the 32 KiB any
/// envelope may have, minted keys could fill hundreds of MB (issue 25).
pub const MAX_PRESENCE_BYTES: usize = 1024;

/// Whether `body` is presence (bounded by [`MAX_PRESENCE_BYTES`]).
pub fn is_presence<K>(body: &MessageBody<K>) -> bool {
    matches!(
        body,
        MessageBody::AboutMe { .. }
            | MessageBody::Leave { .. }
            | MessageBody::WhoIsThere { .. }
            | MessageBody::Missing { .. }
            | MessageBody::Typing { .. }
    )
}

/// Bytes an emoji (one grapheme, or a `:name:`) may take on the wire.
pub const MAX_EMOJI_BYTES: usize = 32;

impl WireChange {
    pub fn to(&self) -> &str {
        match self {
            Self::React { to, .. } | Self::Edit { to } | Self::Delete { to } => to,
        }
    }
}

/// A line id as the wire carries it (64 lowercase hex digits), or `None`.
pub fn parse_message_id(hex: &str) -> Option<MessageId> {
    if hex.len() != 64 {
        return None;
    }
    let bytes = data_encoding::HEXLOWER.decode(hex.as_bytes()).ok()?;
    Some(MessageId::from_bytes(<[u8; 32]>::try_from(bytes).ok()?))
}

/// An emoji fit to carry: 1 to [`MAX_EMOJI_BYTES`] bytes, no whitespace or control or
/// invisible characters (so a reaction cannot carry a message or break a row), save the
/// joiner and the tag characters emoji sequences are made of (👨‍👩‍👧, flags).
pub fn valid_emoji(emoji: &str) -> bool {
    let joins = |c: char| c == '\u{200D}' || ('\u{E0020}'..='\u{E007F}').contains(&c);
    !emoji.is_empty()
        && emoji.len() <= MAX_EMOJI_BYTES
        && emoji.chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && (joins(c) || !super::names::is_invisible(c))
        })
}

/// Files larger than this are refused when offered: no chat shares a petabyte, and a size is
/// shown and compared before anything is fetched.
pub const MAX_FILE_SIZE: u64 = 1 << 40;
/// Bytes a shared file's claimed name and media type may take.
pub const MAX_FILE_NAME_BYTES: usize = 255;
const MAX_MIME_BYTES: usize = 127;

/// How people name the file whose hash is `hash` (`/get HANDLE`): its first 8 hex digits.
pub fn handle_of(hash: &str) -> String {
    hash.chars().take(8).collect()
}

/// A file shared in a message: its BLAKE3 hash (as iroh-blobs names content, 64 hex), size,
/// the name the sender gave it and its media type. Checked on arrival ([`FileRef::check`]);
/// the name is a claim, made safe again wherever it is shown or saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub hash: String,
    pub size: u64,
    pub name: String,
    #[serde(default)]
    pub mime: String,
}

impl FileRef {
    /// How people name it (`/get HANDLE`): the hash's first 8 hex digits.
    pub fn handle(&self) -> String {
        handle_of(&self.hash)
    }

    /// Why an offer cannot be taken as it is: a hash that is no hash, an absurd size, a
    /// missing or oversized name, a media type that is not `type/subtype`.
    pub fn check(&self) -> Result<(), String> {
        let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if self.hash.len() != 64 || !self.hash.chars().all(hex) {
            return Err("a file hash is 64 lowercase hex digits".into());
        }
        if self.size > MAX_FILE_SIZE {
            return Err(format!("a file of {} bytes is beyond any limit", self.size));
        }
        if self.name.trim().is_empty() || self.name.len() > MAX_FILE_NAME_BYTES {
            return Err("a file name is 1 to 255 bytes".into());
        }
        let token = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
        };
        let mime_ok = self.mime.is_empty()
            || (self.mime.len() <= MAX_MIME_BYTES
                && self
                    .mime
                    .split_once('/')
                    .is_some_and(|(kind, sub)| token(kind) && token(sub)));
        if !mime_ok {
            return Err("a media type is type/subtype".into());
        }
        Ok(())
    }
}

/// The signed JSON payload. The nonce makes every envelope unique: iroh-gossip drops content it
/// has seen recently, so without it a second "ok" would vanish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload<K = PublicKey> {
    pub nonce: u64,
    /// Sender's wall clock, milliseconds since the Unix epoch.
    pub sent: u64,
    pub body: MessageBody<K>,
}

/// An envelope whose signature, author and timestamp checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub id: MessageId,
    pub author: PublicKey,
    pub sent: UnixMillis,
    pub body: MessageBody,
}

/// Why an incoming envelope was dropped. Remote input is data: these are counted, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("envelope of {size} bytes exceeds the {MAX_ENVELOPE_SIZE} byte limit")]
    Oversize { size: usize },
    #[error("envelope too short ({size} bytes)")]
    Truncated { size: usize },
    #[error("unknown wire version {0}")]
    UnknownVersion(u8),
    #[error("signature does not verify")]
    BadSignature,
    #[error("malformed payload: {0}")]
    Malformed(String),
    #[error("body claims author {claimed} but was signed by {signer}")]
    FromMismatch {
        claimed: PublicKey,
        signer: PublicKey,
    },
    #[error("sent {ahead_ms} ms in the future")]
    FutureTimestamp { ahead_ms: u64 },
    #[error("replay of an envelope already seen")]
    Replay,
    /// In a catch-up answer: sent before the time asked for (a member stuffing history).
    #[error("sent {early_ms} ms before the time asked for")]
    OutsideWindow { early_ms: u64 },
}

impl Rejection {
    /// A stable short name, for counters and log lines.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Oversize { .. } => "oversize",
            Self::Truncated { .. } => "truncated",
            Self::UnknownVersion(_) => "unknown_version",
            Self::BadSignature => "bad_signature",
            Self::Malformed(_) => "malformed",
            Self::FromMismatch { .. } => "from_mismatch",
            Self::FutureTimestamp { .. } => "future_timestamp",
            Self::Replay => "replay",
            Self::OutsideWindow { .. } => "outside_window",
        }
    }
}

/// The sealed envelope would not fit the gossip message limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("message is {size} bytes once signed; the limit is {MAX_ENVELOPE_SIZE}")]
pub struct TooLarge {
    pub size: usize,
}

/// Serialize, sign and frame a payload.
pub fn seal(secret: &SecretKey, topic: &TopicId, payload: &Payload) -> Result<Vec<u8>, TooLarge> {
    // Serializing plain structs and strings to JSON cannot fail.
    let json = serde_json::to_vec(payload).unwrap_or_default();
    let size = HEADER_LEN + json.len();
    if size > MAX_ENVELOPE_SIZE {
        return Err(TooLarge { size });
    }
    let signature = secret.sign(&signed_bytes(topic, &json));
    Ok(frame(&secret.public(), &signature, &json))
}

/// `version ‖ author ‖ signature ‖ json`: the layout shared with direct messages.
pub(super) fn frame(author: &PublicKey, signature: &iroh_base::Signature, json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + json.len());
    out.push(WIRE_VERSION);
    out.extend_from_slice(author.as_bytes());
    out.extend_from_slice(&signature.to_bytes());
    out.extend_from_slice(json);
    out
}

/// A framed envelope's parts: author key, signature, JSON payload.
pub(super) type Parts<'a> = ([u8; 32], [u8; 64], &'a [u8]);

/// Split a framed envelope into its [`Parts`], checking size and version.
pub(super) fn unframe(bytes: &[u8]) -> Result<Parts<'_>, Rejection> {
    let size = bytes.len();
    if size > MAX_ENVELOPE_SIZE {
        return Err(Rejection::Oversize { size });
    }
    if size < HEADER_LEN {
        return Err(Rejection::Truncated { size });
    }
    if bytes[0] != WIRE_VERSION {
        return Err(Rejection::UnknownVersion(bytes[0]));
    }
    let (key, rest) = bytes[1..].split_at(32);
    let (sig, json) = rest.split_at(64);
    let key: [u8; 32] = key.try_into().map_err(|_| Rejection::Truncated { size })?;
    let sig: [u8; 64] = sig.try_into().map_err(|_| Rejection::Truncated { size })?;
    Ok((key, sig, json))
}

/// Check and decode an envelope received on `topic` at wall-clock time `now`, with no memory of
/// earlier authors; a [`Verifier`] is the fast way for a stream of envelopes.
pub fn open(bytes: &[u8], topic: &TopicId, now: UnixMillis) -> Result<Verified, Rejection> {
    Verifier::default().open(bytes, topic, now)
}

/// A batch of envelopes (a catch-up answer, stored history) checked away from the room: the
/// signature checks of thousands of envelopes run on another thread, and the room only applies
/// what passed. Built only by [`check_batch`] (and by the simulator, which checks each envelope
/// once for all its members: [`crate::proto::sim::swarm`]).
#[derive(Debug, Default, Clone)]
pub struct CheckedBatch {
    pub(crate) accepted: Vec<(Verified, std::sync::Arc<[u8]>)>,
    pub(crate) rejected: Vec<Rejection>,
}

impl CheckedBatch {
    /// The send time of the newest chat message in the batch, and how many messages it has.
    pub fn newest_message(&self) -> Option<(UnixMillis, usize)> {
        let messages = self
            .accepted
            .iter()
            .filter(|(v, _)| matches!(v.body, MessageBody::Message { .. }));
        let (count, newest) = messages.fold((0, None), |(count, newest), (v, _)| {
            (count + 1, newest.max(Some(v.sent)))
        });
        newest.map(|sent| (sent, count))
    }
}

/// Check every envelope of a batch received on `topic` at `now` (see [`CheckedBatch`]).
pub fn check_batch(envelopes: Vec<Vec<u8>>, topic: &TopicId, now: UnixMillis) -> CheckedBatch {
    let mut verifier = Verifier::default();
    let mut batch = CheckedBatch::default();
    for bytes in envelopes {
        match verifier.open(&bytes, topic, now) {
            Ok(verified) => batch.accepted.push((verified, bytes.into())),
            Err(rejection) => batch.rejected.push(rejection),
        }
    }
    batch
}

/// Authors whose keys were seen recently, decompressed. Decompressing an ed25519 point costs a
/// field exponentiation (about a quarter of a signature check) and a room has few authors, so
/// each key is decompressed once instead of on every envelope.
#[derive(Default)]
pub struct Verifier {
    keys: HashMap<[u8; 32], (PublicKey, VerifyingKey)>,
}

impl Verifier {
    /// Keys kept; past this the memory starts over (a flood of throwaway keys cannot grow it).
    const CAPACITY: usize = 4096;

    /// Check and decode an envelope received on `topic` at wall-clock time `now`.
    /// Replays are not detected here (that needs memory of ids): see `room`.
    pub fn open(
        &mut self,
        bytes: &[u8],
        topic: &TopicId,
        now: UnixMillis,
    ) -> Result<Verified, Rejection> {
        let (key, sig, json) = unframe(bytes)?;
        let (author, verifying) = self.key(&key)?;
        // The same check as `PublicKey::verify`: strict, so no malleable or small-order forms.
        verifying
            .verify_strict(
                &signed_bytes(topic, json),
                &ed25519_dalek::Signature::from_bytes(&sig),
            )
            .map_err(|_| Rejection::BadSignature)?;
        let payload: Payload<ClaimedKey> =
            serde_json::from_slice(json).map_err(|e| Rejection::Malformed(e.to_string()))?;
        payload.body.from().check(author)?;
        let ahead_ms = payload.sent.saturating_sub(now.0);
        if ahead_ms > MAX_CLOCK_SKEW_MS {
            return Err(Rejection::FutureTimestamp { ahead_ms });
        }
        Ok(Verified {
            id: MessageId::of(bytes),
            author,
            sent: UnixMillis(payload.sent),
            body: payload.body.with_author(author),
        })
    }

    /// The author key `bytes`, decompressed once per key seen recently.
    pub(super) fn key(&mut self, bytes: &[u8; 32]) -> Result<(PublicKey, VerifyingKey), Rejection> {
        if let Some(known) = self.keys.get(bytes) {
            return Ok(*known);
        }
        // An invalid curve point cannot have produced a valid signature.
        let author = PublicKey::from_bytes(bytes).map_err(|_| Rejection::BadSignature)?;
        let verifying = VerifyingKey::from_bytes(bytes).map_err(|_| Rejection::BadSignature)?;
        if self.keys.len() >= Self::CAPACITY {
            self.keys.clear();
        }
        self.keys.insert(*bytes, (author, verifying));
        Ok((author, verifying))
    }
}

/// The author a body names, as written: compared with the signer before anything parses it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
struct ClaimedKey(String);

impl ClaimedKey {
    fn check(&self, signer: PublicKey) -> Result<(), Rejection> {
        // parlor writes keys as lowercase hex; any other spelling is parsed to compare.
        if self.0.len() == 64 && self.0 == signer.to_string() {
            return Ok(());
        }
        let claimed: PublicKey = self
            .0
            .parse()
            .map_err(|e| Rejection::Malformed(format!("bad author key: {e}")))?;
        if claimed == signer {
            Ok(())
        } else {
            Err(Rejection::FromMismatch { claimed, signer })
        }
    }
}

fn signed_bytes(topic: &TopicId, json: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(SIGNING_DOMAIN.len() + 32 + json.len());
    data.extend_from_slice(SIGNING_DOMAIN);
    data.extend_from_slice(topic.as_bytes());
    data.extend_from_slice(json);
    data
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;

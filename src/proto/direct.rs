//! Direct messages: one member to another over a direct connection, never through a room.
//! Pure: bytes in, values out.
//!
//! The envelope has the room envelope's layout (`wire`: version, author key, signature,
//! JSON payload) but its own signing domain and topic: the signature covers
//! `DIRECT_SIGNING_DOMAIN ‖ conversation(from, to) ‖ payload`. A room envelope is signed over
//! `"parlor-envelope-v1" ‖ topic ‖ payload`, so neither kind verifies as the other whatever
//! topic a room opener picks, and a DM verifies only in the conversation of its two keys.
//! The payload also names both keys, so a receiver checks it was meant for it.

use serde::{Deserialize, Serialize};

use super::names::clean_name;
use super::room::{LineChange, read_change, write_change};
use super::wire::{
    FileRef, HEADER_LEN, MAX_CLOCK_SKEW_MS, MAX_ENVELOPE_SIZE, Rejection, TooLarge, WireChange,
    frame, parse_message_id, unframe,
};
use super::{EndpointId, MessageId, SecretKey, UnixMillis};

/// Signed before the conversation and the payload; never used by room envelopes.
pub const DIRECT_SIGNING_DOMAIN: &[u8] = b"parlor-dm-v1";

/// The conversation of two keys, the same whoever computes it:
/// `blake3(DIRECT_SIGNING_DOMAIN ‖ min(a, b) ‖ max(a, b))`.
pub fn conversation(a: &EndpointId, b: &EndpointId) -> [u8; 32] {
    let (lo, hi) = if a.as_bytes() <= b.as_bytes() {
        (a, b)
    } else {
        (b, a)
    };
    let mut hasher = blake3::Hasher::new();
    hasher.update(DIRECT_SIGNING_DOMAIN);
    hasher.update(lo.as_bytes());
    hasher.update(hi.as_bytes());
    *hasher.finalize().as_bytes()
}

/// The signed JSON payload of a direct message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct DirectPayload {
    /// Makes two identical lines two messages (the id is the envelope's hash).
    nonce: u64,
    /// Sender's wall clock, unix ms.
    sent: u64,
    from: EndpointId,
    to: EndpointId,
    /// The sender's name, as it claims it.
    name: String,
    text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    action: bool,
    /// A shared file (the text is its name, as in rooms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<FileRef>,
    /// A reply: the id (hex) of the message it answers (as in rooms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<String>,
    /// A change to a message of the conversation (as in rooms; the text is the fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    change: Option<WireChange>,
}

/// Where a direct message stands, as each side sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DmState {
    /// Ours, not acknowledged by the addressee yet.
    Pending,
    /// Ours, saved by the addressee.
    Delivered,
    /// Theirs.
    Received,
}

impl DmState {
    /// The stored form.
    pub fn code(self) -> i64 {
        match self {
            Self::Pending => 0,
            Self::Delivered => 1,
            Self::Received => 2,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Received]
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// As the headless front end names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Received => "received",
        }
    }
}

/// A direct message, ours or theirs, as shown and stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectMessage {
    pub id: MessageId,
    pub from: EndpointId,
    pub to: EndpointId,
    /// The sender's claimed name, cleaned (a fingerprint when nothing was left).
    pub name: String,
    /// As sent: front ends sanitise it for the terminal, as for room lines.
    pub text: String,
    pub action: bool,
    /// A file offered in it, checked ([`FileRef::check`]).
    pub file: Option<FileRef>,
    pub sent: UnixMillis,
    pub state: DmState,
    /// A reply: the message it answers.
    pub reply_to: Option<Box<MessageId>>,
    /// Not a message but a change to one (checked against its author where it is kept).
    pub change: Option<Box<LineChange>>,
}

impl DirectMessage {
    /// The other side of the conversation, seen from `me`.
    pub fn peer(&self, me: &EndpointId) -> EndpointId {
        if self.from == *me { self.to } else { self.from }
    }
}

/// One conversation, for a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub peer: EndpointId,
    /// The name the peer last claimed in it (none before it wrote).
    pub name: Option<String>,
    /// When its newest message was sent.
    pub last: UnixMillis,
    /// Our messages it has not acknowledged yet.
    pub pending: usize,
}

/// A direct message with the envelope it travels in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedDirect {
    pub message: DirectMessage,
    pub envelope: Vec<u8>,
}

/// Why a direct message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectRejection {
    #[error(transparent)]
    Envelope(#[from] Rejection),
    #[error("addressed to {to}, not to us")]
    WrongAddressee { to: EndpointId },
}

impl DirectRejection {
    /// A stable short name: the tests tell rejections apart by it (the DM actor logs the
    /// rejection's text and counts none).
    #[cfg(test)]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Envelope(r) => r.kind(),
            Self::WrongAddressee { .. } => "wrong_addressee",
        }
    }
}

/// What a direct message to seal says.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub to: EndpointId,
    /// Our name; cleaned here.
    pub name: &'a str,
    pub text: &'a str,
    pub action: bool,
    pub file: Option<&'a FileRef>,
    pub sent: UnixMillis,
    pub nonce: u64,
    pub reply_to: Option<MessageId>,
    pub change: Option<&'a LineChange>,
}

/// Sign and frame a direct message (state `Pending`).
pub fn seal_direct(secret: &SecretKey, draft: &Draft<'_>) -> Result<SealedDirect, TooLarge> {
    let from = secret.public();
    let name = shown_name(draft.name, &from);
    let payload = DirectPayload {
        nonce: draft.nonce,
        sent: draft.sent.0,
        from,
        to: draft.to,
        name: name.clone(),
        text: draft.text.to_string(),
        action: draft.action,
        file: draft.file.cloned(),
        reply_to: draft.reply_to.map(|id| id.to_string()),
        change: draft.change.map(write_change),
    };
    // Serializing plain structs and strings to JSON cannot fail.
    let json = serde_json::to_vec(&payload).unwrap_or_default();
    let size = HEADER_LEN + json.len();
    if size > MAX_ENVELOPE_SIZE {
        return Err(TooLarge { size });
    }
    let signature = secret.sign(&signed_bytes(&from, &draft.to, &json));
    let envelope = frame(&from, &signature, &json);
    let message = DirectMessage {
        id: MessageId::of(&envelope),
        from,
        to: draft.to,
        name,
        text: payload.text,
        action: draft.action,
        file: payload.file,
        sent: draft.sent,
        state: DmState::Pending,
        reply_to: draft.reply_to.map(Box::new),
        change: draft.change.cloned().map(Box::new),
    };
    Ok(SealedDirect { message, envelope })
}

/// Check a direct message received by `me` at `now`: size, version, addressee, author, the
/// signature over its conversation, and the clock (old is fine: queued messages come late).
/// State `Received`.
pub fn open_direct(
    bytes: &[u8],
    me: &EndpointId,
    now: UnixMillis,
) -> Result<DirectMessage, DirectRejection> {
    let (key, sig, json) = unframe(bytes)?;
    // An invalid curve point cannot have produced a valid signature.
    let signer = EndpointId::from_bytes(&key).map_err(|_| Rejection::BadSignature)?;
    let payload: DirectPayload =
        serde_json::from_slice(json).map_err(|e| Rejection::Malformed(e.to_string()))?;
    if payload.to != *me {
        return Err(DirectRejection::WrongAddressee { to: payload.to });
    }
    if payload.from != signer {
        return Err(Rejection::FromMismatch {
            claimed: payload.from,
            signer,
        }
        .into());
    }
    signer
        .verify(
            &signed_bytes(&signer, me, json),
            &iroh_base::Signature::from_bytes(&sig),
        )
        .map_err(|_| Rejection::BadSignature)?;
    if let Some(file) = &payload.file {
        file.check()
            .map_err(|why| Rejection::Malformed(format!("bad file offer: {why}")))?;
    }
    let change = match payload.change.as_ref().map(read_change) {
        Some(None) => return Err(Rejection::Malformed("a malformed change".into()).into()),
        Some(Some(change)) => Some(Box::new(change)),
        None => None,
    };
    let ahead_ms = payload.sent.saturating_sub(now.0);
    if ahead_ms > MAX_CLOCK_SKEW_MS {
        return Err(Rejection::FutureTimestamp { ahead_ms }.into());
    }
    Ok(DirectMessage {
        id: MessageId::of(bytes),
        from: signer,
        to: *me,
        name: shown_name(&payload.name, &signer),
        text: payload.text,
        action: payload.action,
        file: payload.file,
        sent: UnixMillis(payload.sent),
        state: DmState::Received,
        reply_to: payload
            .reply_to
            .as_deref()
            .and_then(parse_message_id)
            .map(Box::new),
        change,
    })
}

/// The file a stored envelope (one we sealed or opened, so already checked) offers.
pub fn file_in_envelope(envelope: &[u8]) -> Option<FileRef> {
    let (_, _, json) = unframe(envelope).ok()?;
    let payload: DirectPayload = serde_json::from_slice(json).ok()?;
    payload.file.filter(|file| file.check().is_ok())
}

/// The reply and change a stored envelope (one we sealed or opened, so already checked) carries.
pub fn about_in_envelope(envelope: &[u8]) -> (Option<Box<MessageId>>, Option<Box<LineChange>>) {
    let Some(payload) = unframe(envelope)
        .ok()
        .and_then(|(_, _, json)| serde_json::from_slice::<DirectPayload>(json).ok())
    else {
        return (None, None);
    };
    let reply_to = payload.reply_to.as_deref().and_then(parse_message_id);
    let change = payload.change.as_ref().and_then(read_change);
    (reply_to.map(Box::new), change.map(Box::new))
}

/// A claimed name made safe to show, as rooms do: the key's short form when nothing is left.
fn shown_name(raw: &str, key: &EndpointId) -> String {
    clean_name(raw).unwrap_or_else(|| key.fmt_short().to_string())
}

fn signed_bytes(from: &EndpointId, to: &EndpointId, json: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(DIRECT_SIGNING_DOMAIN.len() + 32 + json.len());
    data.extend_from_slice(DIRECT_SIGNING_DOMAIN);
    data.extend_from_slice(&conversation(from, to));
    data.extend_from_slice(json);
    data
}

/// The addressee's answer to one direct message, on the stream it came on:
/// `[code] ‖ [32-byte message id]`. The connection is authenticated by the addressee's key,
/// so the answer needs no signature of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// Saved (or saved before: a duplicate is acknowledged again). The message is delivered.
    Saved(MessageId),
    /// The addressee shares no room with us: dropped. Keep it pending; it may change.
    Refused(MessageId),
    /// Not accepted as sent (bad signature, wrong addressee, from the future).
    Invalid(MessageId),
    /// Rate limited or too busy now: try again later.
    Busy(MessageId),
}

/// The length of an encoded [`Ack`].
pub const ACK_LEN: usize = 33;

impl Ack {
    pub fn id(&self) -> MessageId {
        match self {
            Self::Saved(id) | Self::Refused(id) | Self::Invalid(id) | Self::Busy(id) => *id,
        }
    }

    pub fn encode(&self) -> [u8; ACK_LEN] {
        let code = match self {
            Self::Saved(_) => 0,
            Self::Refused(_) => 1,
            Self::Invalid(_) => 2,
            Self::Busy(_) => 3,
        };
        let mut out = [0u8; ACK_LEN];
        out[0] = code;
        out[1..].copy_from_slice(self.id().as_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let (&code, id) = bytes.split_first()?;
        let id = MessageId::from_bytes(id.try_into().ok()?);
        match code {
            0 => Some(Self::Saved(id)),
            1 => Some(Self::Refused(id)),
            2 => Some(Self::Invalid(id)),
            3 => Some(Self::Busy(id)),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "direct_tests.rs"]
mod tests;

//! Invites to private rooms: what replaces a ticket once a room decides who is in it.
//!
//! # Format (version 3 of the ticket text)
//!
//! Lowercase RFC 4648 base32 without padding of
//!
//! ```text
//! [version = 3] ‖ postcard(InviteBody) ‖ signature ‖ checksum
//! InviteBody = { room: [u8; 32], owner: [u8; 32], issuer: [u8; 32], id: [u8; 16],
//!                expires: u64 (unix ms), uses: Option<u32>, peers: Vec<EndpointAddr>,
//!                name: Option<String>, extensions: Vec<{ kind: u32, data: Vec<u8> }> }
//! signature  = ed25519 by `issuer` over "parlor invite 3" ‖ postcard(InviteBody)
//! checksum   = the first 4 bytes of blake3 of everything before it (as tickets)
//! ```
//!
//! It shares the ticket's text form, so `parlor join` reads either, a typo is caught by the
//! same checksum, and a parlor from before private rooms says an invite comes from a newer
//! parlor (an unknown version whose checksum holds). The room is named by its stable id, not
//! its topic: the topic changes with every epoch. Whether the issuer may invite, how often an
//! invite was used and whether it was revoked are the room's signed state's business; the
//! invite itself proves who issued it and until when.
//!
//! The binary form (`[version = 3] ‖ postcard(InviteBody) ‖ signature`, without the checksum:
//! [`Invite::to_bytes`], [`Invite::from_bytes`]) is what a joiner's signed `Join` operation
//! carries into the room's state (`state::Action::Join`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ticket::{self, Extension, TicketError};
use super::{EndpointAddr, EndpointId, SecretKey, UnixMillis};

/// The ticket text version that marks an invite.
pub const INVITE_VERSION: u8 = 3;
/// An invite lists at most this many peers to dial (as tickets).
pub const MAX_INVITE_PEERS: usize = ticket::MAX_TICKET_PEERS;
/// The name carried is cut to this many bytes (it is shown, cleaned, until the room says).
const MAX_NAME_BYTES: usize = 256;
/// What the signature covers before the body: an invite's signature is never another
/// message's.
const SIGNED_CONTEXT: &[u8] = b"parlor invite 3";
const SIGNATURE_LEN: usize = 64;

pub use super::state::RoomId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub room: RoomId,
    /// The room's owner, as the issuer knew it (the joiner checks it against the state).
    pub owner: EndpointId,
    /// Who issued and signed it (an admin of the room).
    pub issuer: EndpointId,
    /// Names this invite (`/revoke PREFIX`).
    pub id: [u8; 16],
    pub expires: UnixMillis,
    /// How many joins it allows (`None`: any number until it expires).
    pub uses: Option<u32>,
    pub peers: Vec<EndpointAddr>,
    /// The room's name as the issuer calls it. Untrusted: clean it before showing it.
    pub name: Option<String>,
    body: Vec<u8>,
    signature: [u8; SIGNATURE_LEN],
}

#[derive(Serialize, Deserialize)]
struct InviteBody {
    room: [u8; 32],
    owner: [u8; 32],
    issuer: [u8; 32],
    id: [u8; 16],
    expires: u64,
    uses: Option<u32>,
    peers: Vec<EndpointAddr>,
    name: Option<String>,
    extensions: Vec<Extension>,
}

/// What an invite says about the room it names, before signing.
#[derive(Debug, Clone)]
pub struct InviteDraft {
    pub room: RoomId,
    pub owner: EndpointId,
    pub expires: UnixMillis,
    pub uses: Option<u32>,
    pub peers: Vec<EndpointAddr>,
    pub name: Option<String>,
}

/// Why an invite cannot be used. Each renders as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    #[error("{0}")]
    Text(#[from] TicketError),
    #[error("this is a ticket to a public room, not an invite")]
    Ticket,
    #[error("this invite's signature does not hold: it was altered, copy it again")]
    BadSignature,
    #[error("this invite lists no peer to dial")]
    NoPeers,
    #[error("this invite expired at {0} (ask for a new one)")]
    Expired(String),
    #[error("this invite allows no join (uses 0)")]
    NoUses,
}

impl Invite {
    /// Sign `draft` as `issuer`, with a fresh random id (an invite needs a peer to dial).
    pub fn issue(issuer: &SecretKey, draft: InviteDraft) -> Result<Self, InviteError> {
        Self::issue_with_id(issuer, draft, rand::random())
    }

    /// [`Self::issue`] with a given id: tests that must be reproducible from a seed.
    pub(crate) fn issue_with_id(
        issuer: &SecretKey,
        draft: InviteDraft,
        id: [u8; 16],
    ) -> Result<Self, InviteError> {
        let mut peers = draft.peers;
        peers.truncate(MAX_INVITE_PEERS);
        let name = draft.name.map(|mut name| {
            super::names::cut_to_bytes(&mut name, MAX_NAME_BYTES);
            name
        });
        let body = InviteBody {
            room: *draft.room.as_bytes(),
            owner: *draft.owner.as_bytes(),
            issuer: *issuer.public().as_bytes(),
            id,
            expires: draft.expires.0,
            uses: draft.uses,
            peers,
            name,
            extensions: Vec::new(),
        };
        // postcard into a Vec cannot fail for these types.
        let encoded = postcard::to_stdvec(&body).unwrap_or_default();
        let signature = issuer.sign(&signed_bytes(&encoded)).to_bytes();
        Self::from_body(body, encoded, signature)
    }

    fn from_body(
        body: InviteBody,
        encoded: Vec<u8>,
        signature: [u8; SIGNATURE_LEN],
    ) -> Result<Self, InviteError> {
        let key = |bytes: &[u8; 32]| {
            EndpointId::from_bytes(bytes).map_err(|_| InviteError::Text(TicketError::Corrupt))
        };
        if body.peers.is_empty() {
            return Err(InviteError::NoPeers);
        }
        Ok(Self {
            room: RoomId::from_bytes(body.room),
            owner: key(&body.owner)?,
            issuer: key(&body.issuer)?,
            id: body.id,
            expires: UnixMillis(body.expires),
            uses: body.uses,
            peers: body.peers,
            name: body.name,
            body: encoded,
            signature,
        })
    }

    /// Whether it may still be used at `now` (the room checks uses and revocations).
    pub fn check(&self, now: UnixMillis) -> Result<(), InviteError> {
        if self.uses == Some(0) {
            return Err(InviteError::NoUses);
        }
        if now.0 >= self.expires.0 {
            let at = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(
                i64::try_from(self.expires.0).unwrap_or(i64::MAX),
            )
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            return Err(InviteError::Expired(at));
        }
        Ok(())
    }

    /// The id as `/invites` and `/revoke` show it.
    pub fn id_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.id)
    }

    /// The binary form: `version ‖ postcard(InviteBody) ‖ signature`, what a `Join` operation
    /// carries (the text form adds a checksum and base32).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![INVITE_VERSION];
        bytes.extend(&self.body);
        bytes.extend(self.signature);
        bytes
    }

    /// Read the binary form ([`Self::to_bytes`]) and verify the issuer's signature.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InviteError> {
        let (&version, framed) = bytes.split_first().ok_or(TicketError::Corrupt)?;
        if version < INVITE_VERSION {
            return Err(InviteError::Ticket);
        }
        if version != INVITE_VERSION {
            return Err(TicketError::UnknownVersion(version).into());
        }
        let split = framed
            .len()
            .checked_sub(SIGNATURE_LEN)
            .ok_or(TicketError::Corrupt)?;
        let (encoded, signature) = framed.split_at(split);
        let body: InviteBody = ticket::decode_whole(encoded).ok_or(TicketError::Corrupt)?;
        let mut sig = [0; SIGNATURE_LEN];
        sig.copy_from_slice(signature);
        let issuer = EndpointId::from_bytes(&body.issuer).map_err(|_| InviteError::BadSignature)?;
        issuer
            .verify(
                &signed_bytes(encoded),
                &iroh_base::Signature::from_bytes(&sig),
            )
            .map_err(|_| InviteError::BadSignature)?;
        Self::from_body(body, encoded.to_vec(), sig)
    }
}

/// The signed bytes: the context, then the body.
fn signed_bytes(body: &[u8]) -> Vec<u8> {
    let mut bytes = SIGNED_CONTEXT.to_vec();
    bytes.extend(body);
    bytes
}

impl fmt::Display for Invite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&ticket::with_checksum(self.to_bytes()))
    }
}

impl FromStr for Invite {
    type Err = InviteError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = ticket::decode_text(text)?;
        if bytes.first().is_some_and(|&v| v < INVITE_VERSION) {
            return Err(InviteError::Ticket);
        }
        let (version, framed) = ticket::checksummed(&bytes)?;
        if version != INVITE_VERSION {
            return Err(TicketError::UnknownVersion(version).into());
        }
        // The checksum held: what it covered (the version and `framed`) is the binary form.
        Self::from_bytes(&bytes[..=framed.len()])
    }
}

#[cfg(test)]
#[path = "invite_tests.rs"]
mod tests;

//! Tickets: the invitation text that holds a room's topic and the peers to dial.
//!
//! # Format (version 2)
//!
//! Lowercase RFC 4648 base32 without padding of
//!
//! ```text
//! [version = 2] ‖ postcard(TicketBody) ‖ checksum
//! TicketBody = { topic: [u8; 32], peers: Vec<EndpointAddr>, name: Option<String>,
//!                extensions: Vec<{ kind: u32, data: Vec<u8> }> }
//! checksum   = the first 4 bytes of blake3(version ‖ postcard(TicketBody))
//! ```
//!
//! Each `EndpointAddr` is iroh's `{ id, addrs: {Relay(url) | Ip(socket addr)} }`; compact
//! binary keeps a ticket of one peer with one IPv4 address at 130 characters. The checksum
//! is what makes a typo visible: without it a changed character still decoded, as a
//! different topic or peer, and the joiner waited for a room nobody was in. A random change
//! passes it once in 2^32.
//!
//! `name` is the room's name as the issuer calls it (untrusted text: clean it before showing
//! it); `extensions` are typed optional fields added later without a new version: a reader
//! skips kinds it does not know. Every later version keeps the 4-byte checksum at the end, so
//! an unknown version whose checksum holds comes from a newer parlor, and one whose checksum
//! fails is a typo in the first two characters (they hold the version byte).
//!
//! Version 1 (`[1] ‖ postcard({topic, peers})`, no checksum) is still read.
//!
//! Parsing forgives what copy and paste does to text: surrounding or embedded whitespace
//! (wrapped lines) and upper case are ignored. Every refusal is a [`TicketError`] that renders
//! as one line.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_NOPAD;
use serde::{Deserialize, Serialize};

use super::{EndpointAddr, TopicId};

/// The version this parlor writes, and the newest it reads.
pub const TICKET_VERSION: u8 = 2;
/// The first version: no checksum, no optional fields.
const VERSION_1: u8 = 1;
/// A ticket lists at most this many peers (the issuer plus a few neighbours): enough to survive
/// one of them being gone, short enough to paste.
pub const MAX_TICKET_PEERS: usize = 4;
/// Anything longer is not a ticket; refuse before decoding.
const MAX_TICKET_CHARS: usize = 4096;
/// The shortest ticket (version 1, one peer with no address) is 108 characters: anything
/// shorter is cut short, or no ticket at all.
const MIN_TICKET_CHARS: usize = 100;
/// Bytes of blake3 at the end of a version-2 ticket.
const CHECKSUM_LEN: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub topic: TopicId,
    pub peers: Vec<EndpointAddr>,
    /// The room's name as the issuer calls it. Untrusted: clean it before showing it.
    pub name: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct BodyV1 {
    topic: [u8; 32],
    peers: Vec<EndpointAddr>,
}

#[derive(Serialize, Deserialize)]
struct BodyV2 {
    topic: [u8; 32],
    peers: Vec<EndpointAddr>,
    name: Option<String>,
    /// Optional fields of later parlors; none is written yet, all are skipped when read.
    extensions: Vec<Extension>,
}

/// A typed optional field: readers skip kinds they do not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Extension {
    kind: u32,
    data: Vec<u8>,
}

/// Why a text is not a usable ticket. Each renders as one line for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("the ticket is empty")]
    Empty,
    #[error("this is too long to be a ticket ({0} characters)")]
    TooLong(usize),
    #[error(
        "this is too short to be a ticket ({0} characters; tickets have over {MIN_TICKET_CHARS}): copy all of it"
    )]
    TooShort(usize),
    /// A character base32 does not have, and its position (1-based, whitespace not counted).
    #[error("{0:?} cannot be in a ticket (character {1}): copy the ticket again")]
    BadCharacter(char, usize),
    /// The checksum does not match, or the text cannot have been written by any parlor.
    #[error("this ticket is mistyped (a character is wrong or missing): copy it again")]
    Mistyped,
    #[error(
        "this ticket comes from a newer parlor (ticket version {0}, this one reads up to {TICKET_VERSION}): update parlor to join"
    )]
    UnknownVersion(u8),
    /// The checksum holds but the body does not decode: a parlor wrote it wrongly.
    #[error("the ticket's checksum is right but its content is unreadable")]
    Corrupt,
    #[error("the ticket lists no peer to dial")]
    NoPeers,
    /// Version 3 texts are invites to private rooms ([`super::invite::Invite`]).
    #[error("this is an invite to a private room, not a ticket")]
    Invite,
}

impl Ticket {
    pub fn new(topic: TopicId, peers: Vec<EndpointAddr>) -> Self {
        Self {
            topic,
            peers,
            name: None,
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let body = BodyV2 {
            topic: *self.topic.as_bytes(),
            peers: self.peers.clone(),
            name: self.name.clone(),
            extensions: Vec::new(),
        };
        let mut bytes = vec![TICKET_VERSION];
        // postcard into a Vec cannot fail for these types.
        bytes.extend(postcard::to_stdvec(&body).unwrap_or_default());
        let sum = checksum(&bytes);
        bytes.extend(sum);
        bytes
    }

    /// Read the decoded bytes of a ticket of any version.
    fn from_bytes(bytes: &[u8]) -> Result<Self, TicketError> {
        let (&version, rest) = bytes.split_first().ok_or(TicketError::Mistyped)?;
        if version == VERSION_1 {
            // No checksum: a damaged version 1 ticket, and a version 2 one whose second
            // character was mistyped into version 1 (its checksum is then left over), both
            // end up here.
            let body: BodyV1 = decode_whole(rest).ok_or(TicketError::Mistyped)?;
            return Self::checked(body.topic, body.peers, None);
        }
        let (version, body) = checksummed(bytes)?;
        match version {
            TICKET_VERSION => {}
            super::invite::INVITE_VERSION => return Err(TicketError::Invite),
            other => return Err(TicketError::UnknownVersion(other)),
        }
        let body: BodyV2 = decode_whole(body).ok_or(TicketError::Corrupt)?;
        Self::checked(body.topic, body.peers, body.name)
    }

    fn checked(
        topic: [u8; 32],
        peers: Vec<EndpointAddr>,
        name: Option<String>,
    ) -> Result<Self, TicketError> {
        if peers.is_empty() {
            return Err(TicketError::NoPeers);
        }
        Ok(Self {
            topic: TopicId::from_bytes(topic),
            peers,
            name,
        })
    }
}

/// `body` framed as a ticket of `version` (with the checksum from version 2 on), whatever it
/// holds: for property tests and fuzzing, to reach the body's decoder past the checksum.
#[doc(hidden)]
pub fn frame_raw(version: u8, body: &[u8]) -> String {
    let mut bytes = vec![version];
    bytes.extend(body);
    if version != VERSION_1 {
        let sum = checksum(&bytes);
        bytes.extend(sum);
    }
    BASE32_NOPAD.encode(&bytes).to_ascii_lowercase()
}

/// A checksummed text's version and body (version 2 on: tickets, invites), the checksum
/// checked: a mismatch is a typo.
pub(super) fn checksummed(bytes: &[u8]) -> Result<(u8, &[u8]), TicketError> {
    let split = bytes
        .len()
        .checked_sub(CHECKSUM_LEN)
        .filter(|&at| at > 0)
        .ok_or(TicketError::Mistyped)?;
    let (framed, sum) = bytes.split_at(split);
    if checksum(framed) != sum {
        return Err(TicketError::Mistyped);
    }
    Ok((framed[0], &framed[1..]))
}

/// `framed` (version and body) with its checksum appended, as text.
pub(super) fn with_checksum(mut framed: Vec<u8>) -> String {
    let sum = checksum(&framed);
    framed.extend(sum);
    BASE32_NOPAD.encode(&framed).to_ascii_lowercase()
}

/// The first [`CHECKSUM_LEN`] bytes of blake3 over `framed` (version and body).
fn checksum(framed: &[u8]) -> [u8; CHECKSUM_LEN] {
    let hash = blake3::hash(framed);
    let mut sum = [0; CHECKSUM_LEN];
    sum.copy_from_slice(&hash.as_bytes()[..CHECKSUM_LEN]);
    sum
}

/// `bytes` as one `T` with nothing left over.
pub(super) fn decode_whole<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Some(value),
        _ => None,
    }
}

/// Could `text` be meant as a ticket rather than a room label or topic prefix? Long base32
/// text (labels are at most 24 characters, topic prefixes are hex), also with a stray
/// character outside base32 when it starts like a ticket (`a` and the version's character).
/// Such a text that does not parse is a damaged ticket, to be reported as one.
pub fn looks_like_ticket(text: &str) -> bool {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let base32 = |c: char| c.is_ascii_lowercase() || ('2'..='7').contains(&c);
    // Version 1 tickets start with `a` and one of `e`-`h`, version 2 with `a` and `i`-`l`,
    // invites (version 3) with `a` and `m`-`p`.
    let mut start = compact.chars();
    let versioned =
        start.next() == Some('a') && start.next().is_some_and(|c| ('e'..='p').contains(&c));
    compact.len() >= 60
        && compact.chars().all(|c| c.is_ascii_alphanumeric())
        && !compact.chars().all(|c| c.is_ascii_hexdigit())
        && (compact.chars().all(base32) || versioned)
}

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE32_NOPAD.encode(&self.to_bytes()).to_ascii_lowercase())
    }
}

impl FromStr for Ticket {
    type Err = TicketError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(&decode_text(text)?)
    }
}

/// The bytes of a ticket or invite text, forgiving what copy and paste does (whitespace,
/// case); what cannot be one is a [`TicketError`].
pub(super) fn decode_text(text: &str) -> Result<Vec<u8>, TicketError> {
    {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if cleaned.is_empty() {
            return Err(TicketError::Empty);
        }
        let chars = cleaned.chars().count();
        if chars > MAX_TICKET_CHARS {
            return Err(TicketError::TooLong(chars));
        }
        let base32 = |c: char| c.is_ascii_uppercase() || ('2'..='7').contains(&c);
        if let Some((at, bad)) = cleaned.chars().enumerate().find(|(_, c)| !base32(*c)) {
            let original = text.chars().filter(|c| !c.is_whitespace()).nth(at);
            return Err(TicketError::BadCharacter(original.unwrap_or(bad), at + 1));
        }
        if chars < MIN_TICKET_CHARS {
            return Err(TicketError::TooShort(chars));
        }
        // Every character is base32 by now: what is left is a wrong length (a character
        // missing or extra) or bits past the last byte (a wrong last character), typos both.
        BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .map_err(|_| TicketError::Mistyped)
    }
}

#[cfg(test)]
#[path = "ticket_tests.rs"]
mod tests;

//! Tickets: the invitation text that holds a room's topic and the peers to dial.
//!
//! Format: lowercase RFC 4648 base32 without padding of `[version = 1] ‖ postcard(TicketBody)`,
//! where `TicketBody = { topic: [u8; 32], peers: Vec<EndpointAddr> }` and each `EndpointAddr`
//! is iroh's `{ id, addrs: {Relay(url) | Ip(socket addr)} }`. Compact binary keeps a one-peer
//! ticket around 120 characters. Parsing forgives what copy and paste does to text: surrounding
//! or embedded whitespace (wrapped lines) and upper case are ignored.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_NOPAD;
use serde::{Deserialize, Serialize};

use super::{EndpointAddr, TopicId};

/// Version byte in front of every ticket.
pub const TICKET_VERSION: u8 = 1;
/// A ticket lists at most this many peers (the issuer plus a few neighbours): enough to survive
/// one of them being gone, short enough to paste.
pub const MAX_TICKET_PEERS: usize = 4;
/// Anything longer is not a ticket; refuse before decoding.
const MAX_TICKET_CHARS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub topic: TopicId,
    pub peers: Vec<EndpointAddr>,
}

#[derive(Serialize, Deserialize)]
struct TicketBody {
    topic: [u8; 32],
    peers: Vec<EndpointAddr>,
}

/// Why a text is not a usable ticket. Each renders as one line for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("the ticket is empty")]
    Empty,
    #[error("the ticket is too long ({0} characters)")]
    TooLong(usize),
    #[error("the ticket is not base32 text (bad character or length near position {0})")]
    NotBase32(usize),
    #[error("unsupported ticket version {0} (this parlor reads version {TICKET_VERSION})")]
    UnknownVersion(u8),
    #[error("the ticket is damaged or truncated")]
    Corrupt,
    #[error("the ticket lists no peer to dial")]
    NoPeers,
}

impl Ticket {
    pub fn new(topic: TopicId, peers: Vec<EndpointAddr>) -> Self {
        Self { topic, peers }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let body = TicketBody {
            topic: *self.topic.as_bytes(),
            peers: self.peers.clone(),
        };
        let mut bytes = vec![TICKET_VERSION];
        // postcard into a Vec cannot fail for these types.
        bytes.extend(postcard::to_stdvec(&body).unwrap_or_default());
        bytes
    }
}

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE32_NOPAD.encode(&self.to_bytes()).to_ascii_lowercase())
    }
}

impl FromStr for Ticket {
    type Err = TicketError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if cleaned.is_empty() {
            return Err(TicketError::Empty);
        }
        if cleaned.len() > MAX_TICKET_CHARS {
            return Err(TicketError::TooLong(cleaned.len()));
        }
        let bytes = BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .map_err(|e| TicketError::NotBase32(e.position))?;
        let (&version, body) = bytes.split_first().ok_or(TicketError::Corrupt)?;
        if version != TICKET_VERSION {
            return Err(TicketError::UnknownVersion(version));
        }
        let (body, rest): (TicketBody, &[u8]) =
            postcard::take_from_bytes(body).map_err(|_| TicketError::Corrupt)?;
        if !rest.is_empty() {
            return Err(TicketError::Corrupt);
        }
        if body.peers.is_empty() {
            return Err(TicketError::NoPeers);
        }
        Ok(Self {
            topic: TopicId::from_bytes(body.topic),
            peers: body.peers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    fn sample() -> Ticket {
        let id = SecretKey::from_bytes(&[7; 32]).public();
        let addr = EndpointAddr::new(id).with_ip_addr("127.0.0.1:4242".parse().unwrap());
        Ticket::new(TopicId::from_bytes([9; 32]), vec![addr])
    }

    #[test]
    fn round_trip_is_lowercase_base32() {
        let ticket = sample();
        let text = ticket.to_string();
        assert!(
            text.chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
        );
        assert_eq!(text.parse::<Ticket>().unwrap(), ticket);
    }

    #[test]
    fn case_and_whitespace_are_forgiven() {
        let ticket = sample();
        let text = ticket.to_string();
        let (a, b) = text.split_at(40);
        let mangled = format!("  {}\n{}\t ", a.to_uppercase(), b);
        assert_eq!(mangled.parse::<Ticket>().unwrap(), ticket);
    }

    #[test]
    fn relay_and_ipv6_peers_round_trip() {
        let id = SecretKey::from_bytes(&[3; 32]).public();
        let addr = EndpointAddr::new(id)
            .with_ip_addr("[::1]:9".parse().unwrap())
            .with_relay_url("https://relay.example.net/".parse().unwrap());
        let ticket = Ticket::new(TopicId::from_bytes([1; 32]), vec![addr]);
        assert_eq!(ticket.to_string().parse::<Ticket>().unwrap(), ticket);
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let good = sample().to_string();
        let cases: Vec<(String, TicketError)> = vec![
            (String::new(), TicketError::Empty),
            ("   \n".into(), TicketError::Empty),
            ("hello world!".into(), TicketError::NotBase32(10)),
            ("a".repeat(5000), TicketError::TooLong(5000)),
            (good[..good.len() - 9].to_string(), TicketError::Corrupt),
            (format!("{good}aaaaaaaa"), TicketError::Corrupt),
        ];
        for (text, want) in cases {
            let got = text.parse::<Ticket>().unwrap_err();
            // Some truncations land on an invalid base32 length instead: both are clear refusals.
            if matches!(want, TicketError::Corrupt) {
                assert!(
                    matches!(got, TicketError::Corrupt | TicketError::NotBase32(_)),
                    "{text:?}: {got:?}"
                );
            } else {
                assert_eq!(got, want, "{text:?}");
            }
            assert!(!got.to_string().contains('\n'));
        }
    }

    #[test]
    fn wrong_version_and_empty_peer_list_are_refused() {
        let mut bytes = sample().to_bytes();
        bytes[0] = 9;
        let text = BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
        assert_eq!(
            text.parse::<Ticket>().unwrap_err(),
            TicketError::UnknownVersion(9)
        );
        let empty = Ticket::new(TopicId::from_bytes([1; 32]), vec![]).to_string();
        assert_eq!(empty.parse::<Ticket>().unwrap_err(), TicketError::NoPeers);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (state >> 33) as u8
                })
                .collect();
            let mut framed = vec![TICKET_VERSION];
            framed.extend(&bytes);
            let _ = BASE32_NOPAD.encode(&framed).parse::<Ticket>();
            let _ = BASE32_NOPAD.encode(&bytes).parse::<Ticket>();
        }
    }
}

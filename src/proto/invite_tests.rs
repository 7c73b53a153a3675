use super::*;
use crate::proto::ticket::{Ticket, looks_like_ticket};

const NOW: UnixMillis = UnixMillis(1_800_000_000_000);
const DAY: u64 = 24 * 3600 * 1000;

fn key(n: u8) -> SecretKey {
    SecretKey::from_bytes(&[n; 32])
}

fn peer(n: u8) -> EndpointAddr {
    EndpointAddr::new(key(n).public()).with_ip_addr("127.0.0.1:7000".parse().unwrap())
}

fn draft() -> InviteDraft {
    InviteDraft {
        room: RoomId::from_bytes([7; 32]),
        owner: key(1).public(),
        expires: UnixMillis(NOW.0 + 7 * DAY),
        uses: Some(3),
        peers: vec![peer(2)],
        name: Some("ops".into()),
    }
}

#[test]
fn an_invite_round_trips_as_text_and_proves_its_issuer() {
    let invite = Invite::issue(&key(2), draft()).unwrap();
    let text = invite.to_string();
    assert!(text.starts_with('a') && looks_like_ticket(&text), "{text}");
    let read: Invite = text.parse().unwrap();
    assert_eq!(read, invite);
    assert_eq!(read.issuer, key(2).public());
    assert_eq!(read.owner, key(1).public());
    assert_eq!((read.uses, read.name.as_deref()), (Some(3), Some("ops")));
    assert_eq!(read.id_hex().len(), 32);
    // Pasted with wrapping and in capitals, as text gets mangled.
    let mangled = format!("  {}\n{} ", &text[..40].to_uppercase(), &text[40..]);
    assert_eq!(mangled.parse::<Invite>().unwrap(), invite);
    // Two invites to the same room differ (each can be revoked alone).
    assert_ne!(Invite::issue(&key(2), draft()).unwrap().id, invite.id);
}

#[test]
fn a_typo_is_mistyped_and_a_forged_body_fails_its_signature() {
    let invite = Invite::issue(&key(2), draft()).unwrap();
    let text = invite.to_string();
    // Every one-character substitution is caught (by the checksum).
    for at in (0..text.len()).step_by(7) {
        let mut typo: Vec<char> = text.chars().collect();
        typo[at] = if typo[at] == 'a' { 'b' } else { 'a' };
        let typo: String = typo.into_iter().collect();
        assert!(typo.parse::<Invite>().is_err(), "at {at}");
    }
    // Someone who rewrites the body (a longer expiry) and fixes the checksum: the issuer's
    // signature no longer holds.
    let mut bytes = invite.to_bytes();
    let expires_at = bytes
        .windows(8)
        .position(|w| {
            w == postcard::to_stdvec(&invite.expires.0)
                .unwrap_or_default()
                .as_slice()
        })
        .unwrap_or(100);
    bytes[expires_at] ^= 1;
    let forged = ticket::with_checksum(bytes);
    assert_eq!(forged.parse::<Invite>(), Err(InviteError::BadSignature));
}

#[test]
fn expiry_and_uses_are_clear_lines_and_tickets_are_not_invites() {
    let invite = Invite::issue(&key(2), draft()).unwrap();
    assert_eq!(invite.check(NOW), Ok(()));
    let err = invite.check(UnixMillis(NOW.0 + 8 * DAY)).unwrap_err();
    assert!(
        err.to_string().starts_with("this invite expired at 2027-"),
        "{err}"
    );
    let none = Invite::issue(
        &key(2),
        InviteDraft {
            uses: Some(0),
            ..draft()
        },
    )
    .unwrap();
    assert_eq!(none.check(NOW), Err(InviteError::NoUses));
    let no_peers = Invite::issue(
        &key(2),
        InviteDraft {
            peers: vec![],
            ..draft()
        },
    );
    assert_eq!(no_peers, Err(InviteError::NoPeers));
    // A ticket is not an invite, and an invite is not a ticket: each says what it is.
    let ticket = Ticket::new(crate::proto::TopicId::from_bytes([1; 32]), vec![peer(3)]);
    assert_eq!(
        ticket.to_string().parse::<Invite>(),
        Err(InviteError::Ticket)
    );
    assert_eq!(
        invite.to_string().parse::<Ticket>(),
        Err(TicketError::Invite),
        "an invite given where a ticket is read"
    );
}

#[test]
fn a_long_name_is_cut_and_many_peers_are_bounded() {
    let long = InviteDraft {
        name: Some("é".repeat(400)),
        peers: (2..20).map(peer).collect(),
        ..draft()
    };
    let invite = Invite::issue(&key(2), long).unwrap();
    let read: Invite = invite.to_string().parse().unwrap();
    assert!(read.name.unwrap().len() <= MAX_NAME_BYTES);
    assert_eq!(read.peers.len(), MAX_INVITE_PEERS);
}

#[test]
fn the_binary_form_round_trips_and_refuses_anything_altered() {
    let invite = Invite::issue(&key(2), draft()).unwrap();
    let bytes = invite.to_bytes();
    assert_eq!(Invite::from_bytes(&bytes), Ok(invite.clone()));
    // Truncated anywhere, or one bit flipped anywhere: an error, never a panic.
    for len in 0..bytes.len() {
        assert!(Invite::from_bytes(&bytes[..len]).is_err(), "{len} bytes");
    }
    for at in 1..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x04;
        assert!(Invite::from_bytes(&flipped).is_err(), "at {at}");
    }
    let mut old = bytes.clone();
    old[0] = 2;
    assert_eq!(Invite::from_bytes(&old), Err(InviteError::Ticket));
    old[0] = 4;
    assert_eq!(
        Invite::from_bytes(&old),
        Err(TicketError::UnknownVersion(4).into())
    );
    let mut seed = 0x9e37_79b9_u64;
    for _ in 0..2000 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let len = (seed >> 40) as usize % 400;
        let mut junk: Vec<u8> = (0..len).map(|i| (seed >> (i % 56)) as u8).collect();
        if let Some(first) = junk.first_mut() {
            *first = INVITE_VERSION;
        }
        assert!(Invite::from_bytes(&junk).is_err());
    }
}

use super::*;
use crate::proto::SecretKey;

const BASE32: &str = "abcdefghijklmnopqrstuvwxyz234567";

fn sample() -> Ticket {
    let id = SecretKey::from_bytes(&[7; 32]).public();
    let addr = EndpointAddr::new(id).with_ip_addr("127.0.0.1:4242".parse().unwrap());
    Ticket::new(TopicId::from_bytes([9; 32]), vec![addr])
}

fn base32(bytes: &[u8]) -> String {
    BASE32_NOPAD.encode(bytes).to_ascii_lowercase()
}

fn body_v2(ticket: &Ticket, extensions: Vec<Extension>) -> Vec<u8> {
    postcard::to_stdvec(&BodyV2 {
        topic: *ticket.topic.as_bytes(),
        peers: ticket.peers.clone(),
        name: ticket.name.clone(),
        extensions,
    })
    .unwrap()
}

#[test]
fn round_trip_is_lowercase_base32_of_version_2() {
    let ticket = sample();
    let text = ticket.to_string();
    assert!(text.chars().all(|c| BASE32.contains(c)), "{text}");
    assert!(
        text.starts_with('a') && (b'i'..=b'l').contains(&text.as_bytes()[1]),
        "version 2 starts with `a` and one of `i`-`l`: {text}"
    );
    // One IPv4 peer: 120 characters in version 1, 6 bytes more (no name, no extensions,
    // the checksum) in version 2.
    assert_eq!(text.len(), 130, "{text}");
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
fn relay_ipv6_and_name_round_trip() {
    let id = SecretKey::from_bytes(&[3; 32]).public();
    let addr = EndpointAddr::new(id)
        .with_ip_addr("[::1]:9".parse().unwrap())
        .with_relay_url("https://relay.example.net/".parse().unwrap());
    let mut ticket = Ticket::new(TopicId::from_bytes([1; 32]), vec![addr]);
    assert_eq!(ticket.to_string().parse::<Ticket>().unwrap(), ticket);
    ticket.name = Some("ops on-call ☎".into());
    assert_eq!(ticket.to_string().parse::<Ticket>().unwrap(), ticket);
}

#[test]
fn version_1_tickets_still_parse() {
    let ticket = sample();
    let body = BodyV1 {
        topic: *ticket.topic.as_bytes(),
        peers: ticket.peers.clone(),
    };
    let mut bytes = vec![VERSION_1];
    bytes.extend(postcard::to_stdvec(&body).unwrap());
    let text = base32(&bytes);
    assert_eq!(text.len(), 120);
    assert!(text.starts_with("ae"), "{text}");
    assert_eq!(text.parse::<Ticket>().unwrap(), ticket);
    assert!(looks_like_ticket(&text));
    // Version 1 has nothing to check a typo against: a changed topic character still reads.
    let mut typo = text.into_bytes();
    typo[10] = if typo[10] == b'b' { b'c' } else { b'b' };
    let typo = String::from_utf8(typo).unwrap().parse::<Ticket>().unwrap();
    assert_ne!(typo.topic, ticket.topic);
}

/// The bug: one wrong character joined another room. Every substitution, at every
/// position (the first two hold the version byte, the last has spare bits), is refused as
/// mistyped, and none reads as some other ticket.
#[test]
fn every_single_substitution_is_mistyped() {
    let text = sample().to_string();
    let mut tried = 0;
    for (at, was) in text.char_indices() {
        for with in BASE32.chars().filter(|c| *c != was) {
            let mut typo = text.clone();
            typo.replace_range(at..at + 1, &with.to_string());
            assert_eq!(
                typo.parse::<Ticket>(),
                Err(TicketError::Mistyped),
                "{was:?} -> {with:?} at {at}"
            );
            assert!(looks_like_ticket(&typo), "{typo}");
            tried += 1;
        }
    }
    assert_eq!(tried, text.len() * 31);
}

#[test]
fn missing_extra_and_swapped_characters_are_mistyped() {
    let text = sample().to_string();
    for at in 0..text.len() {
        let mut missing = text.clone();
        missing.remove(at);
        assert_eq!(
            missing.parse::<Ticket>(),
            Err(TicketError::Mistyped),
            "-{at}"
        );
        let mut extra = text.clone();
        extra.insert(at, 'q');
        assert_eq!(extra.parse::<Ticket>(), Err(TicketError::Mistyped), "+{at}");
        let bytes = text.as_bytes();
        if at + 1 < text.len() && bytes[at] != bytes[at + 1] {
            let mut swapped = bytes.to_vec();
            swapped.swap(at, at + 1);
            let swapped = String::from_utf8(swapped).unwrap();
            assert_eq!(
                swapped.parse::<Ticket>(),
                Err(TicketError::Mistyped),
                "~{at}"
            );
        }
    }
}

#[test]
fn a_newer_version_is_told_apart_from_a_typo_by_its_checksum() {
    let body = body_v2(&sample(), Vec::new());
    // Version 3 is an invite to a private room; 4 is from a parlor newer than this one.
    assert_eq!(
        frame_raw(3, &body).parse::<Ticket>(),
        Err(TicketError::Invite)
    );
    let newer = frame_raw(4, &body);
    assert_eq!(newer.parse::<Ticket>(), Err(TicketError::UnknownVersion(4)));
    assert!(
        TicketError::UnknownVersion(4)
            .to_string()
            .contains("newer parlor")
    );
    // The same text with its version byte changed and the checksum left as it was.
    let mut bytes = BASE32_NOPAD
        .decode(&newer.to_uppercase().into_bytes())
        .unwrap();
    bytes[0] = 9;
    assert_eq!(base32(&bytes).parse::<Ticket>(), Err(TicketError::Mistyped));
}

#[test]
fn unknown_extensions_are_skipped() {
    let ticket = sample();
    let extension = Extension {
        kind: 77,
        data: vec![1, 2, 3],
    };
    let text = frame_raw(TICKET_VERSION, &body_v2(&ticket, vec![extension]));
    assert_eq!(text.parse::<Ticket>().unwrap(), ticket);
}

#[test]
fn a_right_checksum_over_a_wrong_body_is_corrupt() {
    let mut body = body_v2(&sample(), Vec::new());
    body.push(0); // one byte more than the body holds
    let text = frame_raw(TICKET_VERSION, &body);
    assert_eq!(text.parse::<Ticket>(), Err(TicketError::Corrupt));
    let mut no_peers = Ticket::new(TopicId::from_bytes([1; 32]), vec![]);
    // Too short to be a ticket at all, unless something else makes it long.
    assert_eq!(
        no_peers.to_string().parse::<Ticket>(),
        Err(TicketError::TooShort(64))
    );
    no_peers.name = Some("a room nobody can be reached in".repeat(2));
    let text = no_peers.to_string();
    assert_eq!(text.parse::<Ticket>(), Err(TicketError::NoPeers));
}

#[test]
fn garbage_is_refused_with_a_reason() {
    let good = sample().to_string();
    let mut wrong_symbol = good.clone();
    wrong_symbol.replace_range(50..51, "0");
    let cases: Vec<(String, TicketError)> = vec![
        (String::new(), TicketError::Empty),
        ("   \n".into(), TicketError::Empty),
        ("hello world!".into(), TicketError::BadCharacter('!', 11)),
        ("Not-A-Ticket".into(), TicketError::BadCharacter('-', 4)),
        (wrong_symbol, TicketError::BadCharacter('0', 51)),
        ("a".repeat(5000), TicketError::TooLong(5000)),
        ("ops".into(), TicketError::TooShort(3)),
        (
            good[..good.len() / 2].to_string(),
            TicketError::TooShort(65),
        ),
        (good[..good.len() - 9].to_string(), TicketError::Mistyped),
        (format!("{good}aaaaaaaa"), TicketError::Mistyped),
        ("a".repeat(160), TicketError::Mistyped),
    ];
    for (text, want) in cases {
        let got = text.parse::<Ticket>().unwrap_err();
        assert_eq!(got, want, "{text:?}");
        assert!(!got.to_string().contains('\n'));
    }
    assert_eq!(
        TicketError::Mistyped.to_string(),
        "this ticket is mistyped (a character is wrong or missing): copy it again"
    );
}

#[test]
fn what_looks_like_a_ticket() {
    let good = sample().to_string();
    let mut stray = good.clone();
    stray.replace_range(70..71, "1");
    for (text, ticket) in [
        (good.as_str(), true),
        (&good.to_uppercase(), true),
        (&stray, true),
        ("ops", false),
        ("general-chat", false),
        (&"ab12".repeat(16), false), // a topic prefix: hex
        (&"x".repeat(59), false),
        (&format!("{}!", &good[..80]), false),
    ] {
        assert_eq!(looks_like_ticket(text), ticket, "{text}");
    }
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
        for version in [VERSION_1, TICKET_VERSION, 3] {
            let _ = frame_raw(version, &bytes).parse::<Ticket>();
            let mut plain = vec![version];
            plain.extend(&bytes);
            let _ = base32(&plain).parse::<Ticket>();
        }
        let _ = base32(&bytes).parse::<Ticket>();
    }
}

//! Tickets: every ticket prints and parses back, copy-and-paste damage to case and whitespace
//! is forgiven, and no text makes the parser panic.

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};

use parlor::proto::invite::{INVITE_VERSION, Invite};
use parlor::proto::ticket::{MAX_TICKET_PEERS, TICKET_VERSION, Ticket, frame_raw};
use parlor::proto::{EndpointAddr, SecretKey, TopicId};
use proptest::prelude::*;

use super::chars::hostile_text;

fn peer() -> impl Strategy<Value = EndpointAddr> {
    (
        any::<[u8; 32]>(),
        prop::collection::vec(any::<SocketAddr>(), 0..3),
        prop::option::of("[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,5}){1,2}"),
    )
        .prop_map(|(key, addrs, relay)| {
            let mut addr = EndpointAddr::new(SecretKey::from_bytes(&key).public());
            for ip in addrs {
                // Tickets carry address and port only: flow and scope ids are not sent.
                let ip = match ip {
                    SocketAddr::V6(v6) => SocketAddrV6::new(*v6.ip(), v6.port(), 0, 0).into(),
                    v4 => v4,
                };
                addr = addr.with_ip_addr(ip);
            }
            if let Some(host) = relay {
                let url = format!("https://{host}/").parse().expect("a valid url");
                addr = addr.with_relay_url(url);
            }
            addr
        })
}

fn ticket() -> impl Strategy<Value = Ticket> {
    (
        any::<[u8; 32]>(),
        prop::collection::vec(peer(), 1..=MAX_TICKET_PEERS),
    )
        .prop_map(|(topic, peers)| Ticket::new(TopicId::from_bytes(topic), peers))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn tickets_round_trip(ticket in ticket()) {
        let text = ticket.to_string();
        prop_assert_eq!(text.parse::<Ticket>().unwrap(), ticket);
    }

    #[test]
    fn pasted_damage_is_forgiven(ticket in ticket(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5)) {
        let text = ticket.to_string().to_uppercase();
        let mut mangled = text.clone();
        for cut in cuts {
            let at = cut.index(mangled.len() + 1);
            mangled.insert_str(at, " \n\t");
        }
        prop_assert_eq!(mangled.parse::<Ticket>().unwrap(), ticket);
    }

    #[test]
    fn arbitrary_text_never_panics(text in hostile_text(200)) {
        if let Ok(ticket) = text.parse::<Ticket>() {
            prop_assert!(!ticket.peers.is_empty());
        }
    }

    #[test]
    fn arbitrary_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..400)) {
        // Framed with a right checksum (and as version 1, which has none), so the body's
        // decoder is reached.
        for version in [TICKET_VERSION, 1] {
            if let Ok(ticket) = frame_raw(version, &body).parse::<Ticket>() {
                prop_assert!(!ticket.peers.is_empty());
                prop_assert_eq!(ticket.to_string().parse::<Ticket>().unwrap(), ticket);
            }
        }
        // The invite decoder too (version 3): never a panic, and never accepted unsigned.
        let framed = frame_raw(INVITE_VERSION, &body);
        prop_assert!(framed.parse::<Invite>().is_err());
    }

    #[test]
    fn arbitrary_text_is_no_invite(text in hostile_text(200)) {
        prop_assert!(text.parse::<Invite>().is_err());
    }
}

/// IPv6 flow and scope ids do not travel in tickets (serde writes a socket address as address
/// and port): a link-local `fe80::1%3` arrives without its interface.
#[test]
fn ipv6_scope_ids_are_not_carried() {
    let id = SecretKey::from_bytes(&[4; 32]).public();
    let scoped = SocketAddrV6::new(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1), 9, 0, 3);
    let ticket = Ticket::new(
        TopicId::from_bytes([1; 32]),
        vec![EndpointAddr::new(id).with_ip_addr(scoped.into())],
    );
    let back: Ticket = ticket.to_string().parse().unwrap();
    let addrs: Vec<_> = back.peers[0].ip_addrs().collect();
    assert_eq!(
        addrs,
        [&SocketAddr::V6(SocketAddrV6::new(*scoped.ip(), 9, 0, 0))]
    );
}

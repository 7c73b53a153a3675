//! Ticket text as pasted by anyone: parsing never panics, and whatever parses is a ticket that
//! prints and parses back to itself. The input is tried both as text and as the bytes behind
//! the base32 (version byte in front, and the checksum behind for version 2), so the postcard
//! decoder is reached too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parlor::proto::ticket::{TICKET_VERSION, Ticket, frame_raw};

fn check(text: &str) {
    if let Ok(ticket) = text.parse::<Ticket>() {
        assert!(!ticket.peers.is_empty());
        let again: Ticket = ticket.to_string().parse().expect("a printed ticket parses");
        assert_eq!(again, ticket);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check(text);
    }
    for version in [TICKET_VERSION, 1] {
        check(&frame_raw(version, data));
    }
});

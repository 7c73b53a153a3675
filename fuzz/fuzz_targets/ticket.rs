//! Ticket text as pasted by anyone: parsing never panics, and whatever parses is a ticket that
//! prints and parses back to itself. The input is tried both as text and as the bytes behind
//! the base32 (version byte in front), so the postcard decoder is reached too.
#![no_main]

use data_encoding::BASE32_NOPAD;
use libfuzzer_sys::fuzz_target;
use parlor::proto::ticket::{TICKET_VERSION, Ticket};

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
    let mut framed = vec![TICKET_VERSION];
    framed.extend_from_slice(data);
    check(&BASE32_NOPAD.encode(&framed));
});

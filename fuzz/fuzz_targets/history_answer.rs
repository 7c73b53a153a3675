//! A catch-up answer from a hostile neighbour: framing never panics, what it accepts is
//! exactly the bytes it was given within the bounds, and the envelopes go through the same
//! batch check the session runs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parlor::net::history::{MAX_ANSWER_ENVELOPES, parse_answer};
use parlor::proto::wire::{self, MAX_ENVELOPE_SIZE};
use parlor_fuzz::{NOW, topic};

fuzz_target!(|data: &[u8]| {
    let Ok(envelopes) = parse_answer(data) else {
        return;
    };
    assert!(envelopes.len() <= MAX_ANSWER_ENVELOPES);
    let mut framed = Vec::new();
    for envelope in &envelopes {
        assert!(envelope.len() <= MAX_ENVELOPE_SIZE);
        framed.extend_from_slice(&(envelope.len() as u32).to_be_bytes());
        framed.extend_from_slice(envelope);
    }
    assert_eq!(framed, data, "nothing dropped, nothing invented");
    let _ = wire::check_batch(envelopes, &topic(), NOW);
});

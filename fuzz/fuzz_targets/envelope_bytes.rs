//! Arbitrary bytes as a received envelope: `wire::open` and `check_batch` must refuse them
//! (no valid signature can be guessed) without panicking, and agree with each other.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parlor::proto::wire::{self, MessageBody};
use parlor_fuzz::{NOW, check_verified, topic};

fuzz_target!(|data: &[u8]| {
    let single = wire::open(data, &topic(), NOW);
    if let Ok(verified) = &single {
        check_verified(verified, data);
    }
    // The batch path (catch-up answers, stored history) must reach the same verdict.
    let batch = wire::check_batch(vec![data.to_vec()], &topic(), NOW);
    let is_message = matches!(&single, Ok(v) if matches!(v.body, MessageBody::Message { .. }));
    assert_eq!(batch.newest_message().is_some(), is_message);
});

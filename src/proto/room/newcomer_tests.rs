//! Many fresh keys in a room that has been going: their lines share one allowance, and what
//! they send past it is junk to count against whoever relays it (`session::invalid`).

use std::time::Duration;

use super::hostile_tests::{joined_room, line, receive, secret, texts};
use super::*;
use crate::proto::limits::RateLimits;

#[test]
fn fresh_keys_share_one_allowance_and_their_excess_is_junk() {
    let (mut room, start) = joined_room();
    let regular = secret(1);
    receive(
        &mut room,
        line(&regular, "from before", start.wall, 1),
        start,
    );
    // Ten minutes on, 100 fresh keys say 3 lines each at once.
    let later = Now {
        at: start.at + Duration::from_secs(600),
        wall: UnixMillis(start.wall.0 + 600_000),
    };
    let mut shown = 0;
    for k in 0..100u32 {
        let key = secret(1_000 + k);
        for n in 0..3u64 {
            let bytes = line(&key, &format!("spam {k} {n}"), later.wall, n + 1);
            shown += texts(&receive(&mut room, bytes, later)).len();
        }
    }
    let burst = RateLimits::default().messages.burst as usize;
    assert_eq!(shown, burst, "one member's burst for all of them");
    assert_eq!(room.junk_count(), 300 - burst as u64);
    // The member from before still has its own share.
    let own = line(&regular, "still here", later.wall, 2);
    assert_eq!(texts(&receive(&mut room, own, later)).len(), 1);
}

#[test]
fn a_thousand_new_keys_announcing_themselves_is_junk_past_a_few_dozen() {
    use super::hostile_tests::about;
    let (mut room, start) = joined_room();
    let later = Now {
        at: start.at + Duration::from_secs(600),
        wall: UnixMillis(start.wall.0 + 600_000),
    };
    for k in 0..200u32 {
        receive(
            &mut room,
            about(&secret(5_000 + k), "someone", later.wall),
            later,
        );
    }
    // Shown (each key keeps its own presence limit), but past 64 counted as junk.
    assert_eq!(room.junk_count(), 200 - 64);
    // As we join, a room of hundreds announcing itself is no junk.
    let (mut room, start) = joined_room();
    for k in 0..200u32 {
        receive(
            &mut room,
            about(&secret(5_000 + k), "someone", start.wall),
            start,
        );
    }
    assert_eq!(room.junk_count(), 0);
}

//! Many fresh keys in a room that has been going: their lines share one allowance, and what
//! they send past it is junk to count against whoever relays it (`session::invalid`).

use std::time::Duration;

use super::hostile_tests::{about, joined_room, line, receive, secret, texts};
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

/// Ten minutes after we joined: every key first heard now is a newcomer.
fn ten_minutes_on(start: Now) -> Now {
    Now {
        at: start.at + Duration::from_secs(600),
        wall: UnixMillis(start.wall.0 + 600_000),
    }
}

fn joined(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::MemberJoined(_)))
        .count()
}

/// `bytes` with its signature damaged.
fn forged(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes[1 + 32] ^= 1;
    bytes
}

#[test]
fn a_thousand_new_keys_announcing_themselves_are_dropped_past_a_few_dozen() {
    let (mut room, start) = joined_room();
    let later = ten_minutes_on(start);
    let mut shown = 0;
    for k in 0..200u32 {
        let bytes = about(&secret(5_000 + k), "someone", later.wall);
        shown += joined(&receive(&mut room, bytes, later));
    }
    assert_eq!(shown, 64, "what newcomers share");
    assert_eq!(room.junk_count(), 200 - 64);
    // As we join, a room of hundreds announcing itself is no junk, and all of it is shown.
    let (mut room, start) = joined_room();
    let mut shown = 0;
    for k in 0..200u32 {
        let bytes = about(&secret(5_000 + k), "someone", start.wall);
        shown += joined(&receive(&mut room, bytes, start));
    }
    assert_eq!((shown, room.junk_count()), (200, 0));
}

#[test]
fn what_the_limits_refuse_anyway_is_dropped_before_its_signature_is_checked() {
    let (mut room, start) = joined_room();
    let later = ten_minutes_on(start);
    for k in 0..64u32 {
        receive(&mut room, about(&secret(5_000 + k), "x", later.wall), later);
    }
    // The newcomers' presence is spent: a damaged envelope of a new key is refused unread
    // (a signature check would have called it a bad signature), and counts as junk.
    let junk = room.junk_count();
    receive(
        &mut room,
        forged(about(&secret(9_000), "y", later.wall)),
        later,
    );
    assert_eq!(room.stats.rejected.get("rate limited"), Some(&1));
    assert_eq!(room.stats.rejected.get("bad_signature"), None);
    assert_eq!(room.junk_count(), junk + 1);
    // A key whose own allowance is spent: refused unread too.
    let flooder = secret(1);
    receive(&mut room, line(&flooder, "before", start.wall, 1), start);
    let burst = RateLimits::default().messages.burst as u64;
    for n in 0..burst {
        receive(&mut room, line(&flooder, "flood", later.wall, n + 2), later);
    }
    let dropped = room.stats.rejected.get("rate limited").copied();
    receive(
        &mut room,
        forged(line(&flooder, "x", later.wall, 99)),
        later,
    );
    assert_eq!(
        room.stats.rejected.get("rate limited").copied(),
        dropped.map(|d| d + 1)
    );
    assert_eq!(room.stats.rejected.get("bad_signature"), None);
}

#[test]
fn envelopes_nobody_verified_spend_no_allowance_whoever_they_name() {
    let (mut room, start) = joined_room();
    let later = ten_minutes_on(start);
    let member = secret(1);
    receive(
        &mut room,
        line(&member, "from before", start.wall, 1),
        start,
    );
    // A forger names a member and a hundred new keys, far past every allowance.
    for n in 0..500u64 {
        receive(
            &mut room,
            forged(line(&member, "fake", later.wall, n + 2)),
            later,
        );
        let key = secret(7_000 + (n % 100) as u32);
        receive(&mut room, forged(about(&key, "fake", later.wall)), later);
    }
    assert_eq!(room.stats.rejected.get("bad_signature"), Some(&1_000));
    assert_eq!(room.stats.rejected.get("rate limited"), None);
    // Every allowance is whole: the member's line and a newcomer's announcement are shown.
    let own = line(&member, "still heard", later.wall, 1_000);
    assert_eq!(texts(&receive(&mut room, own, later)).len(), 1);
    let newcomer = about(&secret(7_000), "new", later.wall);
    assert_eq!(joined(&receive(&mut room, newcomer, later)), 1);
}

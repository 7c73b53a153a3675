//! The roster kept change by change equals the list rebuilt from scratch, whatever happens.

use std::time::{Duration, Instant};

use super::*;
use crate::proto::SecretKey;

/// The list as it was built before the roster: every listed key, shown and sorted.
fn rebuilt(members: &Members) -> Vec<MemberInfo> {
    let mut all: Vec<MemberInfo> = std::iter::once(members.me)
        .chain(
            members
                .present()
                .filter(|(_, p)| p.announced)
                .map(|(id, _)| *id),
        )
        .map(|id| members.info_or_stranger(&id))
        .collect();
    all.sort_by(|a, b| a.display.cmp(&b.display).then(a.id.cmp(&b.id)));
    all
}

#[test]
fn the_roster_always_equals_the_list_rebuilt() {
    let keys: Vec<EndpointId> = (1..=40u8)
        .map(|n| SecretKey::from_bytes(&[n; 32]).public())
        .collect();
    let names = ["sam", "SAM", "ѕam", "kim", "x", "alice", "аlice"];
    let me = SecretKey::from_bytes(&[99; 32]).public();
    let mut members = Members::new(me, "sam".into(), PresenceTiming::default());
    let start = Instant::now();
    let mut state: u64 = 0x5eed;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    for step in 0..3000u64 {
        let now = start + Duration::from_millis(step * 100);
        let wall = UnixMillis(1_750_000_000_000 + step * 100);
        let id = keys[next(keys.len())];
        match next(6) {
            0 | 1 => {
                let name = names[next(names.len())].to_string();
                members.set_name(id, name, wall, now, wall);
            }
            2 => {
                members.remove(&id);
            }
            3 => {
                let name = names[next(names.len())];
                members.remember_name(id, name, wall, wall, true);
            }
            4 => {
                members.expire(now);
            }
            _ => {
                let name = names[next(names.len())].to_string();
                members.set_my_name(name);
            }
        }
        assert_eq!(members.list(), rebuilt(&members), "after step {step}");
    }
}

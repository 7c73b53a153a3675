//! A hostile member against presence: replayed heartbeats, a flood of fresh keys, questions
//! that would make honest members look like flooders, names stuffed into history answers.

use std::time::Duration;

use super::hostile_tests::{about, events, joined_room, receive, seal, secret};
use super::*;
use crate::proto::wire::MessageBody;

fn joined(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::MemberJoined(_)))
        .count()
}

#[test]
fn recorded_heartbeats_do_not_bring_back_a_member_after_a_restart() {
    let (_, now) = joined_room();
    let alice = secret(2);
    // Recorded an hour ago; this room was restarted since and remembers nothing.
    let recorded = about(&alice, "alice", UnixMillis(now.wall.0 - 3_600_000));
    let (mut room, _) = joined_room();
    assert_eq!(joined(&receive(&mut room, recorded, now)), 0);
    assert!(room.members().iter().all(|m| m.name != "alice"));
    assert_eq!(room.stats().rejected.get("stale presence"), Some(&1));
}

#[test]
fn the_newest_heartbeat_again_is_a_replay_even_once_the_seen_set_forgot_it() {
    let config = RoomConfig {
        replay_memory: 2,
        ..RoomConfig::default()
    };
    let (_, now) = joined_room();
    let mut room = Room::new(
        secret(0),
        super::hostile_tests::TOPIC,
        "me".into(),
        1,
        config,
    );
    room.handle(Input::NeighborUp(secret(999_999).public()), now);
    let alice = secret(2);
    let beat = about(&alice, "alice", now.wall);
    assert_eq!(joined(&receive(&mut room, beat.clone(), now)), 1);
    // She times out; the seen set is flushed; her last heartbeat is replayed.
    let later = now.after(Duration::from_secs(85));
    room.handle(Input::Tick, later);
    for i in 0..4 {
        let key = secret(60 + i);
        let ask = seal(
            &key,
            later.wall,
            1,
            MessageBody::WhoIsThere { from: key.public() },
        );
        receive(&mut room, ask, later);
    }
    assert_eq!(joined(&receive(&mut room, beat, later)), 0);
    assert!(room.members().iter().all(|m| m.name != "alice"));
}

#[test]
fn answering_every_question_never_makes_a_member_look_like_a_flooder() {
    let (mut alice, now) = joined_room();
    let (mut bob, _) = joined_room();
    let mut at = now;
    // A fresh key asks who is there every second for ten minutes; alice answers what her
    // limit allows and heartbeats as usual; bob receives all of it.
    for i in 0..600u32 {
        let key = secret(1_000 + i);
        let ask = seal(
            &key,
            at.wall,
            1,
            MessageBody::WhoIsThere { from: key.public() },
        );
        let mut outputs = alice.handle(Input::Received(ask), at);
        at = at.after(Duration::from_secs(1));
        outputs.extend(alice.handle(Input::Tick, at));
        for output in outputs {
            if let Output::Broadcast(bytes) = output {
                receive(&mut bob, bytes, at);
            }
        }
    }
    assert_eq!(bob.stats().rejected.get("rate limited"), None);
    let reports = events(bob.handle(Input::Tick, at.after(Duration::from_secs(61))));
    assert!(
        !reports.iter().any(|e| matches!(e, Event::Flooded { .. })),
        "{reports:?}"
    );
}

#[test]
fn a_flood_of_fresh_keys_never_pushes_out_members_who_are_here() {
    let (mut room, now) = joined_room();
    let alice = secret(2);
    receive(&mut room, about(&alice, "alice", now.wall), now);
    // Fresh keys dated in the future, to look more recently heard of than alice.
    let future = UnixMillis(now.wall.0 + 60_000);
    for i in 0..(crate::proto::MAX_KNOWN_KEYS as u32 + 500) {
        let key = secret(20_000 + i);
        let ask = seal(
            &key,
            future,
            1,
            MessageBody::WhoIsThere { from: key.public() },
        );
        receive(&mut room, ask, now);
    }
    assert!(room.known_keys() <= crate::proto::MAX_KNOWN_KEYS);
    let names: Vec<String> = room.members().into_iter().map(|m| m.display).collect();
    assert!(names.contains(&"alice".to_string()), "{names:?}");
}

#[test]
fn a_history_answer_cannot_stuff_names_of_keys_without_lines() {
    let (mut room, now) = joined_room();
    let (alice, ghost) = (secret(2), secret(3));
    let line = super::hostile_tests::line(&alice, "hello", now.wall, 1);
    let answer = vec![
        about(&alice, "alice", now.wall),
        about(&ghost, "ghost", now.wall),
        line,
    ];
    room.handle(Input::History(answer), now);
    assert_eq!(room.known_keys(), 1, "only the author of the line");
}

//! Presence that scales: a newcomer learns the members from one member list instead of an
//! answer from everyone, heartbeats slow down as the room grows, and a member whose link
//! dropped is reported `Missing` and gone unless it answers.

use std::time::Duration;

use super::hostile_tests::{events, joined_room, receive, seal, secret};
use super::*;
use crate::proto::sim::Sim;
use crate::proto::wire::MessageBody;

fn about_every(key: &SecretKey, name: &str, sent: UnixMillis, every: Option<u32>) -> Vec<u8> {
    let body = MessageBody::AboutMe {
        from: key.public(),
        name: name.into(),
        every,
    };
    seal(key, sent, sent.0 ^ 0x5eed, body)
}

fn missing(key: &SecretKey, who: &SecretKey, sent: UnixMillis) -> Vec<u8> {
    let body = MessageBody::Missing {
        from: key.public(),
        who: who.public().to_string(),
    };
    seal(key, sent, sent.0 ^ 0x3155, body)
}

fn left(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MemberLeft { member, .. } => Some(member.name.clone()),
            _ => None,
        })
        .collect()
}

fn broadcasts(outputs: &[Output]) -> Vec<MessageBody> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Broadcast(bytes) => {
                let topic = super::hostile_tests::TOPIC;
                let now = UnixMillis(u64::MAX / 2);
                wire::Verifier::default().open(bytes, &topic, now).ok()
            }
            _ => None,
        })
        .map(|v| v.body)
        .collect()
}

/// The heartbeat interval our `AboutMe` in `out` announced.
fn announced_every(out: &[Output]) -> Option<u32> {
    broadcasts(out).into_iter().find_map(|b| match b {
        MessageBody::AboutMe { every, .. } => every,
        _ => None,
    })
}

/// A joined room where `n` members, each beating every `every` s, announced themselves.
fn room_of(n: u32, every: u32) -> (Room, Now) {
    let (mut room, now) = joined_room();
    for i in 0..n {
        let about = about_every(&secret(10 + i), "x", now.wall, Some(every));
        receive(&mut room, about, now);
    }
    (room, now)
}

fn checked(envelopes: Vec<Vec<u8>>, now: Now) -> wire::CheckedBatch {
    wire::check_batch(envelopes, &super::hostile_tests::TOPIC, now.wall)
}

#[test]
fn a_newcomer_learns_everyone_from_one_list_and_few_members_answer() {
    let names: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut sim = Sim::new(&names);
    for i in 0..39 {
        sim.connect(i);
    }
    let before = sim.broadcasts;
    sim.connect(39);
    sim.advance(Duration::from_secs(3));
    let cost = sim.broadcasts - before;
    // Its AboutMe and WhoIsThere, and about ANSWERERS answers (not 39).
    assert!(cost <= 2 + 3 * ANSWERERS as usize, "{cost} broadcasts");
    for i in 0..40 {
        assert_eq!(sim.rooms[i].members().len(), 40, "room {i}");
    }
    let joined = sim
        .take_events(39)
        .into_iter()
        .filter(|e| matches!(e, Event::MemberJoined(_)))
        .count();
    assert_eq!(joined, 39, "each member joined once");
}

#[test]
fn a_member_list_counts_only_recent_signed_presence() {
    let (mut room, now) = joined_room();
    let (alice, bob, carol) = (secret(2), secret(3), secret(4));
    let fresh = about_every(&alice, "alice", now.wall, None);
    // Older than the 80 s a 30 s heartbeat allows.
    let stale = about_every(&bob, "bob", UnixMillis(now.wall.0 - 81_000), None);
    // As old, but its author beats every 10 minutes.
    let slow = about_every(&carol, "carol", UnixMillis(now.wall.0 - 81_000), Some(600));
    let chat = super::hostile_tests::line(&bob, "hi", now.wall, 1);
    let out = room.handle(
        Input::Roster(checked(vec![fresh, stale, slow, chat], now)),
        now,
    );
    let mut names: Vec<String> = room.members().into_iter().map(|m| m.name).collect();
    names.sort();
    assert_eq!(names, ["alice", "carol", "me"]);
    assert_eq!(room.stats().rejected.get("not in a member list"), Some(&2));
    let joined = events(out)
        .into_iter()
        .filter(|e| matches!(e, Event::MemberJoined(_)))
        .count();
    assert_eq!(joined, 2);
}

#[test]
fn a_member_list_cannot_bring_back_someone_who_left() {
    let (mut room, now) = joined_room();
    let alice = secret(2);
    let hello = about_every(&alice, "alice", now.wall, None);
    receive(&mut room, hello.clone(), now);
    let bye = seal(
        &alice,
        UnixMillis(now.wall.0 + 1),
        9,
        MessageBody::Leave {
            from: alice.public(),
        },
    );
    receive(&mut room, bye, now);
    room.handle(Input::Roster(checked(vec![hello], now)), now);
    assert!(room.members().iter().all(|m| m.name != "alice"));
}

#[test]
fn the_heartbeat_slows_as_the_room_grows_and_receivers_wait_accordingly() {
    let (mut room, now) = room_of(99, 30);
    assert_eq!(room.members().len(), 100);
    let out = room.handle(Input::SetName("me2".into()), now);
    let every = announced_every(&out);
    assert_eq!(every, Some(100), "one second per member");
    let next = room.next_heartbeat.expect("scheduled");
    let wait = next - now.at;
    assert!(
        wait >= Duration::from_secs(83) && wait <= Duration::from_secs(100),
        "{wait:?}"
    );

    // A member that announced a 10-minute heartbeat is not gone after 80 s of silence, but
    // after 8/3 of its interval.
    let (mut room, now) = joined_room();
    receive(
        &mut room,
        about_every(&secret(2), "slow", now.wall, Some(600)),
        now,
    );
    room.handle(Input::Tick, now.after(Duration::from_secs(1_000)));
    assert_eq!(room.members().len(), 2);
    let out = room.handle(Input::Tick, now.after(Duration::from_secs(1_601)));
    assert_eq!(left(&events(out)), ["slow"]);
}

#[test]
fn a_member_reported_missing_is_gone_unless_it_answers() {
    let (mut room, now) = joined_room();
    let (alice, bob, carol) = (secret(2), secret(3), secret(4));
    for (key, name) in [(&alice, "alice"), (&bob, "bob"), (&carol, "carol")] {
        receive(&mut room, about_every(key, name, now.wall, Some(600)), now);
    }
    // 60 s of silence later alice, who lost her link to bob and carol, reports both.
    let t = now.after(Duration::from_secs(60));
    receive(&mut room, missing(&alice, &bob, t.wall), t);
    let later = |s| UnixMillis(t.wall.0 + s);
    let t2 = t.after(Duration::from_millis(1));
    receive(&mut room, missing(&alice, &carol, later(1)), t2);
    // carol is here and says so within the window; bob says nothing.
    let t5 = t.after(Duration::from_secs(5));
    receive(
        &mut room,
        about_every(&carol, "carol", t5.wall, Some(600)),
        t5,
    );
    let out = room.handle(Input::Tick, t.after(Duration::from_secs(9)));
    assert!(left(&events(out)).is_empty(), "not before the window ends");
    let out = room.handle(Input::Tick, t.after(Duration::from_secs(11)));
    assert_eq!(left(&events(out)), ["bob"]);
    let mut names: Vec<String> = room.members().into_iter().map(|m| m.name).collect();
    names.sort();
    assert_eq!(names, ["alice", "carol", "me"]);
}

#[test]
fn reported_missing_we_answer_and_a_strangers_report_changes_nothing() {
    let (mut room, now) = joined_room();
    let (alice, stranger, bob) = (secret(2), secret(3), secret(4));
    receive(&mut room, about_every(&alice, "alice", now.wall, None), now);
    receive(&mut room, about_every(&bob, "bob", now.wall, None), now);
    let t = now.after(Duration::from_secs(20));
    let out = room.handle(Input::Received(missing(&alice, &secret(0), t.wall)), t);
    assert!(
        broadcasts(&out)
            .iter()
            .any(|b| matches!(b, MessageBody::AboutMe { .. })),
        "we show that we are here"
    );
    // Someone who never announced itself cannot make bob go.
    receive(&mut room, missing(&stranger, &bob, t.wall), t);
    assert_eq!(room.stats().rejected.get("missing from stranger"), Some(&1));
    let out = room.handle(Input::Tick, t.after(Duration::from_secs(15)));
    assert!(left(&events(out)).is_empty());
}

#[test]
fn a_neighbour_whose_link_dropped_is_reported_missing_once() {
    let (mut room, now) = joined_room();
    let alice = secret(2);
    receive(
        &mut room,
        about_every(&alice, "alice", now.wall, Some(30)),
        now,
    );
    room.handle(Input::NeighborUp(alice.public()), now);
    room.handle(Input::NeighborDown(alice.public()), now);
    let out = room.handle(Input::Tick, now.after(Duration::from_secs(19)));
    assert!(broadcasts(&out).is_empty());
    // 20 s, and up to 5 s more drawn from both keys (so that not all of a vanished member's
    // neighbours report it at once).
    let mut reported = None;
    for s in 20..=25 {
        let t = now.after(Duration::from_secs(s));
        let out = room.handle(Input::Tick, t);
        let reports = broadcasts(&out)
            .into_iter()
            .filter(|b| matches!(b, MessageBody::Missing { .. }))
            .count();
        assert!(reports <= 1);
        if reports == 1 {
            assert!(reported.is_none(), "once");
            reported = Some(s);
        }
    }
    let reported = reported.expect("reported within 25 s");
    let out = room.handle(Input::Tick, now.after(Duration::from_secs(reported + 9)));
    assert!(left(&events(out)).is_empty());
    let out = room.handle(Input::Tick, now.after(Duration::from_secs(reported + 10)));
    assert_eq!(left(&events(out)), ["alice"]);
}

#[test]
fn a_member_from_before_keeps_the_old_rules() {
    // Its AboutMe announces no interval: it beats every 30 s, expires others after 80 s of
    // silence and does not know `Missing`.
    let (mut room, now) = room_of(99, 100);
    let old = secret(2);
    receive(&mut room, about_every(&old, "old", now.wall, None), now);
    let out = room.handle(Input::SetName("me2".into()), now);
    let every = announced_every(&out);
    assert_eq!(every, Some(30), "beat as often as it expects");
    // Reported missing, it could not answer: the report changes nothing for it.
    let t = now.after(Duration::from_secs(20));
    receive(&mut room, missing(&secret(10), &old, t.wall), t);
    let out = room.handle(Input::Tick, t.after(Duration::from_secs(15)));
    assert!(left(&events(out)).is_empty());
    // Our own link to it dropping makes it go after 40 s of silence (the old rule), with no
    // `Missing` (the link coming up counted as hearing from it).
    room.handle(Input::NeighborUp(old.public()), t);
    room.handle(Input::NeighborDown(old.public()), t);
    let mut gone = Vec::new();
    for s in 1..=39 {
        let out = room.handle(Input::Tick, t.after(Duration::from_secs(s)));
        assert!(left(&events(out)).is_empty(), "not before 40 s ({s})");
    }
    for s in 40..=41 {
        let out = room.handle(Input::Tick, t.after(Duration::from_secs(s)));
        let reports = broadcasts(&out)
            .into_iter()
            .filter(|b| matches!(b, MessageBody::Missing { .. }))
            .count();
        assert_eq!(reports, 0);
        gone.extend(left(&events(out)));
    }
    assert_eq!(gone, ["old"]);
}

#[test]
fn an_older_peer_arriving_brings_our_heartbeat_within_its_30_s_and_is_always_answered() {
    let (mut room, now) = room_of(99, 100);
    room.handle(Input::SetName("me2".into()), now);
    assert!(room.next_heartbeat.expect("scheduled") > now.at + Duration::from_secs(80));
    let old = secret(2);
    let t = now.after(Duration::from_secs(1));
    receive(&mut room, about_every(&old, "old", t.wall, None), t);
    let next = room.next_heartbeat.expect("scheduled");
    assert!(next <= t.at + Duration::from_secs(30), "{:?}", next - t.at);
    // Its question is answered whatever the draw (it asks for no member list).
    let ask = seal(
        &old,
        t.wall,
        77,
        MessageBody::WhoIsThere { from: old.public() },
    );
    room.handle(Input::Received(ask), t);
    let out = room.handle(Input::Tick, t.after(Duration::from_millis(60)));
    assert!(
        broadcasts(&out)
            .iter()
            .any(|b| matches!(b, MessageBody::AboutMe { .. }))
    );
}

#[test]
fn above_300_members_one_older_key_cannot_bring_back_30_s_heartbeats() {
    let (mut room, now) = room_of(300, 300);
    receive(
        &mut room,
        about_every(&secret(2), "old", now.wall, None),
        now,
    );
    assert_eq!(room.members().len(), 302);
    let out = room.handle(Input::SetName("me2".into()), now);
    let every = announced_every(&out);
    assert_eq!(every, Some(302));
}

#[test]
fn a_member_list_names_whom_we_heard_first_and_leaves_out_suspects() {
    let (mut room, now) = joined_room();
    let (alice, bob) = (secret(2), secret(3));
    // Alice's line comes before any AboutMe of hers: she is here, unannounced.
    let line = super::hostile_tests::line(&alice, "hi", now.wall, 5);
    receive(&mut room, line, now);
    assert!(room.members().iter().all(|m| m.name != "alice"));
    let list = vec![about_every(&alice, "alice", now.wall, Some(30))];
    room.handle(Input::Roster(checked(list, now)), now);
    assert!(room.members().iter().any(|m| m.name == "alice"));
    // Bob, whose link to us dropped, is left out of the list we serve.
    receive(&mut room, about_every(&bob, "bob", now.wall, Some(30)), now);
    room.handle(Input::NeighborUp(bob.public()), now);
    room.handle(Input::NeighborDown(bob.public()), now);
    let served = wire::check_batch(
        room.roster(now.wall).iter().map(|e| e.to_vec()).collect(),
        &super::hostile_tests::TOPIC,
        now.wall,
    );
    let authors: Vec<EndpointId> = served.accepted.iter().map(|(v, _)| v.author).collect();
    assert!(authors.contains(&alice.public()));
    assert!(!authors.contains(&bob.public()));
}

//! The room's name: the newest signed `RoomInfo` wins everywhere, names are cleaned and
//! bounded, forgeries and malformed bytes change nothing, and late joiners learn it from the
//! member list.

use std::time::Duration;

use super::hostile_tests::{TOPIC, about, events, joined_room, receive, seal, secret};
use super::*;
use crate::proto::limits::RateLimits;
use crate::proto::wire::MessageBody;

fn info(key: &SecretKey, name: &str, sent: UnixMillis, nonce: u64) -> Vec<u8> {
    let body = MessageBody::RoomInfo {
        from: key.public(),
        name: name.into(),
    };
    seal(key, sent, nonce, body)
}

fn named(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RoomNamed { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

fn later(now: Now, ms: u64) -> Now {
    Now {
        at: now.at + Duration::from_millis(ms),
        wall: UnixMillis(now.wall.0 + ms),
    }
}

fn name_of(room: &Room) -> Option<String> {
    room.room_name().map(|n| n.name.clone())
}

#[test]
fn the_newest_room_name_wins_whatever_order_it_arrives_in() {
    let (alice, bob) = (secret(1), secret(2));
    let (mut room, now) = joined_room();
    let t = now.wall;
    let old = info(&alice, "ops", t, 1);
    let new = info(&bob, "deploys", UnixMillis(t.0 + 1000), 2);
    let got = receive(&mut room, new.clone(), later(now, 10));
    assert_eq!(named(&got), ["deploys"]);
    let got = receive(&mut room, old.clone(), later(now, 20));
    assert!(named(&got).is_empty(), "an older name changes nothing");
    assert_eq!(name_of(&room).as_deref(), Some("deploys"));

    // Another member hearing them the other way round ends up the same.
    let (mut other, now) = joined_room();
    receive(&mut other, old, later(now, 10));
    receive(&mut other, new, later(now, 20));
    assert_eq!(name_of(&other).as_deref(), Some("deploys"));
    let named_by = other.room_name().map(|n| n.by);
    assert_eq!(named_by, Some(bob.public()));
}

#[test]
fn a_tie_in_time_is_broken_by_the_author_key_then_the_id() {
    let (a, b) = (secret(1), secret(2));
    let (mut one, now) = joined_room();
    let (mut two, _) = joined_room();
    let t = UnixMillis(now.wall.0 - 5);
    let from_a = info(&a, "from a", t, 1);
    let from_b = info(&b, "from b", t, 2);
    receive(&mut one, from_a.clone(), now);
    receive(&mut one, from_b.clone(), later(now, 1));
    receive(&mut two, from_b, now);
    receive(&mut two, from_a, later(now, 1));
    let winner = if b.public().as_bytes() > a.public().as_bytes() {
        "from b"
    } else {
        "from a"
    };
    assert_eq!(name_of(&one).as_deref(), Some(winner));
    assert_eq!(name_of(&two).as_deref(), Some(winner));
}

#[test]
fn room_names_are_cleaned_bounded_and_empty_ones_dropped() {
    let alice = secret(1);
    let (mut room, now) = joined_room();
    let hostile = format!("\u{202e}ops\u{1b}[2J\n{}", "x".repeat(200));
    let got = receive(&mut room, info(&alice, &hostile, now.wall, 1), now);
    let name = named(&got).pop().expect("a cleaned name");
    assert!(name.starts_with("ops[2J x"), "{name:?}");
    assert_eq!(
        name.chars().count(),
        crate::proto::names::MAX_ROOM_NAME_CHARS
    );
    let before = name_of(&room);
    let got = receive(
        &mut room,
        info(&alice, "\u{200b} \t", now.wall, 2),
        later(now, 1),
    );
    assert!(named(&got).is_empty(), "nothing left once cleaned");
    let huge = "y".repeat(MAX_ROOM_NAME_BYTES + 1);
    let got = receive(&mut room, info(&alice, &huge, now.wall, 3), later(now, 2));
    assert!(named(&got).is_empty(), "no parlor writes a name that long");
    assert_eq!(name_of(&room), before);
    assert_eq!(room.stats().rejected.get("bad room name"), Some(&2));
}

#[test]
fn forged_and_malformed_room_info_changes_nothing() {
    let (alice, mallory) = (secret(1), secret(3));
    let (mut room, now) = joined_room();
    receive(&mut room, info(&alice, "ops", now.wall, 1), now);
    // Signed by mallory, claiming alice wrote it.
    let body = MessageBody::RoomInfo {
        from: alice.public(),
        name: "pwned".into(),
    };
    let forged = seal(&mallory, now.wall, 2, body);
    assert!(receive(&mut room, forged, later(now, 1)).is_empty());
    // A good envelope with one bit of its signature flipped.
    let mut tampered = info(&alice, "pwned", UnixMillis(now.wall.0 + 5), 3);
    tampered[40] ^= 1;
    assert!(receive(&mut room, tampered, later(now, 2)).is_empty());
    // Bytes that are no room info at all, signed properly: the name is not a string, a
    // field is missing, the kind is unknown (which is what a peer that predates `RoomInfo`
    // makes of one: dropped as malformed, counted, nothing else).
    for json in [
        r#"{"type":"RoomInfo","from":"KEY","name":7}"#,
        r#"{"type":"RoomInfo","from":"KEY"}"#,
        r#"{"type":"RoomInfoV9","from":"KEY","name":"x"}"#,
    ] {
        let json = json.replace("KEY", &alice.public().to_string());
        let payload = format!(r#"{{"nonce":9,"sent":{},"body":{json}}}"#, now.wall.0);
        let bytes = signed_raw(&alice, payload.as_bytes());
        assert!(receive(&mut room, bytes, later(now, 3)).is_empty());
    }
    // Truncated and random bytes.
    let good = info(&alice, "later", UnixMillis(now.wall.0 + 9), 4);
    for cut in [0, 1, 50, good.len() - 1] {
        assert!(receive(&mut room, good[..cut].to_vec(), later(now, 4)).is_empty());
    }
    assert_eq!(name_of(&room).as_deref(), Some("ops"));
    assert!(
        room.stats()
            .rejected
            .get("malformed")
            .is_some_and(|n| *n >= 3)
    );
}

/// An envelope around any payload bytes, signed as the wire signs.
fn signed_raw(key: &SecretKey, json: &[u8]) -> Vec<u8> {
    let mut data = b"parlor-envelope-v1".to_vec();
    data.extend_from_slice(TOPIC.as_bytes());
    data.extend_from_slice(json);
    let signature = key.sign(&data);
    let mut out = vec![wire::WIRE_VERSION];
    out.extend_from_slice(key.public().as_bytes());
    out.extend_from_slice(&signature.to_bytes());
    out.extend_from_slice(json);
    out
}

#[test]
fn room_names_draw_on_the_authors_line_allowance() {
    let alice = secret(1);
    let (mut room, now) = joined_room();
    let burst = u64::from(RateLimits::default().messages.burst);
    let mut accepted = 0;
    for i in 0..burst + 20 {
        let bytes = info(&alice, &format!("name {i}"), UnixMillis(now.wall.0 + i), i);
        accepted += named(&receive(&mut room, bytes, now)).len() as u64;
    }
    assert_eq!(accepted, burst, "the rest is a flood");
    assert_eq!(room.stats().rejected.get("rate limited"), Some(&20));
}

#[test]
fn our_own_room_name_goes_out_signed_and_is_kept_for_the_member_list() {
    let (mut room, now) = joined_room();
    let out = room.handle(Input::SetRoomName("  ops \u{202e} ".into()), now);
    let broadcast = out.iter().find_map(|o| match o {
        Output::Broadcast(bytes) => Some(bytes.clone()),
        _ => None,
    });
    let verified = wire::open(&broadcast.expect("sent"), &TOPIC, now.wall).unwrap();
    assert_eq!(
        verified.body,
        MessageBody::RoomInfo {
            from: room.id(),
            name: "ops".into()
        }
    );
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Persist(Record::RoomName(_))))
    );
    assert_eq!(named(&events(out)), ["ops"]);
    let list = room.roster(now.wall);
    assert!(
        list.iter().any(|e| e[..] == verified_bytes(&room)[..]),
        "the member list carries the name"
    );
    let out = room.handle(Input::SetRoomName("\u{200b}".into()), now);
    assert!(matches!(
        &events(out)[..],
        [Event::Refused {
            refusal: Refusal::InvalidRoomName,
            ..
        }]
    ));
}

fn verified_bytes(room: &Room) -> Envelope {
    room.room_name().expect("named").envelope.clone()
}

#[test]
fn a_late_joiner_learns_the_name_from_the_member_list_however_old() {
    let alice = secret(1);
    let (mut old_member, now) = joined_room();
    // Named a month ago: older than any history window or presence.
    let month = 30 * 24 * 3600 * 1000;
    let sent = UnixMillis(now.wall.0 - month);
    let bytes = info(&alice, "ops", sent, 1);
    let batch = wire::check_batch(vec![bytes], &TOPIC, now.wall);
    old_member.handle(Input::CheckedHistory(batch), now);
    assert_eq!(name_of(&old_member).as_deref(), Some("ops"));

    let (mut newcomer, now) = joined_room();
    let list: Vec<Vec<u8>> = old_member
        .roster(now.wall)
        .iter()
        .map(|e| e.to_vec())
        .collect();
    let batch = wire::check_batch(list, &TOPIC, now.wall);
    let got = events(newcomer.handle(Input::Roster(batch), now));
    assert_eq!(named(&got), ["ops"]);
    let by = got.iter().find_map(|e| match e {
        Event::RoomNamed { by, .. } => Some(by.id),
        _ => None,
    });
    assert_eq!(by, Some(alice.public()));
}

#[test]
fn a_member_list_with_a_room_info_still_names_its_members() {
    let (alice, bob) = (secret(1), secret(2));
    let (mut newcomer, now) = joined_room();
    let list = vec![
        info(&alice, "ops", now.wall, 1),
        about(&bob, "bob", now.wall),
    ];
    let batch = wire::check_batch(list, &TOPIC, now.wall);
    let got = events(newcomer.handle(Input::Roster(batch), now));
    assert!(
        got.iter()
            .any(|e| matches!(e, Event::MemberJoined(m) if m.name == "bob"))
    );
    assert_eq!(named(&got), ["ops"]);
}

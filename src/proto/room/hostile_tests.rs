//! A hostile member, with crafted envelopes: floods, many keys, replays, backdated lines,
//! look-alike names, and what `/ignore` hides.

use std::time::Duration;

use super::*;
use crate::proto::wire::{MessageBody, Payload};

pub(super) const TOPIC: TopicId = TopicId::from_bytes([7; 32]);

pub(super) fn secret(n: u32) -> SecretKey {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&n.to_le_bytes());
    seed[31] = 1;
    SecretKey::from_bytes(&seed)
}

/// A room that has joined (one neighbour), at a fixed clock.
pub(super) fn joined_room() -> (Room, Now) {
    let now = Now {
        at: Instant::now(),
        wall: UnixMillis(1_750_000_000_000),
    };
    let mut room = Room::new(secret(0), TOPIC, "me".into(), 1, RoomConfig::default());
    room.handle(Input::NeighborUp(secret(999_999).public()), now);
    (room, now)
}

pub(super) fn seal(key: &SecretKey, sent: UnixMillis, nonce: u64, body: MessageBody) -> Vec<u8> {
    let payload = Payload {
        nonce,
        sent: sent.0,
        body,
    };
    wire::seal(key, &TOPIC, &payload).expect("small envelope")
}

pub(super) fn about(key: &SecretKey, name: &str, sent: UnixMillis) -> Vec<u8> {
    let body = MessageBody::AboutMe {
        from: key.public(),
        name: name.into(),
        every: None,
    };
    seal(key, sent, sent.0, body)
}

pub(super) fn line(key: &SecretKey, text: &str, sent: UnixMillis, nonce: u64) -> Vec<u8> {
    let body = MessageBody::Message {
        from: key.public(),
        text: text.into(),
        action: false,
        file: None,
        reply_to: None,
        change: None,
    };
    seal(key, sent, nonce, body)
}

pub(super) fn events(outputs: Vec<Output>) -> Vec<Event> {
    outputs
        .into_iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

pub(super) fn texts(events: &[Event]) -> Vec<(String, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MessageReceived(l) => Some((l.text.clone(), l.history)),
            _ => None,
        })
        .collect()
}

pub(super) fn receive(room: &mut Room, bytes: Vec<u8>, now: Now) -> Vec<Event> {
    events(room.handle(Input::Received(bytes), now))
}

#[test]
fn a_flood_is_cut_to_the_rate_limit_and_reported_once() {
    let (mut room, now) = joined_room();
    let (mallory, alice) = (secret(1), secret(2));
    let mut shown = 0;
    let mut honest = 0;
    // 200 lines a second for 2 s: ten times the limit.
    for i in 0..400u64 {
        let at = now.after(Duration::from_millis(i * 5));
        shown += texts(&receive(&mut room, line(&mallory, "spam", at.wall, i), at)).len();
        if i % 20 == 0 {
            honest += texts(&receive(&mut room, line(&alice, "hi", at.wall, i), at)).len();
        }
    }
    assert_eq!(honest, 20, "the honest member is never limited");
    // The burst of 50 and 20 a second after it.
    assert!((85..=92).contains(&shown), "{shown}");
    let reports: Vec<u64> = events(room.handle(Input::Tick, now.after(Duration::from_secs(2))))
        .into_iter()
        .filter_map(|e| match e {
            Event::Flooded { member, dropped } if member.id == mallory.public() => Some(dropped),
            _ => None,
        })
        .collect();
    assert_eq!(reports, [400 - shown as u64]);
    assert_eq!(
        room.stats().rejected.get("rate limited"),
        Some(&(400 - shown as u64))
    );
}

#[test]
fn newcomers_asking_at_once_get_few_answers_in_total() {
    let (mut room, now) = joined_room();
    let mut answers = 0;
    let mut at = now;
    for i in 0..200 {
        let key = secret(100 + i);
        let ask = seal(
            &key,
            at.wall,
            1,
            MessageBody::WhoIsThere { from: key.public() },
        );
        let outputs = room.handle(Input::Received(ask), at);
        answers += outputs
            .iter()
            .filter(|o| matches!(o, Output::Broadcast(_)))
            .count();
        at = at.after(Duration::from_millis(50));
        answers += room
            .handle(Input::Tick, at)
            .iter()
            .filter(|o| matches!(o, Output::Broadcast(_)))
            .count();
    }
    // 10 s of questions from 200 keys: the burst of 3 and one every 2 s.
    assert!(answers <= 3 + 5 + 1, "{answers} answers");
    assert!(answers >= 3, "newcomers are still answered");
}

#[test]
fn old_presence_cannot_revert_a_name_or_remove_a_member() {
    let (mut room, now) = joined_room();
    let alice = secret(2);
    let old = now.after(Duration::from_secs(1)).wall;
    let old_name = about(&alice, "alice", old);
    let old_leave = seal(
        &alice,
        old,
        9,
        MessageBody::Leave {
            from: alice.public(),
        },
    );
    receive(&mut room, old_name.clone(), now);
    let later = now.after(Duration::from_secs(60));
    receive(&mut room, about(&alice, "alice2", later.wall), later);
    // Replayed by someone who kept them (not exact repeats of what this room saw last).
    let replayed = receive(&mut room, old_leave, later);
    assert!(replayed.is_empty(), "{replayed:?}");
    let mut fresh = Room::new(secret(0), TOPIC, "me".into(), 2, RoomConfig::default());
    fresh.handle(Input::NeighborUp(secret(999_999).public()), later);
    receive(&mut fresh, about(&alice, "alice2", later.wall), later);
    assert!(receive(&mut fresh, old_name, later).is_empty());
    let names: Vec<String> = fresh.members().into_iter().map(|m| m.name).collect();
    assert!(names.contains(&"alice2".to_string()), "{names:?}");
    assert_eq!(fresh.stats().rejected.get("stale presence"), Some(&1));
}

#[test]
fn backdated_and_replayed_lines_are_never_new() {
    let config = RoomConfig {
        replay_memory: 4,
        ..RoomConfig::default()
    };
    let now = Now {
        at: Instant::now(),
        wall: UnixMillis(1_750_000_000_000),
    };
    let mut room = Room::new(secret(0), TOPIC, "me".into(), 1, config);
    room.handle(Input::NeighborUp(secret(999_999).public()), now);
    let alice = secret(2);
    // Dated inside last week's conversation: shown as history, not as a new line.
    let backdated = line(&alice, "I agreed", UnixMillis(now.wall.0 - 86_400_000), 1);
    assert_eq!(
        texts(&receive(&mut room, backdated.clone(), now)),
        [("I agreed".to_string(), true)]
    );
    let fresh = line(&alice, "just now", now.wall, 9);
    assert_eq!(texts(&receive(&mut room, fresh.clone(), now)).len(), 1);
    // The seen set is flushed with cheap messages; the replays are still caught.
    for i in 0..10 {
        receive(&mut room, line(&secret(50 + i), "x", now.wall, 1), now);
    }
    assert!(texts(&receive(&mut room, backdated.clone(), now)).is_empty());
    assert!(texts(&receive(&mut room, fresh, now)).is_empty());
    // Older than the history window: dropped.
    let ancient = line(&alice, "old", UnixMillis(now.wall.0 - 30 * 86_400_000), 2);
    assert!(receive(&mut room, ancient, now).is_empty());
    // After a restart the stored history is loaded first: nothing reopens.
    let recent = line(&alice, "recent", now.wall, 3);
    let mut restarted = Room::new(secret(0), TOPIC, "me".into(), 2, RoomConfig::default());
    restarted.handle(Input::History(vec![recent.clone(), backdated.clone()]), now);
    restarted.handle(Input::NeighborUp(secret(999_999).public()), now);
    assert!(texts(&receive(&mut restarted, recent, now)).is_empty());
    assert!(texts(&receive(&mut restarted, backdated, now)).is_empty());
}

#[test]
fn a_future_dated_line_does_not_move_catch_up_past_what_was_missed() {
    let (mut room, now) = joined_room();
    let mallory = secret(3);
    let future = UnixMillis(now.wall.0 + 9 * 60 * 1000);
    receive(&mut room, line(&mallory, "from the future", future, 1), now);
    let back = now.after(Duration::from_secs(3600));
    assert!(room.catch_up_since(back.wall) <= now.wall);
}

#[test]
fn look_alikes_and_names_of_absent_members_get_fingerprints() {
    let (mut room, now) = joined_room();
    let (alice, mallory, eve) = (secret(2), secret(3), secret(4));
    receive(&mut room, about(&alice, "alice", now.wall), now);
    let got = receive(&mut room, about(&mallory, "\u{430}lice", now.wall), now);
    let clash = got.iter().find_map(|e| match e {
        Event::NameClash { member, owner, .. } => Some((member.clone(), owner.clone())),
        _ => None,
    });
    let (member, owner) = clash.expect("the clash is told");
    assert_eq!(owner.id, alice.public());
    assert!(
        member.display.starts_with("\u{430}lice#"),
        "{}",
        member.display
    );
    // Alice leaves; eve takes her name: still not shown bare.
    let left = now.after(Duration::from_secs(1));
    let leave = seal(
        &alice,
        left.wall,
        5,
        MessageBody::Leave {
            from: alice.public(),
        },
    );
    receive(&mut room, leave, left);
    receive(&mut room, about(&eve, "alice", left.wall), left);
    let shown: Vec<String> = room.members().into_iter().map(|m| m.display).collect();
    assert!(!shown.contains(&"alice".to_string()), "{shown:?}");
    // Her lines say who she is.
    let said = receive(&mut room, line(&eve, "it's me", left.wall, 7), left);
    let Some(Event::MessageReceived(l)) = said.first() else {
        panic!("{said:?}")
    };
    assert!(l.author.display.starts_with("alice#"));
}

#[test]
fn ignore_hides_messages_and_presence_and_is_kept() {
    let (mut room, now) = joined_room();
    let (alice, mallory) = (secret(2), secret(3));
    receive(&mut room, about(&mallory, "mallory", now.wall), now);
    receive(&mut room, about(&alice, "alice", now.wall), now);
    let outputs = room.handle(
        Input::Ignore {
            who: "mallory".into(),
            ignore: true,
        },
        now,
    );
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::Persist(Record::Ignore { ignored: true, .. })))
    );
    assert!(room.members().iter().all(|m| m.name != "mallory"));
    assert!(texts(&receive(&mut room, line(&mallory, "boo", now.wall, 1), now)).is_empty());
    // The marker after it arrives: the hidden line was dropped, not delayed.
    assert_eq!(
        texts(&receive(&mut room, line(&alice, "hi", now.wall, 2), now)).len(),
        1
    );
    let ignored = events(room.handle(Input::ListIgnored, now));
    assert!(matches!(&ignored[..], [Event::IgnoredList(list)] if list.len() == 1));
    let refused = events(room.handle(
        Input::Ignore {
            who: "nobody".into(),
            ignore: true,
        },
        now,
    ));
    assert!(matches!(
        &refused[..],
        [Event::Refused {
            refusal: Refusal::NoSuchMember(_),
            ..
        }]
    ));
    room.handle(
        Input::Ignore {
            who: "mallory".into(),
            ignore: false,
        },
        now,
    );
    assert_eq!(
        texts(&receive(
            &mut room,
            line(&mallory, "back", now.wall, 3),
            now
        ))
        .len(),
        1
    );
}

#[test]
fn ten_thousand_fake_keys_stay_bounded() {
    let (mut room, now) = joined_room();
    let total = crate::proto::MAX_KNOWN_KEYS as u32 + 2_000;
    for i in 0..total {
        let key = secret(10_000 + i);
        let at = now.after(Duration::from_micros(u64::from(i)));
        receive(&mut room, about(&key, "x", at.wall), at);
    }
    assert!(room.known_keys() <= crate::proto::MAX_KNOWN_KEYS);
    let members = room.members();
    assert!(members.len() <= crate::proto::MAX_KNOWN_KEYS + 1);
    let distinct: std::collections::HashSet<&str> =
        members.iter().map(|m| m.display.as_str()).collect();
    assert_eq!(distinct.len(), members.len(), "every x is told apart");
}

/// `/unignore` lists a member who is here at once (no waiting for its next heartbeat, up to
/// 30 minutes in a large room); while ignored, its coming and going are followed unseen.
#[test]
fn unignore_lists_a_member_who_is_here_at_once() {
    let (mut room, now) = joined_room();
    let (mallory, trent) = (secret(3), secret(4));
    receive(&mut room, about(&mallory, "mallory", now.wall), now);
    receive(&mut room, about(&trent, "trent", now.wall), now);
    let ignore = |ignore| Input::Ignore {
        who: "mallory".into(),
        ignore,
    };
    room.handle(ignore(true), now);
    let names =
        |room: &Room| -> Vec<String> { room.members().into_iter().map(|m| m.name).collect() };
    assert!(!names(&room).contains(&"mallory".to_string()));
    // Her heartbeat, and trent's goodbye, while she is ignored: nothing of hers is told.
    let later = now.after(Duration::from_secs(20));
    let beat = receive(&mut room, about(&mallory, "mallory", later.wall), later);
    assert!(beat.is_empty(), "{beat:?}");
    room.handle(ignore(false), later);
    assert!(
        names(&room).contains(&"mallory".to_string()),
        "back at once"
    );
    // Ignored again, she leaves: after `/unignore` she is not listed.
    room.handle(ignore(true), later);
    let gone = later.after(Duration::from_secs(1));
    let bye = MessageBody::Leave {
        from: mallory.public(),
    };
    let left = receive(&mut room, seal(&mallory, gone.wall, 99, bye), gone);
    assert!(left.is_empty(), "{left:?}");
    room.handle(ignore(false), gone);
    assert!(
        !names(&room).contains(&"mallory".to_string()),
        "she left meanwhile"
    );
    assert!(names(&room).contains(&"trent".to_string()));
}

#[test]
fn presence_past_a_kilobyte_is_dropped_live_and_from_history() {
    let (mut room, now) = joined_room();
    let bob = secret(2);
    // A name cleaned down to 32 characters, sent with 30 KiB of padding around it.
    let padded = format!("bob{}", "\u{200b}".repeat(10_000));
    let big = about(&bob, &padded, now.wall);
    assert!(big.len() > wire::MAX_PRESENCE_BYTES);
    let got = events(room.handle(Input::Received(big.clone()), now));
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(room.stats().rejected.get("oversize presence"), Some(&1));
    let got = events(room.handle(Input::History(vec![big]), now));
    assert!(got.is_empty(), "{got:?}");
    // The same name, sent as a name is: taken.
    let got = events(room.handle(Input::Received(about(&bob, "bob", now.wall)), now));
    assert!(
        matches!(&got[..], [Event::MemberJoined(m)] if m.name == "bob"),
        "{got:?}"
    );
}

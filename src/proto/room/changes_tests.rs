//! Replies and changes to lines: checked against the line's author (live and from history),
//! a change that comes before its line waits for it, peers that predate them read a text, and
//! our own are refused when we may not make them.

use super::hostile_tests::{events, joined_room, line, seal, secret};
use super::*;
use crate::proto::MessageId;
use crate::proto::wire::{MessageBody, WireChange};

fn change(
    key: &SecretKey,
    text: &str,
    change: WireChange,
    sent: UnixMillis,
    nonce: u64,
) -> Vec<u8> {
    message(key, text, None, Some(change), sent, nonce)
}

fn message(
    key: &SecretKey,
    text: &str,
    reply_to: Option<String>,
    change: Option<WireChange>,
    sent: UnixMillis,
    nonce: u64,
) -> Vec<u8> {
    let body = MessageBody::Message {
        from: key.public(),
        text: text.into(),
        action: false,
        file: None,
        reply_to,
        change,
    };
    seal(key, sent, nonce, body)
}

fn received(room: &mut Room, bytes: Vec<u8>, now: Now) -> Vec<Event> {
    events(room.handle(Input::Received(bytes), now))
}

fn changed(events: &[Event]) -> Vec<(String, ChangeKind)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Changed(line) => line
                .change
                .clone()
                .map(|c| (line.author.id.fmt_short().to_string(), c.kind)),
            _ => None,
        })
        .collect()
}

fn id_of(events: &[Event]) -> MessageId {
    events
        .iter()
        .find_map(|e| match e {
            Event::MessageReceived(line) | Event::MessageSent(line) => Some(line.id),
            _ => None,
        })
        .expect("a line")
}

#[test]
fn anyone_reacts_only_the_author_edits_and_deletes() {
    let (mut room, now) = joined_room();
    let (bob, eve) = (secret(2), secret(3));
    let said = received(&mut room, line(&bob, "hello", now.wall, 1), now);
    let to = id_of(&said).to_string();
    let react = WireChange::React {
        to: to.clone(),
        emoji: "👍".into(),
        on: true,
    };
    let got = received(
        &mut room,
        change(&eve, "reacted 👍", react, now.wall, 2),
        now,
    );
    assert_eq!(changed(&got).len(), 1, "anyone reacts: {got:?}");
    // Eve may not edit or delete bob's line: dropped, counted, never shown.
    let edit = WireChange::Edit { to: to.clone() };
    let got = received(
        &mut room,
        change(&eve, "bob is wrong", edit, now.wall, 3),
        now,
    );
    assert!(changed(&got).is_empty(), "{got:?}");
    let delete = WireChange::Delete { to: to.clone() };
    let got = received(&mut room, change(&eve, "", delete, now.wall, 4), now);
    assert!(changed(&got).is_empty(), "{got:?}");
    assert_eq!(room.stats().rejected.get("change not allowed"), Some(&2));
    // Bob edits his, then deletes it; nothing touches it after.
    let edit = WireChange::Edit { to: to.clone() };
    let got = received(
        &mut room,
        change(&bob, "hello, all", edit, now.wall, 5),
        now,
    );
    assert!(
        matches!(&got[..], [Event::Changed(l)] if l.text == "hello, all"),
        "{got:?}"
    );
    let delete = WireChange::Delete { to: to.clone() };
    let got = received(
        &mut room,
        change(&bob, "(deleted a message)", delete, now.wall, 6),
        now,
    );
    assert_eq!(changed(&got)[0].1, ChangeKind::Delete);
    let react = WireChange::React {
        to,
        emoji: "🎉".into(),
        on: true,
    };
    let got = received(&mut room, change(&eve, "", react, now.wall, 7), now);
    assert!(
        changed(&got).is_empty(),
        "a deleted line takes nothing: {got:?}"
    );
}

#[test]
fn an_admin_deletes_anyones_line_once_the_room_says_so() {
    let (mut room, now) = joined_room();
    let (bob, ann) = (secret(2), secret(4));
    let said = received(&mut room, line(&bob, "spam", now.wall, 1), now);
    let to = id_of(&said).to_string();
    let delete = || WireChange::Delete { to: to.clone() };
    let got = received(&mut room, change(&ann, "", delete(), now.wall, 2), now);
    assert!(changed(&got).is_empty(), "not an admin yet");
    room.handle(Input::SetAdmins(vec![ann.public()]), now);
    let got = received(&mut room, change(&ann, "", delete(), now.wall, 3), now);
    assert_eq!(changed(&got).len(), 1, "{got:?}");
}

#[test]
fn a_change_before_its_line_waits_for_it() {
    let (mut room, now) = joined_room();
    let bob = secret(2);
    let first = line(&bob, "first", now.wall, 1);
    let to = MessageId::of(&first).to_string();
    let react = WireChange::React {
        to,
        emoji: "❤️".into(),
        on: true,
    };
    let early = received(&mut room, change(&bob, "", react, now.wall, 2), now);
    assert!(changed(&early).is_empty(), "its line is not here yet");
    // The line comes (from history, say): it shows, then the reaction.
    let got = events(room.handle(Input::History(vec![first]), now));
    assert!(
        matches!(&got[..], [Event::MessageReceived(_), Event::Changed(_)]),
        "{got:?}"
    );
}

#[test]
fn malformed_changes_and_replies_are_handled() {
    let (mut room, now) = joined_room();
    let bob = secret(2);
    for (n, bad) in [
        WireChange::Edit { to: "zz".into() },
        WireChange::React {
            to: "ab".repeat(32),
            emoji: "a b".into(),
            on: true,
        },
        WireChange::React {
            to: "ab".repeat(32),
            emoji: "x".repeat(40),
            on: true,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let got = received(&mut room, change(&bob, "", bad, now.wall, n as u64), now);
        assert!(got.is_empty(), "{got:?}");
    }
    assert_eq!(room.stats().rejected.get("bad change"), Some(&3));
    // A reply naming no valid id is still a line (older peers would show it alike).
    let reply = message(&bob, "yes", Some("nonsense".into()), None, now.wall, 9);
    let got = received(&mut room, reply, now);
    assert!(
        matches!(&got[..], [Event::MessageReceived(l)] if l.reply_to.is_none()),
        "{got:?}"
    );
}

#[test]
fn our_own_changes_go_out_or_are_refused_with_why() {
    let (mut room, now) = joined_room();
    let bob = secret(2);
    let ours = events(room.handle(Input::Say("typo hre".into()), now));
    let mine = id_of(&ours).to_string();
    let theirs = received(&mut room, line(&bob, "bob's", now.wall, 1), now);
    let theirs = id_of(&theirs).to_string();

    let out = room.handle(
        Input::Edit {
            to: mine[..8].into(),
            text: "typo here".into(),
        },
        now,
    );
    assert!(out.iter().any(|o| matches!(o, Output::Broadcast(_))));
    assert!(matches!(&events(out)[..], [Event::Changed(l)] if l.text == "typo here"));
    let reply = events(room.handle(
        Input::Reply {
            to: theirs[..10].into(),
            text: "agreed".into(),
        },
        now,
    ));
    assert!(
        matches!(&reply[..], [Event::MessageSent(l)] if l.reply_to.as_ref().map(|i| i.to_string()) == Some(theirs.clone())),
        "{reply:?}"
    );
    for (input, why) in [
        (
            Input::Edit {
                to: theirs.clone(),
                text: "mine now".into(),
            },
            "only its author",
        ),
        (Input::Delete { to: theirs.clone() }, "only its author"),
        (Input::Delete { to: "0123".into() }, "no line here"),
        (
            Input::Delete {
                to: "ffffffffff".into(),
            },
            "no line here",
        ),
        (
            Input::React {
                to: theirs.clone(),
                emoji: "two words".into(),
                on: true,
            },
            "not an emoji",
        ),
    ] {
        let got = events(room.handle(input, now));
        assert!(
            matches!(&got[..], [Event::Refused { refusal, attempt: Attempt::Change(_) }] if refusal.to_string().contains(why)),
            "{why}: {got:?}"
        );
    }
}

#[test]
fn typing_goes_out_at_most_every_few_seconds_and_shows_only_members() {
    let (mut room, mut now) = joined_room();
    let broadcasts = |out: &[Output]| {
        out.iter()
            .filter(|o| matches!(o, Output::Broadcast(_)))
            .count()
    };
    assert_eq!(broadcasts(&room.handle(Input::Typing, now)), 1);
    assert_eq!(
        broadcasts(&room.handle(Input::Typing, now)),
        0,
        "said lately"
    );
    now.at += typing::TYPING_EVERY;
    now.wall.0 += typing::TYPING_EVERY.as_millis() as u64;
    assert_eq!(broadcasts(&room.handle(Input::Typing, now)), 1);

    let bob = secret(2);
    let typing = |key: &SecretKey, sent: UnixMillis, nonce| {
        seal(key, sent, nonce, MessageBody::Typing { from: key.public() })
    };
    // A stranger (no name known) shows nothing; a member does, nothing is kept.
    assert!(received(&mut room, typing(&bob, now.wall, 1), now).is_empty());
    room.handle(
        Input::Received(super::hostile_tests::about(&bob, "bob", now.wall)),
        now,
    );
    let out = room.handle(Input::Received(typing(&bob, now.wall, 2)), now);
    assert!(!out.iter().any(|o| matches!(o, Output::Persist(_))));
    assert!(matches!(&events(out)[..], [Event::Typing(m)] if m.name == "bob"));
    // An old signal (a replay, a backdated one) is not news.
    let old = UnixMillis(now.wall.0 - 60_000);
    assert!(received(&mut room, typing(&bob, old, 3), now).is_empty());
}

#[test]
fn a_large_room_hears_no_typing_from_us() {
    let (mut room, now) = joined_room();
    for n in 0..=typing::MAX_TYPING_ROOM as u32 {
        let key = secret(100 + n);
        room.handle(
            Input::Received(super::hostile_tests::about(
                &key,
                &format!("m{n}"),
                now.wall,
            )),
            now,
        );
    }
    let out = room.handle(Input::Typing, now);
    assert!(!out.iter().any(|o| matches!(o, Output::Broadcast(_))));
}

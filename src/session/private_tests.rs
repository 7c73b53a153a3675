//! Private rooms' membership over loopback: a kick moves the others to a new key and topic
//! the removed member never gets (even one that keeps its old key, topic and everyone's id,
//! and asks for history and the key), and a member away during a kick catches up when back.

use std::time::Duration;

use super::sealed_tests::{events_until, new_room, private, start_as, ticket_via, when};
use super::tests::{Member, joined};
use super::*;
use crate::net::NetEvent;
use crate::proto::SecretKey;
use crate::proto::backlog::Page;
use crate::proto::room::Event;
use crate::proto::seal;
use crate::proto::state::{Action, HistoryVisibility};

const WAIT: Duration = Duration::from_secs(20);
const LINES: usize = 50;

/// `member`'s private state once `done` holds for it.
async fn state_when(
    member: &Member,
    what: &str,
    done: impl Fn(&crate::model::RoomStateView) -> bool,
) -> crate::model::RoomStateView {
    let read = || async { member.handle.state().await.ok().flatten() };
    when(what, read, done).await
}

/// `by` removes `who`, for no reason given.
async fn kick(by: &Member, who: crate::proto::EndpointId) {
    let action = Action::Remove {
        who,
        reason: String::new(),
    };
    by.handle.moderate(action).await.unwrap().unwrap();
}

/// Ann owning a room with bob and carl in it, all three running (and the room, carl's key,
/// a ticket through ann, and bob's key to start him again).
async fn three_members() -> (PrivateSpec, [Member; 3], SecretKey, String) {
    let keys = [
        SecretKey::generate(),
        SecretKey::generate(),
        SecretKey::generate(),
    ];
    let room = new_room(&[&keys[0], &keys[1], &keys[2]]);
    let [ann_key, bob_key, carl_key] = keys;
    let bob_again = bob_key.clone();
    let mut ann = start_as(ann_key, private("ann", None, &room)).await;
    ann.ticket().await;
    let ticket = ticket_via(&ann, &room);
    let mut bob = start_as(bob_key, private("bob", Some(&ticket), &room)).await;
    bob.ticket().await;
    let mut carl = start_as(carl_key, private("carl", Some(&ticket), &room)).await;
    carl.ticket().await;
    ann.expect("bob joined", joined("bob")).await;
    ann.expect("carl joined", joined("carl")).await;
    (room, [ann, bob, carl], bob_again, ticket)
}

/// Texts of the lines `member` shows until `marker` (which must come).
async fn lines_until(member: &mut Member, marker: &str) -> Vec<String> {
    let events = events_until(member, marker).await;
    let lines = events.into_iter().filter_map(|event| match event {
        SessionEvent::Room(Event::MessageReceived(line)) => Some(line.text),
        _ => None,
    });
    lines.collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kicked_member_that_keeps_its_old_key_and_topic_hears_nothing_after() {
    let (room, [ann, mut bob, mut carl], _, _) = three_members().await;
    let carl_id = carl.node.id();
    ann.handle.say("before the kick".into()).await.unwrap();
    carl.expect_text("before the kick").await;

    // Carl's own parlor also keeps listening on the old epoch's topic, with its key.
    let old_key = seal::message_key(&room.key);
    let peers = vec![ann.node.addr(), bob.node.addr()];
    let mut spy = carl.node.subscribe(room.topic(), &peers).await.unwrap();
    // It works: a line said now opens with the key it has.
    let listening = async {
        loop {
            ann.handle.say("can carl read this".into()).await.unwrap();
            let heard = tokio::time::timeout(Duration::from_millis(500), async {
                while let Some(event) = spy.next_event().await {
                    if let NetEvent::Received(bytes, _) = event
                        && let Ok(plain) = seal::open(&old_key, &bytes)
                        && String::from_utf8_lossy(&plain).contains("can carl read this")
                    {
                        return;
                    }
                }
            })
            .await;
            if heard.is_ok() {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, listening)
        .await
        .expect("the old key opens the old topic's lines before the kick");

    ann.handle
        .moderate(Action::Remove {
            who: carl_id,
            reason: "testing".into(),
        })
        .await
        .unwrap()
        .unwrap();
    // Carl is told, by whom and why, and his session ends.
    let removed = carl
        .expect("the removal", |e| matches!(e, SessionEvent::Removed { .. }))
        .await;
    assert!(
        matches!(&removed, SessionEvent::Removed { by: Some(by), reason, ban: false } if *by == ann.node.id() && reason == "testing"),
        "{removed:?}"
    );
    while carl.events.recv().await.is_some() {}
    // Bob follows ann to the new epoch.
    let state = state_when(&bob, "epoch 1", |s| s.epoch == 1).await;
    assert!(state.role_of(&carl_id).is_none());
    let moved = async {
        loop {
            if bob.handle.status().await.unwrap().neighbors > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, moved)
        .await
        .expect("bob and ann meet again");

    for n in 0..LINES {
        ann.handle.say(format!("after {n}")).await.unwrap();
    }
    ann.handle.say("marker".into()).await.unwrap();
    let heard = lines_until(&mut bob, "marker").await;
    let after: Vec<&String> = heard.iter().filter(|l| l.starts_with("after ")).collect();
    assert_eq!(after.len(), LINES, "bob hears all of them: {heard:?}");

    // Whatever reached the old topic since, nothing opens with the old key as a line.
    let mut opened = 0;
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(300), spy.next_event()).await
    {
        if let NetEvent::Received(bytes, _) = event
            && let Ok(plain) = seal::open(&old_key, &bytes)
            && String::from_utf8_lossy(&plain).contains("after ")
        {
            opened += 1;
        }
    }
    assert_eq!(
        opened, 0,
        "the removed member read lines said after its removal"
    );
    // Its history and key requests are refused (an empty answer, a refusal).
    let history = carl
        .node
        .fetch_history(
            ann.node.id(),
            room.room_topic(),
            crate::proto::UnixMillis(0),
            100,
            Page::Newest,
        )
        .await
        .unwrap();
    assert!(
        history.is_empty(),
        "{} envelopes served to a removed member",
        history.len()
    );
    let roster = carl
        .node
        .fetch_history(
            bob.node.id(),
            room.room_topic(),
            crate::proto::UnixMillis::now(),
            0,
            Page::Newest,
        )
        .await
        .unwrap();
    assert!(
        roster.is_empty(),
        "a member list served to a removed member"
    );
    let key = carl.node.fetch_key(ann.node.id(), room.room(), 0).await;
    assert!(
        matches!(&key, Err(crate::net::keys::KeyFetchError::Refused(why)) if why.kind == crate::net::keys::RefusalKind::NotMember),
        "{key:?}"
    );
    drop(spy);
    carl.node.shutdown(Duration::from_millis(250)).await;
    bob.close().await;
    ann.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_away_during_a_kick_gets_the_new_key_when_back() {
    let (room, [ann, bob, mut carl], bob_again, ticket) = three_members().await;
    let carl_id = carl.node.id();
    // Bob goes away; carl is kicked meanwhile.
    bob.close().await;
    kick(&ann, carl_id).await;
    carl.expect("the removal", |e| matches!(e, SessionEvent::Removed { .. }))
        .await;
    // Bob comes back with what he had: the old log and key, the old topic.
    let started = std::time::Instant::now();
    let mut bob = start_as(bob_again, private("bob", Some(&ticket), &room)).await;
    bob.ticket().await;
    state_when(&bob, "epoch 1", |s| {
        s.epoch == 1 && s.role_of(&carl_id).is_none()
    })
    .await;
    let back = started.elapsed();
    ann.handle.say("welcome back".into()).await.unwrap();
    bob.expect_text("welcome back").await;
    assert!(back < WAIT, "{back:?}");
    carl.node.shutdown(Duration::from_millis(250)).await;
    bob.close().await;
    ann.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_history_joined_a_newcomer_reads_only_what_was_said_since_it_joined() {
    let (room, [ann, bob, carl], _, ticket) = three_members().await;
    ann.handle
        .moderate(Action::SetHistory(HistoryVisibility::Joined))
        .await
        .unwrap()
        .unwrap();
    ann.handle.say("before dave".into()).await.unwrap();
    let mut bob = bob;
    bob.expect_text("before dave").await;
    // Dave is added, then starts from the room as it was before (his first sync brings the
    // log that has him) and catches up.
    let dave_key = SecretKey::generate();
    let dave_id = dave_key.public();
    ann.handle
        .moderate(Action::Add { who: dave_id })
        .await
        .unwrap()
        .unwrap();
    state_when(&bob, "dave in bob's state", |s| {
        s.role_of(&dave_id).is_some()
    })
    .await;
    ann.handle.say("after dave".into()).await.unwrap();
    bob.expect_text("after dave").await;
    let mut dave = start_as(dave_key, private("dave", Some(&ticket), &room)).await;
    dave.ticket().await;
    let seen = lines_until(&mut dave, "after dave").await;
    assert!(!seen.iter().any(|l| l == "before dave"), "{seen:?}");
    for member in [dave, carl, bob, ann] {
        member.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaked_key_lets_a_stranger_send_nothing_the_room_takes() {
    let (room, [ann, mut bob, carl], _, _) = three_members().await;
    // Eve got hold of the epoch's key (and so its topic): she sends a signed line of hers
    // and a state operation of a key she made, sealed as members seal them.
    let eve = SecretKey::generate();
    let key = seal::message_key(&room.key);
    let line = |from: &SecretKey, nonce: u64, text: &str| {
        let payload = crate::proto::wire::Payload {
            nonce,
            sent: crate::proto::UnixMillis::now().0,
            body: crate::proto::wire::MessageBody::Message {
                from: from.public(),
                text: text.into(),
                action: false,
                file: None,
                reply_to: None,
                change: None,
            },
        };
        let signed = crate::proto::wire::seal(from, &room.room_topic(), &payload).unwrap();
        seal::seal(&key, &signed)
    };
    let op = room
        .log
        .author(
            &SecretKey::generate(),
            Action::SetTopic("eve's topic".into()),
        )
        .unwrap();
    let eve_node = crate::net::Node::spawn(&crate::net::NetConfig::loopback(eve.clone()))
        .await
        .unwrap();
    let peers = vec![ann.node.addr(), bob.node.addr()];
    let mut spy = eve_node.subscribe(room.topic(), &peers).await.unwrap();
    let up = async {
        while let Some(event) = spy.next_event().await {
            if matches!(event, NetEvent::NeighborUp(_)) {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, up)
        .await
        .expect("eve reaches the topic");
    spy.broadcast(line(&eve, 7, "eve was here")).await;
    spy.broadcast(seal::seal(&key, &super::private::op_frame(&op)))
        .await;
    // Then, the same way, a line of ann's (a copy of hers reaching eve, say): by the time
    // it is shown, eve's two came before it and were dropped.
    spy.broadcast(line(&ann.node.secret(), 8, "after eve"))
        .await;
    let seen = lines_until(&mut bob, "after eve").await;
    assert!(!seen.iter().any(|l| l.contains("eve")), "{seen:?}");
    let state = bob.handle.state().await.unwrap().unwrap();
    assert_eq!(state.topic, "", "a stranger's operation changed the state");
    // Her line reached the members and was dropped unread (counted).
    let dropped =
        ann.handle.status().await.unwrap().unopened + bob.handle.status().await.unwrap().unopened;
    assert!(dropped > 0, "nothing of eve's reached a member");
    drop(spy);
    eve_node.shutdown(Duration::from_millis(250)).await;
    for member in [carl, bob, ann] {
        member.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_while_away_learns_it_when_back() {
    let (room, [ann, bob, carl], _, ticket) = three_members().await;
    let carl_key = carl.node.secret();
    let carl_id = carl_key.public();
    carl.close().await;
    kick(&ann, carl_id).await;
    state_when(&bob, "carl out", |s| s.role_of(&carl_id).is_none()).await;
    // Carl comes back with what he had; the members no longer let him in, and after a few
    // seconds of that (not at the first refusal: a newcomer's join may still be on its way)
    // his session says he was removed.
    let mut carl = start_as(carl_key, private("carl", Some(&ticket), &room)).await;
    let removed = carl
        .expect("the removal, learnt", |e| {
            matches!(e, SessionEvent::Removed { .. })
        })
        .await;
    assert!(
        matches!(
            &removed,
            SessionEvent::Removed {
                by: None,
                ban: false,
                ..
            }
        ),
        "{removed:?}"
    );
    carl.node.shutdown(Duration::from_millis(250)).await;
    bob.close().await;
    ann.close().await;
}

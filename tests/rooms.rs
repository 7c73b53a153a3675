//! Several rooms and direct messages in one process, through the headless front end the
//! binary runs: rooms kept apart (messages, members, search, the rooms to rejoin), `/room`,
//! `/to`, `/rooms`, `/part`, and `/msg` reaching only its addressee. All on 127.0.0.1.

mod common;
#[path = "support/mod.rs"]
mod support;

use common::{Peer, offline_config};
use parlor::config::{Start, Task};
use parlor::store::Store;
use serde_json::Value;
use support::parlor::tempdir;

fn text(event: &Value, key: &str) -> String {
    event[key].as_str().unwrap_or_default().to_string()
}

/// Events of `kind` seen so far in `room`.
fn in_room<'a>(peer: &'a Peer, kind: &str, room: &str) -> Vec<&'a Value> {
    peer.seen
        .iter()
        .filter(|e| e["type"] == kind && e["room"] == room)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_in_three_rooms_keeps_them_apart() {
    let dir = tempdir("hub");
    let mut config = offline_config("hub", Start::Open);
    config.task = Task::Chat(vec![Start::Open, Start::Open, Start::Open]);
    let store = Store::open(&dir).unwrap();
    let mut hub = Peer::start_with_store(config, Some(store));
    // Three rooms, each ready once, each event naming its room.
    hub.wait_until("three rooms ready", |seen| {
        seen.iter().filter(|e| e["type"] == "ready").count() == 3
    })
    .await;
    let readies: Vec<Value> = hub.seen_of("ready").into_iter().cloned().collect();
    let topics: Vec<String> = readies.iter().map(|r| text(r, "topic")).collect();
    for ready in &readies {
        assert_eq!(ready["room"], ready["topic"], "a room event names its room");
    }
    let mut guests = Vec::new();
    for (ready, name) in readies.iter().zip(["amy", "ben", "cy"]) {
        let mut guest = Peer::join(name, &text(ready, "ticket"));
        guest.ready().await;
        guests.push(guest);
    }
    hub.expect_joined(&["amy", "ben", "cy"]).await;
    for (guest, topic) in guests.iter().zip(&topics) {
        let joined = hub
            .seen_of("joined")
            .into_iter()
            .find(|e| e["name"] == guest.name.as_str())
            .cloned()
            .unwrap();
        assert_eq!(
            &text(&joined, "room"),
            topic,
            "{} joined its own room",
            guest.name
        );
    }

    // Lines typed go to the current room, /room switches, /to sends one line elsewhere.
    hub.send(&format!("/room {}", &topics[2][..8])).await;
    hub.send("to the third").await;
    hub.send(&format!("/room {}", &topics[0][..8])).await;
    hub.send("to the first").await;
    hub.send(&format!("/to {} to the second", &topics[1][..10]))
        .await;
    guests[2].expect_message("hub", "to the third").await;
    guests[0].expect_message("hub", "to the first").await;
    guests[1].expect_message("hub", "to the second").await;
    for (i, guest) in guests.iter_mut().enumerate() {
        guest.send(&format!("from room {i}")).await;
    }
    for (i, topic) in topics.iter().enumerate() {
        let line = hub
            .expect_message(["amy", "ben", "cy"][i], &format!("from room {i}"))
            .await;
        assert_eq!(&text(&line, "room"), topic);
    }
    // A marker after everything: then nobody has seen another room's lines.
    hub.send("/room nosuchroom").await; // an error, nothing sent
    hub.expect_type("error").await;
    hub.send(&format!("/to {} marker", &topics[0][..8])).await;
    guests[0].expect_message("hub", "marker").await;
    for (i, guest) in guests.iter().enumerate() {
        let mine = ["to the first", "to the second", "to the third"][i];
        let texts: Vec<String> = guest
            .seen_of("message")
            .iter()
            .map(|m| text(m, "text"))
            .collect();
        for line in ["to the first", "to the second", "to the third"] {
            assert_eq!(
                texts.contains(&line.to_string()),
                line == mine,
                "{}: {texts:?}",
                guest.name
            );
        }
    }

    // Members: each room lists its own.
    hub.send(&format!("/room {}", &topics[1][..8])).await;
    hub.send("/who").await;
    let members = hub.expect_type("members").await;
    assert_eq!(text(&members, "room"), topics[1]);
    let mut names: Vec<String> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| text(m, "name"))
        .collect();
    names.sort();
    assert_eq!(names, ["ben", "hub"]);

    // Search finds only the current room's history.
    hub.send("/search from room").await;
    let found = hub.expect_type("search_result").await;
    assert_eq!(text(&found, "text"), "from room 1");
    assert_eq!(text(&found, "room"), topics[1]);
    hub.send("/room zzzz").await;
    hub.expect("the second error", |e| {
        e["type"] == "error" && text(e, "message").contains("zzzz")
    })
    .await;
    assert_eq!(in_room(&hub, "search_result", &topics[1]).len(), 1);
    assert!(in_room(&hub, "search_result", &topics[0]).is_empty());

    // /rooms lists the three, the current one marked; /part drops the current one, and only
    // the other two are rejoined next time.
    hub.send("/rooms").await;
    let rooms = hub.expect_type("rooms").await;
    let listed = rooms["rooms"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(
        listed
            .iter()
            .filter(|r| r["current"] == true)
            .map(|r| text(r, "room"))
            .collect::<Vec<_>>(),
        [topics[1].clone()]
    );
    hub.send("/part").await;
    guests[1]
        .expect("hub leaving", |e| e["type"] == "left" && e["name"] == "hub")
        .await;
    hub.send("/rooms").await;
    hub.wait_until("two rooms left", |seen| {
        seen.iter()
            .filter(|e| e["type"] == "rooms")
            .any(|e| e["rooms"].as_array().unwrap().len() == 2)
    })
    .await;
    hub.send("/quit").await;
    // The room names that matched nothing were its failures.
    let failures = hub.finished_with_failures().await;
    assert!(failures.iter().any(|f| f.contains("zzzz")), "{failures:?}");
    let store = Store::open_reader(&dir).unwrap().unwrap();
    // The three rooms opened at once, so the order they were entered in is not the order of
    // their `ready` events (the store's own test checks the order): compare as sets.
    let mut open: Vec<String> = store
        .open_rooms()
        .unwrap()
        .iter()
        .map(|r| r.topic.to_string())
        .collect();
    open.sort();
    let mut expected = [topics[0].clone(), topics[2].clone()];
    expected.sort();
    assert_eq!(open, expected);
    for mut guest in guests {
        guest.signal();
        guest.finished().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_message_reaches_only_its_addressee_and_is_marked_delivered() {
    let mut ann = Peer::open("ann");
    let ticket = text(&ann.ready().await, "ticket");
    let mut bob = Peer::join("bob", &ticket);
    bob.ready().await;
    let mut cat = Peer::join("cat", &ticket);
    cat.ready().await;
    for peer in [&mut ann, &mut bob, &mut cat] {
        let others: Vec<&str> = ["ann", "bob", "cat"]
            .into_iter()
            .filter(|n| *n != peer.name)
            .collect();
        peer.expect_joined(&others).await;
    }
    bob.send("/msg ann just between us").await;
    let dm = ann.expect_type("dm").await;
    assert_eq!(text(&dm, "text"), "just between us");
    assert_eq!(text(&dm, "name"), "bob");
    assert_eq!(dm["from"], bob.seen_of("ready")[0]["id"]);
    assert_eq!(dm["to"], ann.seen_of("ready")[0]["id"]);
    assert!(dm.get("room").is_none(), "a direct message is in no room");
    // The sender sees its own message, pending, then delivered.
    let own = bob.expect_type("dm").await;
    assert_eq!(own["id"], dm["id"]);
    let pending = bob.expect_type("dm_status").await;
    assert_eq!(
        (text(&pending, "id"), text(&pending, "state")),
        (text(&dm, "id"), "pending".into())
    );
    bob.expect("delivered", |e| {
        e["type"] == "dm_status" && e["state"] == "delivered" && e["id"] == dm["id"]
    })
    .await;
    // /query: typed lines go privately until /room.
    ann.send("/query bob").await;
    ann.expect_type("info").await;
    ann.send("a private answer").await;
    let answer = bob
        .expect("the answer", |e| {
            e["type"] == "dm" && e["text"] == "a private answer"
        })
        .await;
    assert_eq!(text(&answer, "name"), "ann");
    // A marker to cat after both: cat got nothing else, and nothing leaked into the room.
    bob.send("/msg cat marker").await;
    cat.expect("the marker", |e| e["type"] == "dm" && e["text"] == "marker")
        .await;
    assert_eq!(cat.seen_of("dm").len(), 1, "{:#?}", cat.seen);
    for peer in [&ann, &bob, &cat] {
        assert!(
            peer.seen_of("message").is_empty(),
            "{}: {:#?}",
            peer.name,
            peer.seen
        );
    }
    // Unknown names are one-line errors.
    bob.send("/msg nobody hello").await;
    let error = bob.expect_type("error").await;
    assert!(text(&error, "message").contains("nobody"), "{error}");
    for peer in [&mut ann, &mut bob, &mut cat] {
        peer.signal();
    }
    ann.finished().await.unwrap();
    cat.finished().await.unwrap();
    let failures = bob.finished_with_failures().await;
    assert!(
        failures.len() == 1 && failures[0].contains("nobody"),
        "{failures:?}"
    );
}

/// `echo "/msg ann hi" | parlor join T --headless`: input ending waits until the direct
/// message is delivered, then exits 0; entering the same room twice is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_ending_waits_for_direct_messages_and_a_room_is_entered_once() {
    let mut ann = Peer::open("ann");
    let ticket = text(&ann.ready().await, "ticket");
    let mut bob = Peer::join("bob", &ticket);
    bob.ready().await;
    bob.expect_joined(&["ann"]).await;
    bob.send(&format!("/join {ticket}")).await;
    let refused = bob.expect_type("error").await;
    assert!(text(&refused, "message").contains("already"), "{refused}");
    bob.send("/msg ann sent as input ends").await;
    bob.close_stdin();
    let dm = ann.expect_type("dm").await;
    assert_eq!(text(&dm, "text"), "sent as input ends");
    bob.expect("delivered", |e| {
        e["type"] == "dm_status" && e["state"] == "delivered"
    })
    .await;
    // Nothing left to wait for: it exits by itself; the refused /join is its one failure.
    let failures = bob.finished_with_failures().await;
    assert!(
        failures.len() == 1 && failures[0].contains("already"),
        "{failures:?}"
    );
    ann.signal();
    ann.finished().await.unwrap();
}

/// `/msg ann ...` right after ann left reaches her by name: the message waits, pending,
/// for her to come back (it used to be "no member here or remembered matches").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_just_left_is_reached_by_name_and_the_message_waits() {
    let (ann_dir, bob_dir) = (tempdir("ann"), tempdir("bob"));
    let mut ann_config = offline_config("ann", Start::Open);
    let mut ann = Peer::start_with_store(ann_config.clone(), Some(Store::open(&ann_dir).unwrap()));
    let ticket = text(&ann.ready().await, "ticket");
    let mut bob_config = offline_config(
        "bob",
        parlor::config::join_start(ticket.clone(), false, false).unwrap(),
    );
    let mut bob = Peer::start_with_store(bob_config.clone(), Some(Store::open(&bob_dir).unwrap()));
    bob.ready().await;
    bob.expect_joined(&["ann"]).await;
    ann.signal();
    ann.finished().await.unwrap();
    bob.expect("ann left", |e| e["type"] == "left").await;
    bob.send("/msg ann kept for later").await;
    let own = bob.expect_type("dm").await;
    assert_eq!(text(&own, "text"), "kept for later");
    bob.expect("pending", |e| {
        e["type"] == "dm_status" && e["state"] == "pending" && e["id"] == own["id"]
    })
    .await;
    bob.signal();
    bob.finished().await.unwrap();

    // ann is back (same key) in a new room; bob runs once, joining it with nothing to say:
    // the message an earlier run left pending goes now, and bob waits for it before exiting.
    ann_config.task = parlor::config::Task::Chat(vec![Start::Open]);
    let mut ann = Peer::start_with_store(ann_config, Some(Store::open(&ann_dir).unwrap()));
    let ticket = text(&ann.ready().await, "ticket");
    bob_config.task = parlor::config::Task::Chat(vec![
        parlor::config::join_start(ticket.clone(), false, false).unwrap(),
    ]);
    let mut bob = Peer::start_with_store(bob_config, Some(Store::open(&bob_dir).unwrap()));
    bob.close_stdin();
    ann.expect("the message from the earlier run", |e| {
        e["type"] == "dm" && e["text"] == "kept for later"
    })
    .await;
    bob.expect("delivered", |e| {
        e["type"] == "dm_status" && e["state"] == "delivered" && e["id"] == own["id"]
    })
    .await;
    bob.finished().await.unwrap();
    ann.signal();
    ann.finished().await.unwrap();
    for dir in [ann_dir, bob_dir] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// `/nick` in a room is kept for it: entering it again later uses that name (not the one
/// configured), while another room keeps its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nick_is_kept_per_room_across_a_restart() {
    let dir = tempdir("nick");
    let mut config = offline_config("ann", Start::Open);
    config.task = Task::Chat(vec![Start::Open, Start::Open]);
    // As when no --name was given: a room's own name wins.
    config.name_given = false;
    let mut ann = Peer::start_with_store(config.clone(), Some(Store::open(&dir).unwrap()));
    ann.wait_until("two rooms ready", |seen| {
        seen.iter().filter(|e| e["type"] == "ready").count() == 2
    })
    .await;
    let topics: Vec<String> = ann
        .seen_of("ready")
        .iter()
        .map(|r| text(r, "topic"))
        .collect();
    ann.send("/nick annie").await;
    let renamed = ann
        .expect("renamed", |e| e["type"] == "renamed" && e["new"] == "annie")
        .await;
    let renamed_in = text(&renamed, "room");
    // A refused name changes nothing; a room opened later starts under the name taken.
    ann.send("/nick #").await;
    ann.expect("the refusal", |e| e["type"] == "error").await;
    ann.send("/open").await;
    ann.wait_until("a third room ready", |seen| {
        seen.iter().filter(|e| e["type"] == "ready").count() == 3
    })
    .await;
    assert_eq!(text(ann.seen_of("ready")[2], "name"), "annie");
    ann.send("/part").await;
    ann.expect("left", |e| {
        e["type"] == "info" && text(e, "message").starts_with("left")
    })
    .await;
    ann.signal();
    assert_eq!(
        ann.finished_with_failures().await.len(),
        1,
        "the refused name"
    );

    config.task = Task::Chat(vec![
        Start::Known(topics[0].clone()),
        Start::Known(topics[1].clone()),
    ]);
    let mut ann = Peer::start_with_store(config, Some(Store::open(&dir).unwrap()));
    ann.wait_until("both rooms ready again", |seen| {
        seen.iter().filter(|e| e["type"] == "ready").count() == 2
    })
    .await;
    for ready in ann.seen_of("ready") {
        let expected = if text(ready, "topic") == renamed_in {
            "annie"
        } else {
            "ann"
        };
        assert_eq!(text(ready, "name"), expected, "{ready}");
    }
    ann.signal();
    ann.finished().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

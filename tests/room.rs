//! Several real nodes in one process on 127.0.0.1: tickets, the presence handshake, messages
//! and leaving, through the same session code the binary runs.

mod common;

use std::time::Duration;

use common::Peer;
use parlor::config::Start;
use serde_json::Value;

fn names(events: &[&Value]) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_chat_through_each_others_tickets() {
    // A public room: any member's ticket lets others in (a private room's invites are its
    // admins').
    let mut ann = Peer::open_public("ann");
    let ann_ticket = ann.ready().await["ticket"].as_str().unwrap().to_string();

    let mut bob = Peer::join("bob", &ann_ticket);
    let bob_ready = bob.ready().await;
    // C joins with B's ticket: any member can invite.
    let bob_ticket = bob_ready["ticket"].as_str().unwrap().to_string();
    assert_ne!(bob_ticket, ann_ticket);
    assert_eq!(bob_ready["topic"], ann.seen[0]["topic"]);
    let mut cat = Peer::join("cat", &bob_ticket);
    cat.ready().await;

    // Everybody learns everybody's name, the late joiner included, once each.
    ann.expect_joined(&["bob", "cat"]).await;
    bob.expect_joined(&["ann", "cat"]).await;
    cat.expect_joined(&["ann", "bob"]).await;

    // Messages reach everyone; the same text twice arrives twice.
    ann.send("hello from ann").await;
    cat.send("ok").await;
    cat.send("ok").await;
    for peer in [&mut bob, &mut cat] {
        peer.expect_message("ann", "hello from ann").await;
    }
    for peer in [&mut ann, &mut bob] {
        let oks = peer.expect_messages("cat", "ok", 2).await;
        assert_ne!(oks[0]["id"], oks[1]["id"]);
        assert_eq!(oks[0]["from"], cat.seen[0]["id"]);
    }

    // /who lists all three.
    bob.send("/who").await;
    let members = bob.expect_type("members").await;
    let listed: Vec<&str> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["ann", "bob", "cat"]);

    // Nobody was announced twice.
    for peer in [&mut ann, &mut bob, &mut cat] {
        peer.drain_for(Duration::from_millis(300)).await;
        let joined = peer.seen_of("joined");
        assert_eq!(joined.len(), 2, "{}: {joined:?}", peer.name);
    }

    // Leave is seen at once, by name.
    cat.send("/quit").await;
    cat.finished().await.unwrap();
    for peer in [&mut ann, &mut bob] {
        let left = peer.expect_type("left").await;
        assert_eq!(left["name"], "cat");
        assert_eq!(left["reason"], "left");
    }
    assert_eq!(names(&ann.seen_of("left")), ["cat"]);
    ann.signal();
    bob.signal();
    ann.finished().await.unwrap();
    bob.finished().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_ticket_outlives_the_opener() {
    let mut ann = Peer::open_public("ann");
    let ticket = ann.ready().await["ticket"].as_str().unwrap().to_string();
    let mut bob = Peer::join("bob", &ticket);
    bob.ready().await;
    bob.expect_type("joined").await;

    ann.signal();
    ann.finished().await.unwrap();
    bob.expect_type("left").await;

    bob.send("/ticket").await;
    let fresh = bob.expect_type("ticket").await["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let mut cat = Peer::join("cat", &fresh);
    cat.ready().await;
    cat.expect_joined(&["bob"]).await;
    cat.send("anyone home?").await;
    bob.expect_message("cat", "anyone home?").await;
    bob.signal();
    cat.signal();
    bob.finished().await.unwrap();
    cat.finished().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_input_is_delivered_before_leaving() {
    let mut ann = Peer::open("ann");
    let ticket = ann.ready().await["ticket"].as_str().unwrap().to_string();
    // Written and closed before the joiner has even connected: the line must wait for the join.
    let mut ci = Peer::join("ci", &ticket);
    ci.send("build done").await;
    ci.close_stdin();
    ci.finished().await.unwrap();
    ann.expect_message("ci", "build done").await;
    let left = ann.expect_type("left").await;
    assert_eq!(left["name"], "ci");
    ann.signal();
    ann.finished().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renames_duplicates_and_bad_commands() {
    let mut ann = Peer::open("sam");
    let ticket = ann.ready().await["ticket"].as_str().unwrap().to_string();
    let mut bob = Peer::join("sam", &ticket);
    bob.ready().await;
    // Two members called sam are told apart by key fingerprint.
    let joined = ann.expect_type("joined").await;
    let display = joined["display"].as_str().unwrap();
    let bob_id = joined["from"].as_str().unwrap();
    assert_eq!(display, format!("sam#{}", &bob_id[..4]));

    bob.send("/nick robert").await;
    let renamed = ann.expect_type("renamed").await;
    assert_eq!(
        (renamed["old"].as_str(), renamed["new"].as_str()),
        (Some("sam"), Some("robert"))
    );

    // Unknown commands and oversize text are refused locally, never broadcast.
    bob.send("/frobnicate").await;
    assert!(
        bob.expect_type("error").await["message"]
            .as_str()
            .unwrap()
            .contains("/frobnicate")
    );
    bob.send(&"x".repeat(40_000)).await;
    assert!(
        bob.expect_type("error").await["message"]
            .as_str()
            .unwrap()
            .contains("too long")
    );
    bob.send("still alive").await;
    ann.expect_message("robert", "still alive").await;
    assert!(ann.seen_of("message").len() == 1, "{:?}", ann.seen);
    ann.signal();
    bob.signal();
    ann.finished().await.unwrap();
    let failures = bob.finished_with_failures().await;
    assert!(
        failures.iter().any(|f| f.contains("/frobnicate"))
            && failures.iter().any(|f| f.contains("too long")),
        "{failures:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_gives_up_when_nobody_answers() {
    // A ticket for a node that is gone: its port no longer answers.
    let mut ann = Peer::open_public("ann");
    let ticket = ann.ready().await["ticket"].as_str().unwrap().to_string();
    ann.signal();
    ann.finished().await.unwrap();
    let mut config = common::offline_config("bob", Start::Join(ticket.parse().unwrap()));
    config.join_timeout = Duration::from_millis(1500);
    let bob = Peer::start(config);
    let err = bob.finished().await.unwrap_err();
    assert!(err.to_string().contains("no peer answered"), "{err:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_piped_into_a_join_nobody_answers_fail_the_run() {
    let mut ann = Peer::open_public("ann");
    let ticket = ann.ready().await["ticket"].as_str().unwrap().to_string();
    ann.signal();
    ann.finished().await.unwrap();
    let mut config = common::offline_config("bob", Start::Join(ticket.parse().unwrap()));
    config.join_timeout = Duration::from_millis(800);
    let mut bob = Peer::start(config);
    bob.send("is anyone there?").await;
    bob.close_stdin();
    // Never exit 0 with a line that was not sent.
    let err = bob.finished().await.unwrap_err().to_string();
    assert!(
        err.contains("no peer answered") || err.contains("not sent"),
        "{err}"
    );
}

//! Memory: identity and history survive restarts, late joiners catch up over the direct history
//! protocol, forged history is rejected, nothing shown is lost to `kill -9`, export works.
//! Everything on 127.0.0.1; data directories are fresh temporary ones.

mod common;
#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Peer;
use parlor::net::{NetConfig, NetEvent, Node};
use parlor::proto::ticket::Ticket;
use parlor::proto::wire::{self, MessageBody, Payload};
use parlor::proto::{SecretKey, TopicId, UnixMillis};
use parlor::store::Store;
use serde_json::Value;
use support::parlor::tempdir;
use support::process::Proc;

fn ticket_of(ready: &Value) -> String {
    ready["ticket"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_catches_up_on_what_was_said() {
    let mut ann = Peer::open("ann");
    let ticket = ticket_of(&ann.ready().await);
    let mut bob = Peer::join("bob", &ticket);
    bob.ready().await;
    ann.expect_joined(&["bob"]).await;
    ann.send("first, from ann").await;
    bob.expect_message("ann", "first, from ann").await;
    bob.send("second, from bob").await;
    ann.expect_message("bob", "second, from bob").await;

    let started = Instant::now();
    let mut cat = Peer::join("cat", &ticket);
    cat.ready().await;
    let first = cat.expect_message("ann", "first, from ann").await;
    let second = cat.expect_message("bob", "second, from bob").await;
    let took = started.elapsed();
    assert_eq!(
        (first["history"].as_bool(), second["history"].as_bool()),
        (Some(true), Some(true))
    );
    assert!(took < Duration::from_secs(2), "catch-up took {took:?}");
    // History came before anything live, and nothing twice.
    ann.send("live now").await;
    cat.expect_message("ann", "live now").await;
    let texts: Vec<&str> = cat
        .seen_of("message")
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first, from ann", "second, from bob", "live now"]);
    for peer in [&mut ann, &mut bob, &mut cat] {
        peer.signal();
    }
    for peer in [ann, bob, cat] {
        peer.finished().await.unwrap();
    }
}

/// A malicious member: joins the room for real, then answers catch-up requests with an
/// altered copy of a genuine message, a forgery in another member's name, and garbage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_history_from_a_malicious_peer_is_rejected() {
    // A public room: mallory reaches its topic from the ticket.
    let mut ann = Peer::open_public("ann");
    let ann_ticket: Ticket = ticket_of(&ann.ready().await).parse().unwrap();
    let topic = ann_ticket.topic;

    let mallory_key = SecretKey::generate();
    let mallory = Node::spawn(&NetConfig::loopback(mallory_key.clone()))
        .await
        .unwrap();
    let (mut topic_handle, mut queries) = mallory.join(topic, &ann_ticket.peers).await.unwrap();
    // Wait to be in the room, then capture a genuine envelope of ann's.
    ann.expect_type("neighbors").await;
    ann.send("pay 5 to bob").await;
    let genuine = loop {
        match tokio::time::timeout(common::WAIT, topic_handle.next_event()).await {
            Ok(Some(NetEvent::Received(bytes, _))) => {
                let opened = wire::open(&bytes, &topic, UnixMillis::now()).unwrap();
                if matches!(opened.body, MessageBody::Message { .. }) {
                    break bytes.to_vec();
                }
            }
            Ok(Some(_)) => {}
            other => panic!("no message from ann: {other:?}"),
        }
    };
    let mut altered = genuine.clone();
    let at = altered.len() - 4;
    altered[at] = b'9';
    let ann_id = ann.seen[0]["id"].as_str().unwrap().parse().unwrap();
    let forged = wire::seal(
        &mallory_key,
        &topic,
        &Payload {
            nonce: 7,
            sent: UnixMillis::now().0,
            body: MessageBody::Message {
                from: ann_id,
                text: "pay 500 to mallory".into(),
                action: false,
                file: None,
                reply_to: None,
                change: None,
            },
        },
    )
    .unwrap();
    let answer: Vec<Arc<[u8]>> = vec![
        Arc::from(altered.as_slice()),
        Arc::from(forged.as_slice()),
        Arc::from(&b"\x01not an envelope"[..]),
        Arc::from(genuine.as_slice()),
    ];
    tokio::spawn(async move {
        while let Some(query) = queries.recv().await {
            let _ = query.reply.send(answer.clone());
        }
    });

    // cat joins through mallory alone, so mallory is asked for history.
    let mallory_ticket = Ticket::new(topic, vec![mallory.addr()]).to_string();
    let mut cat = Peer::join("cat", &mallory_ticket);
    cat.ready().await;
    // mallory sent no AboutMe for ann, so the genuine line may show under ann's key until
    // ann introduces herself: match it by text and author key.
    let genuine_line = cat
        .expect("ann's genuine line", |e| {
            e["type"] == "message" && e["text"] == "pay 5 to bob"
        })
        .await;
    assert_eq!(genuine_line["from"], ann.seen[0]["id"]);
    // ann's name comes with her own presence (answering cat's question), which may come after
    // a line of hers on a loaded machine: the line after it is shown under her name.
    cat.expect_joined(&["ann"]).await;
    ann.send("done").await;
    cat.expect_message("ann", "done").await;
    cat.drain_for(Duration::from_millis(300)).await;
    let texts: Vec<&str> = cat
        .seen_of("message")
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["pay 5 to bob", "done"], "only ann's real words");
    drop(topic_handle);
    ann.signal();
    cat.signal();
    ann.finished().await.unwrap();
    cat.finished().await.unwrap();
}

#[tokio::test]
async fn restart_keeps_identity_and_history_and_export_shows_it() {
    let (ann_dir, bob_dir) = (tempdir("ann"), tempdir("bob"));
    let mut ann = Proc::with_data(&ann_dir, "ann", &["--label", "ops", "open"]);
    let ann_ready = ann.expect_type("ready").await;
    let mut bob = Proc::with_data(
        &bob_dir,
        "bob",
        &["--label", "standup", "join", &ticket_of(&ann_ready)],
    );
    let bob_ready = bob.expect_type("ready").await;
    ann.expect_type("joined").await;
    ann.send("hello bob").await;
    bob.expect("ann's hello", |e| e["text"] == "hello bob")
        .await;
    bob.send("/me waves").await;
    ann.expect("bob's wave", |e| e["text"] == "waves").await;
    bob.send("/quit").await;
    assert_eq!(bob.exit().await, 0);

    // bob comes back by label: same identity, stored history first, then rejoined.
    let mut bob = Proc::with_data(&bob_dir, "bob", &["join", "standup"]);
    let again = bob.expect_type("ready").await;
    assert_eq!(again["id"], bob_ready["id"], "same identity after restart");
    assert_eq!(again["topic"], bob_ready["topic"]);
    let stored = bob
        .expect("stored history", |e| e["type"] == "message")
        .await;
    assert_eq!(
        (stored["text"].as_str(), stored["history"].as_bool()),
        (Some("hello bob"), Some(true))
    );
    ann.expect("bob rejoined", |e| {
        e["type"] == "joined" && e["name"] == "bob"
    })
    .await;
    bob.send("/search hello").await;
    let found = bob.expect_type("search_result").await;
    assert_eq!(found["text"], "hello bob");
    bob.send("/quit").await;
    assert_eq!(bob.exit().await, 0);
    ann.send("/quit").await;
    assert_eq!(ann.exit().await, 0);

    // parlor rooms and export, with the same data directory.
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
            .args(["--data-dir", bob_dir.to_str().unwrap()])
            .args(args)
            .env("TZ", "UTC")
            .env("PARLOR_CONFIG", "/dev/null")
            .output()
            .unwrap()
    };
    let rooms = String::from_utf8(run(&["rooms"]).stdout).unwrap();
    assert!(rooms.contains("standup"), "{rooms}");
    let topic = bob_ready["topic"].as_str().unwrap();
    let json = run(&["export", &topic[..8], "--format", "json"]);
    assert_eq!(json.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8(json.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let texts: Vec<(&str, &str)> = lines
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert_eq!(texts, [("ann", "hello bob"), ("bob", "waves")]);
    assert_eq!(lines[1]["action"], true);
    let txt = String::from_utf8(run(&["export", "standup"]).stdout).unwrap();
    let txt: Vec<&str> = txt.lines().collect();
    assert_eq!(txt.len(), 2);
    assert!(txt[0].ends_with(" ann: hello bob"), "{txt:?}");
    assert!(txt[1].ends_with(" * bob waves"), "{txt:?}");
    let missing = run(&["export", "nosuchroom"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&missing.stderr).lines().count(), 1);
}

#[tokio::test]
async fn kill_9_loses_nothing_written_and_the_next_start_recovers_what_was_shown() {
    let dir = tempdir("kill");
    // Faster than the rate limits allow, both ways: this is about the store, not floods (ann
    // would otherwise pace her lines to what bob accepts by default).
    let mut config = common::offline_config("ann", parlor::config::Start::Open);
    config.limits.messages = parlor::proto::limits::RateLimit {
        per_second: 100_000.0,
        burst: 250_000,
    };
    let mut ann = Peer::start(config);
    let ticket = ticket_of(&ann.ready().await);
    let mut bob = Proc::with_data(&dir, "bob", &["--max-rate", "100000", "join", &ticket]);
    let ready = bob.expect_type("ready").await;
    let topic: TopicId = ready["topic"].as_str().unwrap().parse().unwrap();
    ann.expect_joined(&["bob"]).await;
    // A stream of messages both ways; bob is killed in the middle of it.
    let sender = tokio::spawn(async move {
        for i in 0..400 {
            ann.send(&format!("message {i}")).await;
            if i % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        ann
    });
    let (mut shown, mut mine) = (Vec::new(), Vec::new());
    let mut said = 0;
    while shown.len() < 150 {
        if said < 30 {
            bob.send(&format!("bob {said}")).await;
            said += 1;
        }
        let m = bob
            .expect("a line", |e| e["type"] == "message" || e["type"] == "sent")
            .await;
        match m["type"].as_str() {
            Some("message") => shown.push(m["id"].as_str().unwrap().to_string()),
            Some("sent") => mine.push(m["id"].as_str().unwrap().to_string()),
            _ => {}
        }
    }
    bob.kill(); // SIGKILL
    bob.exit().await;
    let mut ann = sender.await.unwrap();

    let stored = |dir: &std::path::Path| -> std::collections::HashSet<String> {
        let store = Store::open_reader(dir).unwrap().expect("a database");
        store
            .export(topic)
            .unwrap()
            .iter()
            .map(|m| m.id.to_string())
            .collect()
    };
    // What bob wrote and saw shown as sent is on disk whatever the moment of the kill.
    let on_disk = stored(&dir);
    let lost: Vec<&String> = mine.iter().filter(|id| !on_disk.contains(*id)).collect();
    assert!(lost.is_empty(), "own lines shown but not stored: {lost:?}");
    // Others' lines are saved within moments of being shown; any the kill caught come back
    // with the next start's catch-up (ann is still here).
    let caught = shown.iter().filter(|id| !on_disk.contains(*id)).count();
    eprintln!(
        "{caught} of {} lines shown were not stored at the kill",
        shown.len()
    );
    let mut again = Proc::with_data(&dir, "bob", &["join", &topic.to_string()[..10]]);
    again.expect_type("ready").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let on_disk = stored(&dir);
        let missing = shown.iter().filter(|id| !on_disk.contains(*id)).count();
        if missing == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{missing} lines shown before the kill are still not stored after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    again.send("/quit").await;
    assert_eq!(again.exit().await, 0);
    ann.signal();
    ann.finished().await.unwrap();
}

//! The bot interface of headless `--json`: requests `{"id", "line"}` whose answers, errors,
//! `sent` and `dm_status` carry `"re"`; `/files` as JSON; `/to` a room nobody joined yet. In
//! one process, on 127.0.0.1.

mod common;

use common::{Peer, offline_config};
use parlor::config::{Start, Task};
use serde_json::{Value, json};

fn request(id: &str, line: &str) -> String {
    json!({"id": id, "line": line}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_a_request_causes_names_it() {
    let mut ann = Peer::open("ann");
    let ready = ann.ready().await;
    let ticket = ready["ticket"].as_str().unwrap().to_string();
    let mut bob = Peer::join("bob", &ticket);
    bob.ready().await;
    ann.expect_joined(&["bob"]).await;

    // An answer at once.
    ann.send(&request("w1", "/who")).await;
    let members = ann
        .expect("the /who answer", |e| e["type"] == "members")
        .await;
    assert_eq!(members["re"], "w1");
    // `/whois` (added after the front-end core: its parse and its execution only).
    ann.send(&request("who-bob", "/whois bob")).await;
    let whois = ann
        .expect("the /whois answer", |e| e["re"] == "who-bob")
        .await;
    let bob_key = bob.seen_of("ready")[0]["id"].as_str().unwrap().to_string();
    let text = whois["message"].as_str().unwrap();
    assert!(text.contains(&bob_key) && text.contains(" in "), "{whois}");
    // A line: its `sent` later; a line typed without an id has none.
    ann.send(&request("s1", "hello from a bot")).await;
    ann.send("plain line").await;
    let sent = ann
        .expect("sent", |e| {
            e["type"] == "sent" && e["text"] == "hello from a bot"
        })
        .await;
    assert_eq!(sent["re"], "s1");
    let plain = ann
        .expect("sent", |e| e["type"] == "sent" && e["text"] == "plain line")
        .await;
    assert!(plain.get("re").is_none(), "{plain}");
    // An error, numbered ids too.
    ann.send(r#"{"id": 7, "line": "/msg nobody-here hi"}"#)
        .await;
    let error = ann.expect("the /msg error", |e| e["type"] == "error").await;
    assert_eq!(error["re"], "7");
    // A malformed request: an error naming the id it could read.
    ann.send(r#"{"id": "bad"}"#).await;
    let error = ann
        .expect("a request without a line", |e| {
            e["type"] == "error" && e["re"] == "bad"
        })
        .await;
    assert!(
        error["message"].as_str().unwrap().contains("\"line\""),
        "{error}"
    );
    // A direct message: `dm` and `dm_status` carry the request.
    ann.send(&request("d1", "/msg bob psst")).await;
    let dm = ann
        .expect("our dm", |e| e["type"] == "dm" && e["text"] == "psst")
        .await;
    assert_eq!(dm["re"], "d1");
    let delivered = ann
        .expect("delivered", |e| {
            e["type"] == "dm_status" && e["state"] == "delivered"
        })
        .await;
    assert_eq!(delivered["re"], "d1");
    bob.expect("bob got the dm", |e| {
        e["type"] == "dm" && e["text"] == "psst"
    })
    .await;
    // A line too long for the room: its refusal answers the request.
    let long = "x".repeat(70_000);
    ann.send(&request("long", &long)).await;
    let refused = ann
        .expect("the refusal", |e| e["type"] == "error" && e["re"] == "long")
        .await;
    assert!(
        refused["message"].as_str().unwrap().contains("too long"),
        "{refused}"
    );

    // `/files`, as JSON, with nothing shared yet.
    ann.send(&request("f1", "/files")).await;
    let files = ann
        .expect("the /files answer", |e| e["type"] == "files")
        .await;
    assert_eq!(files["files"], json!([]));
    assert_eq!(files["re"], "f1");
    assert_eq!(files["room"], ready["topic"], "about the current room");

    ann.signal();
    bob.signal();
    let failures = ann.finished_with_failures().await;
    assert_eq!(
        failures.len(),
        3,
        "the three requests that failed: {failures:?}"
    );
    bob.finished().await.unwrap();
}

/// `/to` a room nobody joined yet answers that the line waits, and `/files ROOM` answers
/// for that room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_an_empty_room_says_the_line_waits() {
    let mut config = offline_config("hub", Start::Open);
    config.task = Task::Chat(vec![Start::Open, Start::Open]);
    let mut hub = Peer::start(config);
    hub.wait_until("two rooms ready", |seen| {
        seen.iter().filter(|e| e["type"] == "ready").count() == 2
    })
    .await;
    let second: Value = hub.seen_of("ready")[1].clone();
    let prefix = &second["topic"].as_str().unwrap()[..12];
    hub.send(&request("t1", &format!("/to {prefix} anyone there?")))
        .await;
    let queued = hub.expect("an answer", |e| e["re"] == "t1").await;
    assert_eq!(queued["room"], second["topic"], "{queued}");
    assert!(
        queued["type"] == "queued"
            || queued["message"]
                .as_str()
                .is_some_and(|m| m.contains("wait")),
        "the line waits for someone to join: {queued}"
    );
    hub.send(&request("f2", &format!("/files {prefix}"))).await;
    let files = hub.expect("the /files answer", |e| e["re"] == "f2").await;
    assert_eq!(files["type"], "files");
    assert_eq!(files["room"], second["topic"]);
    hub.signal();
    // The waiting line is reported unsent.
    let failures = hub.finished_with_failures().await;
    assert!(
        failures.iter().any(|f| f.contains("not sent")),
        "{failures:?}"
    );
}

/// The room's name: the opener's label reaches joiners through the ticket and the signed
/// room info; `/topic` renames the room for everyone; `/rooms` and `/topic` tell it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_is_named_for_everyone() {
    // A public room: any member renames it (a private room's name is its admins'; see
    // tests/private.rs).
    let mut config = offline_config("ann", Start::Open);
    config.label = Some("ops".into());
    config.public = true;
    let mut ann = Peer::start(config);
    let ready = ann.ready().await;
    assert_eq!(ready["room_name"], "ops", "the opener knows its label");
    let ticket = ready["ticket"].as_str().unwrap().to_string();
    // `/room` finds the room by its label in headless too.
    ann.send(&request("r", "/room ops")).await;
    let switched = ann.expect("the /room answer", |e| e["re"] == "r").await;
    assert_ne!(switched["type"], "error", "{switched}");

    let mut bob = Peer::join("bob", &ticket);
    let joined = bob.ready().await;
    assert_eq!(joined["room_name"], "ops", "from the ticket: {joined}");
    // The signed name comes with the member list, by its author.
    let named = bob
        .expect("the room's name", |e| e["type"] == "room_name")
        .await;
    assert_eq!(
        (&named["name"], &named["by"]),
        (&json!("ops"), &json!("ann"))
    );
    ann.expect_joined(&["bob"]).await;

    bob.send("/topic deploys and ops").await;
    let renamed = ann
        .expect("the new name", |e| {
            e["type"] == "room_name" && e["name"] == "deploys and ops"
        })
        .await;
    assert_eq!(renamed["by"], "bob");
    ann.send(&request("rooms", "/rooms")).await;
    let rooms = ann.expect("/rooms", |e| e["re"] == "rooms").await;
    assert_eq!(rooms["rooms"][0]["room_name"], "deploys and ops", "{rooms}");
    assert_eq!(rooms["rooms"][0]["label"], "ops", "the own label stays");
    ann.send(&request("t", "/topic")).await;
    let told = ann.expect("/topic", |e| e["re"] == "t").await;
    let text = told["message"].as_str().unwrap();
    assert!(
        text.contains("deploys and ops") && text.contains("bob"),
        "{told}"
    );

    ann.signal();
    bob.signal();
    ann.finished().await.unwrap();
    bob.finished().await.unwrap();
}

//! The real `parlor` binary: two processes on 127.0.0.1 chat in headless JSON mode, shut down
//! on /quit, end of input and SIGTERM, and refuse bad input with one line and exit code 2.

#[path = "support/mod.rs"]
mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::process::Proc;

#[tokio::test]
async fn two_processes_chat_and_leave() {
    let mut ann = Proc::open("ann");
    let ready = ann.expect_type("ready").await;
    for field in ["id", "name", "topic", "ticket"] {
        assert!(ready[field].is_string(), "ready lacks {field}: {ready}");
    }
    let ticket = ready["ticket"].as_str().unwrap();

    let mut bob = Proc::join("bob", ticket);
    let bob_ready = bob.expect_type("ready").await;
    assert_eq!(bob_ready["topic"], ready["topic"]);
    let joined = ann.expect_type("joined").await;
    assert_eq!(
        (joined["name"].as_str(), &joined["from"]),
        (Some("bob"), &bob_ready["id"])
    );

    bob.send("hello ann").await;
    let message = ann.expect_type("message").await;
    assert_eq!(message["text"], "hello ann");
    assert_eq!(message["name"], "bob");
    assert!(message["time"].as_str().unwrap().ends_with('Z'));
    ann.send("hi bob 👋").await;
    bob.expect("ann's message", |e| {
        e["type"] == "message" && e["text"] == "hi bob 👋"
    })
    .await;

    // /quit: the room hears the goodbye; the process exits 0 within 2 s.
    ann.send("/quit").await;
    let quitting = Instant::now();
    let code = ann.exit().await;
    let took = quitting.elapsed();
    assert_eq!(code, 0);
    assert!(took < Duration::from_secs(2), "quit took {took:?}");
    let left = bob.expect_type("left").await;
    assert_eq!(
        (left["name"].as_str(), left["reason"].as_str()),
        (Some("ann"), Some("left"))
    );

    // End of input: exits 0 promptly even though every peer is gone.
    bob.close_stdin();
    let ending = Instant::now();
    let code = bob.exit().await;
    let took = ending.elapsed();
    assert_eq!(code, 0);
    assert!(took < Duration::from_secs(2), "EOF exit took {took:?}");
}

#[tokio::test]
async fn sigterm_says_goodbye() {
    let mut ann = Proc::open("ann");
    let ticket = ann.expect_type("ready").await["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bob = Proc::join("bob", &ticket);
    bob.expect_type("ready").await;
    ann.expect_type("joined").await;

    let pid = bob.pid().to_string();
    let terminated = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let code = bob.exit().await;
    let took = terminated.elapsed();
    assert_eq!(code, 0);
    assert!(took < Duration::from_secs(2), "SIGTERM exit took {took:?}");
    assert_eq!(ann.expect_type("left").await["name"], "bob");
    ann.send("/quit").await;
    assert_eq!(ann.exit().await, 0);
}

#[tokio::test]
async fn bad_input_is_one_line_and_exit_2() {
    let good = {
        let mut ann = Proc::open("ann");
        let ticket = ann.expect_type("ready").await["ticket"]
            .as_str()
            .unwrap()
            .to_string();
        ann.send("/quit").await;
        ann.exit().await;
        ticket
    };
    let truncated = &good[..good.len() / 2];
    let cases: Vec<Vec<&str>> = vec![
        vec!["--headless", "join", "not a ticket!"],
        vec!["--headless", "join", "standup"],
        vec!["--headless", "join", ""],
        vec!["--headless", "join", truncated],
        vec![
            "--headless",
            "join",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ],
        vec!["--headless", "--bind", "nowhere:port", "open"],
        vec!["--headless", "--name", "\u{1b}#  ", "open"],
        vec!["--headless", "--relay", "::not a url::", "open"],
        vec!["--headless", "--join-timeout", "-3", "open"],
        vec!["--headless", "--frobnicate"],
        vec!["--headless"],
    ];
    for args in cases {
        // Loopback only, like every test: nothing here may reach for the LAN or the internet.
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
            .args(["--ephemeral", "--offline", "--no-lan"])
            .env("PARLOR_CONFIG", "/dev/null")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr:?}");
        assert!(stderr.starts_with("parlor: "), "{args:?}: {stderr:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn a_ticket_survives_copy_and_paste_damage() {
    let mut ann = Proc::open("ann");
    let ticket = ann.expect_type("ready").await["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    // Upper case, surrounding spaces and a line break in the middle still parse.
    let (head, tail) = ticket.split_at(30);
    let pasted = format!("  {}\n{tail} ", head.to_uppercase());
    let mut bob = Proc::join("bob", &pasted);
    bob.expect_type("ready").await;
    bob.send("/quit").await;
    assert_eq!(bob.exit().await, 0);
    ann.send("/quit").await;
    assert_eq!(ann.exit().await, 0);
}

/// `join A B --headless --json`: one process in two rooms; typed lines go where `/room`
/// says, and every event names its room.
#[tokio::test]
async fn join_two_rooms_routes_lines_by_room() {
    let mut ann = Proc::open("ann");
    let ann_ready = ann.expect_type("ready").await;
    let mut cat = Proc::open("cat");
    let cat_ready = cat.expect_type("ready").await;
    let ticket = |ready: &serde_json::Value| ready["ticket"].as_str().unwrap().to_string();
    let topic = |ready: &serde_json::Value| ready["topic"].as_str().unwrap().to_string();
    let (ann_topic, cat_topic) = (topic(&ann_ready), topic(&cat_ready));
    let mut args = support::parlor::OFFLINE.to_vec();
    let (t1, t2) = (ticket(&ann_ready), ticket(&cat_ready));
    args.extend(["bob", "join", &t1, &t2]);
    let mut bob = Proc::spawn(&args);
    let mut ready_rooms = Vec::new();
    for _ in 0..2 {
        let ready = bob.expect_type("ready").await;
        assert_eq!(ready["room"], ready["topic"]);
        ready_rooms.push(topic(&ready));
    }
    ready_rooms.sort();
    let mut both = vec![ann_topic.clone(), cat_topic.clone()];
    both.sort();
    assert_eq!(ready_rooms, both);

    bob.send(&format!("/room {}", &cat_topic[..8])).await;
    bob.send("for cat's room").await;
    bob.send(&format!("/room {}", &ann_topic[..8])).await;
    bob.send("for ann's room").await;
    let got = ann.expect("bob's line", |e| e["type"] == "message").await;
    assert_eq!(
        got["text"], "for ann's room",
        "ann's room got cat's line first"
    );
    let got = cat.expect("bob's line", |e| e["type"] == "message").await;
    assert_eq!(got["text"], "for cat's room");
    let sent = bob
        .expect("bob's own line in ann's room", |e| {
            e["type"] == "sent" && e["text"] == "for ann's room"
        })
        .await;
    assert_eq!(sent["room"].as_str(), Some(ann_topic.as_str()));
    for peer in [&mut ann, &mut bob, &mut cat] {
        peer.send("/quit").await;
        assert_eq!(peer.exit().await, 0);
    }
}

/// One process per data directory: a second one explains and exits 2, with every room of the
/// first still running.
#[tokio::test]
async fn a_second_parlor_on_the_same_data_directory_exits_2() {
    let dir = support::parlor::tempdir("twice");
    let mut first = Proc::with_data(&dir, "ann", &["open"]);
    first.expect_type("ready").await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args([
            "--headless",
            "--offline",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&dir)
        .arg("open")
        .env("PARLOR_CONFIG", "/dev/null")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("another parlor is already using"),
        "{stderr}"
    );
    first.send("/quit").await;
    assert_eq!(first.exit().await, 0);
}

#[test]
fn help_lists_the_global_flags() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("--help")
        .env("PARLOR_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--name",
        "--headless",
        "--json",
        "--bind",
        "--offline",
        "--relay",
        "open",
        "join",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

/// A bot piping a build log faster than receivers accept: every line arrives (late, once),
/// nobody is reported flooding, the sender says how many wait, and exits 0 once all went out.
#[tokio::test]
async fn a_piped_log_arrives_whole_at_the_pace_receivers_accept() {
    const LINES: usize = 300;
    let mut ann = Proc::open("ann");
    let ticket = ann.ready_ticket().await;
    let mut bot = Proc::join("bot", &ticket);
    bot.expect_type("ready").await;
    ann.expect_type("joined").await;

    let log: String = (0..LINES).map(|i| format!("build step {i} ok\n")).collect();
    let mut stdin = bot.take_stdin().expect("stdin still open");
    std::io::Write::write_all(&mut stdin, log.as_bytes()).expect("the log written");
    drop(stdin);

    // Every line, exactly once. Nearly always in order; on a loaded machine a line gossip
    // dropped comes back through catch-up after later ones, so order is not asserted.
    let mut got = std::collections::BTreeSet::new();
    while got.len() < LINES {
        let event = ann
            .expect("the next line or a flood report", |e| {
                e["type"] == "flood" || (e["type"] == "message" && e["name"] == "bot")
            })
            .await;
        assert_eq!(
            event["type"],
            "message",
            "after {} lines: {event}",
            got.len()
        );
        let text = event["text"].as_str().unwrap_or_default().to_string();
        assert!(got.insert(text.clone()), "twice: {text}");
    }
    let expected: std::collections::BTreeSet<String> =
        (0..LINES).map(|i| format!("build step {i} ok")).collect();
    assert_eq!(got, expected);
    let waiting = bot.expect("lines waiting", |e| e["type"] == "queued").await;
    assert!(waiting["count"].as_u64().unwrap() > 0, "{waiting}");
    assert!(waiting["room"].is_string(), "{waiting}");
    bot.expect("all went out", |e| e["type"] == "queued" && e["count"] == 0)
        .await;
    assert_eq!(bot.exit().await, 0);
    ann.send("/quit").await;
    assert_eq!(ann.exit().await, 0);
}

/// `printf '/me deploys\n/msg bot2 hi\n' | parlor join T --headless`: the action typed before
/// the room was ready is carried out once it is; the unknown name makes the run fail, with
/// exit code 1 and one stderr line naming what was not done.
#[tokio::test]
async fn commands_wait_for_the_room_and_failures_set_the_exit_code() {
    let mut ann = Proc::open("ann");
    let ticket = ann.ready_ticket().await;
    let mut bot = Proc::join("bot", &ticket);
    bot.send("/me deploys").await;
    bot.send("/msg bot2 hi").await;
    bot.close_stdin();
    let action = ann
        .expect("the action", |e| {
            e["type"] == "message" && e["name"] == "bot"
        })
        .await;
    assert_eq!(
        (action["text"].as_str(), &action["action"]),
        (Some("deploys"), &serde_json::json!(true))
    );
    assert_eq!(bot.exit().await, 1);
    let stderr = bot.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("parlor: ") && lines[0].contains("bot2"),
        "{stderr}"
    );
    ann.send("/quit").await;
    assert_eq!(ann.exit().await, 0);
}

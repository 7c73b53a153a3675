//! A private room across two NATs in the network lab: a1 behind one masquerading router owns
//! the room, b1 and b2 behind the other join with a1's invite through a relay on the
//! "internet"; a1 kicks b2, b1 follows a1 to the new epoch (its key fetched across both NATs)
//! and hears what is said after, b2 is told and its parlor exits. Figures print as
//! `LAB private_...: ...` (`cargo test --test lab_private -- --nocapture`); nothing asserts on
//! time.
//!
//! Needs what `tests/lab.rs` needs (root or user namespaces; `ip`, `nft`, `sysctl`, `tc`), and
//! runs, or is skipped, the same way; traffic stays in the lab's namespaces (10.77.0.0/16
//! LANs, 198.51.100.0/24 internet), every process `--offline` with the lab's relay.

#[path = "common/pty.rs"]
mod pty;
#[path = "support/mod.rs"]
mod support;

// The harness offers operations no scenario here uses.
#[allow(dead_code)]
mod lab {
    pub mod host;
    pub mod netns;
    pub mod sandbox;
    pub mod topology;
    pub mod tty;
}

use std::time::Instant;

use lab::topology::Lab;

/// A private room announced on the LAN: `nearby` lists it as private; `join LABEL` knocks,
/// the owner sees who knocks and lets a2 in (who then talks in the room), and turns a3 away
/// (one line, exit 2). The knock's round trip prints as a figure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_lan_room_lets_in_by_knock() {
    let Some(lab) = Lab::new("private_knock") else {
        return;
    };
    let lab = lab.lan(3);
    let mut a1 = lab.parlor("a1", &["open", "--lan", "--label", "standup"]);
    let ready = a1.ready().await;
    assert_eq!(ready["kind"], "private", "{ready}");

    let mut listing = lab.parlor_cmd("a2", &["nearby", "--json"]);
    assert_eq!(listing.exit().await, 0, "nearby failed");
    let standup = listing
        .seen
        .iter()
        .find(|e| e["type"] == "nearby" && e["label"] == "standup")
        .unwrap_or_else(|| panic!("nearby did not list standup: {:?}", listing.seen));
    assert_eq!(standup["kind"], "private", "{standup}");

    let mut a2 = lab.parlor("a2", &["join", "standup"]);
    let knocking = a2.expect_type("knocking").await;
    assert_eq!(knocking["label"], "standup", "{knocking}");
    let knock = a1.expect_type("knock").await;
    assert_eq!(knock["name"], "a2", "{knock}");
    let asked = Instant::now();
    a1.send("/accept a2").await;
    a2.ready().await;
    lab.figure(format_args!(
        "a2 in {:.2?} after a1's /accept (knock seen {:.2?} after a2 started)",
        asked.elapsed(),
        knock.at.saturating_duration_since(a2.started)
    ));
    a1.expect_joined(&["a2"]).await;
    a2.send("let in by knocking").await;
    a1.expect_message("a2", "let in by knocking").await;

    let mut a3 = lab.parlor("a3", &["join", "standup"]);
    a3.expect_type("knocking").await;
    a1.expect("a3's knock", |e| e["type"] == "knock" && e["name"] == "a3")
        .await;
    a1.send("/deny a3 members only").await;
    assert_eq!(a3.exit().await, 2, "a denied knock is bad input");
    let said = a3.stderr();
    assert!(
        said.contains("denied") && said.contains("members only"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_kick_across_two_nats() {
    let Some(lab) = Lab::new("private_kick") else {
        return;
    };
    let lab = lab.two_nats(1, 2).relay();
    let url = lab.relay_url();
    let mut relay = lab.relay_server();
    relay.expect("first line (its URL)", |_| true).await;

    let mut a1 = lab.parlor("a1", &["--relay", &url, "open"]);
    let ready = a1.ready().await;
    assert_eq!(ready["kind"], "private", "{ready}");
    let invite = ready["ticket"].as_str().expect("an invite").to_string();
    let mut b1 = lab.parlor("b1", &["--relay", &url, "join", &invite]);
    b1.ready().await;
    let mut b2 = lab.parlor("b2", &["--relay", &url, "join", &invite]);
    b2.ready().await;
    a1.expect_joined(&["b1", "b2"]).await;
    b2.expect_joined(&["a1"]).await;
    lab.figure(format_args!(
        "b1 and b2 joined with a1's invite across two NATs in {:.2?}",
        b2.started.elapsed()
    ));

    let kicked = Instant::now();
    a1.send("/kick b2 across the NATs").await;
    let removed = b2.expect_type("removed").await;
    assert_eq!(removed["by"], "a1", "{removed}");
    assert_eq!(b2.exit().await, 1, "b2's only room ended");
    b1.expect("the new epoch's key", |e| {
        e["type"] == "room_state" && e["key_epoch"] == 1
    })
    .await;
    lab.figure(format_args!(
        "b1 on the new epoch {:.2?} after the kick (b2 told in {:.2?})",
        kicked.elapsed(),
        removed.at.saturating_duration_since(kicked)
    ));
    a1.send("said after the kick").await;
    let heard = b1.expect_message("a1", "said after the kick").await;
    lab.figure(format_args!(
        "b1 heard a1 on the new epoch {:.2?} after the kick",
        heard.at.saturating_duration_since(kicked)
    ));
}

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

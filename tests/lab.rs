//! The network lab: real parlor processes in Linux network namespaces, on LANs behind
//! masquerading NAT routers, with an "internet" and a relay between them. Each test builds its
//! own lab (see `lab/topology.rs`) and tears it down when dropped, even on panic.
//!
//! Needs `ip`, `nft`, `tc` and `sysctl`, and root or unprivileged user namespaces (a test run
//! by another user re-runs itself under `unshare --user --map-root-user --net --mount`; where
//! neither works it says why in one line and passes, unless PARLOR_LAB_REQUIRED=1, as
//! `.ci/run` sets). Traffic stays inside namespaces the test made (10.77.0.0/16 LANs,
//! 198.51.100.0/24 internet), and every process runs `--offline`.
//! Figures print as `LAB <scenario>: ...`: `cargo test --test lab -- --nocapture`.
//! PARLOR_LAB_CUT_SECS shortens the long cut (default 90); PARLOR_LAB_LOG sets the children's
//! RUST_LOG (their stderr is printed when a test fails).
//!
//! A new scenario: `let Some(lab) = Lab::new("name") else { return };` (`None`: the test ran
//! in a rootless child, or was skipped), build the topology (`lab.lan(2)`,
//! `lab.two_nats(1, 1).relay()`), start processes with `lab.parlor(host, args)` (host names
//! a1.., b1..), drive them with `Proc::send`/`expect`/`until`/`expect_message`/`net`/
//! `ticket_now` (`tests/support/`), act on the network with `lab.cut`/`restore`/`readdress`,
//! print figures with `lab.figure`. Keep the `Lab` binding
//! first in the test, so it drops (deleting the namespaces) after the processes.

#[path = "common/pty.rs"]
mod pty;
#[path = "support/mod.rs"]
mod support;

// The harness offers operations (e.g. Proc::kill) that no scenario happens to use yet.
#[allow(dead_code)]
mod lab {
    pub mod host;
    pub mod netns;
    pub mod sandbox;
    pub mod topology;
    pub mod tty;
}

use std::collections::HashSet;
use std::time::{Duration, Instant};

use lab::topology::Lab;
use support::chat::first_message;
use support::process::{Ev, Proc, WAIT};

/// `from` says `text`; every one of `to` must receive it. The slowest delivery time.
async fn say(from: &mut Proc, to: &mut [&mut Proc], text: &str) -> Duration {
    let sent = Instant::now();
    from.send(text).await;
    let mut slowest = Duration::ZERO;
    for peer in to.iter_mut() {
        let got = peer.expect_message(&from.name, text).await;
        slowest = slowest.max(got.at.saturating_duration_since(sent));
    }
    slowest
}

/// `later - earlier` in seconds, negative if `later` is earlier.
fn secs_between(earlier: Instant, later: Instant) -> f64 {
    match later.checked_duration_since(earlier) {
        Some(d) => d.as_secs_f64(),
        None => -earlier.duration_since(later).as_secs_f64(),
    }
}

fn text(ev: &Ev, field: &str) -> String {
    ev[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string in {ev}"))
        .to_string()
}

/// Run `parlor nearby --json EXTRA` on `host` to the end: its exit code and `nearby` lines.
async fn nearby(lab: &Lab, host: &str, extra: &[&str]) -> (i32, Vec<Ev>, Instant) {
    let mut args = vec!["nearby", "--json"];
    args.extend_from_slice(extra);
    let mut p = lab.parlor_cmd(host, &args);
    let code = p.exit().await;
    let found = p.seen.iter().filter(|e| e["type"] == "nearby").cloned();
    (code, found.collect(), p.started)
}

/// Only what works today: two hosts on LAN A chat by ticket across the LAN bridge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_chat_by_ticket() {
    let Some(lab) = Lab::new("lan_chat_by_ticket") else {
        return;
    };
    let lab = lab.lan(2);
    let mut a1 = lab.parlor("a1", &["open"]);
    let ticket = text(&a1.ready().await, "ticket");
    lab.figure(format_args!("a1 ready {:.2?}", a1.started.elapsed()));
    let mut a2 = lab.parlor("a2", &["join", &ticket]);
    a2.ready().await;
    a1.expect_joined(&["a2"]).await;
    a2.expect_joined(&["a1"]).await;
    lab.figure(format_args!("join by ticket {:.2?}", a2.started.elapsed()));
    let there = say(&mut a2, &mut [&mut a1], "hello from a2").await;
    let back = say(&mut a1, &mut [&mut a2], "hello from a1").await;
    lab.figure(format_args!("delivery {there:.2?} / {back:.2?}"));
    a1.send("/quit").await;
    assert_eq!(a1.exit().await, 0);
    let left = a2.expect_type("left").await;
    assert_eq!(left["name"], "a1");
}

/// mDNS: a public room announced on the LAN is found and joined by label; a stale ticket still
/// joins on the same LAN; `--no-lan` turns all of that off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lan_room_without_ticket() {
    let Some(lab) = Lab::new("lan_room_without_ticket") else {
        return;
    };
    let mut lab = lab.lan(3);
    let mut a1 = lab.parlor("a1", &["open", "--lan", "--public", "--label", "standup"]);
    let ready = a1.ready().await;
    let (topic, old_ticket) = (text(&ready, "topic"), text(&ready, "ticket"));

    let (code, found, started) = nearby(&lab, "a2", &[]).await;
    assert_eq!(code, 0, "nearby --json failed");
    let standup = found.iter().find(|e| e["label"] == "standup");
    let standup = standup.unwrap_or_else(|| panic!("nearby did not list standup: {found:?}"));
    assert_eq!(standup["topic"], topic.as_str());
    // Who announces it: a1 alone, from one address.
    assert_eq!(standup["members"], 1);
    assert_eq!(standup["sources"], 1);
    let announcers = standup["announcers"].as_array().map(Vec::len);
    assert_eq!(announcers, Some(1), "{standup:?}");
    lab.figure(format_args!(
        "nearby listed standup after {:.2?}",
        standup.at - started
    ));

    // The announcement is still on (a1 runs): a --no-lan search must not see it.
    let (code, found, _) = nearby(&lab, "a2", &["--no-lan"]).await;
    assert!(code == 0 || code == 2, "nearby --no-lan exited {code}");
    assert!(
        !found.iter().any(|e| e["label"] == "standup"),
        "nearby --no-lan listed {found:?}"
    );

    let mut a2 = lab.parlor("a2", &["join", "standup"]);
    assert_eq!(a2.ready().await["topic"], topic.as_str());
    a1.expect_joined(&["a2"]).await;
    lab.figure(format_args!("join by label {:.2?}", a2.started.elapsed()));
    say(&mut a2, &mut [&mut a1], "found you on the LAN").await;
    say(&mut a1, &mut [&mut a2], "welcome, a2").await;

    // a1 comes back on a new address: the ticket of its first run now names a dead address.
    a1.send("/quit").await;
    assert_eq!(a1.exit().await, 0);
    let new = lab.readdress("a1", 50);
    let mut a1 = lab.parlor("a1", &["join", "standup"]);
    assert_eq!(
        a1.ready().await["topic"],
        topic.as_str(),
        "a1 rejoins its room"
    );
    let mut a3 = lab.parlor("a3", &["join", &old_ticket]);
    a3.ready().await;
    a1.expect_joined(&["a3"]).await;
    lab.figure(format_args!(
        "stale ticket joined a1 at {new} in {:.2?}",
        a3.started.elapsed()
    ));
    say(&mut a3, &mut [&mut a1], "your ticket was stale").await;
    say(&mut a1, &mut [&mut a3], "mDNS found me").await;

    // Without LAN discovery the stale ticket leads nowhere (a fresh identity: no stored peers).
    let args = ["--no-lan", "--join-timeout", "3", "join", &old_ticket];
    let mut lone = lab.parlor_ephemeral("a2", &args);
    assert_eq!(
        lone.exit().await,
        1,
        "a --no-lan join with a stale ticket fails"
    );
}

/// Without `--lan` our endpoint id (which lasts across runs) is not on the air: a stale ticket
/// of a member who announces nothing finds nobody on the LAN. The same member back with
/// `--lan` is found by it: what failed was only that nothing of it was broadcast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_lan_the_endpoint_id_is_not_broadcast() {
    let Some(lab) = Lab::new("without_lan_the_endpoint_id_is_not_broadcast") else {
        return;
    };
    let mut lab = lab.lan(2);
    let mut a1 = lab.parlor("a1", &["open", "--public", "--label", "quiet"]);
    let ready = a1.ready().await;
    let (topic, old_ticket) = (text(&ready, "topic"), text(&ready, "ticket"));
    a1.send("/quit").await;
    assert_eq!(a1.exit().await, 0);
    lab.readdress("a1", 50);

    let mut a1 = lab.parlor("a1", &["join", "quiet"]);
    assert_eq!(a1.ready().await["topic"], topic.as_str());
    let args = ["--join-timeout", "3", "join", &old_ticket];
    let mut lone = lab.parlor_ephemeral("a2", &args);
    assert_eq!(
        lone.exit().await,
        1,
        "a stale ticket found a member that announces no room"
    );

    a1.send("/quit").await;
    assert_eq!(a1.exit().await, 0);
    let mut a1 = lab.parlor("a1", &["--lan", "join", "quiet"]);
    assert_eq!(a1.ready().await["topic"], topic.as_str());
    let mut a2 = lab.parlor_ephemeral("a2", &["join", &old_ticket]);
    a2.ready().await;
    a1.expect_joined(&["a2"]).await;
    lab.figure(format_args!(
        "announced again, the stale ticket joined in {:.2?}",
        a2.started.elapsed()
    ));
}

/// The relays a ticket's first peer (its issuer) names, without the trailing `/`.
fn ticket_relays(ticket: &str) -> Vec<String> {
    let peers = match ticket.parse::<parlor::proto::ticket::Ticket>() {
        Ok(ticket) => ticket.peers,
        Err(_) => {
            let invite: parlor::proto::invite::Invite = ticket.parse().expect("a ticket or invite");
            invite.peers
        }
    };
    peers[0]
        .relay_urls()
        .map(|url| url.to_string().trim_end_matches('/').to_string())
        .collect()
}

/// Two LANs behind two NATs meet through a relay on the internet, with the ticket printed in
/// `ready` (it waits for the home relay, so it works across the NATs); then the relay dies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_across_two_nats() {
    let Some(lab) = Lab::new("relay_across_two_nats") else {
        return;
    };
    let lab = lab.two_nats(1, 1).relay();
    let url = lab.relay_url();
    let mut relay = lab.relay_server();
    let banner = relay.expect("first line (its URL)", |_| true).await;
    assert!(
        banner.to_string().contains(&url),
        "relay's first line: {banner}"
    );

    let mut a1 = lab.parlor("a1", &["--relay", &url, "open"]);
    let ready = a1.ready().await;
    let ticket = text(&ready, "ticket");
    lab.figure(format_args!(
        "a1 ready after {:.2?}, its ticket names relays {:?}",
        a1.started.elapsed(),
        ticket_relays(&ticket)
    ));
    assert_eq!(ticket_relays(&ticket), [url.as_str()], "ready's ticket");
    // Not `/ticket` nor the later `ticket` event: the first ticket is the one people copy.
    let mut b1 = lab.parlor("b1", &["--relay", &url, "join", &ticket]);
    b1.ready().await;
    a1.expect_joined(&["b1"]).await;
    lab.figure(format_args!(
        "b1 joined with ready's ticket in {:.2?}",
        b1.started.elapsed()
    ));
    say(&mut b1, &mut [&mut a1], "hello across two NATs").await;
    say(&mut a1, &mut [&mut b1], "hello back").await;
    for (me, peer, other) in [(&mut a1, "b1", "a1"), (&mut b1, "a1", "b1")] {
        let net = me.net().await;
        let path = net["peers"]
            .as_array()
            .and_then(|peers| peers.iter().find(|p| p["name"] == peer).cloned());
        let path = path.unwrap_or_else(|| panic!("{other}'s /net lists no {peer}: {net}"));
        lab.figure(format_args!(
            "{other} -> {peer}: path {} addr {} rtt_ms {}",
            path["path"], path["addr"], path["rtt_ms"]
        ));
    }

    let stopping = Instant::now();
    relay.terminate();
    let code = relay.exit_within(Duration::from_secs(3)).await;
    assert!(code.is_some(), "the relay still runs 3 s after SIGTERM");
    lab.figure(format_args!("relay stopped in {:.2?}", stopping.elapsed()));

    // Not asserted: whether hole punching through two masquerading NATs found a direct path.
    let sent = Instant::now();
    a1.send("is anyone there without the relay?").await;
    let direct = b1
        .until_within(Duration::from_secs(10), |seen| {
            first_message(seen, "a1", "is anyone there without the relay?").is_some()
        })
        .await;
    match direct {
        true => lab.figure(format_args!("direct path: yes ({:.2?})", sent.elapsed())),
        false => lab.figure("direct path: no (b1 got nothing within 10 s of the relay's end)"),
    }
}

/// How long the long cut and the sleep last: 90 s (as CI runs them), or PARLOR_LAB_CUT_SECS.
fn long_outage_secs() -> u64 {
    std::env::var("PARLOR_LAB_CUT_SECS").map_or(90, |s| {
        s.parse().expect("PARLOR_LAB_CUT_SECS is whole seconds")
    })
}

/// A member whose cable is out for a long while catches up on everything said meanwhile
/// within seconds of it coming back, without a restart, and is heard again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heal_after_long_cut() {
    let cut_secs = long_outage_secs();
    let Some(lab) = Lab::new("heal_after_long_cut") else {
        return;
    };
    let lab = lab.lan(3);
    let mut a1 = lab.parlor("a1", &["open"]);
    let ticket = text(&a1.ready().await, "ticket");
    let mut a2 = lab.parlor("a2", &["join", &ticket]);
    let mut a3 = lab.parlor("a3", &["join", &ticket]);
    a2.ready().await;
    a3.ready().await;
    a1.expect_joined(&["a2", "a3"]).await;
    a2.expect_joined(&["a1", "a3"]).await;
    a3.expect_joined(&["a1", "a2"]).await;

    let cut_at = Instant::now();
    lab.cut("a3");
    let said: Vec<(&str, String)> = ["a1", "a2", "a1", "a2", "a1"]
        .into_iter()
        .enumerate()
        .map(|(i, who)| (who, format!("said during the cut #{}", i + 1)))
        .collect();
    for (i, (who, line)) in said.iter().enumerate() {
        // Spread over the cut: at 1/6, 2/6, ... 5/6 of it.
        let at = cut_at + Duration::from_secs(cut_secs) * (i as u32 + 1) / 6;
        tokio::time::sleep_until(at.into()).await;
        let speaker = if *who == "a1" { &mut a1 } else { &mut a2 };
        speaker.send(line).await;
    }
    tokio::time::sleep_until((cut_at + Duration::from_secs(cut_secs)).into()).await;
    let restored_at = Instant::now();
    lab.restore("a3");
    // The LAN itself kept working: the two still connected members heard each other.
    for (who, line) in &said {
        let listener = if *who == "a1" { &mut a2 } else { &mut a1 };
        listener.expect_message(who, line).await;
    }

    let all_said = |seen: &[Ev]| {
        said.iter()
            .all(|(w, l)| first_message(seen, w, l).is_some())
    };
    if !a3.until_within(WAIT, all_said).await {
        let missing = said
            .iter()
            .filter(|(w, l)| first_message(&a3.seen, w, l).is_none());
        let missing: Vec<_> = missing.collect();
        a3.fail(
            &format!("catch-up after the cut: missing {missing:?}"),
            WAIT,
        );
    }
    let last = said
        .iter()
        .map(|(w, l)| first_message(&a3.seen, w, l).unwrap().at)
        .max();
    let heal = last.unwrap().saturating_duration_since(restored_at);
    lab.figure(format_args!(
        "{cut_secs} s cut healed {heal:.2?} after restore"
    ));
    assert!(heal <= Duration::from_secs(10), "healing took {heal:?}");

    let back = say(&mut a3, &mut [&mut a1, &mut a2], "back after the cut").await;
    lab.figure(format_args!(
        "a3's first line after the cut delivered in {back:.2?}"
    ));
    // A line sent after everything else: once a3 has it, any late duplicate would have come.
    say(&mut a1, &mut [&mut a3], "marker after the heal").await;
    for (_, line) in &said {
        assert_eq!(a3.messages(line).len(), 1, "a3 got {line:?} more than once");
    }
    let mut ids = HashSet::new();
    for ev in a3.messages_all() {
        assert!(ids.insert(text(ev, "id")), "a3 got message id twice: {ev}");
    }
    // Members reported left because of the outage are reported joined again, once.
    let pairs = [("a3", "a1"), ("a3", "a2"), ("a1", "a3")];
    let after_cut = |seen: &[Ev], kind: &str, member: &str| {
        let seen = seen
            .iter()
            .filter(|e| e["type"] == kind && e["name"] == member);
        seen.filter(|e| e.at > cut_at).count()
    };
    for (viewer, member) in pairs {
        let viewer = if viewer == "a3" { &mut a3 } else { &mut a1 };
        if after_cut(&viewer.seen, "left", member) > 0 {
            let what = format!("{member} joined again");
            viewer
                .until(&what, |seen| after_cut(seen, "joined", member) > 0)
                .await;
        }
    }
    // Lines sent after: a second `joined` would have come before them.
    say(&mut a3, &mut [&mut a1, &mut a2], "second marker").await;
    say(&mut a2, &mut [&mut a1, &mut a3], "third marker").await;
    for (viewer, member) in pairs {
        let viewer = if viewer == "a3" { &mut a3 } else { &mut a1 };
        let left = after_cut(&viewer.seen, "left", member);
        let joined = after_cut(&viewer.seen, "joined", member);
        if left > 1 || joined != left {
            let what = format!("{member} left {left} and joined {joined} time(s) after the cut");
            viewer.fail(&what, WAIT);
        }
    }

    // Net state events, as (seconds since the cut, state).
    let states: Vec<(f64, &str)> = a3
        .seen
        .iter()
        .filter(|e| e["type"] == "net")
        .filter_map(|e| Some((secs_between(cut_at, e.at), e["state"].as_str()?)))
        .collect();
    let cut = secs_between(cut_at, restored_at);
    let lost = states
        .iter()
        .any(|&(t, s)| matches!(s, "reconnecting" | "offline") && t > 0.0 && t < cut);
    assert!(
        lost,
        "a3 said no reconnecting/offline during the cut: {states:?}"
    );
    let reconnected = states.iter().any(|&(t, s)| s == "connected" && t > cut);
    assert!(
        reconnected,
        "a3 said no connected after the restore: {states:?}"
    );
}

/// A member renumbered mid-chat (a new DHCP lease) keeps chatting both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_change_mid_chat() {
    let Some(lab) = Lab::new("address_change_mid_chat") else {
        return;
    };
    let mut lab = lab.lan(2);
    let mut a1 = lab.parlor("a1", &["open"]);
    let ticket = text(&a1.ready().await, "ticket");
    let mut a2 = lab.parlor("a2", &["join", &ticket]);
    a2.ready().await;
    a1.expect_joined(&["a2"]).await;
    say(&mut a1, &mut [&mut a2], "before the move").await;
    say(&mut a2, &mut [&mut a1], "still here").await;

    let new = lab.readdress("a2", 50);
    let out = say(&mut a2, &mut [&mut a1], "said from the new address").await;
    lab.figure(format_args!(
        "a2 -> a1 first delivery from {new}: {out:.2?}"
    ));
    let back = say(&mut a1, &mut [&mut a2], "heard at the new address").await;
    lab.figure(format_args!("a1 -> a2 first delivery to {new}: {back:.2?}"));
}

/// A relay with TLS serves QUIC address discovery: each member learns its public (NATed)
/// address, which is what hole punching needs. Reported, not asserted: whether the path
/// through two masquerading NATs went direct, and whether chat survives the relay's end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_relay_and_hole_punching() {
    let Some(lab) = Lab::new("tls_relay_and_hole_punching") else {
        return;
    };
    let lab = lab.two_nats(1, 1).relay();
    let (mut relay, url, ca) = lab.relay_server_tls();
    let banner = relay.expect("first line (its URL)", |_| true).await;
    assert!(
        banner.to_string().contains("https://"),
        "relay's first line: {banner}"
    );
    let flags = ["--relay", url.as_str(), "--relay-ca", ca.as_str()];
    let mut a1 = lab.parlor("a1", &[&flags[..], &["open"]].concat());
    a1.ready().await;
    loop {
        let net = a1.net().await;
        if net["relay"].is_string() {
            break;
        }
        assert!(
            a1.started.elapsed() < WAIT,
            "a1 found no home relay over TLS: {net}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    lab.figure(format_args!(
        "a1 home relay over TLS after {:.2?}",
        a1.started.elapsed()
    ));
    let ticket = a1.ticket_now().await;
    let mut b1 = lab.parlor("b1", &[&flags[..], &["join", &ticket]].concat());
    b1.ready().await;
    a1.expect_joined(&["b1"]).await;
    lab.figure(format_args!(
        "b1 joined through the TLS relay in {:.2?}",
        b1.started.elapsed()
    ));
    say(&mut b1, &mut [&mut a1], "hello over TLS").await;

    // Give hole punching a while, then report the path each side uses.
    let punching = Instant::now();
    let mut direct = false;
    while punching.elapsed() < Duration::from_secs(10) && !direct {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let net = a1.net().await;
        direct = net["peers"].as_array().is_some_and(|peers| {
            peers
                .iter()
                .any(|p| p["name"] == "b1" && p["path"] == "direct")
        });
    }
    let net = a1.net().await;
    lab.figure(format_args!(
        "a1 (addresses {}) -> b1 after {:.1?}: {}",
        net["addrs"],
        punching.elapsed(),
        net["peers"]
    ));

    relay.terminate();
    relay.exit_within(Duration::from_secs(3)).await;
    let sent = Instant::now();
    a1.send("still here without the relay?").await;
    let got = b1
        .until_within(Duration::from_secs(10), |seen| {
            first_message(seen, "a1", "still here without the relay?").is_some()
        })
        .await;
    match got {
        true => lab.figure(format_args!(
            "without the relay: delivered in {:.2?}",
            sent.elapsed()
        )),
        false => lab.figure("without the relay: nothing within 10 s (no direct path)"),
    }
}

/// The real terminal UI on the LAN: the lobby lists a public room announced with `--lan`, Alt-1 joins
/// it with no ticket, the chat works both ways and `/net` shows how the member is reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_joins_a_lan_room_from_the_lobby() {
    let Some(lab) = Lab::new("tui_joins_a_lan_room") else {
        return;
    };
    let lab = lab.lan(2);
    let mut a1 = lab.parlor("a1", &["open", "--lan", "--public", "--label", "standup"]);
    a1.ready().await;
    let mut a2 = lab.tui("a2", &[]);
    a2.wait_for("Your name").await;
    let listed = a2.wait_for("Alt-1 standup").await;
    lab.figure(format_args!("the lobby listed standup after {listed:.2?}"));
    a2.keys("\x1b1"); // Alt-1
    a2.wait_for("connected to 1").await;
    a1.expect_joined(&["a2"]).await;
    a2.keys("hello from the terminal\r");
    a1.expect_message("a2", "hello from the terminal").await;
    a1.send("hello back").await;
    a2.wait_for("a1: hello back").await;
    a2.keys("/net\r");
    a2.wait_for("net: id").await;
    a2.wait_for("a1: direct 10.77.1.10:").await;
    a2.keys("/quit\r");
    a1.until("a2's goodbye", |seen| {
        seen.iter()
            .any(|e| e["type"] == "left" && e["name"] == "a2")
    })
    .await;
}

/// A laptop asleep over lunch: a member's process is frozen (SIGSTOP) for the length of the
/// long cut while the others talk and time it out, then thawed: it gets back in by itself,
/// receives every line said meanwhile (none twice), and is heard again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wake_after_sleep() {
    let sleep_secs = long_outage_secs();
    let Some(lab) = Lab::new("wake_after_sleep") else {
        return;
    };
    let lab = lab.lan(2);
    let mut a1 = lab.parlor("a1", &["open"]);
    let ticket = text(&a1.ready().await, "ticket");
    let mut a2 = lab.parlor("a2", &["join", &ticket]);
    a2.ready().await;
    a1.expect_joined(&["a2"]).await;

    let asleep = Instant::now();
    a2.freeze(true);
    let said: Vec<String> = (1..=3)
        .map(|i| format!("said while a2 slept #{i}"))
        .collect();
    for (i, line) in said.iter().enumerate() {
        let at = asleep + Duration::from_secs(sleep_secs) * (i as u32 + 1) / 4;
        tokio::time::sleep_until(at.into()).await;
        a1.send(line).await;
    }
    tokio::time::sleep_until((asleep + Duration::from_secs(sleep_secs)).into()).await;
    let woke = Instant::now();
    a2.freeze(false);
    let all = |seen: &[Ev]| said.iter().all(|l| first_message(seen, "a1", l).is_some());
    if !a2.until_within(WAIT, all).await {
        a2.fail("every line said during the sleep", WAIT);
    }
    let last = said
        .iter()
        .map(|l| first_message(&a2.seen, "a1", l).unwrap().at)
        .max()
        .unwrap();
    let back = last.saturating_duration_since(woke);
    lab.figure(format_args!(
        "{sleep_secs} s asleep: caught up {back:.2?} after waking"
    ));
    assert!(back <= Duration::from_secs(10), "catching up took {back:?}");
    say(&mut a2, &mut [&mut a1], "good morning").await;
    say(&mut a1, &mut [&mut a2], "marker after waking").await;
    for line in &said {
        assert_eq!(a2.messages(line).len(), 1, "a2 got {line:?} more than once");
    }
}

//! Private rooms as users and bots meet them, with real processes on 127.0.0.1: `open` makes
//! one (its `ready` carries an invite), `join INVITE` redeems it, `room_state` follows every
//! change, `/kick` tells the removed member (`removed`) and ends its room, and an invite that
//! is used up, revoked or expired is one line on stderr and exit 2.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use support::parlor::OFFLINE;
use support::process::{Ev, Proc};

/// The `room_state` whose members are exactly `names` (by name), with each one's role.
fn members(state: &Ev) -> Vec<(String, String)> {
    let mut members: Vec<(String, String)> = state["members"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|m| {
                    let name = m["name"].as_str().unwrap_or_default().to_string();
                    (name, m["role"].as_str().unwrap_or_default().to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    members.sort();
    members
}

fn roles(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = list
        .iter()
        .map(|(n, r)| (n.to_string(), r.to_string()))
        .collect();
    list.sort();
    list
}

/// `join` with `invite` must fail as bad input: exit 2 and `why` on stderr, one line.
async fn refused(name: &str, invite: &str, why: &str) {
    let mut joiner = Proc::join(name, invite);
    let code = joiner.exit().await;
    let stderr = joiner.stderr();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(why), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_lets_in_a_kick_puts_out_and_the_state_follows() {
    let mut ann = Proc::open("ann");
    let ready = ann.ready().await;
    assert_eq!(ready["kind"], "private", "{ready}");
    let invite = ready["ticket"].as_str().unwrap().to_string();
    let state = ann.expect_type("room_state").await;
    assert_eq!(members(&state), roles(&[("ann", "owner")]));
    assert_eq!(state["epoch"], 0);

    // Bob keeps his key in a data directory (so he is the same member when he comes back).
    let bob_dir = support::parlor::tempdir("bob");
    let mut bob = Proc::with_data(&bob_dir, "bob", &["join", &invite]);
    let ready = bob.ready().await;
    assert_eq!(ready["kind"], "private", "{ready}");
    let bob_key = ready["id"].as_str().unwrap().to_string();
    ann.expect("bob in the state", |e| {
        e["type"] == "room_state" && e["members"].as_array().is_some_and(|m| m.len() == 2)
    })
    .await;
    bob.send("hello from bob").await;
    ann.expect("bob's line", |e| {
        e["type"] == "message" && e["text"] == "hello from bob"
    })
    .await;
    // The name and topic are the admins': a member is refused, the owner's change reaches
    // everyone.
    bob.send("/roomname bob's room").await;
    let error = bob.expect_type("error").await;
    assert!(
        error["message"].as_str().unwrap().contains("role"),
        "{error}"
    );
    ann.send("/roomname release crew").await;
    ann.send("/topic shipping 1.4 today").await;
    bob.expect("the new name and topic", |e| {
        e["type"] == "room_state"
            && e["name"] == "release crew"
            && e["topic"] == "shipping 1.4 today"
    })
    .await;
    // `/rooms` says which kind.
    ann.send("/rooms").await;
    let rooms = ann.expect_type("rooms").await;
    assert_eq!(rooms["rooms"][0]["kind"], "private", "{rooms}");

    // Bob is made an admin, then back a member; then kicked, with a reason.
    ann.send("/op bob").await;
    let state = bob
        .expect("bob an admin", |e| {
            e["type"] == "room_state"
                && e["members"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| m["role"] == "admin"))
        })
        .await;
    assert_eq!(
        members(&state),
        roles(&[("ann", "owner"), ("bob", "admin")])
    );
    ann.send("/deop bob").await;
    ann.send("/kick bob enough for today").await;
    let removed = bob.expect_type("removed").await;
    assert_eq!(removed["by"], "ann", "{removed}");
    assert_eq!(removed["reason"], "enough for today");
    assert_eq!(removed["ban"], false);
    // Its only room ended: bob's parlor exits, saying why.
    let code = bob.exit().await;
    assert_eq!(code, 1, "{}", bob.stderr());
    assert!(bob.stderr().contains("removed"), "{}", bob.stderr());
    let state = ann
        .expect("a new epoch without bob", |e| {
            e["type"] == "room_state" && e["epoch"] == 1
        })
        .await;
    assert_eq!(members(&state), roles(&[("ann", "owner")]));

    // A kicked member cannot walk back in with the invite it had (a new key can, while the
    // invite lasts: `/revoke` ends it).
    let mut again = Proc::with_data(&bob_dir, "bob", &["join", &invite]);
    assert_eq!(again.exit().await, 2, "{}", again.stderr());
    assert!(again.stderr().contains("removed"), "{}", again.stderr());
    // Until an admin lets his key in again.
    ann.send(&format!("/add {bob_key}")).await;
    ann.expect("bob back in the state", |e| {
        e["type"] == "room_state" && e["members"].as_array().is_some_and(|m| m.len() == 2)
    })
    .await;
    let mut back = Proc::with_data(&bob_dir, "bob", &["join", &invite]);
    back.ready().await;
    back.close_stdin();
    assert_eq!(back.exit().await, 0, "{}", back.stderr());
    ann.close_stdin();
    assert_eq!(ann.exit().await, 0, "{}", ann.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_up_revoked_or_expired_invite_is_one_line_and_exit_2() {
    let mut ann = Proc::open("ann");
    ann.ready().await;
    ann.send("/invite --uses 1").await;
    let once = ann.expect_type("invite").await;
    assert_eq!(once["uses"], 1, "{once}");
    assert!(
        once["expires"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{once}"
    );
    let once = once["invite"].as_str().unwrap().to_string();

    let mut carl = Proc::join("carl", &once);
    carl.ready().await;
    refused("dave", &once, "used up").await;

    ann.send("/invite").await;
    let revoked = ann.expect_type("invite").await;
    let id = revoked["id"].as_str().unwrap().to_string();
    ann.send(&format!("/revoke {}", &id[..6])).await;
    ann.expect("the revocation", |e| {
        e["type"] == "info" && e["message"].as_str().is_some_and(|m| m.contains("revoked"))
    })
    .await;
    ann.send("/invites").await;
    let list = ann.expect_type("invites").await;
    let listed = list["invites"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        3,
        "the ready one, the one-use one, the revoked one: {list}"
    );
    assert!(
        listed.iter().any(|i| i["id"] == id && i["revoked"] == true),
        "{list}"
    );
    assert!(
        listed.iter().any(|i| i["uses"] == 1 && i["used"] == 1),
        "{list}"
    );
    refused("erin", revoked["invite"].as_str().unwrap(), "revoked").await;
    // An invite from before (or another admin's) is revoked by its whole text.
    ann.send("/invite").await;
    let earlier = ann.expect_type("invite").await;
    let earlier = earlier["invite"].as_str().unwrap().to_string();
    ann.send(&format!("/revoke {earlier}")).await;
    ann.expect("the second revocation", |e| {
        e["type"] == "info" && e["message"].as_str().is_some_and(|m| m.contains("revoked"))
    })
    .await;
    refused("gus", &earlier, "revoked").await;

    // One that expired is refused before anything starts.
    ann.send("/invite --expires 1s").await;
    let short = ann.expect_type("invite").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    refused("finn", short["invite"].as_str().unwrap(), "expired").await;

    // Moderation in a public room says why not; `/invite` there is the ticket.
    let mut public = Proc::spawn(&[&OFFLINE[..], &["pat", "open", "--public"]].concat());
    let ready = public.ready().await;
    assert_eq!(ready["kind"], "public", "{ready}");
    public.send("/kick nobody").await;
    let error = public.expect_type("error").await;
    assert!(
        error["message"].as_str().unwrap().contains("public"),
        "{error}"
    );
    public.send("/invite").await;
    public.expect_type("ticket").await;
    for mut proc in [ann, carl, public] {
        proc.close_stdin();
        proc.exit().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_moves_a_public_room_to_a_private_successor() {
    let mut ann = Proc::spawn(&[&OFFLINE[..], &["ann", "open", "--public"]].concat());
    let ticket = ann.ready_ticket().await;
    let mut bob = Proc::join("bob", &ticket);
    bob.ready().await;
    ann.expect("bob here", |e| e["type"] == "joined" && e["name"] == "bob")
        .await;
    ann.send("/lock").await;
    // Ann is in the successor, as its owner.
    let ready = ann
        .expect("the successor's ready", |e| {
            e["type"] == "ready" && e["kind"] == "private"
        })
        .await;
    assert_ne!(ready["topic"], ticket, "{ready}");
    // Bob gets the invite privately, and the old room a pointer (never the invite), in
    // whichever order they come.
    let moved_line = |e: &support::process::Ev| {
        e["type"] == "message" && e["text"].as_str().is_some_and(|t| t.contains("moved"))
    };
    bob.until("the invite and the old room's line", |seen| {
        seen.iter().any(|e| e["type"] == "dm") && seen.iter().any(moved_line)
    })
    .await;
    let dm = bob.seen.iter().find(|e| e["type"] == "dm").unwrap().clone();
    let invite = dm["text"]
        .as_str()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let moved = bob.seen.iter().find(|e| moved_line(e)).unwrap().clone();
    assert!(
        !moved["text"].as_str().unwrap().contains(&invite),
        "{moved}"
    );
    let mut bob2 = Proc::join("bob", &invite);
    let ready = bob2.ready().await;
    assert_eq!(ready["kind"], "private", "{ready}");
    for mut proc in [ann, bob, bob2] {
        proc.close_stdin();
        proc.exit().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_room_is_rejoined_after_a_restart_by_its_topic() {
    let (ann_dir, bob_dir) = (
        support::parlor::tempdir("ann"),
        support::parlor::tempdir("bob"),
    );
    let mut ann = Proc::with_data(&ann_dir, "ann", &["open"]);
    let ready = ann.ready().await;
    let topic = ready["topic"].as_str().unwrap().to_string();
    let invite = ready["ticket"].as_str().unwrap().to_string();
    let mut bob = Proc::with_data(&bob_dir, "bob", &["join", &invite]);
    bob.ready().await;
    ann.expect("bob here", |e| e["type"] == "joined" && e["name"] == "bob")
        .await;
    bob.close_stdin();
    assert_eq!(bob.exit().await, 0, "{}", bob.stderr());
    // Bob comes back to the room he knows (no invite; ann is where he last saw her), and it
    // is still private and his: his lines reach ann sealed with the room's key.
    let mut bob = Proc::with_data(&bob_dir, "bob", &["join", &topic[..12]]);
    let ready = bob.ready().await;
    assert_eq!(
        (ready["kind"].as_str(), ready["topic"].as_str()),
        (Some("private"), Some(topic.as_str()))
    );
    bob.send("back in the private room").await;
    ann.expect("bob's line after the restart", |e| {
        e["type"] == "message" && e["text"] == "back in the private room"
    })
    .await;
    for mut proc in [ann, bob] {
        proc.close_stdin();
        proc.exit().await;
    }
}

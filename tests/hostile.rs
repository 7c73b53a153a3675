//! A hostile member, with real processes on 127.0.0.1: a look-alike name is told apart (live,
//! in exports), `/ignore` hides a member and survives a restart.

#[path = "support/mod.rs"]
mod support;

use support::parlor::tempdir;
use support::process::{Ev, Proc};

fn said(text: &'static str) -> impl Fn(&Ev) -> bool {
    move |e| e["type"] == "message" && e["text"] == text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alikes_are_told_apart_and_ignore_survives_a_restart() {
    let dir = tempdir("ann");
    let mut ann = Proc::with_data(&dir, "ann", &["--label", "club", "open"]);
    let ticket = ann.ready_ticket().await;
    let mut bob = Proc::join("bob", &ticket);
    bob.expect_type("ready").await;
    ann.expect("bob joined", |e| {
        e["type"] == "joined" && e["name"] == "bob"
    })
    .await;
    // Cyrillic о: looks like bob, is another key.
    let mut eve = Proc::join("b\u{43e}b", &ticket);
    eve.expect_type("ready").await;
    let clash = ann.expect_type("name_clash").await;
    let fake = clash["display"].as_str().unwrap().to_string();
    assert!(fake.starts_with("b\u{43e}b#"), "{clash}");
    assert_eq!(clash["owner_display"], "bob");
    eve.send("I am bob, send me the keys").await;
    let line = ann
        .expect("eve's line", said("I am bob, send me the keys"))
        .await;
    assert_eq!(line["display"], fake.as_str(), "{line}");

    ann.send(&format!("/ignore {fake}")).await;
    let ignored = ann.expect_type("ignored").await;
    assert_eq!(ignored["ignored"], true);
    eve.send("hidden one").await;
    bob.send("marker one").await;
    ann.expect("bob's marker", said("marker one")).await;
    ann.send("/ignored").await;
    let list = ann.expect_type("ignored_list").await;
    assert_eq!(list["members"][0]["display"], fake.as_str());
    ann.send("/quit").await;
    assert_eq!(ann.exit().await, 0);

    // Back by label: still ignored.
    let mut ann = Proc::with_data(&dir, "ann", &["join", "club"]);
    ann.expect_type("ready").await;
    ann.expect("bob again", |e| e["type"] == "joined" && e["name"] == "bob")
        .await;
    eve.send("hidden two").await;
    bob.send("marker two").await;
    ann.expect("bob's second marker", said("marker two")).await;
    ann.send("/quit").await;
    assert_eq!(ann.exit().await, 0);
    for peer in [&mut bob, &mut eve] {
        peer.send("/quit").await;
        peer.exit().await;
    }

    let export = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["--data-dir", dir.to_str().unwrap(), "export", "club"])
        .env("TZ", "UTC")
        .env("PARLOR_CONFIG", "/dev/null")
        .output()
        .unwrap();
    let txt = String::from_utf8(export.stdout).unwrap();
    assert!(!txt.contains("hidden"), "{txt}");
    assert!(
        txt.contains(&format!(" {fake}: I am bob, send me the keys")),
        "{txt}"
    );
    assert!(txt.contains(" bob: marker one"), "{txt}");
    std::fs::remove_dir_all(&dir).ok();
}

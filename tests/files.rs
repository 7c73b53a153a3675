//! Sharing files between real processes on 127.0.0.1, headless: `/send PATH`, the `file`
//! event, `/get HANDLE`, progress, `saved`, the same bytes on disk; what cannot be shared.

#[path = "support/mod.rs"]
mod support;

use support::parlor::tempdir;
use support::process::Proc;

#[tokio::test]
async fn a_file_sent_in_a_room_is_fetched_and_saved_whole() {
    let (ann_dir, bob_dir, downloads) = (tempdir("ann"), tempdir("bob"), tempdir("downloads"));
    let mut ann = Proc::with_data(&ann_dir, "ann", &["open"]);
    let ticket = ann.ready_ticket().await;
    let dl = downloads.to_str().unwrap();
    let mut bob = Proc::with_data(&bob_dir, "bob", &["--download-dir", dl, "join", &ticket]);
    bob.expect_type("ready").await;
    bob.expect("ann", |e| e["type"] == "joined" && e["name"] == "ann")
        .await;
    ann.expect("bob", |e| e["type"] == "joined" && e["name"] == "bob")
        .await;

    // 3 MB of varied bytes: several chunk groups.
    let bytes: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let source = ann_dir.join("build log.txt");
    std::fs::write(&source, &bytes).unwrap();
    ann.send(&format!("/send {}", source.display())).await;
    let offer = bob.expect_type("file").await;
    assert_eq!(offer["name"], "build log.txt");
    assert_eq!(offer["size"], 3_000_000);
    assert_eq!(offer["sender"], "ann");
    assert_eq!(offer["hash"], blake3::hash(&bytes).to_hex().as_str());
    let handle = offer["handle"].as_str().unwrap().to_string();
    assert_eq!(handle.len(), 8);
    // The sender sees its own offer too.
    ann.expect_type("file").await;

    bob.send(&format!("/get {}", &handle[..6])).await;
    let saved = bob.expect_type("saved").await;
    assert_eq!(saved["handle"], handle.as_str());
    let path = std::path::PathBuf::from(saved["path"].as_str().unwrap());
    assert_eq!(path, downloads.join("build log.txt"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the same bytes on disk"
    );
    // Fetching it again says where it is (no error: nothing failed); /files lists it.
    bob.send(&format!("/get {handle}")).await;
    let again = bob.expect_type("info").await;
    assert!(
        again["message"].as_str().unwrap().contains("saved as"),
        "{again}"
    );
    bob.send("/files").await;
    let list = bob.expect_type("files").await;
    assert_eq!(list["files"][0]["name"], "build log.txt", "{list}");
    assert_eq!(list["files"][0]["state"], "saved", "{list}");
    assert!(list["files"][0]["path"].as_str().is_some(), "{list}");

    // What cannot be shared is one line each, and nothing is sent.
    for bad in [
        ann_dir.join("missing.bin").display().to_string(),
        ann_dir.display().to_string(),
    ] {
        ann.send(&format!("/send {bad}")).await;
        let error = ann.expect_type("error").await;
        assert_eq!(
            error["message"].as_str().unwrap().lines().count(),
            1,
            "{error}"
        );
    }
    ann.send("a marker after the refusals").await;
    let marker = bob.expect_type("message").await;
    assert_eq!(
        marker["text"], "a marker after the refusals",
        "no other offer came first"
    );
    // `/unshare`: answered with one `info`, and no longer listed as hers.
    ann.send(&format!("/unshare {handle}")).await;
    let unshared = ann.expect_type("info").await;
    assert!(
        unshared["message"]
            .as_str()
            .unwrap()
            .contains("no longer shared"),
        "{unshared}"
    );
    ann.send("/files").await;
    let list = ann.expect_type("files").await;
    assert_eq!(list["files"].as_array().map(Vec::len), Some(0), "{list}");

    // What ann could not share makes her run fail (exit 1); bob's did all it was asked.
    for (peer, code) in [(&mut ann, 1), (&mut bob, 0)] {
        peer.send("/quit").await;
        assert_eq!(peer.exit().await, code);
    }
    for dir in [ann_dir, bob_dir, downloads] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// A file offered privately: `/send` in a `/query` conversation reaches only its addressee
/// (a `file` event marked `dm`), who fetches it from the sender; a third member sees nothing.
#[tokio::test]
async fn a_file_sent_in_a_direct_message_reaches_only_its_addressee() {
    let dirs = [tempdir("ann"), tempdir("bob"), tempdir("cy")];
    let downloads = tempdir("downloads");
    let dl = downloads.to_str().unwrap();
    let mut ann = Proc::with_data(&dirs[0], "ann", &["open"]);
    let ticket = ann.ready_ticket().await;
    let mut bob = Proc::with_data(&dirs[1], "bob", &["--download-dir", dl, "join", &ticket]);
    let mut cy = Proc::with_data(&dirs[2], "cy", &["join", &ticket]);
    let topic = cy.expect_type("ready").await["topic"]
        .as_str()
        .unwrap()
        .to_string();
    for (peer, name) in [(&mut bob, "ann"), (&mut cy, "ann"), (&mut ann, "bob")] {
        peer.expect(name, |e| e["type"] == "joined" && e["name"] == name)
            .await;
    }
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let source = dirs[0].join("private notes.txt");
    std::fs::write(&source, &bytes).unwrap();
    ann.send("/query bob").await;
    ann.send(&format!("/send {}", source.display())).await;

    let offer = bob.expect_type("file").await;
    assert_eq!(offer["dm"], true, "{offer}");
    assert_eq!(offer["name"], "private notes.txt");
    assert_eq!(offer["size"], 200_000);
    assert_eq!(offer["sender"], "ann");
    let handle = offer["handle"].as_str().unwrap().to_string();
    let ours = ann.expect_type("file").await;
    assert_eq!(ours["handle"], handle.as_str());
    ann.expect("delivered", |e| {
        e["type"] == "dm_status" && e["state"] == "delivered"
    })
    .await;

    bob.send(&format!("/get {handle}")).await;
    let saved = bob.expect_type("saved").await;
    let path = std::path::PathBuf::from(saved["path"].as_str().unwrap());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the same bytes on disk"
    );
    bob.send("/query ann").await;
    bob.send("/files").await;
    let list = bob.expect_type("files").await;
    assert_eq!(list["files"][0]["name"], "private notes.txt", "{list}");
    assert!(list.get("room").is_none(), "about the conversation: {list}");

    // Cy shares the room, not the conversation: the marker comes first.
    ann.send(&format!("/room {topic}")).await;
    ann.send("a marker for cy").await;
    let next = cy
        .expect("the marker", |e| {
            e["type"] == "message" || e["type"] == "file"
        })
        .await;
    assert_eq!(next["text"], "a marker for cy", "{next}");

    for peer in [&mut ann, &mut bob, &mut cy] {
        peer.send("/quit").await;
        assert_eq!(peer.exit().await, 0);
    }
    for dir in dirs.into_iter().chain([downloads]) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// A fetch whose only provider left says so, and starts again by itself when the provider
/// is back (here: the sender, restarted on its data directory).
#[tokio::test]
async fn a_fetch_waits_for_its_provider_and_resumes_when_it_is_back() {
    let (ann_dir, bob_dir, downloads) = (tempdir("ann"), tempdir("bob"), tempdir("downloads"));
    let mut ann = Proc::with_data(&ann_dir, "ann", &["open"]);
    let ticket = ann.ready_ticket().await;
    let dl = downloads.to_str().unwrap();
    let mut bob = Proc::with_data(&bob_dir, "bob", &["--download-dir", dl, "join", &ticket]);
    let topic = bob.expect_type("ready").await["topic"]
        .as_str()
        .unwrap()
        .to_string();
    bob.expect("ann", |e| e["type"] == "joined" && e["name"] == "ann")
        .await;
    ann.expect("bob", |e| e["type"] == "joined" && e["name"] == "bob")
        .await;
    let bytes: Vec<u8> = (0..5_000_000u32).map(|i| (i % 253) as u8).collect();
    let source = ann_dir.join("later.bin");
    std::fs::write(&source, &bytes).unwrap();
    ann.send(&format!("/send {}", source.display())).await;
    let handle = bob.expect_type("file").await["handle"]
        .as_str()
        .unwrap()
        .to_string();

    ann.send("/quit").await;
    assert_eq!(ann.exit().await, 0);
    bob.expect("ann left", |e| e["type"] == "left").await;
    bob.send(&format!("/get {handle}")).await;
    // Not an error: the fetch is accepted, and starts by itself.
    let waiting = bob
        .expect("the fetch waiting", |e| {
            e["type"] == "info"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("by itself"))
        })
        .await;
    let message = waiting["message"].as_str().unwrap();
    assert!(message.contains("by itself when ann is back"), "{waiting}");
    assert_eq!(message.lines().count(), 1, "{waiting}");

    let mut ann = Proc::with_data(&ann_dir, "ann", &["join", &topic]);
    ann.expect_type("ready").await;
    bob.expect("ann back", |e| {
        e["type"] == "info" && e["message"].as_str().is_some_and(|m| m.contains("is back"))
    })
    .await;
    let saved = bob.expect_type("saved").await;
    assert_eq!(saved["handle"], handle.as_str());
    let path = std::path::PathBuf::from(saved["path"].as_str().unwrap());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the same bytes on disk"
    );

    for peer in [&mut ann, &mut bob] {
        peer.send("/quit").await;
        let code = peer.exit().await;
        assert_eq!(code, 0, "{}", peer.stderr());
    }
    for dir in [ann_dir, bob_dir, downloads] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

//! Fetching over loopback through [`Files`]: a fetch stuck on a sender that vanished starts
//! again by itself when the sender rejoins a room.

use std::time::{Duration, Instant};

use super::*;
use crate::net::NetConfig;
use crate::net::files::tests::file_of;
use crate::proto::SecretKey;
use crate::store::tests::tempdir;

/// Generous: only a broken build waits this long.
const WAIT: Duration = Duration::from_secs(60);
const ROOM: RoomKey = 1;
/// The swarm's piece for a 6 MiB file.
const PIECE: u64 = 256 << 10;

async fn node(secret: SecretKey, blobs: &std::path::Path) -> Node {
    let config = NetConfig {
        blobs_dir: Some(blobs.to_path_buf()),
        ..NetConfig::loopback(secret)
    };
    Node::spawn(&config).await.expect("node")
}

fn member(node: &Node, name: &str) -> MemberInfo {
    MemberInfo {
        id: node.id(),
        name: name.into(),
        display: name.into(),
    }
}

/// A live offer of `shared` by `from`, named `shared.bin`.
fn offer_of(shared: &crate::net::files::SharedFile, from: MemberInfo) -> OfferLine {
    let file = FileRef {
        hash: shared.hash.clone(),
        size: shared.size,
        name: "shared.bin".into(),
        mime: String::new(),
    };
    OfferLine {
        file,
        from,
        history: false,
    }
}

/// What the store says of a file it shares.
fn shared_of(file: &FileRef) -> crate::net::files::SharedFile {
    crate::net::files::SharedFile {
        hash: file.hash.clone(),
        size: file.size,
    }
}

/// The next update `pred` picks, skipping others.
async fn expect(
    updates: &mut mpsc::Receiver<FileUpdate>,
    what: &str,
    pred: impl Fn(&FileUpdate) -> bool,
) -> FileUpdate {
    let wait = async {
        loop {
            match updates.recv().await {
                Some(update) if pred(&update) => return update,
                Some(update) => {
                    assert!(!matches!(update, FileUpdate::Failed { .. }), "{update:?}");
                }
                None => panic!("no more updates before {what}"),
            }
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .unwrap_or_else(|_| panic!("no {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_stuck_on_a_vanished_sender_resumes_when_it_rejoins() {
    let path = file_of(6 << 20);
    // The sender holds part of the file at first (it is still fetching it from someone not
    // in the room), and all of it when it comes back.
    let owner = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    let shared = owner.share_file(&path, |_, _| {}).await.expect("share");
    let sender_key = SecretKey::generate();
    let sender = node(sender_key.clone(), &tempdir().join("blobs")).await;
    let us = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    // A member who holds none of it: while it stays, the fetch has a provider left and
    // does not end by itself (the case the stall timeout used to end after 30 s).
    let bystander = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    let all = [&owner, &sender, &us, &bystander];
    for a in all {
        for b in all {
            a.learn(b.addr());
        }
        a.allow_files(all.map(Node::id));
    }
    fetch_part(&sender, &shared, &owner).await;
    owner.shutdown(Duration::from_secs(2)).await;

    let settings = FileSettings {
        download_dir: Some(tempdir().join("downloads")),
        ..FileSettings::default()
    };
    let (mut files, mut updates) = Files::new(us.clone(), settings);
    let members = vec![
        member(&us, "us"),
        member(&sender, "sam"),
        member(&bystander, "bea"),
    ];
    files.note(ROOM, &SessionEvent::Members(members));
    let line = offer_of(&shared, member(&sender, "sam"));
    assert!(files.offer(Place::Room(ROOM), line, false).is_some());
    let got = files.get(&shared.hash, false, "").expect("get");
    assert!(got.starts_with("fetching"), "{got}");
    // Pieces of what the sender holds arrive (a piece is 256 KiB here); then it quits.
    tokio::time::timeout(WAIT, async {
        while us.file_status(&shared.hash).await.expect("status").have < PIECE {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the sender's part arrives");
    sender.shutdown(Duration::from_secs(2)).await;

    // It comes back on another port, with the whole file, and rejoins the room.
    let sender = node(sender_key, &tempdir().join("blobs")).await;
    assert_eq!(
        sender.share_file(&path, |_, _| {}).await.expect("share"),
        shared
    );
    sender.allow_files([us.id(), bystander.id()]);
    us.learn(sender.addr());
    let rejoined = Instant::now();
    let event = SessionEvent::Room(Event::MemberJoined(member(&sender, "sam")));
    files.note(ROOM, &event);
    let resumed = expect(&mut updates, "resumed", |u| {
        matches!(u, FileUpdate::Resumed { .. })
    })
    .await;
    assert!(
        matches!(&resumed, FileUpdate::Resumed { hash, who } if *hash == shared.hash && who == "sam"),
        "{resumed:?}"
    );
    let saved = loop {
        let update = expect(&mut updates, "saved", |u| {
            matches!(u, FileUpdate::Saved { .. } | FileUpdate::Progress { .. })
        })
        .await;
        files.update(&update);
        if let FileUpdate::Saved { path, .. } = update {
            break path;
        }
    };
    // Well before the stall timeout (30 s) or the retry timer (60 s) could have done it.
    let took = rejoined.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(
        blake3::hash(&std::fs::read(&saved).expect("read")),
        blake3::hash(&std::fs::read(&path).expect("read"))
    );
    assert!(files.running.is_empty() && files.tried.is_empty());
    for node in [sender, us, bystander] {
        node.shutdown(Duration::from_secs(2)).await;
    }
}

/// `node` fetches some of `file` from `from`, then stops.
async fn fetch_part(node: &Node, file: &crate::net::files::SharedFile, from: &Node) {
    let (progress_tx, mut progress) = mpsc::channel(4);
    let no_one_back = mpsc::channel(1).1;
    let fetch = node.fetch_file(
        &file.hash,
        file.size,
        vec![from.id()],
        progress_tx,
        no_one_back,
    );
    let mut fetch = Box::pin(fetch);
    let stopped = tokio::time::timeout(WAIT, async {
        loop {
            tokio::select! {
                done = &mut fetch => panic!("finished before it was stopped: {done:?}"),
                Some(n) = progress.recv() => if n >= 1 << 20 { break },
            }
        }
    });
    stopped.await.expect("no progress");
    drop(fetch);
    let have = node.file_status(&file.hash).await.expect("status").have;
    assert!(have >= PIECE && have < file.size, "{have}");
}

/// Fetch `file` from `provider` alone, to the end.
async fn fetch_from(node: &Node, file: &FileRef, provider: &Node) -> anyhow::Result<()> {
    crate::net::files::tests::fetch(node, &file.hash, file.size, vec![provider.id()])
        .await
        .map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_served_only_where_it_was_offered() {
    const OTHER: RoomKey = 2;
    let us = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    let alice = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    let bob = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    let all = [&us, &alice, &bob];
    for a in all {
        for b in all {
            a.learn(b.addr());
        }
    }
    let (mut files, _updates) = Files::new(us.clone(), FileSettings::default());
    let (alice_here, bob_here) = (member(&alice, "alice"), member(&bob, "bob"));
    files.note(
        ROOM,
        &SessionEvent::Members(vec![member(&us, "us"), alice_here.clone()]),
    );
    files.note(
        OTHER,
        &SessionEvent::Members(vec![member(&us, "us"), bob_here.clone()]),
    );
    let (hashing, _) = mpsc::channel(16);
    let path = file_of(100 << 10);
    let path = path.to_str().expect("a path");
    let file = share(&us, path, Place::Room(OTHER), hashing.clone())
        .await
        .expect("share");
    let ours = |file: &FileRef| OfferLine {
        file: file.clone(),
        from: member(&us, "us"),
        history: false,
    };
    files.offer(Place::Room(OTHER), ours(&file), true);

    // Bob is where it was offered; Alice is a member of another room only.
    fetch_from(&bob, &file, &us).await.expect("bob fetches");
    let refused = fetch_from(&alice, &file, &us).await;
    assert!(refused.is_err(), "alice fetched a file of another room");
    assert_eq!(alice.file_status(&file.hash).await.expect("status").have, 0);
    // Offered again in her room by someone else: still nothing of ours.
    let again = offer_of(&shared_of(&file), member(&bob, "bob"));
    assert!(files.offer(Place::Room(ROOM), again, false).is_none());
    assert!(
        fetch_from(&alice, &file, &us).await.is_err(),
        "a re-offer opened it"
    );
    // Offered to her privately too: now she may.
    assert!(
        files
            .offer(Place::Direct(alice.id()), ours(&file), true)
            .is_none()
    );
    fetch_from(&alice, &file, &us).await.expect("alice fetches");

    // Ignored in one of our rooms: refused everything, in every room.
    let second = share(
        &us,
        path_of(&file_of(50 << 10)),
        Place::Room(OTHER),
        hashing,
    )
    .await
    .expect("share");
    files.offer(Place::Room(OTHER), ours(&second), true);
    let ignored = Event::Ignored {
        member: bob_here,
        ignored: true,
    };
    files.note(ROOM, &SessionEvent::Room(ignored));
    assert!(
        fetch_from(&bob, &second, &us).await.is_err(),
        "ignored, still served"
    );
    fetch_from(&alice, &file, &us)
        .await
        .expect("others still fetch");
    for node in [us, alice, bob] {
        node.shutdown(Duration::from_secs(2)).await;
    }
}

fn path_of(path: &std::path::Path) -> &str {
    path.to_str().expect("a path")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_get_stops_at_its_quota_and_get_still_fetches() {
    let us = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    let sender = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    us.learn(sender.addr());
    sender.learn(us.addr());
    sender.allow_files([us.id()]);
    let settings = FileSettings {
        download_dir: Some(tempdir().join("downloads")),
        auto_get: 1 << 20,
        auto_get_per_sender: 100 << 10,
        ..FileSettings::default()
    };
    let (mut files, mut updates) = Files::new(us.clone(), settings);
    let sam = member(&sender, "sam");
    files.note(
        ROOM,
        &SessionEvent::Members(vec![member(&us, "us"), sam.clone()]),
    );
    let mut offer = async |len: usize| {
        let shared = sender
            .share_file(&file_of(len), |_, _| {})
            .await
            .expect("share");
        let line = offer_of(&shared, sam.clone());
        assert!(files.offer(Place::Room(ROOM), line, false).is_some());
        shared.hash
    };
    let first = offer(60 << 10).await;
    let second = offer(60 << 10).await;
    let held = expect(&mut updates, "not fetched", |u| {
        matches!(u, FileUpdate::NotFetched { .. })
    })
    .await;
    assert!(
        matches!(&held, FileUpdate::NotFetched { hash, reason }
            if *hash == second && reason.contains("auto_get_per_sender")),
        "{held:?}"
    );
    let saved = |hash: String| move |u: &FileUpdate| matches!(u, FileUpdate::Saved { hash: h, .. } if *h == hash);
    expect(&mut updates, "the first saved", saved(first)).await;
    // By hand it is fetched all the same.
    let got = files.get(&second, false, "").expect("get");
    assert!(got.starts_with("fetching"), "{got}");
    expect(&mut updates, "the second saved", saved(second)).await;
    for node in [us, sender] {
        node.shutdown(Duration::from_secs(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unshared_file_is_served_to_nobody() {
    let us = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    let bob = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    let cy = node(SecretKey::generate(), &tempdir().join("blobs")).await;
    for a in [&us, &bob, &cy] {
        for b in [&us, &bob, &cy] {
            a.learn(b.addr());
        }
    }
    let (mut files, _updates) = Files::new(us.clone(), FileSettings::default());
    let here = vec![member(&us, "us"), member(&bob, "bob"), member(&cy, "cy")];
    files.note(ROOM, &SessionEvent::Members(here));
    let (hashing, _) = mpsc::channel(16);
    let path = file_of(40 << 10);
    let file = share(&us, path_of(&path), Place::Room(ROOM), hashing)
        .await
        .expect("share");
    let shared = shared_of(&file);
    files.offer(
        Place::Room(ROOM),
        offer_of(&shared, member(&us, "us")),
        true,
    );
    fetch_from(&bob, &file, &us)
        .await
        .expect("served while shared");

    let said = files.unshare(&file.hash[..8]).await.expect("unshare");
    assert!(said.contains("no longer shared"), "{said}");
    assert!(files.list(Place::Room(ROOM)).is_empty());
    assert!(
        fetch_from(&cy, &file, &us).await.is_err(),
        "served after /unshare"
    );
    // Offered again by someone who has it: still not by us.
    files.offer(
        Place::Room(ROOM),
        offer_of(&shared, member(&bob, "bob")),
        false,
    );
    assert!(fetch_from(&cy, &file, &us).await.is_err(), "served again");
    let unknown = files.unshare("ffffffff").await.unwrap_err();
    assert!(unknown.contains("/files"), "{unknown}");
    for node in [us, bob, cy] {
        node.shutdown(Duration::from_secs(2)).await;
    }
}

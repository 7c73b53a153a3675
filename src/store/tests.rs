use super::*;
use crate::proto::room::{Input, Record};
use crate::proto::sim::Sim;
use crate::proto::{TopicId, UnixMillis};

const NOW: UnixMillis = UnixMillis(1_750_000_000_000);

/// A fresh directory for one test.
pub(crate) fn tempdir() -> PathBuf {
    crate::test_dir::fresh("store")
}

/// A conversation in the simulator; returns what room 0 asked to keep.
fn conversation() -> (TopicId, Vec<Record>) {
    let mut sim = Sim::new(&["ann", "bob"]);
    sim.connect(0);
    sim.connect(1);
    sim.input(1, Input::Say("the build is green".into()));
    sim.advance(std::time::Duration::from_secs(1));
    sim.input(0, Input::Act("cheers".into()));
    sim.advance(std::time::Duration::from_secs(1));
    sim.input(1, Input::Say("deploying the relay now".into()));
    (sim.rooms[0].topic(), std::mem::take(&mut sim.records[0]))
}

#[test]
fn messages_are_saved_once_exported_in_order_and_searchable() {
    let store = Store::in_memory().unwrap();
    let (topic, records) = conversation();
    store
        .remember_room(topic, Some("ops"), &[], "ann", NOW)
        .unwrap();
    for record in &records {
        store.save(topic, record, NOW).unwrap();
    }
    // Saving again adds nothing.
    for record in &records {
        if matches!(record, Record::Message(_)) {
            assert!(!store.save(topic, record, NOW).unwrap());
        }
    }
    let all = store.export(topic).unwrap();
    let texts: Vec<&str> = all.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["the build is green", "cheers", "deploying the relay now"]
    );
    assert!(all[1].action);
    assert_eq!(all[0].name, "bob");

    let found = store.search(topic, "RELAY", 10).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].text, "deploying the relay now");
    assert!(store.search(topic, "green relay", 10).unwrap().is_empty());
    // Query syntax is taken literally, never as an error.
    for odd in ["\"", "AND", "a*", "-x", "NEAR(", ""] {
        store.search(topic, odd, 10).unwrap();
    }
}

#[test]
fn stored_history_restores_a_room_with_names() {
    let store = Store::in_memory().unwrap();
    let (topic, records) = conversation();
    for record in &records {
        store.save(topic, record, NOW).unwrap();
    }
    let envelopes = store
        .history_envelopes(topic, Default::default(), NOW)
        .unwrap();
    // A fresh room (as after a restart) takes them back, names included.
    let mut sim = Sim::new(&["ann", "bob", "cat"]);
    let now = sim.now();
    let room = &mut sim.rooms[2];
    let outputs = room.handle(Input::History(envelopes), now);
    let shown: Vec<String> = outputs
        .iter()
        .filter_map(|o| match o {
            crate::proto::room::Output::Event(crate::proto::room::Event::MessageReceived(l)) => {
                Some(format!("{}: {}", l.author.display, l.text))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        shown,
        [
            "bob: the build is green",
            "ann: cheers",
            "bob: deploying the relay now"
        ]
    );
}

#[test]
fn rooms_are_listed_and_found_by_label_or_topic_prefix() {
    let store = Store::in_memory().unwrap();
    let a = TopicId::from_bytes([0xab; 32]);
    let b = TopicId::from_bytes([0xac; 32]);
    store
        .remember_room(a, Some("ops"), &[], "ann", NOW)
        .unwrap();
    store
        .remember_room(b, None, &[], "ann", UnixMillis(NOW.0 + 5))
        .unwrap();
    let rooms = store.rooms().unwrap();
    assert_eq!(rooms.len(), 2);
    assert_eq!(rooms[0].topic, b, "most recent first");
    assert_eq!(store.find_room("ops").unwrap().unwrap().topic, a);
    assert_eq!(store.find_room("abab").unwrap().unwrap().topic, a);
    assert_eq!(store.find_room("#ACAC").unwrap().unwrap().topic, b);
    assert!(matches!(
        store.find_room("a").unwrap(),
        Err(FindError::Ambiguous { .. })
    ));
    assert!(matches!(
        store.find_room("zzz").unwrap(),
        Err(FindError::NotFound(_))
    ));
    // The name everyone sees finds the room too (after our own labels), if only one has it.
    let named = |name: &str| crate::proto::room::RoomName {
        name: name.into(),
        by: crate::proto::SecretKey::from_bytes(&[9; 32]).public(),
        sent: NOW,
        id: crate::proto::MessageId::from_bytes([1; 32]),
        envelope: Default::default(),
    };
    assert!(store.save_room_name(b, &named("deploys")).unwrap());
    assert_eq!(store.find_room("deploys").unwrap().unwrap().topic, b);
    assert_eq!(
        store
            .find_room("deploys")
            .unwrap()
            .unwrap()
            .room_name
            .as_deref(),
        Some("deploys")
    );
    assert!(store.save_room_name(a, &named("deploys")).unwrap());
    assert!(matches!(
        store.find_room("deploys").unwrap(),
        Err(FindError::Ambiguous { .. })
    ));
    assert!(store.save_room_name(a, &named("ops")).unwrap());
    assert_eq!(store.find_room("deploys").unwrap().unwrap().topic, b);
    // Rejoining keeps the label and remembers peers.
    let peer =
        crate::proto::EndpointAddr::new(crate::proto::SecretKey::from_bytes(&[5; 32]).public())
            .with_ip_addr("127.0.0.1:7".parse().unwrap());
    store
        .remember_room(a, None, std::slice::from_ref(&peer), "sam", NOW)
        .unwrap();
    let found = store.find_room("ops").unwrap().unwrap();
    assert_eq!(
        (found.peers, found.my_name.as_deref()),
        (vec![peer], Some("sam"))
    );
}

#[test]
fn a_room_name_is_kept_listed_and_restored_with_its_signature() {
    use crate::proto::room::{Room, RoomConfig};
    use crate::proto::{Now, SecretKey};
    let dir = tempdir();
    let topic = TopicId::from_bytes([0xab; 32]);
    let secret = SecretKey::from_bytes(&[3; 32]);
    let mut room = Room::new(
        secret.clone(),
        topic,
        "ann".into(),
        1,
        RoomConfig::default(),
    );
    let out = room.handle(Input::SetRoomName("deploys".into()), Now::system());
    let record = out
        .iter()
        .find_map(|o| match o {
            crate::proto::room::Output::Persist(r @ Record::RoomName(_)) => Some(r.clone()),
            _ => None,
        })
        .expect("kept");
    {
        let store = Store::open(&dir).unwrap();
        store.remember_room(topic, None, &[], "ann", NOW).unwrap();
        assert_eq!(store.rooms().unwrap()[0].room_name, None);
        store.save(topic, &record, NOW).unwrap();
    }
    let store = Store::open(&dir).unwrap();
    assert_eq!(
        store.rooms().unwrap()[0].room_name.as_deref(),
        Some("deploys")
    );
    // Restored at start through the room, which checks the signature like any other.
    let envelopes = store
        .history_envelopes(topic, Default::default(), UnixMillis::now())
        .unwrap();
    let mut again = Room::new(secret, topic, "ann".into(), 2, RoomConfig::default());
    again.handle(Input::History(envelopes), Now::system());
    let named = again.room_name().expect("restored");
    assert_eq!(named.name, "deploys");
    assert_eq!(named.by, again.id());
}

#[test]
fn a_file_database_survives_reopening_and_migrates_once() {
    let dir = tempdir();
    let (topic, records) = conversation();
    {
        let store = Store::open(&dir).unwrap();
        for record in &records {
            store.save(topic, record, NOW).unwrap();
        }
        store.set_setting("last_name", "ann").unwrap();
    }
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.message_count(topic).unwrap(), 3);
    assert_eq!(store.setting("last_name").as_deref(), Some("ann"));
    let version: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version as usize, schema::VERSION);
}

#[test]
fn a_damaged_database_is_a_clear_error_and_left_alone() {
    let dir = tempdir();
    let garbage = b"this is not an SQLite database, but it is somebody's file".repeat(100);
    std::fs::write(dir.join(DATABASE_FILE), &garbage).unwrap();
    let err = Store::open(&dir).err().expect("refused");
    let text = err.to_string();
    assert!(text.contains("cannot open the database"), "{text}");
    assert!(!text.contains('\n'));
    assert_eq!(std::fs::read(dir.join(DATABASE_FILE)).unwrap(), garbage);
}

#[test]
fn a_file_where_the_data_directory_belongs_is_a_clear_error() {
    let dir = tempdir();
    let file_as_dir = dir.join("not-a-dir");
    std::fs::write(&file_as_dir, "x").unwrap();
    for err in [
        Store::open(&file_as_dir).err().expect("refused"),
        Store::open_reader(&file_as_dir).err().expect("refused"),
    ] {
        assert!(matches!(err, StoreError::DataDir { .. }), "{err:?}");
        let want = format!(
            "data directory {} is not a directory",
            file_as_dir.display()
        );
        assert_eq!(err.to_string(), want);
    }
    // The database's place taken by a directory: said, not "unable to open database file".
    let taken = dir.join("taken");
    std::fs::create_dir_all(taken.join(crate::store::DATABASE_FILE)).unwrap();
    let err = Store::open_reader(&taken).err().expect("refused");
    assert!(
        err.to_string().ends_with("parlor.db is a directory"),
        "{err}"
    );
    // A data directory not made yet is nothing stored yet, not an error.
    assert!(Store::open_reader(&dir.join("none")).unwrap().is_none());
}

/// A message record with text `text` (its id is the hash of the text), for writer tests.
pub(super) fn message_record(text: &str) -> Record {
    let author = crate::proto::SecretKey::generate().public();
    Record::Message(crate::proto::room::ChatLine {
        id: crate::proto::MessageId::from_bytes(*blake3::hash(text.as_bytes()).as_bytes()),
        author: crate::proto::MemberInfo {
            id: author,
            name: "ann".into(),
            display: "ann".into(),
        },
        text: text.into(),
        action: false,
        sent: NOW,
        history: false,
        envelope: std::sync::Arc::from(text.as_bytes()),
        file: None,
        reply_to: None,
        change: None,
    })
}

#[test]
fn history_pages_come_from_either_end_with_the_authors_names_first() {
    let store = Store::in_memory().unwrap();
    let (topic, records) = conversation();
    for record in &records {
        store.save(topic, record, NOW).unwrap();
    }
    let texts = |page: crate::proto::backlog::Page| -> Vec<String> {
        let answer = store
            .history_page(topic, UnixMillis(0), 2, page, Vec::new())
            .unwrap();
        answer
            .iter()
            .map(|e| {
                match crate::proto::wire::open(e, &topic, UnixMillis(u64::MAX / 2))
                    .unwrap()
                    .body
                {
                    crate::proto::wire::MessageBody::Message { text, .. } => text,
                    crate::proto::wire::MessageBody::AboutMe { name, .. } => format!("name {name}"),
                    other => panic!("{other:?}"),
                }
            })
            .collect()
    };
    use crate::proto::backlog::Page;
    let oldest = texts(Page::Oldest);
    assert_eq!(oldest.len(), 4, "{oldest:?}");
    assert!(
        oldest[..2].iter().all(|t| t.starts_with("name ")),
        "{oldest:?}"
    );
    assert_eq!(oldest[2..], ["the build is green", "cheers"]);
    let newest = texts(Page::Newest);
    assert_eq!(newest[2..], ["cheers", "deploying the relay now"]);
}

/// What the room holds but the disk not yet fills the page up to its limit, newest first
/// kept: an asker refuses an answer with more messages than it asked for.
#[test]
fn a_history_page_topped_up_from_memory_stays_within_its_limit() {
    let store = Store::in_memory().unwrap();
    let (topic, records) = conversation();
    let lines: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Message(line) => Some(line.envelope.clone()),
            _ => None,
        })
        .collect();
    let names: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Name { envelope, .. } => Some(envelope.clone()),
            _ => None,
        })
        .collect();
    // Only the first line reached the disk.
    for record in &records {
        if !matches!(record, Record::Message(line) if line.envelope != lines[0]) {
            store.save(topic, record, NOW).unwrap();
        }
    }
    let recent: Vec<_> = names.iter().chain(&lines).cloned().collect();
    let page = crate::proto::backlog::Page::Newest;
    let answer = store
        .history_page(topic, UnixMillis(0), 2, page, recent.clone())
        .unwrap();
    let sent: Vec<_> = lines.iter().filter(|l| answer.contains(l)).collect();
    assert_eq!(
        sent,
        [&lines[0], &lines[2]],
        "the stored one and the newest"
    );
    // Paging through a gap: the one right after the disk's newest, so the next page (from
    // this one's newest) skips nothing.
    let page = crate::proto::backlog::Page::Oldest;
    let recent: Vec<_> = lines.to_vec();
    let answer = store
        .history_page(topic, UnixMillis(0), 2, page, recent)
        .unwrap();
    let sent: Vec<_> = lines.iter().filter(|l| answer.contains(l)).collect();
    assert_eq!(sent, [&lines[0], &lines[1]], "the stored one and the next");
}

#[test]
fn search_finds_what_is_not_indexed_yet_and_indexing_catches_up_in_chunks() {
    let store = Store::in_memory().unwrap();
    let (topic, records) = conversation();
    for record in &records {
        store.save(topic, record, NOW).unwrap();
    }
    // Nothing indexed yet: a search indexes first.
    assert_eq!(store.search(topic, "relay", 10).unwrap().len(), 1);
    assert_eq!(
        store.index_pending(10).unwrap(),
        0,
        "all indexed by the search"
    );
    let line = message_record("a green light for the relay");
    store.save(topic, &line, NOW).unwrap();
    assert_eq!(store.index_pending(10).unwrap(), 1);
    assert_eq!(store.search(topic, "green", 10).unwrap().len(), 2);
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// The data directory and everything in it are the user's alone, also when an older parlor
/// (or a umask of 022) left them open: the database holds every room's topic, the capability
/// to join, and all history.
#[cfg(unix)]
#[test]
fn everything_in_the_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join(DATABASE_FILE), b"").unwrap();
    std::fs::set_permissions(
        dir.join(DATABASE_FILE),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let store = Store::open(&dir).unwrap();
    store.secret_key().unwrap();
    let (topic, records) = conversation();
    store
        .save_all(records.iter().map(|r| (topic, r, NOW)))
        .unwrap();
    assert_eq!(mode(&dir), 0o700);
    for file in [
        DATABASE_FILE,
        "parlor.db-wal",
        "parlor.db-shm",
        "parlor.lock",
        "identity.key",
    ] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
}

/// A symlink planted where parlor writes its key's temporary file, or its log, is never
/// followed: the file it points at stays as it was.
#[cfg(unix)]
#[test]
fn planted_symlinks_are_not_followed() {
    let dir = tempdir();
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::os::unix::fs::symlink(&victim, keys.join("identity.tmp")).unwrap();
    super::identity::load_or_create_key(&keys).unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(
        !std::fs::symlink_metadata(keys.join("identity.key"))
            .unwrap()
            .file_type()
            .is_symlink()
    );

    let log = dir.join("logs").join("parlor.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&victim, &log).unwrap();
    assert!(
        super::open_log(&log).is_err(),
        "opened the log through a symlink"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn the_rooms_we_are_in_keep_their_order_until_parted() {
    let store = Store::open(&tempdir()).unwrap();
    let topics: Vec<TopicId> = (1..=3).map(|n| TopicId::from_bytes([n; 32])).collect();
    for (i, topic) in topics.iter().enumerate() {
        let label = format!("room{i}");
        store
            .remember_room(*topic, Some(&label), &[], "ann", NOW)
            .unwrap();
        store.set_open(*topic, true).unwrap();
    }
    let open = |store: &Store| -> Vec<TopicId> {
        store
            .open_rooms()
            .unwrap()
            .iter()
            .map(|r| r.topic)
            .collect()
    };
    assert_eq!(open(&store), topics);
    // Rejoining the first again keeps it first; parting drops it; a room never recorded is
    // skipped.
    store.set_open(topics[0], true).unwrap();
    assert_eq!(open(&store), topics);
    store.set_open(topics[1], false).unwrap();
    store.set_open(TopicId::from_bytes([9; 32]), true).unwrap();
    assert_eq!(open(&store), [topics[0], topics[2]]);
    assert_eq!(
        store.open_rooms().unwrap()[0].label.as_deref(),
        Some("room0")
    );
    // Bounded: the oldest entered go first.
    for n in 10..(10 + super::rooms::MAX_OPEN_ROOMS as u8) {
        store.set_open(TopicId::from_bytes([n; 32]), true).unwrap();
    }
    let text = store.setting("open_rooms").unwrap();
    assert_eq!(
        text.split_whitespace().count(),
        super::rooms::MAX_OPEN_ROOMS
    );
    assert!(!text.contains(&topics[0].to_string()));
}

#[test]
fn a_since_past_any_time_asks_for_nothing_not_everything() {
    let store = Store::in_memory().unwrap();
    let (topic, records) = conversation();
    for record in &records {
        store.save(topic, record, NOW).unwrap();
    }
    let page = crate::proto::backlog::Page::Oldest;
    let all = store
        .history_page(topic, UnixMillis(0), 100, page, Vec::new())
        .unwrap();
    assert!(!all.is_empty());
    // Once wrapped to a negative SQLite integer, this asked for the whole history.
    for since in [u64::MAX, 1 << 63] {
        let answer = store
            .history_page(topic, UnixMillis(since), 100, page, Vec::new())
            .unwrap();
        assert!(answer.is_empty(), "{since}: {} envelopes", answer.len());
    }
}

/// A data directory someone else prepared is refused with one line: owned by another user,
/// writable by others, or holding another user's file (a planted identity key). As root the
/// test also makes them another user's (uid 65534, "nobody"); otherwise it checks the mode.
#[cfg(unix)]
#[test]
fn a_data_directory_planted_by_another_user_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let root = rustix::process::geteuid().is_root();
    let open_to_all = tempdir().join("open");
    std::fs::create_dir_all(&open_to_all).unwrap();
    std::fs::set_permissions(&open_to_all, std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = Store::open(&open_to_all).err().expect("refused");
    assert!(err.to_string().contains("writable by other users"), "{err}");
    assert!(
        !open_to_all.join(crate::store::DATABASE_FILE).exists(),
        "nothing written"
    );
    if !root {
        return;
    }
    let nobody = Some(rustix::process::Uid::from_raw(65534));
    let theirs = tempdir().join("theirs");
    std::fs::create_dir_all(&theirs).unwrap();
    rustix::fs::chown(&theirs, nobody, None).unwrap();
    let err = Store::open(&theirs).err().expect("refused");
    assert!(
        err.to_string()
            .contains("owned by another user (uid 65534)"),
        "{err}"
    );
    // Ours, with their identity key planted in it.
    let planted = tempdir().join("planted");
    std::fs::create_dir_all(&planted).unwrap();
    let key = planted.join("identity.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    rustix::fs::chown(&key, nobody, None).unwrap();
    let err = Store::open(&planted).err().expect("refused");
    assert!(
        err.to_string().contains("identity.key of another user"),
        "{err}"
    );
    assert!(Store::open_reader(&planted).is_err(), "not read either");
}

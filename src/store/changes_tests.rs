//! Changes to lines on disk: an edit rewrites the line (and what search finds), a delete
//! leaves a tombstone and no trace of the text in any file of the data directory.

use super::tests::tempdir;
use super::*;
use crate::proto::UnixMillis;
use crate::proto::room::{Input, Record};
use crate::proto::sim::Sim;

/// Every file under `dir`, read whole.
fn every_file(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(every_file(&path));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn an_edit_rewrites_and_a_delete_leaves_no_trace_on_disk() {
    let mut sim = Sim::new(&["ann", "bob"]);
    sim.connect(0);
    sim.connect(1);
    sim.input(1, Input::Say("the vault code is zanzibar42".into()));
    sim.input(1, Input::Say("and lunch is at noon".into()));
    let line = sim.records[1]
        .iter()
        .find_map(|r| match r {
            Record::Message(l) if l.text.contains("zanzibar42") => Some(l.id),
            _ => None,
        })
        .expect("bob's line");
    let to = line.to_string();
    sim.input(
        1,
        Input::Edit {
            to: to.clone(),
            text: "the vault code is quetzal77".into(),
        },
    );
    sim.input(
        0,
        Input::React {
            to: to.clone(),
            emoji: "👀".into(),
            on: true,
        },
    );
    let dir = tempdir();
    let topic = sim.rooms[0].topic();
    let records = std::mem::take(&mut sim.records[0]);
    {
        let store = Store::open(&dir).unwrap();
        // Saved and indexed as they came: the line, then (indexed) its edit and reaction.
        for record in &records {
            store.save(topic, record, UnixMillis(1)).unwrap();
            store.index_pending(INDEX_CHUNK_FOR_TESTS).unwrap();
        }
        let found = store.search(topic, "quetzal77", 10).unwrap();
        assert_eq!(found.len(), 1, "the edited text is what search finds");
        assert!(found[0].edited);
        assert!(store.search(topic, "zanzibar42", 10).unwrap().is_empty());
    }
    // Closed with the line in it: its words are on disk (so the check below means something).
    assert!(
        every_file(&dir)
            .iter()
            .any(|(_, b)| contains(b, "quetzal77"))
    );
    sim.input(1, Input::Delete { to });
    let records = std::mem::take(&mut sim.records[0]);
    {
        let store = Store::open(&dir).unwrap();
        for record in &records {
            store.save(topic, record, UnixMillis(2)).unwrap();
        }
        assert!(store.search(topic, "quetzal77", 10).unwrap().is_empty());
        let all = store.export(topic).unwrap();
        let gone = all.iter().find(|m| m.id == line).expect("a tombstone");
        assert!(gone.deleted && gone.text.is_empty(), "{gone:?}");
        assert!(all.iter().any(|m| m.text == "and lunch is at noon"));
        // Late joiners are served no trace of it (its edit was its words too).
        let oldest = crate::proto::backlog::Page::Oldest;
        let served = store
            .history_page(topic, UnixMillis(0), 100, oldest, Vec::new())
            .unwrap();
        assert!(
            served
                .iter()
                .all(|e| !contains(e, "zanzibar42") && !contains(e, "quetzal77"))
        );
    }
    // Closed: no file of the data directory holds the text, nor its edit.
    for (path, bytes) in every_file(&dir) {
        for word in ["zanzibar42", "quetzal77"] {
            assert!(!contains(&bytes, word), "{word} in {}", path.display());
        }
    }
}

const INDEX_CHUNK_FOR_TESTS: usize = 100;

/// A direct message from `from` to `to` saying `text`, changing `change` if any.
fn dm(
    from: &crate::proto::SecretKey,
    to: crate::proto::EndpointId,
    text: &str,
    change: Option<&crate::proto::room::LineChange>,
    nonce: u64,
) -> crate::proto::direct::SealedDirect {
    let draft = crate::proto::direct::Draft {
        to,
        name: "someone",
        text,
        action: false,
        file: None,
        sent: UnixMillis(1_000 + nonce),
        nonce,
        reply_to: None,
        change,
    };
    crate::proto::direct::seal_direct(from, &draft).unwrap()
}

#[test]
fn in_a_conversation_only_the_sender_edits_and_a_delete_leaves_no_trace() {
    use crate::proto::room::{ChangeKind, LineChange};
    let (me, bob) = (
        crate::proto::SecretKey::generate(),
        crate::proto::SecretKey::generate(),
    );
    let dir = tempdir();
    let first = dm(&bob, me.public(), "my pin is zebra7731", None, 1);
    let about = |kind| LineChange {
        to: first.message.id,
        kind,
    };
    {
        let store = Store::open(&dir).unwrap();
        store.receive_direct(&first, true, UnixMillis(2)).unwrap();
        // Our edit of bob's message: refused before it is queued.
        let ours = dm(
            &me,
            bob.public(),
            "mine now",
            Some(&about(ChangeKind::Edit)),
            2,
        );
        assert!(store.queue_direct(&ours, UnixMillis(3)).is_err());
        // Bob's own edit is kept and rewrites it; his delete wipes it.
        let edit = dm(
            &bob,
            me.public(),
            "my pin is yak5512",
            Some(&about(ChangeKind::Edit)),
            3,
        );
        store.receive_direct(&edit, true, UnixMillis(4)).unwrap();
        // The page has the message as it is now, then its edit (front ends replay changes
        // as they come, so a conversation opened again shows it edited and reacted to).
        let page = store.direct_page(bob.public(), 10).unwrap();
        assert_eq!(page.len(), 2, "{page:?}");
        assert_eq!(page[0].text, "my pin is yak5512");
        assert!(page[1].change.is_some());
        assert!(!store.search_direct(None, "yak5512", 10).unwrap().is_empty());
    }
    assert!(
        every_file(&dir)
            .iter()
            .any(|(_, b)| contains(b, "zebra7731"))
    );
    {
        let store = Store::open(&dir).unwrap();
        let delete = dm(
            &bob,
            me.public(),
            "(deleted a message)",
            Some(&about(ChangeKind::Delete)),
            4,
        );
        store.receive_direct(&delete, true, UnixMillis(5)).unwrap();
        // Only the delete is left of it (a page replays it; nothing it names is shown).
        let page = store.direct_page(bob.public(), 10).unwrap();
        assert!(page.iter().all(|m| m.change.is_some()), "{page:?}");
        assert!(store.search_direct(None, "yak5512", 10).unwrap().is_empty());
    }
    for (path, bytes) in every_file(&dir) {
        for word in ["zebra7731", "yak5512"] {
            assert!(!contains(&bytes, word), "{word} in {}", path.display());
        }
    }
}

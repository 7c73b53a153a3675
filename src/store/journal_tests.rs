use super::*;
use crate::store::tests::{message_record, tempdir};

const TOPIC: TopicId = TopicId::from_bytes([5; 32]);
const NOW: UnixMillis = UnixMillis(1_750_000_000_000);

/// Lines of every shape the database keeps: plain, an action with a reply, each change.
fn lines() -> Vec<Record> {
    let first = message_record("first");
    let Record::Message(original) = &first else {
        unreachable!()
    };
    let mut shaped = vec![first.clone()];
    let variants = [
        (true, None),
        (false, Some(ChangeKind::Edit)),
        (
            false,
            Some(ChangeKind::React {
                emoji: "👍".into(),
                on: true,
            }),
        ),
        (false, Some(ChangeKind::Delete)),
    ];
    for (i, (action, kind)) in variants.into_iter().enumerate() {
        let mut line = original.clone();
        let text = format!("line {i}");
        line.id = MessageId::of(text.as_bytes());
        line.envelope = text.as_bytes().into();
        line.text = text;
        line.action = action;
        line.sent = UnixMillis(NOW.0 + i as u64 + 1);
        line.reply_to = action.then(|| Box::new(original.id));
        line.change = kind.map(|kind| {
            Box::new(LineChange {
                to: original.id,
                kind,
            })
        });
        shaped.push(Record::Message(line));
    }
    shaped
}

/// Every column of every row, to compare two databases.
fn rows(store: &Store) -> Vec<Vec<String>> {
    let mut stmt = store
        .conn
        .prepare("SELECT * FROM messages ORDER BY id")
        .unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |row| {
        (0..columns)
            .map(|i| row.get_ref(i).map(|value| format!("{value:?}")))
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn journal_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join(JOURNAL_FILE)).unwrap()
}

#[test]
fn lines_in_the_journal_reach_the_database_at_the_next_start_as_if_saved_directly() {
    let dir = tempdir();
    let records = lines();
    {
        let store = Store::open(&dir).unwrap();
        // Two entries, as two turns would write them; then the process dies (no commit).
        let (one, two) = records.split_at(2);
        assert!(store.journal_records(one.iter().map(|r| (TOPIC, r, NOW))));
        assert!(store.journal_records(two.iter().map(|r| (TOPIC, r, NOW))));
        assert_eq!(store.message_count(TOPIC).unwrap(), 0, "not committed yet");
    }
    let direct = Store::in_memory().unwrap();
    direct
        .save_all(records.iter().map(|r| (TOPIC, r, NOW)))
        .unwrap();

    let store = Store::open(&dir).unwrap();
    assert_eq!(rows(&store), rows(&direct));
    assert!(journal_bytes(&dir).iter().all(|&b| b == 0), "cleared");
    drop(store);
    // Moved once: a second start finds nothing more.
    let store = Store::open(&dir).unwrap();
    assert_eq!(rows(&store), rows(&direct));
}

#[test]
fn a_torn_last_entry_is_dropped_and_the_whole_ones_before_it_kept() {
    let dir = tempdir();
    let records = lines();
    {
        let store = Store::open(&dir).unwrap();
        assert!(store.journal_records(records[..1].iter().map(|r| (TOPIC, r, NOW))));
        assert!(store.journal_records(records[1..2].iter().map(|r| (TOPIC, r, NOW))));
    }
    let whole = journal_bytes(&dir);
    let end = whole.iter().rposition(|&b| b != 0).unwrap();
    let path = dir.join(JOURNAL_FILE);
    std::fs::write(&path, &whole[..end - 5]).unwrap();

    let store = Store::open(&dir).unwrap();
    let texts: Vec<String> = store
        .export(TOPIC)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, ["first"]);
    assert!(journal_bytes(&dir).iter().all(|&b| b == 0));
}

#[test]
fn garbage_or_an_oversized_file_never_stops_a_start() {
    let dir = tempdir();
    drop(Store::open(&dir).unwrap());
    let path = dir.join(JOURNAL_FILE);
    for garbage in [
        vec![0xff; 64],
        // A length that points past the end.
        [&u32::MAX.to_le_bytes()[..], &[1; 20]].concat(),
        // Longer than parlor ever writes: cut back to the limit.
        vec![7; MAX_JOURNAL_BYTES as usize + 4096],
    ] {
        std::fs::write(&path, &garbage).unwrap();
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.message_count(TOPIC).unwrap(), 0);
        let left = journal_bytes(&dir);
        assert!(left.len() as u64 <= MAX_JOURNAL_BYTES);
        assert!(left.iter().all(|&b| b == 0));
    }
}

#[test]
fn clearing_overwrites_what_was_written_and_the_next_entry_starts_at_the_beginning() {
    let dir = tempdir();
    let store = Store::open(&dir).unwrap();
    let records = lines();
    assert!(store.journal_records(records.iter().map(|r| (TOPIC, r, NOW))));
    let written = journal_bytes(&dir);
    assert!(
        written.windows(5).any(|w| w == b"first"),
        "the text is there"
    );
    store.clear_journal();
    let cleared = journal_bytes(&dir);
    assert_eq!(cleared.len(), written.len(), "the same blocks, overwritten");
    assert!(cleared.iter().all(|&b| b == 0));
    assert!(store.journal_records(records[..1].iter().map(|r| (TOPIC, r, NOW))));
    assert!(
        journal_bytes(&dir)[..4] != [0; 4],
        "written from the start again"
    );
}

#[test]
fn what_is_not_a_line_or_does_not_fit_is_refused_for_a_commit() {
    let dir = tempdir();
    let store = Store::open(&dir).unwrap();
    let pin = Record::Pin {
        key: "ann".into(),
        id: crate::proto::SecretKey::generate().public(),
    };
    assert!(!store.journal_records(std::iter::once((TOPIC, &pin, NOW))));
    let Record::Message(mut big) = message_record("big") else {
        unreachable!()
    };
    big.text = "x".repeat(MAX_JOURNAL_BYTES as usize / 2);
    let big = Record::Message(big);
    assert!(store.journal_records(std::iter::once((TOPIC, &big, NOW))));
    assert!(
        !store.journal_records(std::iter::once((TOPIC, &big, NOW))),
        "full"
    );
    // Without a data directory there is no journal.
    let memory = Store::in_memory().unwrap();
    assert!(!memory.journal_records(std::iter::once((TOPIC, &big, NOW))));
}

#[test]
fn a_reader_moves_the_journal_when_no_chat_runs_and_leaves_it_to_a_running_one() {
    let dir = tempdir();
    let records = lines();
    let running = Store::open(&dir).unwrap();
    assert!(running.journal_records(records[..1].iter().map(|r| (TOPIC, r, NOW))));
    let reader = Store::open_reader(&dir).unwrap().unwrap();
    assert_eq!(reader.message_count(TOPIC).unwrap(), 0, "the chat's own");
    drop(reader);
    drop(running);
    let reader = Store::open_reader(&dir).unwrap().unwrap();
    assert_eq!(reader.message_count(TOPIC).unwrap(), 1);
    assert!(journal_bytes(&dir).iter().all(|&b| b == 0));
}

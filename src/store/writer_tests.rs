use super::*;

fn line(text: &str) -> Record {
    crate::store::tests::message_record(text)
}

#[tokio::test]
async fn saves_are_committed_in_batches_and_acknowledged_in_order() {
    let thread = StoreThread::spawn(Store::in_memory().unwrap()).unwrap();
    let store = thread.handle();
    let topic = TopicId::from_bytes([7; 32]);
    let (done, mut committed) = mpsc::unbounded_channel();
    // Hold the thread so that the saves queue up and form one batch.
    let release = store.stall();
    for seq in 1..=5 {
        let text = format!("line {seq}");
        store
            .save(topic, vec![line(&text)], UnixMillis(1), seq, &done, false)
            .unwrap();
    }
    drop(release);
    let ack = committed.recv().await.unwrap();
    assert_eq!(
        ack,
        Committed {
            seq: 5,
            error: None
        },
        "one batch, one answer"
    );
    let count = store.call(move |s| s.message_count(topic)).await.unwrap();
    assert_eq!(count.unwrap(), 5);
    thread.close(Duration::from_secs(5)).await;
    assert_eq!(store.call(|_| ()).await, Err(StoreGone));
}

#[tokio::test]
async fn calls_run_after_the_writes_queued_before_them() {
    let thread = StoreThread::spawn(Store::in_memory().unwrap()).unwrap();
    let store = thread.handle();
    let topic = TopicId::from_bytes([8; 32]);
    let (done, _committed) = mpsc::unbounded_channel();
    for seq in 1..=(MAX_BATCH as u64 + 20) {
        store
            .save(
                topic,
                vec![line(&format!("m{seq}"))],
                UnixMillis(1),
                seq,
                &done,
                false,
            )
            .unwrap();
    }
    let count = store.call(move |s| s.message_count(topic)).await.unwrap();
    assert_eq!(count.unwrap(), MAX_BATCH as u64 + 20);
    thread.close(Duration::from_secs(5)).await;
}

/// A store thread on a data directory (with its journal), and a reader of its database.
fn on_disk() -> (StoreThread, std::path::PathBuf) {
    let dir = crate::store::tests::tempdir();
    let thread = StoreThread::spawn(Store::open(&dir).unwrap()).unwrap();
    (thread, dir)
}

/// Lines in the database, as another process (`parlor export`) sees it.
fn committed_lines(dir: &std::path::Path, topic: TopicId) -> u64 {
    let reader = Store::open_reader(dir).unwrap().unwrap();
    reader.message_count(topic).unwrap()
}

fn journal_is_clear(dir: &std::path::Path) -> bool {
    let bytes = std::fs::read(dir.join(crate::store::journal::JOURNAL_FILE)).unwrap();
    bytes.iter().all(|&b| b == 0)
}

#[tokio::test]
async fn an_own_line_is_acknowledged_from_the_journal_and_committed_with_the_next_commit() {
    let (thread, dir) = on_disk();
    let store = thread.handle();
    let topic = TopicId::from_bytes([9; 32]);
    let (done, mut committed) = mpsc::unbounded_channel();
    // Hold the thread so that the acknowledgement and the check below come before the hold
    // runs out, whatever the machine's load.
    let release = store.stall();
    store
        .save(topic, vec![line("mine")], UnixMillis(1), 1, &done, true)
        .unwrap();
    let stalled = store.stall();
    drop(release);
    let ack = committed.recv().await.unwrap();
    assert_eq!(
        ack,
        Committed {
            seq: 1,
            error: None
        }
    );
    assert_eq!(committed_lines(&dir, topic), 0, "in the journal only");
    assert!(!journal_is_clear(&dir));
    drop(stalled);
    // Nothing else comes: the hold runs out and the line is committed, the journal cleared.
    let deadline = Instant::now() + Duration::from_secs(10);
    while committed_lines(&dir, topic) == 0 || !journal_is_clear(&dir) {
        assert!(Instant::now() < deadline, "never committed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    thread.close(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn queries_and_closing_see_held_lines_and_others_lines_keep_their_order() {
    let (thread, dir) = on_disk();
    let store = thread.handle();
    let topic = TopicId::from_bytes([10; 32]);
    let (done, mut committed) = mpsc::unbounded_channel();
    let release = store.stall();
    // Someone's line (nothing waits for it), then ours: one batch, held together.
    store
        .save(topic, vec![line("theirs")], UnixMillis(1), 1, &done, false)
        .unwrap();
    store
        .save(topic, vec![line("mine")], UnixMillis(2), 2, &done, true)
        .unwrap();
    let stalled = store.stall();
    drop(release);
    assert_eq!(committed.recv().await.unwrap().seq, 2, "one answer");
    assert_eq!(committed_lines(&dir, topic), 0);
    drop(stalled);
    let texts = store
        .call(move |s| {
            s.export(topic)
                .map(|all| all.into_iter().map(|m| m.text).collect::<Vec<_>>())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(texts, ["theirs", "mine"], "a query sees both, in order");

    store
        .save(topic, vec![line("last")], UnixMillis(3), 3, &done, true)
        .unwrap();
    assert_eq!(committed.recv().await.unwrap().seq, 3);
    thread.close(Duration::from_secs(5)).await;
    assert_eq!(
        committed_lines(&dir, topic),
        3,
        "closing commits what is held"
    );
    assert!(journal_is_clear(&dir));
}

#[tokio::test]
async fn held_lines_whose_commit_fails_stay_in_the_journal_and_go_with_a_later_commit() {
    let (thread, dir) = on_disk();
    let store = thread.handle();
    let topic = TopicId::from_bytes([11; 32]);
    let (done, mut committed) = mpsc::unbounded_channel();
    let read_only = |on: bool| move |s: &Store| s.conn.pragma_update(None, "query_only", on);
    store.call(read_only(true)).await.unwrap().unwrap();
    store
        .save(topic, vec![line("mine")], UnixMillis(1), 1, &done, true)
        .unwrap();
    assert_eq!(
        committed.recv().await.unwrap().error,
        None,
        "in the journal"
    );
    // A query commits what is held first, and that commit fails (as on a full disk):
    // nothing is lost.
    store.call(|_| ()).await.unwrap();
    assert_eq!(committed_lines(&dir, topic), 0);
    assert!(!journal_is_clear(&dir), "still in the journal");
    store.call(read_only(false)).await.unwrap().unwrap();
    let count = store.call(move |s| s.message_count(topic)).await.unwrap();
    assert_eq!(count.unwrap(), 1, "committed with the next commit");
    assert!(journal_is_clear(&dir));
    assert!(
        committed.try_recv().is_err(),
        "told once, and never of an error"
    );
    thread.close(Duration::from_secs(5)).await;
}

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::*;
use crate::proto::{TopicId, UnixMillis};
use crate::store::{Committed, Store, StoreHandle, StoreThread};

/// A job that records `n` in `ran` when the store thread runs it.
fn record(store: &StoreHandle, ran: &Arc<Mutex<Vec<u32>>>, n: u32) {
    let ran = ran.clone();
    store.spawn_call(move |_| ran.lock().unwrap().push(n));
}

/// A store thread, a handle to it, and where [`record`]ed jobs say they ran.
fn store_and_log() -> (StoreThread, StoreHandle, Arc<Mutex<Vec<u32>>>) {
    let thread = StoreThread::spawn(Store::in_memory().unwrap()).unwrap();
    let store = thread.handle();
    (thread, store, Arc::new(Mutex::new(Vec::new())))
}

/// A single-threaded runtime without the park hook (nothing wakes the store thread for it).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Everything the store thread was handed before this returns has run: a query sent from a
/// thread that does not defer, answered.
fn store_caught_up(store: &StoreHandle) {
    let store = store.clone();
    std::thread::spawn(move || {
        let (reply, answer) = std::sync::mpsc::channel();
        store.spawn_call(move |_| {
            let _ = reply.send(());
        });
        answer.recv_timeout(Duration::from_secs(10)).unwrap();
    })
    .join()
    .unwrap();
}

#[test]
fn a_deferring_thread_s_jobs_wait_until_it_wakes_the_store_thread() {
    let (_thread, store, ran) = store_and_log();
    let _defer = defer_store_wakeups();
    record(&store, &ran, 1);
    record(&store, &ran, 2);
    store_caught_up(&store);
    assert!(ran.lock().unwrap().is_empty(), "held on this thread");
    wake_store_thread();
    store_caught_up(&store);
    assert_eq!(*ran.lock().unwrap(), [1, 2]);
}

#[test]
fn dropping_the_guard_hands_over_what_is_held_and_stops_deferring() {
    let (_thread, store, ran) = store_and_log();
    let defer = defer_store_wakeups();
    record(&store, &ran, 1);
    drop(defer);
    store_caught_up(&store);
    assert_eq!(*ran.lock().unwrap(), [1]);
    record(&store, &ran, 2);
    store_caught_up(&store);
    assert_eq!(*ran.lock().unwrap(), [1, 2], "sent at once");
}

#[test]
fn a_query_goes_at_once_after_what_was_held() {
    let (_thread, store, ran) = store_and_log();
    let _defer = defer_store_wakeups();
    record(&store, &ran, 1);
    record(&store, &ran, 2);
    let runtime = runtime();
    let seen = ran.clone();
    let answer = runtime.block_on(store.call(move |_| seen.lock().unwrap().clone()));
    assert_eq!(answer.unwrap(), [1, 2], "the held jobs ran first");
}

#[test]
fn held_jobs_go_once_enough_piled_up_or_the_oldest_waited_long_enough() {
    let (_thread, store, ran) = store_and_log();
    let _defer = defer_store_wakeups();
    for n in 0..MOST_DEFERRED as u32 {
        record(&store, &ran, n);
    }
    store_caught_up(&store);
    assert_eq!(
        ran.lock().unwrap().len(),
        MOST_DEFERRED,
        "a full queue goes"
    );

    record(&store, &ran, 1000);
    std::thread::sleep(LONGEST_DEFERRED);
    record(&store, &ran, 1001);
    store_caught_up(&store);
    assert_eq!(
        ran.lock().unwrap()[MOST_DEFERRED..],
        [1000, 1001],
        "an old job goes"
    );
}

#[test]
fn the_park_hook_hands_over_an_awaited_save_when_the_runtime_is_idle() {
    let (_thread, store, _) = store_and_log();
    let _defer = defer_store_wakeups();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(wake_store_thread)
        .build()
        .unwrap();
    let topic = TopicId::from_bytes([3; 32]);
    let line = crate::store::tests::message_record("held until idle");
    let (done, mut committed) = mpsc::unbounded_channel();
    store
        .save(topic, vec![line], UnixMillis(1), 1, &done, true)
        .unwrap();
    let ack = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), committed.recv()).await });
    assert_eq!(
        ack.unwrap(),
        Some(Committed {
            seq: 1,
            error: None
        })
    );
}

#[test]
fn a_save_held_for_a_store_that_stopped_hears_so() {
    let (thread, store, _) = store_and_log();
    let runtime = runtime();
    runtime.block_on(thread.close(Duration::from_secs(5)));
    let _defer = defer_store_wakeups();
    let (done, mut committed) = mpsc::unbounded_channel();
    let line = crate::store::tests::message_record("too late");
    let topic = TopicId::from_bytes([4; 32]);
    store
        .save(topic, vec![line], UnixMillis(1), 7, &done, true)
        .unwrap();
    wake_store_thread();
    assert_eq!(
        committed.try_recv().unwrap(),
        Committed {
            seq: 7,
            error: Some("the history store has stopped".into())
        }
    );
}

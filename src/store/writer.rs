//! The store on its own thread: the network thread hands it work over a channel and never waits
//! on the disk.
//!
//! Received messages are group-committed: the thread takes every save that queued up while it
//! was busy (up to [`MAX_BATCH`] records) and writes them in one transaction, then tells each
//! session which of its saves are on disk ([`Committed`]). Sessions show a message only after
//! that, so "saved before shown" holds and `kill -9` loses nothing that was shown. Under light
//! load a batch is one message and is written at once (no waiting to fill a batch); under
//! heavy load batches grow and the cost of a commit is shared.
//!
//! A save that something shown waits for (our own line) is written to the journal instead
//! (see [`super::journal`]): one `write`, acknowledged at once, and held in memory until the
//! next commit takes it with whatever else comes ([`HOLD`] at the latest). Saves that came
//! with it and that nothing waits for (others' lines) are held with it, in memory only, to
//! keep their order.
//!
//! Queries (search, loading history, remembering rooms) run on the same thread, in order with
//! the writes (held lines are committed first), and answer over a oneshot channel.

use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::housekeeping::{CHECKPOINT_WHEN_QUIET, Housekeeping};
use super::{Store, StoreError};
use crate::proto::room::Record;
use crate::proto::{TopicId, UnixMillis};

/// Most records written in one transaction.
pub const MAX_BATCH: usize = 512;
/// How long a save in the journal waits for a commit to take it with others: our lines at
/// 5 a second share one commit, and a reader in another process (`parlor export`) sees
/// them this much later.
const HOLD: Duration = Duration::from_millis(250);
/// The longest wait before trying again to commit held saves whose commit failed.
const RETRY_AT_MOST: Duration = Duration::from_secs(30);

/// A session's saves up to and including `seq` are on disk (or failed with `error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub seq: u64,
    pub error: Option<String>,
}

/// Where a session hears that its saves were committed.
pub type CommitSender = mpsc::UnboundedSender<Committed>;

type Call = Box<dyn FnOnce(&Store) + Send>;

/// One turn's records of one session, acknowledged as `seq` on `done`.
pub(super) struct Save {
    topic: TopicId,
    records: Vec<Record>,
    now: UnixMillis,
    seq: u64,
    done: CommitSender,
    /// Something shown waits for it: the journal may take it (see the module's doc).
    awaited: bool,
}

pub(super) enum Job {
    Save(Save),
    Call(Call),
    /// Test hook: hold the thread, as a slow disk would, until the sender is dropped or sends.
    Stall(std_mpsc::Receiver<()>),
    /// Finish what came before, then stop.
    Close(oneshot::Sender<()>),
}

impl Job {
    /// The store thread is gone: a save hears so (a query's reply channel closes by itself).
    pub(super) fn refuse(self) {
        if let Job::Save(Save { seq, done, .. }) = self {
            let error = Some(StoreGone.to_string());
            let _ = done.send(Committed { seq, error });
        }
    }
}

/// The store thread is gone (closed, or it panicked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the history store has stopped")]
pub struct StoreGone;

/// A cheap, cloneable way to reach the store thread.
#[derive(Clone)]
pub struct StoreHandle {
    jobs: std_mpsc::Sender<Job>,
}

/// The owner's side: closing waits until everything queued is on disk.
pub struct StoreThread {
    handle: StoreHandle,
    thread: Option<JoinHandle<()>>,
}

impl StoreThread {
    pub fn spawn(store: Store) -> std::io::Result<Self> {
        let (jobs, queue) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("parlor-store".into())
            .spawn(move || {
                super::priority::background();
                serve(store, queue)
            })?;
        Ok(Self {
            handle: StoreHandle { jobs },
            thread: Some(thread),
        })
    }

    pub fn handle(&self) -> StoreHandle {
        self.handle.clone()
    }

    /// Write everything queued so far, then stop the thread (closing the database and
    /// releasing the instance lock). Waits at most `limit` for a stuck disk.
    pub async fn close(mut self, limit: Duration) {
        let (done, finished) = oneshot::channel();
        if super::wake::send(&self.handle.jobs, Job::Close(done), true).is_ok() {
            let _ = tokio::time::timeout(limit, finished).await;
        }
        if let Some(thread) = self.thread.take()
            && thread.is_finished()
        {
            let _ = thread.join();
        }
    }
}

impl StoreHandle {
    /// Queue `records` for the next group commit; `done` hears `seq` once they are on disk.
    /// `awaited`: something shown waits for them, so they may go to the journal at once.
    pub fn save(
        &self,
        topic: TopicId,
        records: Vec<Record>,
        now: UnixMillis,
        seq: u64,
        done: &CommitSender,
        awaited: bool,
    ) -> Result<(), StoreGone> {
        let job = Job::Save(Save {
            topic,
            records,
            now,
            seq,
            done: done.clone(),
            awaited,
        });
        super::wake::send(&self.jobs, job, false)
    }

    /// Run `f` on the store thread, after everything queued before it.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> Result<T, StoreGone> {
        let (reply, answer) = oneshot::channel();
        let call: Call = Box::new(move |store| {
            let _ = reply.send(f(store));
        });
        super::wake::send(&self.jobs, Job::Call(call), true)?;
        answer.await.map_err(|_| StoreGone)
    }

    /// Queue `f` without waiting for it (bookkeeping whose failure only gets logged).
    pub fn spawn_call(&self, f: impl FnOnce(&Store) + Send + 'static) {
        let _ = super::wake::send(&self.jobs, Job::Call(Box::new(f)), false);
    }

    /// Test hook: the store thread stops at this point of its queue, as if a write took
    /// forever, until `release` sends or is dropped.
    #[doc(hidden)]
    pub fn stall(&self) -> std_mpsc::SyncSender<()> {
        let (release, wait) = std_mpsc::sync_channel(1);
        let _ = super::wake::send(&self.jobs, Job::Stall(wait), true);
        release
    }
}

fn serve(store: Store, queue: std_mpsc::Receiver<Job>) {
    // A job taken while gathering a batch that is not a save: run it after the batch.
    let mut next: Option<Job> = None;
    let mut chores = Housekeeping::default();
    let mut held = Held::default();
    loop {
        let job = match next.take() {
            Some(job) => job,
            None if held.due() => {
                commit(&store, &mut chores, &mut held, Vec::new());
                continue;
            }
            None if chores.overdue() => {
                chores.run(&store, false);
                continue;
            }
            None => match held.wait(chores.idle_wait()) {
                Some(wait) => match queue.recv_timeout(wait) {
                    Ok(job) => job,
                    Err(std_mpsc::RecvTimeoutError::Timeout) if !held.is_empty() => continue,
                    Err(std_mpsc::RecvTimeoutError::Timeout) => {
                        chores.run(&store, wait >= CHECKPOINT_WHEN_QUIET);
                        continue;
                    }
                    Err(std_mpsc::RecvTimeoutError::Disconnected) => break,
                },
                None => match queue.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                },
            },
        };
        if matches!(job, Job::Call(_) | Job::Close(_)) && !held.is_empty() {
            // Queries see every line shown; the thread never stops with lines held.
            commit(&store, &mut chores, &mut held, Vec::new());
        }
        match job {
            Job::Save(first) => {
                let mut count = first.records.len();
                let mut batch = vec![first];
                while count < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(Job::Save(save)) => {
                            count += save.records.len();
                            batch.push(save);
                        }
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                chores.unindexed += count;
                if let Some(batch) = held.journal(&store, batch) {
                    commit(&store, &mut chores, &mut held, batch);
                }
            }
            Job::Call(call) => call(&store),
            Job::Stall(wait) => {
                let _ = wait.recv();
            }
            Job::Close(done) => {
                drop(store);
                // Whatever was still sent after the close is answered, so nothing waits on it.
                while let Ok(job) = queue.try_recv() {
                    job.refuse();
                }
                // Sends from now on fail at once (and are answered by their senders).
                drop(queue);
                let _ = done.send(());
                return;
            }
        }
    }
    // Every handle is gone without a close: what is held still goes to the database.
    if !held.is_empty() {
        commit(&store, &mut chores, &mut held, Vec::new());
    }
}

/// Saves on disk in the journal, acknowledged, not yet in the database.
struct Held {
    records: Vec<(TopicId, Vec<Record>, UnixMillis)>,
    /// When the first of them was journaled (or the last commit of them failed).
    since: Option<Instant>,
    /// How long they wait from `since`: [`HOLD`], doubled after each failed commit up to
    /// [`RETRY_AT_MOST`] (a full disk is not retried in a tight loop).
    delay: Duration,
}

impl Default for Held {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            since: None,
            delay: HOLD,
        }
    }
}

impl Held {
    fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// A commit is owed now.
    fn due(&self) -> bool {
        self.since
            .is_some_and(|since| since.elapsed() >= self.delay)
    }

    /// How long to wait for work: until the held saves are due, or `idle` (housekeeping).
    fn wait(&self, idle: Option<Duration>) -> Option<Duration> {
        let held = self
            .since
            .map(|since| self.delay.saturating_sub(since.elapsed()));
        match (held, idle) {
            (Some(held), Some(idle)) => Some(held.min(idle)),
            (held, idle) => held.or(idle),
        }
    }

    /// Journal the awaited saves of `batch` and hold the whole batch (the others, lines that
    /// nothing shown waits for, go with them to keep their order), acknowledging every save;
    /// `Some(batch)`: nothing in it is awaited, or the journal or the hold is full, so it is
    /// to be committed now.
    fn journal(&mut self, store: &Store, batch: Vec<Save>) -> Option<Vec<Save>> {
        let held: usize = self
            .records
            .iter()
            .map(|(_, records, _)| records.len())
            .sum();
        let fits = held + batch.iter().map(|save| save.records.len()).sum::<usize>() <= MAX_BATCH;
        if !fits || !batch.iter().any(|save| save.awaited) {
            return Some(batch);
        }
        let awaited = batch.iter().filter(|save| save.awaited);
        if !store.journal_records(awaited.flat_map(Save::rows)) {
            return Some(batch);
        }
        acknowledge(batch.iter().map(|save| (save.seq, &save.done)), None);
        self.since.get_or_insert_with(Instant::now);
        self.records.extend(
            batch
                .into_iter()
                .map(|save| (save.topic, save.records, save.now)),
        );
        None
    }
}

/// Each of `records` with its room and time, as [`Store::save_all`] takes them.
fn rows(
    topic: TopicId,
    records: &[Record],
    now: UnixMillis,
) -> impl Iterator<Item = (TopicId, &Record, UnixMillis)> {
    records.iter().map(move |record| (topic, record, now))
}

impl Save {
    fn rows(&self) -> impl Iterator<Item = (TopicId, &Record, UnixMillis)> {
        rows(self.topic, &self.records, self.now)
    }
}

/// One transaction for what is held and the whole batch; then every session hears its
/// highest `seq`. If it fails, the held saves stay held (they are in the journal) and go with
/// the next commit.
fn commit(store: &Store, chores: &mut Housekeeping, held: &mut Held, batch: Vec<Save>) {
    chores.commits += 1;
    let held_rows = held
        .records
        .iter()
        .flat_map(|(topic, records, now)| rows(*topic, records, *now));
    let result = store.save_all(held_rows.chain(batch.iter().flat_map(Save::rows)));
    let error = result.err().map(|err: StoreError| err.to_string());
    match &error {
        Some(error) => {
            tracing::warn!(
                "a batch of {} saves failed ({} more wait in the journal): {error}",
                batch.len(),
                held.records.len()
            );
            if !held.is_empty() {
                held.since = Some(Instant::now());
                held.delay = (held.delay * 2).min(RETRY_AT_MOST);
            }
        }
        None => {
            if !held.is_empty() {
                store.clear_journal();
            }
            *held = Held::default();
        }
    }
    acknowledge(batch.iter().map(|save| (save.seq, &save.done)), error);
}

/// Tell each session the highest of its `seq`s (saves of one session arrive in order).
fn acknowledge<'a>(saves: impl Iterator<Item = (u64, &'a CommitSender)>, error: Option<String>) {
    let mut last: Vec<(u64, &CommitSender)> = Vec::new();
    for (seq, done) in saves {
        match last.iter_mut().find(|(_, d)| d.same_channel(done)) {
            Some(entry) => entry.0 = seq,
            None => last.push((seq, done)),
        }
    }
    for (seq, done) in last {
        let _ = done.send(Committed {
            seq,
            error: error.clone(),
        });
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;

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
//! Queries (search, loading history, remembering rooms) run on the same thread, in order with
//! the writes, and answer over a oneshot channel.

use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::messages::INDEX_CHUNK;
use super::{Store, StoreError};
use crate::proto::room::Record;
use crate::proto::{TopicId, UnixMillis};

/// Most records written in one transaction.
pub const MAX_BATCH: usize = 512;
/// Housekeeping (adding saves to the full-text index, checkpointing the write-ahead log into the
/// database) waits until the thread has had nothing to do for this long, so it never sits
/// between a message and the screen: indexing in every commit cost more than the message
/// itself, and a checkpoint ends with an fsync that takes milliseconds. Well above the
/// sessions' save linger (250 ms), which at 250 ms made every linger a "quiet moment" in a
/// room that talks steadily (the 10-node bench showed no difference either way: own-phase
/// p99 1.85-2.72 ms before, 2.09-2.72 after). A search indexes what is left first, so
/// nothing is missed meanwhile; a room that never pauses for 2 s has the backlogs below.
const HOUSEKEEPING_WHEN_IDLE: Duration = Duration::from_secs(2);
/// Past this many unindexed saves, index even while busy (a search then indexes at most this
/// many first).
const INDEX_BACKLOG: usize = 5_000;
/// Past this many commits since the last checkpoint, checkpoint even while busy (bounds the
/// log: a commit is a few pages, so ~10 MB).
const CHECKPOINT_BACKLOG: usize = 500;
/// A checkpoint (copying the write-ahead log into the database, then an fsync) waits for this
/// many commits and a quiet moment, or for a long quiet: at chat rates a checkpoint after
/// every line cost more CPU than everything else a received line costs (30 processes on 2
/// cores: 0.6 s of CPU for 20 lines).
const CHECKPOINT_AFTER: usize = 256;
const CHECKPOINT_WHEN_QUIET: Duration = Duration::from_secs(30);

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
struct Save {
    topic: TopicId,
    records: Vec<Record>,
    now: UnixMillis,
    seq: u64,
    done: CommitSender,
}

enum Job {
    Save(Save),
    Call(Call),
    /// Test hook: hold the thread, as a slow disk would, until the sender is dropped or sends.
    Stall(std_mpsc::Receiver<()>),
    /// Finish what came before, then stop.
    Close(oneshot::Sender<()>),
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
        if self.handle.jobs.send(Job::Close(done)).is_ok() {
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
    pub fn save(
        &self,
        topic: TopicId,
        records: Vec<Record>,
        now: UnixMillis,
        seq: u64,
        done: &CommitSender,
    ) -> Result<(), StoreGone> {
        let job = Job::Save(Save {
            topic,
            records,
            now,
            seq,
            done: done.clone(),
        });
        self.jobs.send(job).map_err(|_| StoreGone)
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
        self.jobs.send(Job::Call(call)).map_err(|_| StoreGone)?;
        answer.await.map_err(|_| StoreGone)
    }

    /// Queue `f` without waiting for it (bookkeeping whose failure only gets logged).
    pub fn spawn_call(&self, f: impl FnOnce(&Store) + Send + 'static) {
        let _ = self.jobs.send(Job::Call(Box::new(f)));
    }

    /// Test hook: the store thread stops at this point of its queue, as if a write took
    /// forever, until `release` sends or is dropped.
    #[doc(hidden)]
    pub fn stall(&self) -> std_mpsc::SyncSender<()> {
        let (release, wait) = std_mpsc::sync_channel(1);
        let _ = self.jobs.send(Job::Stall(wait));
        release
    }
}

fn serve(store: Store, queue: std_mpsc::Receiver<Job>) {
    // A job taken while gathering a batch that is not a save: run it after the batch.
    let mut next: Option<Job> = None;
    let mut chores = Housekeeping::default();
    loop {
        let job = match next.take() {
            Some(job) => job,
            None if chores.overdue() => {
                chores.run(&store, false);
                continue;
            }
            None => match chores.idle_wait() {
                Some(wait) => match queue.recv_timeout(wait) {
                    Ok(job) => job,
                    Err(std_mpsc::RecvTimeoutError::Timeout) => {
                        chores.run(&store, wait >= CHECKPOINT_WHEN_QUIET);
                        continue;
                    }
                    Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
                },
                None => match queue.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                },
            },
        };
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
                chores.commits += 1;
                commit(&store, batch);
            }
            Job::Call(call) => call(&store),
            Job::Stall(wait) => {
                let _ = wait.recv();
            }
            Job::Close(done) => {
                drop(store);
                // Whatever was still sent after the close is answered, so nothing waits on it.
                while let Ok(job) = queue.try_recv() {
                    if let Job::Save(Save { seq, done, .. }) = job {
                        let error = Some(StoreGone.to_string());
                        let _ = done.send(Committed { seq, error });
                    }
                }
                let _ = done.send(());
                return;
            }
        }
    }
}

/// What the store thread owes the database once it is idle.
#[derive(Default)]
struct Housekeeping {
    /// Saves not yet in the full-text index.
    unindexed: usize,
    /// Commits since the last checkpoint.
    commits: usize,
}

impl Housekeeping {
    /// How long to wait for work before doing chores: a short quiet moment for indexing and
    /// a due checkpoint, a long one for a checkpoint of a few commits; `None`: nothing owed.
    fn idle_wait(&self) -> Option<Duration> {
        if self.unindexed > 0 || self.commits >= CHECKPOINT_AFTER {
            Some(HOUSEKEEPING_WHEN_IDLE)
        } else if self.commits > 0 {
            Some(CHECKPOINT_WHEN_QUIET)
        } else {
            None
        }
    }

    fn overdue(&self) -> bool {
        self.unindexed >= INDEX_BACKLOG || self.commits >= CHECKPOINT_BACKLOG
    }

    /// Index a chunk of what was saved (what is left waits for the next quiet moment), then
    /// checkpoint if enough commits piled up (or `quiet`: nothing happened for long).
    fn run(&mut self, store: &Store, quiet: bool) {
        if self.unindexed > 0 {
            match store.index_pending(INDEX_CHUNK) {
                Ok(count) if count >= INDEX_CHUNK => {
                    self.unindexed = self.unindexed.saturating_sub(count).max(1);
                }
                Ok(_) => self.unindexed = 0,
                Err(err) => {
                    tracing::warn!("cannot update the search index: {err}");
                    self.unindexed = 0;
                }
            }
            self.commits += 1;
        }
        let due = self.commits >= CHECKPOINT_AFTER || (quiet && self.commits > 0);
        if (self.unindexed == 0 && due) || self.commits >= CHECKPOINT_BACKLOG {
            if let Err(err) = store.checkpoint() {
                tracing::warn!("cannot checkpoint the database: {err}");
            }
            self.commits = 0;
        }
    }
}

/// One transaction for the whole batch; then every session hears its highest `seq`.
fn commit(store: &Store, batch: Vec<Save>) {
    let result = store.save_all(batch.iter().flat_map(|save| {
        let (topic, now) = (save.topic, save.now);
        save.records.iter().map(move |r| (topic, r, now))
    }));
    let error = result.err().map(|err: StoreError| err.to_string());
    if let Some(error) = &error {
        tracing::warn!("a batch of {} saves failed: {error}", batch.len());
    }
    // Saves of one session arrive in order, so the last of each sender is its highest.
    let mut last: Vec<(u64, CommitSender)> = Vec::new();
    for Save { seq, done, .. } in batch {
        match last.iter_mut().find(|(_, d)| d.same_channel(&done)) {
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
mod tests {
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
                .save(topic, vec![line(&text)], UnixMillis(1), seq, &done)
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
                )
                .unwrap();
        }
        let count = store.call(move |s| s.message_count(topic)).await.unwrap();
        assert_eq!(count.unwrap(), MAX_BATCH as u64 + 20);
        thread.close(Duration::from_secs(5)).await;
    }
}

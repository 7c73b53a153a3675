//! What the store thread owes the database when it has a quiet moment: the full-text index of
//! what was saved, and checkpoints of the write-ahead log.

use std::time::Duration;

use super::Store;
use super::messages::INDEX_CHUNK;

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
pub(super) const CHECKPOINT_WHEN_QUIET: Duration = Duration::from_secs(30);

/// What the store thread owes the database once it is idle.
#[derive(Default)]
pub(super) struct Housekeeping {
    /// Saves not yet in the full-text index.
    pub(super) unindexed: usize,
    /// Commits since the last checkpoint.
    pub(super) commits: usize,
}

impl Housekeeping {
    /// How long to wait for work before doing chores: a short quiet moment for indexing and
    /// a due checkpoint, a long one for a checkpoint of a few commits; `None`: nothing owed.
    pub(super) fn idle_wait(&self) -> Option<Duration> {
        if self.unindexed > 0 || self.commits >= CHECKPOINT_AFTER {
            Some(HOUSEKEEPING_WHEN_IDLE)
        } else if self.commits > 0 {
            Some(CHECKPOINT_WHEN_QUIET)
        } else {
            None
        }
    }

    pub(super) fn overdue(&self) -> bool {
        self.unindexed >= INDEX_BACKLOG || self.commits >= CHECKPOINT_BACKLOG
    }

    /// Index a chunk of what was saved (what is left waits for the next quiet moment), then
    /// checkpoint if enough commits piled up (or `quiet`: nothing happened for long).
    pub(super) fn run(&mut self, store: &Store, quiet: bool) {
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

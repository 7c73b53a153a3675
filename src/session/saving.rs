//! Saving what the room asks to keep: numbered at once (the events that show it wait on the
//! number), handed to the store thread a moment later, after the front end got what was
//! ready.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::SessionEvent;
use super::actor::{Actor, LEAVE_SAVES};
use crate::proto::UnixMillis;
use crate::proto::room::Record;
use crate::store::{CommitSender, Committed};

/// Saves that nothing shown waits for (others' live lines and presence) wait this long (or
/// until this many piled up) before the store thread hears of them, so that received lines
/// are shown first and a burst is one commit: waking the store thread while a line was still
/// on its way through the room's members (30 processes on 2 cores) cost the line more than
/// the save, and a commit per line or two (25 ms here before) cost each received line ~100 µs
/// of CPU at chat rates. A crash loses at most this much of what others said from the disk
/// (and the store's hold, when our own line took them along: see `store::writer`); the next
/// catch-up brings it back.
const SAVE_LINGER: Duration = Duration::from_millis(250);
const SAVES_HELD: usize = 64;

/// Our saves: numbered, held a moment, handed to the store thread, acknowledged.
pub(super) struct Saving {
    /// The last save numbered (0: none yet).
    last: u64,
    /// Where the store thread acknowledges them.
    commit_tx: CommitSender,
    commits: mpsc::UnboundedReceiver<Committed>,
    /// Numbered but not yet handed to the store thread (see [`Actor::flush_saves`]), and
    /// whether something shown waits for each.
    unsaved: Vec<(u64, Vec<Record>, UnixMillis, bool)>,
    /// When the unsaved go at the latest.
    due: Option<Instant>,
}

impl Saving {
    pub(super) fn new() -> Self {
        let (commit_tx, commits) = mpsc::unbounded_channel();
        Self {
            last: 0,
            commit_tx,
            commits,
            unsaved: Vec::new(),
            due: None,
        }
    }

    /// The last save numbered: events made now wait on it (or the next one).
    pub(super) fn last(&self) -> u64 {
        self.last
    }

    /// The store thread's next acknowledgement (cancel-safe).
    pub(super) async fn next_commit(&mut self) -> Option<Committed> {
        self.commits.recv().await
    }
}

impl Actor {
    /// When the held saves go: now if many piled up, else [`SAVE_LINGER`] after the first.
    pub(super) fn saves_due(&mut self) -> Option<Instant> {
        if self.saving.unsaved.len() >= SAVES_HELD {
            self.flush_saves();
        }
        if !self.saving.unsaved.is_empty() && self.saving.due.is_none() {
            self.saving.due = Some(Instant::now() + SAVE_LINGER);
        }
        self.saving.due
    }

    /// Number the save now (events wait on that number). The store hears of it at once when
    /// `awaited` (an event waits for it: our own line, history, a change to a line); else
    /// after the linger, once the events this step made ready were handed over
    /// ([`Self::flush_saves`]).
    pub(super) fn save(&mut self, records: Vec<Record>, now: UnixMillis, awaited: bool) {
        if self.store.is_none() {
            return;
        }
        self.saving.last += 1;
        self.saving
            .unsaved
            .push((self.saving.last, records, now, awaited));
        // Our own line is shown once saved (its event waits): it goes at once, with any
        // save before it.
        if awaited {
            self.flush_saves();
        }
    }

    /// Hand the numbered saves to the store thread. Done after the front end got what was
    /// ready: waking the store thread first put its commit between a line and the screen.
    pub(super) fn flush_saves(&mut self) {
        self.saving.due = None;
        let Some(store) = &self.store else {
            return;
        };
        let topic = self.room.topic();
        let mut failed = None;
        for (seq, records, now, awaited) in std::mem::take(&mut self.saving.unsaved) {
            if store
                .save(topic, records, now, seq, &self.saving.commit_tx, awaited)
                .is_err()
            {
                failed = Some(seq);
            }
        }
        if let Some(seq) = failed {
            // The store is gone: show what it could not keep, and say so.
            self.on_committed(Committed {
                seq,
                error: Some("the history store has stopped".into()),
            });
        }
    }

    /// Give the front end every event ready that its queue has room for, without waiting.
    pub(super) fn hand_over_ready(&mut self) {
        while self.outbox.has_ready() {
            let Ok(permit) = self.events.try_reserve() else {
                break;
            };
            if let Some(event) = self.outbox.pop() {
                permit.send(event);
            }
        }
    }

    pub(super) fn on_committed(&mut self, committed: Committed) {
        if let Some(error) = committed.error {
            self.outbox
                .push_now(SessionEvent::Warning(format!("not saved to disk: {error}")));
        }
        self.outbox.committed(committed.seq);
    }

    /// Wait (bounded) until every save handed to the store is on disk, so what the events
    /// behind them show is kept.
    pub(super) async fn wait_for_saves(&mut self) {
        let saves = self.saving.last;
        let _ = tokio::time::timeout(LEAVE_SAVES, async {
            while saves != 0 && self.outbox.committed_up_to() < saves {
                match self.saving.commits.recv().await {
                    Some(committed) => self.on_committed(committed),
                    None => break,
                }
            }
        })
        .await;
    }
}

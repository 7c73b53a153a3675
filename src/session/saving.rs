//! Saving what the room asks to keep: numbered at once (the events that show it wait on the
//! number), handed to the store thread a moment later, after the front end got what was
//! ready.

use std::time::Duration;

use super::SessionEvent;
use super::actor::Actor;
use crate::proto::UnixMillis;
use crate::store::Committed;

/// Saves of what others said wait this long (or until this many piled up) before the store
/// thread hears of them, so that received lines are shown first and a burst is one wake-up:
/// waking the store thread while a line was still on its way through the room's members (30
/// processes on 2 cores) cost the line more than the save.
pub(super) const SAVE_LINGER: Duration = Duration::from_millis(25);
pub(super) const SAVES_HELD: usize = 64;

impl Actor {
    /// Number the save now (events wait on that number); the store hears of it once the
    /// events this step made ready were handed over ([`Self::flush_saves`]).
    pub(super) fn save(&mut self, records: Vec<crate::proto::room::Record>, now: UnixMillis) {
        if self.store.is_none() {
            return;
        }
        self.saves += 1;
        // Our own line is shown once saved: that save goes at once, with any before it.
        let me = self.room.id();
        let ours = records
            .iter()
            .any(|r| matches!(r, crate::proto::room::Record::Message(l) if l.author.id == me));
        self.unsaved.push((self.saves, records, now));
        if ours {
            self.flush_saves();
        }
    }

    /// Hand the numbered saves to the store thread. Done after the front end got what was
    /// ready: waking the store thread first put its commit between a line and the screen.
    pub(super) fn flush_saves(&mut self) {
        self.saves_due = None;
        let Some(store) = &self.store else {
            return;
        };
        let topic = self.room.topic();
        let mut failed = None;
        for (seq, records, now) in std::mem::take(&mut self.unsaved) {
            if store
                .save(topic, records, now, seq, &self.commit_tx)
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
}

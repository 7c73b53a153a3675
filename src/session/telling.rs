//! What the front end is told besides the room's events: `Ready` and what follows it, the
//! member list, the room's name, our name remembered for next time, and that our lines went.

use tokio::time::Instant;

use super::SessionEvent;
use super::actor::{Actor, HOLD_LIVE};

impl Actor {
    /// `/nick` took effect: the room is entered under this name next time (unless `--name`
    /// says otherwise).
    pub(super) fn remember_my_name(&self, name: String) {
        let Some(store) = &self.store else {
            return;
        };
        let topic = self.room.topic();
        store.spawn_call(move |s| {
            if let Err(err) = s.set_my_name(topic, &name) {
                tracing::warn!("cannot remember the name used in this room: {err}");
            }
        });
    }

    /// The member list to the front end, in order with the events before it. It waits for
    /// no save: who joined or left is shown before it is saved (`outbox::shown_before_saved`),
    /// and waiting for the saves that linger (others' presence, 250 ms) held a newcomer's
    /// first line behind the list that announced them.
    pub(super) fn send_members(&mut self) {
        self.outbox
            .push(SessionEvent::Members(self.room.members()), 0);
    }

    /// Show the live lines held behind the first catch-up, with their authors as the room
    /// knows them now: a line that arrived before its author's name (which a newcomer may
    /// learn only from the catch-up) is shown with the name, not a stranger's id.
    pub(super) fn release_held(&mut self) {
        for line in self.outbox.held_lines_mut() {
            line.author = self.room.member(&line.author.id);
        }
        self.outbox.release_held();
    }

    /// `Ready`, the member list, then the stored history. While the first catch-up runs, live
    /// messages wait behind it (bounded by [`HOLD_LIVE`]).
    pub(super) async fn become_ready(&mut self) {
        self.ready = true;
        let ticket = self.ticket().await;
        let ready = SessionEvent::Ready {
            me: self.room.me(),
            topic: self.room.topic(),
            ticket,
            room_name: self.room_name(),
            kind: match self.private {
                Some(_) => crate::model::RoomKind::Private,
                None => crate::model::RoomKind::Public,
            },
        };
        self.outbox.push(ready, 0);
        self.outbox
            .push(SessionEvent::Members(self.room.members()), 0);
        for event in std::mem::take(&mut self.restored) {
            self.outbox.push(SessionEvent::Room(event), 0);
        }
        if let Some(state) = self.state_event() {
            self.outbox.push(state, 0);
        }
        for warning in std::mem::take(&mut self.warnings) {
            self.outbox.push(SessionEvent::Warning(warning), 0);
        }
        if self.catch_up.running() > 0 {
            self.outbox.hold(Instant::now() + HOLD_LIVE);
        }
    }

    /// The room's name: the winning signed one, else the ticket's.
    pub(super) fn room_name(&self) -> Option<String> {
        if let Some(private) = &self.private {
            return Some(private.state.name().to_string()).filter(|n| !n.is_empty());
        }
        let signed = self.room.room_name().map(|named| named.name.clone());
        signed.or_else(|| self.room_name_hint.clone())
    }

    pub(super) fn answer_drained(&mut self) {
        // Waiters that gave up (a front end asking again) are not kept.
        self.drain_waiters.retain(|waiter| !waiter.is_closed());
        if self.room.queued() == 0 {
            for waiter in self.drain_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }
}

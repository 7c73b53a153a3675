//! What a session has to show, in order, and when each event may be shown.
//!
//! Two gates, both order-preserving:
//! - **saved before shown**: an event that follows a save waits until the store thread says
//!   that save is committed (events behind it wait too, so order never changes), except that
//!   what others are doing now passes our own lines waiting for their commit;
//! - **history first**: while the first catch-up runs, live messages are held (bounded in
//!   time by the caller), so what was said earlier prints before what is said now.

use std::collections::VecDeque;

use tokio::time::Instant;

use super::SessionEvent;
use crate::proto::room::Event;

/// Above this many events not yet taken by the front end, the session stops reading the
/// network until the front end catches up (the network's own queue absorbs the burst).
pub const HIGH_WATER: usize = 8192;

/// Whether `event` is shown without waiting for the save made with it: what others are doing
/// now (their live lines, presence, typing). A crash that catches their saves loses nothing
/// the next catch-up and presence do not bring back, and waiting put each save's linger
/// (and a commit) between a line and the screen: behind a burst of a thousand minted keys'
/// announcements an honest line waited ~25 ms (the sybil bench's p99). Our own lines,
/// history and changes to lines still wait (see the module doc).
pub fn shown_before_saved(event: &Event) -> bool {
    match event {
        Event::MessageReceived(line) => !line.history,
        Event::MemberJoined(_)
        | Event::MemberLeft { .. }
        | Event::MemberRenamed { .. }
        | Event::NameClash { .. }
        | Event::Typing(_)
        | Event::NeighborsChanged(_) => true,
        _ => false,
    }
}

/// Whether `event` may be shown ahead of our own lines waiting for their save: what others
/// are doing now. Our line stays "saved before shown", but a line that arrived while its
/// commit ran no longer waits for that commit too (ten processes with data directories
/// sending at the same instant on 2 cores: each one's commit held the nine lines it received
/// meanwhile, p50 7.3-7.9 ms against 5.0-5.5 without a data directory).
fn may_pass_own_lines(event: &SessionEvent) -> bool {
    match event {
        SessionEvent::Room(event) => shown_before_saved(event),
        SessionEvent::Members(_) => true,
        _ => false,
    }
}

fn is_own_line(event: &SessionEvent) -> bool {
    matches!(event, SessionEvent::Room(Event::MessageSent(_)))
}

#[derive(Default)]
pub struct Outbox {
    /// The highest save sequence number known to be on disk.
    committed: u64,
    /// Events waiting for a save (`seq`), or behind one that is.
    waiting: VecDeque<(u64, SessionEvent)>,
    /// How many of `waiting` are not our own lines (none: others' live events may pass).
    waiting_not_own: usize,
    /// Events that may be shown now.
    ready: VecDeque<SessionEvent>,
    /// Live messages held behind the first catch-up, and until when at most.
    held: Option<(Instant, Vec<(u64, SessionEvent)>)>,
}

impl Outbox {
    /// Queue `event`; it needs save `needs` committed first (0: nothing).
    pub fn push(&mut self, event: SessionEvent, needs: u64) {
        let live_message = matches!(
            &event,
            SessionEvent::Room(Event::MessageReceived(line)) if !line.history
        );
        match &mut self.held {
            Some((_, held)) if live_message => held.push((needs, event)),
            _ => self.gate(needs, event),
        }
    }

    /// An event to show before anything still waiting (warnings about the store itself).
    pub fn push_now(&mut self, event: SessionEvent) {
        self.ready.push_back(event);
    }

    fn gate(&mut self, needs: u64, event: SessionEvent) {
        let free =
            self.waiting.is_empty() || (self.waiting_not_own == 0 && may_pass_own_lines(&event));
        if free && needs <= self.committed {
            self.ready.push_back(event);
        } else {
            if !is_own_line(&event) {
                self.waiting_not_own += 1;
            }
            self.waiting.push_back((needs, event));
        }
    }

    /// Saves up to `seq` are on disk (or failed, and were reported): release what waited.
    pub fn committed(&mut self, seq: u64) {
        self.committed = self.committed.max(seq);
        while let Some((needs, _)) = self.waiting.front() {
            if *needs > self.committed {
                break;
            }
            if let Some((_, event)) = self.waiting.pop_front() {
                if !is_own_line(&event) {
                    self.waiting_not_own -= 1;
                }
                self.ready.push_back(event);
            }
        }
    }

    pub fn committed_up_to(&self) -> u64 {
        self.committed
    }

    /// Hold live messages until [`Self::release_held`] or `until`.
    pub fn hold(&mut self, until: Instant) {
        if self.held.is_none() {
            self.held = Some((until, Vec::new()));
        }
    }

    pub fn held_until(&self) -> Option<Instant> {
        self.held.as_ref().map(|(until, _)| *until)
    }

    /// The live lines held behind the first catch-up.
    pub fn held_lines_mut(&mut self) -> impl Iterator<Item = &mut crate::proto::room::ChatLine> {
        self.held.iter_mut().flat_map(|(_, held)| {
            held.iter_mut().filter_map(|(_, event)| match event {
                SessionEvent::Room(Event::MessageReceived(line)) => Some(line),
                _ => None,
            })
        })
    }

    pub fn release_held(&mut self) {
        if let Some((_, held)) = self.held.take() {
            for (needs, event) in held {
                self.gate(needs, event);
            }
        }
    }

    pub fn pop(&mut self) -> Option<SessionEvent> {
        self.ready.pop_front()
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Everything not yet taken, shown or not.
    pub fn len(&self) -> usize {
        self.ready.len() + self.waiting.len() + self.held.as_ref().map_or(0, |(_, held)| held.len())
    }

    pub fn is_full(&self) -> bool {
        self.len() >= HIGH_WATER
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{line, member};

    fn warning(text: &str) -> SessionEvent {
        SessionEvent::Warning(text.into())
    }

    fn drain(outbox: &mut Outbox) -> Vec<SessionEvent> {
        std::iter::from_fn(|| outbox.pop()).collect()
    }

    fn live(text: &str) -> SessionEvent {
        let line = line(&member(2, "bob"), text, 0);
        SessionEvent::Room(Event::MessageReceived(line))
    }

    fn old(text: &str) -> SessionEvent {
        let mut line = line(&member(2, "bob"), text, 0);
        line.history = true;
        SessionEvent::Room(Event::MessageReceived(line))
    }

    #[test]
    fn events_wait_for_their_save_and_keep_their_order() {
        let mut outbox = Outbox::default();
        outbox.push(warning("a"), 0);
        outbox.push(live("b"), 1);
        outbox.push(warning("c"), 0); // behind b, though it needs nothing
        outbox.push(live("d"), 2);
        assert_eq!(drain(&mut outbox), [warning("a")]);
        outbox.committed(1);
        assert_eq!(drain(&mut outbox), [live("b"), warning("c")]);
        assert_eq!(outbox.len(), 1);
        outbox.committed(2);
        assert_eq!(drain(&mut outbox), [live("d")]);
        outbox.push(warning("e"), 2);
        assert_eq!(drain(&mut outbox), [warning("e")]);
    }

    fn mine(text: &str) -> SessionEvent {
        SessionEvent::Room(Event::MessageSent(line(&member(1, "me"), text, 0)))
    }

    #[test]
    fn others_live_lines_pass_our_own_lines_waiting_for_their_save() {
        let mut outbox = Outbox::default();
        outbox.push(mine("mine"), 1);
        outbox.push(live("theirs"), 0);
        outbox.push(warning("a warning keeps its place"), 0);
        outbox.push(live("after the warning"), 0);
        assert_eq!(drain(&mut outbox), [live("theirs")]);
        outbox.committed(1);
        assert_eq!(
            drain(&mut outbox),
            [
                mine("mine"),
                warning("a warning keeps its place"),
                live("after the warning")
            ]
        );
        // Behind history waiting for its save, live lines keep their place.
        outbox.push(old("earlier"), 2);
        outbox.push(live("now"), 0);
        assert!(drain(&mut outbox).is_empty());
        outbox.committed(2);
        assert_eq!(drain(&mut outbox), [old("earlier"), live("now")]);
        assert_eq!(outbox.waiting_not_own, 0);
    }

    #[test]
    fn live_messages_wait_behind_the_first_catch_up() {
        let mut outbox = Outbox::default();
        outbox.hold(Instant::now());
        outbox.push(live("now"), 0);
        outbox.push(SessionEvent::Room(Event::Lagged), 0);
        outbox.push(old("earlier"), 1);
        assert_eq!(drain(&mut outbox), [SessionEvent::Room(Event::Lagged)]);
        outbox.release_held();
        assert!(
            drain(&mut outbox).is_empty(),
            "the history is not saved yet"
        );
        outbox.committed(1);
        assert_eq!(drain(&mut outbox), [old("earlier"), live("now")]);
    }
}

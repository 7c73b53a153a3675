//! A bounded memory of envelope ids already accepted, to drop exact replays.

use std::collections::{HashSet, VecDeque};

use super::MessageId;

/// Remembers the most recent `capacity` ids; the oldest is forgotten first. Gossip itself drops
/// repeats for 90 s, so this only has to outlast what a hostile peer could replay cheaply.
#[derive(Debug)]
pub(crate) struct SeenIds {
    capacity: usize,
    ids: HashSet<MessageId>,
    order: VecDeque<MessageId>,
}

impl SeenIds {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            ids: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    pub(crate) fn contains(&self, id: &MessageId) -> bool {
        self.ids.contains(id)
    }

    /// Record `id`; `false` if it was already there.
    pub(crate) fn insert(&mut self, id: MessageId) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_caught_and_memory_is_bounded() {
        let mut seen = SeenIds::new(2);
        let [a, b, c] = [b"a", b"b", b"c"].map(|s| MessageId::of(s));
        assert!(seen.insert(a));
        assert!(!seen.insert(a));
        assert!(seen.insert(b));
        assert!(seen.insert(c));
        assert_eq!(seen.ids.len(), 2);
        assert!(seen.insert(a), "the oldest id was forgotten");
    }
}

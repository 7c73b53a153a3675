//! Who we know, decided on a connection's key before anything it sends is read: the keys that
//! share a live room with us, and those we wrote to; less the keys the user ignores.
//!
//! Anyone who learns our endpoint id (from mDNS, a member list, a ticket) can connect, and a
//! fresh key costs nothing. The direct-message server refuses an unknown key's connection
//! before parsing or verifying a byte of it, and the history server keeps part of its slots for
//! known keys, so a stranger with many keys cannot hold them all.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::proto::EndpointId;

/// Keys known from rooms and conversations kept at most (past it, new ones are not admitted
/// until the process restarts: the bound holds against a member list of minted keys).
pub const MAX_KNOWN: usize = 65_536;
/// Keys ignored kept at most.
pub const MAX_IGNORED: usize = 4096;

#[derive(Debug)]
struct Sets {
    /// Keys sharing a live room with us (fed from every room's member list).
    members: HashSet<EndpointId>,
    /// Keys we wrote a direct message to.
    talked: HashSet<EndpointId>,
    /// Keys the user ignores (in any room): never admitted.
    ignored: HashSet<EndpointId>,
    /// Whether direct messages are gated: set once the DM actor runs (before, nothing
    /// answers them anyway, and tests of the bare network admit everyone).
    gating: bool,
    /// [`MAX_KNOWN`], smaller in tests.
    max: usize,
}

impl Default for Sets {
    fn default() -> Self {
        Self {
            members: HashSet::new(),
            talked: HashSet::new(),
            ignored: HashSet::new(),
            gating: false,
            max: MAX_KNOWN,
        }
    }
}

/// Shared by the node's servers and the DM actor. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Known {
    sets: Arc<Mutex<Sets>>,
}

impl Known {
    fn lock(&self) -> std::sync::MutexGuard<'_, Sets> {
        // Plain sets: a poisoned lock still holds the right keys.
        self.sets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// These keys share a live room with us.
    pub fn add_members(&self, ids: impl IntoIterator<Item = EndpointId>) {
        self.add(ids, |sets| &mut sets.members);
    }

    /// We wrote (or are writing) to these keys.
    pub fn add_talked(&self, ids: impl IntoIterator<Item = EndpointId>) {
        self.add(ids, |sets| &mut sets.talked);
    }

    /// Add `ids` to one of the sets, while both together hold fewer than the bound.
    fn add(
        &self,
        ids: impl IntoIterator<Item = EndpointId>,
        set: fn(&mut Sets) -> &mut HashSet<EndpointId>,
    ) {
        let mut sets = self.lock();
        for id in ids {
            if sets.members.len() + sets.talked.len() >= sets.max {
                break;
            }
            set(&mut sets).insert(id);
        }
    }

    /// The user ignores `id` (`ignored` true) or no longer does.
    pub fn set_ignored(&self, id: EndpointId, ignored: bool) {
        let mut sets = self.lock();
        if !ignored {
            sets.ignored.remove(&id);
        } else if sets.ignored.len() < MAX_IGNORED {
            sets.ignored.insert(id);
        }
    }

    /// Gate direct messages from now on.
    pub fn gate(&self) {
        self.lock().gating = true;
    }

    /// Whether `id` shares a live room with us, or we wrote to it, and is not ignored.
    pub fn is_known(&self, id: &EndpointId) -> bool {
        let sets = self.lock();
        !sets.ignored.contains(id) && (sets.members.contains(id) || sets.talked.contains(id))
    }

    /// Whether `id` may open a direct-message connection.
    pub fn may_message(&self, id: &EndpointId) -> bool {
        !self.lock().gating || self.is_known(id)
    }

    /// Whether `id` is ignored.
    pub fn is_ignored(&self, id: &EndpointId) -> bool {
        self.lock().ignored.contains(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    #[test]
    fn members_and_peers_we_wrote_to_are_known_until_ignored() {
        let known = Known::default();
        let (ann, bob, eve) = (
            SecretKey::generate().public(),
            SecretKey::generate().public(),
            SecretKey::generate().public(),
        );
        assert!(known.may_message(&eve), "no gate before the DM actor runs");
        known.gate();
        known.add_members([ann]);
        known.add_talked([bob]);
        assert!(known.may_message(&ann) && known.may_message(&bob));
        assert!(!known.may_message(&eve));
        known.set_ignored(ann, true);
        assert!(!known.may_message(&ann) && !known.is_known(&ann));
        known.set_ignored(ann, false);
        assert!(known.may_message(&ann));
    }

    #[test]
    fn the_sets_are_bounded() {
        let known = Known::default();
        known.lock().max = 100;
        known.add_members((0..110).map(|_| SecretKey::generate().public()));
        let late = SecretKey::generate().public();
        known.add_talked([late]);
        assert!(!known.is_known(&late));
        assert_eq!(known.lock().members.len(), 100);
    }
}

//! Which key may show a name bare. Names collide by their confusable skeleton
//! ([`name_key`]); the first key seen with a name in a room is pinned to it (trust on first
//! use, kept on disk), and every other key claiming a colliding name is shown as
//! `name#fingerprint`, whether the pinned key is here or left long ago. Lookups are O(log n),
//! so a list of n members costs O(n log n) however many share one name.

use std::collections::{BTreeSet, HashMap};

use super::EndpointId;
use super::names::{FINGERPRINT_CHARS, fingerprint, name_key};

/// Most names pinned per room. A pin is never dropped (that would hand the name to the next
/// look-alike); past the cap, new names are not pinned, and names that collide then all show
/// fingerprints.
pub const MAX_PINS: usize = 20_000;
/// Most names one key pins: renaming through a thousand names must not fill the room's pins.
pub const MAX_PINS_PER_KEY: u8 = 4;

/// What claiming a name meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody had it: it is now pinned to this key (keep that on disk).
    Pinned { key: String },
    /// The key already owns it, or claims what it claimed before.
    Unchanged,
    /// Another key owns the name: shown with a fingerprint, worth telling the user once.
    Clash { owner: EndpointId },
}

#[derive(Debug, Default)]
pub struct NameIndex {
    /// Name key → the key it is pinned to.
    pins: HashMap<String, EndpointId>,
    /// Name key → every known key currently claiming it (ordered, for fingerprint lengths).
    claimants: HashMap<String, BTreeSet<EndpointId>>,
    /// Key → the name key it claims.
    claims: HashMap<EndpointId, String>,
    /// How many names each key has pinned.
    pinned_by: HashMap<EndpointId, u8>,
    /// Keys whose shown name may have changed since [`Self::take_changed`]: a claim or
    /// release changes at most the key and its neighbours in key order among the name's
    /// claimants (fingerprint lengths), so a caller keeping a list up to date redraws those.
    changed: Vec<EndpointId>,
}

impl NameIndex {
    /// Pins read back from disk; they win over anything learned since.
    pub fn restore_pin(&mut self, key: String, id: EndpointId) {
        if let Some(set) = self.claimants.get(&key) {
            self.changed.extend(set.iter().copied());
        }
        if let Some(old) = self.pins.insert(key, id) {
            self.unpinned(&old);
        }
        *self.pinned_by.entry(id).or_default() += 1;
    }

    /// The keys whose shown name may have changed since the last call.
    pub fn take_changed(&mut self) -> Vec<EndpointId> {
        std::mem::take(&mut self.changed)
    }

    /// `id` and its neighbours among the claimants of `key`.
    fn touch_around(&mut self, key: &str, id: &EndpointId) {
        self.changed.push(*id);
        if let Some(set) = self.claimants.get(key) {
            let before = set.range(..*id).next_back().copied();
            let after = set
                .range((std::ops::Bound::Excluded(*id), std::ops::Bound::Unbounded))
                .next()
                .copied();
            self.changed.extend(before.into_iter().chain(after));
        }
    }

    fn unpinned(&mut self, id: &EndpointId) {
        if let Some(count) = self.pinned_by.get_mut(id) {
            *count = count.saturating_sub(1);
        }
    }

    /// Names pinned: the tests check the bound.
    #[cfg(test)]
    pub fn pins(&self) -> usize {
        self.pins.len()
    }

    /// `id` now calls itself `name`, live: a name nobody holds is pinned to it.
    pub fn claim(&mut self, id: EndpointId, name: &str) -> Claim {
        self.claim_as(id, name, true)
    }

    /// `id` calls itself `name`; with `pin` false (a name learned from history, which any
    /// neighbour can backdate) a free name is claimed but not pinned: only live presence pins.
    pub fn claim_as(&mut self, id: EndpointId, name: &str, pin: bool) -> Claim {
        let key = name_key(name);
        if self.claims.get(&id) == Some(&key) {
            // Another spelling of the same name: only its own shown name changes.
            self.changed.push(id);
            return Claim::Unchanged;
        }
        self.release(&id);
        self.claimants.entry(key.clone()).or_default().insert(id);
        self.claims.insert(id, key.clone());
        self.touch_around(&key, &id);
        match self.pins.get(&key) {
            Some(owner) if *owner == id => Claim::Unchanged,
            Some(owner) => Claim::Clash { owner: *owner },
            None if !pin => Claim::Unchanged,
            None => self.pin(id, key),
        }
    }

    /// Pin the name `id` claims to it if nobody holds that name: a key first learned from
    /// history that is now here live. `Some` (to keep on disk) when it was pinned.
    pub fn pin_if_free(&mut self, id: EndpointId) -> Option<Claim> {
        let key = self.claims.get(&id)?.clone();
        if self.pins.contains_key(&key) {
            return None;
        }
        match self.pin(id, key.clone()) {
            claim @ Claim::Pinned { .. } => {
                // The other claimants of the name now show fingerprints.
                if let Some(set) = self.claimants.get(&key) {
                    self.changed.extend(set.iter().copied());
                }
                Some(claim)
            }
            _ => None,
        }
    }

    fn pin(&mut self, id: EndpointId, key: String) -> Claim {
        let count = self.pinned_by.entry(id).or_default();
        if self.pins.len() >= MAX_PINS || *count >= MAX_PINS_PER_KEY {
            return Claim::Unchanged;
        }
        *count += 1;
        self.pins.insert(key.clone(), id);
        Claim::Pinned { key }
    }

    /// `id` is forgotten (evicted from the room's memory); its pins stay.
    pub fn release(&mut self, id: &EndpointId) {
        if let Some(old) = self.claims.remove(id) {
            self.touch_around(&old, id);
            if let Some(set) = self.claimants.get_mut(&old) {
                set.remove(id);
                if set.is_empty() {
                    self.claimants.remove(&old);
                }
            }
        }
    }

    /// The pinned owner of the name `id` claims, when it is another key.
    pub fn owner_if_other(&self, id: &EndpointId) -> Option<EndpointId> {
        let key = self.claims.get(id)?;
        self.pins.get(key).copied().filter(|owner| owner != id)
    }

    /// How to show `id`'s `name`: bare when `id` owns it and no one else claims it, or owns
    /// it; else `name#` and the shortest fingerprint (at least 4 characters) that tells it
    /// from every other key claiming or owning the name.
    pub fn display(&self, id: &EndpointId, name: &str) -> String {
        // Keys are public: looked up and compared as bytes, not in constant time.
        let Some(key) = self.claims.get(id.as_bytes()) else {
            return name.to_string();
        };
        let owner = self.pins.get(key);
        if owner.is_some_and(|owner| owner.as_bytes() == id.as_bytes()) {
            return name.to_string();
        }
        let set = self.claimants.get(key);
        let neighbours = set.into_iter().flat_map(|set| {
            let before = set.range(..*id).next_back();
            let after = set.range((std::ops::Bound::Excluded(*id), std::ops::Bound::Unbounded));
            before.into_iter().chain(after.take(1))
        });
        let shared = neighbours
            .chain(owner)
            .filter(|other| other.as_bytes() != id.as_bytes())
            .map(|other| shared_hex_prefix(id, other))
            .max();
        match shared {
            None => name.to_string(),
            Some(shared) => format!(
                "{name}#{}",
                fingerprint(id, (shared + 1).max(FINGERPRINT_CHARS))
            ),
        }
    }
}

/// How many leading hex digits two keys share.
fn shared_hex_prefix(a: &EndpointId, b: &EndpointId) -> usize {
    for (i, (x, y)) in a.as_bytes().iter().zip(b.as_bytes()).enumerate() {
        if x != y {
            return 2 * i + usize::from(x >> 4 == y >> 4);
        }
    }
    64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;
    use crate::proto::names::name_key;

    fn key(n: u8) -> EndpointId {
        SecretKey::from_bytes(&[n; 32]).public()
    }

    #[test]
    fn the_first_key_keeps_the_name_and_look_alikes_get_fingerprints() {
        let (alice, mallory, kim) = (key(1), key(2), key(3));
        let mut index = NameIndex::default();
        assert!(matches!(index.claim(alice, "alice"), Claim::Pinned { .. }));
        assert!(matches!(index.claim(kim, "kim"), Claim::Pinned { .. }));
        // Cyrillic а, a combining grapheme joiner, capitals: all the same name.
        for fake in ["\u{430}lice", "ali\u{34f}ce", "ALICE", "Alice"] {
            index.release(&mallory);
            assert_eq!(
                index.claim(mallory, fake),
                Claim::Clash { owner: alice },
                "{fake}"
            );
            assert_eq!(
                index.display(&mallory, fake),
                format!("{fake}#{}", fingerprint(&mallory, 4))
            );
            assert_eq!(index.display(&alice, "alice"), "alice");
        }
        assert_eq!(index.display(&kim, "kim"), "kim");
        // Alice leaves the room's memory: her name stays hers.
        index.release(&alice);
        assert_eq!(
            index.claim(mallory, "mallory"),
            Claim::Pinned {
                key: name_key("mallory")
            }
        );
        assert_eq!(index.claim(mallory, "alice"), Claim::Clash { owner: alice });
        assert_ne!(index.display(&mallory, "alice"), "alice");
    }

    #[test]
    fn fingerprints_grow_until_they_differ() {
        let owner = key(9);
        let mut index = NameIndex::default();
        index.claim(owner, "sam");
        let others: Vec<EndpointId> = (10..60).map(key).collect();
        for id in &others {
            index.claim(*id, "sam");
        }
        let shown: BTreeSet<String> = others.iter().map(|id| index.display(id, "sam")).collect();
        assert_eq!(shown.len(), others.len(), "every fingerprint is distinct");
        assert!(shown.iter().all(|s| s.starts_with("sam#") && s.len() >= 8));
    }

    #[test]
    fn shared_prefix_counts_hex_digits() {
        let a = key(1);
        assert_eq!(shared_hex_prefix(&a, &a), 64);
        let (x, y) = (a.to_string(), key(2).to_string());
        let expected = x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count();
        assert_eq!(shared_hex_prefix(&a, &key(2)), expected);
    }

    #[test]
    fn pins_are_never_dropped_and_one_key_pins_few() {
        let (alice, mallory) = (key(1), key(2));
        let mut index = NameIndex::default();
        index.claim(alice, "alice");
        index.release(&alice);
        // Mallory renames through many names: only a few are pinned to it.
        let pinned = (0..50)
            .filter(|n| matches!(index.claim(mallory, &format!("n{n}")), Claim::Pinned { .. }))
            .count();
        assert_eq!(pinned, usize::from(MAX_PINS_PER_KEY));
        // Many keys pin many names: alice's pin, of a key long forgotten, stays.
        for n in 0..(MAX_PINS as u32) {
            let mut seed = [7u8; 32];
            seed[..4].copy_from_slice(&n.to_le_bytes());
            let id = SecretKey::from_bytes(&seed).public();
            index.claim(id, &format!("x{n}"));
            index.release(&id);
        }
        assert_eq!(index.pins(), MAX_PINS, "full");
        assert_eq!(index.claim(mallory, "alice"), Claim::Clash { owner: alice });
    }
}

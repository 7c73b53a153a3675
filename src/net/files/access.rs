//! Who may fetch which file: a peer may fetch a hash only if it was offered (by us, or by
//! someone else and held by us since) in a place where that peer is: a room it is a member of,
//! or a direct conversation with that very peer. A key ignored in one of our rooms may fetch
//! nothing. Being a member of one room gives nothing from another, and a direct message gives
//! nothing but what was offered in that conversation.
//!
//! The front ends feed it (`Node::files_offered`, `files_room_members`, ...); the provider's
//! gate asks it about every connection and every request. Every map is bounded.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::time::SystemTime;

use iroh_blobs::Hash;
use tokio::sync::mpsc;

use crate::model::files::Place;
use crate::model::rooms::RoomKey;
use crate::proto::EndpointId;

/// Hashes remembered with their places (the oldest forgotten first): above the offers a
/// front end keeps (4,096), so its own shares are not forgotten before its offers.
pub const MAX_HASHES: usize = 16_384;
/// Places one hash is remembered in (the first ones): a file re-offered everywhere.
const MAX_PLACES_PER_HASH: usize = 64;
/// Members remembered per room (a room keeps at most 10,000 keys).
const MAX_MEMBERS_PER_ROOM: usize = 20_000;
/// Rooms remembered (members and ignored keys); a front end holds at most 64 open.
const MAX_ROOMS: usize = 256;
/// Keys ignored per room.
const MAX_IGNORED_PER_ROOM: usize = 4_096;
/// Files withdrawn (`/unshare`) remembered, so that an offer seen again does not serve them.
const MAX_WITHDRAWN: usize = 4_096;

/// A file shared by reference (read where it is, not copied): where, and its size and
/// modification time when it was hashed. Served only while they still match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub path: PathBuf,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

#[derive(Default)]
pub(crate) struct Access {
    places: HashMap<Hash, Vec<Place>>,
    order: VecDeque<Hash>,
    members: HashMap<RoomKey, HashSet<EndpointId>>,
    ignored: HashMap<RoomKey, HashSet<EndpointId>>,
    withdrawn: HashSet<Hash>,
    /// Files shared by reference this run (bounded with `places`).
    references: HashMap<Hash, Reference>,
    /// Files refused because they changed, told to the user once each.
    told: HashSet<Hash>,
    /// Where the user is told (a file changed since it was shared).
    pub tell: Option<mpsc::Sender<String>>,
    /// When the store's blobs are collected (`collect`).
    pub schedule: super::collect::Schedule,
    /// Tests only: peers that may fetch any hash (nodes without a front end feeding them).
    #[cfg(test)]
    pub(crate) anyone: HashSet<EndpointId>,
}

impl Access {
    /// `hash` was offered in `place` (or re-offered there); nothing for a file withdrawn.
    pub fn offered(&mut self, hash: Hash, place: Place) {
        if self.withdrawn.contains(&hash) {
            return;
        }
        if let Some(places) = self.places.get_mut(&hash) {
            if !places.contains(&place) && places.len() < MAX_PLACES_PER_HASH {
                places.push(place);
            }
            return;
        }
        if self.order.len() >= MAX_HASHES
            && let Some(oldest) = self.order.pop_front()
        {
            self.places.remove(&oldest);
        }
        self.order.push_back(hash);
        self.places.insert(hash, vec![place]);
    }

    /// We share `hash` (again): a withdrawal before is over; `reference`: read from there.
    pub fn shared(&mut self, hash: Hash, reference: Option<Reference>) {
        self.withdrawn.remove(&hash);
        self.told.remove(&hash);
        match reference {
            Some(reference) if self.references.len() < MAX_HASHES => {
                self.references.insert(hash, reference)
            }
            _ => self.references.remove(&hash),
        };
    }

    /// `hash` is no longer served to anyone, even when offered again (`/unshare`).
    pub fn withdrawn(&mut self, hash: Hash) {
        if self.places.remove(&hash).is_some() {
            self.order.retain(|h| *h != hash);
        }
        self.references.remove(&hash);
        if self.withdrawn.len() < MAX_WITHDRAWN {
            self.withdrawn.insert(hash);
        }
    }

    /// The hashes offered anywhere (kept from a collection when whole).
    pub fn hashes(&self) -> impl Iterator<Item = &Hash> {
        self.order.iter()
    }

    /// Every file shared by reference (to remember them across runs).
    pub fn references(&self) -> Vec<(Hash, Reference)> {
        let all = self.references.iter();
        all.map(|(hash, reference)| (*hash, reference.clone()))
            .collect()
    }

    /// Files shared by reference in earlier runs (at most as many as hashes are kept).
    pub fn restore_references(&mut self, references: Vec<(Hash, Reference)>) {
        self.references
            .extend(references.into_iter().take(MAX_HASHES));
    }

    /// Where `hash` is read from, when shared by reference.
    pub fn reference(&self, hash: &Hash) -> Option<Reference> {
        self.references.get(hash).cloned()
    }

    /// `hash` changed on disk since it was shared: whom to tell, the first time only.
    pub fn changed(&mut self, hash: Hash) -> Option<mpsc::Sender<String>> {
        match self.told.len() < MAX_WITHDRAWN && self.told.insert(hash) {
            true => self.tell.clone(),
            false => None,
        }
    }

    /// Exactly these are the members of `room` now.
    pub fn members(&mut self, room: RoomKey, peers: impl IntoIterator<Item = EndpointId>) {
        if !self.members.contains_key(&room) && self.members.len() >= MAX_ROOMS {
            return;
        }
        let peers = peers.into_iter().take(MAX_MEMBERS_PER_ROOM).collect();
        self.members.insert(room, peers);
    }

    /// `peer` joined `room` (before the next member list says so).
    pub fn joined(&mut self, room: RoomKey, peer: EndpointId) {
        if let Some(members) = self.members.get_mut(&room)
            && members.len() < MAX_MEMBERS_PER_ROOM
        {
            members.insert(peer);
        }
    }

    /// `room` is gone: its members and ignored keys count no more.
    pub fn room_gone(&mut self, room: RoomKey) {
        self.members.remove(&room);
        self.ignored.remove(&room);
    }

    /// `peer` is ignored in `room` (or not any more).
    pub fn ignore(&mut self, room: RoomKey, peer: EndpointId, ignored: bool) {
        if !ignored {
            if let Some(set) = self.ignored.get_mut(&room) {
                set.remove(&peer);
            }
            return;
        }
        if !self.ignored.contains_key(&room) && self.ignored.len() >= MAX_ROOMS {
            return;
        }
        let set = self.ignored.entry(room).or_default();
        if set.len() < MAX_IGNORED_PER_ROOM {
            set.insert(peer);
        }
    }

    fn is_ignored(&self, peer: &EndpointId) -> bool {
        self.ignored.values().any(|set| set.contains(peer))
    }

    fn is_in(&self, peer: &EndpointId, place: &Place) -> bool {
        match place {
            Place::Room(room) => self.members.get(room).is_some_and(|m| m.contains(peer)),
            Place::Direct(with) => with == peer,
        }
    }

    /// Whether `peer` may connect at all: it could fetch something (a member of one of our
    /// rooms, or offered a file privately), and is ignored nowhere.
    pub fn may_connect(&self, peer: &EndpointId) -> bool {
        #[cfg(test)]
        if self.anyone.contains(peer) {
            return true;
        }
        if self.is_ignored(peer) {
            return false;
        }
        self.members.values().any(|m| m.contains(peer))
            || self
                .places
                .values()
                .flatten()
                .any(|place| *place == Place::Direct(*peer))
    }

    /// Whether `peer` may fetch (or watch) `hash`.
    pub fn may_fetch(&self, peer: &EndpointId, hash: &Hash) -> bool {
        #[cfg(test)]
        if self.anyone.contains(peer) {
            return true;
        }
        if self.is_ignored(peer) {
            return false;
        }
        self.places
            .get(hash)
            .is_some_and(|places| places.iter().any(|place| self.is_in(peer, place)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    fn key() -> EndpointId {
        SecretKey::generate().public()
    }

    #[test]
    fn a_hash_is_fetched_only_where_it_was_offered() {
        let (alice, bob, carol) = (key(), key(), key());
        let (a, b) = (Hash::new(b"a"), Hash::new(b"b"));
        let mut access = Access::default();
        access.members(1, [alice, carol]);
        access.members(2, [bob, carol]);
        access.offered(a, Place::Room(1));
        access.offered(b, Place::Direct(bob));
        assert!(access.may_fetch(&alice, &a) && access.may_fetch(&carol, &a));
        assert!(!access.may_fetch(&bob, &a), "room 2 has no a");
        assert!(access.may_fetch(&bob, &b) && !access.may_fetch(&carol, &b));
        assert!(!access.may_fetch(&alice, &Hash::new(b"never offered")));
        // Offered in room 2 too: bob may now.
        access.offered(a, Place::Room(2));
        assert!(access.may_fetch(&bob, &a));
        // Ignored in any room: nothing, and not even a connection.
        access.ignore(2, carol, true);
        assert!(!access.may_fetch(&carol, &a) && !access.may_connect(&carol));
        access.ignore(2, carol, false);
        assert!(access.may_fetch(&carol, &a));
        // A room gone takes its members with it; withdrawn is withdrawn.
        access.room_gone(1);
        assert!(!access.may_connect(&alice));
        access.withdrawn(a);
        assert!(!access.may_fetch(&bob, &a) && access.may_connect(&bob));
        assert!(!access.may_connect(&key()));
    }

    #[test]
    fn the_oldest_hash_is_forgotten_past_the_bound() {
        let mut access = Access::default();
        let peer = key();
        let first = Hash::new(0u64.to_le_bytes());
        for n in 0..=MAX_HASHES as u64 {
            access.offered(Hash::new(n.to_le_bytes()), Place::Direct(peer));
        }
        assert_eq!(access.places.len(), MAX_HASHES);
        assert!(!access.may_fetch(&peer, &first));
        let last = Hash::new((MAX_HASHES as u64).to_le_bytes());
        assert!(access.may_fetch(&peer, &last));
    }
}

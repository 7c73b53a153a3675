//! Shared files between the rooms and the front ends: which files were offered (by hash; a
//! handle, its first 8 hex digits, or any prefix of 4 and more names one when only one has it),
//! in a room or a direct message, who may fetch ours (every member of our rooms and everyone
//! we write to privately), sharing a path, and fetching one into the download directory with
//! throttled progress.

use std::collections::{HashMap, HashSet, VecDeque};

use tokio::sync::mpsc;

mod fetching;
mod share;
mod transfer;

#[cfg(test)]
mod tests;

pub use crate::model::{FileState, Offer, Place, SharedFile};
pub use fetching::FileUpdate;
pub(crate) use share::expand_home;
pub use share::share;

use super::sessions::RoomKey;
use crate::config::FileSettings;
use crate::net::Node;
use crate::proto::direct::DirectMessage;
use crate::proto::room::{ChatLine, Event};
use crate::proto::wire::FileRef;
use crate::proto::{EndpointId, MemberInfo};
use crate::session::SessionEvent;

/// Offers remembered (the oldest forgotten first): a room can share many files.
const MAX_OFFERS: usize = 4096;
/// People we exchanged direct messages with this run, kept as allowed to fetch at most.
const MAX_DIRECT_PEERS: usize = 4096;
/// Providers back, waiting for a fetch under way to dial them again.
const BACK_QUEUE: usize = 8;

pub struct Files {
    node: Node,
    settings: FileSettings,
    offers: HashMap<String, (Offer, FileState)>,
    order: VecDeque<String>,
    /// Each room's members: together, who may fetch what we share.
    members: HashMap<RoomKey, Vec<EndpointId>>,
    /// Whom we wrote to or heard from privately: they may fetch too (a file offered in a
    /// direct message is fetched from its sender).
    direct_peers: HashSet<EndpointId>,
    /// The providers each fetch under way asked: the ones to wait for if all go away.
    tried: HashMap<String, Vec<EndpointId>>,
    /// Each fetch under way: where to tell it that one of its providers is back.
    running: HashMap<String, mpsc::Sender<EndpointId>>,
    updates_tx: mpsc::Sender<FileUpdate>,
}

impl Files {
    /// Where progress about our files goes (hashing a file being shared reports there).
    pub fn updates(&self) -> mpsc::Sender<FileUpdate> {
        self.updates_tx.clone()
    }

    pub fn new(node: Node, settings: FileSettings) -> (Self, mpsc::Receiver<FileUpdate>) {
        let (updates_tx, updates) = mpsc::channel(256);
        let files = Self {
            node,
            settings,
            offers: HashMap::new(),
            order: VecDeque::new(),
            members: HashMap::new(),
            direct_peers: HashSet::new(),
            tried: HashMap::new(),
            running: HashMap::new(),
            updates_tx,
        };
        (files, updates)
    }

    /// Learn from a room's event: its members may fetch our files; a line with a file is an
    /// offer (returned when new, and fetched at once when within `--auto-get`).
    pub fn note(&mut self, room: RoomKey, event: &SessionEvent) -> Option<Offer> {
        match event {
            SessionEvent::Members(members) => {
                self.members
                    .insert(room, members.iter().map(|m| m.id).collect());
                self.allow();
                None
            }
            SessionEvent::Room(Event::MemberJoined(member)) => {
                // Here now, before the next member list says so.
                let here = self.members.entry(room).or_default();
                if !here.contains(&member.id) {
                    here.push(member.id);
                    self.allow();
                }
                self.back(member);
                None
            }
            SessionEvent::Room(Event::MessageReceived(line)) => {
                self.offered(Place::Room(room), line, false)
            }
            SessionEvent::Room(Event::MessageSent(line)) => {
                self.offered(Place::Room(room), line, true)
            }
            _ => None,
        }
    }

    /// Learn from a direct message (`me` is our key): its peer may fetch our files; one
    /// with a file is an offer, as in a room.
    pub fn note_direct(&mut self, message: &DirectMessage, me: &EndpointId) -> Option<Offer> {
        let peer = message.peer(me);
        self.note_peer(peer);
        let file = message.file.clone()?;
        let line = OfferLine {
            file,
            from: super::direct::stranger(message.from, &message.name),
            history: false,
        };
        self.offer(Place::Direct(peer), line, message.from == *me)
    }

    /// A direct message as the terminal UI loaded it (from disk: an offer never fetched by
    /// itself).
    pub fn note_direct_line(&mut self, line: &crate::app::direct::DirectLine) {
        let Some(file) = line.file.clone() else {
            return;
        };
        self.note_peer(line.peer);
        let offer = OfferLine {
            file,
            from: line.author.clone(),
            history: line.history,
        };
        self.offer(Place::Direct(line.peer), offer, line.own);
    }

    /// Someone we exchange direct messages with: may fetch from us.
    fn note_peer(&mut self, peer: EndpointId) {
        if self.direct_peers.len() < MAX_DIRECT_PEERS && self.direct_peers.insert(peer) {
            self.allow();
        }
    }

    fn allow(&self) {
        let rooms = self.members.values().flatten().copied();
        self.node
            .allow_files(rooms.chain(self.direct_peers.iter().copied()));
    }

    /// A room is gone: its members no longer count.
    pub fn room_ended(&mut self, room: RoomKey) {
        if self.members.remove(&room).is_some() {
            self.allow();
        }
    }

    fn offered(&mut self, place: Place, line: &ChatLine, own: bool) -> Option<Offer> {
        let line = OfferLine {
            file: line.file.clone()?,
            from: line.author.clone(),
            history: line.history,
        };
        self.offer(place, line, own)
    }

    fn offer(&mut self, place: Place, line: OfferLine, own: bool) -> Option<Offer> {
        // By the whole hash: a handle is 32 bits, which someone could make collide.
        let handle = line.file.hash.clone();
        if self.offers.contains_key(&handle) {
            return None;
        }
        let mut file = line.file;
        // The sender's claim, said back in notices and /files: nothing a terminal acts on.
        file.name = crate::proto::names::sanitize_text(&file.name, false);
        let offer = Offer {
            file,
            from: line.from,
            place,
            own,
        };
        if self.order.len() >= MAX_OFFERS
            && let Some(oldest) = self.order.pop_front()
        {
            self.offers.remove(&oldest);
        }
        self.order.push_back(handle.clone());
        self.offers
            .insert(handle, (offer.clone(), FileState::Offered));
        let auto = !own && !line.history && offer.file.size <= self.settings.auto_get;
        if auto {
            let _ = self.get(&offer.file.hash, true, "");
        }
        Some(offer)
    }

    /// The offer `handle` names (a prefix of at least 4 hex digits will do).
    fn find(&self, handle: &str) -> Result<&(Offer, FileState), String> {
        let handle = handle.trim().to_ascii_lowercase();
        if let Some(found) = self.offers.get(&handle) {
            return Ok(found);
        }
        let mut found = self
            .offers
            .iter()
            .filter(|(h, _)| handle.len() >= 4 && h.starts_with(&handle));
        match (found.next(), found.next()) {
            (Some((_, found)), None) => Ok(found),
            (Some(_), Some(_)) => Err(format!("{handle:?} names several files; give more of it")),
            _ => Err(format!("no file shared here is {handle:?} (see /files)")),
        }
    }

    fn set_state(&mut self, handle: &str, state: FileState) {
        if let Some((_, current)) = self.offers.get_mut(handle) {
            *current = state;
        }
    }

    /// The name of the file `hash` is, as shared.
    pub fn name_of(&self, hash: &str) -> Option<&str> {
        self.offers
            .get(hash)
            .map(|(offer, _)| offer.file.name.as_str())
    }

    /// `/files`: the files shared in `place`, oldest first, with where each is.
    pub fn list(&self, place: Place) -> Vec<SharedFile> {
        self.order
            .iter()
            .filter_map(|handle| self.offers.get(handle))
            .filter(|(offer, _)| offer.place == place)
            .map(|(offer, state)| SharedFile {
                offer: offer.clone(),
                state: state.clone(),
            })
            .collect()
    }
}

/// What an offer says, wherever it was made.
struct OfferLine {
    file: FileRef,
    from: MemberInfo,
    /// Loaded from history (never fetched by itself).
    history: bool,
}

//! Shared files between the rooms and the front ends: which files were offered (by hash; a
//! handle, its first 8 hex digits, or any prefix of 4 and more names one when only one has it),
//! in a room or a direct message, who may fetch what (the node's gate: a room's members what
//! was offered in that room, a conversation's peer what was offered in it), sharing a path, and fetching one into the download directory with
//! throttled progress.

use std::collections::{HashMap, VecDeque};

use tokio::sync::mpsc;

mod auto;
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
/// Providers back, waiting for a fetch under way to dial them again.
const BACK_QUEUE: usize = 8;

pub struct Files {
    node: Node,
    settings: FileSettings,
    offers: HashMap<String, (Offer, FileState)>,
    order: VecDeque<String>,
    /// Each room's members: who else may hold its files (the node's gate has them too).
    members: HashMap<RoomKey, Vec<EndpointId>>,
    /// The providers each fetch under way asked: the ones to wait for if all go away.
    tried: HashMap<String, Vec<EndpointId>>,
    /// Each fetch under way: where to tell it that one of its providers is back.
    running: HashMap<String, mpsc::Sender<EndpointId>>,
    updates_tx: mpsc::Sender<FileUpdate>,
    /// `--auto-get`'s quotas and the automatic fetches running.
    auto: auto::AutoQuota,
}

impl Files {
    /// Where progress about our files goes (hashing a file being shared reports there).
    pub fn updates(&self) -> mpsc::Sender<FileUpdate> {
        self.updates_tx.clone()
    }

    pub fn new(node: Node, settings: FileSettings) -> (Self, mpsc::Receiver<FileUpdate>) {
        let (updates_tx, updates) = mpsc::channel(256);
        // The node's gate tells of a file shared by reference that changed since.
        let (changed_tx, mut changed) = mpsc::channel(16);
        node.files_tell(changed_tx);
        let told = updates_tx.clone();
        tokio::spawn(async move {
            while let Some(reason) = changed.recv().await {
                let _ = told.send(FileUpdate::Changed { reason }).await;
            }
        });
        let files = Self {
            node,
            settings,
            offers: HashMap::new(),
            order: VecDeque::new(),
            members: HashMap::new(),
            tried: HashMap::new(),
            running: HashMap::new(),
            updates_tx,
            auto: auto::AutoQuota::new(),
        };
        (files, updates)
    }

    /// Learn from a room's event: its members may fetch the files offered there; a line with
    /// a file is an offer (returned when new, and fetched at once when within `--auto-get`);
    /// an ignored key may fetch nothing.
    pub fn note(&mut self, room: RoomKey, event: &SessionEvent) -> Option<Offer> {
        match event {
            SessionEvent::Members(members) => {
                let ids: Vec<EndpointId> = members.iter().map(|m| m.id).collect();
                self.node.files_room_members(room, ids.iter().copied());
                self.members.insert(room, ids);
                None
            }
            SessionEvent::Room(Event::MemberJoined(member)) => {
                // Here now, before the next member list says so.
                let here = self.members.entry(room).or_default();
                if !here.contains(&member.id) {
                    here.push(member.id);
                    self.node.files_member_joined(room, member.id);
                }
                self.back(member);
                None
            }
            SessionEvent::Room(Event::Ignored { member, ignored }) => {
                self.node.files_ignore(room, member.id, *ignored);
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

    /// Learn from a direct message (`me` is our key): one with a file is an offer, as in a
    /// room, which its peer may fetch.
    pub fn note_direct(&mut self, message: &DirectMessage, me: &EndpointId) -> Option<Offer> {
        let peer = message.peer(me);
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
        let offer = OfferLine {
            file,
            from: line.author.clone(),
            history: line.history,
        };
        self.offer(Place::Direct(line.peer), offer, line.own);
    }

    /// A room is gone: its members no longer count.
    pub fn room_ended(&mut self, room: RoomKey) {
        self.members.remove(&room);
        self.node.files_room_gone(room);
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
        // Whoever is where it was offered may fetch it from us (once we hold it): where we
        // offer it, and where someone else offered it first. Someone offering again, in
        // another place, a hash we know from elsewhere gets its members nothing of ours: they
        // fetch from that sender (else knowing a hash would open it to any room).
        let known = self.offers.contains_key(&handle);
        if own || !known {
            self.node.files_offered(&handle, place);
        }
        if known {
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
        let auto = !own
            && !line.history
            && self.settings.auto_get > 0
            && offer.file.size <= self.settings.auto_get;
        if auto {
            self.auto_get(&offer);
        }
        Some(offer)
    }

    /// Fetch `offer` by itself if the quotas allow; else say why (it waits for `/get`).
    fn auto_get(&mut self, offer: &Offer) {
        let (hash, size) = (offer.file.hash.as_str(), offer.file.size);
        let now = std::time::Instant::now();
        if let Err(reason) = self
            .auto
            .admit(&self.settings, &offer.from, (hash, size), now)
        {
            let hash = hash.to_string();
            let _ = self
                .updates_tx
                .try_send(FileUpdate::NotFetched { hash, reason });
            return;
        }
        let _ = self.get(hash, true, "");
        if !matches!(self.offers.get(hash), Some((_, FileState::Fetching { .. }))) {
            self.auto.ended(hash);
        }
    }

    /// `/unshare HANDLE`: a file we shared (or fetched) is served to nobody from now on and
    /// no longer kept for it; one of ours is no longer listed either.
    pub async fn unshare(&mut self, handle: &str) -> Result<String, String> {
        let (offer, _) = self.find(handle)?.clone();
        let hash = offer.file.hash.clone();
        self.node
            .unshare_file(&hash)
            .await
            .map_err(|err| format!("{err:#}"))?;
        let name = &offer.file.name;
        if !offer.own {
            return Ok(format!("{name} is no longer served to anyone by you"));
        }
        self.offers.remove(&hash);
        self.order.retain(|h| *h != hash);
        Ok(format!(
            "{name} is no longer shared: nobody can fetch it from you (those who have it still may share it)"
        ))
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

/// The keys ignored in room `key` (`topic`) in earlier runs may fetch nothing from us: read
/// from the store in the background (the room itself hides them without an event).
pub(crate) fn ignored_from_disk(
    node: &Node,
    store: Option<crate::store::StoreHandle>,
    key: RoomKey,
    topic: crate::proto::TopicId,
) {
    let (Some(store), node) = (store, node.clone()) else {
        return;
    };
    tokio::spawn(async move {
        if let Ok(Ok(ids)) = store.call(move |s| s.ignored(topic)).await {
            for id in ids {
                node.files_ignore(key, id, true);
            }
        }
    });
}

/// What an offer says, wherever it was made.
struct OfferLine {
    file: FileRef,
    from: MemberInfo,
    /// Loaded from history (never fetched by itself).
    history: bool,
}

//! Shared files between the rooms and the front ends: which files were offered (by hash; a
//! handle, its first 8 hex digits, or any prefix of 4 and more names one when only one has it),
//! in a room or a direct message, who may fetch ours (every member of our rooms and everyone
//! we write to privately), sharing a path, and fetching one into the download directory with
//! throttled progress.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;

use tokio::sync::mpsc;

mod share;
mod transfer;

#[cfg(test)]
mod tests;

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
use crate::store::downloads::{default_download_dir, show_size};

/// Offers remembered (the oldest forgotten first): a room can share many files.
const MAX_OFFERS: usize = 4096;
/// People we exchanged direct messages with this run, kept as allowed to fetch at most.
const MAX_DIRECT_PEERS: usize = 4096;
/// Providers back, waiting for a fetch under way to dial them again.
const BACK_QUEUE: usize = 8;

/// Where a file was offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    Room(RoomKey),
    /// A direct message, in the conversation with this peer.
    Direct(EndpointId),
}

/// A file someone shared in one of our rooms or conversations.
#[derive(Debug, Clone)]
pub struct Offer {
    pub file: FileRef,
    pub from: MemberInfo,
    pub place: Place,
    /// Ours: nothing to fetch.
    pub own: bool,
}

/// What became of a fetch.
#[derive(Debug, Clone)]
pub enum FileUpdate {
    Progress {
        /// The file's whole hash (front ends show its handle).
        hash: String,
        done: u64,
        total: u64,
        /// Bytes a second since the fetch began.
        rate: u64,
    },
    Saved {
        /// The file's whole hash (front ends show its handle).
        hash: String,
        path: PathBuf,
    },
    Failed {
        /// The file's whole hash (front ends show its handle).
        hash: String,
        reason: String,
        /// Its providers were gone: it starts again by itself when one is back.
        waiting: bool,
    },
    /// Time to try a waiting fetch again (if it still waits).
    Retry { hash: String },
    /// A fetch waiting for its providers started again: `who` is back.
    Resumed {
        /// The file's whole hash (front ends show its handle).
        hash: String,
        who: String,
    },
}

/// Where a file is: offered, being fetched, saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Offered,
    Fetching {
        done: u64,
    },
    Saved(PathBuf),
    Failed(String),
    /// Its providers are gone; fetched again when one is back.
    Waiting(String),
}

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

    /// `member` is (back) in one of our rooms: the fetches waiting for it start again, and
    /// those under way dial it again. (A fetch under way may be stuck on it: its old
    /// connection dead without knowing it, the others holding nothing, until the stall
    /// timeout.)
    fn back(&mut self, member: &MemberInfo) {
        let theirs: Vec<(String, bool)> = self
            .offers
            .iter()
            .filter(|(hash, _)| {
                self.tried
                    .get(*hash)
                    .is_some_and(|t| t.contains(&member.id))
            })
            .filter_map(|(hash, (_, state))| match state {
                FileState::Waiting(_) => Some((hash.clone(), true)),
                FileState::Fetching { .. } => Some((hash.clone(), false)),
                _ => None,
            })
            .collect();
        for (hash, waiting) in theirs {
            let restarted = waiting && self.get(&hash, true, "").is_ok();
            // Dialed patiently either way: it may refuse us until its member list has us.
            let told = self
                .running
                .get(&hash)
                .is_some_and(|fetch| fetch.try_send(member.id).is_ok());
            let resumed = restarted || (!waiting && told);
            if resumed {
                let who = member.display.clone();
                let _ = self.updates_tx.try_send(FileUpdate::Resumed { hash, who });
            }
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

    /// `/get HANDLE`: fetch it from its sender or any member of its room, then save it in
    /// the download directory; progress and the end come as [`FileUpdate`]s. Above
    /// `--max-get`, only when `force`.
    /// `force_hint`: how this front end fetches anyway (`/get HANDLE again`, `--force`).
    pub fn get(&mut self, handle: &str, force: bool, force_hint: &str) -> Result<String, String> {
        let (offer, state) = self.find(handle)?.clone();
        let handle = offer.file.hash.clone();
        if offer.own {
            return Err(format!("{} is yours", offer.file.name));
        }
        // Nothing to do is no failure: say where it is.
        match state {
            FileState::Fetching { .. } => {
                return Ok(format!("{} is on its way already", offer.file.name));
            }
            FileState::Saved(path) => {
                return Ok(format!(
                    "{} is already saved as {}",
                    offer.file.name,
                    path.display()
                ));
            }
            FileState::Offered | FileState::Failed(_) | FileState::Waiting(_) => {}
        }
        if offer.file.size > self.settings.max_get && !force {
            return Err(format!(
                "{} is {}, more than --max-get or max_get ({}): {force_hint}",
                offer.file.name,
                show_size(offer.file.size),
                show_size(self.settings.max_get)
            ));
        }
        let dir = self.download_dir()?;
        let mut providers = vec![offer.from.id];
        if let Place::Room(room) = offer.place
            && let Some(members) = self.members.get(&room)
        {
            let me = self.node.id();
            let mut others: Vec<EndpointId> =
                members.iter().copied().filter(|id| *id != me).collect();
            // In a large room only some are asked (the sender first): not always the same.
            rand::seq::SliceRandom::shuffle(&mut others[..], &mut rand::rng());
            // Nobody who could send it is in the room: say so now rather than after the
            // connection attempts time out, and start when someone comes.
            if others.is_empty() {
                self.tried.insert(handle.clone(), providers);
                let who = &offer.from.display;
                let reason = format!(
                    "{who} is not in the room, nor anyone else who could send it; fetching starts by itself when {who} is back"
                );
                self.set_state(&handle, FileState::Waiting(reason.clone()));
                // Accepted, and carried out later: no failure.
                return Ok(reason);
            }
            providers.extend(others);
        }
        self.set_state(&handle, FileState::Fetching { done: 0 });
        self.tried.insert(handle.clone(), providers.clone());
        let (back_tx, back) = mpsc::channel(BACK_QUEUE);
        self.running.insert(handle.clone(), back_tx);
        tokio::spawn(transfer::fetch(
            self.node.clone(),
            offer.file.clone(),
            (providers, back),
            dir,
            self.updates_tx.clone(),
        ));
        Ok(format!(
            "fetching {} ({})",
            offer.file.name,
            show_size(offer.file.size)
        ))
    }

    fn download_dir(&self) -> Result<PathBuf, String> {
        self.settings
            .download_dir
            .clone()
            .or_else(default_download_dir)
            .ok_or_else(|| "no download directory: pass --download-dir DIR".to_string())
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

    /// Keep track of a fetch's update (for `/files`).
    pub fn update(&mut self, update: &FileUpdate) {
        let (hash, state) = match update {
            FileUpdate::Progress { hash, done, .. } => (hash, FileState::Fetching { done: *done }),
            FileUpdate::Saved { hash, path } => (hash, FileState::Saved(path.clone())),
            FileUpdate::Failed {
                hash,
                reason,
                waiting: true,
            } => (hash, FileState::Waiting(reason.clone())),
            FileUpdate::Failed { hash, reason, .. } => (hash, FileState::Failed(reason.clone())),
            FileUpdate::Resumed { .. } => return,
            FileUpdate::Retry { hash } => {
                if matches!(self.offers.get(hash), Some((_, FileState::Waiting(_)))) {
                    let _ = self.get(hash, true, "");
                }
                return;
            }
        };
        if !matches!(state, FileState::Fetching { .. }) {
            self.running.remove(hash);
        }
        if !matches!(state, FileState::Fetching { .. } | FileState::Waiting(_)) {
            self.tried.remove(hash);
        }
        self.set_state(hash, state);
    }

    /// `/files`: the files shared in `place`, oldest first, with where each is.
    pub fn list(&self, place: Place) -> Vec<String> {
        self.order
            .iter()
            .filter_map(|handle| self.offers.get(handle))
            .filter(|(offer, _)| offer.place == place)
            .map(|(offer, state)| {
                let state = match state {
                    FileState::Offered if offer.own => "yours".to_string(),
                    FileState::Offered => format!("/get {}", offer.file.handle()),
                    FileState::Fetching { done } => format!(
                        "fetching, {}%",
                        done.saturating_mul(100) / offer.file.size.max(1)
                    ),
                    FileState::Saved(path) => format!("saved as {}", path.display()),
                    FileState::Failed(why) => format!("failed: {why}"),
                    FileState::Waiting(why) => format!("waiting for a provider: {why}"),
                };
                format!(
                    "{} {} ({}) from {}: {state}",
                    offer.file.handle(),
                    offer.file.name,
                    show_size(offer.file.size),
                    offer.from.display
                )
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

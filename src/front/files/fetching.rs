//! Fetching offered files: `/get`, what became of each fetch, and fetches that start again
//! (or dial again) when one of their providers is back.

use std::path::PathBuf;

use tokio::sync::mpsc;

use super::{BACK_QUEUE, FileState, Files, Place, transfer};
use crate::present::show_size;
use crate::proto::{EndpointId, MemberInfo};
use crate::store::downloads::default_download_dir;

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
    /// A file we share is being read and hashed (`/send`): `done` of `total` bytes; the last
    /// one has `done == total` (or the share failed and says so on its own).
    Hashing { name: String, done: u64, total: u64 },
    /// An offer within `--auto-get` was not fetched by itself: a quota (`reason`) was
    /// reached. `/get` still fetches it.
    NotFetched { hash: String, reason: String },
    /// A file we shared by reference changed on disk since: no longer served (told once).
    Changed { reason: String },
    /// A fetch waiting for its providers started again: `who` is back.
    Resumed {
        /// The file's whole hash (front ends show its handle).
        hash: String,
        who: String,
    },
}

impl Files {
    /// `member` is (back) in one of our rooms: the fetches waiting for it start again, and
    /// those under way dial it again. (A fetch under way may be stuck on it: its old
    /// connection dead without knowing it, the others holding nothing, until the stall
    /// timeout.)
    pub(super) fn back(&mut self, member: &MemberInfo) {
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
            FileUpdate::Resumed { .. }
            | FileUpdate::Hashing { .. }
            | FileUpdate::NotFetched { .. }
            | FileUpdate::Changed { .. } => return,
            FileUpdate::Retry { hash } => {
                if matches!(self.offers.get(hash), Some((_, FileState::Waiting(_)))) {
                    let _ = self.get(hash, true, "");
                }
                return;
            }
        };
        if !matches!(state, FileState::Fetching { .. }) {
            self.running.remove(hash);
            self.auto.ended(hash);
        }
        if !matches!(state, FileState::Fetching { .. } | FileState::Waiting(_)) {
            self.tried.remove(hash);
        }
        self.set_state(hash, state);
    }
}

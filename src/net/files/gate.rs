//! The provider's gate: every connection and every request on it is answered from
//! [`Access`], so a peer dropped from a room (or a file withdrawn) is refused its next request
//! even on a connection it already has. Push requests stay disabled (iroh-blobs' default):
//! nobody writes to our store. If the gate's task ended, the provider would refuse everyone:
//! it fails closed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use iroh_blobs::provider::events::{
    AbortReason, ConnectMode, EventMask, EventSender, ObserveMode, ProviderMessage, RequestMode,
};

use super::GATE_QUEUE;
use super::access::Access;
use crate::model::files::Place;
use crate::model::rooms::RoomKey;
use crate::proto::EndpointId;

pub(super) fn gate(access: Arc<Mutex<Access>>, served: Arc<AtomicU64>) -> EventSender {
    let mask = EventMask {
        connected: ConnectMode::Intercept,
        get: RequestMode::Intercept,
        get_many: RequestMode::Intercept,
        observe: ObserveMode::Intercept,
        ..EventMask::DEFAULT
    };
    let (events, mut asks) = EventSender::channel(GATE_QUEUE, mask);
    tokio::spawn(async move {
        // The peer of each connection we accepted, until it closes (the provider reports
        // every close): requests carry only the connection's id.
        let mut peers: HashMap<u64, EndpointId> = HashMap::new();
        let verdict = |allowed: bool| match allowed {
            true => Ok(()),
            false => Err(AbortReason::Permission),
        };
        while let Some(ask) = asks.recv().await {
            match ask {
                ProviderMessage::ClientConnected(ask) => {
                    let peer = ask.endpoint_id;
                    let answer = verdict(peer.is_some_and(|id| lock(&access).may_connect(&id)));
                    if let (Ok(()), Some(id)) = (answer, peer) {
                        peers.insert(ask.connection_id, id);
                    }
                    ask.tx.send(answer).await.ok();
                }
                ProviderMessage::ConnectionClosed(closed) => {
                    peers.remove(&closed.connection_id);
                }
                ProviderMessage::GetRequestReceived(ask) => {
                    // One blob only: a hash sequence's children are hashes nobody offered
                    // here (a file of ours could be made to look like one).
                    let request = &ask.request;
                    let allowed = request.ranges.is_blob()
                        && peers
                            .get(&ask.connection_id)
                            .is_some_and(|peer| lock(&access).may_fetch(peer, &request.hash))
                        && unchanged(&access, &request.hash).await;
                    if allowed {
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                    ask.tx.send(verdict(allowed)).await.ok();
                }
                // Never asked by parlor: refused rather than checked hash by hash.
                ProviderMessage::GetManyRequestReceived(ask) => {
                    ask.tx.send(verdict(false)).await.ok();
                }
                ProviderMessage::ObserveRequestReceived(ask) => {
                    let hash = ask.request.hash;
                    let allowed = peers
                        .get(&ask.connection_id)
                        .is_some_and(|peer| lock(&access).may_fetch(peer, &hash))
                        && unchanged(&access, &hash).await;
                    ask.tx.send(verdict(allowed)).await.ok();
                }
                // Notifications only (nothing asked for them).
                _ => {}
            }
        }
    });
    events
}

/// A file shared by reference is served only while its size and modification time are the
/// ones it was hashed with: after an edit its bytes are no longer the hash's, and receivers
/// would get data that fails verification. The user is told once.
async fn unchanged(access: &Mutex<Access>, hash: &iroh_blobs::Hash) -> bool {
    let Some(reference) = lock(access).reference(hash) else {
        return true;
    };
    let now = tokio::fs::metadata(&reference.path)
        .await
        .ok()
        .map(|meta| (meta.len(), meta.modified().ok()));
    if now == Some((reference.size, reference.modified)) {
        return true;
    }
    let tell = lock(access).changed(*hash);
    if let Some(tell) = tell {
        let why = format!(
            "{} changed since it was shared: no longer served (/send it again to share it as \
             it is now)",
            reference.path.display()
        );
        tell.try_send(why).ok();
    }
    false
}

pub(super) fn lock(access: &Mutex<Access>) -> MutexGuard<'_, Access> {
    // Nothing panics while holding it; a poisoned one is still the right one.
    access.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the gate is told: where files were offered and who is where.
impl crate::net::Node {
    fn access(&self) -> MutexGuard<'_, Access> {
        lock(&self.files.access)
    }

    /// `hash` was offered in `place` (by us, or by someone else: once we hold it, we serve
    /// it there too). A hash that is no hash is ignored (nobody could fetch it).
    pub fn files_offered(&self, hash: &str, place: Place) {
        if let Ok(hash) = super::parse_hash(hash) {
            self.access().offered(hash, place);
        }
    }

    /// Exactly these are `room`'s members now: they may fetch what was offered there.
    pub fn files_room_members(&self, room: RoomKey, peers: impl IntoIterator<Item = EndpointId>) {
        self.access().members(room, peers);
    }

    /// `peer` joined `room`.
    pub fn files_member_joined(&self, room: RoomKey, peer: EndpointId) {
        self.access().joined(room, peer);
    }

    /// `room` is gone: its members may no longer fetch what was offered there.
    pub fn files_room_gone(&self, room: RoomKey) {
        self.access().room_gone(room);
    }

    /// `peer` is ignored in `room` (`ignored`), or no longer: an ignored key may fetch nothing.
    pub fn files_ignore(&self, room: RoomKey, peer: EndpointId, ignored: bool) {
        self.access().ignore(room, peer, ignored);
    }

    /// `/unshare`: `hash` is served to nobody from now on (even when offered again) and no
    /// longer kept for sharing (its tag dropped: a garbage collection may take it).
    pub async fn unshare_file(&self, hash: &str) -> anyhow::Result<()> {
        let hash = super::parse_hash(hash)?;
        self.access().withdrawn(hash);
        self.files
            .store
            .get()
            .await?
            .tags()
            .delete(super::tag_name(hash))
            .await?;
        Ok(())
    }

    /// Where the user is told that a file shared by reference changed (why): once
    /// per file.
    pub fn files_tell(&self, tell: tokio::sync::mpsc::Sender<String>) {
        self.access().tell = Some(tell);
    }

    /// Tests only: collect the store's unneeded blobs at the next tick.
    #[cfg(test)]
    pub fn collect_files_soon(&self) {
        self.access().schedule.now = true;
    }

    /// Tests only: these peers may fetch any hash from us (nodes with no front end to say
    /// where files were offered).
    #[cfg(test)]
    pub fn allow_files(&self, peers: impl IntoIterator<Item = EndpointId>) {
        self.access().anyone = peers.into_iter().collect();
    }
}

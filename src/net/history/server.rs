//! The answering side of `parlor/history/1`. Anyone who knows our endpoint id can connect, so
//! everything a request can make us hold is bounded: how long (a read and a write timeout per
//! request), how many at once (per peer and in total), and how much (the answer caps).
//!
//! A request is read first (a short timeout, a few at once per peer, a bounded number in all),
//! and only then takes one of the few places where requests are served: a stranger that
//! connects and sends nothing holds no serving place. Part of the serving places is kept for
//! keys we know ([`Known`]: members of a live room with us), so a stranger with many keys cannot
//! hold them all. A request over a limit is refused by closing its connection with
//! [`CLOSE_BUSY`]: no session is asked, nothing is kept; the asker asks another member.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::EndpointId;
use iroh::endpoint::{Connection, SendStream};
use iroh::protocol::{AcceptError, ProtocolHandler};
use tokio::sync::oneshot;

use super::super::known::Known;
use super::{
    HistoryQuery, HistoryRoutes, MAX_ANSWER_BYTES, MAX_ANSWER_ENVELOPES, decode_request,
    request_len,
};
use crate::proto::backlog::Page;
use crate::proto::{TopicId, UnixMillis};

/// Connection close codes, so an asker (and a test) can tell why it was cut off.
pub const CLOSE_BAD_REQUEST: u32 = 1;
/// Over the concurrency limits: ask someone else.
pub const CLOSE_BUSY: u32 = 2;
/// The request did not arrive, or the answer was not taken, in time.
pub const CLOSE_TIMED_OUT: u32 = 3;

/// Requests being read at once, in all (each holds at most a 1 KiB request for
/// [`ServeLimits::read_timeout`]).
const READING: usize = 64;
/// An answer is written in pieces of about this size, not copied whole into one buffer.
const WRITE_CHUNK: usize = 64 * 1024;

/// What one history server lets peers make it hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// From the connection to the whole request read (a peer that never sends one is cut off).
    pub read_timeout: Duration,
    /// From the request to the asker hanging up after reading the answer (a peer that never
    /// reads is cut off).
    pub write_timeout: Duration,
    /// Requests served at once for one peer, whatever the rooms.
    pub per_peer: usize,
    /// Requests served at once for one peer about one room: a member in several rooms with
    /// us rejoins them all at once (a page and a member list each), which `per_peer` alone
    /// would refuse, sending it round again for seconds.
    pub per_room: usize,
    /// Requests served at once in all. Peer ids cost nothing to make, so this is the bound
    /// that holds against one member with many keys.
    pub total: usize,
    /// Of `total`, the places only keys we know may take.
    pub reserved: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            // An honest asker sends its request with the connection; a slow path still
            // delivers 1 KiB in well under this.
            read_timeout: Duration::from_secs(3),
            write_timeout: Duration::from_secs(10),
            per_peer: 12,
            per_room: 2,
            total: 16,
            reserved: 6,
        }
    }
}

/// Requests being served, in all and per peer (a peer is listed only while it has one, so
/// the map never holds more than `total` entries).
#[derive(Debug, Default)]
struct Busy {
    total: usize,
    per_peer: HashMap<EndpointId, usize>,
}

/// The limits and what is being served, shared by every connection of one server (also the
/// direct-message server's: `net::direct`).
#[derive(Debug, Clone)]
pub(in crate::net) struct Load {
    limits: ServeLimits,
    busy: Arc<Mutex<Busy>>,
}

/// One request being served; frees its place when dropped, however the request ends.
pub(in crate::net) struct Slot {
    busy: Arc<Mutex<Busy>>,
    peer: EndpointId,
}

fn lock(busy: &Mutex<Busy>) -> std::sync::MutexGuard<'_, Busy> {
    // Nothing panics while holding it; a poisoned count is still right.
    busy.lock().unwrap_or_else(|p| p.into_inner())
}

impl Load {
    pub(in crate::net) fn new(limits: ServeLimits) -> Self {
        Self {
            limits,
            busy: Default::default(),
        }
    }

    /// A place for one more request of `peer`, a key we know, unless that is over a limit.
    pub(in crate::net) fn take(&self, peer: EndpointId) -> Option<Slot> {
        self.take_for(peer, true)
    }

    /// A place for one more request of `peer`; one we do not know (`known` false) may not
    /// take the last [`ServeLimits::reserved`] places.
    pub(in crate::net) fn take_for(&self, peer: EndpointId, known: bool) -> Option<Slot> {
        let mut busy = lock(&self.busy);
        let mine = busy.per_peer.get(&peer).copied().unwrap_or(0);
        let total = match known {
            true => self.limits.total,
            false => self.limits.total.saturating_sub(self.limits.reserved),
        };
        if busy.total >= total || mine >= self.limits.per_peer {
            return None;
        }
        busy.total += 1;
        *busy.per_peer.entry(peer).or_default() += 1;
        Some(Slot {
            busy: self.busy.clone(),
            peer,
        })
    }

    /// Requests being served: in all, and for `peer`.
    #[cfg(test)]
    fn serving(&self, peer: &EndpointId) -> (usize, usize) {
        let busy = lock(&self.busy);
        (busy.total, busy.per_peer.get(peer).copied().unwrap_or(0))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut busy = lock(&self.busy);
        busy.total = busy.total.saturating_sub(1);
        if let Some(mine) = busy.per_peer.get_mut(&self.peer) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                busy.per_peer.remove(&self.peer);
            }
        }
    }
}

/// Why serving one request stopped early.
enum Cut {
    TimedOut(&'static str),
    /// Over a limit: requests being read or served, for the peer, the room or in all.
    Busy,
    Failed(anyhow::Error),
}

/// What a peer asked for, parsed.
struct Asked {
    topic: TopicId,
    since: UnixMillis,
    limit: usize,
    page: Page,
}

/// Serves catch-up requests by asking the room's session over its channel.
#[derive(Clone)]
pub struct HistoryServer {
    routes: HistoryRoutes,
    /// Requests being read (before they take a place in `load`).
    reading: Load,
    load: Load,
    known: Known,
    /// Requests being served per (peer, room), see [`ServeLimits::per_room`].
    rooms: Arc<Mutex<HashMap<(EndpointId, TopicId), usize>>>,
}

type Rooms = Mutex<HashMap<(EndpointId, TopicId), usize>>;

fn lock_rooms(rooms: &Rooms) -> std::sync::MutexGuard<'_, HashMap<(EndpointId, TopicId), usize>> {
    // Nothing panics while holding it; a poisoned count is still right.
    rooms.lock().unwrap_or_else(|p| p.into_inner())
}

/// One request about one room being served; frees its place when dropped.
pub(super) struct RoomSlot {
    rooms: Arc<Mutex<HashMap<(EndpointId, TopicId), usize>>>,
    key: (EndpointId, TopicId),
}

impl Drop for RoomSlot {
    fn drop(&mut self) {
        let mut rooms = lock_rooms(&self.rooms);
        if let Some(count) = rooms.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                rooms.remove(&self.key);
            }
        }
    }
}

impl std::fmt::Debug for HistoryServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HistoryServer")
    }
}

impl HistoryServer {
    pub fn new(routes: HistoryRoutes, known: Known) -> Self {
        Self::with_limits(routes, ServeLimits::default(), known)
    }

    pub fn with_limits(routes: HistoryRoutes, limits: ServeLimits, known: Known) -> Self {
        let reading = ServeLimits {
            total: READING,
            reserved: 0,
            ..limits
        };
        Self {
            routes,
            reading: Load::new(reading),
            load: Load::new(limits),
            known,
            rooms: Arc::default(),
        }
    }

    /// A place for `peer`'s request about `topic`, within [`ServeLimits::per_room`].
    pub(super) fn take_room(&self, peer: EndpointId, topic: TopicId) -> Option<RoomSlot> {
        let mut rooms = lock_rooms(&self.rooms);
        let count = rooms.entry((peer, topic)).or_default();
        if *count >= self.load.limits.per_room {
            return None;
        }
        *count += 1;
        Some(RoomSlot {
            rooms: self.rooms.clone(),
            key: (peer, topic),
        })
    }

    /// Requests being served: in all, and for `peer`.
    #[cfg(test)]
    pub(super) fn serving(&self, peer: &EndpointId) -> (usize, usize) {
        self.load.serving(peer)
    }

    /// Take a place as a request of `peer` would.
    #[cfg(test)]
    pub(super) fn take(&self, peer: EndpointId) -> Option<Slot> {
        self.load.take(peer)
    }

    async fn ask(&self, asked: Asked, peer: EndpointId) -> Vec<Arc<[u8]>> {
        let (reply, answer) = oneshot::channel();
        let query = HistoryQuery {
            peer,
            topic: asked.topic,
            since: asked.since,
            limit: asked.limit,
            page: asked.page,
            reply,
        };
        let Some(session) = self.routes.get(&asked.topic) else {
            return Vec::new();
        };
        if session.try_send(query).is_err() {
            return Vec::new();
        }
        answer.await.unwrap_or_default()
    }

    /// Read the request, then serve it in a place of its own. The place is freed before the
    /// asker hears how it ended, so it may ask again at once.
    async fn serve(&self, conn: &Connection) -> Result<(), Cut> {
        let limits = self.load.limits;
        let peer = conn.remote_id();
        let reading = self.reading.take(peer).ok_or(Cut::Busy)?;
        let (mut send, asked) = tokio::time::timeout(limits.read_timeout, read_request(conn))
            .await
            .map_err(|_| Cut::TimedOut("no request"))?
            .map_err(Cut::Failed)?;
        drop(reading);
        let _slot = self
            .load
            .take_for(peer, self.known.is_known(&peer))
            .ok_or(Cut::Busy)?;
        let _room = self
            .take_room(conn.remote_id(), asked.topic)
            .ok_or(Cut::Busy)?;
        let answer = async {
            let envelopes = self.ask(asked, conn.remote_id()).await;
            write_answer(&mut send, capped(&envelopes)).await?;
            send.finish()?;
            // Stay until the asker has read it all and hangs up: leaving now would close the
            // connection under the data still in flight.
            conn.closed().await;
            anyhow::Ok(())
        };
        tokio::time::timeout(limits.write_timeout, answer)
            .await
            .map_err(|_| Cut::TimedOut("answer not taken"))?
            .map_err(Cut::Failed)
    }
}

impl ProtocolHandler for HistoryServer {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id();
        match self.serve(&conn).await {
            Ok(()) => {}
            Err(Cut::TimedOut(what)) => {
                tracing::debug!(peer = %peer.fmt_short(), "history request cut off: {what}");
                conn.close(CLOSE_TIMED_OUT.into(), b"timed out");
            }
            Err(Cut::Busy) => {
                tracing::debug!(peer = %peer.fmt_short(), "history request refused: busy");
                conn.close(CLOSE_BUSY.into(), b"busy");
            }
            Err(Cut::Failed(err)) => {
                tracing::debug!(peer = %peer.fmt_short(), "history request failed: {err:#}");
                conn.close(CLOSE_BAD_REQUEST.into(), b"bad request");
            }
        }
        Ok(())
    }
}

async fn read_request(conn: &Connection) -> anyhow::Result<(SendStream, Asked)> {
    let (send, mut recv) = conn.accept_bi().await?;
    let mut prefix = [0u8; 4];
    recv.read_exact(&mut prefix).await?;
    let mut body = vec![0u8; request_len(prefix)?];
    recv.read_exact(&mut body).await?;
    let request = decode_request(&body)?;
    let asked = Asked {
        topic: request.topic,
        since: request.since,
        limit: request.limit as usize,
        page: request.page,
    };
    Ok((send, asked))
}

/// The longest prefix of `envelopes` an asker accepts: at most [`MAX_ANSWER_ENVELOPES`] and
/// [`MAX_ANSWER_BYTES`] framed (the session's answer is not trusted to respect them).
pub(super) fn capped(envelopes: &[Arc<[u8]>]) -> &[Arc<[u8]>] {
    let mut bytes = 0;
    let mut count = 0;
    for envelope in envelopes.iter().take(MAX_ANSWER_ENVELOPES) {
        bytes += 4 + envelope.len();
        if bytes > MAX_ANSWER_BYTES {
            break;
        }
        count += 1;
    }
    &envelopes[..count]
}

/// Frame and write `envelopes` a chunk at a time.
async fn write_answer(send: &mut SendStream, envelopes: &[Arc<[u8]>]) -> anyhow::Result<()> {
    let mut chunk = Vec::with_capacity(WRITE_CHUNK);
    for envelope in envelopes {
        if !chunk.is_empty() && chunk.len() + 4 + envelope.len() > WRITE_CHUNK {
            send.write_all(&chunk).await?;
            chunk.clear();
        }
        let len = u32::try_from(envelope.len())?;
        chunk.extend_from_slice(&len.to_be_bytes());
        chunk.extend_from_slice(envelope);
    }
    if !chunk.is_empty() {
        send.write_all(&chunk).await?;
    }
    Ok(())
}

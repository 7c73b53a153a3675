//! `parlor/keys/1`: how a private room's key reaches a member (issue 23). A peer asks any
//! member for the current epoch of a room (named by its stable id, not its topic, which
//! changes with each epoch); the member's room session decides, from the connection's
//! authenticated key, whether that peer is a member in its signed state, and answers with the
//! state and key (opaque bytes here: sealing and the state are `proto`'s) or refuses. A member
//! offline during a rekey asks the same way when it comes back.
//!
//! Everything a peer can make us hold is bounded as for history (`history::server::Load`: per
//! peer and in total), with a read, an answer and a write timeout. The request is fixed-size:
//!
//! ```text
//! request = [version = 1] ‖ room id (32) ‖ epoch held (u64 BE; 0: none)
//! answer  = [1] ‖ bytes (≤ MAX_KEY_ANSWER_BYTES)   the room's answer
//!         | [0]                                    refused, or no such room here
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::endpoint::Connection;
use iroh::protocol::{AcceptError, ProtocolHandler};
use iroh::{Endpoint, EndpointAddr, EndpointId};
use tokio::sync::{mpsc, oneshot};

use super::history::server::{CLOSE_BAD_REQUEST, CLOSE_BUSY, CLOSE_TIMED_OUT, Load, ServeLimits};
use crate::proto::state::RoomId;

pub const KEYS_ALPN: &[u8] = b"parlor/keys/1";
const REQUEST_VERSION: u8 = 1;
const REQUEST_LEN: usize = 1 + 32 + 8;
/// The largest answer: a signed room state with its members and the key.
pub const MAX_KEY_ANSWER_BYTES: usize = 256 * 1024;
/// Queries waiting for one room's session; more are refused (it answers, or is stuck).
const QUERY_BACKLOG: usize = 16;
/// How long the room's session may take to decide.
const DECIDE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long asking may take in all (connecting included).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// One peer asking for a room's key: the session answers `Some(bytes)` to a member, `None`
/// to anyone else.
#[derive(Debug)]
pub struct KeyQuery {
    pub room: RoomId,
    /// The epoch the asker holds already (0: none).
    pub have_epoch: u64,
    /// The connection's authenticated key: who is asking, whatever it claims elsewhere.
    pub peer: EndpointId,
    pub reply: oneshot::Sender<Option<Vec<u8>>>,
}

/// Which session answers for which private room.
#[derive(Clone, Default)]
pub struct KeyRoutes {
    rooms: Arc<Mutex<HashMap<RoomId, mpsc::Sender<KeyQuery>>>>,
}

impl KeyRoutes {
    /// Route `room`'s key requests to the returned receiver (replacing an earlier route); a
    /// route ends when its receiver is dropped.
    pub fn add(&self, room: RoomId) -> mpsc::Receiver<KeyQuery> {
        let (queries, receiver) = mpsc::channel(QUERY_BACKLOG);
        let mut rooms = self.lock();
        rooms.retain(|_, route| !route.is_closed());
        rooms.insert(room, queries);
        receiver
    }

    fn get(&self, room: &RoomId) -> Option<mpsc::Sender<KeyQuery>> {
        self.lock().get(room).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, mpsc::Sender<KeyQuery>>> {
        // Nothing panics while holding it; a poisoned map still routes correctly.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A request as sent.
pub fn encode_key_request(room: &RoomId, have_epoch: u64) -> [u8; REQUEST_LEN] {
    let mut bytes = [0; REQUEST_LEN];
    bytes[0] = REQUEST_VERSION;
    bytes[1..33].copy_from_slice(room.as_bytes());
    bytes[33..].copy_from_slice(&have_epoch.to_be_bytes());
    bytes
}

/// A request as read: exactly [`REQUEST_LEN`] bytes of version 1.
pub fn decode_key_request(bytes: &[u8]) -> anyhow::Result<(RoomId, u64)> {
    anyhow::ensure!(
        bytes.len() == REQUEST_LEN,
        "request of {} bytes",
        bytes.len()
    );
    anyhow::ensure!(bytes[0] == REQUEST_VERSION, "request version {}", bytes[0]);
    let mut room = [0; 32];
    room.copy_from_slice(&bytes[1..33]);
    let mut epoch = [0; 8];
    epoch.copy_from_slice(&bytes[33..]);
    Ok((RoomId::from_bytes(room), u64::from_be_bytes(epoch)))
}

/// Why a key could not be had from one member.
#[derive(Debug, thiserror::Error)]
pub enum KeyFetchError {
    #[error("refused: not a member there, or no such room")]
    Refused,
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

/// Serves key requests by asking the room's session.
#[derive(Clone)]
pub struct KeyServer {
    routes: KeyRoutes,
    load: Load,
    limits: ServeLimits,
}

impl std::fmt::Debug for KeyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyServer")
    }
}

impl KeyServer {
    pub fn new(routes: KeyRoutes) -> Self {
        Self::with_limits(routes, ServeLimits::default())
    }

    pub fn with_limits(routes: KeyRoutes, limits: ServeLimits) -> Self {
        Self {
            routes,
            load: Load::new(limits),
            limits,
        }
    }

    /// The room session's answer for `peer`, `None` when refused, unknown or undecided.
    async fn decide(&self, room: RoomId, have_epoch: u64, peer: EndpointId) -> Option<Vec<u8>> {
        let session = self.routes.get(&room)?;
        let (reply, answer) = oneshot::channel();
        let query = KeyQuery {
            room,
            have_epoch,
            peer,
            reply,
        };
        session.try_send(query).ok()?;
        let answer = tokio::time::timeout(DECIDE_TIMEOUT, answer)
            .await
            .ok()?
            .ok()??;
        // A session never makes an answer this large; refusing is safer than cutting it.
        (answer.len() <= MAX_KEY_ANSWER_BYTES).then_some(answer)
    }

    async fn serve(&self, conn: &Connection) -> Result<(), (u32, &'static str)> {
        let read = async {
            let (send, mut recv) = conn.accept_bi().await?;
            let mut request = [0; REQUEST_LEN];
            recv.read_exact(&mut request).await?;
            anyhow::Ok((send, request))
        };
        let (mut send, request) = tokio::time::timeout(self.limits.read_timeout, read)
            .await
            .map_err(|_| (CLOSE_TIMED_OUT, "no request"))?
            .map_err(|_| (CLOSE_BAD_REQUEST, "bad request"))?;
        let (room, have_epoch) =
            decode_key_request(&request).map_err(|_| (CLOSE_BAD_REQUEST, "bad request"))?;
        let answer = self.decide(room, have_epoch, conn.remote_id()).await;
        let write = async {
            match answer {
                Some(bytes) => {
                    send.write_all(&[1]).await?;
                    send.write_all(&bytes).await?;
                }
                None => send.write_all(&[0]).await?,
            }
            send.finish()?;
            // Stay until the asker has read it all and hangs up.
            conn.closed().await;
            anyhow::Ok(())
        };
        tokio::time::timeout(self.limits.write_timeout, write)
            .await
            .map_err(|_| (CLOSE_TIMED_OUT, "answer not taken"))?
            .map_err(|_| (CLOSE_BAD_REQUEST, "failed"))
    }
}

impl ProtocolHandler for KeyServer {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id();
        let Some(slot) = self.load.take(peer) else {
            conn.close(CLOSE_BUSY.into(), b"busy");
            return Ok(());
        };
        let served = self.serve(&conn).await;
        drop(slot);
        if let Err((code, why)) = served {
            tracing::debug!(peer = %peer.fmt_short(), "key request ended: {why}");
            conn.close(code.into(), why.as_bytes());
        }
        Ok(())
    }
}

/// Ask `peer` for `room`'s current key and state, holding `have_epoch`.
pub async fn fetch_key(
    endpoint: &Endpoint,
    peer: impl Into<EndpointAddr>,
    room: RoomId,
    have_epoch: u64,
) -> Result<Vec<u8>, KeyFetchError> {
    let peer = peer.into();
    let work = async {
        let conn = endpoint.connect(peer, KEYS_ALPN).await?;
        let (mut send, mut recv) = conn.open_bi().await?;
        send.write_all(&encode_key_request(&room, have_epoch))
            .await?;
        send.finish()?;
        let answer = recv.read_to_end(1 + MAX_KEY_ANSWER_BYTES).await?;
        conn.close(0u32.into(), b"thanks");
        anyhow::Ok(answer)
    };
    let answer = tokio::time::timeout(FETCH_TIMEOUT, work)
        .await
        .map_err(|_| KeyFetchError::TimedOut(FETCH_TIMEOUT))?
        .map_err(KeyFetchError::Failed)?;
    match answer.split_first() {
        Some((1, bytes)) => Ok(bytes.to_vec()),
        Some((0, [])) => Err(KeyFetchError::Refused),
        _ => Err(KeyFetchError::Failed(anyhow::anyhow!("a malformed answer"))),
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;

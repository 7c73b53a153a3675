//! Catch-up over a direct connection on parlor's own ALPN (not over gossip): a member asks a
//! neighbour for the envelopes sent since some time and verifies every one itself.
//!
//! Protocol `parlor/history/1`, one bidirectional stream per request:
//! - request: `u32 BE length ‖ JSON {"topic": HEX, "since": UNIX_MS, "limit": N, "page":
//!   "newest"|"oldest"}` (`page` may be missing: `newest`, as the first version asked)
//! - answer: `(u32 BE length ‖ envelope)*`, then the stream ends. Envelopes are exactly what
//!   gossip carries (signed by their authors); the answerer cannot forge or alter any.
//!
//! Both sides bound everything: request size, envelope size, count and total bytes, time; the
//! server also bounds how many requests it serves at once (see [`server`]).

mod request;
pub(super) mod server;

pub use request::{HistoryRequest, decode_request, encode_request, request_len};
pub use server::{HistoryServer, ServeLimits};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::{Endpoint, EndpointId};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::proto::backlog::Page;
use crate::proto::wire::MAX_ENVELOPE_SIZE;
use crate::proto::{TopicId, UnixMillis};

pub const HISTORY_ALPN: &[u8] = b"parlor/history/1";
/// Most envelopes one answer may hold (messages plus their authors' names).
pub const MAX_ANSWER_ENVELOPES: usize = 4096;
/// Most bytes one answer may hold; an answerer stops adding envelopes before it.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;
/// A request is a few short fields: this bounds what a stranger can make us allocate.
pub const MAX_REQUEST_BYTES: u32 = 1024;

/// How long one catch-up may take before we give up on that peer.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Request {
    topic: String,
    since: u64,
    limit: u32,
    #[serde(default)]
    page: Page,
}

/// A peer's catch-up request, handed to whoever owns the room's history (the session loop),
/// which replies with the envelopes to send (nothing for a topic it is not in).
#[derive(Debug)]
pub struct HistoryQuery {
    /// The connection's authenticated key: a private room answers only its members.
    pub peer: EndpointId,
    pub topic: TopicId,
    pub since: UnixMillis,
    pub limit: usize,
    pub page: Page,
    pub reply: oneshot::Sender<Vec<Arc<[u8]>>>,
}

/// Queries waiting for one session; beyond this, requests get an empty answer (a flood of
/// requests must not queue up without bound).
pub const QUERY_BACKLOG: usize = 16;

/// Where each room's catch-up requests go: the session that is in the room. One node serves
/// several rooms; a request for a topic nobody here is in gets an empty answer.
#[derive(Clone, Default)]
pub struct HistoryRoutes {
    rooms: Arc<Mutex<HashMap<TopicId, mpsc::Sender<HistoryQuery>>>>,
}

impl HistoryRoutes {
    /// Route `topic`'s requests to the returned receiver (replacing an earlier route). A
    /// route ends when its receiver is dropped; ended routes are pruned here.
    pub fn add(&self, topic: TopicId) -> mpsc::Receiver<HistoryQuery> {
        let (queries, receiver) = mpsc::channel(QUERY_BACKLOG);
        let mut rooms = self.lock();
        rooms.retain(|_, route| !route.is_closed());
        rooms.insert(topic, queries);
        receiver
    }

    fn get(&self, topic: &TopicId) -> Option<mpsc::Sender<HistoryQuery>> {
        self.lock().get(topic).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TopicId, mpsc::Sender<HistoryQuery>>> {
        // Nothing panics while holding it; a poisoned map still routes correctly.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Split an answer into envelopes; any framing error drops the whole answer.
pub fn parse_answer(bytes: &[u8]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut envelopes = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        anyhow::ensure!(rest.len() >= 4, "truncated length");
        let (len, tail) = rest.split_at(4);
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        anyhow::ensure!(len <= MAX_ENVELOPE_SIZE, "envelope of {len} bytes");
        anyhow::ensure!(tail.len() >= len, "truncated envelope");
        anyhow::ensure!(envelopes.len() < MAX_ANSWER_ENVELOPES, "too many envelopes");
        let (envelope, tail) = tail.split_at(len);
        envelopes.push(envelope.to_vec());
        rest = tail;
    }
    Ok(envelopes)
}

/// Ask `peer` for `topic`'s envelopes sent since `since` (at most `limit` messages).
pub async fn fetch(
    endpoint: &Endpoint,
    peer: EndpointId,
    topic: TopicId,
    since: UnixMillis,
    limit: usize,
    page: Page,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let work = async {
        let conn = endpoint.connect(peer, HISTORY_ALPN).await?;
        let (mut send, mut recv) = conn.open_bi().await?;
        let request = encode_request(&HistoryRequest {
            topic,
            since,
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            page,
        });
        send.write_all(&request).await?;
        send.finish()?;
        let answer = recv.read_to_end(MAX_ANSWER_BYTES).await?;
        conn.close(0u32.into(), b"thanks");
        parse_answer(&answer)
    };
    tokio::time::timeout(FETCH_TIMEOUT, work)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {FETCH_TIMEOUT:?}"))?
}

#[cfg(test)]
pub(super) mod tests;

//! Catch-up over a direct connection on parlor's own ALPN (not over gossip): a member asks a
//! neighbour for the envelopes sent since some time and verifies every one itself.
//!
//! Protocol `parlor/history/1`, one bidirectional stream per request:
//! - request: `u32 BE length ‖ JSON {"topic": HEX, "since": UNIX_MS, "limit": N, "page":
//!   "newest"|"oldest"}` (`page` may be missing: `newest`, as the first version asked)
//! - answer: `(u32 BE length ‖ envelope)*`, then the stream ends. Envelopes are exactly what
//!   gossip carries (signed by their authors); the answerer cannot forge or alter any.
//!
//! Both sides bound everything: request size, envelope size, count and total bytes, time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::endpoint::Connection;
use iroh::protocol::{AcceptError, ProtocolHandler};
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

/// Serves catch-up requests by asking the room's session over its channel.
#[derive(Clone)]
pub struct HistoryServer {
    routes: HistoryRoutes,
}

impl std::fmt::Debug for HistoryServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HistoryServer")
    }
}

impl HistoryServer {
    pub fn new(routes: HistoryRoutes) -> Self {
        Self { routes }
    }

    async fn ask(
        &self,
        topic: TopicId,
        since: UnixMillis,
        limit: usize,
        page: Page,
    ) -> Vec<Arc<[u8]>> {
        let (reply, answer) = oneshot::channel();
        let query = HistoryQuery {
            topic,
            since,
            limit,
            page,
            reply,
        };
        let Some(session) = self.routes.get(&topic) else {
            return Vec::new();
        };
        if session.try_send(query).is_err() {
            return Vec::new();
        }
        answer.await.unwrap_or_default()
    }

    async fn serve(&self, conn: &Connection) -> anyhow::Result<()> {
        let (mut send, mut recv) = conn.accept_bi().await?;
        let mut prefix = [0u8; 4];
        recv.read_exact(&mut prefix).await?;
        let mut body = vec![0u8; request_len(prefix)?];
        recv.read_exact(&mut body).await?;
        let request = decode_request(&body)?;
        let envelopes = self
            .ask(
                request.topic,
                request.since,
                request.limit as usize,
                request.page,
            )
            .await;
        let mut answer = Vec::new();
        for envelope in envelopes.iter().take(MAX_ANSWER_ENVELOPES) {
            if answer.len() + envelope.len() + 4 > MAX_ANSWER_BYTES {
                break;
            }
            answer.extend_from_slice(&(envelope.len() as u32).to_be_bytes());
            answer.extend_from_slice(envelope);
        }
        send.write_all(&answer).await?;
        send.finish()?;
        // Stay until the asker has read it all and hangs up (bounded).
        let _ = tokio::time::timeout(FETCH_TIMEOUT, conn.closed()).await;
        Ok(())
    }
}

impl ProtocolHandler for HistoryServer {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        if let Err(err) = self.serve(&conn).await {
            tracing::debug!(peer = %conn.remote_id().fmt_short(), "history request failed: {err:#}");
            conn.close(1u32.into(), b"bad request");
        }
        Ok(())
    }
}

/// A catch-up request as both sides see it. The wire form is [`Request`]; these functions are
/// the only way in and out of it, so the fuzz targets and property tests exercise exactly the
/// code the network runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryRequest {
    pub topic: TopicId,
    pub since: UnixMillis,
    pub limit: u32,
    pub page: Page,
}

/// A request as sent: `u32 BE length ‖ JSON`.
pub fn encode_request(request: &HistoryRequest) -> Vec<u8> {
    // Serializing a struct of strings and integers to JSON cannot fail.
    let json = serde_json::to_vec(&Request {
        topic: request.topic.to_string(),
        since: request.since.0,
        limit: request.limit,
        page: request.page,
    })
    .unwrap_or_default();
    let mut frame = (json.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&json);
    frame
}

/// The body length a request's 4-byte prefix announces; refused above the request bound before
/// anything is allocated.
pub fn request_len(prefix: [u8; 4]) -> anyhow::Result<usize> {
    let len = u32::from_be_bytes(prefix);
    anyhow::ensure!(len <= MAX_REQUEST_BYTES, "request of {len} bytes");
    Ok(len as usize)
}

/// A request's JSON body, decoded and checked.
pub fn decode_request(body: &[u8]) -> anyhow::Result<HistoryRequest> {
    let request: Request = serde_json::from_slice(body)?;
    let topic: TopicId = request.topic.parse().map_err(anyhow::Error::msg)?;
    Ok(HistoryRequest {
        topic,
        since: UnixMillis(request.since),
        limit: request.limit,
        page: request.page,
    })
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
mod tests {
    use super::*;

    #[test]
    fn answers_parse_and_bad_framing_is_refused() {
        let mut good = Vec::new();
        for envelope in [&b"one"[..], b"", b"three"] {
            good.extend_from_slice(&(envelope.len() as u32).to_be_bytes());
            good.extend_from_slice(envelope);
        }
        assert_eq!(
            parse_answer(&good).unwrap(),
            vec![b"one".to_vec(), vec![], b"three".to_vec()]
        );
        assert!(parse_answer(&good[..good.len() - 1]).is_err());
        assert!(parse_answer(&[0, 0]).is_err());
        assert!(parse_answer(&u32::MAX.to_be_bytes()).is_err());
        assert!(parse_answer(&[]).unwrap().is_empty());
    }

    #[test]
    fn requests_round_trip_and_oversize_is_refused() {
        let request = HistoryRequest {
            topic: TopicId::from_bytes([3; 32]),
            since: UnixMillis(42),
            limit: 7,
            page: Page::Oldest,
        };
        let frame = encode_request(&request);
        let (prefix, body) = frame.split_at(4);
        assert_eq!(request_len(prefix.try_into().unwrap()).unwrap(), body.len());
        assert_eq!(decode_request(body).unwrap(), request);
        assert!(request_len((MAX_REQUEST_BYTES + 1).to_be_bytes()).is_err());
        // The first version sent no page: it means the newest.
        let old = format!(r#"{{"topic":"{}","since":1,"limit":2}}"#, request.topic);
        assert_eq!(decode_request(old.as_bytes()).unwrap().page, Page::Newest);
    }
}

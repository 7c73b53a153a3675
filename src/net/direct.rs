//! Direct messages over their own ALPN, `parlor/dm/1`, on a direct QUIC connection between
//! the two members (never through a room's gossip).
//!
//! One bidirectional stream per message: `u32 BE length ‖ envelope` one way, the addressee's
//! [`Ack`] (33 bytes) back, then both ends finish the stream. A sender with several messages
//! waiting sends them one after the other on one connection, each after the previous ack,
//! so the addressee saves them in order.
//!
//! Anyone who knows our id can connect, so the server bounds what a peer can make it hold:
//! connections served at once per peer and in all (refused over that by closing), one stream
//! at a time per connection (QUIC's stream limit and flow control hold the rest back), a
//! frame no larger than an envelope, a timeout on every read and on the answer, a bounded
//! inbox to the DM actor (full: `Busy`, the sender retries later), and a connection idle for
//! [`IDLE_TIMEOUT`] is closed. A key we do not know ([`Known`]) is refused on its connection's
//! key, before a byte is read or a signature checked; a connection that delivers
//! [`MAX_INVALID`] envelopes that do not verify is closed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use iroh::endpoint::{Connection, RecvStream, SendStream};
use iroh::protocol::{AcceptError, ProtocolHandler};
use tokio::sync::{mpsc, oneshot};

use super::Node;
use super::history::ServeLimits;
use super::history::server::Load;
use super::known::Known;
use crate::proto::direct::{ACK_LEN, Ack};
use crate::proto::wire::MAX_ENVELOPE_SIZE;
use crate::proto::{EndpointAddr, EndpointId, MessageId};

pub const DIRECT_ALPN: &[u8] = b"parlor/dm/1";
/// Messages waiting for the DM actor; past this, senders hear `Busy`.
pub const INBOX_CAPACITY: usize = 64;
/// Dialing a peer, and each message's round trip, give up after this.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection with no new message for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connection close codes.
pub const CLOSE_DONE: u32 = 0;
pub const CLOSE_BUSY: u32 = 2;
pub const CLOSE_BAD_FRAME: u32 = 1;
pub const CLOSE_REFUSED: u32 = 3;
/// Envelopes that fail to open one connection may deliver before it is closed (an honest
/// sender whose clock is off sends a few; a hostile one pays a handshake per few checks).
pub const MAX_INVALID: usize = 3;

/// A direct message as it arrived, for the DM actor to verify, keep and answer.
#[derive(Debug)]
pub struct DirectIncoming {
    /// The connection's authenticated peer (the signer may differ: a relayed copy).
    pub peer: EndpointId,
    pub envelope: Vec<u8>,
    pub reply: oneshot::Sender<Ack>,
}

/// What arrives for the DM actor.
#[derive(Debug)]
pub enum Inbound {
    Message(DirectIncoming),
    /// A key we do not know connected and was refused unread (told so the user can hear of
    /// it; the actor rate-limits the reports).
    Refused(EndpointId),
}

/// Our connections kept for direct messages (one per peer).
const MAX_LINKS: usize = 32;

/// Where incoming direct messages go: the process's DM actor, once it runs; and our own
/// connections to peers, reused while they live: a QUIC handshake per message cost more than
/// the message. The addressee closes a connection idle for [`IDLE_TIMEOUT`].
#[derive(Clone, Default)]
pub struct DirectRoute {
    inbox: Arc<Mutex<Option<mpsc::Sender<Inbound>>>>,
    links: Arc<Mutex<HashMap<EndpointId, (Connection, Instant)>>>,
}

impl DirectRoute {
    /// Route every incoming message to the returned receiver (replacing an earlier one).
    pub fn open(&self) -> mpsc::Receiver<Inbound> {
        let (inbox, receiver) = mpsc::channel(INBOX_CAPACITY);
        *self.lock() = Some(inbox);
        receiver
    }

    fn get(&self) -> Option<mpsc::Sender<Inbound>> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<mpsc::Sender<Inbound>>> {
        // Nothing panics while holding it; a poisoned route still routes correctly.
        self.inbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn links(&self) -> std::sync::MutexGuard<'_, HashMap<EndpointId, (Connection, Instant)>> {
        self.links.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Our live connection to `peer`, if one is kept.
    fn link(&self, peer: &EndpointId) -> Option<Connection> {
        let mut links = self.links();
        match links.get_mut(peer) {
            Some((conn, used)) if conn.close_reason().is_none() => {
                *used = Instant::now();
                Some(conn.clone())
            }
            Some(_) => {
                links.remove(peer);
                None
            }
            None => None,
        }
    }

    /// Keep `conn` to `peer`; past [`MAX_LINKS`] the one unused longest is closed.
    fn keep(&self, peer: EndpointId, conn: Connection) {
        let mut links = self.links();
        if links.len() >= MAX_LINKS
            && !links.contains_key(&peer)
            && let Some(oldest) = links
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(id, _)| *id)
            && let Some((conn, _)) = links.remove(&oldest)
        {
            conn.close(CLOSE_DONE.into(), b"done");
        }
        links.insert(peer, (conn, Instant::now()));
    }

    /// A kept connection failed: the next message dials again.
    fn forget(&self, peer: &EndpointId) {
        self.links().remove(peer);
    }
}

/// Accepts `parlor/dm/1` connections and hands their messages to the [`DirectRoute`].
#[derive(Clone)]
pub struct DirectServer {
    route: DirectRoute,
    limits: ServeLimits,
    load: Load,
    known: Known,
}

impl std::fmt::Debug for DirectServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectServer")
    }
}

impl DirectServer {
    /// `read_timeout` bounds each frame's arrival, `write_timeout` the actor's answer;
    /// `per_peer` and `total` count connections.
    pub fn new(route: DirectRoute, known: Known) -> Self {
        let limits = ServeLimits {
            per_peer: 2,
            per_room: 2,
            total: 32,
            ..ServeLimits::default()
        };
        Self {
            route,
            limits,
            load: Load::new(limits),
            known,
        }
    }

    /// Serve one message; `None` when the connection is done (closed, idle, or broken).
    /// `invalid` counts the connection's envelopes that did not verify.
    async fn serve_one(&self, conn: &Connection, invalid: &mut usize) -> Option<()> {
        let (mut send, mut recv) = tokio::time::timeout(IDLE_TIMEOUT, conn.accept_bi())
            .await
            .ok()?
            .ok()?;
        let envelope =
            match tokio::time::timeout(self.limits.read_timeout, read_frame(&mut recv)).await {
                Ok(Ok(envelope)) => envelope,
                Ok(Err(err)) => {
                    tracing::debug!(peer = %conn.remote_id().fmt_short(), "bad DM frame: {err:#}");
                    conn.close(CLOSE_BAD_FRAME.into(), b"bad frame");
                    return None;
                }
                Err(_) => {
                    conn.close(CLOSE_BAD_FRAME.into(), b"timed out");
                    return None;
                }
            };
        let ack = self.ask(conn.remote_id(), envelope).await;
        let answer = async {
            send.write_all(&ack.encode()).await?;
            send.finish()?;
            anyhow::Ok(())
        };
        tokio::time::timeout(self.limits.write_timeout, answer)
            .await
            .ok()?
            .ok()?;
        // Someone we share no room with: its connection does not keep one of the few slots.
        if matches!(ack, Ack::Refused(_)) {
            let _ = tokio::time::timeout(self.limits.write_timeout, send.stopped()).await;
            conn.close(CLOSE_REFUSED.into(), b"refused");
            return None;
        }
        if matches!(ack, Ack::Invalid(_)) {
            *invalid += 1;
            if *invalid >= MAX_INVALID {
                let _ = tokio::time::timeout(self.limits.write_timeout, send.stopped()).await;
                conn.close(CLOSE_BAD_FRAME.into(), b"invalid");
                return None;
            }
        }
        Some(())
    }

    /// The actor's answer, or `Busy` when it is not running, is behind, or takes too long.
    async fn ask(&self, peer: EndpointId, envelope: Vec<u8>) -> Ack {
        let busy = Ack::Busy(MessageId::of(&envelope));
        let Some(inbox) = self.route.get() else {
            return busy;
        };
        let (reply, answer) = oneshot::channel();
        let incoming = DirectIncoming {
            peer,
            envelope,
            reply,
        };
        if inbox.try_send(Inbound::Message(incoming)).is_err() {
            return busy;
        }
        match tokio::time::timeout(self.limits.write_timeout, answer).await {
            Ok(Ok(ack)) => ack,
            _ => busy,
        }
    }
}

impl ProtocolHandler for DirectServer {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id();
        // A stranger, or a key the user ignores: refused on its key, nothing read.
        if !self.known.may_message(&peer) {
            tracing::debug!(peer = %peer.fmt_short(), "DM connection refused: not known");
            conn.close(CLOSE_REFUSED.into(), b"refused");
            if let Some(inbox) = self.route.get() {
                // Full: the report is lost, not the refusal.
                let _ = inbox.try_send(Inbound::Refused(peer));
            }
            return Ok(());
        }
        let Some(_slot) = self.load.take(peer) else {
            tracing::debug!(peer = %peer.fmt_short(), "DM connection refused: busy");
            conn.close(CLOSE_BUSY.into(), b"busy");
            return Ok(());
        };
        // One message at a time: a peer's further streams wait in QUIC's flow control.
        let mut invalid = 0;
        while self.serve_one(&conn, &mut invalid).await.is_some() {}
        Ok(())
    }
}

async fn read_frame(recv: &mut RecvStream) -> anyhow::Result<Vec<u8>> {
    let mut prefix = [0u8; 4];
    recv.read_exact(&mut prefix).await?;
    let len = u32::from_be_bytes(prefix) as usize;
    anyhow::ensure!(len <= MAX_ENVELOPE_SIZE, "frame of {len} bytes");
    let mut envelope = vec![0u8; len];
    recv.read_exact(&mut envelope).await?;
    Ok(envelope)
}

async fn write_frame(send: &mut SendStream, envelope: &[u8]) -> anyhow::Result<()> {
    let len = u32::try_from(envelope.len())?;
    let mut frame = Vec::with_capacity(4 + envelope.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(envelope);
    send.write_all(&frame).await?;
    send.finish()?;
    Ok(())
}

/// Whether the addressee closed `conn` as [`CLOSE_REFUSED`].
fn refused(conn: &Connection) -> bool {
    matches!(
        conn.close_reason(),
        Some(iroh::endpoint::ConnectionError::ApplicationClosed(close))
            if close.error_code == CLOSE_REFUSED.into()
    )
}

/// A connection to one peer for sending it direct messages; closed when dropped.
pub struct DirectLink {
    conn: Connection,
    peer: EndpointId,
    route: DirectRoute,
}

impl DirectLink {
    /// Send one envelope and wait for its ack (at most [`IO_TIMEOUT`]).
    pub async fn send(&self, envelope: &[u8]) -> anyhow::Result<Ack> {
        anyhow::ensure!(envelope.len() <= MAX_ENVELOPE_SIZE, "envelope too large");
        let work = async {
            let (mut send, mut recv) = self.conn.open_bi().await?;
            write_frame(&mut send, envelope).await?;
            let answer = recv.read_to_end(ACK_LEN).await?;
            let ack = Ack::decode(&answer).context("malformed ack")?;
            anyhow::ensure!(
                ack.id() == MessageId::of(envelope),
                "ack for another message"
            );
            anyhow::Ok(ack)
        };
        let result = tokio::time::timeout(IO_TIMEOUT, work)
            .await
            .map_err(|_| anyhow::anyhow!("no ack within {IO_TIMEOUT:?}"))
            .and_then(|answer| answer);
        if result.is_err() {
            self.route.forget(&self.peer);
            // Refused on our key before anything was read: the addressee does not know us.
            if refused(&self.conn) {
                return Ok(Ack::Refused(MessageId::of(envelope)));
            }
        }
        result
    }

    /// Send raw bytes as a frame, whatever they are (tests of a hostile sender).
    #[cfg(test)]
    pub(crate) async fn send_raw(&self, frame: &[u8]) -> anyhow::Result<Vec<u8>> {
        let (mut send, mut recv) = self.conn.open_bi().await?;
        send.write_all(frame).await?;
        send.finish()?;
        let answer = tokio::time::timeout(IO_TIMEOUT, recv.read_to_end(ACK_LEN)).await??;
        Ok(answer)
    }
}

impl Node {
    /// Incoming direct messages, from now on (replacing an earlier receiver).
    pub fn direct_inbox(&self) -> mpsc::Receiver<Inbound> {
        self.direct.open()
    }

    /// Dial `peer` for direct messages. Its address comes from the node's lookups (room
    /// neighbours, tickets, [`Node::learn`], LAN, DNS when online).
    /// A connection kept from an earlier message is reused.
    pub async fn connect_direct(&self, peer: EndpointId) -> anyhow::Result<DirectLink> {
        let route = self.direct.clone();
        if let Some(conn) = route.link(&peer) {
            return Ok(DirectLink { conn, peer, route });
        }
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, self.endpoint.connect(peer, DIRECT_ALPN))
            .await
            .map_err(|_| anyhow::anyhow!("no connection within {CONNECT_TIMEOUT:?}"))??;
        route.keep(peer, conn.clone());
        Ok(DirectLink { conn, peer, route })
    }

    /// Send one direct message to `peer` on a connection of its own.
    pub async fn send_direct(&self, peer: EndpointId, envelope: &[u8]) -> anyhow::Result<Ack> {
        self.connect_direct(peer).await?.send(envelope).await
    }

    /// Remember an address for a peer (from a ticket, a member list, a test).
    pub fn learn(&self, addr: EndpointAddr) {
        if addr.id != self.id() {
            self.lookup.add_endpoint_info(addr);
        }
    }
}

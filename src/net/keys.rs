//! `parlor/keys/1`: how a private room's key reaches a member (issue 23). A peer asks any
//! member for the current epoch of a room (named by its stable id, not its topic, which
//! changes with each epoch); the member's room session decides, from the connection's
//! authenticated key, whether that peer is a member in its signed state, and answers with the
//! state and key (opaque bytes here: sealing and the state are `proto`'s) or refuses. A member
//! offline during a rekey asks the same way when it comes back.
//!
//! Joining with an invite goes the same way, in one exchange on one stream: the holder shows
//! the invite and gets the room's log (the member checked the invite first), signs its own
//! `Join` on the log's heads, and gets the key once the member merged it.
//!
//! A knock (someone on the LAN who found a private room announced there) is held open until
//! an admin accepts it (the answer is then the key, as for a member) or denies it, the knocker
//! hangs up, or [`KNOCK_WAIT`] passes. Held knocks take their own few places (one per peer),
//! never the ones members fetching keys need.
//!
//! Everything a peer can make us hold is bounded as for history (`history::server::Load`: per
//! peer and in total), with a read, an answer and a write timeout, and every length is checked
//! before anything is read:
//!
//! ```text
//! request = [1] ‖ room id (32) ‖ epoch held (u64 BE; 0: none)   a member asks for the key
//!         | [2] ‖ room id (32) ‖ len (u32 BE) ‖ invite          an invite's holder asks in
//!         | [3] ‖ room id (32) ‖ len (u32 BE) ‖ name (UTF-8)    a knock (LAN rooms)
//! answer  = [1] ‖ len (u32 BE) ‖ bytes                           the room's answer
//!         | [0] ‖ kind (1) ‖ len (u32 BE) ‖ reason (UTF-8)       refused: what kind, and why
//! after an invite's answer (the log): len (u32 BE) ‖ signed join → answer (the key)
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::endpoint::{Connection, RecvStream, SendStream};
use iroh::protocol::{AcceptError, ProtocolHandler};
use iroh::{Endpoint, EndpointAddr, EndpointId};
use tokio::sync::{mpsc, oneshot};

use super::history::server::{
    CLOSE_BAD_REQUEST, CLOSE_BUSY, CLOSE_TIMED_OUT, Load, ServeLimits, Slot,
};
use crate::proto::state::{MAX_KEY_ANSWER_BYTES, MAX_OP_BYTES, RoomId};

pub const KEYS_ALPN: &[u8] = b"parlor/keys/1";
const ASK_MEMBER: u8 = 1;
const ASK_INVITE: u8 = 2;
const ASK_KNOCK: u8 = 3;
/// The longest name a knock carries (longer ones are cut by the knocker, refused here).
pub const MAX_KNOCK_NAME: usize = 64;
/// How long a knock is held for an admin to answer.
pub const KNOCK_WAIT: Duration = Duration::from_secs(300);
/// Knocks held at once on this node, in all and per peer: each is a connection kept open.
const KNOCKS_HELD: usize = 32;
const MEMBER_REQUEST_LEN: usize = 32 + 8;
/// The largest invite shown (its peers and name are bounded well below this).
pub const MAX_INVITE_BYTES: usize = 8 * 1024;
/// The longest refusal reason kept.
const MAX_REASON_BYTES: usize = 256;
/// Queries waiting for one room's session; more are refused (it answers, or is stuck). A
/// rekey sends every member to the keyholder at once, and each answer takes the session
/// well under a millisecond.
const QUERY_BACKLOG: usize = 64;
/// How long the room's session may take to decide.
const DECIDE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long asking may take in all (connecting included).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// What a peer asks a room's session for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAsk {
    /// A member asks for the current epoch's key and the room's log, holding `have_epoch`.
    Member { have_epoch: u64 },
    /// An invite's holder asks for the room's log, to sign its join on it.
    Invite { invite: Vec<u8> },
    /// The holder's signed join (with the invite it showed): merged, it gets the key.
    Join { invite: Vec<u8>, op: Vec<u8> },
    /// Someone who found the room on the LAN asks to be let in, calling itself `name`
    /// (unchecked: shown with its key). Answered when an admin decides (see [`KNOCK_WAIT`]).
    Knock { name: String },
}

/// One peer asking a room's session: it answers the bytes to send, or why not.
#[derive(Debug)]
pub struct KeyQuery {
    pub room: RoomId,
    /// The connection's authenticated key: who is asking, whatever it claims elsewhere.
    pub peer: EndpointId,
    pub ask: KeyAsk,
    pub reply: oneshot::Sender<Result<Vec<u8>, Refusal>>,
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

/// A member's request as sent.
pub fn encode_key_request(room: &RoomId, have_epoch: u64) -> Vec<u8> {
    let mut bytes = vec![ASK_MEMBER];
    bytes.extend_from_slice(room.as_bytes());
    bytes.extend_from_slice(&have_epoch.to_be_bytes());
    bytes
}

/// A member's request body (after its kind byte) as read: exactly room id and epoch.
pub fn decode_key_request(bytes: &[u8]) -> anyhow::Result<(RoomId, u64)> {
    anyhow::ensure!(
        bytes.len() == MEMBER_REQUEST_LEN,
        "request of {} bytes",
        bytes.len()
    );
    let mut room = [0; 32];
    room.copy_from_slice(&bytes[..32]);
    let mut epoch = [0; 8];
    epoch.copy_from_slice(&bytes[32..]);
    Ok((RoomId::from_bytes(room), u64::from_be_bytes(epoch)))
}

/// What kind of no a refusal is: what the asker does next depends on it (never on the words,
/// which are for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// Final for this asker here (an invite used up, expired, revoked; a damaged request).
    Final = 0,
    /// Busy, undecided or without the key yet: ask again later.
    AskAgain = 1,
    /// The asker's key is not a member of the room.
    NotMember = 2,
    Banned = 3,
    /// An admin turned the knock away.
    Denied = 4,
    /// No session here answers for that room.
    NoRoom = 5,
    /// This member cannot let anyone in (a knock at a member that is no admin).
    NotAdmin = 6,
}

impl RefusalKind {
    fn from_byte(byte: u8) -> Self {
        [
            Self::AskAgain,
            Self::NotMember,
            Self::Banned,
            Self::Denied,
            Self::NoRoom,
            Self::NotAdmin,
        ]
        .into_iter()
        .find(|k| *k as u8 == byte)
        .unwrap_or(Self::Final)
    }
}

/// A member's no, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    pub kind: RefusalKind,
    pub reason: String,
}

impl Refusal {
    pub fn new(kind: RefusalKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }
}

/// A reason alone is a final refusal.
impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Self::new(RefusalKind::Final, reason)
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Self {
        Self::new(RefusalKind::Final, reason)
    }
}

/// Why nothing could be had from one member.
#[derive(Debug, thiserror::Error)]
pub enum KeyFetchError {
    /// The member said no, and why (not a member, an invite used up, no such room here).
    #[error("refused: {0}")]
    Refused(Refusal),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

impl KeyFetchError {
    /// Whether asking again (later, or another member) may get a different answer: a busy
    /// or undecided member, one that has no key yet, a connection that failed. A member's
    /// own refusal (not a member, an invite used up) is final.
    pub fn may_pass(&self) -> bool {
        match self {
            Self::Refused(no) => matches!(no.kind, RefusalKind::AskAgain | RefusalKind::NoRoom),
            Self::TimedOut(_) | Self::Failed(_) => true,
        }
    }
}

/// Serves key requests by asking the room's session.
#[derive(Clone)]
pub struct KeyServer {
    routes: KeyRoutes,
    load: Load,
    /// Knocks held open (apart from `load`: waiting for a person must not stop key fetches).
    knocks: Load,
    limits: ServeLimits,
}

impl std::fmt::Debug for KeyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyServer")
    }
}

/// A refusal as the server says it when no session answers.
const NO_ROOM: &str = "no such room here";

impl KeyServer {
    /// Serving as many at once as a rekey of a large room asks (every member the same
    /// moment), fewer per peer than history does (one request per room at a time is all a
    /// member makes).
    pub fn new(routes: KeyRoutes) -> Self {
        let limits = ServeLimits {
            per_peer: 4,
            per_room: 2,
            total: 64,
            ..ServeLimits::default()
        };
        Self::with_limits(routes, limits)
    }

    pub fn with_limits(routes: KeyRoutes, limits: ServeLimits) -> Self {
        let knocks = ServeLimits {
            per_peer: 1,
            per_room: 1,
            total: KNOCKS_HELD,
            ..limits
        };
        Self {
            routes,
            load: Load::new(limits),
            knocks: Load::new(knocks),
            limits,
        }
    }

    /// The room session's answer for `peer`: refused when unknown or undecided in time
    /// (a knock's time is a person's: [`KNOCK_WAIT`]).
    async fn decide(
        &self,
        room: RoomId,
        peer: EndpointId,
        ask: KeyAsk,
    ) -> Result<Vec<u8>, Refusal> {
        let no_room = || Refusal::new(RefusalKind::NoRoom, NO_ROOM);
        let again = |why: &str| Refusal::new(RefusalKind::AskAgain, why);
        let patience = match ask {
            KeyAsk::Knock { .. } => KNOCK_WAIT,
            _ => DECIDE_TIMEOUT,
        };
        let session = self.routes.get(&room).ok_or_else(no_room)?;
        let (reply, answer) = oneshot::channel();
        let query = KeyQuery {
            room,
            peer,
            ask,
            reply,
        };
        session
            .try_send(query)
            .map_err(|_| again("busy, ask again"))?;
        let answer = tokio::time::timeout(patience, answer)
            .await
            .map_err(|_| again("no decision in time"))?
            .map_err(|_| no_room())??;
        // A session never makes an answer this large; refusing is safer than cutting it.
        if answer.len() > MAX_KEY_ANSWER_BYTES {
            return Err("answer too large".into());
        }
        Ok(answer)
    }

    /// Serve one request; `slot` is given up when the request is a knock (held by its own).
    async fn serve(&self, conn: &Connection, slot: Slot) -> Result<(), (u32, &'static str)> {
        let read = async {
            let (send, mut recv) = conn.accept_bi().await?;
            let mut kind = [0; 1];
            recv.read_exact(&mut kind).await?;
            let mut room = [0; 32];
            recv.read_exact(&mut room).await?;
            let room = RoomId::from_bytes(room);
            let ask = match kind[0] {
                ASK_MEMBER => {
                    let mut epoch = [0; 8];
                    recv.read_exact(&mut epoch).await?;
                    KeyAsk::Member {
                        have_epoch: u64::from_be_bytes(epoch),
                    }
                }
                ASK_INVITE => KeyAsk::Invite {
                    invite: read_framed(&mut recv, MAX_INVITE_BYTES).await?,
                },
                ASK_KNOCK => KeyAsk::Knock {
                    name: String::from_utf8(read_framed(&mut recv, MAX_KNOCK_NAME).await?)?,
                },
                other => anyhow::bail!("request kind {other}"),
            };
            anyhow::Ok((send, recv, room, ask))
        };
        let (mut send, mut recv, room, ask) = tokio::time::timeout(self.limits.read_timeout, read)
            .await
            .map_err(|_| (CLOSE_TIMED_OUT, "no request"))?
            .map_err(|_| (CLOSE_BAD_REQUEST, "bad request"))?;
        let peer = conn.remote_id();
        if let KeyAsk::Knock { .. } = ask {
            drop(slot);
            return self.hold_knock(conn, send, room, ask).await;
        }
        let exchange = async {
            let invite = match &ask {
                KeyAsk::Invite { invite } => Some(invite.clone()),
                _ => None,
            };
            let answer = self.decide(room, peer, ask).await;
            let granted = answer.is_ok();
            write_answer(&mut send, answer).await?;
            if let (Some(invite), true) = (invite, granted) {
                // The holder signs its join on the log it got, and gets the key for it.
                let op = read_framed(&mut recv, MAX_OP_BYTES).await?;
                let answer = self.decide(room, peer, KeyAsk::Join { invite, op }).await;
                write_answer(&mut send, answer).await?;
            }
            send.finish()?;
            // Stay until the asker has read it all and hangs up.
            conn.closed().await;
            anyhow::Ok(())
        };
        tokio::time::timeout(self.limits.write_timeout, exchange)
            .await
            .map_err(|_| (CLOSE_TIMED_OUT, "answer not taken"))?
            .map_err(|_| (CLOSE_BAD_REQUEST, "failed"))
    }

    /// A knock: held (in its own place) until the room's session answers, the knocker hangs
    /// up, or [`KNOCK_WAIT`] passes.
    async fn hold_knock(
        &self,
        conn: &Connection,
        send: SendStream,
        room: RoomId,
        ask: KeyAsk,
    ) -> Result<(), (u32, &'static str)> {
        let peer = conn.remote_id();
        let Some(_held) = self.knocks.take(peer) else {
            let why = "too many are knocking here now; try again later";
            let busy = Err(Refusal::new(RefusalKind::AskAgain, why));
            let _ = self.answer_once(conn, send, busy).await;
            return Ok(());
        };
        let answer = tokio::select! {
            answer = self.decide(room, peer, ask) => answer,
            // Gone: the session sees the knock's answer unwanted and forgets it.
            _ = conn.closed() => return Ok(()),
        };
        self.answer_once(conn, send, answer).await
    }

    /// Write `answer` and stay until the asker has read it and hung up (within the write
    /// timeout).
    async fn answer_once(
        &self,
        conn: &Connection,
        mut send: SendStream,
        answer: Result<Vec<u8>, Refusal>,
    ) -> Result<(), (u32, &'static str)> {
        let exchange = async {
            write_answer(&mut send, answer).await?;
            send.finish()?;
            conn.closed().await;
            anyhow::Ok(())
        };
        tokio::time::timeout(self.limits.write_timeout, exchange)
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
        let served = self.serve(&conn, slot).await;
        if let Err((code, why)) = served {
            tracing::debug!(peer = %peer.fmt_short(), "key request ended: {why}");
            conn.close(code.into(), why.as_bytes());
        }
        Ok(())
    }
}

/// `len (u32 BE) ‖ bytes`, refused past `max` before reading it.
async fn read_framed(recv: &mut RecvStream, max: usize) -> anyhow::Result<Vec<u8>> {
    let mut len = [0; 4];
    recv.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    anyhow::ensure!(len <= max, "{len} bytes (at most {max})");
    let mut bytes = vec![0; len];
    recv.read_exact(&mut bytes).await?;
    Ok(bytes)
}

async fn write_framed(send: &mut SendStream, bytes: &[u8]) -> anyhow::Result<()> {
    let len = u32::try_from(bytes.len())?;
    send.write_all(&len.to_be_bytes()).await?;
    send.write_all(bytes).await?;
    Ok(())
}

async fn write_answer(
    send: &mut SendStream,
    answer: Result<Vec<u8>, Refusal>,
) -> anyhow::Result<()> {
    match answer {
        Ok(bytes) => {
            send.write_all(&[1]).await?;
            write_framed(send, &bytes).await
        }
        Err(Refusal { kind, mut reason }) => {
            crate::proto::names::cut_to_bytes(&mut reason, MAX_REASON_BYTES);
            send.write_all(&[0, kind as u8]).await?;
            write_framed(send, reason.as_bytes()).await
        }
    }
}

async fn read_answer(recv: &mut RecvStream) -> Result<Vec<u8>, KeyFetchError> {
    let mut granted = [0; 1];
    recv.read_exact(&mut granted)
        .await
        .map_err(|e| KeyFetchError::Failed(e.into()))?;
    match granted[0] {
        1 => read_framed(recv, MAX_KEY_ANSWER_BYTES)
            .await
            .map_err(KeyFetchError::Failed),
        0 => {
            let mut kind = [0; 1];
            recv.read_exact(&mut kind)
                .await
                .map_err(|e| KeyFetchError::Failed(e.into()))?;
            let reason = read_framed(recv, MAX_REASON_BYTES)
                .await
                .map_err(KeyFetchError::Failed)?;
            let reason = String::from_utf8_lossy(&reason);
            // A peer's words, shown on one line.
            let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
            let kind = RefusalKind::from_byte(kind[0]);
            Err(KeyFetchError::Refused(Refusal::new(kind, reason)))
        }
        other => Err(KeyFetchError::Failed(anyhow::anyhow!(
            "a malformed answer ({other})"
        ))),
    }
}

/// Ask `peer` for `room`'s current key and log, holding `have_epoch`.
pub async fn fetch_key(
    endpoint: &Endpoint,
    peer: impl Into<EndpointAddr>,
    room: RoomId,
    have_epoch: u64,
) -> Result<Vec<u8>, KeyFetchError> {
    exchange(endpoint, peer.into(), |mut send, mut recv| async move {
        let request = encode_key_request(&room, have_epoch);
        send.write_all(&request).await.map_err(failed)?;
        let _ = send.finish();
        read_answer(&mut recv).await
    })
    .await
}

/// Join `room` at `peer` with `invite`: get its log, sign our join on it with `sign_join`
/// (which may refuse, e.g. a log that is not the room's), and get the key answer.
pub async fn redeem(
    endpoint: &Endpoint,
    peer: impl Into<EndpointAddr>,
    room: RoomId,
    invite: &[u8],
    sign_join: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, KeyFetchError> {
    exchange(endpoint, peer.into(), |mut send, mut recv| async move {
        write_request(&mut send, ASK_INVITE, &room, invite).await?;
        let log = read_answer(&mut recv).await?;
        let op = sign_join(&log).map_err(|why| KeyFetchError::Refused(why.into()))?;
        write_framed(&mut send, &op)
            .await
            .map_err(KeyFetchError::Failed)?;
        let _ = send.finish();
        read_answer(&mut recv).await
    })
    .await
}

/// Knock at `peer` to be let in to `room` as `name`: the answer comes when one of the room's
/// admins there decides (the key and log, as a member gets them), or a refusal (not an
/// admin there, denied, banned); within [`KNOCK_WAIT`] and a little.
pub async fn knock(
    endpoint: &Endpoint,
    peer: impl Into<EndpointAddr>,
    room: RoomId,
    name: &str,
) -> Result<Vec<u8>, KeyFetchError> {
    let mut name = name.to_string();
    crate::proto::names::cut_to_bytes(&mut name, MAX_KNOCK_NAME);
    let talk = |mut send: SendStream, mut recv: RecvStream| async move {
        write_request(&mut send, ASK_KNOCK, &room, name.as_bytes()).await?;
        let _ = send.finish();
        read_answer(&mut recv).await
    };
    exchange_within(endpoint, peer.into(), KNOCK_WAIT + FETCH_TIMEOUT, talk).await
}

/// `kind ‖ room id ‖ len ‖ bytes`: an invite's or a knock's request.
async fn write_request(
    send: &mut SendStream,
    kind: u8,
    room: &RoomId,
    bytes: &[u8],
) -> Result<(), KeyFetchError> {
    let mut request = vec![kind];
    request.extend_from_slice(room.as_bytes());
    send.write_all(&request).await.map_err(failed)?;
    write_framed(send, bytes)
        .await
        .map_err(KeyFetchError::Failed)
}

/// One exchange with `peer` on one stream of a `parlor/keys/1` connection, `talk` saying
/// what goes each way, all within [`FETCH_TIMEOUT`].
async fn exchange<Talk>(
    endpoint: &Endpoint,
    peer: EndpointAddr,
    talk: impl FnOnce(SendStream, RecvStream) -> Talk,
) -> Result<Vec<u8>, KeyFetchError>
where
    Talk: std::future::Future<Output = Result<Vec<u8>, KeyFetchError>>,
{
    exchange_within(endpoint, peer, FETCH_TIMEOUT, talk).await
}

async fn exchange_within<Talk>(
    endpoint: &Endpoint,
    peer: EndpointAddr,
    limit: Duration,
    talk: impl FnOnce(SendStream, RecvStream) -> Talk,
) -> Result<Vec<u8>, KeyFetchError>
where
    Talk: std::future::Future<Output = Result<Vec<u8>, KeyFetchError>>,
{
    let work = async {
        let conn = endpoint.connect(peer, KEYS_ALPN).await.map_err(failed)?;
        let (send, recv) = conn.open_bi().await.map_err(failed)?;
        let answer = talk(send, recv).await;
        conn.close(0u32.into(), b"thanks");
        answer
    };
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| KeyFetchError::TimedOut(limit))?
}

fn failed(err: impl Into<anyhow::Error>) -> KeyFetchError {
    KeyFetchError::Failed(err.into())
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;

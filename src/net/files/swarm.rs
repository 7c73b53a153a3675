//! Fetching one file from several providers at once: the sender and the members that hold
//! some of it (everyone who fetches a file serves what it has verified so far).
//!
//! Each provider's holdings are observed (iroh-blobs' `observe` request: its bitfield, then
//! every change as it fetches too). What we miss is cut into pieces of [`PIECE_CHUNKS`]; an
//! idle provider is asked for the rarest missing piece it holds (so the pieces only the sender
//! has leave it first, and fetchers that started together soon hold different pieces to
//! trade), at most [`IN_FLIGHT`] at a time, never a piece another provider is sending. Every
//! byte is verified against the hash as it arrives (bao); a provider that fails a request
//! (unreachable, refusing, sending what does not verify, going away) is dropped and its piece
//! goes to another. A provider that comes back (it rejoined a room) is dialed again on a fresh
//! connection, its old one closed, and takes pieces as soon as it says what it holds.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bao_tree::ChunkNum;
use iroh::Endpoint;
use iroh::endpoint::Connection;
use iroh_blobs::api::Store;
use iroh_blobs::api::proto::Bitfield;
use iroh_blobs::protocol::{ChunkRanges, ObserveRequest};
use iroh_blobs::{ALPN, Hash};
use n0_future::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::piece::{Outcome, ask};
use crate::proto::EndpointId;

/// A piece is a 64th of the file, from 256 KiB to 16 MiB (chunks are 1 KiB): enough pieces
/// to spread a file over ten fetchers trading them, large enough that each request's cost
/// (a stream, a round trip, the bookkeeping) is lost in its transfer. With 2 MiB pieces
/// throughout, a 1 GiB fetch from one provider took 2.35 s where one request for all of it
/// took 2.05 s; with 2 MiB at least, a 16 MiB file was 8 pieces for nine fetchers.
const PIECE_CHUNKS: (u64, u64) = (256, 16384);
/// Requests in flight per provider: the next piece is asked for while one arrives.
const IN_FLIGHT: usize = 2;
/// Providers connected at once, the sender included.
pub const MAX_PROVIDERS: usize = 8;
/// Times a provider that came back is dialed before it counts as gone again: it may not know
/// us yet (its member list arrives a moment after ours), and refuses us until it does.
const BACK_ATTEMPTS: u32 = 5;
/// The pause between those attempts.
const BACK_RETRY: Duration = Duration::from_secs(1);

/// How a fetch ended without the whole file.
#[derive(Debug)]
pub enum Unfinished {
    /// Every provider failed or went away; their short ids.
    NoProvider(Vec<String>),
    /// No byte arrived for this long.
    Stalled(Duration),
    /// Storing what arrived failed here.
    Local(String),
}

/// Which provider, and which of its connections (a provider back gets a new one): news of an
/// older connection is stale.
type Who = (usize, u32);

pub(super) enum Heard {
    Connected(Who, Connection),
    Holds(Who, Bitfield),
    Gone(Who),
    /// Bytes received for a piece, not stored as a whole yet.
    Bytes(usize, u64),
}

struct Provider {
    id: EndpointId,
    /// Counts its connections: 0 for the first.
    generation: u32,
    conn: Option<Connection>,
    holds: Bitfield,
    busy: usize,
    gone: bool,
}

impl Provider {
    fn new(id: EndpointId) -> Self {
        Self {
            id,
            generation: 0,
            conn: None,
            holds: Bitfield::empty(),
            busy: 0,
            gone: false,
        }
    }
}

/// Fetch the `size` bytes of `hash` that `store` misses from `providers` (the sender first),
/// reporting the bytes held (earlier parts included) through `progress`; a provider sent on
/// `back` is dialed again (or added, while there is room).
pub async fn fetch(
    store: &Store,
    endpoint: &Endpoint,
    hash: Hash,
    size: u64,
    (providers, back): (Vec<EndpointId>, &mut mpsc::Receiver<EndpointId>),
    progress: &mpsc::Sender<u64>,
    limits: (Duration, Duration),
) -> Result<(), Unfinished> {
    let (connect_limit, stall_limit) = limits;
    // Watched until the fetch ends, so that the store keeps the blob's entry open: an entry
    // with nothing to do, even for a moment between two requests, is persisted (its data,
    // outboard and sizes files synced to disk, then its bitfield) and opened again. In a traced
    // 1 GiB `/get` that happened six times, each `fsync` of the part written so far holding
    // the store thread 25-140 ms while the download waited. The stream is not read after
    // its first bitfield: the store's side waits once its 32 places are full. After a crash
    // the bitfield is rebuilt from what the data files hold, verified, as before.
    let mut watching = store.observe(hash).stream().await.ok();
    let held = match watching.as_mut() {
        Some(bitfields) => bitfields.next().await.map(|b| b.ranges),
        None => None,
    }
    .unwrap_or_else(ChunkRanges::empty);
    let chunks = ChunkNum::chunks(size).0.max(1);
    let piece = (chunks / 64).clamp(PIECE_CHUNKS.0, PIECE_CHUNKS.1);
    let pieces: Vec<ChunkRanges> = (0..chunks.div_ceil(piece))
        .map(|i| {
            let end = ((i + 1) * piece).min(chunks);
            ChunkRanges::from(ChunkNum(i * piece)..ChunkNum(end))
        })
        .collect();
    let mut missing: HashMap<usize, ChunkRanges> = pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| (i, piece - &held))
        .filter(|(_, rest)| !rest.is_empty())
        .collect();
    let mut have = size.saturating_sub(bytes_of(missing.values(), size));
    progress.try_send(have).ok();
    let (heard_tx, mut heard) = mpsc::channel::<Heard>(256);
    let mut watchers = JoinSet::new();
    let mut all: Vec<Provider> = providers
        .into_iter()
        .take(MAX_PROVIDERS)
        .map(Provider::new)
        .collect();
    for (k, p) in all.iter().enumerate() {
        let (endpoint, store, tx) = (endpoint.clone(), store.clone(), heard_tx.clone());
        let dial = Dial {
            id: p.id,
            who: (k, 0),
            limit: connect_limit,
            attempts: 1,
        };
        watchers.spawn(watch(endpoint, store, dial, hash, tx));
    }
    let mut back_open = true;
    let mut requests: JoinSet<(Who, usize, Outcome)> = JoinSet::new();
    // What in-flight pieces received so far: shown as held until their request ends.
    let mut arriving: HashMap<usize, u64> = HashMap::new();
    let mut sending: HashSet<usize> = HashSet::new();
    let start = rand::random::<u64>() as usize;
    let mut moved = tokio::time::Instant::now();
    // Whether a provider may have become able to take a piece (not on mere progress).
    let mut changed = true;
    loop {
        if missing.is_empty() {
            return Ok(());
        }
        // Give every idle provider the rarest missing piece it holds.
        if std::mem::take(&mut changed) {
            for k in 0..all.len() {
                while all[k].busy < IN_FLIGHT && !all[k].gone {
                    let Some(conn) = all[k].conn.clone() else {
                        break;
                    };
                    let Some(piece) = pick(&missing, &sending, &all, k, start) else {
                        break;
                    };
                    sending.insert(piece);
                    all[k].busy += 1;
                    let who = (k, all[k].generation);
                    let wanted = (piece, missing[&piece].clone());
                    let ask = ask(store.clone(), conn, hash, wanted, heard_tx.clone());
                    requests.spawn(async move { (who, piece, ask.await) });
                }
            }
        }
        let waiting = all.iter().any(|p| !p.gone);
        if !waiting && requests.is_empty() {
            let names = all.iter().map(|p| p.id.fmt_short().to_string()).collect();
            return Err(Unfinished::NoProvider(names));
        }
        tokio::select! {
            Some(news) = heard.recv() => match news {
                Heard::Connected((k, g), conn) if all[k].generation == g => {
                    all[k].conn = Some(conn);
                    changed = true;
                }
                Heard::Holds((k, g), diff) if all[k].generation == g => {
                    all[k].holds.update(&diff);
                    changed = true;
                }
                Heard::Gone((k, g)) if all[k].generation == g => {
                    all[k].gone = true;
                    all[k].conn = None;
                    changed = true;
                }
                // About a connection replaced since.
                Heard::Connected(_, stale) => stale.close(0u32.into(), b"replaced"),
                Heard::Holds(..) | Heard::Gone(..) => {}
                Heard::Bytes(piece, n) => {
                    moved = tokio::time::Instant::now();
                    *arriving.entry(piece).or_default() += n;
                    have = (have + n).min(size);
                    progress.try_send(have).ok();
                }
            },
            back_id = back.recv(), if back_open => {
                let Some(id) = back_id else {
                    back_open = false;
                    continue;
                };
                let k = match all.iter().position(|p| p.id == id) {
                    Some(k) => k,
                    None if all.len() < MAX_PROVIDERS => {
                        all.push(Provider::new(id));
                        all.len() - 1
                    }
                    None => continue,
                };
                // A fresh connection, whatever became of the old one (it may be dead without
                // knowing it yet): requests on the old one fail and their pieces go to
                // whoever holds them.
                let provider = &mut all[k];
                provider.generation += 1;
                if let Some(old) = provider.conn.take() {
                    old.close(0u32.into(), b"reconnecting");
                }
                provider.holds = Bitfield::empty();
                provider.busy = 0;
                provider.gone = false;
                let dial = Dial {
                    id,
                    who: (k, provider.generation),
                    limit: connect_limit,
                    attempts: BACK_ATTEMPTS,
                };
                let (endpoint, store, tx) = (endpoint.clone(), store.clone(), heard_tx.clone());
                watchers.spawn(watch(endpoint, store, dial, hash, tx));
                // Its time to send starts now.
                moved = tokio::time::Instant::now();
            }
            Some(done) = requests.join_next(), if !requests.is_empty() => {
                let Ok(((k, g), piece, outcome)) = done else { continue };
                let current = all[k].generation == g;
                changed = true;
                sending.remove(&piece);
                arriving.remove(&piece);
                if current {
                    all[k].busy = all[k].busy.saturating_sub(1);
                }
                let ok = match outcome {
                    Outcome::Done => true,
                    Outcome::Failed => false,
                    Outcome::Local(why) => return Err(Unfinished::Local(why)),
                };
                // A request done is every byte asked for, verified and stored; a failed one
                // may have stored part of its piece: ask the store what is left.
                let rest = match ok {
                    true => ChunkRanges::all(),
                    false => store
                        .observe(hash)
                        .await
                        .map_or_else(|_| ChunkRanges::empty(), |b| b.ranges),
                };
                if let Some(wanted) = missing.get(&piece).cloned() {
                    let left = &wanted - &rest;
                    if left != wanted {
                        moved = tokio::time::Instant::now();
                    }
                    if left.is_empty() {
                        missing.remove(&piece);
                    } else {
                        missing.insert(piece, left);
                    }
                }
                if !ok && current {
                    // It failed us (or lied): the others carry on without it.
                    all[k].gone = true;
                    if let Some(conn) = all[k].conn.take() {
                        conn.close(0u32.into(), b"failed");
                    }
                }
                // Held: what is stored, and what the pieces still arriving received.
                let stored = size.saturating_sub(bytes_of(missing.values(), size));
                have = have.max((stored + arriving.values().sum::<u64>()).min(size));
                progress.try_send(have).ok();
            }
            _ = tokio::time::sleep_until(moved + stall_limit) => {
                return Err(Unfinished::Stalled(stall_limit));
            }
        }
    }
}

/// The missing piece provider `k` holds that the fewest providers hold, not being sent;
/// among equals the first after `start` (each fetcher starts somewhere else).
fn pick(
    missing: &HashMap<usize, ChunkRanges>,
    sending: &HashSet<usize>,
    all: &[Provider],
    k: usize,
    start: usize,
) -> Option<usize> {
    let n = missing.len().max(1);
    missing
        .iter()
        .filter(|(piece, _)| !sending.contains(piece))
        .filter(|(_, wanted)| wanted.is_subset(&all[k].holds.ranges))
        .map(|(&piece, wanted)| {
            let holders = all
                .iter()
                .filter(|p| !p.gone && wanted.is_subset(&p.holds.ranges))
                .count();
            (holders, (piece + n - start % n) % n, piece)
        })
        .min()
        .map(|(_, _, piece)| piece)
}

/// Bytes in `ranges` (each within one piece, so bounded) of a blob of `size` bytes.
fn bytes_of<'a>(ranges: impl Iterator<Item = &'a ChunkRanges>, size: u64) -> u64 {
    let mut chunks = 0;
    for set in ranges {
        // Boundaries alternate: start, end, start, end...
        for pair in set.boundaries().chunks(2) {
            if let [start, end] = pair {
                chunks += end.0.saturating_sub(start.0);
            }
        }
    }
    chunks.saturating_mul(1024).min(size)
}

/// Whom [`watch`] dials, and how patiently.
struct Dial {
    id: EndpointId,
    who: Who,
    /// Each attempt's limit to connect.
    limit: Duration,
    /// Attempts until one hears what the provider holds.
    attempts: u32,
}

/// Connect to a provider and report what it holds until it goes.
async fn watch(
    endpoint: Endpoint,
    store: Store,
    dial: Dial,
    hash: Hash,
    heard: mpsc::Sender<Heard>,
) {
    let who = dial.who;
    for attempt in 1..=dial.attempts {
        if attempt > 1 {
            tokio::time::sleep(BACK_RETRY).await;
        }
        let connected = tokio::time::timeout(dial.limit, endpoint.connect(dial.id, ALPN)).await;
        let Ok(Ok(conn)) = connected else {
            continue;
        };
        heard.send(Heard::Connected(who, conn.clone())).await.ok();
        let updates = store.remote().observe(conn, ObserveRequest::new(hash));
        let mut updates = std::pin::pin!(updates);
        let mut told = false;
        while let Some(Ok(diff)) = updates.next().await {
            told = true;
            if heard.send(Heard::Holds(who, diff)).await.is_err() {
                return;
            }
        }
        // It said what it holds, then went: gone. Refused at once: maybe not yet.
        if told {
            break;
        }
    }
    heard.send(Heard::Gone(who)).await.ok();
}

//! Asking one provider for one piece of a file: the request, its progress, and how it ended
//! (see `swarm`, which hands out the pieces).

use std::time::Duration;

use iroh::endpoint::Connection;
use iroh_blobs::Hash;
use iroh_blobs::api::Store;
use iroh_blobs::api::remote::GetProgressItem;
use iroh_blobs::get::{GetError, StreamPair};
use iroh_blobs::protocol::{ChunkRanges, GetRequest};
use n0_future::StreamExt;
use tokio::sync::mpsc;

use super::swarm::Heard;

/// Bytes that arrive for a request before the progress shown moves.
const REPORT_BYTES: u64 = 64 << 10;
/// A request that receives nothing for this long is given up, and its provider dropped.
const REQUEST_STALL: Duration = Duration::from_secs(10);

/// How one request ended.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Every byte asked for, verified and stored.
    Done,
    /// The provider failed us: unreachable, refusing, lying, or silent for [`REQUEST_STALL`].
    Failed,
    /// Our side failed (the store, the disk): no provider would do better.
    Local(String),
}

/// Ask one provider for `wanted` of `hash`, telling progress as it arrives.
pub(super) async fn ask(
    store: Store,
    conn: Connection,
    hash: Hash,
    (piece, wanted): (usize, ChunkRanges),
    heard: mpsc::Sender<Heard>,
) -> Outcome {
    let request = GetRequest::builder().root(wanted).build(hash);
    // The stream is opened here, not by iroh-blobs: it calls a connection that cannot open
    // one (closed by the provider, or by us when it came back) a local failure, which would
    // end the whole fetch as if our store had failed.
    let Ok(Ok((send, recv))) = tokio::time::timeout(REQUEST_STALL, conn.open_bi()).await else {
        return Outcome::Failed;
    };
    let pair = StreamPair::new(conn.stable_id() as u64, recv, send);
    let items = store.remote().execute_get(pair, request).stream();
    let mut items = std::pin::pin!(items);
    let mut told = 0;
    loop {
        // A provider that stops sending loses the piece to another (it would otherwise
        // hold the whole fetch up at its end).
        let Ok(item) = tokio::time::timeout(REQUEST_STALL, items.next()).await else {
            return Outcome::Failed;
        };
        match item {
            // Told in steps: progress comes every 16 KiB.
            Some(GetProgressItem::Progress(n)) if n >= told + REPORT_BYTES => {
                heard.send(Heard::Bytes(piece, n - told)).await.ok();
                told = n;
            }
            Some(GetProgressItem::Progress(_)) => {}
            Some(GetProgressItem::Done(_)) => return Outcome::Done,
            Some(GetProgressItem::Error(err))
                if matches!(err, GetError::LocalFailure { .. }) || err.local_write().is_some() =>
            {
                // With its causes: "local failure" alone tells the user nothing.
                return Outcome::Local(format!("{:#}", anyhow::Error::from(err)));
            }
            Some(GetProgressItem::Error(_)) | None => return Outcome::Failed,
        }
    }
}

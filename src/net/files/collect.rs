//! Collecting blobs nobody needs: iroh-blobs' garbage collection keeps what a tag holds (the
//! files we share: `file/<hash>`) and what a temporary tag holds (fetches and imports under
//! way), and deletes the rest of the store unless we protect it. We protect the complete
//! blobs of the offers we still know (a fetched file is served again where it was offered).
//! So a partial blob no fetch is working on, a blob no offer names any more (forgotten,
//! `/unshare`d) and whatever a lying provider left are deleted: shortly after start, then
//! once a day. The memory store (`--ephemeral`) the same.
//!
//! The store runs the collection itself, every [`TICK`]; our callback says whether one is
//! due and, if so, what to keep.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use iroh_blobs::Hash;
use iroh_blobs::api::Store;
use iroh_blobs::api::blobs::BlobStatus;
use iroh_blobs::store::{GcConfig, ProtectCb, ProtectOutcome};

use super::access::Access;
use super::gate::lock;

/// How often the store asks whether a collection is due (tests: at once when asked).
#[cfg(not(test))]
const TICK: Duration = Duration::from_secs(60);
#[cfg(test)]
const TICK: Duration = Duration::from_millis(100);
/// The first collection after start: once the rooms told the offers in their history.
const FIRST_AFTER: Duration = Duration::from_secs(5 * 60);
/// Then every day.
const EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// When collections run.
#[derive(Debug)]
pub(crate) struct Schedule {
    started: Instant,
    last: Option<Instant>,
    /// A collection was asked for (tests).
    pub now: bool,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            last: None,
            now: false,
        }
    }
}

impl Schedule {
    /// Whether a collection is due at `at` (and if so, it counts as run).
    fn due(&mut self, at: Instant) -> bool {
        let due = self.now
            || match self.last {
                None => at.duration_since(self.started) >= FIRST_AFTER,
                Some(last) => at.duration_since(last) >= EVERY,
            };
        if due {
            self.now = false;
            self.last = Some(at);
        }
        due
    }
}

/// The store's collection settings: `store` is set once the store exists.
pub(super) fn config(access: Arc<Mutex<Access>>, store: Arc<OnceLock<Store>>) -> GcConfig {
    let protect: ProtectCb = Arc::new(move |live| keep(&access, &store, live));
    GcConfig {
        interval: TICK,
        add_protected: Some(protect),
    }
}

type Keeping<'a> = Pin<Box<dyn Future<Output = ProtectOutcome> + Send + Sync + 'a>>;

/// Asked by the store before each collection: none unless one is due; then `live` gets the
/// offered hashes it holds whole.
fn keep<'a>(
    access: &Mutex<Access>,
    store: &OnceLock<Store>,
    live: &'a mut HashSet<Hash>,
) -> Keeping<'a> {
    let due = lock(access).schedule.due(Instant::now());
    if !due {
        return Box::pin(async { ProtectOutcome::Abort });
    }
    let offered: Vec<Hash> = lock(access).hashes().copied().collect();
    let store = store.get().cloned();
    // Asking the store is done in a task of its own: the callback's future must be `Sync`,
    // which the store's requests are not.
    let kept = tokio::spawn(async move { complete(store?, offered).await });
    Box::pin(async move {
        match kept.await {
            Ok(Some(kept)) => {
                tracing::debug!("collecting blobs: keeping {} offered", kept.len());
                live.extend(kept);
                ProtectOutcome::Continue
            }
            // Not knowing what to keep, keep everything.
            _ => ProtectOutcome::Abort,
        }
    })
}

/// Which of `hashes` the store holds whole; `None` if it cannot say.
async fn complete(store: Store, hashes: Vec<Hash>) -> Option<Vec<Hash>> {
    let mut kept = Vec::new();
    for hash in hashes {
        if let BlobStatus::Complete { .. } = store.status(hash).await.ok()? {
            kept.push(hash);
        }
    }
    Some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collection_runs_after_start_then_daily() {
        let mut schedule = Schedule::default();
        let start = schedule.started;
        assert!(!schedule.due(start + TICK));
        assert!(schedule.due(start + FIRST_AFTER));
        assert!(!schedule.due(start + FIRST_AFTER + TICK));
        assert!(schedule.due(start + FIRST_AFTER + EVERY));
        schedule.now = true;
        assert!(schedule.due(start + FIRST_AFTER + EVERY));
    }
}

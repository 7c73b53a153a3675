//! The blob store opens on first use: a file shared, fetched, saved or asked about, or a
//! peer that may fetch from us connecting (a stranger is refused first). Most runs of a chat never touch a file, and opening the store
//! at start cost every run its database, two threads and their memory before the first
//! line (see the README's memory breakdown).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context;
use iroh::endpoint::Connection;
use iroh::protocol::{AcceptError, ProtocolHandler};
use iroh_blobs::api::Store;
use iroh_blobs::provider::events::EventSender;
use iroh_blobs::store::{fs::FsStore, mem::MemStore};
use tokio::sync::OnceCell;

use super::access::Access;
use super::collect;

/// The store once opened, and what keeps it running.
struct Opened {
    store: Store,
    /// The memory store's own thread (none for a `FsStore`, which has its own).
    _memory_thread: Option<MemoryThread>,
}

/// The blob store, opened at the first [`LazyStore::get`]. Cheap to clone.
#[derive(Clone)]
pub(in crate::net) struct LazyStore {
    opened: Arc<OnceCell<Opened>>,
    /// Where a `FsStore` lives (none: in memory).
    dir: Option<PathBuf>,
    /// The collection's answers come from here.
    access: Arc<Mutex<Access>>,
    /// Shutting down: nothing opens the store any more.
    closing: Arc<AtomicBool>,
    /// An open failed: peers' connections no longer try again (our own uses do).
    failed: Arc<AtomicBool>,
}

impl LazyStore {
    pub fn new(dir: Option<&Path>, access: Arc<Mutex<Access>>) -> Self {
        Self {
            opened: Arc::new(OnceCell::new()),
            dir: dir.map(Path::to_path_buf),
            access,
            closing: Arc::new(AtomicBool::new(false)),
            failed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The store, opening it now if this is its first use. An open that failed is tried
    /// again by the next use (the error says why, once per use).
    pub async fn get(&self) -> anyhow::Result<&Store> {
        anyhow::ensure!(
            !self.closing.load(Ordering::Acquire),
            "the file store is closing"
        );
        let opened = self
            .opened
            .get_or_try_init(|| open(self.dir.as_deref(), self.access.clone()))
            .await
            .inspect_err(|_| self.failed.store(true, Ordering::Release))?;
        Ok(&opened.store)
    }

    /// Close the store within `limit`, if it is open or being opened; nothing opens it
    /// afterwards. A FsStore dropped without this leaves its database locked; closing twice
    /// is harmless.
    pub async fn close(&self, limit: Duration) {
        self.closing.store(true, Ordering::Release);
        // Waits for an open under way; opens nothing itself.
        let opened = self
            .opened
            .get_or_try_init(|| async { Err(anyhow::anyhow!("not opened")) })
            .await;
        let Ok(opened) = opened else {
            return;
        };
        match tokio::time::timeout(limit, opened.store.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::debug!("file store shutdown: {err:#}"),
            Err(_) => tracing::debug!("file store shutdown took longer than {limit:?}"),
        }
    }

    /// The store if something already opened it.
    pub fn if_open(&self) -> Option<&Store> {
        self.opened.get().map(|opened| &opened.store)
    }
}

async fn open(dir: Option<&Path>, access: Arc<Mutex<Access>>) -> anyhow::Result<Opened> {
    // Blobs nobody needs are collected (see `collect`); the collection asks the store.
    let store_cell = Arc::new(OnceLock::new());
    let gc = collect::config(access, store_cell.clone());
    let opened = match dir {
        Some(dir) => {
            let mut options = iroh_blobs::store::fs::options::Options::new(dir);
            options.gc = Some(gc);
            let store = FsStore::load_with_opts(dir.join("blobs.db"), options)
                .await
                .map_err(|e| {
                    anyhow::anyhow!("cannot open the file store {}: {e}", dir.display())
                })?;
            Opened {
                store: store.into(),
                _memory_thread: None,
            }
        }
        None => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("parlor-memory-files")
                .enable_all()
                .build()
                .context("cannot start the memory file store")?;
            // The store's actor and every task it spawns run where it was made.
            let store = {
                let _here = runtime.enter();
                let options = iroh_blobs::store::mem::Options {
                    gc_config: Some(gc),
                };
                MemStore::new_with_opts(options)
            };
            Opened {
                store: store.into(),
                _memory_thread: Some(MemoryThread(Some(runtime))),
            }
        }
    };
    store_cell.set(opened.store.clone()).ok();
    Ok(opened)
}

/// A thread for the memory store: it hashes a file it imports in one go, without yielding,
/// which on the node's single-threaded runtime froze the chat (and the terminal) for as long
/// as a large file took to hash.
struct MemoryThread(Option<tokio::runtime::Runtime>);

impl Drop for MemoryThread {
    fn drop(&mut self) {
        // Dropping a runtime waits for its tasks, which an async context may not do.
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// iroh-blobs' provider on `/iroh-bytes/4`, opening the store when a peer first connects.
#[derive(Clone)]
pub(in crate::net) struct LazyProvider {
    pub(super) store: LazyStore,
    /// The gate every connection and request is asked about.
    pub(super) events: EventSender,
}

impl std::fmt::Debug for LazyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyProvider")
    }
}

impl ProtocolHandler for LazyProvider {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        // A peer the gate would refuse anyway (in none of our rooms, offered nothing) does
        // not get to open the store: anyone who knows our id can connect.
        let stranger = !super::gate::lock(&self.store.access).may_connect(&conn.remote_id());
        // Nor does a peer get to try again an open that failed (each try starts a runtime).
        let failed = self.store.failed.load(Ordering::Acquire);
        if (stranger || failed) && self.store.if_open().is_none() {
            conn.close(0u32.into(), b"refused");
            return Ok(());
        }
        let store = match self.store.get().await {
            Ok(store) => store.clone(),
            Err(err) => {
                // Said once per connection of a peer that may fetch; the user meets the same
                // error at their own next use of files.
                tracing::debug!("{err:#}");
                conn.close(1u32.into(), b"no file store");
                return Ok(());
            }
        };
        iroh_blobs::provider::handle_connection(conn, store, self.events.clone()).await;
        Ok(())
    }

    async fn shutdown(&self) {
        self.store.close(super::STORE_CLOSE_LIMIT).await;
    }
}

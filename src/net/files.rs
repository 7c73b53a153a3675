//! Sharing files over iroh-blobs (`/iroh-bytes/4`): content-addressed, verified chunk by
//! chunk (BLAKE3/bao) and resumable transfers, the blobs kept in iroh's own store.
//!
//! The store is a `FsStore` under the data directory (`NetConfig::blobs_dir`, chosen by
//! `store`), or a `MemStore` without one (`--ephemeral`, tests). A file we share is kept by a
//! persistent tag `file/<hash>`, so a garbage collection (off today) could never drop it; a
//! download holds a temporary tag while it runs.
//!
//! Anyone who knows our id could otherwise fetch any hash it names: the provider asks the
//! gate about every connection and every request on it (`gate`), which answers from
//! `access`: a peer may fetch a hash only where it was offered (a room it is a member of, a
//! direct conversation with it). The front ends feed it (`Node::files_offered`, ...).

mod access;
mod collect;
#[cfg(test)]
mod collect_tests;
mod gate;
mod import;
mod lazy;
#[cfg(test)]
mod lazy_tests;
mod piece;
mod references;
mod save;
#[cfg(test)]
mod serving_tests;
mod swarm;
#[cfg(test)]
mod swarm_tests;
#[cfg(test)]
pub(crate) mod tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh_blobs::Hash;
use iroh_blobs::api::blobs::BlobStatus;
use tokio::sync::mpsc;

use crate::proto::EndpointId;

pub use iroh_blobs::ALPN as FILES_ALPN;

/// Files at least this large are imported by reference (read in place, not copied into the
/// store): sharing a big file must not double its disk use. Smaller ones are copied, so that
/// editing them after sharing cannot make us serve data that fails verification.
pub const REFERENCE_FROM: u64 = 4 << 20;
/// Dialing a provider gives up after this (the pool's default, 1 s, is too short for a path
/// through a relay).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A download that makes no progress for this long gives up: a provider may stall without
/// closing the connection. Fetching again resumes.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long closing the file store may take (local disk only, no peer involved).
pub const STORE_CLOSE_LIMIT: Duration = Duration::from_secs(2);
/// Connection checks waiting for the gate; it answers from a set at once.
const GATE_QUEUE: usize = 32;

/// A fetch ended because no provider could send the rest (unreachable, gone, refusing,
/// lying, silent): what it fetched is kept, and fetching again resumes.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProvidersGone(pub String);

/// A file we offer: its BLAKE3 hash (64 hex digits) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFile {
    pub hash: String,
    pub size: u64,
}

/// How much of a file we hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileStatus {
    /// Verified bytes stored (for a partial download, in 16 KiB groups).
    pub have: u64,
    pub complete: bool,
}

/// The node's blob store, its downloader and who may fetch from us. Cheap to clone.
#[derive(Clone)]
pub(super) struct Files {
    /// Opened on first use (see `lazy`).
    store: lazy::LazyStore,
    /// Which hashes were offered where, and who is where: the gate's answers.
    access: Arc<Mutex<access::Access>>,
    /// Where a `FsStore` keeps its data files (none in memory).
    data_dir: Option<PathBuf>,
    /// Where the files shared by reference are remembered (none in memory).
    references_file: Option<PathBuf>,
    /// Requests for file data (whole files or pieces) we answered.
    served: Arc<AtomicU64>,
}

impl Files {
    /// The store (`dir`, or memory; opened on first use) and the protocol handler to mount
    /// on the router.
    pub fn open(dir: Option<&Path>) -> (Self, lazy::LazyProvider) {
        let access = Arc::new(Mutex::new(access::Access::default()));
        let store = lazy::LazyStore::new(dir, access.clone());
        let references_file = dir.map(references::path_in);
        if let Some(file) = &references_file {
            gate::lock(&access).restore_references(references::load(file));
        }
        let served = Arc::new(AtomicU64::new(0));
        let provider = lazy::LazyProvider {
            store: store.clone(),
            events: gate::gate(access.clone(), served.clone()),
        };
        let files = Self {
            store,
            access,
            served,
            data_dir: dir
                .map(|dir| iroh_blobs::store::fs::options::PathOptions::new(dir).data_path),
            references_file,
        };
        (files, provider)
    }

    pub async fn status(&self, hash: &str) -> anyhow::Result<FileStatus> {
        let local = self
            .store
            .get()
            .await?
            .remote()
            .local(parse_hash(hash)?)
            .await?;
        Ok(FileStatus {
            have: local.local_bytes(),
            complete: local.is_complete(),
        })
    }

    pub async fn save(&self, hash: &str, target: &Path, may_link: bool) -> anyhow::Result<()> {
        let hash = parse_hash(hash)?;
        let data_file = self
            .data_dir
            .as_ref()
            .filter(|_| may_link)
            .map(|dir| dir.join(format!("{}.data", hash.to_hex())));
        save::export(self.store.get().await?, hash, data_file, target).await
    }

    /// Remember the files shared by reference for the next run (a failure only costs the
    /// check of those files then).
    fn save_references(&self) {
        let Some(file) = &self.references_file else {
            return;
        };
        let references = gate::lock(&self.access).references();
        if let Err(err) = references::save(file, references) {
            tracing::warn!("cannot write {}: {err}", file.display());
        }
    }

    /// Close the store within `limit` (if it was opened, or is being opened): a FsStore
    /// dropped without it leaves its database locked. The router's shutdown does this too;
    /// closing twice is harmless.
    pub async fn shutdown(&self, limit: Duration) {
        self.store.close(limit).await;
    }
}

impl super::Node {
    /// Offer the file at `path`: hashed and kept (by reference when large) under the tag
    /// `file/<hash>`. Directories, missing or unreadable files, and a file that changed while
    /// it was read are one-line errors.
    pub async fn share_file(
        &self,
        path: &Path,
        progress: impl FnMut(u64, u64) + Send,
    ) -> anyhow::Result<SharedFile> {
        self.files.share(path, progress).await
    }

    /// Download `hash` (offered as `size` bytes) from `providers` (the sender first), several
    /// at once (`swarm`), each asked only for what is still missing: what we already hold (an
    /// interrupted fetch) is kept. `progress` gets the bytes held so far, earlier parts
    /// included; updates are dropped while it is full (a newer one follows), the end is the
    /// return value. A provider that fails (unreachable, refusing, sending data that fails
    /// verification) is passed over; when all did, the error names them. A provider sent on
    /// `back` (it came back) is dialed again on a new connection.
    pub async fn fetch_file(
        &self,
        hash: &str,
        size: u64,
        providers: Vec<EndpointId>,
        progress: mpsc::Sender<u64>,
        mut back: mpsc::Receiver<EndpointId>,
    ) -> anyhow::Result<()> {
        let hash = parse_hash(hash)?;
        let mut order = Vec::new();
        for id in providers {
            if !order.contains(&id) && id != self.id() {
                order.push(id);
            }
        }
        anyhow::ensure!(
            !order.is_empty(),
            "no one to fetch {} from",
            hash.fmt_short()
        );
        // Keeps the partial blob from a garbage collection while we download.
        let store = self.files.store.get().await?;
        let _downloading = store.tags().temp_tag(hash).await?;
        // The hash pins the content, not the size: pieces are cut from the offered size, so
        // an offer that understated it cannot make us download without end.
        let fetched = swarm::fetch(
            store,
            &self.endpoint,
            hash,
            size,
            (order, &mut back),
            &progress,
            (CONNECT_TIMEOUT, STALL_TIMEOUT),
        )
        .await;
        let failed: Vec<String> = match fetched {
            Ok(()) => Vec::new(),
            Err(swarm::Unfinished::NoProvider(names)) => names,
            Err(swarm::Unfinished::Local(why)) => {
                anyhow::bail!("cannot store {} here: {why}", hash.fmt_short())
            }
            Err(swarm::Unfinished::Stalled(limit)) => {
                return Err(ProvidersGone(format!(
                    "no data for {} in {}s; fetching again resumes",
                    hash.fmt_short(),
                    limit.as_secs()
                ))
                .into());
            }
        };
        let status = self.files.status(&hash.to_hex()).await?;
        if !status.complete && failed.is_empty() {
            // Every piece of the offered size arrived, and still it is not whole.
            anyhow::bail!(
                "{} is larger than the {size} bytes offered; not fetching it",
                hash.fmt_short()
            );
        }
        if !status.complete {
            return Err(ProvidersGone(format!(
                "could not fetch {}: no provider could send it ({}); {} of {size} bytes are kept, \
                 fetching again resumes",
                hash.fmt_short(),
                failed.join(", "),
                status.have
            ))
            .into());
        }
        let BlobStatus::Complete { size: got } = store.status(hash).await? else {
            anyhow::bail!("{} is not complete after its download", hash.fmt_short());
        };
        anyhow::ensure!(
            got == size,
            "{} is {got} bytes, not the {size} offered",
            hash.fmt_short()
        );
        progress.try_send(got).ok();
        Ok(())
    }

    /// Write the complete file `hash` to `target`, which must not exist yet. `just_fetched`:
    /// a fetch completed it now, so a large one may be saved as a link to the store's copy
    /// (read-only, see `save`); otherwise it is copied.
    pub async fn save_file(
        &self,
        hash: &str,
        target: &Path,
        just_fetched: bool,
    ) -> anyhow::Result<()> {
        self.files.save(hash, target, just_fetched).await
    }

    /// Requests for file data (whole files or pieces of them) we answered since start.
    pub fn files_served(&self) -> u64 {
        self.files.served.load(Ordering::Relaxed)
    }

    pub async fn file_status(&self, hash: &str) -> anyhow::Result<FileStatus> {
        self.files.status(hash).await
    }
}

fn tag_name(hash: Hash) -> String {
    format!("file/{}", hash.to_hex())
}

fn parse_hash(hash: &str) -> anyhow::Result<Hash> {
    hash.parse()
        .map_err(|_| anyhow::anyhow!("not a file hash: {hash:?}"))
}

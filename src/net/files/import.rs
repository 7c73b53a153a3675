//! Sharing a file of ours: read (copied into the store when small, referenced when large),
//! hashed with progress, and kept under a persistent tag once it held still while read.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use iroh_blobs::BlobFormat;
use iroh_blobs::api::blobs::{AddPathOptions, BlobStatus, ImportMode};
use iroh_blobs::api::proto::AddProgressItem;
use n0_future::StreamExt;

use super::access::Reference;
use super::{Files, REFERENCE_FROM, SharedFile, tag_name};

impl Files {
    pub async fn share(
        &self,
        path: &Path,
        mut progress: impl FnMut(u64, u64) + Send,
    ) -> anyhow::Result<SharedFile> {
        let path = std::path::absolute(path)
            .with_context(|| format!("cannot share {}", path.display()))?;
        let before = stamp(&path).await?;
        let mode = if before.0 >= REFERENCE_FROM {
            ImportMode::TryReference
        } else {
            ImportMode::Copy
        };
        let copied = matches!(mode, ImportMode::Copy);
        let options = AddPathOptions {
            path: path.clone(),
            format: BlobFormat::Raw,
            mode,
        };
        // A temporary tag first: the persistent one only once we know the file held still.
        // Reading and hashing report as they go (a large file takes seconds).
        let store = self.store.get().await?;
        let mut events = store.add_path_with_opts(options).stream().await;
        let mut total = before.0;
        let mut imported = None;
        while let Some(event) = events.next().await {
            match event {
                AddProgressItem::Size(size) => {
                    total = size;
                    progress(0, total);
                }
                AddProgressItem::CopyProgress(offset) => progress(offset / 2, total),
                // Copied (when small) then hashed: the hashing is the second half.
                AddProgressItem::OutboardProgress(offset) => {
                    let done = if copied {
                        total / 2 + offset / 2
                    } else {
                        offset
                    };
                    progress(done.min(total.saturating_sub(1)), total);
                }
                AddProgressItem::CopyDone => {}
                AddProgressItem::Done(tag) => {
                    imported = Some(tag);
                    break;
                }
                AddProgressItem::Error(e) => {
                    anyhow::bail!("cannot read {}: {e}", path.display())
                }
            }
        }
        let imported = imported
            .ok_or_else(|| anyhow::anyhow!("cannot read {}: the import stopped", path.display()))?;
        progress(total, total);
        if stamp(&path).await? != before {
            anyhow::bail!(
                "{} changed while it was being read; share it again once it is written",
                path.display()
            );
        }
        let hash = imported.hash();
        store.tags().set(tag_name(hash), hash).await?;
        let reference = (!copied).then(|| Reference {
            path: path.clone(),
            size: before.0,
            modified: before.1,
        });
        let by_reference = reference.is_some();
        super::gate::lock(&self.access).shared(hash, reference);
        if by_reference {
            self.save_references();
        }
        match store.status(hash).await? {
            BlobStatus::Complete { size } => Ok(SharedFile {
                hash: hash.to_hex(),
                size,
            }),
            _ => anyhow::bail!("{} was not stored whole", path.display()),
        }
    }
}

/// Size and modification time of a regular, readable file; a one-line error otherwise.
async fn stamp(path: &PathBuf) -> anyhow::Result<(u64, Option<SystemTime>)> {
    let shown = path.display();
    let meta = match tokio::fs::metadata(path).await {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("no such file: {shown}")
        }
        Err(e) => anyhow::bail!("cannot read {shown}: {e}"),
    };
    anyhow::ensure!(!meta.is_dir(), "{shown} is a directory; share a file");
    anyhow::ensure!(meta.is_file(), "{shown} is not a regular file");
    tokio::fs::File::open(path)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read {shown}: {e}"))?;
    Ok((meta.len(), meta.modified().ok()))
}

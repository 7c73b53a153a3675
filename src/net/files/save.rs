//! Writing a complete blob out as a file: to a temporary file beside the target, then linked
//! into place, so the target is either whole or absent, and never overwritten.
//!
//! A large blob just downloaded into a data file of the store's own is not copied at all:
//! the target becomes a second name (hard link) of that file, when both are on one file
//! system. A 1 GiB download then costs 1 GiB of disk, not 2, and is saved at once. Both names
//! are made read-only: the store serves and saves again from those very bytes, which an
//! edit in place would change unseen (an editor that writes a new file and renames it, as
//! most do, leaves them alone). Only a blob this fetch completed is linked: a blob complete
//! before may be held elsewhere (imported by reference), and its old data file stale.

use std::path::{Path, PathBuf};

use anyhow::Context;
use iroh_blobs::Hash;
use iroh_blobs::api::Store;
use iroh_blobs::api::blobs::{ExportMode, ExportOptions};

/// `data_file`: where the store keeps `hash`'s bytes when it keeps them in a file of its own,
/// and they may be linked (see the module's comment).
pub(super) async fn export(
    store: &Store,
    hash: Hash,
    data_file: Option<PathBuf>,
    target: &Path,
) -> anyhow::Result<()> {
    // MemStore exports whatever it has: only a complete blob may become a file.
    anyhow::ensure!(
        store.has(hash).await?,
        "{} is not complete here; fetch it first",
        hash.fmt_short()
    );
    let target = std::path::absolute(target)
        .with_context(|| format!("cannot save to {}", target.display()))?;
    let shown = target.display();
    if tokio::fs::symlink_metadata(&target).await.is_ok() {
        anyhow::bail!("{shown} exists; not overwriting it");
    }
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        anyhow::bail!("cannot save to {shown}: not a file name");
    };
    if let Some(data_file) = data_file
        && let Some(linked) = link_data_file(store, hash, &data_file, &target).await
    {
        return linked;
    }
    let temp = dir.join(format!(
        ".{}.{:016x}.part",
        name.to_string_lossy(),
        rand::random::<u64>()
    ));
    let options = ExportOptions {
        hash,
        mode: ExportMode::Copy,
        target: temp.clone(),
    };
    if let Err(e) = store.export_with_opts(options).await {
        tokio::fs::remove_file(&temp).await.ok();
        anyhow::bail!("cannot write {shown}: {e}");
    }
    // A hard link never replaces an existing file, even one created since the check above.
    let placed = match tokio::fs::hard_link(&temp, &target).await {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(anyhow::anyhow!("{shown} exists; not overwriting it"))
        }
        // A file system without hard links: rename, after checking again.
        Err(_) if tokio::fs::symlink_metadata(&target).await.is_err() => {
            tokio::fs::rename(&temp, &target)
                .await
                .with_context(|| format!("cannot write {shown}"))
        }
        Err(e) => Err(anyhow::anyhow!("cannot write {shown}: {e}")),
        Ok(()) => Ok(()),
    };
    tokio::fs::remove_file(&temp).await.ok();
    placed
}

/// The target as a second name of the store's own data file for `hash`: `None` when that
/// cannot be (no such file, another file system, a size that does not match), so the caller
/// copies instead; an error only when the target exists.
async fn link_data_file(
    store: &Store,
    hash: Hash,
    data_file: &Path,
    target: &Path,
) -> Option<anyhow::Result<()>> {
    let iroh_blobs::api::blobs::BlobStatus::Complete { size } = store.status(hash).await.ok()?
    else {
        return None;
    };
    // Small blobs live inside the store's database, and a blob imported by reference lives
    // in the sharer's own file: only a data file of the full size is this blob's bytes.
    let meta = tokio::fs::metadata(data_file).await.ok()?;
    if !meta.is_file() || meta.len() != size {
        return None;
    }
    match tokio::fs::hard_link(data_file, target).await {
        Ok(()) => {
            // One inode, two names: read-only for both (the store only reads it now).
            let mut permissions = meta.permissions();
            permissions.set_readonly(true);
            tokio::fs::set_permissions(target, permissions).await.ok();
            Some(Ok(()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Some(Err(anyhow::anyhow!(
            "{} exists; not overwriting it",
            target.display()
        ))),
        Err(_) => None,
    }
}

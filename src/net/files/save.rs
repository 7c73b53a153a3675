//! Writing a complete blob out as a file: to a temporary file beside the target, then linked
//! into place, so the target is either whole or absent, and never overwritten.

use std::path::Path;

use anyhow::Context;
use iroh_blobs::Hash;
use iroh_blobs::api::Store;
use iroh_blobs::api::blobs::{ExportMode, ExportOptions};

pub(super) async fn export(store: &Store, hash: Hash, target: &Path) -> anyhow::Result<()> {
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

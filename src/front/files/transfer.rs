//! One fetch: from its providers into the store, progress at most four times a second,
//! then saved under a safe, new name in the download directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::FileUpdate;
use crate::net::Node;
use crate::net::files::ProvidersGone;
use crate::proto::EndpointId;
use crate::proto::wire::FileRef;
use crate::store::downloads::{safe_file_name, unique_target};

/// Progress reports per transfer and second, at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// A fetch waiting for its providers tries again after this.
const RETRY_WAITING: Duration = Duration::from_secs(60);

/// Fetch `file` and save it under a safe, new name in `dir`; reports through `updates`.
/// Providers sent on `back` came back: they are dialed again.
pub(super) async fn fetch(
    node: Node,
    file: FileRef,
    (providers, back): (Vec<EndpointId>, mpsc::Receiver<EndpointId>),
    dir: PathBuf,
    updates: mpsc::Sender<FileUpdate>,
) {
    let hash = file.hash.clone();
    // Complete already (shared by us, fetched before): saved as a copy, never as a link.
    let before = node.file_status(&file.hash).await.unwrap_or_default();
    let result = async {
        let (progress_tx, mut progress) = mpsc::channel(16);
        let started = Instant::now();
        let fetching = node.fetch_file(&file.hash, file.size, providers, progress_tx, back);
        tokio::pin!(fetching);
        let mut last = Instant::now() - PROGRESS_EVERY;
        let fetched = loop {
            tokio::select! {
                done = &mut fetching => break done,
                Some(done) = progress.recv() => {
                    if last.elapsed() >= PROGRESS_EVERY {
                        last = Instant::now();
                        let secs = started.elapsed().as_secs_f64().max(0.001);
                        let update = FileUpdate::Progress {
                            hash: hash.clone(),
                            done,
                            total: file.size,
                            // What arrived this time (a resumed fetch starts with some held).
                            rate: (done.saturating_sub(before.have) as f64 / secs) as u64,
                        };
                        let _ = updates.send(update).await;
                    }
                }
            }
        };
        if let Err(err) = fetched {
            let waiting = err.downcast_ref::<ProvidersGone>().is_some();
            let reason = match waiting {
                true => format!("{err:#}; it starts again by itself when one of them is back"),
                false => format!("{err:#}"),
            };
            return Err((reason, waiting));
        }
        // Always the whole of it once fetched (the throttle may have held back the last
        // report): the bar shows 100 % while the file is written out.
        let secs = started.elapsed().as_secs_f64().max(0.001);
        let whole = FileUpdate::Progress {
            hash: hash.clone(),
            done: file.size,
            total: file.size,
            rate: (file.size.saturating_sub(before.have) as f64 / secs) as u64,
        };
        let _ = updates.send(whole).await;
        save(&node, &file, &dir, !before.complete)
            .await
            .map_err(|reason| (reason, false))
    }
    .await;
    let update = match result {
        Ok(path) => FileUpdate::Saved { hash, path },
        Err((reason, waiting)) => {
            if waiting {
                // Providers may come back without rejoining (a restart within the member
                // timeout, a network that heals): try again now and then, besides when one
                // joins a room.
                let (updates, hash) = (updates.clone(), hash.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(RETRY_WAITING).await;
                    let _ = updates.send(FileUpdate::Retry { hash }).await;
                });
            }
            FileUpdate::Failed {
                hash,
                reason,
                waiting,
            }
        }
    };
    let _ = updates.send(update).await;
}

async fn save(node: &Node, file: &FileRef, dir: &Path, fetched: bool) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    // A download directory someone else owns or can write to: they could swap what we save.
    crate::store::check_owned(dir)
        .map_err(|why| format!("the download directory {} {why}", dir.display()))?;
    let target = unique_target(dir, &safe_file_name(&file.name))
        .map_err(|err| format!("cannot save {}: {err}", file.name))?;
    node.save_file(&file.hash, &target, fetched)
        .await
        .map_err(|err| format!("{err:#}"))?;
    Ok(target)
}

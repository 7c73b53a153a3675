//! `/send PATH`: a path made a file on offer (our store holds it, by reference when large),
//! described as a room or a direct message carries it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{FileUpdate, Place};
use crate::net::Node;
use crate::proto::wire::FileRef;

/// How often hashing progress is reported at most (a big file takes seconds to hash).
const HASHING_EVERY: Duration = Duration::from_millis(250);

/// `/send PATH`: the file on offer from our store, described for a room (`~` is home), and
/// fetchable by whoever is in `place` from now on (before the offer reaches them). While it
/// is read and hashed, progress goes to `updates` (at most 4 a second, and the end).
pub async fn share(
    node: &Node,
    path: &str,
    place: Place,
    updates: mpsc::Sender<FileUpdate>,
) -> Result<FileRef, String> {
    let path = expand_home(path.trim());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{}: not a file", path.display()))?;
    let mut last: Option<Instant> = None;
    let shown = name.clone();
    let end = updates.clone();
    let progress = move |done: u64, total: u64| {
        let end = done >= total;
        if !end && last.is_some_and(|at| at.elapsed() < HASHING_EVERY) {
            return;
        }
        last = Some(Instant::now());
        let update = FileUpdate::Hashing {
            name: shown.clone(),
            done,
            total,
        };
        // Progress only: a full channel drops it, the end is sent by waiting.
        let _ = updates.try_send(update);
    };
    let shared = match node.share_file(&path, progress).await {
        Ok(shared) => shared,
        Err(err) => {
            // Nothing is being hashed any more (0 of 0 is the end).
            let over = FileUpdate::Hashing {
                name: name.clone(),
                done: 0,
                total: 0,
            };
            let _ = end.try_send(over);
            return Err(format!("{err:#}"));
        }
    };
    node.files_offered(&shared.hash, place);
    Ok(FileRef {
        hash: shared.hash,
        size: shared.size,
        mime: mime_of(&name).to_string(),
        name,
    })
}

/// `path` with a leading `~/` made the home directory (as a shell would).
pub(crate) fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => directories::UserDirs::new()
            .map_or_else(|| PathBuf::from(path), |u| u.home_dir().join(rest)),
        None => PathBuf::from(path),
    }
}

/// A media type from the name's extension (a hint for the receiver; never trusted).
fn mime_of(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt" | "log" | "md") => "text/plain",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("json") => "application/json",
        Some("zip") => "application/zip",
        Some("gz" | "tgz") => "application/gzip",
        _ => "application/octet-stream",
    }
}

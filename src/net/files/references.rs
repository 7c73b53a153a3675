//! Files we share by reference, remembered across runs: where each is, and its size and
//! modification time when it was hashed, so that one edited while parlor was not running is
//! not served either. A small JSON file beside the store's database, written whole and
//! renamed into place; a missing or damaged one is an empty list (those files are then served
//! unchecked, as before this file existed).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use iroh_blobs::Hash;
use serde::{Deserialize, Serialize};

use super::access::Reference;

/// Its name in the store's directory.
const FILE: &str = "parlor-references.json";

#[derive(Serialize, Deserialize)]
struct Entry {
    hash: String,
    path: PathBuf,
    size: u64,
    /// Seconds and nanoseconds since the epoch.
    modified: Option<(u64, u32)>,
}

pub(super) fn path_in(store_dir: &Path) -> PathBuf {
    store_dir.join(FILE)
}

/// What `file` remembers; nothing when it is missing or damaged.
pub(super) fn load(file: &Path) -> Vec<(Hash, Reference)> {
    let Ok(text) = std::fs::read(file) else {
        return Vec::new();
    };
    let entries: Vec<Entry> = match serde_json::from_slice(&text) {
        Ok(entries) => entries,
        Err(err) => {
            tracing::warn!("{}: damaged, ignored: {err}", file.display());
            return Vec::new();
        }
    };
    entries
        .into_iter()
        .filter_map(|entry| {
            let hash = entry.hash.parse().ok()?;
            let modified = entry
                .modified
                .map(|(secs, nanos)| UNIX_EPOCH + Duration::new(secs, nanos));
            let reference = Reference {
                path: entry.path,
                size: entry.size,
                modified,
            };
            Some((hash, reference))
        })
        .collect()
}

/// Write `references` to `file` whole (a temporary file renamed into place, private).
pub(super) fn save(file: &Path, references: Vec<(Hash, Reference)>) -> std::io::Result<()> {
    let entries: Vec<Entry> = references
        .into_iter()
        .map(|(hash, reference)| Entry {
            hash: hash.to_hex().to_string(),
            path: reference.path,
            size: reference.size,
            modified: reference.modified.and_then(since_epoch),
        })
        .collect();
    let text = serde_json::to_vec(&entries).map_err(std::io::Error::other)?;
    let temp = file.with_extension(format!("{:016x}.tmp", rand::random::<u64>()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&temp)
        .and_then(|mut out| std::io::Write::write_all(&mut out, &text))
        .and_then(|()| std::fs::rename(&temp, file));
    if written.is_err() {
        std::fs::remove_file(&temp).ok();
    }
    written
}

fn since_epoch(time: SystemTime) -> Option<(u64, u32)> {
    let since = time.duration_since(UNIX_EPOCH).ok()?;
    Some((since.as_secs(), since.subsec_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_come_back_as_they_were_saved() {
        let file = path_in(&crate::store::tests::tempdir());
        assert!(load(&file).is_empty());
        let reference = Reference {
            path: "/home/me/big.iso".into(),
            size: 5 << 20,
            modified: Some(UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789)),
        };
        let hash = Hash::new(b"big");
        save(&file, vec![(hash, reference.clone())]).expect("save");
        assert_eq!(load(&file), vec![(hash, reference)]);
        std::fs::write(&file, b"{not json").unwrap();
        assert!(load(&file).is_empty());
    }
}

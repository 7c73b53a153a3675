//! Small JSON files of the terminal UI's own kept in the data directory (the input history,
//! where each view was left off): private (0600), never read or written through a symlink,
//! written whole to a temporary file and renamed over the old one, so a crash never leaves
//! half a file.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::paths;

/// The value kept in `dir/name`; an error for a file that is missing, not a regular file,
/// larger than `max_bytes` or not the JSON of a `T`.
pub(super) fn read<T: DeserializeOwned>(
    dir: &Path,
    name: &str,
    max_bytes: u64,
) -> std::io::Result<T> {
    let path = dir.join(name);
    let meta = std::fs::symlink_metadata(&path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > max_bytes {
        return Err(std::io::Error::other("too large"));
    }
    let text = std::fs::read(&path)?;
    serde_json::from_slice(&text).map_err(std::io::Error::other)
}

/// Replace `dir/name` with `value`.
pub(super) fn write<T: Serialize + ?Sized>(
    dir: &Path,
    name: &str,
    value: &T,
) -> std::io::Result<()> {
    let json = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    let temporary = dir.join(format!("{name}.tmp"));
    // A temporary file left by a crash is replaced, never followed if it is a symlink.
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.create_new(true).write(true);
    paths::private(&mut options);
    let mut out = options.open(&temporary)?;
    out.write_all(&json)?;
    out.sync_all()?;
    drop(out);
    std::fs::rename(&temporary, dir.join(name))
}

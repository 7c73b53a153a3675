//! `/send PATH`: a path made a file on offer (our store holds it, by reference when large),
//! described as a room or a direct message carries it.

use std::path::PathBuf;

use crate::net::Node;
use crate::proto::wire::FileRef;

/// `/send PATH`: the file on offer from our store, described for a room (`~` is home).
pub async fn share(node: &Node, path: &str) -> Result<FileRef, String> {
    let path = expand_home(path.trim());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{}: not a file", path.display()))?;
    let shared = node
        .share_file(&path)
        .await
        .map_err(|err| format!("{err:#}"))?;
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

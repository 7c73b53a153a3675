//! Where parlor keeps things: the data directory (XDG) and the terminal UI's log file.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "parlor")
}

/// `$XDG_DATA_HOME/parlor` (usually `~/.local/share/parlor`) or the platform's equivalent.
pub fn default_data_dir() -> Option<PathBuf> {
    project_dirs().map(|dirs| dirs.data_dir().to_path_buf())
}

/// Where logs go while the terminal UI owns the screen: `$XDG_STATE_HOME/parlor/parlor.log`
/// (usually `~/.local/state/parlor/parlor.log`), or the platform's local data directory.
pub fn log_path() -> PathBuf {
    project_dirs()
        .map(|dirs| {
            dirs.state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .join("parlor.log")
        })
        .unwrap_or_else(|| std::env::temp_dir().join("parlor.log"))
}

/// Open the log file for appending, creating its directory.
pub fn open_log(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

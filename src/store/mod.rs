//! The only code that touches disk. For now: where the terminal UI writes its log.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

/// Where logs go while the terminal UI owns the screen: `$XDG_STATE_HOME/parlor/parlor.log`
/// (usually `~/.local/state/parlor/parlor.log`), or the platform's local data directory.
pub fn log_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "parlor")
        .map(|dirs| {
            dirs.state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .join("parlor.log")
        })
        .unwrap_or_else(|| std::env::temp_dir().join("parlor.log"))
}

/// Open the log file for appending, creating its directory.
pub fn open_log(path: &PathBuf) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

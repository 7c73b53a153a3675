//! Where parlor keeps things: the data directory (XDG) and the terminal UI's log file, and how
//! they are created: only their owner may read them (the database holds every room's topic,
//! which is the capability to join, and all history).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "parlor")
}

/// `$XDG_DATA_HOME/parlor` (usually `~/.local/share/parlor`) or the platform's equivalent.
pub fn default_data_dir() -> Option<PathBuf> {
    project_dirs().map(|dirs| dirs.data_dir().to_path_buf())
}

/// Where shared and fetched files are kept (iroh-blobs' own store, opened by `net`).
pub fn blobs_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("blobs")
}

/// Where logs go while the terminal UI owns the screen: `$XDG_STATE_HOME/parlor/parlor.log`
/// (usually `~/.local/state/parlor/parlor.log`), or the platform's local data directory.
/// `None` without a home directory: no log rather than a guessable path in /tmp.
pub fn log_path() -> Option<PathBuf> {
    project_dirs().map(|dirs| {
        dirs.state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .join("parlor.log")
    })
}

/// Open the log file for appending (never through a symlink), creating its directory; both
/// private.
pub fn open_log(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    private(&mut options);
    let file = options.open(path)?;
    restrict(path, 0o600);
    Ok(file)
}

/// Create `dir` (and its parents) if missing, itself readable by its owner only; an existing
/// `dir` open to others is closed (parents are left alone: they may be shared).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    restrict(dir, 0o700);
    Ok(())
}

/// Files parlor creates: mode 0600, and never through a symlink someone planted.
pub fn private(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
}

/// Take group and other permissions away from `path` if it has any, saying so.
pub fn restrict(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && !meta.file_type().is_symlink()
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                "{} was open to other users; setting it to {mode:o}",
                path.display()
            );
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

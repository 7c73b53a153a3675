//! Where parlor keeps things: the data directory (XDG) and the terminal UI's log file, and how
//! they are created: only their owner may read them (the database holds every room's topic,
//! which is the capability to join, and all history).

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::StoreError;

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

/// Whether the data directory `dir` exists, refusing one that cannot be used: not a
/// directory, or one that cannot be listed. A missing one is no error: opening creates it,
/// and reading finds nothing stored yet.
pub fn check_data_dir(dir: &Path) -> Result<bool, StoreError> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(unusable(dir, "is not a directory".to_string())),
        // Listing it is what reading it takes; this fails without read permission where a
        // `metadata` of its files would only say "not found".
        Ok(_) => match std::fs::read_dir(dir) {
            Ok(_) => check_owned(dir)
                .map(|()| true)
                .map_err(|why| unusable(dir, why)),
            Err(err) => Err(unusable(dir, format!("cannot be read: {}", reason(&err)))),
        },
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(false),
        Err(err) => Err(unusable(dir, format!("cannot be read: {}", reason(&err)))),
    }
}

/// Refuse a directory another user could have planted or can change (issue 25): owned by
/// someone else, writable by others, or holding a file that is not ours. Our identity key
/// and history are read from it, so a directory prepared by someone else (a shared /tmp, a
/// `--data-dir` they suggested) would hand them both. One line for the user to act on.
pub fn check_owned(dir: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = rustix::process::geteuid().as_raw();
        let meta = std::fs::metadata(dir).map_err(|err| reason(&err))?;
        if meta.uid() != me {
            return Err(format!("is owned by another user (uid {})", meta.uid()));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "is writable by other users (mode {:o}): chmod 700 it, or use another",
                meta.mode() & 0o777
            ));
        }
        let entries = std::fs::read_dir(dir).map_err(|err| reason(&err))?;
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.uid() != me {
                return Err(format!(
                    "holds {} of another user (uid {}): it may have been planted",
                    entry.path().display(),
                    meta.uid()
                ));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Whether the file `name` in the (existing) data directory `dir` exists; a directory in its
/// place, or one that cannot be looked at, makes the data directory unusable.
pub fn check_data_file(dir: &Path, name: &str) -> Result<bool, StoreError> {
    let path = dir.join(name);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => Err(unusable(
            dir,
            format!("cannot be used: {} is a directory", path.display()),
        )),
        Ok(_) => Ok(true),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(false),
        Err(err) => Err(unusable(dir, format!("cannot be read: {}", reason(&err)))),
    }
}

/// `err`, met on a file in the data directory `dir`, as the data directory's problem when it
/// is one its user must fix (permissions, a directory where a file belongs, a read-only
/// disk); other errors stay as they are.
pub fn in_data_dir(dir: &Path, error: StoreError) -> StoreError {
    match error {
        StoreError::Io { path, err } if user_must_fix(&err) => {
            let what = if path == dir {
                "cannot be created".to_string()
            } else {
                format!("cannot be used: {}", path.display())
            };
            unusable(dir, format!("{what}: {}", reason(&err)))
        }
        other => other,
    }
}

fn user_must_fix(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::PermissionDenied
            | ErrorKind::NotADirectory
            | ErrorKind::IsADirectory
            | ErrorKind::ReadOnlyFilesystem
            | ErrorKind::AlreadyExists
    )
}

fn unusable(dir: &Path, problem: String) -> StoreError {
    StoreError::DataDir {
        path: dir.to_path_buf(),
        problem,
    }
}

/// An IO error as a few lowercase words, without the "(os error N)" meant for programmers.
fn reason(err: &std::io::Error) -> String {
    match err.kind() {
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::NotADirectory => "a part of its path is not a directory".to_string(),
        ErrorKind::IsADirectory => "it is a directory".to_string(),
        ErrorKind::ReadOnlyFilesystem => "the file system is read-only".to_string(),
        ErrorKind::AlreadyExists => "something else is in its place".to_string(),
        _ => err.to_string(),
    }
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

//! The endpoint's secret key on disk (created once, mode 0600, never printed) and the lock that
//! keeps two parlor processes from being the same endpoint at once.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use data_encoding::HEXLOWER;

use super::StoreError;
use crate::proto::SecretKey;

const KEY_FILE: &str = "identity.key";
const LOCK_FILE: &str = "parlor.lock";

/// Read the key in `dir`, or create one. A damaged key file is an error, never overwritten:
/// replacing it would silently change who you are.
pub fn load_or_create_key(dir: &Path) -> Result<SecretKey, StoreError> {
    let path = dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            super::paths::restrict(&path, 0o600);
            let bytes = HEXLOWER
                .decode(text.trim().as_bytes())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| StoreError::DamagedKey(path.clone()))?;
            Ok(SecretKey::from_bytes(&bytes))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate();
            write_private(&path, &format!("{}\n", HEXLOWER.encode(&key.to_bytes()))).map_err(
                |err| StoreError::Io {
                    path: path.clone(),
                    err,
                },
            )?;
            Ok(key)
        }
        Err(err) => Err(StoreError::Io { path, err }),
    }
}

/// Write a file only its owner can read, atomically (a crash leaves the old file or the new
/// one, never half of one). The temporary file is created new (`O_EXCL`, never through a
/// symlink): whatever was left at its name (a crash, or a link planted there) is removed first.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    match std::fs::remove_file(&tmp) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    super::paths::private(&mut options);
    let mut file = options.open(&tmp)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Held while parlor runs with this data directory; released when dropped or when the process
/// dies (the OS drops the lock, so a crash never leaves the directory locked).
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
    pub path: PathBuf,
}

pub fn lock(dir: &Path) -> Result<InstanceLock, StoreError> {
    let path = dir.join(LOCK_FILE);
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    super::paths::private(&mut options);
    let file = options.open(&path);
    super::paths::restrict(&path, 0o600);
    let file = file.map_err(|err| StoreError::Io {
        path: path.clone(),
        err,
    })?;
    match file.try_lock() {
        Ok(()) => Ok(InstanceLock { _file: file, path }),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(err)) => Err(StoreError::Io { path, err }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::tempdir;

    #[test]
    fn key_is_created_once_private_and_reloaded() {
        let dir = tempdir();
        let first = load_or_create_key(&dir).unwrap();
        let second = load_or_create_key(&dir).unwrap();
        assert_eq!(first.public(), second.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_key_is_an_error_and_left_alone() {
        let dir = tempdir();
        std::fs::write(dir.join(KEY_FILE), "not a key").unwrap();
        assert!(matches!(
            load_or_create_key(&dir),
            Err(StoreError::DamagedKey(_))
        ));
        assert_eq!(
            std::fs::read_to_string(dir.join(KEY_FILE)).unwrap(),
            "not a key"
        );
    }

    #[test]
    fn a_second_instance_is_refused() {
        let dir = tempdir();
        let held = lock(&dir).unwrap();
        assert!(matches!(lock(&dir), Err(StoreError::InUse(_))));
        drop(held);
        assert!(lock(&dir).is_ok());
    }
}

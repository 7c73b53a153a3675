//! Scratch directories for tests, all inside one folder per test process
//! (`$TMPDIR/parlor-tests/<pid>/`), so that test runs do not pile litter up in the temporary
//! directory (a run of the suite left some 185 directories there, and every run added more).
//!
//! On Linux the first scratch directory a process asks for removes the folders of test
//! processes that no longer run (no `/proc/<pid>`), whether they finished, failed or were
//! killed. A guard removing its directory on drop would miss those, and most tests hand their
//! paths to nodes and child processes that outlive the test's own scope. What a run leaves is
//! its last processes' folders, removed by the next run. Elsewhere nothing is swept.
//!
//! Shared, as one file, by the integration tests (`support::test_dir`) and the unit tests
//! (`crate::test_dir`, through `#[path]` in `lib.rs`): it uses nothing but the standard
//! library. Its own tests are in `test_dir_tests.rs`, run once, with the unit tests.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

/// A new, empty directory whose name starts with `tag`.
pub fn fresh(tag: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let folder = process_folder();
    loop {
        let dir = folder.join(format!("{tag}-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
        // Made here, never found: a name left over (a folder the sweep could not remove)
        // is skipped rather than handed out with someone else's files in it.
        match std::fs::create_dir(&dir) {
            Ok(()) => return dir,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => panic!("a scratch directory for the test: {}: {err}", dir.display()),
        }
    }
}

/// This process's folder; made clean the first time.
fn process_folder() -> PathBuf {
    static READY: Once = Once::new();
    let root = std::env::temp_dir().join("parlor-tests");
    let own = root.join(std::process::id().to_string());
    READY.call_once(|| {
        if std::fs::create_dir(&root).is_ok() {
            // Shared by every user's tests, as the temporary directory itself is: anyone may
            // add a folder, only its owner may remove it.
            set_mode(&root, 0o1777);
        }
        // A folder with our number is a finished process's whose number we were given again.
        let _ = std::fs::remove_dir_all(&own);
        sweep(&root);
        std::fs::create_dir_all(&own).expect("a scratch folder for the test process");
        // Tests that run parlor as another user (tests/cli.rs) must be able to pass through.
        set_mode(&own, 0o755);
    });
    own
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}

/// Remove the folders of test processes that are gone. Only where `/proc` says which
/// processes run (Linux); elsewhere nothing is removed. Another user's folders stay (their
/// removal is refused). A process in another pid namespace (a container) sharing this
/// temporary directory looks gone and loses its folder: give such a container a `TMPDIR` of
/// its own.
pub(crate) fn sweep(root: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if !proc.join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

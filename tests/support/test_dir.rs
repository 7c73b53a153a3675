//! Scratch directories for tests, all inside one folder per test process
//! (`$TMPDIR/parlor-tests/<pid>/`), so that test runs do not pile litter up in the temporary
//! directory (a run of the suite left some 190 directories there, and every run added more).
//!
//! The first scratch directory a process asks for removes the folders of test processes that
//! no longer run, whether they finished, failed or were killed. A guard removing its directory
//! on drop would miss those, and most tests hand their paths to nodes and child processes
//! that outlive the test's own scope. What a run leaves is only the folders of its last
//! processes, removed by the next run.
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
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = process_folder().join(format!("{tag}-{n}"));
    std::fs::create_dir_all(&dir).expect("a scratch directory for the test");
    dir
}

/// This process's folder; made clean the first time.
fn process_folder() -> PathBuf {
    static SWEPT: Once = Once::new();
    let root = std::env::temp_dir().join("parlor-tests");
    let own = root.join(std::process::id().to_string());
    SWEPT.call_once(|| {
        // A folder with our number is a finished process's whose number we were given again.
        let _ = std::fs::remove_dir_all(&own);
        sweep(&root);
    });
    own
}

/// Remove the folders of test processes that are gone. Only where `/proc` says which
/// processes run (Linux); elsewhere nothing is removed.
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

//! The input history (the lines Up and Down recall) kept across restarts: one JSON file in the
//! data directory, private (0600, never through a symlink), at most the number of lines the
//! app keeps. It is written whole to a temporary file and renamed over the old one, so a crash
//! never leaves half a file. A damaged, oversized or unreadable file is ignored with a log
//! line: history is a convenience, never a reason not to start. Nothing of it exists without
//! a data directory (`--ephemeral`).

use std::path::{Path, PathBuf};

use super::json_file;

pub const RECALL_FILE: &str = "input_history.json";
/// Larger is not a file we wrote (500 lines of at most a message each stay far below).
const MAX_FILE_BYTES: u64 = 32 << 20;

fn file(dir: &Path) -> PathBuf {
    dir.join(RECALL_FILE)
}

/// The lines kept in `dir`, oldest first, at most the newest `max`; none when there is no
/// file or it cannot be used (said in the log).
pub fn load_recall(dir: &Path, max: usize) -> Vec<String> {
    let path = file(dir);
    match json_file::read::<Vec<String>>(dir, RECALL_FILE, MAX_FILE_BYTES) {
        Ok(mut lines) => {
            lines.drain(..lines.len().saturating_sub(max));
            lines
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(err) => {
            tracing::warn!("ignoring the input history {}: {err}", path.display());
            Vec::new()
        }
    }
}

/// Keep the newest `max` of `lines` in `dir`, replacing what was kept.
pub fn save_recall(dir: &Path, lines: &[String], max: usize) -> std::io::Result<()> {
    let newest = &lines[lines.len().saturating_sub(max)..];
    json_file::write(dir, RECALL_FILE, newest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::paths;

    fn dir(test: &str) -> PathBuf {
        let dir = crate::test_dir::fresh(&format!("recall-{test}")).join("state");
        paths::create_private_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn kept_across_restarts_bounded_and_private() {
        let dir = dir("kept");
        assert!(load_recall(&dir, 500).is_empty(), "no file yet");
        let lines: Vec<String> = (0..600).map(|i| format!("line {i}\nrow two")).collect();
        save_recall(&dir, &lines, 500).unwrap();
        let loaded = load_recall(&dir, 500);
        assert_eq!(loaded.len(), 500, "never more than the bound");
        assert_eq!(loaded.first().unwrap(), "line 100\nrow two");
        assert_eq!(loaded.last().unwrap(), "line 599\nrow two");
        assert_eq!(load_recall(&dir, 2), &lines[598..], "the newest of them");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file(&dir)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Saving again replaces it whole.
        save_recall(&dir, &["only".to_string()], 500).unwrap();
        assert_eq!(load_recall(&dir, 500), ["only"]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_damaged_or_strange_file_is_ignored() {
        let dir = dir("damaged");
        for damage in [
            &b"[\"cut in the mid"[..],
            b"{\"not\": \"a list\"}",
            b"\xff\xfe",
        ] {
            std::fs::write(file(&dir), damage).unwrap();
            assert!(load_recall(&dir, 500).is_empty());
        }
        // A directory where the file should be: ignored, and saving reports it.
        std::fs::remove_file(file(&dir)).unwrap();
        std::fs::create_dir(file(&dir)).unwrap();
        assert!(load_recall(&dir, 500).is_empty());
        assert!(save_recall(&dir, &["x".to_string()], 500).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_not_followed() {
        let dir = dir("symlink");
        let target = dir.join("elsewhere");
        std::fs::write(&target, b"[\"secret\"]").unwrap();
        std::os::unix::fs::symlink(&target, file(&dir)).unwrap();
        assert!(load_recall(&dir, 500).is_empty());
        std::os::unix::fs::symlink(&target, dir.join(format!("{RECALL_FILE}.tmp"))).unwrap();
        save_recall(&dir, &["mine".to_string()], 500).unwrap();
        assert_eq!(
            std::fs::read(&target).unwrap(),
            b"[\"secret\"]",
            "untouched"
        );
        assert_eq!(load_recall(&dir, 500), ["mine"]);
        let _ = std::fs::remove_dir_all(dir);
    }
}

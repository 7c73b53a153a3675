//! Where the user left off in each room and conversation (the terminal UI's read marker,
//! `app::read`), kept across restarts: one JSON file in the data directory beside the input
//! history, mapping a view's key (`room:TOPIC`, `dm:PEER`) to the time (unix ms) of the newest
//! line seen there. A damaged or strange file is ignored with a log line: the marker is a
//! convenience, never a reason not to start. Nothing of it exists with `--ephemeral`.

use std::collections::HashMap;
use std::path::Path;

use super::json_file;

pub const READ_POSITIONS_FILE: &str = "read_positions.json";
/// Larger is not a file we wrote (the app keeps at most 1,000 positions of ~80 bytes).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The positions kept in `dir`; none when there is no file or it cannot be used.
pub fn load_read_positions(dir: &Path) -> HashMap<String, u64> {
    match json_file::read(dir, READ_POSITIONS_FILE, MAX_FILE_BYTES) {
        Ok(positions) => positions,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
        Err(err) => {
            tracing::warn!("ignoring the read positions in {}: {err}", dir.display());
            HashMap::new()
        }
    }
}

/// Keep `positions` in `dir`, replacing what was kept.
pub fn save_read_positions(dir: &Path, positions: &HashMap<String, u64>) -> std::io::Result<()> {
    json_file::write(dir, READ_POSITIONS_FILE, positions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::paths;

    #[test]
    fn kept_across_restarts_and_a_damaged_file_is_ignored() {
        let dir = crate::test_dir::fresh("read").join("state");
        paths::create_private_dir(&dir).unwrap();
        assert!(load_read_positions(&dir).is_empty(), "no file yet");
        let positions = HashMap::from([("room:ab".to_string(), 5), ("dm:cd".to_string(), 7)]);
        save_read_positions(&dir, &positions).unwrap();
        assert_eq!(load_read_positions(&dir), positions);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = dir.join(READ_POSITIONS_FILE);
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join(READ_POSITIONS_FILE), b"{\"room:ab\": -1").unwrap();
        assert!(load_read_positions(&dir).is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}

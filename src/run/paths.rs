//! Listing a directory for Tab completion of `/send PATH` (the app asks with
//! `Effect::CompletePath` and is answered with `Msg::PathCompletions`).

use std::io::ErrorKind;
use std::path::PathBuf;

use crate::app::complete_path::{PathCandidate, split_path};
use crate::front::files::expand_home;

/// Directory entries read at most: a Tab in a directory of a million files stays quick; past
/// this many, a longer prefix finds the rest.
pub const MAX_ENTRIES_READ: usize = 1000;

/// The entries of `prefix`'s directory whose names start with its last part (`~/Doc`: the
/// home directory's entries starting with `Doc`), sorted by name. Hidden entries only when
/// that part starts with a dot; names that are not UTF-8 or hold control characters are
/// left out (they could not be typed back, or would reach the terminal as they are). A
/// directory that does not exist has nothing to offer; one that cannot be read is an error.
pub fn path_candidates(prefix: &str) -> Result<Vec<PathCandidate>, String> {
    // `~` alone is the home directory, as `~/` would be.
    if prefix == "~" {
        return Ok(vec![PathCandidate {
            name: "~".to_string(),
            dir: true,
        }]);
    }
    let (dir, start) = split_path(prefix);
    let listed = match dir {
        "" => PathBuf::from("."),
        dir => expand_home(dir),
    };
    let entries = match std::fs::read_dir(&listed) {
        Ok(entries) => entries,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(format!("cannot list {}: {err}", listed.display())),
    };
    let hidden = start.starts_with('.');
    let mut found: Vec<PathCandidate> = entries
        .take(MAX_ENTRIES_READ)
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let wanted = name.starts_with(start)
                && (hidden || !name.starts_with('.'))
                && !name.chars().any(char::is_control);
            if !wanted {
                return None;
            }
            // Followed through links: a link to a directory completes as one.
            let dir = entry.path().is_dir();
            Some(PathCandidate { name, dir })
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &[PathCandidate]) -> Vec<String> {
        found
            .iter()
            .map(|c| format!("{}{}", c.name, if c.dir { "/" } else { "" }))
            .collect()
    }

    #[test]
    fn lists_what_starts_as_typed_directories_marked_hidden_on_request() {
        let dir = crate::store::tests::tempdir();
        std::fs::create_dir(dir.join("reports")).unwrap();
        std::fs::write(dir.join("report.pdf"), b"pdf").unwrap();
        std::fs::write(dir.join("notes.txt"), b"notes").unwrap();
        std::fs::write(dir.join(".hidden"), b"secret").unwrap();
        std::fs::write(dir.join("reports").join("q1.csv"), b"1").unwrap();
        let base = format!("{}/", dir.display());

        let all = path_candidates(&base).unwrap();
        assert_eq!(names(&all), ["notes.txt", "report.pdf", "reports/"]);
        let found = path_candidates(&format!("{base}rep")).unwrap();
        assert_eq!(names(&found), ["report.pdf", "reports/"]);
        let hidden = path_candidates(&format!("{base}.")).unwrap();
        assert_eq!(names(&hidden), [".hidden"]);
        let inside = path_candidates(&format!("{base}reports/")).unwrap();
        assert_eq!(names(&inside), ["q1.csv"]);
        assert!(path_candidates(&format!("{base}zzz")).unwrap().is_empty());
        let missing = path_candidates(&format!("{base}no-such-dir/x")).unwrap();
        assert!(missing.is_empty(), "a missing directory offers nothing");
        // A file is no directory to list: an error, said once, never a panic.
        assert!(path_candidates(&format!("{base}notes.txt/")).is_err());
        assert_eq!(names(&path_candidates("~").unwrap()), ["~/"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

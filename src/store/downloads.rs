//! Where shared files land: the XDG download directory under `parlor/` (or `--download-dir`),
//! under a name made safe from what the sender claimed, never over an existing file.

use std::path::{Path, PathBuf};

use unicode_segmentation::UnicodeSegmentation;

/// Bytes a saved file's name may take (most file systems allow 255).
pub const MAX_FILE_NAME_BYTES: usize = 200;
/// Names tried with ` (1)` .. ` (N)` before giving up.
const MAX_SUFFIX: u32 = 9_999;

/// `$XDG_DOWNLOAD_DIR/parlor` (usually `~/Downloads/parlor`), else `parlor-downloads` in the
/// data directory's parent; `None` without a home directory.
pub fn default_download_dir() -> Option<PathBuf> {
    let user = directories::UserDirs::new()?;
    match user.download_dir() {
        Some(downloads) => Some(downloads.join("parlor")),
        None => Some(user.home_dir().join("Downloads").join("parlor")),
    }
}

/// A file name from what a sender claimed: one path component (separators and what a
/// terminal could act on removed), no leading dots (nothing hidden, no `..`), no trailing
/// dots or spaces, at most [`MAX_FILE_NAME_BYTES`] (cut at a character boundary, the
/// extension kept), and never empty.
pub fn safe_file_name(claimed: &str) -> String {
    let cleaned: String = claimed
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' => '_',
            c if c.is_control() || crate::proto::names::is_invisible(c) => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned
        .trim_start_matches(['.', ' ', '_'])
        .trim_end_matches(['.', ' ']);
    let name = if trimmed.is_empty() { "file" } else { trimmed };
    cap_bytes(name, MAX_FILE_NAME_BYTES)
}

/// `name` within `max` bytes: the stem is cut (whole graphemes) and the extension, when
/// short, kept.
fn cap_bytes(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    let mut out = String::new();
    for grapheme in stem.graphemes(true) {
        if out.len() + grapheme.len() + ext.len() > max {
            break;
        }
        out.push_str(grapheme);
    }
    out + &ext
}

/// A path in `dir` for `name` that does not exist yet: `name`, else `stem (1).ext`, ...
pub fn unique_target(dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    let first = dir.join(name);
    if !exists(&first) {
        return Ok(first);
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    for n in 1..=MAX_SUFFIX {
        let candidate = dir.join(cap_bytes(
            &format!("{stem} ({n}){ext}"),
            MAX_FILE_NAME_BYTES,
        ));
        if !exists(&candidate) {
            return Ok(candidate);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!(
            "{MAX_SUFFIX} files called {name:?} already in {}",
            dir.display()
        ),
    ))
}

/// Whether anything is at `path`, a dangling symlink included (never written through).
fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// A size as people write it: `500`, `64k`, `2.5M`, `1GiB`, `10 MB` (k, M, G, T: powers of
/// 1024; a trailing `B`/`iB` is optional). `None` for anything else.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let scale: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * scale;
    (bytes <= u64::MAX as f64).then_some(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claimed_names_become_one_safe_component() {
        for (claimed, safe) in [
            ("report.pdf", "report.pdf"),
            ("../../etc/passwd", "etc_passwd"),
            ("/etc/shadow", "etc_shadow"),
            ("..", "file"),
            ("", "file"),
            ("   ", "file"),
            (".bashrc", "bashrc"),
            ("a\u{1b}[2Jb.txt", "a_[2Jb.txt"),
            ("evil\u{202e}fdp.exe", "evil_fdp.exe"),
            ("C:\\Windows\\x.dll", "C__Windows_x.dll"),
            ("trailing. . ", "trailing"),
            ("日本語.txt", "日本語.txt"),
        ] {
            assert_eq!(safe_file_name(claimed), safe, "{claimed:?}");
        }
        let long = format!("{}.tar.gz", "x".repeat(500));
        let capped = safe_file_name(&long);
        assert!(capped.len() <= MAX_FILE_NAME_BYTES);
        assert!(capped.ends_with(".gz"), "{capped}");
        let wide = format!("{}.txt", "語".repeat(200));
        assert!(safe_file_name(&wide).len() <= MAX_FILE_NAME_BYTES);
    }

    #[test]
    fn a_saved_file_never_replaces_another() {
        let dir = crate::store::tests::tempdir();
        assert_eq!(unique_target(&dir, "a.txt").unwrap(), dir.join("a.txt"));
        std::fs::write(dir.join("a.txt"), b"1").unwrap();
        assert_eq!(unique_target(&dir, "a.txt").unwrap(), dir.join("a (1).txt"));
        std::fs::write(dir.join("a (1).txt"), b"2").unwrap();
        assert_eq!(unique_target(&dir, "a.txt").unwrap(), dir.join("a (2).txt"));
        assert_eq!(unique_target(&dir, "noext").unwrap(), dir.join("noext"));
        // A dangling symlink counts as taken: nothing is written through it.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("link")).unwrap();
            assert_eq!(unique_target(&dir, "link").unwrap(), dir.join("link (1)"));
        }
    }

    #[test]
    fn sizes_read_for_people() {
        assert_eq!(parse_size("500"), Some(500));
        assert_eq!(parse_size("64k"), Some(65_536));
        assert_eq!(parse_size("2.5M"), Some(2_621_440));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size(" 10 MB "), Some(10 << 20));
        for bad in ["", "M", "-1", "1X", "1.2.3k", "nan"] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }
}

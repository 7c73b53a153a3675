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
    let (stem, ext) = split_extension(name);
    cut_graphemes(stem, max.saturating_sub(ext.len())) + ext
}

/// `name` as stem and extension (its dot included); an extension over 16 bytes is no
/// extension, so cutting for length never keeps a long tail instead of the name.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= 17 => name.split_at(dot),
        _ => (name, ""),
    }
}

/// The longest start of `text` in whole graphemes within `max` bytes.
fn cut_graphemes(text: &str, max: usize) -> String {
    let mut out = String::new();
    for grapheme in text.graphemes(true) {
        if out.len() + grapheme.len() > max {
            break;
        }
        out.push_str(grapheme);
    }
    out
}

/// A path in `dir` for `name` that does not exist yet: `name`, else `stem (1).ext`, ...
/// The stem is cut to leave room for the suffix, so a name at the length limit still gets
/// new candidates (cutting the whole candidate would cut the suffix off again).
pub fn unique_target(dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    let first = dir.join(name);
    if !exists(&first) {
        return Ok(first);
    }
    let (stem, ext) = split_extension(name);
    for n in 1..=MAX_SUFFIX {
        let suffix = format!(" ({n}){ext}");
        let stem = cut_graphemes(stem, MAX_FILE_NAME_BYTES.saturating_sub(suffix.len()));
        let candidate = dir.join(stem + &suffix);
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
    fn a_name_at_the_length_limit_is_saved_again_and_again() {
        let dir = crate::store::tests::tempdir();
        let claimed = format!("{}.pdf", "n".repeat(246));
        assert_eq!(claimed.len(), 250);
        let name = safe_file_name(&claimed);
        let mut saved = Vec::new();
        for _ in 0..3 {
            let target = unique_target(&dir, &name).expect("a free name");
            std::fs::write(&target, b"x").unwrap();
            let file_name = target.file_name().unwrap().to_str().unwrap().to_string();
            assert!(file_name.len() <= MAX_FILE_NAME_BYTES, "{file_name}");
            assert!(file_name.ends_with(".pdf"), "{file_name}");
            saved.push(file_name);
        }
        assert!(
            saved[1].ends_with(" (1).pdf") && saved[2].ends_with(" (2).pdf"),
            "{saved:?}"
        );
        // Wide characters are cut whole.
        let wide = safe_file_name(&format!("{}.txt", "語".repeat(80)));
        std::fs::write(dir.join(&wide), b"x").unwrap();
        let again = unique_target(&dir, &wide).unwrap();
        assert!(again.to_str().unwrap().ends_with(" (1).txt"), "{again:?}");
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

//! The config file: where it is, and reading it into raw values that remember their line, so
//! that a bad value found later (an out-of-range number, a bad time format) can still be
//! reported as `FILE:LINE: KEY: why`. Only the file's shape is checked here: TOML syntax,
//! unknown keys and the type of each value.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::registry::{Notify, Theme};
use super::sharing::RawSize;
use super::{ConfigError, default_path};

/// The keys of the file, in the example's order.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub name: Option<Spanned<String>>,
    pub relays: Option<Spanned<Vec<String>>>,
    pub theme: Option<Spanned<Theme>>,
    pub bell: Option<Spanned<bool>>,
    pub typing: Option<Spanned<bool>>,
    pub highlights: Option<Spanned<Vec<String>>>,
    pub notify: Option<Spanned<Notify>>,
    pub notify_command: Option<Spanned<String>>,
    pub mouse: Option<Spanned<bool>>,
    pub time_format: Option<Spanned<String>>,
    pub offline: Option<Spanned<bool>>,
    pub lan: Option<Spanned<bool>>,
    pub history_days: Option<Spanned<f64>>,
    pub history_limit: Option<Spanned<usize>>,
    pub history_max: Option<Spanned<RawSize>>,
    pub max_rate: Option<Spanned<f64>>,
    pub join_timeout: Option<Spanned<f64>>,
    pub data_dir: Option<Spanned<PathBuf>>,
    pub download_dir: Option<Spanned<PathBuf>>,
    pub max_get: Option<Spanned<RawSize>>,
    pub auto_get: Option<Spanned<RawSize>>,
    pub auto_get_at_once: Option<Spanned<usize>>,
    pub auto_get_per_sender: Option<Spanned<RawSize>>,
    pub auto_get_per_day: Option<Spanned<RawSize>>,
}

/// Which file, and whether anyone asked for it by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    /// Named by `--config` or `PARLOR_CONFIG`: then a missing file is a mistake, not a default.
    pub explicit: bool,
}

/// `--config`, else `PARLOR_CONFIG`, else `$XDG_CONFIG_HOME/parlor/config.toml` (usually
/// `~/.config/parlor/config.toml`); `None` without a home directory.
pub fn locate(flag: Option<PathBuf>, env: Option<PathBuf>) -> Option<Location> {
    match flag.or(env) {
        Some(path) => Some(Location {
            path,
            explicit: true,
        }),
        None => default_path().map(|path| Location {
            path,
            explicit: false,
        }),
    }
}

/// The parsed file with its text (for line numbers); `None` when the default file does not
/// exist, which is the usual case and fine.
pub struct Loaded {
    pub path: PathBuf,
    pub text: String,
    pub keys: FileConfig,
}

pub fn load(location: &Location) -> Result<Option<Loaded>, ConfigError> {
    let path = &location.path;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !location.explicit => {
            return Ok(None);
        }
        Err(err) => {
            return Err(ConfigError::File(format!(
                "cannot read config file {}: {err}",
                path.display()
            )));
        }
    };
    let keys = parse(path, &text)?;
    Ok(Some(Loaded {
        path: path.clone(),
        text,
        keys,
    }))
}

/// Parse `text` (the contents of `path`); a mistake is one line naming the file, line and key.
pub fn parse(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|err| {
        let message = err
            .message()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let span = err.span().unwrap_or(0..0);
        let (line, key) = position(text, span.start);
        ConfigError::File(match key {
            // An unknown key is named in the message already.
            Some(key) if !message.contains(&format!("`{key}`")) => {
                format!("{}:{line}: {key}: {message}", path.display())
            }
            _ => format!("{}:{line}: {message}", path.display()),
        })
    })
}

/// A bad value, found after parsing: `FILE:LINE: KEY = VALUE: why`.
pub fn invalid<T>(loaded: &Loaded, key: &str, value: &Spanned<T>, why: &str) -> ConfigError {
    let (line, _) = position(&loaded.text, value.span().start);
    let shown = loaded
        .text
        .get(value.span())
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    ConfigError::File(format!(
        "{}:{line}: {key} = {shown}: {why}",
        loaded.path.display()
    ))
}

/// The 1-based line of byte `offset`, and the key being set there: that of the nearest line
/// at or above it with `key =` (a value may continue over several lines, as lists do).
fn position(text: &str, offset: usize) -> (usize, Option<String>) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let key = text
        .lines()
        .take(line)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .find_map(|l| {
            let (key, _) = l.split_once('=')?;
            let key = key.trim();
            (!key.is_empty() && !key.starts_with('#')).then(|| key.trim_matches('"').to_string())
        });
    (line, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse(Path::new("/x/config.toml"), text)
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn mistakes_name_file_line_and_key() {
        for (text, expect) in [
            (
                "bell = true\ntheme = \"neon\"\n",
                "/x/config.toml:2: theme: unknown variant",
            ),
            (
                "name = \"a\"\ncolour = 1\n",
                "/x/config.toml:2: unknown field `colour`",
            ),
            ("bell = \"yes\"\n", "/x/config.toml:1: bell: invalid type"),
            ("\n\nname = \n", "/x/config.toml:3:"),
            (
                "relays = [\n  \"a\",\n  3,\n]\n",
                "/x/config.toml:3: relays: invalid type",
            ),
            ("history_limit = -1\n", "/x/config.toml:1: history_limit:"),
        ] {
            let err = error(text);
            assert!(err.starts_with(expect), "{text:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }

    #[test]
    fn a_missing_file_is_fine_unless_named() {
        let dir = crate::test_dir::fresh("cfg");
        let path = dir.join("none.toml");
        let default = Location {
            path: path.clone(),
            explicit: false,
        };
        assert!(load(&default).unwrap().is_none());
        let named = Location {
            path,
            explicit: true,
        };
        let err = load(&named).err().expect("refused").to_string();
        assert!(err.contains("none.toml"), "{err}");
        let found = locate(Some("/a.toml".into()), Some("/b.toml".into())).unwrap();
        assert_eq!(found.path, Path::new("/a.toml"));
        assert_eq!(
            locate(None, Some("/b.toml".into())).unwrap().path,
            Path::new("/b.toml")
        );
    }
}

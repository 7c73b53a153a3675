//! Fetching shared files: where they land and how large a file may be before parlor asks.
//! `--download-dir`, `--max-get` and `--auto-get` over the config file's `download_dir`,
//! `max_get` and `auto_get` over the defaults. No environment variables: like every setting
//! but the data directory, these are for the command line and the file.

use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;
use super::settings::{Shown, pick};
use crate::cli::GlobalArgs;
use crate::store::downloads::{default_download_dir, parse_size};

pub use super::registry::MAX_GET as DEFAULT_MAX_GET;

/// What a bad size in the config file is told (a flag's is `ConfigError::Size`).
pub const SIZE_HINT: &str =
    "give a size such as \"500k\", \"100M\" or \"2G\", or a number of bytes";

/// How shared files are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSettings {
    /// Where fetched files land (`None`: the XDG download directory, under `parlor/`).
    pub download_dir: Option<PathBuf>,
    /// Larger files need `/get HANDLE --force` (asking, in the UI).
    pub max_get: u64,
    /// Files up to this size are fetched as soon as they are shared (0: never).
    pub auto_get: u64,
    /// `auto_get`'s quotas: fetches at once, bytes per sender and in all per day.
    pub auto_get_at_once: usize,
    pub auto_get_per_sender: u64,
    pub auto_get_per_day: u64,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self {
            download_dir: None,
            max_get: DEFAULT_MAX_GET,
            auto_get: super::registry::AUTO_GET,
            auto_get_at_once: super::registry::AUTO_GET_AT_ONCE,
            auto_get_per_sender: super::registry::AUTO_GET_PER_SENDER,
            auto_get_per_day: super::registry::AUTO_GET_PER_DAY,
        }
    }
}

/// The config file's `download_dir`, `max_get`, `auto_get` and its quotas, checked (sizes
/// in bytes).
#[derive(Debug, Default)]
pub struct FileKeys {
    pub download_dir: Option<PathBuf>,
    pub max_get: Option<u64>,
    pub auto_get: Option<u64>,
    pub auto_get_at_once: Option<usize>,
    pub auto_get_per_sender: Option<u64>,
    pub auto_get_per_day: Option<u64>,
}

impl FileSettings {
    /// Flag > file > default, each noted for `parlor config`. File values are checked
    /// already, so an error here is a flag's.
    pub fn resolve(
        global: &GlobalArgs,
        file: FileKeys,
        shown: &mut Shown,
    ) -> Result<Self, ConfigError> {
        let (download_dir, source) = pick(
            global.download_dir.clone().map(Some),
            None,
            file.download_dir.map(Some),
            None,
        );
        // `None` stays "the default" (decided where files are saved); `parlor config` shows
        // the directory that means, as it does for data_dir.
        let where_to = download_dir.clone().or_else(default_download_dir);
        shown.note("download_dir", (where_to, source));
        let flag = |name: &'static str, value: &Option<String>| {
            value
                .as_deref()
                .map(|text| parse_size(text).ok_or(ConfigError::Size(name)))
                .transpose()
        };
        let max_get = flag("--max-get", &global.max_get)?;
        let max_get = shown.note(
            "max_get",
            pick(max_get, None, file.max_get, DEFAULT_MAX_GET),
        );
        let auto_get = flag("--auto-get", &global.auto_get)?;
        let auto_get = shown.note(
            "auto_get",
            pick(auto_get, None, file.auto_get, super::registry::AUTO_GET),
        );
        use super::registry::{AUTO_GET_AT_ONCE, AUTO_GET_PER_DAY, AUTO_GET_PER_SENDER};
        Ok(Self {
            download_dir,
            max_get,
            auto_get,
            auto_get_at_once: shown.note(
                "auto_get_at_once",
                pick(None, None, file.auto_get_at_once, AUTO_GET_AT_ONCE),
            ),
            auto_get_per_sender: shown.note(
                "auto_get_per_sender",
                pick(None, None, file.auto_get_per_sender, AUTO_GET_PER_SENDER),
            ),
            auto_get_per_day: shown.note(
                "auto_get_per_day",
                pick(None, None, file.auto_get_per_day, AUTO_GET_PER_DAY),
            ),
        })
    }
}

/// A size as the config file gives it: text read as the flags read it ("100M", "1.5G",
/// "0"), or a whole number of bytes. Checked later (`bytes`), so that a bad one is reported
/// as `FILE:LINE: KEY = VALUE: why` like other bad values; only its type is checked here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawSize {
    Text(String),
    Bytes(i64),
}

impl RawSize {
    /// The size in bytes; `None` for text `parse_size` refuses or a negative number.
    pub fn bytes(&self) -> Option<u64> {
        match self {
            RawSize::Text(text) => parse_size(text),
            RawSize::Bytes(n) => u64::try_from(*n).ok(),
        }
    }
}

// By hand rather than `#[serde(untagged)]`: a value of the wrong type (`max_get = true`) then
// says what a size looks like instead of "did not match any variant".
impl<'de> Deserialize<'de> for RawSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RawSize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size such as \"100M\", or a number of bytes")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawSize, E> {
                Ok(RawSize::Text(text.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<RawSize, E> {
                Ok(RawSize::Bytes(n))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<RawSize, E> {
                // TOML integers are i64; anything larger is no size parlor could fetch.
                i64::try_from(n)
                    .map(RawSize::Bytes)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(n), &self))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_the_file_are_text_or_bytes() {
        #[derive(Deserialize)]
        struct Keys {
            size: RawSize,
        }
        let size = |text: &str| toml::from_str::<Keys>(text).map(|k| k.size.bytes());
        assert_eq!(size("size = \"100M\"").unwrap(), Some(100 << 20));
        assert_eq!(size("size = \"1.5G\"").unwrap(), Some(3 << 29));
        assert_eq!(size("size = \"0\"").unwrap(), Some(0));
        assert_eq!(size("size = 4096").unwrap(), Some(4096));
        assert_eq!(size("size = -1").unwrap(), None);
        assert_eq!(size("size = \"lots\"").unwrap(), None);
        let err = size("size = true").expect_err("not a size").to_string();
        assert!(err.contains("a size such as"), "{err}");
        assert!(size("size = 1.5").is_err(), "bytes are whole");
    }
}

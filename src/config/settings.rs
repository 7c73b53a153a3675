//! Settings that come in layers: the command line over the environment over the config file
//! over the defaults. Each value is checked where it comes from (a flag's error names the
//! flag, a file's names its line and key) and remembers its source, for `parlor config`.

use std::path::PathBuf;

use serde::Serialize;
use toml::Spanned;

use super::file::{FileConfig, Loaded, invalid};
use super::registry::{self, Notify, Theme};
use super::sharing::{FileKeys, RawSize, SIZE_HINT};
use super::{ConfigError, Task};
use crate::cli::Command;

/// How the terminal UI looks and sounds (read by the UI, never by the session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiSettings {
    pub theme: Theme,
    /// Ring the terminal bell on mentions, highlights and direct messages.
    pub bell: bool,
    /// Say we are typing, and show who else is.
    pub typing: bool,
    /// Words that highlight a line as my name does.
    pub highlights: Vec<String>,
    /// How desktop notifications go out (or not).
    pub notify: Notify,
    /// The program `notify = "command"` runs (never empty then).
    pub notify_command: String,
    /// Capture the mouse (wheel scrolling); off, the terminal selects text (`--no-mouse`).
    pub mouse: bool,
    /// strftime format of message times, checked to render without error.
    pub time_format: String,
    /// False when `NO_COLOR` is set and non-empty (no-color.org): no colour whatever the theme.
    pub color: bool,
}

/// What no config file says: as parlor looked before there was one.
impl Default for UiSettings {
    fn default() -> Self {
        Self {
            theme: registry::THEME,
            bell: registry::BELL,
            typing: registry::TYPING,
            highlights: Vec::new(),
            notify: registry::NOTIFY,
            notify_command: registry::NOTIFY_COMMAND.to_string(),
            mouse: registry::MOUSE,
            time_format: registry::TIME_FORMAT.to_string(),
            color: registry::COLOR,
        }
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Default,
    File,
    Env,
    Flag,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Env => "env",
            Source::Flag => "flag",
        };
        f.write_str(text)
    }
}

/// The environment variables parlor reads for settings, read once (so tests can give their
/// own instead of the process's).
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `PARLOR_CONFIG`: the config file to read.
    pub config: Option<PathBuf>,
    /// `PARLOR_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `NO_COLOR` is set and not empty.
    pub no_color: bool,
}

impl Env {
    pub fn from_process() -> Self {
        // An empty variable counts as unset, as no-color.org asks of NO_COLOR.
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        Self {
            config: var(registry::ENV_CONFIG).map(PathBuf::from),
            data_dir: var(registry::ENV_DATA_DIR).map(PathBuf::from),
            no_color: var(registry::ENV_NO_COLOR).is_some(),
        }
    }
}

/// One effective setting, as `parlor config` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub key: &'static str,
    pub value: serde_json::Value,
    pub source: Source,
}

impl Setting {
    pub fn new(key: &'static str, value: serde_json::Value, source: Source) -> Self {
        Self { key, value, source }
    }
}

/// What `parlor config` prints: the file and every effective setting.
#[derive(Debug, Clone)]
pub struct Report {
    /// `None`: no home directory, so no default file.
    pub path: Option<PathBuf>,
    pub exists: bool,
    pub settings: Vec<Setting>,
}

/// What `Task::Docs` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Docs {
    /// `parlor completions SHELL`.
    Completions(clap_complete::Shell),
    /// `parlor man`.
    Man,
    /// `parlor config --example`: the commented example config file.
    Example,
}

/// The docs a command asks for, if it is one of those.
pub fn docs_task(command: Option<&Command>) -> Option<Task> {
    let docs = match command? {
        Command::Completions { shell } => Docs::Completions(*shell),
        Command::Man => Docs::Man,
        Command::Config { example: true } => Docs::Example,
        _ => return None,
    };
    Some(Task::Docs(docs))
}

/// The settings `parlor config` shows, recorded as they are resolved.
#[derive(Debug, Default)]
pub struct Shown(Vec<Setting>);

impl Shown {
    /// Record `key`'s value and source; the value is passed through. `key` is one of
    /// `registry::SETTINGS` (a test resolves them all).
    pub fn note<T: Serialize>(&mut self, key: &'static str, (value, source): (T, Source)) -> T {
        debug_assert!(registry::find(key).is_some(), "{key} is in no table");
        let json = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
        self.0.push(Setting::new(key, json, source));
        value
    }

    /// The settings in the table's order.
    pub fn in_order(mut self) -> Vec<Setting> {
        let place = |key| registry::SETTINGS.iter().position(|def| def.key == key);
        self.0.sort_by_key(|setting| place(setting.key));
        self.0
    }
}

/// The first of flag, environment and file that has a value, else the default.
pub fn pick<T>(flag: Option<T>, env: Option<T>, file: Option<T>, default: T) -> (T, Source) {
    flag.map(|v| (v, Source::Flag))
        .or_else(|| env.map(|v| (v, Source::Env)))
        .or_else(|| file.map(|v| (v, Source::File)))
        .unwrap_or((default, Source::Default))
}

/// A time format the UI can render: chrono knows every specifier, and formatting a date
/// with an offset succeeds (a bad one would otherwise fail at render time).
pub fn valid_time_format(format: &str) -> bool {
    use chrono::format::{Item, StrftimeItems};
    use std::fmt::Write;
    if StrftimeItems::new(format).any(|item| matches!(item, Item::Error)) {
        return false;
    }
    let sample = chrono::DateTime::UNIX_EPOCH.fixed_offset();
    let mut out = String::new();
    write!(out, "{}", sample.format(format)).is_ok()
}

pub const TIME_FORMAT_HINT: &str =
    "not a strftime format chrono can render (e.g. \"%H:%M\"; %% for a literal %)";
pub const JOIN_TIMEOUT_HINT: &str = "give a number of seconds between 0.1 and 86400";
pub const MAX_RATE_HINT: &str = "give a number of lines per second between 0.1 and 1000000";
pub const HISTORY_DAYS_HINT: &str = "give a number of days between 0 and 3650";

pub fn valid_join_timeout(secs: &f64) -> bool {
    (0.1..=86400.0).contains(secs)
}

pub fn valid_max_rate(rate: &f64) -> bool {
    (0.1..=1_000_000.0).contains(rate)
}

pub fn valid_history_days(days: &f64) -> bool {
    (0.0..=3650.0).contains(days)
}

/// The file's values, each checked (a bad one is `FILE:LINE: KEY = VALUE: why`); all `None`
/// without a file.
#[derive(Debug, Default)]
pub struct FileValues {
    pub name: Option<String>,
    pub relays: Option<Vec<String>>,
    pub theme: Option<Theme>,
    pub bell: Option<bool>,
    pub typing: Option<bool>,
    pub highlights: Option<Vec<String>>,
    pub notify: Option<Notify>,
    pub notify_command: Option<String>,
    pub mouse: Option<bool>,
    pub time_format: Option<String>,
    pub offline: Option<bool>,
    pub lan: Option<bool>,
    pub history_days: Option<f64>,
    pub history_limit: Option<usize>,
    pub history_max: Option<u64>,
    pub max_rate: Option<f64>,
    pub join_timeout: Option<f64>,
    pub data_dir: Option<PathBuf>,
    pub files: FileKeys,
}

impl FileValues {
    pub fn check(loaded: Option<&Loaded>) -> Result<Self, ConfigError> {
        let Some(loaded) = loaded else {
            return Ok(Self::default());
        };
        let FileConfig {
            name,
            relays,
            theme,
            bell,
            typing,
            highlights,
            notify,
            notify_command,
            mouse,
            time_format,
            offline,
            lan,
            history_days,
            history_limit,
            history_max,
            max_rate,
            join_timeout,
            data_dir,
            download_dir,
            max_get,
            auto_get,
            auto_get_at_once,
            auto_get_per_sender,
            auto_get_per_day,
        } = &loaded.keys;
        // A size is checked as it is converted: text such as "100M" or bytes, not below 0.
        let size = |key, value: &Option<Spanned<RawSize>>| {
            value
                .as_ref()
                .map(|v| {
                    v.get_ref()
                        .bytes()
                        .ok_or_else(|| invalid(loaded, key, v, SIZE_HINT))
                })
                .transpose()
        };
        Ok(Self {
            name: checked(
                loaded,
                "name",
                name,
                &|n: &String| crate::proto::names::clean_name(n).is_some(),
                "nothing is left once control characters, '#' and spaces are removed",
            )?,
            relays: checked(
                loaded,
                "relays",
                relays,
                &|urls: &Vec<String>| urls.iter().all(|u| u.parse::<iroh::RelayUrl>().is_ok()),
                "give relay URLs such as \"https://relay.example.com\"",
            )?,
            time_format: checked(
                loaded,
                "time_format",
                time_format,
                &|f: &String| valid_time_format(f),
                TIME_FORMAT_HINT,
            )?,
            history_days: checked(
                loaded,
                "history_days",
                history_days,
                &valid_history_days,
                HISTORY_DAYS_HINT,
            )?,
            max_rate: checked(loaded, "max_rate", max_rate, &valid_max_rate, MAX_RATE_HINT)?,
            join_timeout: checked(
                loaded,
                "join_timeout",
                join_timeout,
                &valid_join_timeout,
                JOIN_TIMEOUT_HINT,
            )?,
            highlights: checked(
                loaded,
                "highlights",
                highlights,
                &|words: &Vec<String>| valid_highlights(words),
                HIGHLIGHTS_HINT,
            )?,
            notify: checked_notify(loaded, notify, notify_command)?,
            notify_command: notify_command.as_ref().map(|c| c.get_ref().clone()),
            theme: theme.as_ref().map(|t| *t.get_ref()),
            bell: bell.as_ref().map(|b| *b.get_ref()),
            typing: typing.as_ref().map(|t| *t.get_ref()),
            mouse: mouse.as_ref().map(|m| *m.get_ref()),
            offline: offline.as_ref().map(|o| *o.get_ref()),
            lan: lan.as_ref().map(|l| *l.get_ref()),
            history_limit: history_limit.as_ref().map(|h| *h.get_ref()),
            history_max: size("history_max", history_max)?,
            data_dir: data_dir.as_ref().map(|d| from_home(d.get_ref())),
            files: FileKeys {
                download_dir: download_dir.as_ref().map(|d| from_home(d.get_ref())),
                max_get: size("max_get", max_get)?,
                auto_get: size("auto_get", auto_get)?,
                auto_get_at_once: checked(
                    loaded,
                    "auto_get_at_once",
                    auto_get_at_once,
                    &|n: &usize| (1..=64).contains(n),
                    "give a number from 1 to 64",
                )?,
                auto_get_per_sender: size("auto_get_per_sender", auto_get_per_sender)?,
                auto_get_per_day: size("auto_get_per_day", auto_get_per_day)?,
            },
        })
    }
}

const HIGHLIGHTS_HINT: &str = "give at most 64 words of at most 64 characters each, with no \
                               control characters, e.g. [\"deploy\", \"outage\"]";

fn valid_highlights(words: &[String]) -> bool {
    words.len() <= 64
        && words.iter().all(|w| {
            let w = w.trim();
            !w.is_empty() && w.chars().count() <= 64 && !w.chars().any(char::is_control)
        })
}

/// `notify`, which with "command" needs a `notify_command` to run.
fn checked_notify(
    loaded: &Loaded,
    notify: &Option<Spanned<Notify>>,
    command: &Option<Spanned<String>>,
) -> Result<Option<Notify>, ConfigError> {
    let has_command = command
        .as_ref()
        .is_some_and(|c| !c.get_ref().trim().is_empty());
    match notify {
        Some(n) if *n.get_ref() == Notify::Command && !has_command => Err(invalid(
            loaded,
            "notify",
            n,
            "\"command\" needs notify_command, the program to run (e.g. \"notify-send\")",
        )),
        n => Ok(n.as_ref().map(|n| *n.get_ref())),
    }
}

/// The notification settings (file > default), noted for `parlor config`.
pub fn notifications(
    (highlights, notify, command): (Option<Vec<String>>, Option<Notify>, Option<String>),
    shown: &mut Shown,
) -> (Vec<String>, Notify, String) {
    let highlights = shown.note("highlights", pick(None, None, highlights, Vec::new()));
    let notify = shown.note("notify", pick(None, None, notify, registry::NOTIFY));
    let command = pick(None, None, command, registry::NOTIFY_COMMAND.to_string());
    (highlights, notify, shown.note("notify_command", command))
}

/// The file's value of `key` if `ok` accepts it.
fn checked<T: Clone>(
    loaded: &Loaded,
    key: &str,
    value: &Option<Spanned<T>>,
    ok: &dyn Fn(&T) -> bool,
    why: &str,
) -> Result<Option<T>, ConfigError> {
    match value {
        Some(v) if !ok(v.get_ref()) => Err(invalid(loaded, key, v, why)),
        v => Ok(v.as_ref().map(|v| v.get_ref().clone())),
    }
}

/// A path from the config file with a leading `~/` made the home directory: no shell
/// expands it there, and a directory named `~` is never what was meant.
fn from_home(path: &std::path::Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) if path.starts_with("~") => directories::UserDirs::new()
            .map_or_else(|| path.to_path_buf(), |u| u.home_dir().join(rest)),
        _ => path.to_path_buf(),
    }
}

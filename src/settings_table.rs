//! Every setting, defined once: its name (the config file's key and what `parlor config`
//! calls it), its default, its flag, its environment variable and what it does, and where the
//! config file is looked for. Resolving the settings (`config::resolve`), the flags' `--help`
//! (`cli::command`), the example config file (`config::example`), `parlor config`'s order and
//! the man page's ENVIRONMENT all read from here, so a default or a spelling is changed in
//! one place. `config` re-exports it as `config::registry`.
//!
//! Nearly a leaf: it imports only the room's own defaults from `proto` (defined once, where
//! the room state machine uses them), so the command line can read it without the rest of the
//! config (which reads the command line: `cli` <- `config`, never both ways).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the config file is looked for when none is named.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "parlor").map(|d| d.config_dir().join("config.toml"))
}

/// The terminal UI's colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Dark,
    Light,
    /// No colours (attributes such as bold and dim only).
    Mono,
}

impl Default for Theme {
    fn default() -> Self {
        THEME
    }
}

impl Theme {
    /// As the config file spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Theme::Dark => "dark",
            Theme::Light => "light",
            Theme::Mono => "mono",
        }
    }
}

/// How the terminal UI sends desktop notifications (a mention, a highlight or a direct
/// message while the terminal does not have the focus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Notify {
    /// Through the terminal (OSC 777, or OSC 9 where that is the one understood).
    Terminal,
    /// By running `notify_command` with the title and the text as its two arguments.
    Command,
    Off,
}

impl Notify {
    /// As the config file spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Notify::Terminal => "terminal",
            Notify::Command => "command",
            Notify::Off => "off",
        }
    }
}

// The defaults, typed, as resolving uses them; `SETTINGS` shows each one.
pub const THEME: Theme = Theme::Dark;
pub const BELL: bool = true;
pub const TYPING: bool = true;
pub const NOTIFY: Notify = Notify::Terminal;
/// No command: `notify = "command"` needs one.
pub const NOTIFY_COMMAND: &str = "";
pub const MOUSE: bool = true;
pub const TIME_FORMAT: &str = "%H:%M";
pub const COLOR: bool = true;
pub const OFFLINE: bool = false;
pub const LAN: bool = true;
// The room's own defaults, defined once where the room state machine uses them.
pub const HISTORY_DAYS: f64 = crate::proto::backlog::DEFAULT_MAX_DAYS;
pub const HISTORY_LIMIT: usize = crate::proto::backlog::DEFAULT_MAX_MESSAGES;
pub const HISTORY_MAX: u64 = crate::proto::backlog::DEFAULT_STORED_BYTES;
pub const MAX_RATE: f64 = crate::proto::limits::DEFAULT_MESSAGES_PER_SECOND;
pub const JOIN_TIMEOUT_SECS: f64 = 15.0;
/// `/get` fetches up to this without `--max-get` (or, in the terminal UI, asking first).
pub const MAX_GET: u64 = 100 << 20;
pub const AUTO_GET: u64 = 0;
/// `--auto-get`'s quotas: fetches running at once, bytes per sender and in all per day.
pub const AUTO_GET_AT_ONCE: usize = 2;
pub const AUTO_GET_PER_SENDER: u64 = 256 << 20;
pub const AUTO_GET_PER_DAY: u64 = 1 << 30;

/// The environment variables parlor reads.
pub const ENV_CONFIG: &str = "PARLOR_CONFIG";
pub const ENV_DATA_DIR: &str = "PARLOR_DATA_DIR";
pub const ENV_NO_COLOR: &str = "NO_COLOR";

/// A setting's default as people read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    Bool(bool),
    Number(f64),
    Count(usize),
    Text(&'static str),
    /// Bytes, shown as a size such as "100M".
    Size(u64),
    /// Decided when parlor runs (a path, the login name): said in words; the example file
    /// shows `example` (TOML) instead.
    Varies {
        said: &'static str,
        example: &'static str,
    },
}

/// How a flag sets a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    None,
    /// `--flag VALUE`; its `--help` is the setting's help.
    Value(&'static str),
    /// A switch that sets the setting to this value; its `--help` is its own (it says what
    /// switching does), followed by the key it stands for.
    Switch(&'static str, bool),
}

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct Def {
    /// The config file's key, and the name `parlor config` shows.
    pub key: &'static str,
    /// A key of the config file (the file's own path and `NO_COLOR` are not).
    pub in_file: bool,
    pub flag: Flag,
    pub env: Option<&'static str>,
    pub default: DefaultValue,
    /// What it does, in sentences (no trailing period: `--help` appends to it).
    pub help: &'static str,
}

impl Def {
    /// The flag's argument id in clap (its long name, `-` as `_`).
    pub fn flag_id(&self) -> Option<String> {
        let long = match self.flag {
            Flag::None => return None,
            Flag::Value(long) | Flag::Switch(long, _) => long,
        };
        Some(long.trim_start_matches('-').replace('-', "_"))
    }

    /// What `--help` says after a flag's help: the default, the variable, the file's key.
    pub fn help_suffix(&self) -> String {
        let mut suffix = String::new();
        if let Flag::Value(_) = self.flag {
            suffix.push_str(&format!(" [default: {}]", self.default.said()));
        }
        if let Some(env) = self.env {
            suffix.push_str(&format!(" [env: {env}]"));
        }
        if self.in_file {
            match self.flag {
                Flag::Switch(_, value) => {
                    suffix.push_str(&format!(" [config: {} = {value}]", self.key));
                }
                _ => suffix.push_str(&format!(" [config: {}]", self.key)),
            }
        }
        suffix
    }
}

impl DefaultValue {
    /// The default in words, for `--help` and the example's comments.
    pub fn said(&self) -> String {
        match *self {
            DefaultValue::Bool(value) => value.to_string(),
            DefaultValue::Number(value) => value.to_string(),
            DefaultValue::Count(value) => value.to_string(),
            DefaultValue::Text(text) => text.to_string(),
            DefaultValue::Size(bytes) => size_text(bytes),
            DefaultValue::Varies { said, .. } => said.to_string(),
        }
    }

    /// The default as a TOML value, for the example file.
    pub fn toml(&self) -> String {
        match *self {
            DefaultValue::Text(text) => format!("{text:?}"),
            DefaultValue::Size(bytes) => format!("{:?}", size_text(bytes)),
            DefaultValue::Varies { example, .. } => example.to_string(),
            other => other.said(),
        }
    }
}

/// Bytes as the largest whole unit `parse_size` reads back: 100M, 512k, 0.
pub fn size_text(bytes: u64) -> String {
    for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "k")] {
        if bytes != 0 && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// The setting named `key`.
pub fn find(key: &str) -> Option<&'static Def> {
    SETTINGS.iter().find(|def| def.key == key)
}

/// Every setting, in the order the example file and `parlor config` show them.
pub const SETTINGS: &[Def] = &[
    Def {
        key: "name",
        in_file: true,
        flag: Flag::Value("--name"),
        env: None,
        default: DefaultValue::Varies {
            said: "the name you last used, else your login name",
            example: "\"sam\"",
        },
        help: "Your name in new rooms; a room you renamed yourself in with /nick keeps that name",
    },
    Def {
        key: "relays",
        in_file: true,
        flag: Flag::Value("--relay"),
        env: None,
        default: DefaultValue::Varies {
            said: "the public n0 relays",
            example: "[\"https://relay.example.com\"]",
        },
        help: "Relay servers to use (the flag is repeatable)",
    },
    Def {
        key: "theme",
        in_file: true,
        flag: Flag::None,
        env: None,
        default: DefaultValue::Text(THEME.name()),
        help: "Colours of the terminal UI: \"dark\", \"light\" or \"mono\" (no colours; so does \
               NO_COLOR=1)",
    },
    Def {
        key: "bell",
        in_file: true,
        flag: Flag::None,
        env: None,
        default: DefaultValue::Bool(BELL),
        help: "Ring the terminal bell when someone mentions you, writes a highlight word or \
               sends you a direct message",
    },
    Def {
        key: "typing",
        in_file: true,
        flag: Flag::None,
        env: None,
        default: DefaultValue::Bool(TYPING),
        help: "Tell a room you are typing (at most every 3 s, rooms of up to 30) and show who \
               else is (\"bob is typing…\" in the status bar)",
    },
    Def {
        key: "highlights",
        in_file: true,
        flag: Flag::None,
        env: None,
        default: DefaultValue::Varies {
            said: "none (your name only)",
            example: "[]",
        },
        help: "Words that highlight a line like your name does (whole words, any case), e.g. \
               [\"deploy\", \"outage\"]",
    },
    Def {
        key: "notify",
        in_file: true,
        flag: Flag::None,
        env: None,
        default: DefaultValue::Text(NOTIFY.name()),
        help: "Desktop notifications for a mention, a highlight or a direct message while the \
               terminal does not have the focus (at most one per room every 5 s): \"terminal\" \
               (asks the terminal: OSC 777 or OSC 9), \"command\" (runs notify_command) or \
               \"off\"",
    },
    Def {
        key: "notify_command",
        in_file: true,
        flag: Flag::None,
        env: None,
        default: DefaultValue::Text(NOTIFY_COMMAND),
        help: "With notify = \"command\": the program to run (no shell), given the title and the \
               text as its two arguments, e.g. \"notify-send\"",
    },
    Def {
        key: "mouse",
        in_file: true,
        flag: Flag::Switch("--no-mouse", false),
        env: None,
        default: DefaultValue::Bool(MOUSE),
        help: "Capture the mouse for wheel scrolling; false leaves it to the terminal, which then \
               selects text (F3 or Alt-M switches while parlor runs)",
    },
    Def {
        key: "time_format",
        in_file: true,
        flag: Flag::None,
        env: None,
        default: DefaultValue::Text(TIME_FORMAT),
        help: "How message times are shown: a strftime format (e.g. \"%H:%M:%S\", \"%a %H:%M\")",
    },
    Def {
        key: "color",
        in_file: false,
        flag: Flag::None,
        env: Some(ENV_NO_COLOR),
        default: DefaultValue::Bool(COLOR),
        help: "Colours in the terminal UI: NO_COLOR set to anything but empty turns them off, \
               whatever the theme (no-color.org)",
    },
    Def {
        key: "offline",
        in_file: true,
        flag: Flag::Switch("--offline", true),
        env: None,
        default: DefaultValue::Bool(OFFLINE),
        help: "No public services: no n0 relays, no DNS/pkarr lookup, no port mapping",
    },
    Def {
        key: "lan",
        in_file: true,
        flag: Flag::Switch("--no-lan", false),
        env: None,
        default: DefaultValue::Bool(LAN),
        help: "LAN discovery (mDNS): finding rooms and peers on the LAN (and being found while a room is announced with --lan)",
    },
    Def {
        key: "history_days",
        in_file: true,
        flag: Flag::Value("--history-days"),
        env: None,
        default: DefaultValue::Number(HISTORY_DAYS),
        help: "Catch up on messages at most this many days old",
    },
    Def {
        key: "history_limit",
        in_file: true,
        flag: Flag::Value("--history-limit"),
        env: None,
        default: DefaultValue::Count(HISTORY_LIMIT),
        help: "Catch up on at most this many earlier messages",
    },
    Def {
        key: "history_max",
        in_file: true,
        flag: Flag::Value("--history-max"),
        env: None,
        default: DefaultValue::Size(HISTORY_MAX),
        help: "Keep at most this much history per room on disk; past it the oldest lines go \
               first. A size: \"500M\", \"2G\" (powers of 1024), or a number of bytes",
    },
    Def {
        key: "max_rate",
        in_file: true,
        flag: Flag::Value("--max-rate"),
        env: None,
        default: DefaultValue::Number(MAX_RATE),
        help: "Show at most this many lines a second from one member (with a burst of 2.5 s \
               worth, at least 50), and their bytes in proportion (64 KiB a second per 20 lines); \
               more are dropped and reported. Every member applies its own \
               limit",
    },
    Def {
        key: "join_timeout",
        in_file: true,
        flag: Flag::Value("--join-timeout"),
        env: None,
        default: DefaultValue::Number(JOIN_TIMEOUT_SECS),
        help: "How long `join` waits for a peer of the ticket to answer, in seconds",
    },
    Def {
        key: "data_dir",
        in_file: true,
        flag: Flag::Value("--data-dir"),
        env: Some(ENV_DATA_DIR),
        default: DefaultValue::Varies {
            said: "the XDG data directory, usually ~/.local/share/parlor",
            example: "\"~/.local/share/parlor\"",
        },
        help: "Keep identity, rooms and history here (in the config file, ~/ is your home \
               directory)",
    },
    Def {
        key: "download_dir",
        in_file: true,
        flag: Flag::Value("--download-dir"),
        env: None,
        default: DefaultValue::Varies {
            said: "the XDG download directory under parlor/, usually ~/Downloads/parlor",
            example: "\"~/Downloads/parlor\"",
        },
        help: "Where fetched files land",
    },
    Def {
        key: "max_get",
        in_file: true,
        flag: Flag::Value("--max-get"),
        env: None,
        default: DefaultValue::Size(MAX_GET),
        help: "`/get` fetches files up to this size at once; a larger one waits for a second \
               /get. A size: \"500k\", \"100M\", \"1.5G\" (powers of 1024), or a number of bytes",
    },
    Def {
        key: "auto_get",
        in_file: true,
        flag: Flag::Value("--auto-get"),
        env: None,
        default: DefaultValue::Size(AUTO_GET),
        help: "Fetch files shared with you up to this size as soon as they are shared; 0: never",
    },
    Def {
        key: "auto_get_at_once",
        in_file: true,
        flag: Flag::None,
        env: None,
        default: DefaultValue::Count(AUTO_GET_AT_ONCE),
        help: "At most this many files fetched by auto_get at once (1 to 64); an offer past it \
               waits for /get",
    },
    Def {
        key: "auto_get_per_sender",
        in_file: true,
        flag: Flag::None,
        env: None,
        default: DefaultValue::Size(AUTO_GET_PER_SENDER),
        help: "Bytes auto_get fetches from one sender in a day; past it, their offers wait for \
               /get",
    },
    Def {
        key: "auto_get_per_day",
        in_file: true,
        flag: Flag::None,
        env: None,
        default: DefaultValue::Size(AUTO_GET_PER_DAY),
        help: "Bytes auto_get fetches in all in a day; past it, offers wait for /get",
    },
    Def {
        key: "config",
        in_file: false,
        flag: Flag::Value("--config"),
        env: Some(ENV_CONFIG),
        default: DefaultValue::Varies {
            said: "config.toml in the XDG config directory, usually ~/.config/parlor/config.toml",
            example: "",
        },
        help: "Read settings from this file (see parlor config)",
    },
];

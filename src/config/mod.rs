//! Resolved settings: what the command line means once defaults are applied and every value is
//! validated, layered over the environment and the config file (`file`, `settings`). Errors
//! here are the user's input, reported as one line with exit code 2.

mod example;
mod file;
mod join;
mod loopback;
mod settings;
mod sharing;

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Cli, Command, ExportFormat};
use crate::net::NetConfig;
use crate::proto::SecretKey;
use crate::proto::backlog::HistoryWindow;
use crate::proto::limits::{DEFAULT_BYTES, DEFAULT_MESSAGES_PER_SECOND, RateLimit, RateLimits};
use crate::proto::names::clean_name;
use crate::proto::ticket::Ticket;
use crate::proto::{EndpointAddr, TopicId};

/// The settings' table lives in a leaf of its own, so `cli` reads it without importing `config`.
pub(crate) use crate::settings_table as registry;
pub use crate::settings_table::default_path;
pub use example::example;
pub use join::{join_start, lan_start};
pub use registry::{Notify, Theme};
pub use settings::{Docs, Env, Report, Setting, Source, UiSettings};
use settings::{
    FileValues, HISTORY_DAYS_HINT, JOIN_TIMEOUT_HINT, MAX_RATE_HINT, Shown, docs_task, pick,
};
pub use sharing::{DEFAULT_MAX_GET, FileSettings};

/// How the chat session starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// A new room.
    Open,
    /// A room of a ticket: wait (bounded) for one of its peers.
    Join(Ticket),
    /// `join ROOM` named no ticket: a known room, looked up in the store.
    Known(String),
    /// A known room, found: ready at once, dialing its last known peers.
    Rejoin {
        topic: TopicId,
        peers: Vec<EndpointAddr>,
        /// The name last used there (unless `--name` says otherwise).
        name: Option<String>,
        label: Option<String>,
    },
    /// A private room's invite: redeemed at one of its members, who gives the room's key.
    Invite(Box<crate::proto::invite::Invite>),
    /// `join LABEL` matched no known room: a room announced on the LAN with that label (or
    /// topic prefix), looked up once the node runs.
    Lan(String),
}

/// What to do.
#[derive(Debug, Clone)]
pub enum Task {
    /// Chat in these rooms (the first is the current one); none: no subcommand, so the
    /// terminal UI starts in its lobby.
    Chat(Vec<Start>),
    Rooms,
    Nearby,
    Relay(crate::net::relay::RelayOptions),
    Export {
        room: String,
        format: ExportFormat,
    },
    /// `parlor config`: show the config file and the effective settings.
    ShowConfig(Report),
    /// Text made from the command line's definition or the docs, not from settings.
    Docs(Docs),
}

/// Where identity and history live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// A throwaway key; nothing on disk.
    Ephemeral,
    Dir(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub task: Task,
    pub name: String,
    /// The name came from `--name`: it beats the names stored per room and the last one used.
    pub name_given: bool,
    /// The name came from the config file: a default that beats the last name used (the
    /// store's), not a room's own (`/nick` there).
    pub name_configured: bool,
    /// Lines on stdin, events on stdout, no full-screen UI (`--headless`, implied by `--json`).
    pub headless: bool,
    pub net: NetConfig,
    pub json: bool,
    /// How long `join` waits for the first peer.
    pub join_timeout: Duration,
    pub data: Data,
    pub label: Option<String>,
    /// Announce the room on the LAN (`--lan`).
    pub lan: bool,
    /// Rooms opened are public (`open --public`): the ticket is the membership.
    pub public: bool,
    pub history: HistoryWindow,
    /// History kept per room on disk, in bytes (`--history-max`).
    pub history_max: u64,
    /// What one member may send (`--max-rate` for lines).
    pub limits: RateLimits,
    /// The terminal UI's look: config file only, and `NO_COLOR`.
    pub ui: UiSettings,
    /// Fetching shared files.
    pub files: FileSettings,
}

/// Invalid input on the command line or in the config file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Each says it is about a ticket ("this ticket is mistyped ...").
    #[error("{0}")]
    Ticket(#[from] crate::proto::ticket::TicketError),
    #[error("{0}")]
    Invite(#[from] crate::proto::invite::InviteError),
    #[error("invalid --name: nothing is left once control characters, '#' and spaces are removed")]
    Name,
    #[error("invalid --relay URL {0:?}: {1}")]
    Relay(String, String),
    #[error("invalid --join-timeout: {}", JOIN_TIMEOUT_HINT)]
    JoinTimeout,
    #[error("invalid --max-rate: {}", MAX_RATE_HINT)]
    MaxRate,
    #[error("invalid --history-days: {}", HISTORY_DAYS_HINT)]
    HistoryDays,
    /// The config file cannot be read, or says something wrong: the whole one-line message,
    /// naming the file (and line and key, when there is one).
    #[error("{0}")]
    File(String),
    #[error(
        "headless mode needs a room: `parlor --headless open` or `parlor --headless join TICKET`"
    )]
    NoCommand,
    #[error("no data directory: pass --data-dir DIR (or --ephemeral)")]
    NoDataDir,
    #[error("not a ticket, and {0:?} cannot be a room label (labels have no spaces, '#' or ':')")]
    NotALabel(String),
    #[error("not a ticket, and with LAN discovery off no room labelled {0:?} can be found")]
    NoLanToSearch(String),
    #[error("--label names one room: join several rooms without it (each keeps its own label)")]
    LabelOneRoom,
    #[error("invalid {0}: give a size such as 500k, 100M or 2G")]
    Size(&'static str),
    #[error("parlor relay needs --bind IP:PORT (e.g. --bind 0.0.0.0:3340)")]
    RelayBind,
    #[error("--lan needs LAN discovery, which binding only a loopback address turns off")]
    LanOnLoopback,
}

/// The name to use when none is given: the login name, else "anon".
pub fn login_name() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().and_then(|v| clean_name(&v)))
        .unwrap_or_else(|| "anon".to_string())
}

/// How far back catching up reaches: `limit` messages, `days` days.
pub fn history_window(limit: usize, days: f64) -> HistoryWindow {
    HistoryWindow {
        max_messages: limit,
        max_age_ms: (days * 86_400_000.0) as u64,
    }
}

/// What one member may send, `max_rate` lines a second with a burst of 2.5 s worth (at least
/// 50), and the bytes of lines in proportion to the default's (64 KiB a second per 20 lines,
/// never less): a raised line rate must not be capped by the bytes (16,000 short lines a
/// second are 4 MB a second). The other kinds' limits are the protocol's.
pub fn rate_limits(max_rate: f64) -> RateLimits {
    let scale = (max_rate / DEFAULT_MESSAGES_PER_SECOND).max(1.0);
    RateLimits {
        messages: RateLimit {
            per_second: max_rate,
            burst: (max_rate * 2.5).ceil().max(50.0) as u32,
        },
        bytes: RateLimit {
            per_second: DEFAULT_BYTES.per_second * scale,
            burst: (f64::from(DEFAULT_BYTES.burst) * scale).min(f64::from(u32::MAX)) as u32,
        },
        ..RateLimits::default()
    }
}

impl Config {
    /// Resolve the command line over the process's environment and config file.
    pub fn from_cli(cli: Cli) -> Result<Self, ConfigError> {
        Self::resolve(cli, &Env::from_process())
    }

    /// Resolve `cli` over `env` and the config file: flag > environment > file > default.
    pub fn resolve(cli: Cli, env: &Env) -> Result<Self, ConfigError> {
        let mut global = cli.global;
        let location = file::locate(global.config.clone(), env.config.clone());
        // Printing completions, the man page or the example needs no settings: a broken
        // config file must not stand in the way of the help that fixes it.
        let docs = docs_task(cli.command.as_ref());
        let loaded = match (&docs, &location) {
            (None, Some(location)) => file::load(location)?,
            _ => None,
        };
        let f = FileValues::check(loaded.as_ref())?;
        let mut shown = Shown::default();
        let name_flag = global.name.as_deref();
        let name_flag = name_flag
            .map(|raw| clean_name(raw).ok_or(ConfigError::Name))
            .transpose()?;
        let file_name = f.name.as_deref().and_then(clean_name);
        let (name, name_source) = pick(name_flag, None, file_name, login_name());
        let name_given = name_source == Source::Flag;
        let name_configured = name_source == Source::File;
        let name = shown.note("name", (name, name_source));
        let relay_flag = (!global.relay.is_empty()).then(|| std::mem::take(&mut global.relay));
        let relay_urls = shown.note("relays", pick(relay_flag, None, f.relays, Vec::new()));
        let relays = relay_urls
            .iter()
            .map(|url| {
                url.parse().map_err(|e: iroh::RelayUrlParseError| {
                    ConfigError::Relay(url.clone(), e.to_string())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let offline = shown.note(
            "offline",
            pick(
                global.offline.then_some(true),
                None,
                f.offline,
                registry::OFFLINE,
            ),
        );
        // Announcing (--lan) needs discovery, so it turns it on over the file, as --no-lan off.
        let lan_flag = (global.lan || global.no_lan).then_some(!global.no_lan);
        let discovery = shown.note("lan", pick(lan_flag, None, f.lan, registry::LAN));
        global.no_lan = !discovery;
        // mDNS would announce addresses nobody else can reach.
        let loopback = global.bind.is_some_and(|b| b.ip().is_loopback());
        if global.lan && loopback {
            return Err(ConfigError::LanOnLoopback);
        }
        // File values are checked already: an error below is the flag's.
        let timeout_secs = shown.note(
            "join_timeout",
            pick(
                global.join_timeout,
                None,
                f.join_timeout,
                registry::JOIN_TIMEOUT_SECS,
            ),
        );
        let join_timeout = Some(timeout_secs)
            .filter(settings::valid_join_timeout)
            .map(Duration::from_secs_f64)
            .ok_or(ConfigError::JoinTimeout)?;
        let days = shown.note(
            "history_days",
            pick(
                global.history_days,
                None,
                f.history_days,
                registry::HISTORY_DAYS,
            ),
        );
        let days = Some(days)
            .filter(settings::valid_history_days)
            .ok_or(ConfigError::HistoryDays)?;
        let history_limit = shown.note(
            "history_limit",
            pick(
                global.history_limit,
                None,
                f.history_limit,
                registry::HISTORY_LIMIT,
            ),
        );
        let history = history_window(history_limit, days);
        let history_max = match &global.history_max {
            Some(text) => Some(
                crate::store::downloads::parse_size(text)
                    .filter(|bytes| *bytes > 0)
                    .ok_or(ConfigError::Size("--history-max"))?,
            ),
            None => None,
        };
        let history_max = shown.note(
            "history_max",
            pick(history_max, None, f.history_max, registry::HISTORY_MAX),
        );
        let max_rate = shown.note(
            "max_rate",
            pick(global.max_rate, None, f.max_rate, registry::MAX_RATE),
        );
        let max_rate = Some(max_rate)
            .filter(settings::valid_max_rate)
            .ok_or(ConfigError::MaxRate)?;
        let limits = rate_limits(max_rate);
        let data = if global.ephemeral {
            // No directory at all.
            shown.note("data_dir", (None::<PathBuf>, Source::Flag));
            Data::Ephemeral
        } else {
            let dir = pick(
                global.data_dir.take().map(Some),
                env.data_dir.clone().map(Some),
                f.data_dir.map(Some),
                crate::store::default_data_dir(),
            );
            Data::Dir(shown.note("data_dir", dir).ok_or(ConfigError::NoDataDir)?)
        };
        let theme = shown.note("theme", pick(None, None, f.theme, registry::THEME));
        let bell = shown.note("bell", pick(None, None, f.bell, registry::BELL));
        let typing = shown.note("typing", pick(None, None, f.typing, registry::TYPING));
        let (highlights, notify, notify_command) =
            settings::notifications((f.highlights, f.notify, f.notify_command), &mut shown);
        let no_mouse = global.no_mouse.then_some(false);
        let mouse = shown.note("mouse", pick(no_mouse, None, f.mouse, registry::MOUSE));
        let time_format = shown.note(
            "time_format",
            pick(None, None, f.time_format, registry::TIME_FORMAT.to_string()),
        );
        let color = shown.note(
            "color",
            pick(None, env.no_color.then_some(false), None, registry::COLOR),
        );
        let ui = UiSettings {
            theme,
            bell,
            typing,
            highlights,
            notify,
            notify_command,
            mouse,
            time_format,
            color,
        };
        let files = FileSettings::resolve(&global, f.files, &mut shown)?;
        let report = Report {
            exists: location.as_ref().is_some_and(|l| l.path.exists()),
            path: location.map(|l| l.path),
            settings: shown.in_order(),
        };
        let headless = global.headless || global.json;
        let mut public = false;
        let task = match cli.command {
            Some(Command::Open { public: true }) => {
                public = true;
                Task::Chat(vec![Start::Open])
            }
            Some(Command::Open { public: false }) => Task::Chat(vec![Start::Open]),
            Some(Command::Join { rooms }) => {
                let lan = !global.no_lan && !loopback;
                let starts = rooms
                    .into_iter()
                    .map(|room| join_start(room, data == Data::Ephemeral, lan))
                    .collect::<Result<Vec<_>, _>>()?;
                if starts.len() > 1 && global.label.is_some() {
                    return Err(ConfigError::LabelOneRoom);
                }
                Task::Chat(starts)
            }
            Some(Command::Rooms) => Task::Rooms,
            Some(Command::Nearby) => Task::Nearby,
            Some(Command::Relay {
                tls_cert,
                tls_key,
                http_bind,
                allow,
                rate_limit,
            }) => Task::Relay(crate::net::relay::RelayOptions {
                bind: global.bind.ok_or(ConfigError::RelayBind)?,
                http_bind,
                allow_file: allow,
                rate_limit: std::num::NonZeroU32::new(rate_limit),
                tls: tls_cert
                    .zip(tls_key)
                    .map(|(cert, key)| crate::net::relay::TlsFiles { cert, key }),
            }),
            Some(Command::Export { room, format }) => Task::Export { room, format },
            Some(Command::Config { .. } | Command::Completions { .. } | Command::Man) => {
                docs.unwrap_or(Task::ShowConfig(report))
            }
            None if headless => return Err(ConfigError::NoCommand),
            None => Task::Chat(Vec::new()),
        };
        Ok(Self {
            task,
            name,
            name_given,
            name_configured,
            headless,
            net: NetConfig {
                secret: SecretKey::generate(),
                bind: global.bind,
                offline,
                relays,
                relay_ca: global.relay_ca,
                lan: !global.no_lan && !loopback,
                broadcast: Default::default(),
                blobs_dir: match &data {
                    Data::Dir(dir) => Some(crate::store::blobs_dir(dir)),
                    Data::Ephemeral => None,
                },
            },
            json: global.json,
            join_timeout,
            data,
            label: global.label.and_then(|l| clean_name(&l)),
            lan: global.lan,
            public,
            history,
            history_max,
            limits,
            ui,
            files,
        })
    }

    /// The rooms to start in, if this is a chat (none: the lobby).
    pub fn starts(&self) -> &[Start] {
        match &self.task {
            Task::Chat(starts) => starts,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod join_tests;
#[cfg(test)]
mod network_tests;
#[cfg(test)]
mod registry_tests;
#[cfg(test)]
mod resolve_tests;

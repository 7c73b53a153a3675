//! Resolved settings: what the command line means once defaults are applied and every value is
//! validated. Errors here are the user's input, reported as one line with exit code 2.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Cli, Command, ExportFormat};
use crate::net::NetConfig;
use crate::proto::SecretKey;
use crate::proto::backlog::HistoryWindow;
use crate::proto::limits::{RateLimit, RateLimits};
use crate::proto::names::clean_name;
use crate::proto::ticket::Ticket;
use crate::proto::{EndpointAddr, TopicId};

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
    /// The name came from `--name` (not a default).
    pub name_given: bool,
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
    pub history: HistoryWindow,
    /// What one member may send (`--max-rate` for lines).
    pub limits: RateLimits,
}

/// Invalid input on the command line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid ticket: {0}")]
    Ticket(#[from] crate::proto::ticket::TicketError),
    #[error("invalid --name: nothing is left once control characters, '#' and spaces are removed")]
    Name,
    #[error("invalid --relay URL {0:?}: {1}")]
    Relay(String, String),
    #[error("invalid --join-timeout: give a number of seconds between 0.1 and 86400")]
    JoinTimeout,
    #[error("invalid --max-rate: give a number of lines per second between 0.1 and 1000000")]
    MaxRate,
    #[error("invalid --history-days: give a number of days between 0 and 3650")]
    HistoryDays,
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

/// `join LABEL` for a room on the LAN: only something that can be an announced label (or a
/// topic prefix), and only with LAN discovery on; refused before anything starts otherwise.
pub fn lan_start(query: String, lan: bool) -> Result<Start, ConfigError> {
    let hex_prefix = !query.is_empty() && query.chars().all(|c| c.is_ascii_hexdigit());

    if !hex_prefix && crate::proto::lan::clean_label(&query).as_deref() != Some(query.as_str()) {
        return Err(ConfigError::NotALabel(query));
    }
    if !lan {
        return Err(ConfigError::NoLanToSearch(query));
    }
    Ok(Start::Lan(query))
}

/// One room of `join A B ...`: a ticket, else a known room (looked up in the store), else a
/// room on the LAN (with no store, nothing is known).
pub fn join_start(room: String, ephemeral: bool, lan: bool) -> Result<Start, ConfigError> {
    match room.parse::<Ticket>() {
        Ok(ticket) => Ok(Start::Join(ticket)),
        // Something ticket-shaped that does not parse is a damaged ticket.
        Err(err) if looks_like_ticket(&room) => Err(err.into()),
        Err(_) if ephemeral => lan_start(room, lan),
        Err(_) => Ok(Start::Known(room)),
    }
}

/// Could `text` be a ticket at all (rather than a room label)? Tickets are long base32.
fn looks_like_ticket(text: &str) -> bool {
    let compact: String = text.split_whitespace().collect();
    compact.len() >= 60
        && compact
            .chars()
            .all(|c| c.is_ascii_alphabetic() || ('2'..='7').contains(&c))
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Self, ConfigError> {
        let global = cli.global;
        let (name, name_given) = match &global.name {
            Some(raw) => (clean_name(raw).ok_or(ConfigError::Name)?, true),
            None => (login_name(), false),
        };
        let relays = global
            .relay
            .into_iter()
            .map(|url| {
                url.parse()
                    .map_err(|e: iroh::RelayUrlParseError| ConfigError::Relay(url, e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // mDNS would announce addresses nobody else can reach.
        let loopback = global.bind.is_some_and(|b| b.ip().is_loopback());
        if global.lan && loopback {
            return Err(ConfigError::LanOnLoopback);
        }
        let join_timeout = Some(global.join_timeout)
            .filter(|s| (0.1..=86400.0).contains(s))
            .map(Duration::from_secs_f64)
            .ok_or(ConfigError::JoinTimeout)?;
        let days = Some(global.history_days)
            .filter(|d| (0.0..=3650.0).contains(d))
            .ok_or(ConfigError::HistoryDays)?;
        let history = HistoryWindow {
            max_messages: global.history_limit,
            max_age_ms: (days * 86_400_000.0) as u64,
        };
        let max_rate = Some(global.max_rate)
            .filter(|r| (0.1..=1_000_000.0).contains(r))
            .ok_or(ConfigError::MaxRate)?;
        let limits = RateLimits {
            messages: RateLimit {
                per_second: max_rate,
                burst: (max_rate * 2.5).ceil().max(50.0) as u32,
            },
            ..RateLimits::default()
        };
        let data = if global.ephemeral {
            Data::Ephemeral
        } else {
            Data::Dir(
                global
                    .data_dir
                    .or_else(crate::store::default_data_dir)
                    .ok_or(ConfigError::NoDataDir)?,
            )
        };
        let headless = global.headless || global.json;
        let task = match cli.command {
            Some(Command::Open) => Task::Chat(vec![Start::Open]),
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
            }) => Task::Relay(crate::net::relay::RelayOptions {
                bind: global.bind.ok_or(ConfigError::RelayBind)?,
                http_bind,
                tls: tls_cert
                    .zip(tls_key)
                    .map(|(cert, key)| crate::net::relay::TlsFiles { cert, key }),
            }),
            Some(Command::Export { room, format }) => Task::Export { room, format },
            None if headless => return Err(ConfigError::NoCommand),
            None => Task::Chat(Vec::new()),
        };
        Ok(Self {
            task,
            name,
            name_given,
            headless,
            net: NetConfig {
                secret: SecretKey::generate(),
                bind: global.bind,
                offline: global.offline,
                relays,
                relay_ca: global.relay_ca,
                lan: !global.no_lan && !loopback,
                broadcast: Default::default(),
            },
            json: global.json,
            join_timeout,
            data,
            label: global.label.and_then(|l| clean_name(&l)),
            lan: global.lan,
            history,
            limits,
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
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec!["parlor", "--data-dir", "/nonexistent/parlor-test"];
        all.extend_from_slice(args);
        Config::from_cli(crate::cli::parse_from(all).expect("parses"))
    }

    #[test]
    fn network_flags_resolve() {
        let c = config(&[
            "--relay",
            "http://10.0.0.1:3340",
            "--relay",
            "https://r.example",
            "open",
        ])
        .unwrap();
        assert_eq!(c.net.relays.len(), 2);
        assert!(c.net.lan, "LAN discovery is on by default");
        assert!(!c.lan, "announcing is opt-in");
        let c = config(&["--no-lan", "open"]).unwrap();
        assert!(!c.net.lan);
        // Bound to loopback, mDNS could announce nothing reachable: off.
        let c = config(&["--bind", "127.0.0.1:0", "open"]).unwrap();
        assert!(!c.net.lan);
        let c = config(&["--lan", "--label", "stand up", "open"]).unwrap();
        assert!(c.lan && c.label.as_deref() == Some("stand_up"));
    }

    #[test]
    fn network_mistakes_are_one_line_errors() {
        for (args, expect) in [
            (&["--lan", "--bind", "127.0.0.1:0", "open"][..], "loopback"),
            (&["relay"], "--bind"),
            (&["--relay", "not a url", "open"], "invalid --relay URL"),
        ] {
            let err = config(args).expect_err("refused").to_string();
            assert!(err.contains(expect), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1);
        }
        let (code, _) =
            crate::cli::parse_from(["parlor", "--lan", "--no-lan", "open"]).unwrap_err();
        assert_eq!(code, 2);
    }

    #[test]
    fn a_label_without_a_store_can_only_be_on_the_lan() {
        let c = Config::from_cli(
            crate::cli::parse_from(["parlor", "--ephemeral", "join", "standup"]).unwrap(),
        )
        .unwrap();
        assert!(matches!(c.starts(), [Start::Lan(label)] if label == "standup"));
        let c = config(&["relay", "--bind", "0.0.0.0:3340"]).unwrap();
        assert!(matches!(c.task, Task::Relay(ref o) if o.bind.port() == 3340 && o.tls.is_none()));
    }
}

//! Resolved settings: what the command line means once defaults are applied and every value is
//! validated. Errors here are the user's input, reported as one line with exit code 2.

use std::time::Duration;

use crate::cli::{Cli, Command};
use crate::net::NetConfig;
use crate::proto::SecretKey;
use crate::proto::names::clean_name;
use crate::proto::ticket::Ticket;

/// How the session starts.
#[derive(Debug, Clone)]
pub enum Start {
    Open,
    Join(Ticket),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub name: String,
    /// `None`: no subcommand, so the terminal UI starts in its lobby.
    pub start: Option<Start>,
    /// Lines on stdin, events on stdout, no full-screen UI (`--headless`, implied by `--json`).
    pub headless: bool,
    pub net: NetConfig,
    pub json: bool,
    /// How long `join` waits for the first peer.
    pub join_timeout: Duration,
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
    #[error(
        "headless mode needs a room: `parlor --headless open` or `parlor --headless join TICKET`"
    )]
    NoCommand,
}

/// The name to use when none is given: the login name, else "anon".
fn default_name() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().and_then(|v| clean_name(&v)))
        .unwrap_or_else(|| "anon".to_string())
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Self, ConfigError> {
        let global = cli.global;
        let name = match &global.name {
            Some(raw) => clean_name(raw).ok_or(ConfigError::Name)?,
            None => default_name(),
        };
        let relay = global
            .relay
            .map(|url| {
                url.parse()
                    .map_err(|e: iroh::RelayUrlParseError| ConfigError::Relay(url, e.to_string()))
            })
            .transpose()?;
        let join_timeout = Some(global.join_timeout)
            .filter(|s| (0.1..=86400.0).contains(s))
            .map(Duration::from_secs_f64)
            .ok_or(ConfigError::JoinTimeout)?;
        let headless = global.headless || global.json;
        let start = match cli.command {
            Some(Command::Open) => Some(Start::Open),
            Some(Command::Join { ticket }) => Some(Start::Join(ticket.parse()?)),
            None if headless => return Err(ConfigError::NoCommand),
            None => None,
        };
        Ok(Self {
            name,
            start,
            headless,
            net: NetConfig {
                secret: SecretKey::generate(),
                bind: global.bind,
                offline: global.offline,
                relay,
            },
            json: global.json,
            join_timeout,
        })
    }
}

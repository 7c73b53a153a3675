//! Command-line interface: subcommands and the global flags (valid before or after any
//! subcommand). Parsing only; `config` resolves what the flags mean.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "Examples:
  parlor                                 lobby: pick a name, open or join a room
  parlor open --name sam                 open a private room and show its invite
  parlor join INVITE                     join the room of an invite (or a ticket)
  parlor open --lan --label standup      a private room people on the LAN can find (and knock at)
  parlor open --lan --public --label x   a public room anyone on the LAN can join
  parlor nearby                          rooms announced on the LAN
  parlor join standup                    join a known room, or a LAN room, by label
  parlor relay --bind 0.0.0.0:3340       run a relay; members use --relay http://HOST:3340
  parlor rooms                           rooms you have been in
  parlor join ops                        rejoin a known room by label (or topic prefix)
  parlor join ops standup TICKET         several rooms in one window (Alt-1..9 switch)
  parlor export ops --format json        a room's history as JSON lines
  echo 'build done' | parlor join TICKET --headless   one-shot notifier

Exit codes: 0 ok, 1 runtime failure (e.g. no peer answered), 2 bad input (also a data
directory that cannot be used). More in parlor man.";

#[derive(Debug, Parser)]
#[command(
    name = "parlor",
    version,
    about = "Serverless group chat for the terminal, peer to peer over iroh"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a new room and print its invite (a private room: you own it, and decide who is
    /// in it).
    Open {
        /// A public room instead: its ticket lets anyone in and nobody can be removed (as
        /// rooms were before private rooms; older parlors can join it).
        #[arg(long)]
        public: bool,
    },
    /// List the rooms announced on the LAN (by `open --lan`); takes under 3 s.
    Nearby,
    /// Run a relay server for your team in the foreground (Ctrl-C stops it).
    Relay {
        /// With TLS: the PEM certificate chain (serves HTTPS and QUIC address discovery).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// With TLS: the PEM private key.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
        /// With TLS: where the plain-HTTP captive-portal probe listens (default: port 80).
        #[arg(long, value_name = "IP:PORT")]
        http_bind: Option<SocketAddr>,
        /// Only these endpoints may use the relay: a file of endpoint ids (as `/whois` or
        /// `/net` show them), one a line, `#` comments. Default: everyone.
        #[arg(long, value_name = "FILE")]
        allow: Option<std::path::PathBuf>,
        /// What each client may send through the relay, a second (`64k`, `4M`; a burst of two
        /// seconds' worth first); `0`: no limit.
        #[arg(long, value_name = "SIZE", default_value = RELAY_RATE_LIMIT, value_parser = parse_rate)]
        rate_limit: u32,
    },
    /// Join rooms: with tickets printed by any member, or known rooms' labels or topic prefixes.
    Join {
        /// Tickets (lowercase base32; case and whitespace are ignored), or rooms from `parlor
        /// rooms`; several are joined at once (the first is the current one).
        #[arg(value_name = "TICKET|ROOM", required = true, num_args = 1..)]
        rooms: Vec<String>,
    },
    /// List the rooms you have been in.
    Rooms,
    /// Write a room's stored history to stdout.
    Export {
        /// A room's label or topic prefix, as `parlor rooms` shows them.
        room: String,
        #[arg(long, value_enum, default_value_t = ExportFormat::Txt)]
        format: ExportFormat,
    },
    /// Show the config file's path and every effective setting with its source (--json: one
    /// JSON object).
    #[command(display_order = 90)]
    Config {
        /// Print a commented example config file documenting every key instead.
        #[arg(long)]
        example: bool,
    },
    /// Setup: print a completion script for SHELL, e.g. `parlor completions bash`.
    #[command(display_order = 91)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Setup: print the man page (roff), e.g. `parlor man > ~/.local/share/man/man1/parlor.1`.
    #[command(display_order = 92)]
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// `2026-11-25 12:04:05 sam: hello`, one line per message.
    Txt,
    /// One JSON object per line, as `--json` prints `message` events.
    Json,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    // The help of the flags that set a setting is the settings' table's (`config::registry`),
    // given in `command`.
    #[arg(long, global = true, value_name = "NAME")]
    pub name: Option<String>,
    /// No full-screen UI: chat lines on stdin, one event per line on stdout.
    #[arg(long, global = true)]
    pub headless: bool,
    /// With --headless: every stdout line is one JSON object with a "type" field.
    #[arg(long, global = true)]
    pub json: bool,
    /// Bind this address only (default: all interfaces, random port). For `relay`: where
    /// the relay listens.
    #[arg(long, global = true, value_name = "IP:PORT")]
    pub bind: Option<SocketAddr>,
    /// No public services: no n0 relays, no DNS/pkarr lookup, no port mapping. Direct
    /// addresses, LAN discovery and relays given with --relay still work.
    #[arg(long, global = true)]
    pub offline: bool,
    /// Announce the room on the LAN (open/join). Anyone on the LAN can then see its label and
    /// join it: the announcement is the invitation. Only then is our endpoint id on the air.
    #[arg(long, global = true, conflicts_with = "no_lan")]
    pub lan: bool,
    /// No LAN discovery at all (mDNS): finding no rooms or peers on the LAN, announcing none.
    #[arg(long, global = true)]
    pub no_lan: bool,
    // PARLOR_DATA_DIR is read in `config`, which must tell a flag from the environment.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    /// A throwaway identity; store nothing on disk.
    #[arg(long, global = true)]
    pub ephemeral: bool,
    /// Leave the mouse to the terminal, so it selects text (no wheel scrolling; F3 or Alt-M
    /// switches at run time).
    #[arg(long, global = true)]
    pub no_mouse: bool,
    /// Your label for the room (for `parlor rooms` and `parlor join LABEL`).
    #[arg(long, global = true, value_name = "LABEL")]
    pub label: Option<String>,
    // No clap defaults below: `None` lets the config file's value through.
    #[arg(long, global = true, value_name = "N")]
    pub history_limit: Option<usize>,
    #[arg(long, global = true, value_name = "LINES")]
    pub max_rate: Option<f64>,
    #[arg(long, global = true, value_name = "DAYS")]
    pub history_days: Option<f64>,
    #[arg(long, global = true, value_name = "SIZE")]
    pub history_max: Option<String>,
    #[arg(long, global = true, value_name = "DIR")]
    pub download_dir: Option<std::path::PathBuf>,
    #[arg(long, global = true, value_name = "SIZE")]
    pub max_get: Option<String>,
    #[arg(long, global = true, value_name = "SIZE")]
    pub auto_get: Option<String>,
    #[arg(long, global = true, value_name = "SECS")]
    pub join_timeout: Option<f64>,
    #[arg(long, global = true, value_name = "URL")]
    pub relay: Vec<String>,
    /// Trust the certificates in this PEM file for https relays, besides the public roots:
    /// for a relay with a private CA or a self-signed certificate.
    #[arg(long, global = true, value_name = "FILE")]
    pub relay_ca: Option<std::path::PathBuf>,
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<std::path::PathBuf>,
}

/// Parse the process arguments. `Err` carries the exit code and, for errors, one line of text;
/// help and version go to stdout with code 0.
pub fn parse() -> Result<Cli, (u8, String)> {
    parse_from(std::env::args_os())
}

pub fn parse_from<I, T>(args: I) -> Result<Cli, (u8, String)>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    let parsed = command()
        .try_get_matches_from(args)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    parsed.map_err(one_line)
}

/// The command line's definition, with the paths of this system in its help: what parsing,
/// completions and the man page are made from.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let data = crate::store::default_data_dir().map_or_else(
        || "(none: pass --data-dir)".to_string(),
        |d| d.display().to_string(),
    );
    let settings = crate::settings_table::default_path().map_or_else(
        || "(none: pass --config)".to_string(),
        |p| p.display().to_string(),
    );
    let command = help_from_the_settings_table(Cli::command());
    let command = own_help_per_subcommand(command);
    command.after_help(format!(
        "{AFTER_HELP}\n\nSettings are read from {settings} (--config, PARLOR_CONFIG; see parlor config).\nIdentity, rooms and history live in {data} (--data-dir, PARLOR_DATA_DIR).\nThe terminal UI logs to {}",
        crate::store::log_path().map_or_else(
            || "nowhere (no home directory)".to_string(),
            |p| p.display().to_string()
        )
    ))
}

/// The flags that set a setting say what the settings' table says: a value's flag its help,
/// default, variable and config key; a switch its own help (what switching does) and the key
/// it stands for.
fn help_from_the_settings_table(mut command: clap::Command) -> clap::Command {
    use crate::settings_table::{Flag, SETTINGS};
    for def in SETTINGS {
        let Some(id) = def.flag_id() else { continue };
        command = command.mut_arg(id, |arg| {
            let help = match def.flag {
                Flag::Switch(..) => arg.get_help().map(|h| h.to_string()).unwrap_or_default(),
                _ => def.help.to_string(),
            };
            arg.help(format!("{help}{}", def.help_suffix()))
        });
    }
    command
}

/// What each subcommand's help says of the global options it does not list.
const GLOBAL_OPTIONS_NOTE: &str = "\
Global options (--name, --data-dir, --offline, --relay and the rest) work here too,
before or after the command: see parlor --help.";

/// The global options a subcommand's help still lists, because they change what it does.
const SHOWN_PER_SUBCOMMAND: &[(&str, &[&str])] = &[
    ("open", &["name", "label", "lan", "headless", "json"]),
    (
        "join",
        &["name", "label", "headless", "json", "join_timeout"],
    ),
    ("relay", &["bind"]),
    ("nearby", &["json"]),
    ("rooms", &["json"]),
    ("config", &["json"]),
];

/// Each subcommand's `--help` shows its own arguments (and the few global ones that change
/// what it does): the global ones, about twenty, are explained once, in `parlor --help`.
/// clap copies a global argument into a subcommand only if the subcommand has none of that
/// name, so a copy put there first, hidden from help (not from completions), takes its place
/// and parses exactly as the global one does.
fn own_help_per_subcommand(mut command: clap::Command) -> clap::Command {
    let globals: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .cloned()
        .collect();
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    for name in names {
        let shown = SHOWN_PER_SUBCOMMAND
            .iter()
            .find(|(sub, _)| *sub == name)
            .map_or(&[][..], |(_, shown)| *shown);
        command = command.mut_subcommand(name, |mut sub| {
            for arg in &globals {
                if !shown.contains(&arg.get_id().as_str()) {
                    sub = sub.arg(arg.clone().hide_short_help(true).hide_long_help(true));
                }
            }
            sub.after_help(GLOBAL_OPTIONS_NOTE)
        });
    }
    command
}

/// A clap error as (exit code, text): help and version are code 0, mistakes one line, code 2.
fn one_line(err: clap::Error) -> (u8, String) {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => (0, err.render().to_string()),
        _ => {
            // clap's message runs until its first blank line; fold it into one line.
            let text = err.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .map(str::trim)
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty())
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            (2, format!("{message} (see parlor --help)"))
        }
    }
}

/// What each client may send through `parlor relay` by default, a second: 4 MiB/s (32 Mbit/s)
/// is far above chat and lets a file through at a useful speed, while one client cannot take a
/// small server's whole uplink.
pub const RELAY_RATE_LIMIT: &str = "4M";

/// `--rate-limit`: a size a second, at most what iroh-relay takes (4 GiB less a byte).
fn parse_rate(text: &str) -> Result<u32, String> {
    let bytes = crate::store::downloads::parse_size(text)
        .ok_or_else(|| format!("not a size: {text:?} (e.g. 512k, 4M, 0 for no limit)"))?;
    u32::try_from(bytes).map_err(|_| format!("{text} a second is more than a relay takes (4G)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_flags_go_anywhere() {
        let a = parse_from(["parlor", "--headless", "join", "abc", "--json", "--offline"]).unwrap();
        assert!(a.global.headless && a.global.json && a.global.offline);
        assert!(matches!(a.command, Some(Command::Join { rooms }) if rooms == ["abc"]));
        let c = parse_from(["parlor", "join", "ops", "standup"]).unwrap();
        assert!(matches!(c.command, Some(Command::Join { rooms }) if rooms == ["ops", "standup"]));
        let b = parse_from(["parlor", "--name", "sam", "--bind", "127.0.0.1:0"]).unwrap();
        assert!(b.command.is_none());
        assert_eq!(b.global.name.as_deref(), Some("sam"));
    }

    #[test]
    fn errors_are_one_line_with_code_2() {
        for args in [
            &["parlor", "--bind", "nowhere"][..],
            &["parlor", "frobnicate"],
            &["parlor", "join"],
            &["parlor", "--bogus"],
        ] {
            let (code, text) = parse_from(args).unwrap_err();
            assert_eq!(code, 2, "{args:?}");
            assert_eq!(text.lines().count(), 1, "{args:?}: {text}");
            assert!(!text.contains("provided: (see"), "{text}");
        }
    }
}

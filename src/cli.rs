//! Command-line interface: subcommands and the global flags (valid before or after any
//! subcommand). Parsing only; `config` resolves what the flags mean.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "parlor",
    version,
    about = "Serverless group chat for the terminal, peer to peer over iroh",
    after_help = "Examples:\n  parlor open --name sam                 open a room and print its ticket\n  parlor join TICKET                     join the room of a ticket\n  echo 'build done' | parlor join TICKET --headless   one-shot notifier\n\nExit codes: 0 ok, 1 runtime failure (e.g. no peer answered), 2 bad input."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a new room and print its ticket.
    Open,
    /// Join a room with a ticket printed by any of its members.
    Join {
        /// The ticket (lowercase base32; case and whitespace are ignored).
        ticket: String,
    },
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Your name in the room (default: your login name).
    #[arg(long, global = true, value_name = "NAME")]
    pub name: Option<String>,
    /// No full-screen UI: chat lines on stdin, one event per line on stdout.
    #[arg(long, global = true)]
    pub headless: bool,
    /// With --headless: every stdout line is one JSON object with a "type" field.
    #[arg(long, global = true)]
    pub json: bool,
    /// Bind this address only (default: all interfaces, random port).
    #[arg(long, global = true, value_name = "IP:PORT")]
    pub bind: Option<SocketAddr>,
    /// Direct addresses only: no relay servers, no DNS/pkarr lookup, no port mapping.
    #[arg(long, global = true)]
    pub offline: bool,
    /// How long `join` waits for a peer of the ticket to answer.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 15.0)]
    pub join_timeout: f64,
    /// Use this relay server instead of the public n0 relays.
    #[arg(long, global = true, value_name = "URL")]
    pub relay: Option<String>,
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
    Cli::try_parse_from(args).map_err(|err| {
        use clap::error::ErrorKind;
        match err.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => (0, err.render().to_string()),
            _ => {
                let text = err.render().to_string();
                let first = text
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("invalid arguments");
                let first = first.strip_prefix("error: ").unwrap_or(first);
                (2, format!("{first} (see parlor --help)"))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_flags_go_anywhere() {
        let a = parse_from(["parlor", "--headless", "join", "abc", "--json", "--offline"]).unwrap();
        assert!(a.global.headless && a.global.json && a.global.offline);
        assert!(matches!(a.command, Some(Command::Join { ticket }) if ticket == "abc"));
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
        }
    }
}

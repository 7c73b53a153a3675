//! The parlor binary under test and the flags its driven processes run with.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::Proc;

pub const BIN: &str = env!("CARGO_BIN_EXE_parlor");

/// A headless, JSON-speaking process on loopback with no network beyond it and a throwaway
/// identity; `--name` and its value follow.
pub const OFFLINE: [&str; 7] = [
    "--headless",
    "--json",
    "--offline",
    "--ephemeral",
    "--bind",
    "127.0.0.1:0",
    "--name",
];

/// A fresh directory for one test's data.
pub fn tempdir(tag: &str) -> PathBuf {
    super::test_dir::fresh(tag)
}

/// `parlor ARGS` as a command, to start as is or with more set on it.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args);
    command
}

impl Proc {
    /// `parlor ARGS`, named after its `--name` (or "parlor").
    pub fn spawn(args: &[&str]) -> Self {
        let name = args.iter().position(|a| *a == "--name");
        let name = name.and_then(|i| args.get(i + 1)).unwrap_or(&"parlor");
        Self::start(name, command(args))
    }

    pub fn open(name: &str) -> Self {
        Self::spawn(&[&OFFLINE[..], &[name, "open"]].concat())
    }

    pub fn join(name: &str, ticket: &str) -> Self {
        Self::spawn(&[&OFFLINE[..], &[name, "join", ticket]].concat())
    }

    /// A headless JSON process on loopback keeping its data in `dir` (`rest`: the command
    /// and its args).
    pub fn with_data(dir: &Path, name: &str, rest: &[&str]) -> Self {
        let dir = dir.to_str().expect("a UTF-8 temporary path");
        let mut args = vec!["--headless", "--json", "--offline", "--bind", "127.0.0.1:0"];
        args.extend(["--data-dir", dir, "--name", name]);
        args.extend(rest);
        Self::spawn(&args)
    }
}

//! The programs the process benchmark runs, each as a real process on 127.0.0.1 read through its
//! stdout: parlor as users run it (a data directory), parlor `--ephemeral`, and the iroh-gossip
//! chat example (built here from the iroh-gossip package in the cargo registry, patched to stay
//! on loopback; nothing of it is kept in this repository).
//!
//! Every program's output is turned into the same events: `{"type":"ticket","ticket":..}`,
//! `{"type":"ready"}` (able to send), `{"type":"message","text":..}`.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Instant;

use anyhow::Context;
use serde_json::{Value, json};

use crate::support::parlor;
use crate::support::process::{Ev, Proc};
/// The iroh-gossip release parlor depends on (Cargo.toml pins it).
const GOSSIP_PACKAGE: &str = "iroh-gossip-0.101.0";

#[derive(Debug, Clone)]
pub enum Program {
    /// parlor `--headless --json --offline`, with a data directory or `--ephemeral`; its rooms
    /// opened private (as `open` makes them) or with `open --public`.
    Parlor { data_dir: bool, public: bool },
    /// The iroh-gossip chat example, built at this path.
    GossipExample(PathBuf),
}

impl Program {
    pub fn label(&self) -> &'static str {
        match self {
            Program::Parlor {
                data_dir: true,
                public: false,
            } => "parlor, data directory",
            Program::Parlor {
                data_dir: true,
                public: true,
            } => "parlor, data directory, public room",
            Program::Parlor {
                data_dir: false, ..
            } => "parlor --ephemeral",
            Program::GossipExample(_) => "iroh-gossip chat example",
        }
    }

    pub fn key(&self) -> &'static str {
        match self {
            Program::Parlor {
                data_dir: true,
                public: false,
            } => "parlor",
            Program::Parlor {
                data_dir: true,
                public: true,
            } => "parlor_public",
            Program::Parlor {
                data_dir: false, ..
            } => "parlor_ephemeral",
            Program::GossipExample(_) => "iroh_gossip_example",
        }
    }

    /// Whether lost lines come back later (catch-up after `Lagged`).
    pub fn catches_up(&self) -> bool {
        matches!(self, Program::Parlor { .. })
    }

    /// parlor as users run it: a data directory, rooms as `open` makes them (private).
    pub const PARLOR: Program = Program::Parlor {
        data_dir: true,
        public: false,
    };
}

/// The rate limit a parlor process puts on each member's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Lifted (`--max-rate 1000000`): the delivery scenarios' senders outpace the default, and
    /// they measure delivery, not the limit.
    Lifted,
    /// The default, as users run it: the flood scenario measures the limit itself.
    Default,
}

/// What a process printed: (which process, when, the event).
pub type Line = (usize, Instant, Value);

/// One process of a room: driven by `tests/support/process.rs` (which it derefs to), its
/// lines sent to the room's one stream of [`Line`]s.
pub struct Member {
    proc: Proc,
    program: Program,
    data_dir: Option<PathBuf>,
}

impl Deref for Member {
    type Target = Proc;
    fn deref(&self) -> &Proc {
        &self.proc
    }
}

impl DerefMut for Member {
    fn deref_mut(&mut self) -> &mut Proc {
        &mut self.proc
    }
}

/// How a process enters the room.
pub enum Role<'a> {
    Open,
    Join(&'a str),
}

pub fn spawn(
    program: &Program,
    i: usize,
    role: Role<'_>,
    limit: Limit,
    out: mpsc::Sender<Line>,
) -> anyhow::Result<Member> {
    let name = format!("p{i}");
    let mut data_dir = None;
    let mut command = match program {
        Program::Parlor {
            data_dir: with_dir, ..
        } => {
            let mut command = parlor::command(&LOOPBACK);
            if limit == Limit::Lifted {
                command.args(["--max-rate", "1000000"]);
            }
            if *with_dir {
                let dir = std::env::temp_dir().join(format!(
                    "parlor-bench-{}-{i}-{}",
                    std::process::id(),
                    rand::random::<u32>()
                ));
                command.arg("--data-dir").arg(&dir);
                data_dir = Some(dir);
            } else {
                command.arg("--ephemeral");
            }
            command.args(["--name", &name]);
            command
        }
        Program::GossipExample(path) => {
            let mut command = Command::new(path);
            command
                .args(["--no-relay", "--name", &name])
                .env("RUST_LOG", "off");
            command
        }
    };
    match role {
        Role::Open if matches!(program, Program::Parlor { public: true, .. }) => {
            command.args(["open", "--public"])
        }
        Role::Open => command.arg("open"),
        Role::Join(ticket) => command.args(["join", ticket]),
    };
    let json = matches!(program, Program::Parlor { .. });
    let proc = start(&name, command, json, i, out)
        .with_context(|| format!("cannot start {}", program.label()))?;
    Ok(Member {
        proc,
        program: program.clone(),
        data_dir,
    })
}

/// parlor with `args` keeping its data in `dir`, which outlives the process (for restarts);
/// the caller removes it.
pub fn spawn_in(
    dir: &Path,
    i: usize,
    args: &[&str],
    out: mpsc::Sender<Line>,
) -> anyhow::Result<Member> {
    let name = format!("p{i}");
    let mut command = parlor::command(&LOOPBACK);
    command
        .arg("--data-dir")
        .arg(dir)
        .args(["--name", &name])
        .args(args);
    let proc = start(&name, command, true, i, out).context("cannot start parlor")?;
    Ok(Member {
        proc,
        program: Program::PARLOR,
        data_dir: None,
    })
}

/// Every parlor here: headless JSON on loopback, nothing beyond it.
const LOOPBACK: [&str; 5] = ["--headless", "--json", "--offline", "--bind", "127.0.0.1:0"];

/// Start `command`, its lines forwarded to `out` as process `i`'s events.
fn start(
    name: &str,
    command: Command,
    json: bool,
    i: usize,
    out: mpsc::Sender<Line>,
) -> anyhow::Result<Proc> {
    let forward = move |ev: Ev| {
        // parlor's `ready` carries the ticket: it serves as both events. The example's lines
        // arrive as `{"type":"text"}` events and are read here.
        let event = match json {
            true => Some(ev.json),
            false => ev["line"].as_str().and_then(example_event),
        };
        event.is_none_or(|event| out.send((i, ev.at, event)).is_ok())
    };
    Ok(Proc::start_with(name, command, forward)?)
}

fn example_event(line: &str) -> Option<Value> {
    if let Some(ticket) = line.strip_prefix("> ticket to join us: ") {
        return Some(json!({"type": "ticket", "ticket": ticket.trim()}));
    }
    if line == "> connected!" {
        return Some(json!({"type": "ready"}));
    }
    if line.starts_with('>') {
        return None;
    }
    // `name: text` (the text keeps the newline the example read, printed as a blank line).
    let (_, text) = line.split_once(": ")?;
    Some(json!({"type": "message", "text": text}))
}

impl Member {
    /// Its data directory (none for `--ephemeral` or the example).
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// Stop: parlor says goodbye on `/quit`; the example has no quit (and loops on end of
    /// input), so it is killed.
    pub fn quit(&mut self) {
        match self.program {
            Program::Parlor { .. } => {
                let _ = self.proc.write_line("/quit");
            }
            Program::GossipExample(_) => self.proc.kill(),
        }
    }

    /// Wait for the exit, then remove the scratch data directory.
    pub fn wait(&mut self) {
        self.proc.wait();
        if let Some(dir) = self.data_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.proc.kill();
        self.wait();
    }
}

/// Build the iroh-gossip chat example from the registry's copy of the package, patched to
/// stay on loopback: no n0 DNS/pkarr lookup (`presets::Minimal`), no port mapping, bound to
/// 127.0.0.1 only (it is run with `--no-relay`). Built once into `target/bench/`.
pub fn build_gossip_example(target: &Path) -> anyhow::Result<PathBuf> {
    let work = target.join("bench").join("iroh-gossip-example");
    let binary = work.join("target/release/examples/chat");
    if binary.exists() {
        return Ok(binary);
    }
    let source = registry_package(GOSSIP_PACKAGE)?;
    let copy = work.join(GOSSIP_PACKAGE);
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(&source, &copy)?;
    let chat = copy.join("examples/chat.rs");
    let mut text = std::fs::read_to_string(&chat)?;
    for (from, to) in [
        (
            "Endpoint::builder(presets::N0)",
            "Endpoint::builder(presets::Minimal)\n        .portmapper_config(iroh::endpoint::PortmapperConfig::Disabled)",
        ),
        (
            ".bind_addr(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, args.bind_port))?",
            ".clear_ip_transports()\n        .bind_addr(SocketAddrV4::new(Ipv4Addr::LOCALHOST, args.bind_port))?",
        ),
    ] {
        anyhow::ensure!(
            text.contains(from),
            "{GOSSIP_PACKAGE}'s chat example changed ({from:?} not found): update the loopback patch"
        );
        text = text.replace(from, to);
    }
    std::fs::write(&chat, text)?;
    println!("  building the iroh-gossip chat example (release, once) ...");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--example",
            "chat",
            "--features",
            "examples",
        ])
        .arg("--manifest-path")
        .arg(copy.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(work.join("target"))
        .status()?;
    anyhow::ensure!(status.success(), "building the iroh-gossip example failed");
    Ok(binary)
}

fn registry_package(name: &str) -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("no CARGO_HOME or HOME")?;
    let src = home.join("registry/src");
    for index in
        std::fs::read_dir(&src).with_context(|| format!("cannot read {}", src.display()))?
    {
        let candidate = index?.path().join(name);
        if candidate.join("examples/chat.rs").exists() {
            return Ok(candidate);
        }
    }
    anyhow::bail!(
        "{name} is not in {} (run `cargo fetch` first)",
        src.display()
    )
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

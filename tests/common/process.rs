//! The real `parlor` binary as a child process speaking headless JSON.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub const WAIT: Duration = Duration::from_secs(20);
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
pub fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "parlor-test-{tag}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

pub struct Proc {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Proc {
    pub fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_parlor"))
            .args(args)
            // Never the config file of whoever runs the tests.
            .env("PARLOR_CONFIG", "/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn parlor");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        Self {
            child,
            stdin,
            stdout,
        }
    }

    pub fn open(name: &str) -> Self {
        let mut args = OFFLINE.to_vec();
        args.extend([name, "open"]);
        Self::spawn(&args)
    }

    /// A headless JSON process keeping its data in `dir` (`rest`: the command and its args).
    pub fn with_data(dir: &std::path::Path, name: &str, rest: &[&str]) -> Self {
        let mut args = vec![
            "--headless",
            "--json",
            "--offline",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().expect("a UTF-8 temporary path"),
            "--name",
            name,
        ];
        args.extend(rest);
        Self::spawn(&args)
    }

    /// The ticket of this process's `ready` event.
    pub async fn ticket(&mut self) -> String {
        let ready = self.expect_type("ready").await;
        ready["ticket"].as_str().expect("a ticket").to_string()
    }

    pub fn join(name: &str, ticket: &str) -> Self {
        let mut args = OFFLINE.to_vec();
        args.extend([name, "join", ticket]);
        Self::spawn(&args)
    }

    pub async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }

    pub async fn expect(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let found = tokio::time::timeout(WAIT, async {
            while let Some(line) = self.stdout.next_line().await.unwrap() {
                let event: Value = serde_json::from_str(&line).expect("stdout is JSON lines");
                if matches(&event) {
                    return Some(event);
                }
            }
            None
        })
        .await;
        found
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("no {what} within {WAIT:?}"))
    }

    pub async fn expect_type(&mut self, kind: &str) -> Value {
        self.expect(kind, |e| e["type"] == kind).await
    }

    /// What the process wrote on stderr (read once it exited).
    pub async fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(stderr) = self.child.stderr.as_mut() {
            let _ = tokio::io::AsyncReadExt::read_to_string(stderr, &mut text).await;
        }
        text
    }

    /// Wait for exit; returns the code and how long it took.
    pub async fn exit(&mut self) -> (i32, Duration) {
        let started = Instant::now();
        // Keep reading stdout meanwhile, as any consumer does: a process whose pipe is full
        // (history printed after `ready`) waits for its reader before it can exit.
        let stdout = &mut self.stdout;
        let drain = async move { while let Ok(Some(_)) = stdout.next_line().await {} };
        let (status, ()) =
            tokio::time::timeout(WAIT, async { tokio::join!(self.child.wait(), drain) })
                .await
                .expect("exited in time");
        let status = status.unwrap();
        (status.code().unwrap_or(-1), started.elapsed())
    }
}

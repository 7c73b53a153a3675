//! In-process parlor nodes for tests: each runs the real headless session (real endpoint on
//! 127.0.0.1, relays, DNS and port mapping off) with pipes for stdin and stdout.

#![allow(dead_code)]

use std::time::Duration;

use parlor::config::{Config, Start};
use parlor::run::run_headless;
use parlor::store::Store;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Generous: only a broken build waits this long (30 s, as `support::process`: a 2-core
/// machine busy with other builds once made a healthy catch-up take over 20 s).
pub const WAIT: Duration = Duration::from_secs(30);

pub fn offline_config(name: &str, start: Start) -> Config {
    Config::headless_loopback(name, vec![start])
}

pub struct Peer {
    pub name: String,
    stdin: Option<DuplexStream>,
    stdout: Lines<BufReader<DuplexStream>>,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<anyhow::Result<()>>,
    /// Every event read so far, in order.
    pub seen: Vec<Value>,
}

impl Peer {
    pub fn start(config: Config) -> Self {
        Self::start_with_store(config, None)
    }

    /// A session keeping its history in `store` (its identity key stays the config's).
    pub fn start_with_store(config: Config, store: Option<Store>) -> Self {
        let name = config.name.clone();
        let (stdin, session_in) = tokio::io::duplex(64 * 1024);
        let (session_out, stdout) = tokio::io::duplex(1024 * 1024);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run_headless(
            config,
            store,
            session_in,
            session_out,
            async {
                let _ = stopped.await;
            },
        ));
        Self {
            name,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout).lines(),
            stop: Some(stop),
            task,
            seen: Vec::new(),
        }
    }

    pub fn open(name: &str) -> Self {
        Self::start(offline_config(name, Start::Open))
    }

    /// A public room (`open --public`): its ticket is its membership.
    pub fn open_public(name: &str) -> Self {
        let mut config = offline_config(name, Start::Open);
        config.public = true;
        Self::start(config)
    }

    /// Join with a ticket or an invite, as `parlor join` reads it.
    pub fn join(name: &str, ticket: &str) -> Self {
        let start = parlor::config::join_start(ticket.to_string(), true, false).unwrap();
        Self::start(offline_config(name, start))
    }

    pub async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }

    /// End of input, as when a piped script finishes.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Ctrl-C / SIGTERM.
    pub fn signal(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Read events until one matches; panics (listing what was seen) after [`WAIT`].
    pub async fn expect(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let found = tokio::time::timeout(WAIT, async {
            loop {
                let line = self.stdout.next_line().await.unwrap()?;
                let event: Value = serde_json::from_str(&line).expect("stdout line is JSON");
                self.seen.push(event.clone());
                if matches(&event) {
                    return Some(event);
                }
            }
        })
        .await;
        match found {
            Ok(Some(event)) => event,
            _ => panic!(
                "{}: no {what} within {WAIT:?}; saw {:#?}",
                self.name, self.seen
            ),
        }
    }

    /// Read events until `done` holds for everything seen so far (in any order).
    pub async fn wait_until(&mut self, what: &str, done: impl Fn(&[Value]) -> bool) {
        if done(&self.seen) {
            return;
        }
        let reached = tokio::time::timeout(WAIT, async {
            while let Ok(Some(line)) = self.stdout.next_line().await {
                self.seen
                    .push(serde_json::from_str(&line).expect("stdout line is JSON"));
                if done(&self.seen) {
                    return true;
                }
            }
            false
        })
        .await;
        if reached != Ok(true) {
            panic!(
                "{}: not {what} within {WAIT:?}; saw {:#?}",
                self.name, self.seen
            );
        }
    }

    /// Wait until `names` have all been reported joined.
    pub async fn expect_joined(&mut self, names: &[&str]) {
        let what = format!("joined {names:?}");
        self.wait_until(&what, |seen| {
            names.iter().all(|n| {
                seen.iter()
                    .any(|e| e["type"] == "joined" && e["name"] == *n)
            })
        })
        .await;
    }

    pub async fn expect_type(&mut self, kind: &str) -> Value {
        self.expect(kind, |e| e["type"] == kind).await
    }

    pub async fn ready(&mut self) -> Value {
        self.expect_type("ready").await
    }

    /// Messages seen so far from `from` with `text`.
    pub fn messages(&self, from: &str, text: &str) -> Vec<Value> {
        messages_in(&self.seen, from, text)
    }

    /// Wait until `count` messages `from: text` have arrived (whatever came between).
    pub async fn expect_messages(&mut self, from: &str, text: &str, count: usize) -> Vec<Value> {
        let what = format!("{count} x message {from}: {text}");
        self.wait_until(&what, |seen| messages_in(seen, from, text).len() >= count)
            .await;
        self.messages(from, text)
    }

    pub async fn expect_message(&mut self, from: &str, text: &str) -> Value {
        self.expect_messages(from, text, 1).await.remove(0)
    }

    /// Every event of `kind` seen so far.
    pub fn seen_of(&self, kind: &str) -> Vec<&Value> {
        self.seen.iter().filter(|e| e["type"] == kind).collect()
    }

    /// Read whatever arrives within `d` (to check that nothing more comes).
    pub async fn drain_for(&mut self, d: Duration) {
        let _ = tokio::time::timeout(d, async {
            while let Ok(Some(line)) = self.stdout.next_line().await {
                self.seen
                    .push(serde_json::from_str(&line).expect("stdout line is JSON"));
            }
        })
        .await;
    }

    /// Wait for the session to end, having failed to carry out some of what it was asked:
    /// the one line for each (what the binary prints on stderr before exiting 1).
    pub async fn finished_with_failures(self) -> Vec<String> {
        let name = self.name.clone();
        match self.finished().await {
            Err(err) => match err.downcast_ref::<parlor::run::NotAllDone>() {
                Some(failures) => failures.0.clone(),
                None => panic!("{name} failed otherwise: {err:#}"),
            },
            Ok(()) => panic!("{name} reported no failure"),
        }
    }

    /// Wait for the session to end by itself.
    pub async fn finished(self) -> anyhow::Result<()> {
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("session ended in time")
            .expect("session task did not panic")
    }
}

fn messages_in(seen: &[Value], from: &str, text: &str) -> Vec<Value> {
    seen.iter()
        .filter(|e| e["type"] == "message" && e["name"] == from && e["text"] == text)
        .cloned()
        .collect()
}

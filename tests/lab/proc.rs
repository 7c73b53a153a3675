//! A parlor process in the lab: stdin for lines and commands, stdout read as JSON lines by a
//! background task that stamps each line with the moment it arrived (so figures measure the
//! process, not when the test got round to reading), stderr kept for failure reports.

use std::fmt;
use std::ops::Deref;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// A failure guard only: a working build answers in a fraction of this.
pub const WAIT: Duration = Duration::from_secs(30);
/// How long a slash command may take to answer.
const ANSWER: Duration = Duration::from_secs(10);
/// Stderr kept per process (its tail).
const STDERR_KEPT: usize = 16 * 1024;

/// One stdout line, when it arrived. Derefs to its JSON (a non-JSON line becomes
/// `{"type":"text","line":..}`, e.g. the relay server's banner).
#[derive(Clone, Debug)]
pub struct Ev {
    pub at: Instant,
    pub json: Value,
}

impl Deref for Ev {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.json
    }
}

impl fmt::Display for Ev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.json.fmt(f)
    }
}

pub struct Proc {
    pub name: String,
    pub started: Instant,
    child: Child,
    stdin: Option<ChildStdin>,
    events: mpsc::UnboundedReceiver<Ev>,
    /// Every line read so far, in order.
    pub seen: Vec<Ev>,
    /// Where [`Proc::next`] looks from: events it passed over are not offered again.
    cursor: usize,
    stderr: Arc<Mutex<String>>,
    status: Option<ExitStatus>,
    /// [`Proc::fail`] already showed every event (the drop then adds only stderr).
    reported: bool,
}

impl Proc {
    /// Start `command` (killed when the Proc is dropped, whatever happens to the test).
    pub fn spawn(name: &str, mut command: Command) -> Self {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Never the developer's own settings.
            .env("PARLOR_CONFIG", "/dev/null")
            .kill_on_drop(true);
        let mut child = command.spawn().expect("spawn parlor");
        let (tx, events) = mpsc::unbounded_channel();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                let at = Instant::now();
                let json = serde_json::from_str(&line)
                    .unwrap_or_else(|_| json!({"type": "text", "line": line}));
                if tx.send(Ev { at, json }).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let kept = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                let mut kept = kept.lock().unwrap();
                kept.push_str(&String::from_utf8_lossy(&buf[..n]));
                if kept.len() > STDERR_KEPT {
                    let cut = kept.ceil_char_boundary(kept.len() - STDERR_KEPT);
                    kept.drain(..cut);
                }
            }
        });
        Self {
            name: name.to_string(),
            started: Instant::now(),
            stdin: child.stdin.take(),
            child,
            events,
            seen: Vec::new(),
            cursor: 0,
            stderr,
            status: None,
            reported: false,
        }
    }

    /// Type a line (a chat message, or a command such as `/quit`).
    pub async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        let sent = async {
            stdin.write_all(format!("{line}\n").as_bytes()).await?;
            stdin.flush().await
        };
        if let Err(e) = sent.await {
            self.fail(&format!("stdin accepting {line:?} ({e})"), Duration::ZERO);
        }
    }

    /// The next event matching `matches` among those not yet passed over by `next`, waiting at
    /// most `within`. `None` if none came, or the process ended first.
    pub async fn next_within(
        &mut self,
        within: Duration,
        matches: impl Fn(&Ev) -> bool,
    ) -> Option<Ev> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(ev) = self.seen.get(self.cursor) {
                self.cursor += 1;
                if matches(ev) {
                    return Some(ev.clone());
                }
            }
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(ev)) => self.seen.push(ev),
                _ => return None,
            }
        }
    }

    /// As [`Proc::next_within`], failing the test after [`WAIT`].
    pub async fn next(&mut self, what: &str, matches: impl Fn(&Ev) -> bool) -> Ev {
        match self.next_within(WAIT, matches).await {
            Some(ev) => ev,
            None => self.fail(what, WAIT),
        }
    }

    pub async fn next_type(&mut self, kind: &str) -> Ev {
        self.next(kind, |e| e["type"] == kind).await
    }

    /// Wait until `done` holds for everything seen so far, at most `within`; whether it did.
    /// Returns at once (with the answer so far) if the process ends.
    pub async fn until_within(&mut self, within: Duration, done: impl Fn(&[Ev]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while !done(&self.seen) {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(ev)) => self.seen.push(ev),
                _ => return false,
            }
        }
        true
    }

    /// As [`Proc::until_within`], failing the test after [`WAIT`].
    pub async fn until(&mut self, what: &str, done: impl Fn(&[Ev]) -> bool) {
        if !self.until_within(WAIT, done).await {
            self.fail(what, WAIT);
        }
    }

    /// The `ready` event (the first line of `open` and `join`).
    pub async fn ready(&mut self) -> Ev {
        self.next_type("ready").await
    }

    /// Wait until each of `names` has been reported joined.
    pub async fn expect_joined(&mut self, names: &[&str]) {
        let what = format!("joined {names:?}");
        self.until(&what, |seen| {
            names.iter().all(|n| {
                seen.iter()
                    .any(|e| e["type"] == "joined" && e["name"] == *n)
            })
        })
        .await;
    }

    /// The first message `text` from `name`, whenever it arrived (live or as history).
    pub async fn expect_message(&mut self, name: &str, text: &str) -> Ev {
        let what = format!("message {name}: {text}");
        self.until(&what, |seen| first_message(seen, name, text).is_some())
            .await;
        first_message(&self.seen, name, text).unwrap().clone()
    }

    /// Every `message` event with `text` seen so far.
    pub fn messages(&self, text: &str) -> Vec<&Ev> {
        self.seen
            .iter()
            .filter(|e| e["type"] == "message" && e["text"] == text)
            .collect()
    }

    /// Every `message` event seen so far.
    pub fn messages_all(&self) -> impl Iterator<Item = &Ev> {
        self.seen.iter().filter(|e| e["type"] == "message")
    }

    /// Type a slash command and return its answer, the first later event of type `kind` that
    /// `is_answer` accepts. An `error` naming the command (e.g. "unknown command /net") fails
    /// the test at once rather than after a timeout.
    pub async fn command(&mut self, line: &str, kind: &str, is_answer: impl Fn(&Ev) -> bool) -> Ev {
        // Pass over what came before, so an earlier answer is not taken for this one.
        while let Ok(ev) = self.events.try_recv() {
            self.seen.push(ev);
        }
        self.cursor = self.seen.len();
        self.send(line).await;
        let word = line.split_whitespace().next().unwrap_or(line).to_string();
        let refused = |e: &Ev| {
            e["type"] == "error" && e["message"].as_str().is_some_and(|m| m.contains(&word))
        };
        let answer = self
            .next_within(ANSWER, |e| {
                (e["type"] == kind && is_answer(e)) || refused(e)
            })
            .await;
        match answer {
            Some(ev) if ev["type"] == kind => ev,
            Some(ev) => self.fail(&format!("answer to {line} (refused: {ev})"), Duration::ZERO),
            None => self.fail(&format!("answer to {line}"), ANSWER),
        }
    }

    /// `/net`'s snapshot (told from the state events of the same type by its "peers").
    pub async fn net(&mut self) -> Ev {
        self.command("/net", "net", |e| e.get("peers").is_some())
            .await
    }

    /// `/ticket`'s ticket.
    pub async fn ticket(&mut self) -> String {
        let ev = self.command("/ticket", "ticket", |_| true).await;
        ev["ticket"]
            .as_str()
            .expect("ticket is a string")
            .to_string()
    }

    /// Wait at most `within` for the process to exit; its exit code (-1: killed by a signal),
    /// with every line it printed collected into `seen`.
    pub async fn exit_within(&mut self, within: Duration) -> Option<i32> {
        if self.status.is_none() {
            self.status = Some(timeout(within, self.child.wait()).await.ok()?.ok()?);
        }
        // The reader ends at EOF, which follows exit unless a grandchild holds the pipe.
        while let Ok(Some(ev)) = timeout(Duration::from_secs(2), self.events.recv()).await {
            self.seen.push(ev);
        }
        self.status.map(|s| s.code().unwrap_or(-1))
    }

    /// As [`Proc::exit_within`] with [`WAIT`], failing the test if it keeps running.
    pub async fn exit(&mut self) -> i32 {
        match self.exit_within(WAIT).await {
            Some(code) => code,
            None => self.fail("exit", WAIT),
        }
    }

    /// SIGTERM, as a service manager stops it.
    /// Freeze the process (SIGSTOP), as a laptop's lid closing freezes it, or thaw it
    /// (SIGCONT).
    pub fn freeze(&self, frozen: bool) {
        let signal = if frozen { "-STOP" } else { "-CONT" };
        if let Some(pid) = self.child.id() {
            let _ = super::netns::try_run("kill", &[signal, &pid.to_string()]);
        }
    }

    pub fn terminate(&self) {
        if let Some(pid) = self.child.id() {
            let _ = super::netns::try_run("kill", &["-TERM", &pid.to_string()]);
        }
    }

    /// SIGKILL: the process dies without a word to anyone.
    pub fn kill(&mut self) {
        let _ = self.child.start_kill();
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Fail the test naming what did not happen and everything this process said.
    pub fn fail(&mut self, what: &str, waited: Duration) -> ! {
        // Stdout closes a moment before the exit is reaped: give the status that moment.
        for _ in 0..20 {
            if self.status.is_none() {
                self.status = self.child.try_wait().ok().flatten();
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // An early exit is the likelier story (e.g. a flag the build does not know yet; its
        // stderr follows when the Proc is dropped).
        let story = match self.status {
            Some(s) => format!("{} exited ({s}) with no {what}", self.name),
            None if waited.is_zero() => format!("{}: no {what}", self.name),
            None => format!("{}: no {what} within {waited:?}", self.name),
        };
        let seen: Vec<String> = self.seen.iter().map(|e| self.line(e)).collect();
        self.reported = true;
        panic!("{story}; its stdout:\n{}", seen.join("\n"));
    }

    /// `+1.234s {json}`: an event with its time since the process started.
    fn line(&self, ev: &Ev) -> String {
        let since = ev.at.saturating_duration_since(self.started);
        format!("  +{:.3}s {}", since.as_secs_f64(), ev.json)
    }
}

pub fn first_message<'a>(seen: &'a [Ev], name: &str, text: &str) -> Option<&'a Ev> {
    seen.iter()
        .find(|e| e["type"] == "message" && e["name"] == name && e["text"] == text)
}

impl Drop for Proc {
    /// When a test fails, every process it ran tells its side: the last events and stderr.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        if self.reported {
            eprintln!("---- {} stderr:\n{}", self.name, self.stderr());
            return;
        }
        while let Ok(ev) = self.events.try_recv() {
            self.seen.push(ev);
        }
        let from = self.seen.len().saturating_sub(20);
        let seen: Vec<String> = self.seen[from..].iter().map(|e| self.line(e)).collect();
        eprintln!(
            "---- {} (last {} of {} events):\n{}\n---- {} stderr:\n{}",
            self.name,
            seen.len(),
            self.seen.len(),
            seen.join("\n"),
            self.name,
            self.stderr()
        );
    }
}

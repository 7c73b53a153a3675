//! A real process driven by a test, the network lab or the room benchmark: lines written to
//! its stdin, its stdout read as JSON lines by a thread that stamps each with the moment it
//! arrived (so figures measure the process, not when the caller got round to reading), its
//! stderr's tail kept for failure reports. Threads rather than async tasks, so that the
//! benchmark's synchronous code and the tests' async code drive it alike; the waits are async.
//! Which binary and flags: `support/parlor.rs`; chat-level waits: `support/chat.rs`.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::Deref;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// A failure guard only: a working build answers in a fraction of this.
pub const WAIT: Duration = Duration::from_secs(30);
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
    /// Where [`Proc::expect`] looks from: events it passed over are not offered again.
    cursor: usize,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
    /// [`Proc::fail`] already showed every event (the drop then adds only stderr).
    reported: bool,
}

impl Proc {
    /// Start `command` (killed when the Proc is dropped, whatever happens to the caller); its
    /// lines are read with [`Proc::expect`] and the like.
    pub fn start(name: &str, command: Command) -> Self {
        let (tx, events) = mpsc::unbounded_channel();
        Self::launch(name, command, events, move |ev| tx.send(ev).is_ok())
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"))
    }

    /// As [`Proc::start`], but each line goes to `sink` on the reader thread (until it returns
    /// false), for a caller reading many processes as one stream; `expect` sees nothing.
    pub fn start_with(
        name: &str,
        command: Command,
        sink: impl FnMut(Ev) -> bool + Send + 'static,
    ) -> std::io::Result<Self> {
        let (_, events) = mpsc::unbounded_channel();
        Self::launch(name, command, events, sink)
    }

    fn launch(
        name: &str,
        mut command: Command,
        events: mpsc::UnboundedReceiver<Ev>,
        mut sink: impl FnMut(Ev) -> bool + Send + 'static,
    ) -> std::io::Result<Self> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Never the settings of whoever runs the tests.
            .env("PARLOR_CONFIG", "/dev/null");
        let mut child = command.spawn()?;
        let stdout = child.stdout.take().expect("a piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let at = Instant::now();
                let json = serde_json::from_str(&line)
                    .unwrap_or_else(|_| json!({"type": "text", "line": line}));
                if !sink(Ev { at, json }) {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("a piped stderr");
        let kept = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                let mut kept = kept.lock().unwrap();
                kept.push_str(&String::from_utf8_lossy(&buf[..n]));
                if kept.len() > STDERR_KEPT {
                    let cut = kept.ceil_char_boundary(kept.len() - STDERR_KEPT);
                    kept.drain(..cut);
                }
            }
        });
        Ok(Self {
            name: name.to_string(),
            started: Instant::now(),
            stdin: child.stdin.take(),
            child,
            events,
            seen: Vec::new(),
            cursor: 0,
            stderr,
            stderr_reader: Some(stderr_reader),
            status: None,
            reported: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Write `line` and its newline in one `write`, as a terminal or a script hands over a
    /// whole line (two writes on the unbuffered pipe would wake the reader twice).
    pub fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let stdin = self.stdin.as_mut().ok_or(std::io::ErrorKind::BrokenPipe)?;
        stdin.write_all(format!("{line}\n").as_bytes())
    }

    /// Type a line (a chat message, or a command such as `/quit`); fails the test if stdin
    /// is closed. (A pipe holds far more than a line: the write does not block.)
    pub async fn send(&mut self, line: &str) {
        if let Err(e) = self.write_line(line) {
            self.fail(&format!("stdin accepting {line:?} ({e})"), Duration::ZERO);
        }
    }

    /// End of input, as when a piped script finishes.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Stdin itself, to write in other ways (a whole log at once); taking it closes it here.
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.stdin.take()
    }

    /// Read what arrived since the last look into `seen` without waiting.
    fn collect(&mut self) {
        while let Ok(ev) = self.events.try_recv() {
            self.seen.push(ev);
        }
    }

    /// Pass over everything seen so far: a later `expect` only sees what arrives after.
    pub fn skip_seen(&mut self) {
        self.collect();
        self.cursor = self.seen.len();
    }

    /// The next event matching `matches` among those not yet passed over by `expect`,
    /// waiting at most `within`. `None` if none came, or the process ended first.
    pub async fn expect_within(
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

    /// As [`Proc::expect_within`], failing the test (naming `what`) after [`WAIT`].
    pub async fn expect(&mut self, what: &str, matches: impl Fn(&Ev) -> bool) -> Ev {
        match self.expect_within(WAIT, matches).await {
            Some(ev) => ev,
            None => self.fail(what, WAIT),
        }
    }

    pub async fn expect_type(&mut self, kind: &str) -> Ev {
        self.expect(kind, |e| e["type"] == kind).await
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
        self.expect_type("ready").await
    }

    /// The ticket of the `ready` event.
    pub async fn ready_ticket(&mut self) -> String {
        let ready = self.ready().await;
        match ready["ticket"].as_str() {
            Some(ticket) => ticket.to_string(),
            None => self.fail(&format!("ticket in {ready}"), Duration::ZERO),
        }
    }

    /// Wait at most `within` for the process to exit; its exit code (-1: killed by a signal),
    /// with every line it printed collected into `seen` and its stderr read to the end.
    pub async fn exit_within(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
            if self.status.is_none() {
                if Instant::now() >= deadline {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        // The readers end at EOF, which follows exit unless a grandchild holds the pipes.
        while let Ok(Some(ev)) = timeout(Duration::from_secs(2), self.events.recv()).await {
            self.seen.push(ev);
        }
        let stderr_until = Instant::now() + Duration::from_secs(2);
        while self
            .stderr_reader
            .as_ref()
            .is_some_and(|r| !r.is_finished() && Instant::now() < stderr_until)
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
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

    /// Block until the process exits (for synchronous callers such as the benchmark).
    pub fn wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.wait().ok();
        }
        self.status
    }

    /// Freeze the process (SIGSTOP), as a laptop's lid closing freezes it, or thaw it
    /// (SIGCONT).
    pub fn freeze(&self, frozen: bool) {
        self.signal(if frozen { "-STOP" } else { "-CONT" });
    }

    /// SIGTERM, as a service manager stops it.
    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    /// `kill SIGNAL pid` (no libc: unsafe code is forbidden in this package).
    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status();
    }

    /// SIGKILL: the process dies without a word to anyone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
    }

    /// Its stderr so far (its tail); all of it once [`Proc::exit`] returned.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Fail the test naming what did not happen and everything this process said.
    pub fn fail(&mut self, what: &str, waited: Duration) -> ! {
        self.collect();
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

impl Drop for Proc {
    /// Kill and reap the process; when a test fails, every process it ran tells its side:
    /// the last events and stderr.
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if !std::thread::panicking() {
            return;
        }
        if self.reported {
            eprintln!("---- {} stderr:\n{}", self.name, self.stderr());
            return;
        }
        self.collect();
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

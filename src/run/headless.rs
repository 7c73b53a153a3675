//! Headless mode: lines in, one event per line out, a session in between. Generic over its
//! input and output streams and its shutdown signal, so tests run whole sessions in-process.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::{Instant, sleep_until};

use super::start::{self, spec_of};
use crate::app::command::{self, COMMANDS, Command};
use crate::config::{Config, ConfigError, Start};
use crate::headless::{self, Report};
use crate::net::Node;
use crate::session::{self, Events, SessionEvent, SessionGone, SessionHandle};
use crate::store::Store;

/// How long input that ended may wait for a peer to send its queued lines to.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the last lines, after leaving, may wait on a reader that stopped reading (output
/// waits on the reader: see `run::stdout`); past it they are dropped, so parlor still exits.
const LAST_LINES: Duration = Duration::from_secs(5);

/// Resolves once every queued line was sent.
type Drained = Pin<Box<dyn Future<Output = Result<(), SessionGone>> + Send>>;

struct Headless<W> {
    session: SessionHandle,
    output: W,
    json: bool,
    ready: bool,
    /// Output waits for the reader until then (while leaving); `None`: as long as it takes.
    output_until: Option<Instant>,
    /// The reader stopped reading while leaving: the rest is not written.
    output_stuck: bool,
}

/// How the loop ended.
enum Stop {
    /// `/quit`, a signal, or input ended with nothing left to send.
    Quit,
    /// The session ended by itself (the reason was reported).
    Ended(String),
    /// Input ended and the queued lines found no peer in time.
    Unsent,
}

/// Run one headless session until `/quit`, end of input or `shutdown`.
pub async fn run_headless<R, W>(
    config: Config,
    store: Option<Store>,
    input: R,
    output: W,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let start = config.start().ok_or(ConfigError::NoCommand)?;
    if !matches!(start, Start::Lan(_)) {
        // Bad input is reported before anything starts.
        spec_of(&config, start, config.name.clone())?;
    }
    let store = start::store_thread(store)?;
    let node = match Node::spawn(&config.net).await {
        Ok(node) => node,
        Err(err) => {
            start::close(None, store).await;
            return Err(err);
        }
    };
    let result = async {
        let spec = start::resolve_spec(&config, &node, start, config.name.clone()).await?;
        let join_timeout = spec.join_timeout;
        let (handle, mut events) = session::spawn(&node, start::store_handle(&store), spec).await?;
        let mut headless = Headless {
            session: handle,
            output,
            json: config.json,
            ready: false,
            output_until: None,
            output_stuck: false,
        };
        let stop = headless
            .main_loop(BufReader::new(input), &mut events, shutdown, join_timeout)
            .await;
        headless.finish(stop, &mut events).await
    }
    .await;
    start::close(Some(node), store).await;
    result
}

impl<W: AsyncWrite + Unpin> Headless<W> {
    async fn main_loop<R: AsyncRead + Unpin>(
        &mut self,
        mut input: BufReader<R>,
        events: &mut Events,
        shutdown: impl Future<Output = ()>,
        join_timeout: Option<Duration>,
    ) -> anyhow::Result<Stop> {
        tokio::pin!(shutdown);
        let mut line = Vec::new();
        let mut input_open = true;
        let mut drain_deadline: Option<Instant> = None;
        let mut drained: Option<Drained> = None;
        let far = Instant::now() + Duration::from_secs(24 * 3600);
        loop {
            tokio::select! {
                read = input.read_until(b'\n', &mut line), if input_open => {
                    match read {
                        Ok(0) | Err(_) => {
                            input_open = false;
                            // Queued lines wait for the join, or a while for a peer.
                            let wait = match join_timeout {
                                Some(timeout) if !self.ready => timeout,
                                _ => DRAIN_TIMEOUT,
                            };
                            drain_deadline = Some(Instant::now() + wait);
                            let session = self.session.clone();
                            drained = Some(Box::pin(async move { session.drained().await }));
                        }
                        Ok(_) => {
                            // Its answer may wait on the reader; a signal still ends parlor.
                            let typed = String::from_utf8_lossy(&line);
                            let quit = tokio::select! {
                                quit = self.on_line(&typed) => quit,
                                () = &mut shutdown => true,
                            };
                            if quit {
                                return Ok(Stop::Quit);
                            }
                        }
                    }
                    line.clear();
                }
                event = events.recv() => match event {
                    Some(SessionEvent::Failed(reason)) => return Ok(Stop::Ended(reason)),
                    Some(event) => tokio::select! {
                        // Printing waits on the reader; a signal still ends parlor.
                        () = self.on_event(event) => {}
                        () = &mut shutdown => return Ok(Stop::Quit),
                    },
                    None => return Ok(Stop::Ended("the session ended".into())),
                },
                done = async { drained.as_mut().expect("guarded").await }, if drained.is_some() => {
                    match done {
                        Ok(()) => return Ok(Stop::Quit),
                        // The session ended first: its events say why.
                        Err(_) => drained = None,
                    }
                }
                _ = sleep_until(drain_deadline.unwrap_or(far)), if drain_deadline.is_some() => {
                    return Ok(Stop::Unsent);
                }
                () = &mut shutdown => return Ok(Stop::Quit),
            }
        }
    }

    /// Leave (unless the session already ended), report the last events and what was never
    /// sent.
    async fn finish(
        &mut self,
        stop: anyhow::Result<Stop>,
        events: &mut Events,
    ) -> anyhow::Result<()> {
        let left = self.session.leave().await;
        self.output_until = Some(Instant::now() + LAST_LINES);
        while let Some(event) = events.recv().await {
            if !matches!(event, SessionEvent::Failed(_)) {
                self.on_event(event).await;
            }
        }
        let unsent = left.map_or(0, |left| left.unsent);
        if unsent > 0 {
            let message = format!("{unsent} queued message(s) were not sent: no peer had joined");
            self.report(Report::Error(message)).await;
        }
        match stop? {
            Stop::Quit => Ok(()),
            Stop::Ended(reason) => Err(anyhow::anyhow!(reason)),
            Stop::Unsent => Err(anyhow::anyhow!(
                "{unsent} message(s) not sent: no peer joined in time"
            )),
        }
    }

    async fn on_event(&mut self, event: SessionEvent) {
        let report = match event {
            SessionEvent::Ready { me, topic, ticket } => {
                self.ready = true;
                Report::Ready {
                    id: me.id,
                    name: me.name,
                    topic,
                    ticket,
                }
            }
            SessionEvent::Room(event) => Report::Room(event),
            SessionEvent::Warning(text) => Report::Warning(text),
            SessionEvent::Net(state) => Report::NetState(state),
            SessionEvent::Ticket(ticket) => Report::Ticket(ticket),
            // Printed on `/who` only.
            SessionEvent::Members(_) => return,
            SessionEvent::Failed(reason) => Report::Error(reason),
        };
        self.report(report).await;
    }

    /// Carry out a typed line; `true` to quit.
    async fn on_line(&mut self, line: &str) -> bool {
        let session = &self.session;
        // A session that ended says so through its events; commands to it do nothing.
        let report = match command::parse(line) {
            Ok(None) => None,
            Ok(Some(Command::Say(text))) => {
                let _ = session.say(text).await;
                None
            }
            Ok(Some(Command::Me(text))) => {
                let _ = session.act(text).await;
                None
            }
            Ok(Some(Command::Nick(name))) => {
                let _ = session.rename(name).await;
                None
            }
            Ok(Some(Command::Who)) => session.members().await.ok().map(Report::Members),
            // Answered by the room with an event (or a refusal).
            Ok(Some(Command::Ignore(who, ignore))) => {
                let _ = session.ignore(who, ignore).await;
                None
            }
            Ok(Some(Command::Ignored)) => {
                let _ = session.list_ignored().await;
                None
            }
            Ok(Some(Command::Ticket)) => session.ticket().await.ok().map(Report::Ticket),
            Ok(Some(Command::Net)) => session.net().await.ok().map(Report::Net),
            Ok(Some(Command::Search(words))) => Some(match session.search(words).await {
                Ok(found) => Report::Found(found),
                Err(err) => Report::Error(err),
            }),
            Ok(Some(Command::Help)) => {
                let list: Vec<String> = COMMANDS
                    .iter()
                    .map(|(usage, what)| format!("{usage}: {what}"))
                    .collect();
                Some(Report::Info(list.join("; ")))
            }
            Ok(Some(Command::Clear)) => Some(Report::Info(
                "/clear only applies to the terminal UI".to_string(),
            )),
            Ok(Some(Command::Expand)) => Some(Report::Info(
                "/expand only applies to the terminal UI: headless output is never cut".to_string(),
            )),
            Ok(Some(Command::Quit)) => return true,
            Err(err) => Some(Report::Error(err.to_string())),
        };
        if let Some(report) = report {
            self.report(report).await;
        }
        false
    }

    async fn report(&mut self, report: Report) {
        let Some(mut line) = headless::format(&report, self.json) else {
            return;
        };
        line.push('\n');
        if self.output_stuck {
            return;
        }
        // A reader that went away (closed pipe) is not our failure: keep chatting until input
        // ends or a signal comes.
        let write = async {
            if self.output.write_all(line.as_bytes()).await.is_ok() {
                let _ = self.output.flush().await;
            }
        };
        match self.output_until {
            None => write.await,
            // Once one line waited too long, none follows it: no gap in what is printed.
            Some(until) => {
                self.output_stuck = tokio::time::timeout_at(until, write).await.is_err();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::config::{Data, Task};
    use crate::net::NetConfig;
    use crate::proto::SecretKey;

    /// Output waits on its reader now; a reader that stopped must not keep a signal from
    /// ending parlor (nor the last lines, after leaving, keep it from exiting).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_signal_ends_headless_while_a_line_waits_on_a_reader_that_stopped() {
        let config = Config {
            task: Task::Chat(Some(Start::Open)),
            name: "ann".into(),
            name_given: true,
            data: Data::Ephemeral,
            label: None,
            lan: false,
            history: Default::default(),
            limits: Default::default(),
            headless: true,
            net: NetConfig::loopback(SecretKey::generate()),
            json: true,
            join_timeout: Duration::from_secs(15),
            ui: Default::default(),
        };
        let (_typing, input) = tokio::io::duplex(64);
        let (output, mut reader) = tokio::io::duplex(16);
        let (signal, signalled) = tokio::sync::oneshot::channel::<()>();
        let run = tokio::spawn(run_headless(config, None, input, output, async {
            let _ = signalled.await;
        }));
        // The first line has begun (it is longer than the pipe): it now waits on the reader.
        let mut first = [0u8; 1];
        reader.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"{");
        signal.send(()).unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(60), run).await;
        assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
    }
}

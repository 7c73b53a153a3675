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

/// Resolves once every queued line was sent.
type Drained = Pin<Box<dyn Future<Output = Result<(), SessionGone>> + Send>>;

struct Headless<W> {
    session: SessionHandle,
    output: W,
    json: bool,
    ready: bool,
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
                            let quit = self.on_line(&String::from_utf8_lossy(&line)).await;
                            if quit {
                                return Ok(Stop::Quit);
                            }
                        }
                    }
                    line.clear();
                }
                event = events.recv() => match event {
                    Some(SessionEvent::Failed(reason)) => return Ok(Stop::Ended(reason)),
                    Some(event) => self.on_event(event).await,
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
        // A reader that went away (closed pipe) is not our failure: keep chatting until input
        // ends or a signal comes.
        if self.output.write_all(line.as_bytes()).await.is_ok() {
            let _ = self.output.flush().await;
        }
    }
}

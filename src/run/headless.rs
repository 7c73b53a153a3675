//! Headless mode: lines in, one event per line out, the session in between. Generic over its
//! input and output streams and its shutdown signal, so tests run whole sessions in-process.

use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::{Instant, sleep_until};

use super::session::{NoPeerAnswered, Session, Update, entry_of};
use crate::app::command::{self, COMMANDS, Command};
use crate::config::{Config, ConfigError};
use crate::headless::{self, Report};
use crate::proto::room::{Event, Input};
use crate::store::Store;

/// How long input that ended may wait for a peer to send its queued lines to.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// How long live messages may wait behind the first catch-up, so history prints first.
const HOLD_LIVE: Duration = Duration::from_secs(2);

/// A typed line or a signal asked to end the session now.
struct Quit;

struct Headless<W> {
    session: Session,
    output: W,
    json: bool,
    ready: bool,
    /// Live events held back while the first catch-up runs, and until when at most.
    held: Option<(Instant, Vec<Report>)>,
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
    let (entry, wait_for_peer) = entry_of(start, config.label.clone())?;
    let store = store.map(|s| std::sync::Arc::new(std::sync::Mutex::new(s)));
    let session = Session::start(&config.net, &config.name, entry, store, config.history).await?;
    let mut headless = Headless {
        session,
        output,
        json: config.json,
        ready: false,
        held: None,
    };
    // A new or known room can be used at once (lines queue until someone is there); a ticket's
    // room once joined.
    let join_deadline = if wait_for_peer {
        Some(Instant::now() + config.join_timeout)
    } else {
        headless.announce_ready().await;
        None
    };
    let no_peer = NoPeerAnswered {
        peers: headless.session.ticket_peers,
        waited: config.join_timeout,
    };
    let result = headless
        .main_loop(BufReader::new(input), shutdown, join_deadline, no_peer)
        .await;
    headless.release_held().await;
    let unsent = headless.session.room().queued();
    if unsent > 0 {
        let message = format!("{unsent} queued message(s) were not sent: no peer had joined");
        headless.report(Report::Error(message)).await;
    }
    headless.session.leave().await;
    result
}

impl<W: AsyncWrite + Unpin> Headless<W> {
    async fn main_loop<R: AsyncRead + Unpin>(
        &mut self,
        mut input: BufReader<R>,
        shutdown: impl Future<Output = ()>,
        mut join_deadline: Option<Instant>,
        no_peer: NoPeerAnswered,
    ) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        let mut line = Vec::new();
        let mut input_open = true;
        let mut drain_deadline: Option<Instant> = None;
        loop {
            if let Some(deadline) = drain_deadline {
                let unsent = self.session.room().queued();
                if unsent == 0 {
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    anyhow::bail!("{unsent} message(s) not sent: no peer joined in time");
                }
            }
            let tick = self.session.next_deadline();
            let hold = self.held.as_ref().map(|(until, _)| *until);
            let far = Instant::now() + Duration::from_secs(3600);
            let quit = tokio::select! {
                read = input.read_until(b'\n', &mut line), if input_open => {
                    let quit = match read {
                        Ok(0) | Err(_) => {
                            input_open = false;
                            let limit = join_deadline.unwrap_or(Instant::now() + DRAIN_TIMEOUT);
                            drain_deadline = Some(limit);
                            None
                        }
                        Ok(_) => self.on_line(&String::from_utf8_lossy(&line)).await,
                    };
                    line.clear();
                    quit
                }
                input = self.session.next_input() => {
                    self.feed(input?).await;
                    None
                }
                _ = sleep_until(tick.unwrap_or(far)), if tick.is_some() => {
                    self.feed(Input::Tick).await;
                    None
                }
                _ = sleep_until(hold.unwrap_or(far)), if hold.is_some() => {
                    self.release_held().await;
                    None
                }
                _ = sleep_until(join_deadline.unwrap_or(far)), if join_deadline.is_some() && !self.ready => {
                    return Err(no_peer.into());
                }
                _ = sleep_until(drain_deadline.unwrap_or(far)), if drain_deadline.is_some() => None,
                () = &mut shutdown => Some(Quit),
            };
            if self.ready {
                join_deadline = None;
            }
            if quit.is_some() {
                return Ok(());
            }
        }
    }

    /// Feed the session and report what it says. History prints at once; while the first
    /// catch-up runs, live messages wait behind it (bounded).
    async fn feed(&mut self, input: Input) {
        let updates = self.session.feed(input);
        if !self.ready && self.session.room().is_joined() {
            self.announce_ready().await;
            if self.session.catching_up() {
                self.held = Some((Instant::now() + HOLD_LIVE, Vec::new()));
            }
        }
        for update in updates {
            let report = match update {
                Update::Room(event) => Report::Room(event),
                Update::Warning(warning) => Report::Warning(warning),
            };
            let live_message =
                matches!(&report, Report::Room(Event::MessageReceived(l)) if !l.history);
            match &mut self.held {
                Some((_, held)) if live_message => held.push(report),
                _ => self.report(report).await,
            }
        }
        if self.held.is_some() && !self.session.catching_up() {
            self.release_held().await;
        }
    }

    async fn release_held(&mut self) {
        if let Some((_, held)) = self.held.take() {
            for report in held {
                self.report(report).await;
            }
        }
    }

    async fn on_line(&mut self, line: &str) -> Option<Quit> {
        match command::parse(line) {
            Ok(None) => {}
            Ok(Some(Command::Say(text))) => self.feed(Input::Say(text)).await,
            Ok(Some(Command::Me(text))) => self.feed(Input::Act(text)).await,
            Ok(Some(Command::Nick(name))) => self.feed(Input::SetName(name)).await,
            Ok(Some(Command::Who)) => {
                let members = self.session.room().members();
                self.report(Report::Members(members)).await;
            }
            Ok(Some(Command::Ticket)) => {
                let ticket = self.session.ticket().await;
                self.report(Report::Ticket(ticket)).await;
            }
            Ok(Some(Command::Search(words))) => {
                let report = match self.session.search(&words) {
                    Ok(found) => Report::Found(found),
                    Err(err) => Report::Error(err),
                };
                self.report(report).await;
            }
            Ok(Some(Command::Help)) => {
                let list: Vec<String> = COMMANDS
                    .iter()
                    .map(|(usage, what)| format!("{usage}: {what}"))
                    .collect();
                self.report(Report::Info(list.join("; "))).await;
            }
            Ok(Some(Command::Clear)) => {
                let message = "/clear only applies to the terminal UI".to_string();
                self.report(Report::Info(message)).await;
            }
            Ok(Some(Command::Quit)) => return Some(Quit),
            Err(err) => self.report(Report::Error(err.to_string())).await,
        }
        None
    }

    /// `ready`, then the stored history of the room.
    async fn announce_ready(&mut self) {
        self.ready = true;
        let ticket = self.session.ticket().await;
        let room = self.session.room();
        let report = Report::Ready {
            id: room.id(),
            name: room.my_name().to_string(),
            topic: room.topic(),
            ticket,
        };
        self.report(report).await;
        for event in self.session.take_restored() {
            self.report(Report::Room(event)).await;
        }
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

//! Headless mode: lines in, one event per line out, the session in between. Generic over its
//! input and output streams and its shutdown signal, so tests run whole sessions in-process.

use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::{Instant, sleep_until};

use super::session::{NoPeerAnswered, Session};
use crate::app::command::{self, COMMANDS, Command};
use crate::config::{Config, Start};
use crate::headless::{self, Report};
use crate::proto::room::Input;

/// How long input that ended may wait for a peer to send its queued lines to.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// A typed line or a signal asked to end the session now.
struct Quit;

struct Headless<W> {
    session: Session,
    output: W,
    json: bool,
    ready: bool,
}

/// Run one headless session until `/quit`, end of input or `shutdown`.
pub async fn run_headless<R, W>(
    config: Config,
    input: R,
    output: W,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let start = config
        .start
        .clone()
        .ok_or(crate::config::ConfigError::NoCommand)?;
    let ticket = match &start {
        Start::Open => None,
        Start::Join(ticket) => Some(ticket),
    };
    let session = Session::start(&config.net, &config.name, ticket).await?;
    let mut headless = Headless {
        session,
        output,
        json: config.json,
        ready: false,
    };
    // The opener can send at once (lines queue until someone joins); a joiner once joined.
    let join_deadline = match start {
        Start::Open => {
            headless.announce_ready().await;
            None
        }
        Start::Join(_) => Some(Instant::now() + config.join_timeout),
    };
    let no_peer = NoPeerAnswered {
        peers: headless.session.ticket_peers,
        waited: config.join_timeout,
    };
    let result = headless
        .main_loop(BufReader::new(input), shutdown, join_deadline, no_peer)
        .await;
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

    /// Feed the session and report what the room says.
    async fn feed(&mut self, input: Input) {
        let events = self.session.feed(input);
        if !self.ready && self.session.room().is_joined() {
            self.announce_ready().await;
        }
        for event in events {
            self.report(Report::Room(event)).await;
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

//! A headless session: lines in, events out, the room in between. Generic over its input and
//! output streams and its shutdown signal, so tests run whole sessions in-process.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::{Instant, sleep_until};

use crate::app::command::{self, COMMANDS, Command};
use crate::config::{Config, Start};
use crate::headless::{self, Report};
use crate::net::{NetEvent, Node, TopicHandle};
use crate::proto::room::{Input, Output, Room, RoomConfig};
use crate::proto::ticket::{MAX_TICKET_PEERS, Ticket};
use crate::proto::{Now, TopicId};

/// How long input that ended may wait for a peer to send its queued lines to.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// How long leaving may wait for the goodbye to be handed to the network.
const LEAVE_FLUSH: Duration = Duration::from_millis(300);
/// How long leaving the topic and closing the endpoint may take in all.
const CLOSE_LIMIT: Duration = Duration::from_millis(1200);

/// `join` gave up: nobody listed in the ticket answered in time.
#[derive(Debug, thiserror::Error)]
#[error("no peer answered within {:.1} s (the ticket lists {peers} peer(s)); the room may be empty or unreachable", waited.as_secs_f64())]
pub struct NoPeerAnswered {
    pub peers: usize,
    pub waited: Duration,
}

struct Session<W> {
    node: Node,
    net: TopicHandle,
    room: Room,
    output: W,
    json: bool,
    ready: bool,
}

/// A typed line asked to end the session now (`/quit`).
struct Quit;

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
    let node = Node::spawn(&config.net).await?;
    let (topic, peers) = match &config.start {
        Start::Open => (TopicId::from_bytes(rand::random()), Vec::new()),
        Start::Join(ticket) => (ticket.topic, ticket.peers.clone()),
    };
    let net = node.join(topic, &peers).await.context("cannot subscribe")?;
    let room = Room::new(
        config.net.secret.clone(),
        topic,
        config.name.clone(),
        rand::random(),
        RoomConfig::default(),
    );
    let mut session = Session {
        node,
        net,
        room,
        output,
        json: config.json,
        ready: false,
    };
    // The opener can send at once (lines queue until someone joins); a joiner once joined.
    let join_deadline = match config.start {
        Start::Open => {
            session.announce_ready().await;
            None
        }
        Start::Join(_) => Some(Instant::now() + config.join_timeout),
    };
    let no_peer = NoPeerAnswered {
        peers: peers.len(),
        waited: config.join_timeout,
    };
    let result = session
        .main_loop(BufReader::new(input), shutdown, join_deadline, no_peer)
        .await;
    session.leave().await;
    result
}

impl<W: AsyncWrite + Unpin> Session<W> {
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
                if self.room.queued() == 0 {
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    let unsent = self.room.queued();
                    anyhow::bail!("{unsent} message(s) not sent: no peer joined in time");
                }
            }
            let tick = self.room.next_deadline().map(Instant::from_std);
            let far = Instant::now() + Duration::from_secs(3600);
            let exit = tokio::select! {
                read = input.read_until(b'\n', &mut line), if input_open => {
                    let exit = match read {
                        Ok(0) | Err(_) => {
                            input_open = false;
                            drain_deadline = Some(join_deadline.unwrap_or(Instant::now() + DRAIN_TIMEOUT));
                            None
                        }
                        Ok(_) => self.on_line(&String::from_utf8_lossy(&line)).await,
                    };
                    line.clear();
                    exit
                }
                event = self.net.next_event() => match event {
                    Some(NetEvent::Closed(reason)) => anyhow::bail!("the network stopped: {reason}"),
                    None => anyhow::bail!("the network stopped"),
                    Some(event) => { self.on_net(event).await; None }
                },
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
            if exit.is_some() {
                return Ok(());
            }
        }
    }

    /// Feed the room and carry out what it asks for.
    async fn feed(&mut self, input: Input) {
        let outputs = self.room.handle(input, Now::system());
        if !self.ready && self.room.is_joined() {
            self.announce_ready().await;
        }
        for output in outputs {
            match output {
                Output::Broadcast(bytes) => self.net.broadcast(bytes),
                Output::Event(event) => self.report(Report::Room(event)).await,
            }
        }
    }

    async fn on_net(&mut self, event: NetEvent) {
        let input = match event {
            NetEvent::Received(bytes) => Input::Received(bytes.to_vec()),
            NetEvent::NeighborUp(id) => Input::NeighborUp(id),
            NetEvent::NeighborDown(id) => Input::NeighborDown(id),
            NetEvent::Lagged => Input::Lagged,
            NetEvent::Closed(_) => return,
        };
        self.feed(input).await;
    }

    async fn on_line(&mut self, line: &str) -> Option<Quit> {
        match command::parse(line) {
            Ok(None) => {}
            Ok(Some(Command::Say(text))) => self.feed(Input::Say(text)).await,
            Ok(Some(Command::Nick(name))) => self.feed(Input::SetName(name)).await,
            Ok(Some(Command::Who)) => self.report(Report::Members(self.room.members())).await,
            Ok(Some(Command::Ticket)) => {
                let ticket = self.ticket().await;
                self.report(Report::Ticket(ticket)).await;
            }
            Ok(Some(Command::Help)) => {
                let list: Vec<String> = COMMANDS
                    .iter()
                    .map(|(usage, what)| format!("{usage}: {what}"))
                    .collect();
                self.report(Report::Info(list.join("; "))).await;
            }
            Ok(Some(Command::Quit)) => return Some(Quit),
            Err(err) => self.report(Report::Error(err.to_string())).await,
        }
        None
    }

    /// A fresh ticket: us first, then a few current neighbours, so it outlives any one member.
    async fn ticket(&self) -> String {
        let neighbors: Vec<_> = self.room.neighbors().copied().collect();
        let peers = self.node.ticket_peers(&neighbors, MAX_TICKET_PEERS).await;
        Ticket::new(self.room.topic(), peers).to_string()
    }

    async fn announce_ready(&mut self) {
        self.ready = true;
        let ticket = self.ticket().await;
        let report = Report::Ready {
            id: self.room.id(),
            name: self.room.my_name().to_string(),
            topic: self.room.topic(),
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

    /// Say goodbye, give the network a moment to send it, and close.
    async fn leave(mut self) {
        let unsent = self.room.queued();
        if unsent > 0 {
            let message = format!("{unsent} queued message(s) were not sent: no peer had joined");
            self.report(Report::Error(message)).await;
        }
        let had_neighbors = self.room.is_joined();
        self.feed(Input::Leave).await;
        let _ = tokio::time::timeout(LEAVE_FLUSH, self.net.flush()).await;
        self.node
            .shutdown(self.net, had_neighbors, CLOSE_LIMIT)
            .await;
    }
}

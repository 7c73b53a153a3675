//! N nodes in this process on 127.0.0.1: parlor nodes (the real session actor: signed
//! envelopes, presence, the room state machine) or baseline nodes (bare iroh-gossip, default settings,
//! raw bytes). Both deliver `Delivery` records with the latency measured against one clock.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use iroh::address_lookup::memory::MemoryLookup;
use iroh::endpoint::{PortmapperConfig, presets};
use iroh::protocol::Router;
use iroh::{Endpoint, RelayMode};
use iroh_gossip::Gossip;
use iroh_gossip::api::Event as GossipEvent;
use n0_future::StreamExt;
use parlor::net::{Broadcast, NetConfig, Node};
use parlor::proto::SecretKey;
use parlor::proto::room::Event;
use parlor::proto::ticket::Ticket;
use parlor::session::{self, Entry, Events, SessionEvent, SessionHandle, SessionSpec};
use tokio::sync::{mpsc, oneshot};

/// Text size of bench messages, like a chat line.
pub const TEXT_BYTES: usize = 200;

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// `from:seq:nanos:` padded to [`TEXT_BYTES`].
pub fn payload(from: usize, seq: u64) -> String {
    let mut text = format!("{from}:{seq}:{}:", base().elapsed().as_nanos());
    text.extend(std::iter::repeat_n(
        'x',
        TEXT_BYTES.saturating_sub(text.len()),
    ));
    text
}

/// `(from, seq, latency)` of a bench message, if `text` is one.
pub fn parse(text: &str) -> Option<(usize, u64, Duration)> {
    let mut parts = text.splitn(4, ':');
    let from = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let sent: u64 = parts.next()?.parse().ok()?;
    let now = base().elapsed().as_nanos() as u64;
    Some((from, seq, Duration::from_nanos(now.saturating_sub(sent))))
}

#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub to: usize,
    pub from: usize,
    pub seq: u64,
    pub latency: Duration,
    pub history: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Parlor(Broadcast),
    Baseline,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Parlor(Broadcast::Tuned) => "parlor",
            Kind::Parlor(Broadcast::LibraryDefault) => "parlor (gossip defaults)",
            Kind::Baseline => "bare iroh-gossip",
        }
    }
}

enum Cmd {
    Say(String),
    Bytes(oneshot::Sender<u64>),
    Stop(oneshot::Sender<Duration>),
}

pub struct Cluster {
    cmds: Vec<mpsc::UnboundedSender<Cmd>>,
    pub deliveries: mpsc::UnboundedReceiver<Delivery>,
    pub lagged: Arc<AtomicU64>,
    /// Per joiner: start to able to send.
    pub ready: Vec<Duration>,
    /// Last joiner: start to knowing every member's name (parlor only).
    pub all_names: Option<Duration>,
}

fn net(broadcast: Broadcast) -> NetConfig {
    NetConfig {
        broadcast,
        ..NetConfig::loopback(SecretKey::generate())
    }
}

impl Cluster {
    /// Form a room of `n` nodes through tickets, joiners one after another as people do.
    pub async fn form(kind: Kind, n: usize) -> anyhow::Result<Self> {
        let (tx, deliveries) = mpsc::unbounded_channel();
        let lagged = Arc::new(AtomicU64::new(0));
        let mut cluster = Self {
            cmds: Vec::new(),
            deliveries,
            lagged: lagged.clone(),
            ready: Vec::new(),
            all_names: None,
        };
        match kind {
            Kind::Parlor(broadcast) => {
                let mut ticket = String::new();
                for i in 0..n {
                    let started = Instant::now();
                    let entry = if i == 0 {
                        Entry::default()
                    } else {
                        let t: Ticket = ticket.parse()?;
                        Entry {
                            topic: Some(t.topic),
                            peers: t.peers,
                            label: None,
                            lan: None,
                            room_name: None,
                        }
                    };
                    let node = Node::spawn(&net(broadcast)).await?;
                    let spec = SessionSpec {
                        name: format!("n{i}"),
                        entry,
                        history: Default::default(),
                        // The bench measures the transport: no member is limited.
                        limits: unlimited(),
                        join_timeout: (i > 0).then_some(Duration::from_secs(15)),
                        private: None,
                    };
                    let (session, events) = session::spawn(&node, None, spec).await?;
                    if i == 0 {
                        ticket = session.ticket().await?;
                    }
                    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
                    let (joined_tx, joined_rx) = oneshot::channel();
                    let (names_tx, names_rx) = oneshot::channel();
                    let expect = if i == n - 1 { n } else { usize::MAX };
                    tokio::spawn(parlor_node(
                        ParlorNode {
                            i,
                            node,
                            session,
                            events,
                            started,
                        },
                        cmd_rx,
                        tx.clone(),
                        lagged.clone(),
                        (joined_tx, names_tx, expect),
                    ));
                    cluster.cmds.push(cmd_tx);
                    if i > 0 {
                        cluster
                            .ready
                            .push(tokio::time::timeout(Duration::from_secs(15), joined_rx).await??);
                    }
                    if i == n - 1 && n > 1 {
                        cluster.all_names =
                            Some(tokio::time::timeout(Duration::from_secs(15), names_rx).await??);
                    }
                }
            }
            Kind::Baseline => {
                let topic = iroh_gossip::TopicId::from_bytes(rand::random());
                let mut first = None;
                for i in 0..n {
                    let started = Instant::now();
                    let lookup = MemoryLookup::new();
                    let endpoint = Endpoint::builder(presets::Minimal)
                        .relay_mode(RelayMode::Disabled)
                        .portmapper_config(PortmapperConfig::Disabled)
                        .address_lookup(lookup.clone())
                        .clear_ip_transports()
                        .bind_addr("127.0.0.1:0")?
                        .bind()
                        .await?;
                    let gossip = Gossip::builder().spawn(endpoint.clone());
                    let router = Router::builder(endpoint.clone())
                        .accept(iroh_gossip::ALPN, gossip.clone())
                        .spawn();
                    let bootstrap = match &first {
                        None => {
                            first = Some(endpoint.addr());
                            vec![]
                        }
                        Some(addr) => {
                            lookup.add_endpoint_info(addr.clone());
                            vec![addr.id]
                        }
                    };
                    let (sender, mut receiver) = gossip.subscribe(topic, bootstrap).await?.split();
                    if i > 0 {
                        tokio::time::timeout(Duration::from_secs(15), receiver.joined()).await??;
                        cluster.ready.push(started.elapsed());
                    }
                    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
                    tokio::spawn(baseline_node(
                        i,
                        gossip,
                        router,
                        sender,
                        receiver,
                        cmd_rx,
                        tx.clone(),
                        lagged.clone(),
                    ));
                    cluster.cmds.push(cmd_tx);
                }
            }
        }
        // Let the overlay settle (neighbour exchanges, presence answers) before measuring.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while cluster.deliveries.try_recv().is_ok() {}
        Ok(cluster)
    }

    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    pub fn say(&self, node: usize, text: String) {
        let _ = self.cmds[node].send(Cmd::Say(text));
    }

    pub async fn wire_bytes(&self) -> u64 {
        let mut total = 0;
        for cmd in &self.cmds {
            let (tx, rx) = oneshot::channel();
            let _ = cmd.send(Cmd::Bytes(tx));
            total += rx.await.unwrap_or(0);
        }
        total
    }

    /// Stop every node but the last, then time how long the last takes to shut down.
    pub async fn shutdown_alone(self) -> Duration {
        let (last, others) = self.cmds.split_last().expect("nodes");
        for cmd in others {
            let (tx, rx) = oneshot::channel();
            let _ = cmd.send(Cmd::Stop(tx));
            let _ = rx.await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (tx, rx) = oneshot::channel();
        let _ = last.send(Cmd::Stop(tx));
        rx.await.unwrap_or_default()
    }
}

type Readiness = (oneshot::Sender<Duration>, oneshot::Sender<Duration>, usize);

/// One parlor member: its node (for byte counts and closing) and its session.
struct ParlorNode {
    i: usize,
    node: Node,
    session: SessionHandle,
    events: Events,
    started: Instant,
}

/// Drives nothing itself: the session's own actor runs the room; this only turns commands
/// into handle calls and events into deliveries, as a front end does.
async fn parlor_node(
    mut member: ParlorNode,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    out: mpsc::UnboundedSender<Delivery>,
    lagged: Arc<AtomicU64>,
    readiness: Readiness,
) {
    let (joined_tx, names_tx, expect) = readiness;
    let (mut joined_tx, mut names_tx) = (Some(joined_tx), Some(names_tx));
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                Some(Cmd::Say(text)) => {
                    let _ = member.session.say(text).await;
                }
                Some(Cmd::Bytes(reply)) => {
                    let _ = reply.send(member.node.gossip_bytes_sent());
                }
                Some(Cmd::Stop(reply)) => {
                    let t = Instant::now();
                    let _ = member.session.leave().await;
                    while member.events.recv().await.is_some() {}
                    member.node.shutdown(Duration::from_millis(250)).await;
                    let _ = reply.send(t.elapsed());
                    return;
                }
                None => return,
            },
            event = member.events.recv() => match event {
                Some(SessionEvent::Room(Event::MessageReceived(line))) => {
                    if let Some((from, seq, latency)) = parse(&line.text) {
                        let _ = out.send(Delivery {
                            to: member.i,
                            from,
                            seq,
                            latency,
                            history: line.history,
                        });
                    }
                }
                Some(SessionEvent::Room(Event::Lagged)) => {
                    lagged.fetch_add(1, Ordering::Relaxed);
                }
                Some(SessionEvent::Ready { .. }) => {
                    if let Some(tx) = joined_tx.take() {
                        let _ = tx.send(member.started.elapsed());
                    }
                }
                Some(SessionEvent::Members(members)) => {
                    if members.len() >= expect
                        && let Some(tx) = names_tx.take()
                    {
                        let _ = tx.send(member.started.elapsed());
                    }
                }
                Some(_) => {}
                None => return,
            },
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn baseline_node(
    i: usize,
    gossip: Gossip,
    router: Router,
    sender: iroh_gossip::api::GossipSender,
    mut receiver: iroh_gossip::api::GossipReceiver,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    out: mpsc::UnboundedSender<Delivery>,
    lagged: Arc<AtomicU64>,
) {
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                Some(Cmd::Say(text)) => {
                    let _ = sender.broadcast(Bytes::from(text)).await;
                }
                Some(Cmd::Bytes(reply)) => {
                    let m = gossip.metrics();
                    let _ = reply.send(m.msgs_data_sent_size.get() + m.msgs_ctrl_sent_size.get());
                }
                Some(Cmd::Stop(reply)) => {
                    let t = Instant::now();
                    drop(receiver);
                    let _ = router.shutdown().await;
                    let _ = reply.send(t.elapsed());
                    return;
                }
                None => return,
            },
            event = receiver.next() => match event {
                Some(Ok(GossipEvent::Received(message))) => {
                    if let Some((from, seq, latency)) = std::str::from_utf8(&message.content).ok().and_then(parse) {
                        let _ = out.send(Delivery { to: i, from, seq, latency, history: false });
                    }
                }
                Some(Ok(GossipEvent::Lagged)) => {
                    lagged.fetch_add(1, Ordering::Relaxed);
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

/// Rate limits no bench sender reaches.
fn unlimited() -> parlor::proto::limits::RateLimits {
    let unlimited = parlor::proto::limits::RateLimit {
        per_second: 1e9,
        burst: u32::MAX,
    };
    parlor::proto::limits::RateLimits {
        messages: unlimited,
        ..Default::default()
    }
}

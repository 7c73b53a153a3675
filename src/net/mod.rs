//! The only code that talks to iroh and iroh-gossip: the endpoint, the gossip protocol, the
//! room's topic subscription and shutdown.
//!
//! Contract: moves bytes and neighbour events between the network and channels. It never
//! interprets message content (that is `proto`) and never touches the terminal or disk.

mod dial;
pub(crate) mod direct;
pub(crate) mod files;
mod guard;
pub mod history;
pub mod keys;
mod keys_node;
pub(crate) mod known;
pub(crate) mod lan;
pub(crate) mod paths;
pub(crate) mod relay;
mod subscribe;
mod ticket_addr;
mod topic;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use iroh::address_lookup::memory::MemoryLookup;
use iroh::endpoint::{PortmapperConfig, presets};
use iroh::protocol::Router;
use iroh::{Endpoint, RelayConfig, RelayMap, RelayMode, RelayUrl, TransportAddr, Watcher};
use iroh_gossip::Gossip;

use crate::proto::backlog::Page;
use crate::proto::wire::MAX_GOSSIP_MESSAGE_SIZE;
use crate::proto::{EndpointAddr, EndpointId, SecretKey, TopicId, UnixMillis};

pub use crate::model::{NetReport, PathKind, PeerPath};
pub use history::HistoryQuery;
pub use lan::{Lan, Nearby};
pub use topic::{NetEvent, TopicHandle};

/// How long leaving waits for the last messages to reach the neighbours.
pub const LEAVE_LINGER: Duration = Duration::from_millis(225);

/// How gossip disseminates messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Broadcast {
    /// parlor's tuning: lazy links ask for a missing message after 20 ms instead of 80 ms
    /// (see [`parlor_plumtree`]).
    #[default]
    Tuned,
    /// iroh-gossip's defaults (for comparison in benchmarks).
    LibraryDefault,
}

/// Plumtree keeps one spanning tree for all senders and prunes each link a copy arrives twice
/// on. A message that reaches a node only as a lazy `IHave` waits `graft_timeout_1` before the
/// node asks for it. The library's 80 ms is a guess for wide-area overlays; with 20 ms (10 ms
/// for the retry) a room whose tree is still settling, or was torn by many members talking at
/// once, delivers in ~25 ms instead of ~85 ms. Each graft pulls one copy from one peer (the
/// retry another), so the cost is bounded. Measured with everyone sending on a torn tree:
/// 10 nodes, 1.55-1.75x the bytes of a settled tree (the defaults: 2.0x); 30 nodes, 1.4x the
/// defaults' bytes for 2.5x lower p99 (README, Performance).
///
/// Gossip keeps every message it passed on, to answer grafts, for `message_cache_retention`:
/// the library's 30 s held 240 MB in a member relaying a minted keys' flood of 8 MB/s (the
/// sybil benchmark). A graft comes within the graft timeouts plus a round trip; 5 s is
/// plenty, and what a peer still misses it catches up on.
pub fn parlor_plumtree() -> iroh_gossip::proto::PlumtreeConfig {
    iroh_gossip::proto::PlumtreeConfig {
        graft_timeout_1: Duration::from_millis(20),
        graft_timeout_2: Duration::from_millis(10),
        message_cache_retention: MESSAGE_CACHE_RETENTION,
        ..Default::default()
    }
}

/// How long gossip keeps a message it passed on (see [`parlor_plumtree`]).
pub const MESSAGE_CACHE_RETENTION: Duration = Duration::from_secs(5);

/// How the endpoint reaches the world.
#[derive(Debug, Clone)]
pub struct NetConfig {
    pub secret: SecretKey,
    /// Bind exactly this socket; `None` binds all interfaces on a random port (v4 and v6).
    pub bind: Option<SocketAddr>,
    /// No n0 relays, no DNS/pkarr lookup and no port mapping: direct addresses, LAN discovery
    /// and the relays in `relays` only.
    pub offline: bool,
    /// Use these relays instead of n0's.
    pub relays: Vec<RelayUrl>,
    /// A PEM file of extra certificates to trust for https relays.
    pub relay_ca: Option<std::path::PathBuf>,
    /// Find peers (and rooms announced with `--lan`) on the LAN over mDNS.
    pub lan: bool,
    pub broadcast: Broadcast,
    /// Where shared and fetched files are kept (iroh-blobs' store); `None` keeps them in
    /// memory.
    pub blobs_dir: Option<std::path::PathBuf>,
}

impl NetConfig {
    /// Only what a test on loopback may use: 127.0.0.1, no relays, no DNS, no port mapping,
    /// no multicast.
    pub fn loopback(secret: SecretKey) -> Self {
        Self {
            secret,
            bind: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            offline: true,
            relays: Vec::new(),
            relay_ca: None,
            lan: false,
            broadcast: Broadcast::default(),
            blobs_dir: None,
        }
    }
}

/// Our relays as iroh takes them: QUIC address discovery only where TLS makes it possible.
fn relay_map(urls: &[RelayUrl]) -> RelayMap {
    urls.iter()
        .map(|url| {
            let quic = (url.scheme() == "https").then(iroh_relay::RelayQuicConfig::default);
            RelayConfig::new(url.clone(), quic)
        })
        .collect()
}

/// A running endpoint with the gossip and catch-up protocols mounted. Cheap to clone: every
/// session of the process (rooms, conversations) shares one node.
#[derive(Clone)]
pub struct Node {
    endpoint: Endpoint,
    gossip: Gossip,
    router: Router,
    lookup: MemoryLookup,
    history: history::HistoryRoutes,
    /// Which session answers for which private room's key.
    keys: keys::KeyRoutes,
    /// Where incoming direct messages go (the DM actor).
    direct: direct::DirectRoute,
    connections: paths::Connections,
    /// Peers kept off our gossip (flooding a private room's topic).
    guard: guard::Guard,
    /// Keys we know: who may message us, and who gets the history places kept for members.
    known: known::Known,
    /// Our own gossip dials in flight, per peer.
    dialing: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<EndpointId, u8>>>,
    /// LAN discovery, or why it is off.
    lan: Result<Lan, String>,
    files: files::Files,
    /// Our relays as tickets carry them.
    ticket_relays: ticket_addr::TicketRelays,
}

impl Node {
    /// Bind the endpoint and start accepting gossip and catch-up connections. Returns as soon
    /// as the sockets are bound: relays and DNS are contacted in the background, never waited
    /// on.
    pub async fn spawn(config: &NetConfig) -> anyhow::Result<Self> {
        let ticket_relays = ticket_addr::TicketRelays::new(config);
        let lookup = MemoryLookup::new();
        let mut builder = if config.offline {
            Endpoint::builder(presets::Minimal)
                .relay_mode(RelayMode::Disabled)
                .portmapper_config(PortmapperConfig::Disabled)
        } else {
            Endpoint::builder(presets::N0)
        };
        if !config.relays.is_empty() {
            builder = builder.relay_mode(RelayMode::Custom(relay_map(&config.relays)));
        }
        if let Some(path) = &config.relay_ca {
            let roots = relay::read_certificates(path)?;
            builder =
                builder.ca_tls_config(iroh::tls::CaTlsConfig::embedded().with_extra_roots(roots));
        }
        let connections = paths::Connections::default();
        let known = known::Known::default();
        let guard = guard::Guard::new(known.clone());
        builder = builder
            .secret_key(config.secret.clone())
            .address_lookup(lookup.clone())
            .hooks(guard.clone())
            .hooks(connections.clone());
        if let Some(bind) = config.bind {
            builder = builder
                .clear_ip_transports()
                .bind_addr(bind)
                .with_context(|| format!("cannot bind {bind}"))?;
        }
        let endpoint = builder.bind().await.context("cannot start the endpoint")?;
        // Never fatal: a machine with no multicast route still chats through tickets.
        let lan = if config.lan {
            Lan::start(&endpoint)
                .await
                .map_err(|err| format!("LAN discovery is off: {err:#}"))
        } else {
            Err("LAN discovery is off (--no-lan)".to_string())
        };
        if let Err(why) = &lan
            && config.lan
        {
            tracing::warn!("{why}");
        }
        let mut gossip = Gossip::builder().max_message_size(MAX_GOSSIP_MESSAGE_SIZE);
        if config.broadcast == Broadcast::Tuned {
            gossip = gossip.broadcast_config(parlor_plumtree());
        }
        let gossip = gossip.spawn(endpoint.clone());
        let routes = history::HistoryRoutes::default();
        let direct = direct::DirectRoute::default();
        let keys = keys::KeyRoutes::default();
        let (files, blobs) = files::Files::open(config.blobs_dir.as_deref());
        let router = Router::builder(endpoint.clone())
            .accept(iroh_gossip::ALPN, gossip.clone())
            .accept(files::FILES_ALPN, blobs)
            .accept(
                history::HISTORY_ALPN,
                history::HistoryServer::new(routes.clone(), known.clone()),
            )
            .accept(keys::KEYS_ALPN, keys::KeyServer::new(keys.clone()))
            .accept(
                direct::DIRECT_ALPN,
                direct::DirectServer::new(direct.clone(), known.clone()),
            )
            .spawn();
        Ok(Self {
            endpoint,
            gossip,
            router,
            lookup,
            history: routes,
            keys,
            direct,
            connections,
            guard,
            known,
            dialing: Default::default(),
            lan,
            files,
            ticket_relays,
        })
    }

    /// Keys we know (see [`known::Known`]).
    pub fn known(&self) -> &known::Known {
        &self.known
    }

    /// LAN discovery, when it runs.
    pub fn lan(&self) -> Option<&Lan> {
        self.lan.as_ref().ok()
    }

    /// Why LAN discovery does not run.
    pub fn lan_error(&self) -> Option<&str> {
        self.lan.as_ref().err().map(String::as_str)
    }

    /// Announce `room` on the LAN, or stop announcing `topic` (`None`). Returns how many of
    /// our announced rooms did not fit in the record.
    pub fn announce(
        &self,
        topic: TopicId,
        room: Option<crate::proto::lan::LanRoom>,
    ) -> anyhow::Result<usize> {
        match &self.lan {
            Ok(lan) => Ok(lan.announce(topic, room)),
            Err(why) => anyhow::bail!("cannot announce the room on the LAN: {why}"),
        }
    }

    /// Keep `peer` off our gossip for `lasting` (see [`guard`]): its gossip connections are
    /// closed now and refused both ways until then. `true` when it was not blocked already.
    pub fn block_gossip(&self, peer: EndpointId, lasting: Duration) -> bool {
        let new = self.guard.block(peer, lasting);
        for conn in self.connections.live(&peer) {
            self.guard.cut(&conn);
        }
        new
    }

    /// The endpoint, for tests that talk to a node as a stranger would.
    #[cfg(test)]
    pub fn endpoint_for_tests(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Whether `peer`'s gossip is blocked now.
    pub fn is_gossip_blocked(&self, peer: &EndpointId) -> bool {
        self.guard.is_blocked(peer)
    }

    /// Keep `peer`'s current addresses in our own address book, so that it can be dialed
    /// again after every connection to it is gone (a long outage) and iroh forgot it.
    pub async fn remember(&self, peer: EndpointId) {
        if let Some(addr) = self.peer_addr(peer).await {
            self.lookup.add_endpoint_info(addr);
        }
    }

    /// What the endpoint knows of `peer`'s addresses (direct and relay), if anything.
    async fn peer_addr(&self, peer: EndpointId) -> Option<EndpointAddr> {
        let info = self.endpoint.remote_info(peer).await?;
        let addrs = info
            .into_addrs()
            .map(|a| a.into_addr())
            .filter(|a| matches!(a, TransportAddr::Ip(_) | TransportAddr::Relay(_)));
        Some(EndpointAddr::from_parts(peer, addrs)).filter(|addr| !addr.is_empty())
    }

    /// Whether any network is there to reach peers through: an address other than loopback,
    /// or a relay. (On a loopback-only bind, loopback is the network.)
    pub fn network_up(&self) -> bool {
        let addr = self.endpoint.addr();
        let loopback_only = self
            .endpoint
            .bound_sockets()
            .iter()
            .all(|s| s.ip().is_loopback());
        addr.relay_urls().next().is_some()
            || addr
                .ip_addrs()
                .any(|ip| loopback_only || !ip.ip().is_loopback())
    }

    /// Our address, waking whenever it changes (new interface, home relay found).
    pub fn watch_addr(&self) -> impl Watcher<Value = EndpointAddr> + use<> {
        self.endpoint.watch_addr()
    }

    /// What `/net` shows: our addresses and home relay, and how each of `peers` is reached.
    pub fn report(&self, peers: &[EndpointId]) -> NetReport {
        let addr = self.endpoint.addr();
        let relay = addr.relay_urls().next().cloned();
        let relay_latency = relay.as_ref().and_then(|url| {
            let report = self.endpoint.net_report().get()?;
            report
                .relay_latency
                .iter()
                .filter(|(_, u, _)| *u == url)
                .map(|(_, _, latency)| latency)
                .min()
        });
        NetReport {
            id: self.id(),
            addrs: addr.ip_addrs().copied().collect(),
            relay,
            relay_latency,
            lan: self.lan.as_ref().map(|_| ()).map_err(Clone::clone),
            peers: peers
                .iter()
                .map(|peer| self.connections.path(*peer))
                .collect(),
        }
    }

    /// A future that asks `peer` for `topic`'s envelopes since `since`; it owns what it needs,
    /// so it can run in its own task.
    pub fn fetch_history(
        &self,
        peer: EndpointId,
        topic: TopicId,
        since: UnixMillis,
        limit: usize,
        page: Page,
    ) -> impl std::future::Future<Output = anyhow::Result<Vec<Vec<u8>>>> + Send + use<> {
        let endpoint = self.endpoint.clone();
        async move { history::fetch(&endpoint, peer, topic, since, limit, page).await }
    }

    pub fn id(&self) -> EndpointId {
        self.endpoint.id()
    }

    /// The key every session of this node signs with.
    pub fn secret(&self) -> SecretKey {
        self.endpoint.secret_key().clone()
    }

    /// Gossip bytes sent so far (data and control messages), for benchmarks.
    pub fn gossip_bytes_sent(&self) -> u64 {
        let m = self.gossip.metrics();
        m.msgs_data_sent_size.get() + m.msgs_ctrl_sent_size.get()
    }

    /// Our current address: bound sockets, plus the home relay once it is known.
    pub fn addr(&self) -> EndpointAddr {
        self.endpoint.addr()
    }

    /// Addresses to put in a ticket: ours first (with relays, waiting for the home relay at
    /// most [`ticket_addr::HOME_RELAY_WAIT`] after start), then what we know of `neighbors`.
    pub async fn ticket_peers(&self, neighbors: &[EndpointId], max: usize) -> Vec<EndpointAddr> {
        let mut peers = vec![self.ticket_relays.addr(&self.endpoint).await];
        for id in neighbors {
            if peers.len() >= max {
                break;
            }
            if let Some(addr) = self.peer_addr(*id).await {
                peers.push(addr);
            }
        }
        peers
    }

    /// Close the endpoint within `limit`: peers that are already gone never acknowledge the
    /// close and would otherwise hold `Endpoint::close` ~3 s each.
    pub async fn shutdown(self, limit: Duration) {
        match tokio::time::timeout(limit, self.router.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::debug!("router shutdown: {err:#}"),
            Err(_) => tracing::debug!("router shutdown took longer than {limit:?}; dropping it"),
        }
        // The router's shutdown closed the file store if it was open then; one opened since
        // (a fetch under way), or a router that did not finish, is closed here, or its
        // database stays locked. Closed twice is harmless.
        self.files.shutdown(files::STORE_CLOSE_LIMIT).await;
    }
}

/// Leave a topic: when there were neighbours, stay subscribed for [`LEAVE_LINGER`] first.
/// Gossip sends a message eagerly along a tree and only announces it (`IHave`) to the other
/// neighbours, who ask for it (`Graft`) a little later. Unsubscribing at once would lose the
/// last lines and the `Leave` for them; lingering is what makes `echo done | parlor join ..`
/// deliver.
pub async fn leave_topic(topic: TopicHandle, had_neighbors: bool) {
    if had_neighbors {
        tokio::time::sleep(LEAVE_LINGER).await;
    }
    drop(topic);
}

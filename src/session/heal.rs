//! The actor's side of self-healing: reporting connectivity, dialing the room's known peers,
//! and reacting to address changes. The policy (who, when) is [`super::reconnect`].

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::SessionEvent;
use super::actor::Actor;
use super::reconnect::Reconnect;
use crate::proto::EndpointId;
use crate::proto::room::{Event, LeaveReason};
use crate::proto::ticket::MAX_TICKET_PEERS;
use crate::store::StoreHandle;

/// How often the actor looks at the clocks for a jump (sleep, a frozen process).
pub(super) const WATCHDOG_EVERY: Duration = Duration::from_secs(5);
/// A watchdog tick this late means we were away: the machine slept (the wall clock moved on,
/// the monotonic one did not) or the process was frozen (both moved on).
const RESUME_GAP: Duration = Duration::from_secs(15);
/// A watchdog tick this much later than due means we were frozen or starved.
const FROZEN_FOR: Duration = Duration::from_secs(2);

/// Staying connected: the room's known peers and when to dial them (the policy,
/// [`Reconnect`]), our dials' results, the LAN's announcers, the watchdog's clocks, and when
/// the peers were last written down.
pub(super) struct Heal {
    reconnect: Reconnect,
    /// When the room's peers were last written to the store.
    peers_saved: Option<Instant>,
    /// The clocks at the last watchdog tick.
    clocks: Clocks,
    /// Peers our own dials reached, to send a `Join` to (see `Node::dial`).
    dialed_tx: mpsc::UnboundedSender<EndpointId>,
    dialed: mpsc::UnboundedReceiver<EndpointId>,
    /// LAN announcers of the room already seen (a new one is dialed at once when alone).
    lan_seen: Vec<EndpointId>,
}

impl Heal {
    /// `known_peers`: from the ticket or the store.
    pub(super) fn new(known_peers: Vec<EndpointId>) -> Self {
        let (dialed_tx, dialed) = mpsc::unbounded_channel();
        Self {
            reconnect: Reconnect::new(known_peers),
            peers_saved: None,
            clocks: Clocks::now(),
            dialed_tx,
            dialed,
            lan_seen: Vec::new(),
        }
    }

    /// When to dial next.
    pub(super) fn next_dial(&self) -> Option<Instant> {
        self.reconnect.next()
    }

    /// The next peer one of our dials reached (cancel-safe).
    pub(super) async fn next_dialed(&mut self) -> Option<EndpointId> {
        self.dialed.recv().await
    }

    /// A room event: members are peers to know, one that said goodbye is not dialed again.
    pub(super) fn heard(&mut self, event: &Event) {
        match event {
            Event::MemberJoined(member) => self.reconnect.know_member(member.id),
            Event::MemberLeft {
                member,
                reason: LeaveReason::Left,
            } => self.reconnect.forget(&member.id),
            _ => {}
        }
    }
}

/// The clocks at the last watchdog tick.
#[derive(Debug, Clone, Copy)]
struct Clocks {
    wall: std::time::SystemTime,
    mono: Instant,
}

impl Clocks {
    fn now() -> Self {
        Self {
            wall: std::time::SystemTime::now(),
            mono: Instant::now(),
        }
    }

    /// How long since `self`, by whichever clock says longer.
    fn gap(&self, now: &Clocks) -> Duration {
        let wall = now.wall.duration_since(self.wall).unwrap_or_default();
        wall.max(now.mono.saturating_duration_since(self.mono))
    }
}

/// How often, at most, the room's current peers are written to the store while connected, so
/// that a restart after a crash (not only after leaving) has fresh addresses to dial.
const SAVE_PEERS_EVERY: Duration = Duration::from_secs(60);

impl Actor {
    /// A new neighbour: a peer to know; its addresses kept, since after a long outage iroh
    /// may have forgotten them.
    pub(super) fn neighbour_up(&mut self, peer: EndpointId) {
        self.heal.reconnect.know(peer);
        let node = self.node.clone();
        tokio::spawn(async move { node.remember(peer).await });
    }

    /// A future that writes our current neighbours' addresses (as a ticket would carry them)
    /// to the store as the room's peers; it owns what it needs, to run in a task.
    pub(super) fn remember_peers(
        &self,
        store: StoreHandle,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (node, topic, me) = (self.node.clone(), self.room.topic(), self.room.id());
        let neighbors: Vec<_> = self.room.neighbors().copied().collect();
        async move {
            let mut peers = node.ticket_peers(&neighbors, MAX_TICKET_PEERS + 1).await;
            peers.retain(|p| p.id != me);
            store.spawn_call(move |s| {
                if let Err(err) = s.update_room_peers(topic, &peers) {
                    tracing::warn!("cannot remember peers: {err}");
                }
            });
        }
    }

    /// Write the current peers to the store, in the background, at most every
    /// [`SAVE_PEERS_EVERY`].
    fn save_peers(&mut self) {
        let Some(store) = self.store.clone() else {
            return;
        };
        if self
            .heal
            .peers_saved
            .is_some_and(|at| at.elapsed() < SAVE_PEERS_EVERY)
        {
            return;
        }
        self.heal.peers_saved = Some(Instant::now());
        tokio::spawn(self.remember_peers(store));
    }

    /// Nodes on the LAN announcing this room.
    fn lan_peers(&self) -> Vec<EndpointId> {
        self.node
            .lan()
            .map(|lan| lan.peers(self.room.topic()))
            .unwrap_or_default()
    }

    /// Every [`WATCHDOG_EVERY`]: if the clocks jumped, we were asleep or frozen. Links that
    /// look alive may be dead on the other side (QUIC's timers run on the monotonic clock,
    /// which stops during sleep), and the others have likely timed us out. So: ask every
    /// known peer and neighbour to take us in again (`Join`; a peer that dropped us answers
    /// with a new neighbour link), re-announce, and catch up on everything said meanwhile.
    pub(super) async fn watchdog(&mut self) {
        let now = Clocks::now();
        let gap = self.heal.clocks.gap(&now);
        self.heal.clocks = now;
        // Frozen (or starved) for a few seconds: a private room may have moved to another
        // epoch meanwhile, which nothing else may tell us.
        if gap > WATCHDOG_EVERY + FROZEN_FOR {
            self.poll_soon();
        }
        if gap < RESUME_GAP {
            return;
        }
        tracing::info!("the clock jumped {gap:?} (sleep?): rejoining the room");
        let mut peers: Vec<_> = self.room.neighbors().copied().collect();
        let lan = self.lan_peers();
        for peer in self.heal.reconnect.candidates(&lan, &[self.room.id()]) {
            if !peers.contains(&peer) {
                peers.push(peer);
            }
        }
        self.node.dial(&peers, &self.heal.dialed_tx);
        self.heal
            .reconnect
            .network_changed(self.room.neighbors().count(), Instant::now());
        self.feed(crate::proto::room::Input::Resumed).await;
        // A private room may have moved to an epoch meanwhile: ask for the key now.
        self.sync_now();
    }

    /// The LAN's announcements changed: if someone new announces our room while we are
    /// alone, dial now (other changes on the LAN do not cut the backoff short).
    pub(super) fn lan_changed(&mut self) {
        let Some(lan) = self.node.lan() else {
            return;
        };
        let announcers = lan.peers(self.room.topic());
        let new = announcers.iter().any(|id| !self.heal.lan_seen.contains(id));
        self.heal.lan_seen = announcers;
        if new && !self.room.is_joined() {
            self.heal.reconnect.network_changed(0, Instant::now());
        }
    }

    /// Report the connectivity if it changed, and schedule the next dial.
    pub(super) fn net_changed(&mut self) {
        let neighbours = self.room.neighbors().count();
        if neighbours > 0 {
            self.save_peers();
        }
        let up = self.node.network_up();
        if let Some(state) = self.heal.reconnect.update(neighbours, up, Instant::now())
            && self.ready
        {
            self.outbox.push_now(SessionEvent::Net(state));
        }
    }

    /// Dial the room's known peers: all of them when alone, else those we lost track of.
    pub(super) fn redial(&mut self) {
        let neighbours: Vec<_> = self.room.neighbors().copied().collect();
        let mut skip = neighbours.clone();
        skip.push(self.room.id());
        if !neighbours.is_empty() {
            skip.extend(self.room.members().iter().map(|m| m.id));
        }
        let lan = self.lan_peers();
        let peers = self.heal.reconnect.candidates(&lan, &skip);
        if !peers.is_empty() {
            tracing::debug!("dialing {} known peer(s) of the room", peers.len());
            self.node.dial(&peers, &self.heal.dialed_tx);
        }
        let up = self.node.network_up();
        self.heal
            .reconnect
            .dialed(neighbours.len(), up, Instant::now());
        self.net_changed();
    }

    /// Our address changed: retry at once if alone, and hand out a ticket that carries the
    /// new address (e.g. the home relay, found a few seconds after start).
    pub(super) async fn address_changed(&mut self) {
        self.heal
            .reconnect
            .network_changed(self.room.neighbors().count(), Instant::now());
        self.net_changed();
        let addr = self.node.addr();
        // A private room's invites are issued on request, not on every address change.
        if self.ready && self.private.is_none() && self.ticket_addr.as_ref() != Some(&addr) {
            let ticket = self.ticket().await;
            self.outbox.push_now(SessionEvent::Ticket(ticket));
        }
    }
}

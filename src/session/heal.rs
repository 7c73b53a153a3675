//! The actor's side of self-healing: reporting connectivity, dialing the room's known peers,
//! and reacting to address changes. The policy (who, when) is [`super::reconnect`].

use std::time::Duration;

use tokio::time::Instant;

use super::SessionEvent;
use super::actor::Actor;
use crate::proto::EndpointAddr;
use crate::proto::ticket::MAX_TICKET_PEERS;

/// How often, at most, the room's current peers are written to the store while connected, so
/// that a restart after a crash (not only after leaving) has fresh addresses to dial.
const SAVE_PEERS_EVERY: Duration = Duration::from_secs(60);

impl Actor {
    /// Our current neighbours' addresses, as a ticket would carry them (us excluded).
    pub(super) async fn peers_to_remember(&self) -> Vec<EndpointAddr> {
        let neighbors: Vec<_> = self.room.neighbors().copied().collect();
        let mut peers = self
            .node
            .ticket_peers(&neighbors, MAX_TICKET_PEERS + 1)
            .await;
        peers.retain(|p| p.id != self.room.id());
        peers
    }

    /// Write the current peers to the store, in the background.
    fn save_peers(&mut self) {
        let Some(store) = self.store.clone() else {
            return;
        };
        if self
            .peers_saved
            .is_some_and(|at| at.elapsed() < SAVE_PEERS_EVERY)
        {
            return;
        }
        self.peers_saved = Some(Instant::now());
        let (node, topic, me) = (self.node.clone(), self.room.topic(), self.room.id());
        let neighbors: Vec<_> = self.room.neighbors().copied().collect();
        tokio::spawn(async move {
            let mut peers = node.ticket_peers(&neighbors, MAX_TICKET_PEERS + 1).await;
            peers.retain(|p| p.id != me);
            store.spawn_call(move |s| {
                if let Err(err) = s.update_room_peers(topic, &peers) {
                    tracing::warn!("cannot remember peers: {err}");
                }
            });
        });
    }

    /// Report the connectivity if it changed, and schedule the next dial.
    pub(super) fn net_changed(&mut self) {
        let neighbours = self.room.neighbors().count();
        if neighbours > 0 {
            self.save_peers();
        }
        let up = self.node.network_up();
        if let Some(state) = self.reconnect.update(neighbours, up, Instant::now())
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
        let lan = self
            .node
            .lan()
            .map(|lan| lan.peers(self.room.topic()))
            .unwrap_or_default();
        let peers = self.reconnect.candidates(&lan, &skip);
        if !peers.is_empty() {
            tracing::debug!("dialing {} known peer(s) of the room", peers.len());
            self.net.join_peers(peers.clone());
            self.node.dial(&peers);
        }
        let up = self.node.network_up();
        self.reconnect.dialed(neighbours.len(), up, Instant::now());
        self.net_changed();
    }

    /// Our address changed: retry at once if alone, and hand out a ticket that carries the
    /// new address (e.g. the home relay, found a few seconds after start).
    pub(super) async fn address_changed(&mut self) {
        self.reconnect
            .network_changed(self.room.neighbors().count(), Instant::now());
        self.net_changed();
        let addr = self.node.addr();
        if self.ready && self.ticket_addr.as_ref() != Some(&addr) {
            let ticket = self.ticket().await;
            self.outbox.push_now(SessionEvent::Ticket(ticket));
        }
    }
}

//! One room's gossip subscription, pumped through bounded channels so that the caller never
//! blocks the gossip actor (a slow reader makes the pump drop messages and report `Lagged`:
//! see [`pump`]) and never holds more than the queues.

mod pump;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use iroh_gossip::Gossip;
use iroh_gossip::api::{Event, GossipReceiver, GossipSender, JoinOptions};
use n0_future::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::proto::{EndpointId, TopicId};

/// Messages held by gossip's own per-subscriber queue, drained as fast as the socket delivers.
const SUBSCRIPTION_CAPACITY: usize = 4096;
/// Events waiting for the session; past this the pump drops messages (and says so).
const EVENT_CAPACITY: usize = 4096;
/// Broadcasts and joins waiting for gossip. Remote members can make the room broadcast
/// (answers to `WhoIsThere`), so this is bounded too: past it the session waits, and stops
/// reading the network meanwhile.
const OUTGOING_CAPACITY: usize = 1024;

/// What the network says about the room's topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// A message, and the neighbour that delivered it (its author, or a peer relaying).
    Received(Bytes, EndpointId),
    NeighborUp(EndpointId),
    NeighborDown(EndpointId),
    Lagged,
    /// The subscription ended (the gossip actor stopped); nothing more will arrive.
    Closed(String),
}

enum Outgoing {
    Broadcast(Bytes),
    /// Dial these peers and ask them to take us in (rejoining after losing every neighbour).
    JoinPeers(Vec<EndpointId>),
    /// Answered once everything queued before it was handed to gossip.
    Flush(oneshot::Sender<()>),
}

/// The caller's side of a topic subscription.
pub struct TopicHandle {
    events: mpsc::Receiver<NetEvent>,
    outgoing: mpsc::Sender<Outgoing>,
    tasks: Vec<JoinHandle<()>>,
}

impl TopicHandle {
    pub(super) async fn subscribe(
        gossip: &Gossip,
        topic: TopicId,
        bootstrap: Vec<EndpointId>,
    ) -> anyhow::Result<Self> {
        let options = JoinOptions {
            bootstrap: bootstrap.into_iter().collect(),
            subscription_capacity: SUBSCRIPTION_CAPACITY,
        };
        let id = iroh_gossip::TopicId::from_bytes(*topic.as_bytes());
        let (sender, receiver) = gossip.subscribe_with_opts(id, options).await?.split();
        let (event_tx, events) = mpsc::channel(EVENT_CAPACITY);
        let (outgoing, outgoing_rx) = mpsc::channel(OUTGOING_CAPACITY);
        let tasks = vec![
            tokio::spawn(pump_in(receiver, event_tx)),
            tokio::spawn(pump_out(sender, outgoing_rx)),
        ];
        Ok(Self {
            events,
            outgoing,
            tasks,
        })
    }

    /// The next network event; `None` once the subscription is gone.
    pub async fn next_event(&mut self) -> Option<NetEvent> {
        self.events.recv().await
    }

    /// Queue `bytes` for broadcast to the whole room; waits only while the queue is full
    /// (gossip is slower than the room: the caller slows down with it).
    pub async fn broadcast(&self, bytes: Vec<u8>) {
        let _ = self.outgoing.send(Outgoing::Broadcast(bytes.into())).await;
    }

    /// Ask gossip to dial `peers` and join the topic through them. Never blocks: with the
    /// queue full the request is dropped (the session dials again later); a peer being dialed
    /// already is not dialed twice.
    pub fn join_peers(&self, peers: Vec<EndpointId>) {
        if !peers.is_empty() {
            let _ = self.outgoing.try_send(Outgoing::JoinPeers(peers));
        }
    }

    /// Wait until everything queued so far has been handed to gossip.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.outgoing.send(Outgoing::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

impl Drop for TopicHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn pump_in(receiver: GossipReceiver, events: mpsc::Sender<NetEvent>) {
    let source = receiver.map(|event| match event {
        Ok(Event::Received(message)) => NetEvent::Received(message.content, message.delivered_from),
        Ok(Event::NeighborUp(id)) => NetEvent::NeighborUp(id),
        Ok(Event::NeighborDown(id)) => NetEvent::NeighborDown(id),
        Ok(Event::Lagged) => NetEvent::Lagged,
        Err(err) => NetEvent::Closed(err.to_string()),
    });
    pump::pump(source, events).await;
}

async fn pump_out(sender: GossipSender, mut outgoing: mpsc::Receiver<Outgoing>) {
    while let Some(item) = outgoing.recv().await {
        match item {
            Outgoing::Broadcast(bytes) => {
                if let Err(err) = sender.broadcast(bytes).await {
                    tracing::warn!("broadcast failed: {err:#}");
                }
            }
            Outgoing::JoinPeers(peers) => {
                if let Err(err) = sender.join_peers(peers).await {
                    tracing::warn!("rejoin failed: {err:#}");
                }
            }
            Outgoing::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

//! The network half of a chat session, shared by the headless and terminal front ends: the
//! endpoint, the room's topic and the `Room` state machine, wired so that feeding the room
//! broadcasts whatever it asks for.

use std::time::Duration;

use anyhow::Context;

use crate::net::{NetConfig, NetEvent, Node, TopicHandle};
use crate::proto::room::{Event, Input, Output, Room, RoomConfig};
use crate::proto::ticket::{MAX_TICKET_PEERS, Ticket};
use crate::proto::{EndpointAddr, Now, TopicId};

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

pub struct Session {
    node: Node,
    net: TopicHandle,
    room: Room,
    /// Peers listed in the ticket we joined with (0 when we opened the room).
    pub ticket_peers: usize,
}

impl Session {
    /// Bind the endpoint and subscribe: to a new random topic when `ticket` is `None`, else to
    /// the ticket's topic, dialing its peers in the background. Returns without waiting for
    /// any peer.
    pub async fn start(
        net: &NetConfig,
        name: &str,
        ticket: Option<&Ticket>,
    ) -> anyhow::Result<Self> {
        let node = Node::spawn(net).await?;
        let (topic, peers): (TopicId, Vec<EndpointAddr>) = match ticket {
            None => (TopicId::from_bytes(rand::random()), Vec::new()),
            Some(ticket) => (ticket.topic, ticket.peers.clone()),
        };
        let handle = node.join(topic, &peers).await.context("cannot subscribe")?;
        let room = Room::new(
            net.secret.clone(),
            topic,
            name.to_string(),
            rand::random(),
            RoomConfig::default(),
        );
        Ok(Self {
            node,
            net: handle,
            room,
            ticket_peers: peers.len(),
        })
    }

    pub fn room(&self) -> &Room {
        &self.room
    }

    /// Feed the room, broadcast what it asks for, and return its events.
    pub fn feed(&mut self, input: Input) -> Vec<Event> {
        let mut events = Vec::new();
        for output in self.room.handle(input, Now::system()) {
            match output {
                Output::Broadcast(bytes) => self.net.broadcast(bytes),
                Output::Event(event) => events.push(event),
            }
        }
        events
    }

    /// The next network event as room input; `Err` once the network is gone for good.
    pub async fn next_input(&mut self) -> anyhow::Result<Input> {
        Ok(match self.net.next_event().await {
            Some(NetEvent::Received(bytes)) => Input::Received(bytes.to_vec()),
            Some(NetEvent::NeighborUp(id)) => Input::NeighborUp(id),
            Some(NetEvent::NeighborDown(id)) => Input::NeighborDown(id),
            Some(NetEvent::Lagged) => Input::Lagged,
            Some(NetEvent::Closed(reason)) => anyhow::bail!("the network stopped: {reason}"),
            None => anyhow::bail!("the network stopped"),
        })
    }

    /// When the room next needs a `Tick`.
    pub fn next_deadline(&self) -> Option<tokio::time::Instant> {
        self.room
            .next_deadline()
            .map(tokio::time::Instant::from_std)
    }

    /// A fresh ticket: us first, then a few current neighbours, so it outlives any one member.
    pub async fn ticket(&self) -> String {
        let neighbors: Vec<_> = self.room.neighbors().copied().collect();
        let peers = self.node.ticket_peers(&neighbors, MAX_TICKET_PEERS).await;
        Ticket::new(self.room.topic(), peers).to_string()
    }

    /// Say goodbye, give the network a moment to carry it, and close, within ~1.5 s.
    pub async fn leave(mut self) {
        let had_neighbors = self.room.is_joined();
        self.feed(Input::Leave);
        let _ = tokio::time::timeout(LEAVE_FLUSH, self.net.flush()).await;
        self.node
            .shutdown(self.net, had_neighbors, CLOSE_LIMIT)
            .await;
    }
}

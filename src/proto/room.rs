//! The room state machine: `Room::handle(input, now) -> outputs`.
//!
//! It owns membership (the presence handshake, renames, leaves and expiry), message signing and
//! verification, replay protection and the queue of lines typed before the node has joined. It
//! performs no IO: the caller feeds it gossip events and the clock, broadcasts what it returns,
//! and calls it again at [`Room::next_deadline`].

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::members::{MemberInfo, Members, NameChange, PresenceTiming};
use super::names::clean_name;
use super::seen::SeenIds;
use super::wire::{self, MAX_ENVELOPE_SIZE, MessageBody, Payload};
use super::{EndpointId, MessageId, Now, SecretKey, TopicId, UnixMillis};

#[derive(Debug, Clone)]
pub struct RoomConfig {
    pub timing: PresenceTiming,
    /// Lines kept while not joined; more are refused.
    pub max_queue: usize,
    /// Envelope ids remembered to drop replays.
    pub replay_memory: usize,
    /// A member answers one peer's `WhoIsThere` at most this often.
    pub answer_interval: Duration,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            timing: PresenceTiming::default(),
            max_queue: 1000,
            replay_memory: 100_000,
            answer_interval: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Input {
    /// Bytes that arrived on the room's gossip topic.
    Received(Vec<u8>),
    /// A direct gossip neighbour connected; the first one means we have joined.
    NeighborUp(EndpointId),
    NeighborDown(EndpointId),
    /// The gossip layer dropped messages for us.
    Lagged,
    /// The user typed a chat line.
    Say(String),
    /// The user typed `/me ACTION`.
    Act(String),
    /// The user changed their name.
    SetName(String),
    /// The user is leaving: announce it.
    Leave,
    /// Time passed: heartbeats and expiry.
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A sealed envelope to broadcast on the topic.
    Broadcast(Vec<u8>),
    Event(Event),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    pub id: MessageId,
    pub author: MemberInfo,
    pub text: String,
    /// An IRC-style action (`/me waves`).
    pub action: bool,
    pub sent: UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// The member said goodbye.
    Left,
    /// The member went silent past its deadline.
    TimedOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    MessageReceived(ChatLine),
    /// Our own line was handed to the network.
    MessageSent(ChatLine),
    MemberJoined(MemberInfo),
    MemberLeft {
        member: MemberInfo,
        reason: LeaveReason,
    },
    /// `member` carries the new name; for our own rename, `member.id` is ours.
    MemberRenamed {
        member: MemberInfo,
        old: String,
    },
    /// The number of direct neighbours changed; zero means waiting for peers.
    NeighborsChanged(usize),
    Lagged,
    Refused(Refusal),
}

/// Why a user's action was not carried out. Each renders as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("message too long: {text_bytes} bytes, the limit is about {max_text_bytes}")]
    TooLong {
        text_bytes: usize,
        max_text_bytes: usize,
    },
    #[error("not connected yet and {0} messages are already waiting; try again once a peer joins")]
    QueueFull(usize),
    #[error("that name is empty once control characters, '#' and spaces are removed")]
    InvalidName,
}

/// Counters of what arrived, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomStats {
    pub accepted: u64,
    pub rejected: BTreeMap<&'static str, u64>,
}

pub struct Room {
    secret: SecretKey,
    me: EndpointId,
    topic: TopicId,
    config: RoomConfig,
    members: Members,
    neighbors: BTreeSet<EndpointId>,
    seen: SeenIds,
    queue: VecDeque<(Vec<u8>, ChatLine)>,
    answered: HashMap<EndpointId, Instant>,
    next_heartbeat: Option<Instant>,
    nonce_state: u64,
    stats: RoomStats,
}

impl Room {
    /// `name` must already be clean (see [`clean_name`]); `seed` feeds the envelope nonces.
    pub fn new(
        secret: SecretKey,
        topic: TopicId,
        name: String,
        seed: u64,
        config: RoomConfig,
    ) -> Self {
        let me = secret.public();
        Self {
            members: Members::new(me, name),
            seen: SeenIds::new(config.replay_memory),
            secret,
            me,
            topic,
            config,
            neighbors: BTreeSet::new(),
            queue: VecDeque::new(),
            answered: HashMap::new(),
            next_heartbeat: None,
            nonce_state: seed,
            stats: RoomStats::default(),
        }
    }

    pub fn id(&self) -> EndpointId {
        self.me
    }

    pub fn topic(&self) -> TopicId {
        self.topic
    }

    pub fn me(&self) -> MemberInfo {
        self.members.info_or_stranger(&self.me)
    }

    pub fn my_name(&self) -> &str {
        self.members.my_name()
    }

    /// Everyone announced, me included, sorted by display name.
    pub fn members(&self) -> Vec<MemberInfo> {
        self.members.list()
    }

    pub fn neighbors(&self) -> impl Iterator<Item = &EndpointId> {
        self.neighbors.iter()
    }

    /// Whether broadcasts can reach anyone: at least one direct neighbour.
    pub fn is_joined(&self) -> bool {
        !self.neighbors.is_empty()
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    pub fn stats(&self) -> &RoomStats {
        &self.stats
    }

    /// When to feed [`Input::Tick`] next.
    pub fn next_deadline(&self) -> Option<Instant> {
        let heartbeat = self.next_heartbeat.filter(|_| self.is_joined());
        let expiry = self.members.next_deadline(&self.config.timing);
        [heartbeat, expiry].into_iter().flatten().min()
    }

    pub fn handle(&mut self, input: Input, now: Now) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Received(bytes) => self.on_received(&bytes, now, &mut out),
            Input::NeighborUp(id) => self.on_neighbor_up(id, now, &mut out),
            Input::NeighborDown(id) => {
                if self.neighbors.remove(&id) {
                    self.members.link_lost(&id);
                    out.push(Output::Event(Event::NeighborsChanged(self.neighbors.len())));
                }
            }
            Input::Lagged => out.push(Output::Event(Event::Lagged)),
            Input::Say(text) => self.say(text, false, now, &mut out),
            Input::Act(text) => self.say(text, true, now, &mut out),
            Input::SetName(name) => self.set_name(&name, now, &mut out),
            Input::Leave => {
                if self.is_joined() {
                    self.send(MessageBody::Leave { from: self.me }, now, &mut out);
                }
            }
            Input::Tick => self.on_tick(now, &mut out),
        }
        out
    }

    fn next_nonce(&mut self) -> u64 {
        // splitmix64: cheap, and uniqueness per sender is all a nonce needs here.
        self.nonce_state = self.nonce_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.nonce_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn seal(&mut self, body: MessageBody, now: Now) -> Result<Vec<u8>, wire::TooLarge> {
        let payload = Payload {
            nonce: self.next_nonce(),
            sent: now.wall.0,
            body,
        };
        wire::seal(&self.secret, &self.topic, &payload)
    }

    /// Seal and broadcast a control message; dropped while not joined, since joining resends
    /// the presence handshake anyway.
    fn send(&mut self, body: MessageBody, now: Now, out: &mut Vec<Output>) {
        if !self.is_joined() {
            return;
        }
        // Control bodies are small and names are capped: they always fit.
        if let Ok(bytes) = self.seal(body, now) {
            out.push(Output::Broadcast(bytes));
        }
    }

    fn announce(&mut self, now: Now, out: &mut Vec<Output>) {
        let name = self.members.my_name().to_string();
        self.send(
            MessageBody::AboutMe {
                from: self.me,
                name,
            },
            now,
            out,
        );
        self.next_heartbeat = Some(now.at + self.config.timing.heartbeat);
    }

    fn say(&mut self, text: String, action: bool, now: Now, out: &mut Vec<Output>) {
        if text.trim().is_empty() {
            return;
        }
        if !self.is_joined() && self.queue.len() >= self.config.max_queue {
            out.push(Output::Event(Event::Refused(Refusal::QueueFull(
                self.queue.len(),
            ))));
            return;
        }
        let text_bytes = text.len();
        let body = MessageBody::Message {
            from: self.me,
            text: text.clone(),
            action,
        };
        let bytes = match self.seal(body, now) {
            Ok(bytes) => bytes,
            Err(too_large) => {
                let overhead = too_large.size.saturating_sub(text_bytes);
                let max_text_bytes = MAX_ENVELOPE_SIZE.saturating_sub(overhead);
                let refusal = Refusal::TooLong {
                    text_bytes,
                    max_text_bytes,
                };
                out.push(Output::Event(Event::Refused(refusal)));
                return;
            }
        };
        let line = ChatLine {
            id: MessageId::of(&bytes),
            author: self.me(),
            text,
            action,
            sent: now.wall,
        };
        // Our own envelope may come back through a misbehaving peer: treat that as a replay.
        self.seen.insert(line.id);
        if self.is_joined() {
            out.push(Output::Broadcast(bytes));
            out.push(Output::Event(Event::MessageSent(line)));
        } else {
            self.queue.push_back((bytes, line));
        }
    }

    fn set_name(&mut self, raw: &str, now: Now, out: &mut Vec<Output>) {
        let Some(name) = clean_name(raw) else {
            out.push(Output::Event(Event::Refused(Refusal::InvalidName)));
            return;
        };
        if name == self.members.my_name() {
            return;
        }
        let old = self.members.set_my_name(name);
        out.push(Output::Event(Event::MemberRenamed {
            member: self.me(),
            old,
        }));
        self.announce(now, out);
    }

    fn on_neighbor_up(&mut self, id: EndpointId, now: Now, out: &mut Vec<Output>) {
        let was_joined = self.is_joined();
        if !self.neighbors.insert(id) {
            return;
        }
        if self.members.is_named(&id) {
            self.members.heard_from(id, now.at);
        }
        out.push(Output::Event(Event::NeighborsChanged(self.neighbors.len())));
        if was_joined {
            return;
        }
        // Joined (or rejoined after losing every link): introduce ourselves, ask who is here,
        // then send what was typed meanwhile.
        self.announce(now, out);
        self.send(MessageBody::WhoIsThere { from: self.me }, now, out);
        for (bytes, line) in std::mem::take(&mut self.queue) {
            out.push(Output::Broadcast(bytes));
            out.push(Output::Event(Event::MessageSent(line)));
        }
    }

    fn on_tick(&mut self, now: Now, out: &mut Vec<Output>) {
        if self.is_joined() && self.next_heartbeat.is_some_and(|t| t <= now.at) {
            self.announce(now, out);
        }
        for member in self.members.expire(now.at, &self.config.timing) {
            out.push(Output::Event(Event::MemberLeft {
                member,
                reason: LeaveReason::TimedOut,
            }));
        }
        let interval = self.config.answer_interval;
        self.answered.retain(|_, at| now.at < *at + interval);
    }

    fn reject(&mut self, rejection: &wire::Rejection) {
        tracing::debug!(kind = rejection.kind(), "dropped envelope: {rejection}");
        *self.stats.rejected.entry(rejection.kind()).or_default() += 1;
    }

    fn on_received(&mut self, bytes: &[u8], now: Now, out: &mut Vec<Output>) {
        let verified = match wire::open(bytes, &self.topic, now.wall) {
            Ok(verified) => verified,
            Err(rejection) => return self.reject(&rejection),
        };
        if !self.seen.insert(verified.id) {
            return self.reject(&wire::Rejection::Replay);
        }
        self.stats.accepted += 1;
        let author = verified.author;
        self.members.heard_from(author, now.at);
        match verified.body {
            MessageBody::WhoIsThere { .. } => self.answer(author, now, out),
            MessageBody::AboutMe { name, .. } => {
                let name = clean_name(&name).unwrap_or_else(|| author.fmt_short().to_string());
                let event = match self.members.set_name(author, name, now.at) {
                    NameChange::Joined => self.members.info(&author).map(Event::MemberJoined),
                    NameChange::Renamed { old } => self
                        .members
                        .info(&author)
                        .map(|member| Event::MemberRenamed { member, old }),
                    NameChange::Unchanged => None,
                };
                out.extend(event.map(Output::Event));
            }
            MessageBody::Message { text, action, .. } => {
                let line = ChatLine {
                    id: verified.id,
                    author: self.members.info_or_stranger(&author),
                    text,
                    action,
                    sent: verified.sent,
                };
                out.push(Output::Event(Event::MessageReceived(line)));
            }
            MessageBody::Leave { .. } => {
                if let Some(member) = self.members.remove(&author) {
                    out.push(Output::Event(Event::MemberLeft {
                        member,
                        reason: LeaveReason::Left,
                    }));
                }
            }
        }
    }

    /// One `AboutMe` per asking newcomer, not one per question: a peer that repeats
    /// `WhoIsThere` within `answer_interval` gets no second answer.
    fn answer(&mut self, asker: EndpointId, now: Now, out: &mut Vec<Output>) {
        if asker == self.me || self.answered.contains_key(&asker) {
            return;
        }
        self.answered.insert(asker, now.at);
        let name = self.members.my_name().to_string();
        self.send(
            MessageBody::AboutMe {
                from: self.me,
                name,
            },
            now,
            out,
        );
    }
}

#[cfg(test)]
#[path = "room_tests.rs"]
mod tests;

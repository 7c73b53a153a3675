//! The room state machine: `Room::handle(input, now) -> outputs`.
//!
//! It owns membership (the presence handshake, renames, leaves and expiry), message signing and
//! verification, replay protection, the queue of lines typed before the node has joined, and
//! the backlog of recent envelopes it can serve to late joiners. It performs no IO: the caller
//! feeds it gossip events, history answers and the clock; broadcasts, stores and fetches what
//! it returns; and calls it again at [`Room::next_deadline`].

mod ignore;
mod receive;
mod send;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

pub use super::backlog::Page;
use super::backlog::{Backlog, Envelope, HistoryWindow};
use super::limits::{Bucket, Limiter, RateLimits};
use super::members::{MemberInfo, Members, PresenceTiming};
use super::seen::SeenIds;
use super::wire;
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
    /// Answers to a `WhoIsThere` go out at a point of this window fixed per (member, asker),
    /// not all at once: see [`Room::answer_due`].
    pub answer_spread: Duration,
    /// How much history is kept, served and asked for.
    pub history: HistoryWindow,
    /// What one author may send, per kind, and how often we answer newcomers.
    pub limits: RateLimits,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            timing: PresenceTiming::default(),
            max_queue: 1000,
            replay_memory: 100_000,
            answer_interval: Duration::from_secs(5),
            answer_spread: Duration::from_millis(50),
            history: HistoryWindow::default(),
            limits: RateLimits::default(),
        }
    }
}

/// How far before our newest message a catch-up request starts: authors' clocks differ.
const CATCH_UP_OVERLAP_MS: u64 = 2 * 60 * 1000;

#[derive(Debug)]
pub enum Input {
    /// Bytes that arrived on the room's gossip topic.
    Received(Vec<u8>),
    /// Envelopes from a catch-up answer or from disk: verified one by one, never trusted.
    History(Vec<Vec<u8>>),
    /// The same, already checked on another thread ([`wire::check_batch`]).
    CheckedHistory(wire::CheckedBatch),
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
    /// The clock jumped: the machine slept or the process was frozen. Links that look alive
    /// may be dead and others have likely timed us out: announce ourselves, ask who is here,
    /// and catch up on everything said meanwhile.
    Resumed,
    /// `/ignore WHO` (`ignore: true`) or `/unignore WHO`: hide or show again a key's messages
    /// and presence in this room. `who` is a shown name (`alice#1a2b`), a name that only one
    /// key uses, or a key's hex prefix.
    Ignore {
        who: String,
        ignore: bool,
    },
    /// `/ignored`: answered with [`Event::IgnoredList`].
    ListIgnored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A sealed envelope to broadcast on the topic.
    Broadcast(Vec<u8>),
    /// Something to keep on disk; comes before the event that shows it.
    Persist(Record),
    /// Ask members for the messages sent since `since` (over the direct history protocol):
    /// the newest (joining) or, after `Lagged`, all of them from the oldest on, page by page.
    RequestHistory {
        since: UnixMillis,
        page: Page,
    },
    Event(Event),
}

/// What is worth keeping of the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Message(ChatLine),
    /// A member's name, with the signed `AboutMe` that claims it.
    Name {
        id: EndpointId,
        name: String,
        sent: UnixMillis,
        envelope: Envelope,
    },
    /// The first key seen with a name in this room owns it (`key` is [`super::names::name_key`]).
    Pin {
        key: String,
        id: EndpointId,
    },
    /// The user ignores (or no longer ignores) a key in this room.
    Ignore {
        id: EndpointId,
        name: String,
        ignored: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    pub id: MessageId,
    pub author: MemberInfo,
    pub text: String,
    /// An IRC-style action (`/me waves`).
    pub action: bool,
    pub sent: UnixMillis,
    /// Caught up from history rather than received live.
    pub history: bool,
    /// The signed envelope, as sent or received.
    pub envelope: Envelope,
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
    /// `member` sent more than the rate limits allow: `dropped` of its messages were not
    /// shown since the last report (at most one report a minute per sender).
    Flooded {
        member: MemberInfo,
        dropped: u64,
    },
    /// `member` (shown with a fingerprint) claims a name that `owner`, seen first in this
    /// room, owns.
    NameClash {
        member: MemberInfo,
        owner: MemberInfo,
        /// Our own new name is the one that clashes.
        own: bool,
    },
    /// The user's `/ignore` or `/unignore` took effect.
    Ignored {
        member: MemberInfo,
        ignored: bool,
    },
    /// Answer to [`Input::ListIgnored`].
    IgnoredList(Vec<MemberInfo>),
    /// Something the user asked for was not done; `attempt` is what they asked, to give back.
    Refused {
        refusal: Refusal,
        attempt: Attempt,
    },
}

impl Event {
    pub fn refused(refusal: Refusal, attempt: Attempt) -> Self {
        Self::Refused { refusal, attempt }
    }
}

/// A user's action as they asked for it, carried by [`Event::Refused`] so that a front end gives
/// back exactly what was refused (never a guess at which line it was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Say(String),
    Act(String),
    SetName(String),
    Ignore(String),
}

impl Attempt {
    pub fn said(text: String, action: bool) -> Self {
        if action {
            Self::Act(text)
        } else {
            Self::Say(text)
        }
    }
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
    #[error("no member here or remembered matches {0:?}")]
    NoSuchMember(String),
    #[error("{0:?} matches several members; use the name with its #fingerprint")]
    AmbiguousMember(String),
    #[error("you cannot ignore yourself")]
    IgnoreSelf,
}

/// Counters of what arrived, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomStats {
    pub accepted: u64,
    pub history_accepted: u64,
    pub rejected: BTreeMap<&'static str, u64>,
}

pub struct Room {
    secret: SecretKey,
    me: EndpointId,
    topic: TopicId,
    config: RoomConfig,
    members: Members,
    neighbors: BTreeSet<EndpointId>,
    /// Had a neighbour once: a later first neighbour is a return from an outage.
    ever_joined: bool,
    seen: SeenIds,
    limiter: Limiter,
    /// Our answers to `WhoIsThere`, in total.
    answers: Bucket,
    ignored: HashSet<EndpointId>,
    /// How far our history reaches: the newest message held, by its send time but never
    /// later than our clock when it came (a future-dated message must not move a catch-up's
    /// start past what we missed).
    caught_up_to: Option<UnixMillis>,
    verifier: wire::Verifier,
    backlog: Backlog,
    queue: VecDeque<(Vec<u8>, ChatLine)>,
    answered: HashMap<EndpointId, Instant>,
    /// When our answer (`AboutMe`) to the newcomers' `WhoIsThere` goes out. Spread because
    /// gossip keeps one spanning tree for every sender, pruning each link a copy arrives twice
    /// on: answers from everyone at the same instant cross on the links the newcomer just added
    /// and prune too many of them, and a room whose tree fell apart while everyone talks stays
    /// apart (every message then waits for a graft). Answers a few ms apart each settle the
    /// tree, as a lone message does. One answer serves every newcomer that asked meanwhile.
    answer_due: Option<Instant>,
    next_heartbeat: Option<Instant>,
    /// Our name as last handed out for storing.
    persisted_name: Option<String>,
    nonce_state: u64,
    stats: RoomStats,
}

impl Room {
    /// `name` must already be clean (see [`super::names::clean_name`]); `seed` feeds the
    /// envelope nonces.
    pub fn new(
        secret: SecretKey,
        topic: TopicId,
        name: String,
        seed: u64,
        config: RoomConfig,
    ) -> Self {
        let me = secret.public();
        Self {
            members: Members::new(me, name, config.timing),
            seen: SeenIds::new(config.replay_memory),
            limiter: Limiter::new(config.limits),
            answers: Bucket::full(config.limits.answers, Instant::now()),
            ignored: HashSet::new(),
            caught_up_to: None,
            verifier: wire::Verifier::default(),
            backlog: Backlog::new(config.history),
            secret,
            me,
            topic,
            config,
            neighbors: BTreeSet::new(),
            ever_joined: false,
            queue: VecDeque::new(),
            answered: HashMap::new(),
            answer_due: None,
            next_heartbeat: None,
            persisted_name: None,
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

    /// The envelopes to answer a catch-up request with.
    pub fn history_answer(
        &self,
        since: UnixMillis,
        limit: usize,
        page: Page,
        now: UnixMillis,
    ) -> Vec<Envelope> {
        self.backlog.answer(since, limit, page, now)
    }

    /// Keys the room remembers, present or not (bounded: see [`super::MAX_KNOWN_KEYS`]).
    pub fn known_keys(&self) -> usize {
        self.members.known()
    }

    /// Messages held to serve late joiners.
    pub fn history_len(&self) -> usize {
        self.backlog.len()
    }

    pub fn history_window(&self) -> HistoryWindow {
        self.config.history
    }

    /// When to feed [`Input::Tick`] next.
    pub fn next_deadline(&self) -> Option<Instant> {
        let heartbeat = self.next_heartbeat.filter(|_| self.is_joined());
        let expiry = self.members.next_deadline();
        let report = self.limiter.next_deadline();
        [heartbeat, expiry, self.answer_due, report]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn handle(&mut self, input: Input, now: Now) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Received(bytes) => self.on_received(bytes, now, &mut out),
            Input::History(envelopes) => self.on_history(envelopes, now, &mut out),
            Input::CheckedHistory(checked) => self.on_checked_history(checked, now, &mut out),
            Input::NeighborUp(id) => self.on_neighbor_up(id, now, &mut out),
            Input::NeighborDown(id) => {
                if self.neighbors.remove(&id) {
                    self.members.link_lost(&id);
                    out.push(Output::Event(Event::NeighborsChanged(self.neighbors.len())));
                }
            }
            Input::Lagged => {
                out.push(Output::Event(Event::Lagged));
                // Everything from a little before the gap, to the end.
                self.request_history(now, Page::Oldest, &mut out);
            }
            Input::Say(text) => self.say(text, false, now, &mut out),
            Input::Act(text) => self.say(text, true, now, &mut out),
            Input::SetName(name) => self.set_name(&name, now, &mut out),
            Input::Leave => self.leave(now, &mut out),
            Input::Tick => self.on_tick(now, &mut out),
            Input::Resumed => {
                if self.is_joined() {
                    self.announce(now, &mut out);
                    self.send(
                        wire::MessageBody::WhoIsThere { from: self.me },
                        now,
                        &mut out,
                    );
                    self.request_history(now, Page::Oldest, &mut out);
                }
            }
            Input::Ignore { who, ignore } => self.on_ignore(who, ignore, &mut out),
            Input::ListIgnored => {
                let list = self.ignored_members();
                out.push(Output::Event(Event::IgnoredList(list)));
            }
        }
        out
    }

    /// Ask for what was said since a little before the newest message we hold.
    pub(super) fn request_history(&self, now: Now, page: Page, out: &mut Vec<Output>) {
        let since = self.catch_up_since(now.wall);
        out.push(Output::RequestHistory { since, page });
    }

    /// Where a catch-up starts: a little before the newest message held (authors' clocks
    /// differ), never later than our clock said when it came, and never before the history
    /// window.
    pub fn catch_up_since(&self, now: UnixMillis) -> UnixMillis {
        let oldest = self.config.history.oldest(now);
        self.caught_up_to
            .map_or(oldest, |t| {
                UnixMillis(t.0.saturating_sub(CATCH_UP_OVERLAP_MS))
            })
            .max(oldest)
    }

    /// A message sent at `sent` reached us at `now`.
    pub(super) fn note_held(&mut self, sent: UnixMillis, now: UnixMillis) {
        let reach = sent.min(now);
        self.caught_up_to = Some(self.caught_up_to.map_or(reach, |t| t.max(reach)));
    }

    fn on_tick(&mut self, now: Now, out: &mut Vec<Output>) {
        if self.answer_due.is_some_and(|t| t <= now.at) {
            self.answer_due = None;
            self.send_answer(now, out);
        }
        if self.is_joined() && self.next_heartbeat.is_some_and(|t| t <= now.at) {
            self.announce(now, out);
        }
        for member in self.members.expire(now.at) {
            out.push(Output::Event(Event::MemberLeft {
                member,
                reason: LeaveReason::TimedOut,
            }));
        }
        let interval = self.config.answer_interval;
        self.answered.retain(|_, at| now.at < *at + interval);
        for (author, dropped) in self.limiter.due_reports(now.at) {
            let member = self.members.info_or_stranger(&author);
            out.push(Output::Event(Event::Flooded { member, dropped }));
        }
    }
}

#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod presence_tests;
#[cfg(test)]
mod tests;

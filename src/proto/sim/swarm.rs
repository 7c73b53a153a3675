//! A simulated swarm of [`Room`]s with link latency, for presence at scale (rooms of 100 and
//! 1,000 members) with no sockets: the real room state machine, a fake clock, and an event
//! queue.
//!
//! The overlay is what HyParView keeps: each member links to a few others (a newcomer to
//! [`LINKS`] members already there), each link with its own latency. A broadcast reaches every
//! online member along the fastest path from its sender, as plumtree's tree does once settled
//! (each member gets one copy: one delivery). A catch-up or member-list request goes to a
//! random neighbour and its answer comes back after the round trip. Nothing is lost on the way.
//!
//! Counted: broadcasts, deliveries (one envelope handed to one member's room) and envelopes
//! sent directly (member lists, history); timed: when every member knew a newcomer's name,
//! when the newcomer knew every member, when a line reached everyone, and when a vanished
//! member was reported gone by everyone.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use crate::proto::room::{Event, Input, Output, Page, Room, RoomConfig};
use crate::proto::{Now, SecretKey, TopicId, UnixMillis, wire};

/// Links a newcomer makes (HyParView's active view is about this size).
pub const LINKS: usize = 5;
pub(super) const TOPIC: TopicId = TopicId::from_bytes([42; 32]);

/// Member `i`'s key.
pub fn secret(i: usize) -> SecretKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    seed[31] = 0x5a;
    SecretKey::from_bytes(&seed)
}

/// Totals so far; subtract two snapshots for one step's cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub broadcasts: u64,
    pub deliveries: u64,
    /// Envelopes in member lists and history answers, sent to one member each.
    pub direct: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, o: Counts) -> Counts {
        Counts {
            broadcasts: self.broadcasts - o.broadcasts,
            deliveries: self.deliveries - o.deliveries,
            direct: self.direct - o.direct,
        }
    }
}

enum What {
    Deliver {
        to: usize,
        bytes: std::sync::Arc<[u8]>,
    },
    Up {
        a: usize,
        b: usize,
    },
    Serve {
        server: usize,
        asker: usize,
        since: UnixMillis,
        page: Page,
        roster: bool,
    },
    Answer {
        asker: usize,
        input: Input,
    },
    Tick {
        i: usize,
    },
}

struct Scheduled {
    at: Duration,
    seq: u64,
    what: What,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

pub struct Swarm {
    pub rooms: Vec<Room>,
    pub(super) online: Vec<bool>,
    pub(super) links: Vec<Vec<(usize, Duration)>>,
    latency: (Duration, Duration),
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    /// Simulated time since the start.
    pub t: Duration,
    start: Now,
    ticks: Vec<Option<Duration>>,
    pub counts: Counts,
    rng: u64,
    /// What each room reported since the last [`Self::take_seen`].
    seen: Vec<(Duration, usize, Event)>,
    pub(super) checked: HashMap<crate::proto::MessageId, wire::Verified>,
    /// Deliveries of each envelope broadcast.
    delivered: HashMap<crate::proto::MessageId, u64>,
}

impl Swarm {
    /// `n` members, none online yet; link latencies drawn from `latency` (inclusive range).
    pub fn new(n: usize, latency: (Duration, Duration), config: RoomConfig) -> Self {
        let rooms: Vec<Room> = (0..n)
            .map(|i| Room::new(secret(i), TOPIC, format!("m{i}"), i as u64, config.clone()))
            .collect();
        Self {
            rooms,
            online: vec![false; n],
            links: vec![Vec::new(); n],
            latency,
            queue: BinaryHeap::new(),
            seq: 0,
            t: Duration::ZERO,
            start: Now {
                at: Instant::now(),
                wall: UnixMillis(1_750_000_000_000),
            },
            ticks: vec![None; n],
            counts: Counts::default(),
            rng: 0x9e37_79b9_7f4a_7c15 ^ n as u64,
            seen: Vec::new(),
            checked: HashMap::new(),
            delivered: HashMap::new(),
        }
    }

    pub(super) fn random(&mut self, below: u64) -> u64 {
        // xorshift64*: reproducible runs.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) % below.max(1)
    }

    fn draw_latency(&mut self) -> Duration {
        let (lo, hi) = self.latency;
        let span = (hi - lo).as_micros() as u64;
        lo + Duration::from_micros(self.random(span + 1))
    }

    pub fn now(&self) -> Now {
        self.start.after(self.t)
    }

    pub fn online(&self) -> usize {
        self.online.iter().filter(|o| **o).count()
    }

    /// Link `a` and `b` (both ways) with a drawn latency.
    pub(super) fn link(&mut self, a: usize, b: usize) -> Duration {
        let lat = self.draw_latency();
        self.links[a].push((b, lat));
        self.links[b].push((a, lat));
        lat
    }

    /// Member `i` comes online and links to [`LINKS`] random online members.
    pub fn join(&mut self, i: usize) {
        let others: Vec<usize> = (0..self.rooms.len())
            .filter(|&j| self.online[j] && j != i)
            .collect();
        self.online[i] = true;
        for _ in 0..LINKS.min(others.len()) {
            let j = others[self.random(others.len() as u64) as usize];
            if self.links[i].iter().any(|(k, _)| *k == j) {
                continue;
            }
            let lat = self.link(i, j);
            self.push(self.t + lat, What::Up { a: i, b: j });
        }
    }

    /// Member `i` vanishes: its links drop (its neighbours notice at once).
    pub fn crash(&mut self, i: usize) {
        self.online[i] = false;
        let gone = self.rooms[i].id();
        for (j, _) in std::mem::take(&mut self.links[i]) {
            self.links[j].retain(|(k, _)| *k != i);
            if self.online[j] {
                self.input(j, Input::NeighborDown(gone));
            }
        }
    }

    pub fn input(&mut self, i: usize, input: Input) {
        let now = self.now();
        let outputs = self.rooms[i].handle(input, now);
        self.route(i, outputs);
    }

    fn push(&mut self, at: Duration, what: What) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            what,
        }));
    }

    pub(super) fn schedule_tick(&mut self, i: usize) {
        let Some(deadline) = self.rooms[i].next_deadline() else {
            return;
        };
        let at = deadline.saturating_duration_since(self.start.at);
        if self.ticks[i].is_none_or(|t| at < t) {
            self.ticks[i] = Some(at);
            self.push(at.max(self.t), What::Tick { i });
        }
    }

    /// Fastest arrival time from `from` to every online member.
    fn arrivals(&self, from: usize) -> Vec<Option<Duration>> {
        let mut best = vec![None; self.rooms.len()];
        let mut heap = BinaryHeap::new();
        best[from] = Some(Duration::ZERO);
        heap.push(Reverse((Duration::ZERO, from)));
        while let Some(Reverse((d, i))) = heap.pop() {
            if best[i].is_some_and(|b| b < d) {
                continue;
            }
            for &(j, lat) in &self.links[i] {
                let dj = d + lat;
                if self.online[j] && best[j].is_none_or(|b| dj < b) {
                    best[j] = Some(dj);
                    heap.push(Reverse((dj, j)));
                }
            }
        }
        best
    }

    fn neighbour(&mut self, i: usize) -> Option<(usize, Duration)> {
        let online: Vec<(usize, Duration)> = self.links[i]
            .iter()
            .copied()
            .filter(|(j, _)| self.online[*j])
            .collect();
        (!online.is_empty()).then(|| online[self.random(online.len() as u64) as usize])
    }

    fn route(&mut self, i: usize, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Broadcast(bytes) => {
                    self.counts.broadcasts += 1;
                    let bytes: std::sync::Arc<[u8]> = bytes.into();
                    for (j, at) in self.arrivals(i).into_iter().enumerate() {
                        if let Some(at) = at.filter(|_| j != i) {
                            let what = What::Deliver {
                                to: j,
                                bytes: bytes.clone(),
                            };
                            self.push(self.t + at, what);
                        }
                    }
                }
                Output::RequestHistory { since, page } => self.request(i, since, page, false),
                Output::RequestRoster => self.request(i, self.now().wall, Page::Newest, true),
                Output::Persist(_) => {}
                Output::Event(event) => self.seen.push((self.t, i, event)),
            }
        }
        self.schedule_tick(i);
    }

    fn request(&mut self, asker: usize, since: UnixMillis, page: Page, roster: bool) {
        if let Some((server, lat)) = self.neighbour(asker) {
            let what = What::Serve {
                server,
                asker,
                since,
                page,
                roster,
            };
            self.push(self.t + lat, what);
        }
    }

    /// Run events until `until` (simulated time since the start).
    pub fn run_until(&mut self, until: Duration) {
        while let Some(Reverse(next)) = self.queue.peek() {
            if next.at > until {
                break;
            }
            let Some(Reverse(next)) = self.queue.pop() else {
                break;
            };
            self.t = self.t.max(next.at);
            self.step(next.what);
        }
        self.t = self.t.max(until);
    }

    fn step(&mut self, what: What) {
        match what {
            What::Deliver { to, bytes } => {
                if self.online[to] {
                    self.counts.deliveries += 1;
                    let id = crate::proto::MessageId::of(&bytes);
                    *self.delivered.entry(id).or_default() += 1;
                    self.input(to, Input::Received(bytes.to_vec()));
                }
            }
            What::Up { a, b } => {
                if self.online[a] && self.online[b] {
                    let (ida, idb) = (self.rooms[a].id(), self.rooms[b].id());
                    self.input(a, Input::NeighborUp(idb));
                    self.input(b, Input::NeighborUp(ida));
                }
            }
            What::Serve {
                server,
                asker,
                since,
                page,
                roster,
            } => {
                let Some(lat) = self.links[server]
                    .iter()
                    .find(|(j, _)| *j == asker)
                    .map(|(_, l)| *l)
                else {
                    return;
                };
                let now = self.now().wall;
                let room = &self.rooms[server];
                let envelopes = if roster {
                    room.roster(now)
                } else {
                    room.history_answer(since, 1000, page, now)
                };
                self.counts.direct += envelopes.len() as u64;
                let input = if roster {
                    Input::Roster(self.check(envelopes))
                } else {
                    Input::History(envelopes.iter().map(|e| e.to_vec()).collect())
                };
                self.push(self.t + lat, What::Answer { asker, input });
            }
            What::Answer { asker, input } => {
                if self.online[asker] {
                    self.input(asker, input);
                }
            }
            What::Tick { i } => {
                // Stale entries (their deadline was replaced or already served) find none due.
                if self.ticks[i].is_some_and(|t| t <= self.t) {
                    self.ticks[i] = None;
                    if self.online[i] {
                        self.input(i, Input::Tick);
                    }
                }
            }
        }
    }

    /// Events reported since the last call: (time, member, event).
    pub fn take_seen(&mut self) -> Vec<(Duration, usize, Event)> {
        std::mem::take(&mut self.seen)
    }

    /// How many members the envelope `id` was delivered to.
    pub fn deliveries_of(&self, id: &crate::proto::MessageId) -> u64 {
        self.delivered.get(id).copied().unwrap_or(0)
    }
}

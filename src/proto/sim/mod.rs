//! A deterministic in-memory network of [`Room`]s with a fake clock, for scenario tests.
//!
//! Every online room is a neighbour of every other online room, and a broadcast reaches all of
//! them in order: the ideal gossip swarm. Scenarios then check presence and messaging logic
//! without sockets, timers or flakiness. [`swarm`] adds link latency and a sparse overlay, for
//! rooms of thousands.

pub mod measure;
mod preformed;
pub mod swarm;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::UnixMillis as Millis;
use super::room::{Event, Input, Output, Page, Record, Room, RoomConfig};
use super::{Now, SecretKey, TopicId, UnixMillis};

pub struct Sim {
    pub rooms: Vec<Room>,
    online: Vec<bool>,
    events: Vec<Vec<Event>>,
    in_flight: VecDeque<(usize, Vec<u8>)>,
    /// Catch-up requests to answer: (asker, since, page, most messages).
    history_requests: VecDeque<(usize, Millis, Page, usize)>,
    /// What each room asked to keep on disk.
    pub records: Vec<Vec<Record>>,
    now: Now,
    /// Envelopes broadcast so far.
    pub broadcasts: usize,
}

impl Sim {
    /// One room per name; room `i` has the key `[i + 1; 32]`. All start offline.
    pub fn new(names: &[&str]) -> Self {
        let topic = TopicId::from_bytes([42; 32]);
        let rooms = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let secret = SecretKey::from_bytes(&[i as u8 + 1; 32]);
                Room::new(
                    secret,
                    topic,
                    name.to_string(),
                    i as u64,
                    RoomConfig::default(),
                )
            })
            .collect::<Vec<_>>();
        let n = rooms.len();
        Self {
            rooms,
            online: vec![false; n],
            events: vec![Vec::new(); n],
            in_flight: VecDeque::new(),
            history_requests: VecDeque::new(),
            records: vec![Vec::new(); n],
            now: Now {
                at: Instant::now(),
                wall: UnixMillis(1_750_000_000_000),
            },
            broadcasts: 0,
        }
    }

    pub fn now(&self) -> Now {
        self.now
    }

    /// Bring room `i` online: it and every online room become neighbours.
    pub fn connect(&mut self, i: usize) {
        let peers: Vec<usize> = (0..self.rooms.len()).filter(|&j| self.online[j]).collect();
        self.online[i] = true;
        for j in peers {
            let (a, b) = (self.rooms[i].id(), self.rooms[j].id());
            self.input(j, Input::NeighborUp(a));
            self.input(i, Input::NeighborUp(b));
        }
        self.run();
        // Members answer the newcomer within the answer window.
        self.advance(RoomConfig::default().answer_spread);
    }

    /// Room `i` loses the network without a word (crash, cable pulled): links drop both ways.
    pub fn crash(&mut self, i: usize) {
        self.online[i] = false;
        let gone = self.rooms[i].id();
        for j in 0..self.rooms.len() {
            if self.online[j] {
                let peer = self.rooms[j].id();
                self.input(j, Input::NeighborDown(gone));
                self.input(i, Input::NeighborDown(peer));
            }
        }
        self.run();
    }

    /// Feed `input` to room `i` and deliver whatever it broadcasts.
    pub fn input(&mut self, i: usize, input: Input) {
        let outputs = self.rooms[i].handle(input, self.now);
        self.route(i, outputs);
        self.run();
    }

    fn route(&mut self, i: usize, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Broadcast(bytes) => {
                    self.broadcasts += 1;
                    self.in_flight.push_back((i, bytes));
                }
                Output::Event(event) => self.events[i].push(event),
                Output::Persist(record) => self.records[i].push(record),
                Output::RequestHistory { since, page } => {
                    self.history_requests.push_back((i, since, page, 1000))
                }
                Output::RequestRoster => {
                    let now = self.now.wall;
                    self.history_requests.push_back((i, now, Page::Newest, 0))
                }
            }
        }
    }

    /// Deliver everything in flight to every online room but the sender, and answer catch-up
    /// requests from the first other online room.
    pub fn run(&mut self) {
        loop {
            self.deliver();
            let Some((asker, since, page, limit)) = self.history_requests.pop_front() else {
                break;
            };
            let server = (0..self.rooms.len()).find(|&j| j != asker && self.online[j]);
            if let Some(server) = server {
                let room = &self.rooms[server];
                let input = if limit == 0 {
                    let roster = room.roster(self.now.wall);
                    let envelopes = roster.iter().map(|e| e.to_vec()).collect();
                    Input::Roster(super::wire::check_batch(
                        envelopes,
                        &room.topic(),
                        self.now.wall,
                    ))
                } else {
                    let answer = room.history_answer(since, limit, page, self.now.wall);
                    Input::History(answer.iter().map(|e| e.to_vec()).collect())
                };
                let outputs = self.rooms[asker].handle(input, self.now);
                self.route(asker, outputs);
            }
        }
    }

    fn deliver(&mut self) {
        while let Some((from, bytes)) = self.in_flight.pop_front() {
            if !self.online[from] {
                continue;
            }
            for j in 0..self.rooms.len() {
                if j != from && self.online[j] {
                    let outputs = self.rooms[j].handle(Input::Received(bytes.clone()), self.now);
                    self.route(j, outputs);
                }
            }
        }
    }

    /// Move the clock forward in one-second steps, ticking online rooms whose deadline passed.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now.after(d).at;
        while self.now.at < end {
            self.now = self
                .now
                .after(Duration::from_secs(1).min(end - self.now.at));
            for i in 0..self.rooms.len() {
                let due = self.rooms[i]
                    .next_deadline()
                    .is_some_and(|t| t <= self.now.at);
                if self.online[i] && due {
                    let outputs = self.rooms[i].handle(Input::Tick, self.now);
                    self.route(i, outputs);
                }
            }
            self.run();
        }
    }

    /// The events room `i` produced since the last call.
    pub fn take_events(&mut self, i: usize) -> Vec<Event> {
        std::mem::take(&mut self.events[i])
    }
}

//! The room state machine: `Room::handle(input, now) -> outputs`.
//!
//! It owns membership (the presence handshake, renames, leaves and expiry), message signing and
//! verification, replay protection, the queue of lines typed before the node has joined, and
//! the backlog of recent envelopes it can serve to late joiners. It performs no IO: the caller
//! feeds it gossip events, history answers and the clock; broadcasts, stores and fetches what
//! it returns; and calls it again at [`Room::next_deadline`].

mod changes;
mod events;
mod ignore;
mod io;
mod pace;
mod receive;
mod room_name;
mod send;
mod typing;
mod unread;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

pub use super::backlog::Page;
use super::backlog::{Backlog, Envelope, HistoryWindow};
use super::limits::{Bucket, Limiter};
use super::members::{MemberInfo, Members};
use super::seen::SeenIds;
use super::wire::{self, MessageBody};
use super::{EndpointId, Now, SecretKey, TopicId, UnixMillis};
pub use changes::{read_change, short as short_id, write_change};
pub use events::{
    Attempt, ChangeKind, ChatLine, Event, LeaveReason, LineChange, Record, Refusal, RoomStats,
};
pub use io::{Input, Output, RoomConfig};
pub use room_name::{MAX_ROOM_NAME_BYTES, RoomName};
use send::Draft;

/// How far before our newest message a catch-up request starts: authors' clocks differ.
const CATCH_UP_OVERLAP_MS: u64 = 2 * 60 * 1000;
/// About how many members answer a newcomer's `WhoIsThere` (see `Room::answer_draw`).
pub const ANSWERERS: u64 = 3;
/// After a link drops (HyParView replacing neighbours, as when many join at once), broadcasts
/// may have passed us by: ask for the member list again this long after, at most once a
/// second. A member that joined less than [`REANNOUNCE_WITHIN`] ago also announces itself again
/// (once), since its own `AboutMe` may have missed others the same way.
pub const ROSTER_CHECK_AFTER: Duration = Duration::from_millis(500);
pub const REANNOUNCE_WITHIN: Duration = Duration::from_secs(10);
/// Most members' `AboutMe`s a member list carries (and a receiver takes from one).
pub const MAX_ROSTER: usize = 4000;

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
    /// Our lines not sent yet: typed before joining, or beyond our pace (see [`pace`]).
    queue: VecDeque<(Vec<u8>, ChatLine)>,
    /// Our own lines' bucket, a little under what receivers allow ([`pace::own_pace`]).
    pace: Bucket,
    pace_limit: super::limits::RateLimit,
    /// The bytes of our own lines, paced the same way.
    pace_bytes: Bucket,
    /// Envelopes received that an honest neighbour rarely delivers (see [`Room::junk_count`]).
    junk: u64,
    /// When the next waiting line may go out.
    pace_due: Option<Instant>,
    /// How many waiting lines the last [`Event::Queued`] reported.
    reported_queue: usize,
    answered: HashMap<EndpointId, Instant>,
    /// When our answer (`AboutMe`) to the newcomers' `WhoIsThere` goes out. Spread because
    /// gossip keeps one spanning tree for every sender, pruning each link a copy arrives twice
    /// on: answers from everyone at the same instant cross on the links the newcomer just added
    /// and prune too many of them, and a room whose tree fell apart while everyone talks stays
    /// apart (every message then waits for a graft). Answers a few ms apart each settle the
    /// tree, as a lone message does. One answer serves every newcomer that asked meanwhile.
    answer_due: Option<Instant>,
    next_heartbeat: Option<Instant>,
    /// When to ask for the member list again (a link dropped), and when we last did.
    roster_check: Option<Instant>,
    roster_checked: Option<Instant>,
    /// When we last joined (had a first neighbour).
    joined_at: Option<Instant>,
    /// Our name as last handed out for storing.
    persisted_name: Option<String>,
    /// The room's name: the winning signed `RoomInfo` (see [`room_name`]).
    room_name: Option<RoomName>,
    nonce_state: u64,
    stats: RoomStats,
    /// What changes to lines are checked against.
    changes: changes::Changes,
    /// When we last said we are typing.
    typing_said: Option<Instant>,
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
            pace: Bucket::full(pace::own_pace(config.limits.messages), Instant::now()),
            pace_limit: pace::own_pace(config.limits.messages),
            pace_bytes: Bucket::full(pace::own_pace(config.limits.bytes), Instant::now()),
            junk: 0,
            pace_due: None,
            reported_queue: 0,
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
            roster_check: None,
            roster_checked: None,
            joined_at: None,
            persisted_name: None,
            room_name: None,
            nonce_state: seed,
            stats: RoomStats::default(),
            changes: changes::Changes::default(),
            typing_said: None,
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

    /// What the room knows of `id` now (a stranger's id when no name is known).
    pub fn member(&self, id: &EndpointId) -> MemberInfo {
        self.members.info_or_stranger(id)
    }

    /// Everyone announced, me included, sorted by display name; not the ignored.
    pub fn members(&self) -> Vec<MemberInfo> {
        let mut list = self.members.list();
        if !self.ignored.is_empty() {
            list.retain(|m| !self.ignored.contains(&m.id));
        }
        list
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

    /// Whether [`Room::history_answer`] holds every message since `since` we had (see
    /// [`crate::proto::backlog::Backlog::holds_all_since`]).
    pub fn history_held_since(&self, since: UnixMillis) -> bool {
        self.backlog.holds_all_since(since)
    }

    /// The signed `AboutMe`s of the members here (us included) that are recent enough to
    /// count as presence, at most [`MAX_ROSTER`]: a newcomer asks one neighbour for them and
    /// so learns who is here from one answer instead of from everyone.
    pub fn roster(&self, now: UnixMillis) -> Vec<Envelope> {
        let oldest = now.0.saturating_sub(
            self.config
                .timing
                .expiry_for(Some(self.config.timing.max_heartbeat))
                .as_millis() as u64,
        );
        self.members
            .listed_ids()
            .filter(|id| !self.members.is_suspect(id))
            .filter_map(|id| self.backlog.name_of(id))
            .filter(|(sent, _)| sent.0 >= oldest)
            .map(|(_, envelope)| envelope)
            .take(MAX_ROSTER)
            // The room's name rides along: a late joiner learns it from the same answer.
            .chain(self.room_name.as_ref().map(|named| named.envelope.clone()))
            .collect()
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
        [
            heartbeat,
            expiry,
            self.answer_due,
            report,
            self.roster_check,
            self.pace_deadline(),
        ]
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
            Input::Roster(checked) => self.on_roster(checked, now, &mut out),
            Input::NeighborUp(id) => self.on_neighbor_up(id, now, &mut out),
            Input::NeighborDown(id) => {
                if self.neighbors.remove(&id) {
                    self.members.link_lost(&id, now.at);
                    out.push(Output::Event(Event::NeighborsChanged(self.neighbors.len())));
                    if self.is_joined() && self.roster_check.is_none() {
                        let after = now.at + ROSTER_CHECK_AFTER;
                        let spaced = self.roster_checked.map(|t| t + Duration::from_secs(1));
                        self.roster_check = Some(spaced.map_or(after, |t| t.max(after)));
                    }
                }
            }
            Input::Lagged => {
                out.push(Output::Event(Event::Lagged));
                // Everything from a little before the gap, to the end.
                self.request_history(now, Page::Oldest, &mut out);
                // A `Missing` about us may have been in the gap: show that we are here (at the
                // rate answers may go out).
                if self.answer_due.is_none() {
                    self.send_answer(now, &mut out);
                }
            }
            Input::Say(text) => self.say(Draft::line(text, false), now, &mut out),
            Input::Act(text) => self.say(Draft::line(text, true), now, &mut out),
            Input::Reply { to, text } => self.reply(&to, text, now, &mut out),
            Input::React { to, emoji, on } => {
                let kind = ChangeKind::React { emoji, on };
                self.change(&to, kind, String::new(), now, &mut out)
            }
            Input::Edit { to, text } => self.change(&to, ChangeKind::Edit, text, now, &mut out),
            Input::Delete { to } => {
                self.change(&to, ChangeKind::Delete, String::new(), now, &mut out)
            }
            Input::SetAdmins(admins) => self.set_admins(admins),
            Input::Typing => self.typing(now, &mut out),
            Input::ShareFile(file) => match file.check() {
                Ok(()) => {
                    let draft = Draft {
                        file: Some(file.clone()),
                        ..Draft::line(file.name.clone(), false)
                    };
                    self.say(draft, now, &mut out)
                }
                Err(why) => out.push(Output::Event(Event::refused(
                    Refusal::BadFile(why),
                    Attempt::Share(file),
                ))),
            },
            Input::SetName(name) => self.set_name(&name, now, &mut out),
            Input::SetRoomName(name) => self.set_room_name(&name, now, &mut out),
            Input::Leave => self.leave(now, &mut out),
            Input::Tick => self.on_tick(now, &mut out),
            Input::Resumed => {
                if self.is_joined() {
                    self.announce(now, &mut out);
                    self.send(MessageBody::WhoIsThere { from: self.me }, now, &mut out);
                    self.request_history(now, Page::Oldest, &mut out);
                    self.request_roster(&mut out);
                }
            }
            Input::Ignore { who, ignore } => self.on_ignore(who, ignore, &mut out),
            Input::ListIgnored => {
                let list = self.ignored_members();
                out.push(Output::Event(Event::IgnoredList(list)));
            }
        }
        self.report_queue(&mut out);
        if !self.ignored.is_empty() {
            out.retain(|o| !matches!(o, Output::Event(event) if self.hides(event)));
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
        if self.pace_deadline().is_some_and(|t| t <= now.at) {
            self.send_queued(now, out);
        }
        if self.answer_due.is_some_and(|t| t <= now.at) {
            self.answer_due = None;
            self.send_answer(now, out);
        }
        if self.is_joined() && self.next_heartbeat.is_some_and(|t| t <= now.at) {
            self.announce(now, out);
        }
        if self.roster_check.is_some_and(|t| t <= now.at) {
            self.roster_check = None;
            if self.is_joined() {
                self.roster_checked = Some(now.at);
                self.request_roster(out);
                // Once: every announcement is a broadcast to the whole room.
                if self
                    .joined_at
                    .take()
                    .is_some_and(|t| now.at < t + REANNOUNCE_WITHIN)
                {
                    self.announce(now, out);
                }
            }
        }
        let expired = self.members.expire(now.at);
        for member in expired.gone {
            out.push(Output::Event(Event::MemberLeft {
                member,
                reason: LeaveReason::TimedOut,
            }));
        }
        for who in expired.missing {
            let who = who.to_string();
            self.send(MessageBody::Missing { from: self.me, who }, now, out);
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
mod changes_tests;
#[cfg(test)]
mod file_tests;
#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod newcomer_tests;
#[cfg(test)]
mod pace_tests;
#[cfg(test)]
mod presence_tests;
#[cfg(test)]
mod room_name_tests;
#[cfg(test)]
mod scale_tests;
#[cfg(test)]
mod tests;

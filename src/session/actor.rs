//! The one driver of a room: a task that feeds the `Room` everything that happens (network
//! events, commands, catch-up answers, the clock) and carries out what it asks. It never waits
//! on the disk (saves go to the store thread; the events they gate wait in the [`Outbox`]) nor
//! on the front end (events wait in the outbox, bounded by pausing the network input).

use std::time::Duration;

use iroh::Watcher;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};

use super::catch_up::{CatchUpPage, CatchUps};
use super::handle::{Command, Left};
use super::heal::Heal;
use super::outbox::{Outbox, shown_before_saved};
use super::saving::Saving;
use super::sealed::{Sealing, unseal};
use super::{NoPeerAnswered, SessionEvent};
use crate::net::{HistoryQuery, NetEvent, Node, TopicHandle};
use crate::proto::Now;
use crate::proto::room::{Event, Input, Output, Room};
use crate::proto::seal::OP_FRAME;
use crate::store::{Committed, StoreHandle};

/// How long live messages may wait behind the first catch-up, so history prints first.
pub(super) const HOLD_LIVE: Duration = Duration::from_secs(2);
/// How long leaving may wait for the goodbye to be handed to the network.
pub(super) const LEAVE_FLUSH: Duration = Duration::from_millis(300);
/// How long leaving waits for the last saves, so what was shown is on disk.
pub(super) const LEAVE_SAVES: Duration = Duration::from_secs(2);
/// How long leaving waits for the front end to take the last events.
pub(super) const LEAVE_EVENTS: Duration = Duration::from_secs(2);

/// What [`super::spawn`] hands the actor.
pub(super) struct Parts {
    pub node: Node,
    pub net: TopicHandle,
    pub queries: mpsc::Receiver<HistoryQuery>,
    pub room: Room,
    pub store: Option<StoreHandle>,
    pub cmds: mpsc::Receiver<Command>,
    pub events: mpsc::Sender<SessionEvent>,
    pub restored: Vec<Event>,
    pub ticket_peers: usize,
    /// The ticket's name for the room, until a member's signed one arrives.
    pub room_name_hint: Option<String>,
    /// Peers to dial when the room has no neighbour (from the ticket or the store).
    pub known_peers: Vec<crate::proto::EndpointId>,
    /// The room is announced on the LAN (withdrawn on leaving).
    pub announced: bool,
    /// Shown right after `Ready`.
    pub warnings: Vec<String>,
    pub join_timeout: Option<Duration>,
    pub sealing: Option<Sealing>,
    pub private: Option<super::private::Private>,
}

pub(super) struct Actor {
    pub(super) node: Node,
    pub(super) net: TopicHandle,
    pub(super) queries: mpsc::Receiver<HistoryQuery>,
    pub(super) room: Room,
    pub(super) store: Option<StoreHandle>,
    pub(super) events: mpsc::Sender<SessionEvent>,
    pub(super) outbox: Outbox,
    /// When the member list goes to the front end again.
    pub(super) roster: super::roster::Roster,
    /// Our saves and their acknowledgements (see [`super::saving`]).
    pub(super) saving: Saving,
    /// History asked of others and served to them (see [`super::catch_up`]).
    pub(super) catch_up: CatchUps,
    /// Stored history, shown right after `Ready`.
    pub(super) restored: Vec<Event>,
    pub(super) ready: bool,
    pub(super) drain_waiters: Vec<oneshot::Sender<()>>,
    /// Staying connected: known peers, dials, the watchdog (see [`super::heal`]).
    pub(super) heal: Heal,
    pub(super) announced: bool,
    /// Warnings from the start, shown after `Ready`.
    pub(super) warnings: Vec<String>,
    /// Our address as the last ticket handed out carried it.
    pub(super) ticket_addr: Option<crate::proto::EndpointAddr>,
    /// The ticket's name for the room, until a member's signed one arrives.
    pub(super) room_name_hint: Option<String>,
    /// A private room's sealing (see [`super::sealed`]); `None` in a public room.
    pub(super) sealing: Option<Sealing>,
    /// A private room's state and key (see [`super::private`]); `None` in a public room.
    pub(super) private: Option<super::private::Private>,
    /// Envelopes that did not verify, per neighbour (see [`super::invalid`]).
    pub(super) invalid: super::invalid::InvalidCounts,
}

/// What one turn of the loop has to do.
enum Step {
    Command(Command),
    Input(Input),
    History(CatchUpPage),
    Committed(Committed),
    Redial,
    AddressChanged,
    LanChanged,
    Watchdog,
    /// Saves waited long enough (see [`super::saving::SAVE_LINGER`]).
    Save,
    /// Live lines waited long enough behind the first catch-up.
    ReleaseHeld,
    /// A member list held back (see [`super::roster`]) is due.
    Members,
    /// A private room's signed operation, opened.
    Op(Vec<u8>),
    /// A member answered our key request (or failed to).
    KeyFetched(super::private::Fetched),
    /// A peer asks for the room's key (or to join with an invite).
    KeyQuery(crate::net::keys::KeyQuery),
    /// Time to ask a member for the key again.
    FetchKey,
    /// Time to ask a member for the log and key anyway.
    Poll,
    /// A private room dropped what this neighbour delivered (not opened, or from no member).
    Dropped(crate::proto::EndpointId),
    /// An envelope this neighbour delivered, for the room.
    Received(Vec<u8>, crate::proto::EndpointId),
}

/// Why the loop ended.
enum End {
    Leave(oneshot::Sender<Left>),
    /// Every handle is gone: leave quietly.
    Dropped,
    Failed(String),
    /// A private room's state no longer has us.
    Removed(super::private::Removal),
}

pub(super) async fn run(parts: Parts) {
    let mut actor = Actor {
        node: parts.node,
        net: parts.net,
        queries: parts.queries,
        room: parts.room,
        store: parts.store,
        events: parts.events,
        outbox: Outbox::default(),
        roster: Default::default(),
        saving: Saving::new(),
        catch_up: CatchUps::new(),
        restored: parts.restored,
        ready: false,
        drain_waiters: Vec::new(),
        heal: Heal::new(parts.known_peers),
        announced: parts.announced,
        warnings: parts.warnings,
        ticket_addr: None,
        room_name_hint: parts.room_name_hint,
        sealing: parts.sealing,
        private: parts.private,
        invalid: Default::default(),
    };
    let join_deadline = match parts.join_timeout {
        Some(timeout) => Some((Instant::now() + timeout, timeout)),
        None => {
            actor.become_ready().await;
            None
        }
    };
    let mut cmds = parts.cmds;
    let end = actor
        .main_loop(&mut cmds, join_deadline, parts.ticket_peers)
        .await;
    // From here on, commands get `SessionGone`.
    drop(cmds);
    match end {
        End::Leave(reply) => actor.leave(reply).await,
        End::Dropped => actor.leave(oneshot::channel().0).await,
        End::Removed(removal) => actor.removed(removal).await,
        End::Failed(reason) => {
            actor.withdraw();
            actor.flush_saves();
            actor.wait_for_saves().await;
            actor.flush_events().await;
            // Last, and bounded like the rest: a front end that stopped reading gets nothing.
            let failed = actor.events.send(SessionEvent::Failed(reason));
            let _ = tokio::time::timeout(LEAVE_EVENTS, failed).await;
        }
    }
}

impl Actor {
    async fn main_loop(
        &mut self,
        cmds: &mut mpsc::Receiver<Command>,
        join_deadline: Option<(Instant, Duration)>,
        ticket_peers: usize,
    ) -> End {
        let far = Instant::now() + Duration::from_secs(24 * 3600);
        let mut addr = self.node.watch_addr();
        let mut lan = self.node.lan().map(|lan| lan.subscribe());
        let mut watchdog = tokio::time::interval(super::heal::WATCHDOG_EVERY);
        watchdog.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.net_changed();
        loop {
            if let Some(removal) = self.private.as_mut().and_then(|p| p.removed.take()) {
                return End::Removed(removal);
            }
            self.hand_over_ready();
            let fetch_at = self.private.as_ref().and_then(|p| p.fetch_at);
            let poll_at = self.private.as_ref().map(|p| p.poll.at);
            let saves_due = self.saves_due();
            let redial = self.heal.next_dial();
            let tick = self.room.next_deadline().map(Instant::from_std);
            let hold = self.outbox.held_until();
            let roster = self.roster.due().map(Instant::from_std);
            let joining = join_deadline.filter(|_| !self.ready);
            let step = tokio::select! {
                command = cmds.recv() => match command {
                    Some(Command::Leave(reply)) => return End::Leave(reply),
                    Some(command) => Step::Command(command),
                    None => return End::Dropped,
                },
                event = self.net.next_event(), if !self.outbox.is_full() => match event {
                    // Opened before anything parses it; what does not open is dropped.
                    Some(NetEvent::Received(bytes, from)) => match unseal(&self.sealing, &bytes) {
                        Some(op) if self.private.is_some() && op.first() == Some(&OP_FRAME) => {
                            let mut op = op;
                            op.remove(0);
                            Step::Op(op)
                        }
                        // A private room hears its members only (a leaked key is no way in),
                        // and keeps a non-member that keeps sending off its gossip.
                        Some(envelope) if !self.sent_by_member(&envelope) => Step::Dropped(from),
                        Some(envelope) => Step::Received(envelope, from),
                        None => Step::Dropped(from),
                    },
                    Some(NetEvent::NeighborUp(id)) => Step::Input(Input::NeighborUp(id)),
                    Some(NetEvent::NeighborDown(id)) => Step::Input(Input::NeighborDown(id)),
                    Some(NetEvent::Lagged) => Step::Input(Input::Lagged),
                    Some(NetEvent::Closed(reason)) => {
                        return End::Failed(format!("the network stopped: {reason}"));
                    }
                    None => return End::Failed("the network stopped".into()),
                },
                step = next_private(&mut self.private) => step,
                _ = sleep_until(fetch_at.unwrap_or(far)), if fetch_at.is_some() => Step::FetchKey,
                _ = sleep_until(poll_at.unwrap_or(far)), if poll_at.is_some() => Step::Poll,
                Some(page) = self.catch_up.next() => Step::History(page),
                Some(committed) = self.saving.next_commit() => Step::Committed(committed),
                Some(query) = self.queries.recv() => {
                    self.serve_history(query);
                    continue;
                }
                _ = sleep_until(tick.unwrap_or(far)), if tick.is_some() => Step::Input(Input::Tick),
                _ = sleep_until(redial.unwrap_or(far)), if redial.is_some() => Step::Redial,
                Ok(_) = addr.updated() => Step::AddressChanged,
                Some(peer) = self.heal.next_dialed() => {
                    self.net.join_peers(vec![peer]);
                    continue;
                }
                _ = watchdog.tick() => Step::Watchdog,
                // Someone on the LAN announces the room: dial them now if we are alone.
                Ok(()) = async { lan.as_mut().expect("guarded").changed().await }, if lan.is_some() => {
                    Step::LanChanged
                }
                _ = sleep_until(roster.unwrap_or(far)), if roster.is_some() => Step::Members,
                _ = sleep_until(saves_due.unwrap_or(far)), if saves_due.is_some() => Step::Save,
                _ = sleep_until(hold.unwrap_or(far)), if hold.is_some() => Step::ReleaseHeld,
                _ = sleep_until(joining.map_or(far, |(at, _)| at)), if joining.is_some() => {
                    let waited = joining.map_or(Duration::ZERO, |(_, waited)| waited);
                    return End::Failed(NoPeerAnswered { peers: ticket_peers, waited }.to_string());
                }
                permit = self.events.reserve(), if self.outbox.has_ready() => {
                    if let (Ok(permit), Some(event)) = (permit, self.outbox.pop()) {
                        permit.send(event);
                    }
                    // Hand over whatever else fits without waking the loop again.
                    while self.outbox.has_ready() {
                        let Ok(permit) = self.events.try_reserve() else { break };
                        if let Some(event) = self.outbox.pop() {
                            permit.send(event);
                        }
                    }
                    continue;
                }
            };
            match step {
                Step::Command(command) => self.command(command).await,
                Step::Input(input) => self.feed(input).await,
                Step::History(page) => self.on_page(page).await,
                Step::Committed(committed) => self.on_committed(committed),
                Step::Members => {
                    self.roster.sent(std::time::Instant::now());
                    self.send_members();
                }
                Step::Redial => {
                    self.redial();
                    self.sync_when_alone();
                }
                Step::Save => self.flush_saves(),
                Step::ReleaseHeld => self.release_held(),
                Step::AddressChanged => self.address_changed().await,
                Step::Watchdog => self.watchdog().await,
                Step::LanChanged => self.lan_changed(),
                Step::Op(op) => self.on_op(&op).await,
                Step::KeyFetched((peer, got)) => self.key_fetched(peer, got).await,
                Step::FetchKey => self.fetch_key(),
                Step::Poll => self.poll(),
                Step::Dropped(from) => self.dropped_from(from),
                Step::Received(envelope, from) => {
                    let before = self.room.junk_count();
                    self.feed(Input::Received(envelope)).await;
                    if self.room.junk_count() > before {
                        self.invalid_from(from);
                    }
                }
                Step::KeyQuery(query) => self.answer_key(query).await,
            }
        }
    }

    /// Feed the room and carry out what it asks. Saves go to the store thread in one job per
    /// feed; the events behind them wait in the outbox until it is committed.
    pub(super) async fn feed(&mut self, input: Input) {
        let now = Now::system();
        let neighbour_change = matches!(input, Input::NeighborUp(_) | Input::NeighborDown(_));
        if let Input::NeighborUp(peer) = input {
            self.neighbour_up(peer);
            self.sync_with(peer);
        }
        let mut records = Vec::new();
        let mut events = Vec::new();
        let needs = self.saving.last() + 1;
        for output in self.room.handle(input, now) {
            match output {
                Output::Broadcast(bytes) => self.net.broadcast(self.sealed(bytes)).await,
                Output::Persist(record) => {
                    if self.store.is_some() {
                        records.push(record);
                    }
                }
                Output::RequestHistory { since, page } => self.catch_up(since, page),
                Output::RequestRoster => self.ask_roster(),
                Output::Event(event) => {
                    let gate = if records.is_empty() || shown_before_saved(&event) {
                        0
                    } else {
                        needs
                    };
                    events.push((event, gate));
                }
            }
        }
        if !records.is_empty() {
            let awaited = events.iter().any(|(_, gate)| *gate != 0);
            self.save(records, now.wall, awaited);
        }
        // `Ready` (and the stored history) before what the first neighbour brought.
        if !self.ready && self.room.is_joined() {
            self.become_ready().await;
        }
        let membership = events.iter().any(|(event, _)| {
            matches!(
                event,
                Event::MemberJoined(_)
                    | Event::MemberLeft { .. }
                    | Event::MemberRenamed { .. }
                    | Event::Ignored { .. }
            )
        });
        for (event, gate) in events {
            self.heal.heard(&event);
            if let Event::MemberRenamed { member, .. } = &event
                && member.id == self.room.id()
            {
                self.remember_my_name(member.name.clone());
            }
            self.outbox.push(SessionEvent::Room(event), gate);
        }
        if neighbour_change {
            self.net_changed();
            self.sync_when_alone();
            self.poll_soon();
        }
        if membership && self.roster.changed(now.at, self.room.known_keys()) {
            self.send_members();
        }
        self.answer_drained();
    }
}

/// A private room's next key request, or answer to one of ours (never, in a public room).
async fn next_private(private: &mut Option<super::private::Private>) -> Step {
    use n0_future::StreamExt;
    let Some(private) = private else {
        return std::future::pending().await;
    };
    let fetching = !private.fetches.is_empty();
    tokio::select! {
        Some(query) = private.queries.recv() => Step::KeyQuery(query),
        Some(fetched) = private.fetches.next(), if fetching => Step::KeyFetched(fetched),
        else => std::future::pending().await,
    }
}

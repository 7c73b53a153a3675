//! The terminal UI loop: terminal events and session events feed `App::update`; its effects
//! are carried out; the screen is redrawn only after something changed. Starting a session
//! (binding the endpoint), searching and computing tickets run in tasks whose answers come
//! back as messages, so typing never waits on the network or the disk.

use std::collections::{HashSet, VecDeque};
use std::future::Future;

use chrono::{Local, Offset};
use crossterm::event::{Event as TermEvent, EventStream};
use n0_future::StreamExt;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

mod effects;
mod notify;
use self::effects::present;
mod setup;

use super::terminal::TerminalGuard;
use crate::app::command::Command;
use crate::app::lobby::{MAX_NEARBY, NearbyRoom, StoredRoom};
use crate::app::views::{ViewKey, ViewKind};
use crate::app::{App, Msg, Screen};
use crate::config::{Config, Start};
use crate::front::{Answers, Core, FileUpdate, Incoming, Update};
use crate::net::PathKind;
use crate::proto::UnixMillis;
use crate::session::{SessionEvent, SessionHandle};
use crate::store::Store;
use crate::ui;

/// How often the member list's relay marks are refreshed.
const PATHS_EVERY: std::time::Duration = std::time::Duration::from_secs(3);
/// How often the lobby's list of rooms on the LAN is refreshed (mDNS finds them in ~0.5-0.8 s).
const NEARBY_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

struct Tui {
    app: App,
    /// The rooms (each view of one is keyed by the view's key), direct messages and files,
    /// and carrying out commands.
    core: Core,
    /// Views whose room we created (the invite pops up when ready).
    opened: HashSet<ViewKey>,
    /// Views of private rooms we were removed from: their end keeps them (and parlor) open,
    /// their history readable until `/part`. Known here as the removal comes in, since the
    /// app may be told in the same turn as the session's end.
    removed: HashSet<ViewKey>,
    /// Answers from the terminal UI's own background work (paths, a conversation loaded).
    answers_tx: mpsc::UnboundedSender<Msg>,
    answers: mpsc::UnboundedReceiver<Msg>,
    /// The terminal's title as last set.
    title: String,
    quit: bool,
    /// Writes the input history as lines are sent (with a data directory).
    recall: Option<setup::RecallWriter>,
    /// Writes where each view was left off, every few seconds and at the end.
    reads: Option<setup::DiskWriter<setup::Positions>>,
    /// Sends desktop notifications as the config says.
    notifier: notify::Notifier,
}

/// Run the terminal UI until the user quits or `shutdown` resolves.
pub async fn run_tui(
    config: Config,
    store: Option<Store>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let starts = config.starts().to_vec();
    let stored = match (&store, starts.is_empty()) {
        (Some(store), true) => store.open_rooms().unwrap_or_default(),
        _ => Vec::new(),
    };
    let recall_dir = setup::recall_dir(&config, store.as_ref());
    // Bound before the terminal is taken: binding is quick (relays and DNS are contacted in
    // the background), and the lobby lists rooms on the LAN from the start.
    let core = Core::boot(config, store, Answers::Later).await?;
    let mut guard = match TerminalGuard::enter(core.config().ui.mouse) {
        Ok(guard) => guard,
        Err(err) => {
            core.close().await;
            return Err(err.into());
        }
    };
    let size = guard.terminal.size()?;
    let lobby_name = starts.is_empty().then(|| core.config().name.clone());
    let offset = Local::now().offset().fix();
    let area = Rect::new(0, 0, size.width, size.height);
    let (answers_tx, answers) = mpsc::unbounded_channel();
    let core_ui = core.config().ui.clone();
    let mut tui = Tui {
        app: App::new(lobby_name.as_deref(), area, offset),
        core,
        opened: HashSet::new(),
        removed: HashSet::new(),
        answers_tx,
        answers,
        title: String::new(),
        quit: false,
        recall: None,
        reads: None,
        notifier: notify::Notifier::new(&core_ui),
    };
    let stored: Vec<StoredRoom> = stored
        .into_iter()
        .map(|room| StoredRoom {
            topic: room.topic,
            label: room.label,
            room_name: room.room_name,
        })
        .collect();
    setup::prepare(&mut tui.app, tui.core.config(), recall_dir.as_deref());
    tui.recall =
        (recall_dir.clone()).map(|dir| setup::RecallWriter::recall(dir, tui.app.recall_lines()));
    tui.reads = recall_dir.map(|dir| setup::read_positions(&mut tui.app, dir));
    tui.app.update(Msg::StoredRooms(stored), UnixMillis::now());
    for (i, start) in starts.into_iter().enumerate() {
        tui.start_cli_room(start, i == 0);
    }
    let result = tui.main_loop(&mut guard, shutdown).await;
    // The terminal first: the user gets their shell back while we say goodbye.
    drop(guard);
    if let Some(recall) = tui.recall.take() {
        recall.finish().await;
    }
    if let Some(reads) = tui.reads.take() {
        setup::keep_read_positions(&reads, &tui.app);
        reads.finish().await;
    }
    tui.core.sessions.leave_all().await;
    tui.core.close().await;
    result
}

/// Sleep until `deadline`; forever without one.
async fn sleep_until_some(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn to_msg(event: TermEvent) -> Msg {
    match event {
        TermEvent::Key(key) => Msg::Key(key),
        TermEvent::Paste(text) => Msg::Paste(text),
        TermEvent::Mouse(mouse) => Msg::Mouse(mouse),
        TermEvent::Resize(w, h) => Msg::Resize(w, h),
        TermEvent::FocusGained => Msg::Focus(true),
        TermEvent::FocusLost => Msg::Focus(false),
    }
}

impl Tui {
    /// A room named on the command line gets a view and starts.
    fn start_cli_room(&mut self, start: Start, current: bool) {
        let (kind, label) = match &start {
            Start::Join(ticket) => (ViewKind::Room(Some(ticket.topic)), None),
            Start::Invite(invite) => (
                ViewKind::Room(Some(crate::front::private::invite_topic(invite))),
                None,
            ),
            Start::Rejoin { topic, label, .. } => (ViewKind::Room(Some(*topic)), label.clone()),
            Start::Lan(query) => (ViewKind::Room(None), Some(query.clone())),
            Start::Open | Start::Known(_) => {
                (ViewKind::Room(None), self.core.config().label.clone())
            }
        };
        if let Some(view) = self.app.add_view(kind, label, current) {
            self.start_room(view, start, None, None);
        }
    }

    fn start_room(
        &mut self,
        view: ViewKey,
        start: Start,
        name: Option<String>,
        label: Option<String>,
    ) {
        if matches!(start, Start::Open) {
            self.opened.insert(view);
        }
        self.core.start_room(view, start, name, label, false);
    }

    /// The session of the current view, when it is a room that runs.
    fn current_session(&self) -> Option<SessionHandle> {
        let view = self.app.current_view()?;
        self.core.sessions.handle(view).cloned()
    }

    /// In the lobby: the rooms announced on the LAN, when they changed.
    fn poll_nearby(&mut self) {
        let Some(lan) = self.core.node().lan() else {
            return;
        };
        let rooms = lan.nearby().into_iter().take(MAX_NEARBY);
        let rooms: Vec<NearbyRoom> = rooms
            .map(|r| NearbyRoom {
                topic: r.topic,
                label: r.label,
                members: r.announcers.len(),
                private: r.private.is_some(),
            })
            .collect();
        if let Screen::Lobby(lobby) = &self.app.screen
            && lobby.nearby != rooms
        {
            let _ = self.answers_tx.send(Msg::Nearby(rooms));
        }
    }

    /// Every few seconds: which members of the current room are reached through a relay
    /// (the member list marks them).
    fn poll_paths(&self) {
        let (Some(view), Some(session)) = (self.app.current_view(), self.current_session()) else {
            return;
        };
        self.answer_later(async move {
            let net = session.net().await.ok()?;
            let relayed = net
                .report
                .peers
                .iter()
                .filter(|p| p.kind == PathKind::Relay);
            let ids = relayed.map(|p| p.id).collect();
            Some(Msg::For(view, Box::new(Msg::Relayed(ids))))
        });
    }

    async fn main_loop(
        &mut self,
        guard: &mut TerminalGuard,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        let mut terminal_events = EventStream::new();
        let mut paths = tokio::time::interval(PATHS_EVERY);
        let mut nearby = tokio::time::interval(NEARBY_EVERY);
        // After a sleep, one refresh each, not a burst of the missed ones.
        paths.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        nearby.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut dirty = true;
        while !self.quit {
            if dirty {
                guard.terminal.draw(|frame| ui::view(&self.app, frame))?;
                let title = self.app.title();
                if title != self.title {
                    guard.set_title(&title);
                    self.title = title;
                }
            }
            let mut msgs = VecDeque::new();
            // An error to take off the status bar: the app is told when its time comes.
            let deadline = self.app.next_deadline().map(|at| {
                let wait = at.0.saturating_sub(UnixMillis::now().0);
                tokio::time::Instant::now() + std::time::Duration::from_millis(wait)
            });
            tokio::select! {
                event = terminal_events.next() => match event {
                    Some(Ok(event)) => msgs.push_back(to_msg(event)),
                    Some(Err(err)) => anyhow::bail!("terminal input failed: {err}"),
                    None => return Ok(()),
                },
                incoming = self.core.next() => msgs.extend(self.on_incoming(incoming).await?),
                Some(msg) = self.answers.recv() => msgs.push_back(msg),
                _ = paths.tick() => {
                    self.poll_paths();
                    if let Some(reads) = &self.reads {
                        setup::keep_read_positions(reads, &self.app);
                    }
                }
                _ = nearby.tick(), if matches!(self.app.screen, Screen::Lobby(_)) => {
                    self.poll_nearby();
                }
                () = sleep_until_some(deadline) => msgs.push_back(Msg::Tick),
                () = &mut shutdown => return Ok(()),
            }
            // Take whatever else already arrived, so a burst costs one redraw.
            while msgs.len() < 256 {
                let Some(incoming) = self.core.try_next_room() else {
                    break;
                };
                msgs.extend(self.on_incoming(incoming).await?);
            }
            dirty = !msgs.is_empty();
            while let Some(msg) = msgs.pop_front() {
                // A conversation loaded from disk may offer files: known to /get after a restart.
                if let Msg::Batch(lines) = &msg {
                    for line in lines {
                        if let Msg::Direct(line) = line {
                            self.core.files.note_direct_line(line);
                        }
                    }
                }
                for effect in self.app.update(msg, UnixMillis::now()) {
                    self.execute(effect, guard).await;
                }
            }
            if let Some(recall) = &self.recall {
                recall.update(self.app.recall_lines());
            }
        }
        Ok(())
    }

    /// Something came in: the core's books first (and what a room that started was sent),
    /// then as messages for the app.
    async fn on_incoming(&mut self, incoming: Incoming) -> anyhow::Result<Vec<Msg>> {
        let replies = self.core.absorb(&incoming).await;
        let mut msgs = present(replies);
        match incoming {
            Incoming::Room(view, update) => msgs.extend(self.on_update(view, update)?),
            Incoming::Direct(event) => msgs.extend(self.on_direct(event)),
            Incoming::File(update) => msgs.extend(self.on_file(update)),
            Incoming::Replies(replies) => msgs.extend(present(replies)),
        }
        Ok(msgs)
    }

    /// A room's update as a message for its view. Started from the command line, the last
    /// room failing ends parlor (exit 2 for a room found nowhere, else 1), as one room did.
    fn on_update(&mut self, view: ViewKey, update: Update) -> anyhow::Result<Option<Msg>> {
        let failed = match update {
            Update::Started(_) => return Ok(None),
            Update::Event(SessionEvent::Failed(reason)) => anyhow::anyhow!(reason),
            Update::Event(event) => {
                if matches!(event, SessionEvent::Removed { .. }) {
                    self.removed.insert(view);
                }
                let msg = self.to_msg(view, event);
                return Ok(Some(Msg::For(view, Box::new(msg))));
            }
            Update::StartFailed(err) => err,
            Update::Ended => anyhow::anyhow!("the session ended"),
        };
        let last = self.app.views.tabs.len() == 1 && self.app.current_view() == Some(view);
        if last && !self.core.config().starts().is_empty() && !self.removed.contains(&view) {
            return Err(failed);
        }
        let mut reason = format!("{failed:#}");
        // What was typed for it is said, not dropped in silence.
        let held = self.core.rooms.remove(view).and_then(|room| room.held);
        for command in held.unwrap_or_default() {
            if let Command::Say(text) | Command::Me(text) = command {
                reason.push_str(&format!("; not sent: {text}"));
            }
        }
        Ok(Some(Msg::For(view, Box::new(Msg::Failed(reason)))))
    }

    /// A fetch moved on: the status bar's transfer, and the end said in the room shown.
    fn on_file(&mut self, update: FileUpdate) -> Option<Msg> {
        let files = &self.core.files;
        Some(match update {
            FileUpdate::Progress {
                hash,
                done,
                total,
                rate,
            } => Msg::Transfer(Some(crate::app::Transfer {
                name: files.name_of(&hash).unwrap_or(&hash).to_string(),
                done,
                total,
                rate,
                hashing: false,
            })),
            FileUpdate::Saved { path, .. } => Msg::Batch(vec![
                Msg::Transfer(None),
                Msg::Notice(format!("saved {}", path.display())),
            ]),
            FileUpdate::Failed { hash, reason, .. } => Msg::Batch(vec![
                Msg::Transfer(None),
                Msg::Warning(format!(
                    "{}: {reason}",
                    files.name_of(&hash).unwrap_or(&hash)
                )),
            ]),
            FileUpdate::Resumed { hash, who } => {
                let name = files.name_of(&hash).unwrap_or(&hash);
                Msg::Notice(format!("{who} is back: fetching {name} again"))
            }
            FileUpdate::Changed { reason, .. } => Msg::Warning(reason),
            FileUpdate::NotFetched { hash, reason } => {
                let name = files.name_of(&hash).unwrap_or(&hash);
                let handle = crate::proto::wire::handle_of(&hash);
                Msg::Notice(format!(
                    "{name} not fetched by itself: {reason}; /get {handle} fetches it"
                ))
            }
            // Handled by `Files::update` (a waiting fetch tried again).
            FileUpdate::Retry { .. } => return None,
            // `/send` of a big file: the status bar shows the hashing, then clears.
            FileUpdate::Hashing { done, total, .. } if done >= total => Msg::Transfer(None),
            FileUpdate::Hashing { name, done, total } => {
                Msg::Transfer(Some(crate::app::Transfer {
                    name,
                    done,
                    total,
                    rate: 0,
                    hashing: true,
                }))
            }
        })
    }

    fn to_msg(&self, view: ViewKey, event: SessionEvent) -> Msg {
        match event {
            SessionEvent::Ready {
                me,
                topic,
                ticket,
                room_name,
                ..
            } => Msg::Ready {
                me,
                topic,
                ticket,
                room_name,
                opened: self.opened.contains(&view),
            },
            SessionEvent::Room(event) => Msg::Room(event),
            SessionEvent::Members(members) => Msg::Members(members),
            SessionEvent::Net(state) => Msg::Net(state),
            SessionEvent::Ticket(ticket) => Msg::TicketChanged(ticket),
            SessionEvent::Warning(text) | SessionEvent::Failed(text) => Msg::Warning(text),
            SessionEvent::State(state) => Msg::RoomState(state),
            SessionEvent::Removed { by, reason, ban } => Msg::Removed { by, reason, ban },
            SessionEvent::Knock { id, name } => Msg::Knock {
                id,
                name,
                gone: false,
            },
            SessionEvent::Knocking { label, asked } => Msg::Notice(
                crate::present::private::knocking_line(&label, asked)
                    .trim_start_matches("* ")
                    .to_string(),
            ),
            SessionEvent::KnockGone { id, name } => Msg::Knock {
                id,
                name,
                gone: true,
            },
        }
    }

    /// Run `work` in a task; its answer comes back as a message.
    fn answer_later(&self, work: impl Future<Output = Option<Msg>> + Send + 'static) {
        let answers = self.answers_tx.clone();
        tokio::spawn(async move {
            if let Some(msg) = work.await {
                let _ = answers.send(msg);
            }
        });
    }
}

//! The terminal UI loop: terminal events and session events feed `App::update`; its effects
//! are carried out; the screen is redrawn only after something changed. Starting a session
//! (binding the endpoint), searching and computing tickets run in tasks whose answers come
//! back as messages, so typing never waits on the network or the disk.

use std::collections::VecDeque;
use std::future::Future;

use chrono::{Local, Offset};
use crossterm::event::{Event as TermEvent, EventStream};
use n0_future::StreamExt;
use ratatui::layout::Rect;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::start::{self, spec_of};
use super::terminal::TerminalGuard;
use crate::app::lobby::{MAX_NEARBY, NearbyRoom};
use crate::app::{App, Effect, Msg, Screen};
use crate::config::{Config, Start};
use crate::net::{Node, PathKind};
use crate::proto::UnixMillis;
use crate::session::{self, Events, SessionEvent, SessionHandle};
use crate::store::{Store, StoreHandle};
use crate::ui;

/// How often the member list's relay marks are refreshed.
const PATHS_EVERY: std::time::Duration = std::time::Duration::from_secs(3);
/// How often the lobby's list of rooms on the LAN is refreshed (mDNS finds them in ~0.5-0.8 s).
const NEARBY_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

type Started = anyhow::Result<(Node, SessionHandle, Events)>;

struct Tui {
    config: Config,
    store: Option<StoreHandle>,
    app: App,
    /// The endpoint, bound with the first session and kept for the next ones.
    node: Option<Node>,
    session: Option<(SessionHandle, Events)>,
    starting: Option<JoinHandle<Started>>,
    /// The current session created its room (the invite pops up when ready).
    opened: bool,
    /// Answers from background work (tickets, search results).
    answers_tx: mpsc::UnboundedSender<Msg>,
    answers: mpsc::UnboundedReceiver<Msg>,
    quit: bool,
}

/// Run the terminal UI until the user quits or `shutdown` resolves.
pub async fn run_tui(
    config: Config,
    store: Option<Store>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let store_thread = start::store_thread(store)?;
    // The lobby lists rooms announced on the LAN: listen from the start (binding is quick;
    // relays and DNS are contacted in the background).
    let node = if config.start().is_none() {
        match Node::spawn(&config.net).await {
            Ok(node) => Some(node),
            Err(err) => {
                start::close(None, store_thread).await;
                return Err(err);
            }
        }
    } else {
        None
    };
    let mut guard = TerminalGuard::enter()?;
    let size = guard.terminal.size()?;
    let lobby_name = config.start().is_none().then(|| config.name.clone());
    let offset = Local::now().offset().fix();
    let area = Rect::new(0, 0, size.width, size.height);
    let (answers_tx, answers) = mpsc::unbounded_channel();
    let mut tui = Tui {
        app: App::new(lobby_name.as_deref(), area, offset),
        store: start::store_handle(&store_thread),
        node,
        session: None,
        starting: None,
        opened: false,
        answers_tx,
        answers,
        quit: false,
        config,
    };
    let result = match tui.config.start().cloned() {
        // Bad input is reported before anything starts.
        Some(start @ Start::Lan(_)) => {
            tui.start_session(start, tui.config.name.clone());
            Ok(())
        }
        Some(start) => spec_of(&tui.config, &start, tui.config.name.clone())
            .map_err(anyhow::Error::from)
            .map(|_| tui.start_session(start, tui.config.name.clone())),
        None => Ok(()),
    };
    let result = match result {
        Ok(()) => tui.main_loop(&mut guard, shutdown).await,
        Err(err) => Err(err),
    };
    // The terminal first: the user gets their shell back while we say goodbye.
    drop(guard);
    if let Some((session, mut events)) = tui.session.take() {
        let _ = session.leave().await;
        while events.recv().await.is_some() {}
    }
    start::close(tui.node.take(), store_thread).await;
    result
}

async fn started(starting: &mut Option<JoinHandle<Started>>) -> Started {
    match starting {
        Some(task) => task
            .await
            .unwrap_or_else(|e| Err(anyhow::anyhow!("session task failed: {e}"))),
        None => std::future::pending().await,
    }
}

async fn next_event(session: &mut Option<(SessionHandle, Events)>) -> Option<SessionEvent> {
    match session {
        Some((_, events)) => events.recv().await,
        None => std::future::pending().await,
    }
}

fn to_msg(event: TermEvent) -> Option<Msg> {
    match event {
        TermEvent::Key(key) => Some(Msg::Key(key)),
        TermEvent::Paste(text) => Some(Msg::Paste(text)),
        TermEvent::Mouse(mouse) => Some(Msg::Mouse(mouse)),
        TermEvent::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}

impl Tui {
    /// Start a session in a task (binding the endpoint first if there is none yet, and
    /// finding a LAN room by label); a new room pops the invite up when ready.
    fn start_session(&mut self, start: Start, name: String) {
        let config = self.config.clone();
        let node = self.node.clone();
        let store = self.store.clone();
        self.opened = matches!(start, Start::Open);
        self.starting = Some(tokio::spawn(async move {
            let node = match node {
                Some(node) => node,
                None => Node::spawn(&config.net).await?,
            };
            let spec = start::resolve_spec(&config, &node, &start, name).await?;
            let (handle, events) = session::spawn(&node, store, spec).await?;
            Ok((node, handle, events))
        }));
    }

    /// In the lobby: the rooms announced on the LAN, when they changed.
    fn poll_nearby(&mut self) {
        let Some(lan) = self.node.as_ref().and_then(Node::lan) else {
            return;
        };
        let rooms = lan.nearby().into_iter().take(MAX_NEARBY);
        let rooms: Vec<NearbyRoom> = rooms
            .map(|r| NearbyRoom {
                topic: r.topic,
                label: r.label,
                members: r.announcers.len(),
            })
            .collect();
        if let Screen::Lobby(lobby) = &self.app.screen
            && lobby.nearby != rooms
        {
            let _ = self.answers_tx.send(Msg::Nearby(rooms));
        }
    }

    /// Every few seconds: which members are reached through a relay (the member list marks
    /// them).
    fn poll_paths(&self) {
        let Some((session, _)) = &self.session else {
            return;
        };
        let session = session.clone();
        self.answer_later(async move {
            let view = session.net().await.ok()?;
            let relayed = view
                .report
                .peers
                .iter()
                .filter(|p| p.kind == PathKind::Relay);
            Some(Msg::Relayed(relayed.map(|p| p.id).collect()))
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
            }
            let mut msgs = VecDeque::new();
            tokio::select! {
                event = terminal_events.next() => match event {
                    Some(Ok(event)) => msgs.extend(to_msg(event)),
                    Some(Err(err)) => anyhow::bail!("terminal input failed: {err}"),
                    None => return Ok(()),
                },
                result = started(&mut self.starting) => {
                    self.starting = None;
                    match result {
                        Ok((node, handle, events)) => {
                            self.node = Some(node);
                            self.session = Some((handle, events));
                        }
                        // Started from the command line, a room found nowhere is bad input
                        // (exit 2, as headless); everything else fails with its reason.
                        Err(err)
                            if err.is::<start::NoSuchRoom>() && self.config.start().is_some() =>
                        {
                            return Err(err);
                        }
                        Err(err) => self.fail(format!("{err:#}"), &mut msgs)?,
                    }
                }
                event = next_event(&mut self.session) => match event {
                    Some(SessionEvent::Failed(reason)) => self.fail(reason, &mut msgs)?,
                    Some(event) => msgs.push_back(self.to_msg(event)),
                    None => self.fail("the session ended".into(), &mut msgs)?,
                },
                Some(msg) = self.answers.recv() => msgs.push_back(msg),
                _ = paths.tick() => self.poll_paths(),
                _ = nearby.tick(), if matches!(self.app.screen, Screen::Lobby(_)) => {
                    self.poll_nearby();
                }
                () = &mut shutdown => return Ok(()),
            }
            // Take whatever else already arrived, so a burst costs one redraw.
            while msgs.len() < 256 {
                let next = self
                    .session
                    .as_mut()
                    .and_then(|(_, events)| events.try_recv());
                match next {
                    Some(SessionEvent::Failed(reason)) => {
                        self.fail(reason, &mut msgs)?;
                        break;
                    }
                    Some(event) => msgs.push_back(self.to_msg(event)),
                    None => break,
                }
            }
            dirty = !msgs.is_empty();
            while let Some(msg) = msgs.pop_front() {
                for effect in self.app.update(msg, UnixMillis::now()) {
                    self.execute(effect, guard).await;
                }
            }
        }
        Ok(())
    }

    fn to_msg(&self, event: SessionEvent) -> Msg {
        match event {
            SessionEvent::Ready { me, topic, ticket } => Msg::Ready {
                me,
                topic,
                ticket,
                opened: self.opened,
            },
            SessionEvent::Room(event) => Msg::Room(event),
            SessionEvent::Members(members) => Msg::Members(members),
            SessionEvent::Net(state) => Msg::Net(state),
            SessionEvent::Ticket(ticket) => Msg::TicketChanged(ticket),
            SessionEvent::Warning(text) | SessionEvent::Failed(text) => Msg::Warning(text),
        }
    }

    /// The session could not start or join, or ended by itself. Started from the command line,
    /// that ends parlor (exit 1); from the lobby, the lobby comes back with the reason.
    fn fail(&mut self, reason: String, msgs: &mut VecDeque<Msg>) -> anyhow::Result<()> {
        if let Some((session, _)) = self.session.take() {
            tokio::spawn(async move { session.leave().await });
        }
        if self.config.start().is_some() {
            anyhow::bail!(reason);
        }
        msgs.push_back(Msg::Failed(reason));
        Ok(())
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

    async fn execute(&mut self, effect: Effect, guard: &mut TerminalGuard) {
        let session = self.session.as_ref().map(|(handle, _)| handle.clone());
        match effect {
            Effect::Open { name } => self.start_session(Start::Open, name),
            Effect::Join { name, ticket } => self.start_session(Start::Join(*ticket), name),
            Effect::JoinNearby { name, topic } => {
                self.start_session(Start::Lan(topic.to_string()), name);
            }
            // A session that ended reports it through its events: its commands do nothing.
            Effect::Say(text) => {
                if let Some(session) = session {
                    let _ = session.say(text).await;
                }
            }
            Effect::Act(text) => {
                if let Some(session) = session {
                    let _ = session.act(text).await;
                }
            }
            Effect::Rename(name) => {
                if let Some(session) = session {
                    let _ = session.rename(name).await;
                }
            }
            Effect::Ignore { who, ignore } => {
                if let Some(session) = session {
                    let _ = session.ignore(who, ignore).await;
                }
            }
            Effect::ListIgnored => {
                if let Some(session) = session {
                    let _ = session.list_ignored().await;
                }
            }
            Effect::Search(words) => {
                if let Some(session) = session {
                    self.answer_later(async move {
                        Some(match session.search(words.clone()).await {
                            Ok(found) => Msg::Found { words, found },
                            Err(err) => Msg::Warning(err),
                        })
                    });
                }
            }
            Effect::ShowTicket => {
                if let Some(session) = session {
                    self.answer_later(async move { session.ticket().await.ok().map(Msg::Ticket) });
                }
            }
            Effect::ShowNet => {
                if let Some(session) = session {
                    self.answer_later(async move { session.net().await.ok().map(Msg::NetView) });
                }
            }
            Effect::Copy(text) => guard.copy(&text),
            Effect::Bell => guard.bell(),
            Effect::Quit => self.quit = true,
        }
    }
}

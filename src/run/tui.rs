//! The terminal UI loop: terminal events, network input and timers feed `App::update`; its
//! effects are carried out; the screen is redrawn only after something changed. Network work
//! (starting a session) runs in a task, so typing never waits on it.

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use chrono::{Local, Offset};
use crossterm::event::{Event as TermEvent, EventStream};
use n0_future::StreamExt;
use ratatui::layout::Rect;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use super::session::{Entry, NoPeerAnswered, Session, SharedStore, Update, entry_of};
use super::terminal::TerminalGuard;
use crate::app::{App, Effect, Msg};
use crate::config::{Config, Start};
use crate::proto::UnixMillis;
use crate::proto::room::{Event, Input};
use crate::store::Store;
use crate::ui;

/// A session being started in the background.
struct Starting {
    task: JoinHandle<anyhow::Result<Session>>,
    /// Ready at once (no peer to wait for).
    ready_at_once: bool,
}

struct Tui {
    config: Config,
    store: Option<SharedStore>,
    app: App,
    session: Option<Session>,
    starting: Option<Starting>,
    /// Ready was shown for the current session.
    ready: bool,
    opened: bool,
    join_deadline: Option<Instant>,
    quit: bool,
}

/// Run the terminal UI until the user quits or `shutdown` resolves.
pub async fn run_tui(
    config: Config,
    store: Option<Store>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut guard = TerminalGuard::enter()?;
    let size = guard.terminal.size()?;
    let lobby_name = config.start().is_none().then(|| config.name.clone());
    let offset = Local::now().offset().fix();
    let area = Rect::new(0, 0, size.width, size.height);
    let mut tui = Tui {
        app: App::new(lobby_name.as_deref(), area, offset),
        session: None,
        starting: None,
        ready: false,
        opened: false,
        join_deadline: None,
        quit: false,
        store: store.map(|s| std::sync::Arc::new(std::sync::Mutex::new(s))),
        config,
    };
    if let Some(start) = tui.config.start().cloned() {
        let (entry, wait) = entry_of(&start, tui.config.label.clone())?;
        let opened = matches!(start, Start::Open);
        tui.start_session(tui.config.name.clone(), entry, wait, opened);
    }
    let result = tui.main_loop(&mut guard, shutdown).await;
    // The terminal first: the user gets their shell back while we say goodbye.
    drop(guard);
    if let Some(session) = tui.session.take() {
        session.leave().await;
    }
    result
}

async fn next_input(session: &mut Option<Session>) -> anyhow::Result<Input> {
    match session {
        Some(session) => session.next_input().await,
        None => std::future::pending().await,
    }
}

async fn started(starting: &mut Option<Starting>) -> (anyhow::Result<Session>, bool) {
    match starting {
        Some(Starting {
            task,
            ready_at_once,
        }) => {
            let result = task
                .await
                .unwrap_or_else(|e| Err(anyhow::anyhow!("session task failed: {e}")));
            (result, *ready_at_once)
        }
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
    /// Start a session in a task; `wait`: a ticket's room, ready once a peer answers;
    /// `opened`: a new room (the invite pops up).
    fn start_session(&mut self, name: String, entry: Entry, wait: bool, opened: bool) {
        let net = self.config.net.clone();
        let store = self.store.clone();
        let history = self.config.history;
        self.ready = false;
        self.opened = opened;
        self.join_deadline = wait.then(|| Instant::now() + self.config.join_timeout);
        let task =
            tokio::spawn(async move { Session::start(&net, &name, entry, store, history).await });
        self.starting = Some(Starting {
            task,
            ready_at_once: !wait,
        });
    }

    async fn main_loop(
        &mut self,
        guard: &mut TerminalGuard,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        let mut events = EventStream::new();
        let mut dirty = true;
        while !self.quit {
            if dirty {
                guard.terminal.draw(|frame| ui::view(&self.app, frame))?;
            }
            let tick = self.session.as_ref().and_then(Session::next_deadline);
            let far = Instant::now() + Duration::from_secs(3600);
            let waiting_for_join = self.join_deadline.filter(|_| !self.ready);
            let mut msgs = VecDeque::new();
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(event)) => msgs.extend(to_msg(event)),
                    Some(Err(err)) => anyhow::bail!("terminal input failed: {err}"),
                    None => return Ok(()),
                },
                (result, ready_at_once) = started(&mut self.starting) => {
                    self.starting = None;
                    match result {
                        Ok(mut session) => {
                            let restored = session.take_restored();
                            self.session = Some(session);
                            if ready_at_once {
                                msgs.extend(self.ready_msg().await);
                                msgs.extend(self.members_msg());
                            }
                            msgs.extend(restored.into_iter().map(Msg::Room));
                        }
                        Err(err) => self.fail(format!("{err:#}"), &mut msgs)?,
                    }
                }
                input = next_input(&mut self.session) => match input {
                    Ok(input) => self.feed(input, &mut msgs).await,
                    Err(err) => self.fail(format!("{err:#}"), &mut msgs)?,
                },
                _ = sleep_until(tick.unwrap_or(far)), if tick.is_some() => {
                    self.feed(Input::Tick, &mut msgs).await;
                }
                _ = sleep_until(waiting_for_join.unwrap_or(far)), if waiting_for_join.is_some() => {
                    let no_peer = NoPeerAnswered {
                        peers: self.session.as_ref().map_or(0, |s| s.ticket_peers),
                        waited: self.config.join_timeout,
                    };
                    self.fail(no_peer.to_string(), &mut msgs)?;
                }
                () = &mut shutdown => return Ok(()),
            }
            dirty = !msgs.is_empty();
            while let Some(msg) = msgs.pop_front() {
                for effect in self.app.update(msg, UnixMillis::now()) {
                    self.execute(effect, guard, &mut msgs).await;
                }
            }
        }
        Ok(())
    }

    /// The session could not start or join. Started from the command line, that ends parlor
    /// (exit 1); from the lobby, the lobby comes back with the reason.
    fn fail(&mut self, reason: String, msgs: &mut VecDeque<Msg>) -> anyhow::Result<()> {
        if let Some(session) = self.session.take() {
            tokio::spawn(session.leave());
        }
        self.join_deadline = None;
        if self.config.start().is_some() {
            anyhow::bail!(reason);
        }
        msgs.push_back(Msg::Failed(reason));
        Ok(())
    }

    async fn ready_msg(&mut self) -> Option<Msg> {
        let session = self.session.as_ref()?;
        self.ready = true;
        let room = session.room();
        Some(Msg::Ready {
            me: room.me(),
            topic: room.topic(),
            ticket: session.ticket().await,
            opened: self.opened,
        })
    }

    /// Feed the room; queue its events (and the member list they may have changed).
    async fn feed(&mut self, input: Input, msgs: &mut VecDeque<Msg>) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let updates = session.feed(input);
        if !self.ready && session.room().is_joined() {
            msgs.extend(self.ready_msg().await);
        }
        let membership = updates.iter().any(|u| {
            matches!(
                u,
                Update::Room(
                    Event::MemberJoined(_) | Event::MemberLeft { .. } | Event::MemberRenamed { .. }
                )
            )
        });
        msgs.extend(updates.into_iter().map(|update| match update {
            Update::Room(event) => Msg::Room(event),
            Update::Warning(text) => Msg::Warning(text),
        }));
        if membership || msgs.iter().any(|m| matches!(m, Msg::Ready { .. })) {
            msgs.extend(self.members_msg());
        }
    }

    fn members_msg(&self) -> Option<Msg> {
        Some(Msg::Members(self.session.as_ref()?.room().members()))
    }

    async fn execute(
        &mut self,
        effect: Effect,
        guard: &mut TerminalGuard,
        msgs: &mut VecDeque<Msg>,
    ) {
        match effect {
            Effect::Open { name } => {
                let entry = Entry {
                    label: self.config.label.clone(),
                    ..Entry::default()
                };
                self.start_session(name, entry, false, true);
            }
            Effect::Join { name, ticket } => {
                let entry = Entry {
                    topic: Some(ticket.topic),
                    peers: ticket.peers,
                    label: self.config.label.clone(),
                };
                self.start_session(name, entry, true, false);
            }
            Effect::Search(words) => {
                if let Some(session) = &self.session {
                    msgs.push_back(match session.search(&words) {
                        Ok(found) => Msg::Found(found),
                        Err(err) => Msg::Warning(err),
                    });
                }
            }
            Effect::Say(text) => self.feed(Input::Say(text), msgs).await,
            Effect::Act(text) => self.feed(Input::Act(text), msgs).await,
            Effect::Rename(name) => self.feed(Input::SetName(name), msgs).await,
            Effect::ShowTicket => {
                if let Some(session) = &self.session {
                    msgs.push_back(Msg::Ticket(session.ticket().await));
                }
            }
            Effect::Copy(text) => guard.copy(&text),
            Effect::Bell => guard.bell(),
            Effect::Quit => self.quit = true,
        }
    }
}

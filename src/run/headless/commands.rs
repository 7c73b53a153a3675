//! Typed lines in headless mode: chat lines and commands for the current room, and the
//! commands that move between rooms (`/room`, `/to`, `/rooms`, `/open`, `/join`, `/part`).

use tokio::io::AsyncWrite;

use super::super::direct;
use super::super::files::{self, Place};
use super::Headless;
use crate::app::command::{self, COMMANDS, Command};
use crate::config::Start;
use crate::headless::Report;
use crate::proto::EndpointId;

impl<W: AsyncWrite + Unpin> Headless<W> {
    /// Carry out a typed line; `true` to quit.
    pub(super) async fn on_line(&mut self, line: &str) -> bool {
        let command = match command::parse(line) {
            Ok(Some(command)) => command,
            Ok(None) => return false,
            Err(err) => {
                self.report(Report::Error(err.to_string()), None).await;
                return false;
            }
        };
        let current = self.rooms.current().map(|room| room.key);
        let report = match command {
            Command::Quit => return true,
            Command::Room(query) => match self.rooms.find(&query) {
                Ok(key) => {
                    self.rooms.set_current(key);
                    self.query = None;
                    let name = self.rooms.get(key).map(|r| r.name()).unwrap_or_default();
                    self.report(
                        Report::Info(format!("typed lines now go to {name}")),
                        Some(key),
                    )
                    .await;
                    return false;
                }
                Err(err) => Report::Error(err.to_string()),
            },
            Command::To(query, text) => match self.rooms.find(&query) {
                Ok(key) => {
                    self.say_in(key, text).await;
                    return false;
                }
                Err(err) => Report::Error(err.to_string()),
            },
            Command::Rooms => Report::Rooms(self.rooms.infos()),
            Command::Open(label) => {
                self.start_room(Start::Open, label, true);
                return false;
            }
            Command::Join(what) => {
                match self.join_start(what).await {
                    Ok(start) => {
                        self.start_room(start, None, true);
                    }
                    Err(err) => self.report(Report::Error(err), None).await,
                }
                return false;
            }
            Command::Part => {
                let Some(key) = current else {
                    self.report(Report::Error("no room to leave".into()), None)
                        .await;
                    return false;
                };
                // Gone from here at once; its session says goodbye in the background.
                if !self.sessions.part(key) {
                    self.report(
                        Report::Error("the room has ended already".into()),
                        Some(key),
                    )
                    .await;
                    return false;
                }
                let name = self.rooms.get(key).map(|r| r.name()).unwrap_or_default();
                self.report(Report::Info(format!("left {name}")), Some(key))
                    .await;
                self.rooms.remove(key);
                if self.rooms.is_empty() {
                    return true;
                }
                return false;
            }
            Command::Say(text) => {
                if let Some((peer, _)) = self.query {
                    self.send_direct(peer, text, false).await;
                } else if let Some(key) = current {
                    self.say_in(key, text).await;
                }
                return false;
            }
            Command::Send(path) if self.query.is_some() => {
                let Some((peer, _)) = self.query else {
                    return false;
                };
                match files::share(self.sessions.node(), &path).await {
                    Ok(file) => match self.direct.send_file(peer, file).await {
                        Ok(id) => {
                            self.pending_dms.insert(id);
                            return false;
                        }
                        Err(err) => Report::Error(err.to_string()),
                    },
                    Err(err) => Report::Error(err),
                }
            }

            Command::Get(arg) => {
                // `--force`: above --max-get too.
                let (handle, force) = match arg.split_once(char::is_whitespace) {
                    Some((handle, "--force")) => (handle.to_string(), true),
                    _ => (arg.clone(), false),
                };
                let hint = format!("/get {handle} --force fetches it anyway");
                match self.files.get(&handle, force, &hint) {
                    Ok(text) => Report::Info(text),
                    Err(err) => Report::Error(err),
                }
            }
            Command::Files => {
                let place = match self.query {
                    Some((peer, _)) => Some(Place::Direct(peer)),
                    None => current.map(Place::Room),
                };
                let lines = place.map(|at| self.files.list(at)).unwrap_or_default();
                Report::Info(format!(
                    "{} file(s) shared here: {}",
                    lines.len(),
                    lines.join("; ")
                ))
            }
            Command::Search(words) if self.query.is_some() => {
                let peer = self.query.as_ref().map(|(peer, _)| *peer);
                let me = self.direct.id();
                let report = match self.direct.search(peer, words).await {
                    Ok(found) => {
                        let found = found.into_iter().map(|m| direct::stored(m, &me));
                        Report::Found(found.collect())
                    }
                    Err(err) => Report::Error(err),
                };
                // About the conversation, not a room.
                self.report(report, None).await;
                return false;
            }
            Command::Me(text) if self.query.is_some() => {
                if let Some((peer, _)) = self.query {
                    self.send_direct(peer, text, true).await;
                }
                return false;
            }
            Command::Help => {
                let list: Vec<String> = COMMANDS
                    .iter()
                    .map(|(usage, what)| format!("{usage}: {what}"))
                    .collect();
                Report::Info(list.join("; "))
            }
            Command::Clear => Report::Info("/clear only applies to the terminal UI".to_string()),
            Command::Expand => Report::Info(
                "/expand only applies to the terminal UI: headless output is never cut".to_string(),
            ),
            Command::Msg(who, text) => {
                match self.find_member(&who).await {
                    Ok((peer, _)) => self.send_direct(peer, text, false).await,
                    Err(err) => self.report(Report::Error(err), None).await,
                }
                return false;
            }
            Command::Query(who) => match self.find_member(&who).await {
                Ok((peer, display)) => {
                    let message = format!(
                        "typed lines now go to {display} privately (/room: back to a room)"
                    );
                    self.query = Some((peer, display));
                    Report::Info(message)
                }
                Err(err) => Report::Error(err),
            },
            room_command => {
                let Some(key) = current else {
                    return false;
                };
                if let Some(report) = self.room_command(key, room_command).await {
                    self.report(report, Some(key)).await;
                }
                return false;
            }
        };
        self.report(report, current).await;
        false
    }

    /// A command about one room, for its session; `None` when the answer comes as an event.
    /// Held while the room is still starting, and carried out once it runs (see
    /// `Headless::on_update`), in the order typed.
    pub(super) async fn room_command(&mut self, key: u64, command: Command) -> Option<Report> {
        let command = match self.rooms.hold(key, command) {
            Ok(None) => return None,
            Ok(Some(command)) => command,
            Err(err) => return Some(Report::Error(err)),
        };
        let Some(session) = self.sessions.handle(key).cloned() else {
            return Some(Report::Error("the room has ended already".into()));
        };
        // A session that ended says so through its events; commands to it do nothing.
        match command {
            Command::Say(text) => {
                let _ = session.say(text).await;
                None
            }
            Command::Send(path) => match files::share(self.sessions.node(), &path).await {
                Ok(file) => {
                    let _ = session.share(file).await;
                    None
                }
                Err(err) => Some(Report::Error(err)),
            },
            Command::Me(text) => {
                let _ = session.act(text).await;
                None
            }
            Command::Nick(name) => {
                let _ = session.rename(name).await;
                None
            }
            Command::Who => session.members().await.ok().map(Report::Members),
            // Answered by the room with an event (or a refusal).
            Command::Ignore(who, ignore) => {
                let _ = session.ignore(who, ignore).await;
                None
            }
            Command::Ignored => {
                let _ = session.list_ignored().await;
                None
            }
            Command::Ticket => session.ticket().await.ok().map(Report::Ticket),
            Command::Net => session.net().await.ok().map(Report::Net),
            Command::Search(words) => Some(match session.search(words).await {
                Ok(found) => Report::Found(found),
                Err(err) => Report::Error(err),
            }),
            _ => None,
        }
    }

    /// The member `who` names among the members of every room, then everyone seen this run,
    /// or a whole key in hex: its key and how it is shown.
    async fn find_member(&self, who: &str) -> Result<(EndpointId, String), String> {
        let members = self.members().await;
        self.directory
            .resolve(who, members, Some(self.direct.id()))
            .map(|m| (m.id, m.display))
            .map_err(|refusal| refusal.to_string())
    }

    /// A direct message; it is reported (`dm`, then `dm_status`) once queued.
    async fn send_direct(&mut self, peer: EndpointId, text: String, action: bool) {
        match self.direct.send(peer, text, action).await {
            // Pending from now on: input ending waits for it (its events may come later).
            Ok(id) => {
                self.pending_dms.insert(id);
            }
            Err(err) => self.report(Report::Error(err.to_string()), None).await,
        }
    }

    /// A chat line to room `key` (held while it is still starting).
    async fn say_in(&mut self, key: u64, text: String) {
        if let Some(report) = self.room_command(key, Command::Say(text)).await {
            self.report(report, Some(key)).await;
        }
    }

    /// `/join TICKET|LABEL`: a ticket, else a known room, else a room on the LAN.
    async fn join_start(&self, what: String) -> Result<Start, String> {
        if let Some(room) = self.rooms.iter().find(|r| r.matches(&what)) {
            return Err(format!("already in {}", room.name()));
        }
        let start = self.sessions.resolve(what).await?;
        let topic = match &start {
            Start::Join(ticket) => Some(ticket.topic),
            Start::Rejoin { topic, .. } => Some(*topic),
            _ => None,
        };
        if let Some(room) = self
            .rooms
            .iter()
            .find(|r| r.topic.is_some() && r.topic == topic)
        {
            return Err(format!("already in {}", room.name()));
        }
        Ok(start)
    }
}

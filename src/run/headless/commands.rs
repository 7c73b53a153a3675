//! Typed lines in headless mode: what only headless decides (where typed lines go: `/room`,
//! `/query`; `/quit`; the terminal's own commands), the rest carried out by the front-end
//! core, and its replies printed.

use tokio::io::AsyncWrite;

use super::{Headless, requests};
use crate::app::command::{self, COMMANDS, Command};
use crate::front::{About, Answer, Reply, Target};
use crate::headless::Report;

impl<W: AsyncWrite + Unpin> Headless<W> {
    /// An input line: a request (`{"id": ..., "line": ...}` with `--json`) or a typed line;
    /// `true` to quit.
    pub(super) async fn on_input(&mut self, typed: &str) -> bool {
        let request = match requests::read_line(typed, self.json) {
            Ok(request) => request,
            Err((id, why)) => {
                self.re = id;
                self.report(Report::Error(why), None).await;
                self.re = None;
                return false;
            }
        };
        self.re = request.id;
        let quit = self.on_line(&request.line).await;
        self.re = None;
        quit
    }

    /// Carry out a typed line; `true` to quit.
    async fn on_line(&mut self, line: &str) -> bool {
        let command = match command::parse(line) {
            Ok(Some(command)) => command,
            Ok(None) => return false,
            Err(err) => {
                self.report(Report::Error(err.to_string()), None).await;
                return false;
            }
        };
        let current = self.core.rooms.current().map(|room| room.key);
        let report = match command {
            Command::Quit => return true,
            Command::Room(query) => match self.core.rooms.find(&query) {
                Ok(key) => {
                    self.core.rooms.set_current(key);
                    self.query = None;
                    let name = self
                        .core
                        .rooms
                        .get(key)
                        .map(|r| r.name())
                        .unwrap_or_default();
                    let report = Report::Info(format!("typed lines now go to {name}"));
                    self.report(report, Some(key)).await;
                    return false;
                }
                Err(err) => Report::Error(err.to_string()),
            },
            Command::Help => {
                let list: Vec<String> = COMMANDS
                    .iter()
                    .map(|(usage, what)| format!("{usage}: {what}"))
                    .collect();
                Report::Info(list.join("; "))
            }
            Command::Clear => Report::Info("/clear only applies to the terminal UI".to_string()),
            Command::Urls => Report::Info(
                "/urls only applies to the terminal UI: headless output carries every URL as sent"
                    .to_string(),
            ),
            Command::Expand => Report::Info(
                "/expand only applies to the terminal UI: headless output is never cut".to_string(),
            ),
            command => {
                // Typed lines go to the conversation `/query` opened, else the current room.
                let at = match &self.query {
                    Some((peer, _)) => Some(Target::Direct(*peer)),
                    None => current.map(Target::Room),
                };
                self.note_said(at, &command);
                let replies = self.core.execute(at, command).await;
                return self.present(replies).await;
            }
        };
        self.report(report, current).await;
        false
    }

    /// A line said in a room for a request: its `sent` (or refusal) answers the request too.
    fn note_said(&mut self, at: Option<Target>, command: &Command) {
        let Some(id) = self.re.clone() else {
            return;
        };
        let (key, text) = match (at, command) {
            (Some(Target::Room(key)), Command::Say(text) | Command::Me(text)) => (key, text),
            (_, Command::To(query, text)) => match self.core.rooms.find(query) {
                Ok(key) => (key, text),
                Err(_) => return,
            },
            _ => return,
        };
        self.requests.said(key, text.clone(), id);
    }

    /// Print what the core answered; `true` when nothing is left to do (the last room parted).
    pub(super) async fn present(&mut self, replies: Vec<Reply>) -> bool {
        let mut quit = false;
        for Reply { about, answer } in replies {
            let report = match answer {
                Answer::Info(text) => Report::Info(text),
                Answer::Error(why) => Report::Error(why),
                Answer::Members(members) => Report::Members(members),
                Answer::Ticket(ticket) => Report::Ticket(ticket),
                Answer::Net(net) => Report::Net(net),
                Answer::Found { found, .. } => Report::Found(found),
                Answer::Rooms(rooms) => Report::Rooms(rooms),
                Answer::Files(files) => Report::Files(files),
                Answer::Invite(invite) => Report::Invite(invite),
                Answer::Invites(invites) => Report::Invites(invites),
                Answer::DirectQueued(message) => {
                    if let Some(id) = self.re.clone() {
                        self.requests.direct(message, id);
                    }
                    continue;
                }
                Answer::Query { peer, display } => {
                    let text = format!(
                        "typed lines now go to {display} privately (/room: back to a room)"
                    );
                    self.query = Some((peer, display));
                    Report::Info(text)
                }
                // Said by the error before it.
                Answer::Unsent { .. } => continue,
                Answer::Parted(room) => {
                    self.report_in(&room, Report::Info(format!("left {}", room.name())))
                        .await;
                    quit |= self.core.rooms.is_empty();
                    continue;
                }
            };
            let room = match about {
                About::Room(key) => Some(key),
                // About the conversation, not a room.
                About::Direct(_) | About::Nothing => None,
            };
            self.report(report, room).await;
        }
        quit
    }
}

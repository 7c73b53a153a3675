//! What the terminal UI's effects do: commands about rooms and conversations go to the
//! front-end core; the terminal's own (clipboard, bell, mouse, path completion, loading a
//! conversation) are done here. The core's replies and the DM actor's events become messages
//! for the app.

use super::super::terminal::TerminalGuard;
use super::Tui;
use crate::app::command::Command;
use crate::app::{Effect, Msg};
use crate::config::Start;
use crate::front::{About, Answer, Reply, Target, direct};
use crate::proto::direct::DmState;
use crate::session::direct::DirectEvent;

/// Messages of a conversation shown when it opens (older ones: `/search`).
const CONVERSATION_LOADED: usize = 500;

/// The core's replies as messages for the app: about a room, for its view (wherever the user
/// is by then); about a conversation or nothing, for the view shown.
pub(super) fn present(replies: Vec<Reply>) -> Vec<Msg> {
    let mut msgs = Vec::new();
    for Reply { about, answer } in replies {
        let msg = match answer {
            Answer::Info(text) => Msg::Notice(text),
            Answer::Error(why) => Msg::Warning(why),
            Answer::Members(members) => Msg::Members(members),
            Answer::Ticket(ticket) => Msg::Ticket(ticket),
            Answer::Net(net) => Msg::NetView(net),
            Answer::Found { words, found } => Msg::Found { words, found },
            Answer::Files(files) => {
                let mut all = vec![Msg::Notice(format!("{} file(s) shared here", files.len()))];
                all.extend(files.into_iter().map(|f| Msg::Notice(format!("  {f}"))));
                Msg::Batch(all)
            }
            Answer::Rooms(rooms) => {
                let names: Vec<String> = rooms
                    .iter()
                    .map(|r| r.label.clone().unwrap_or_default())
                    .collect();
                Msg::Notice(format!("rooms: {}", names.join(", ")))
            }
            Answer::Unsent { peer, text, action } => Msg::Unsent { peer, text, action },
            // The app asked for these and shows them itself.
            Answer::Invite(invite) => Msg::Ticket(invite.text),
            Answer::Invites(invites) => {
                let offset = chrono::Local::now().offset().to_owned();
                Msg::Batch(
                    crate::present::private::invites_lines(&invites, &offset)
                        .lines()
                        .map(|line| Msg::Notice(line.trim_start_matches("* ").to_string()))
                        .collect(),
                )
            }
            Answer::Query { .. } | Answer::Parted(_) | Answer::DirectQueued(_) => continue,
        };
        msgs.push(match about {
            About::Room(view) => Msg::For(view, Box::new(msg)),
            About::Direct(_) | About::Nothing => msg,
        });
    }
    msgs
}

impl Tui {
    /// What the DM actor said, as a message for the app.
    pub(super) fn on_direct(&mut self, event: DirectEvent) -> Option<Msg> {
        let me = self.core.direct.id();
        Some(match event {
            DirectEvent::Message(message) => Msg::Direct(direct::line(message, &me, false)),
            DirectEvent::Status {
                id,
                peer,
                state: DmState::Delivered,
            } => Msg::Delivered { peer, id },
            DirectEvent::Status { .. } => return None,
            DirectEvent::Dropped { from, count } => Msg::Warning(direct::dropped(&from, count)),
            DirectEvent::Warning(text) => Msg::Warning(text),
        })
    }

    /// Where the view shown sends: its conversation, else its room.
    fn target(&self) -> Option<Target> {
        match self.app.direct_peer() {
            Some(peer) => Some(Target::Direct(peer)),
            None => self.app.current_view().map(Target::Room),
        }
    }

    /// A command for the core, about the view shown; its replies go to the app.
    async fn run(&mut self, command: Command) {
        let replies = self.core.execute(self.target(), command).await;
        self.tell(present(replies));
    }

    fn tell(&self, msgs: Vec<Msg>) {
        if !msgs.is_empty() {
            let _ = self.answers_tx.send(Msg::Batch(msgs));
        }
    }

    pub(super) async fn execute(&mut self, effect: Effect, guard: &mut TerminalGuard) {
        match effect {
            Effect::Open { view, name, label } => {
                self.start_room(view, Start::Open, Some(name), label);
            }
            Effect::Join { view, name, ticket } => {
                self.start_room(view, Start::Join(*ticket), Some(name), None);
            }
            Effect::Lock {
                from,
                view,
                name,
                label,
            } => {
                self.opened.insert(view);
                let replies = self
                    .core
                    .lock_room(from, view, Some(name), label, false)
                    .await;
                self.tell(present(replies));
            }
            Effect::Redeem { view, name, invite } => {
                self.start_room(view, Start::Invite(invite), Some(name), None);
            }
            Effect::JoinNearby { view, name, topic } => {
                self.start_room(view, Start::Lan(topic.to_string()), Some(name), None);
            }
            Effect::JoinKnown { view, name, room } => {
                self.start_room(view, Start::Known(room), Some(name), None);
            }
            Effect::Part(view) => {
                let replies = self.core.part(view);
                self.tell(present(replies));
            }
            Effect::SayIn(view, text) => {
                let replies = self
                    .core
                    .execute(Some(Target::Room(view)), Command::Say(text))
                    .await;
                self.tell(present(replies));
            }
            Effect::ForgetRoom(topic) => {
                let replies = self.core.forget_room(topic).await;
                self.tell(present(replies));
            }
            Effect::SendDirect { peer, text, action } => {
                let replies = self.core.send_direct(peer, text, action).await;
                self.tell(present(replies));
            }
            Effect::Typing => {
                if let Some(Target::Room(key)) = self.target()
                    && let Some(session) = self.core.sessions.handle(key)
                {
                    let _ = session.line(crate::proto::room::Input::Typing).await;
                }
            }
            Effect::Say(text) => self.run(Command::Say(text)).await,
            Effect::Act(text) => self.run(Command::Me(text)).await,
            Effect::Rename(name) => self.run(Command::Nick(name)).await,
            Effect::Ignore { who, ignore } => self.run(Command::Ignore(who, ignore)).await,
            Effect::ListIgnored => self.run(Command::Ignored).await,
            Effect::Search(words) => self.run(Command::Search(words)).await,
            Effect::ShowTicket => self.run(Command::Ticket).await,
            Effect::ShowNet => self.run(Command::Net).await,
            Effect::SendFile(path) => self.run(Command::Send(path)).await,
            Effect::ListFiles => self.run(Command::Files(None)).await,
            Effect::GetFile { handle, force } => {
                let about = match self.target() {
                    Some(Target::Room(view)) => About::Room(view),
                    _ => About::Nothing,
                };
                let reply = self.core.get(about, &handle, force);
                self.tell(present(vec![reply]));
            }
            Effect::LoadConversation { peer, .. } => {
                let (dm, me) = (self.core.direct.clone(), self.core.direct.id());
                self.answer_later(async move {
                    let lines = match dm.conversation(peer, CONVERSATION_LOADED).await {
                        Ok(messages) => messages
                            .into_iter()
                            .map(|m| Msg::Direct(direct::line(m, &me, true)))
                            .collect(),
                        Err(err) => vec![Msg::Warning(err)],
                    };
                    Some(Msg::Batch(lines))
                });
            }
            Effect::CompletePath { prefix } => {
                // Off the loop: a slow or hung directory (a network mount) never stalls typing.
                self.answer_later(async move {
                    let listing = {
                        let prefix = prefix.clone();
                        move || super::super::paths::path_candidates(&prefix)
                    };
                    let msg = match tokio::task::spawn_blocking(listing).await.ok()? {
                        Ok(candidates) => Msg::PathCompletions { prefix, candidates },
                        Err(err) => Msg::Notice(err),
                    };
                    Some(msg)
                });
            }
            Effect::Copy(text) => guard.copy(&text),
            Effect::Bell if self.core.config().ui.bell => guard.bell(),
            Effect::Bell => {}
            Effect::Notify { title, body } => {
                if let Some(warning) = self.notifier.send(guard, &title, &body) {
                    let _ = self.answers_tx.send(Msg::Warning(warning));
                }
            }
            Effect::Mouse(on) => {
                if let Err(err) = guard.set_mouse(on) {
                    let why = format!("could not turn mouse capture {}: {err}", on_off(on));
                    let _ = self.answers_tx.send(Msg::Warning(why));
                }
            }
            Effect::Quit => self.quit = true,
            Effect::Run(command) => self.run(command).await,
        }
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

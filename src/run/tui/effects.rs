//! What the terminal UI's effects do: through the current room's session, the DM actor, or
//! the terminal itself; and the DM actor's events as messages for the app.

use super::super::direct;
use super::super::files::Place;
use super::super::terminal::TerminalGuard;
use super::Tui;
use crate::app::views::ViewKey;
use crate::app::{Effect, Msg};
use crate::config::Start;
use crate::proto::EndpointId;
use crate::proto::direct::DmState;
use crate::session::direct::DirectEvent;

/// Lines held for a room that is still starting; more are refused (and shown).
const MAX_HELD: usize = 1000;
/// Messages of a conversation shown when it opens (older ones: `/search`).
const CONVERSATION_LOADED: usize = 500;

impl Tui {
    /// An effect about "the room" while a conversation is shown: searching searches it,
    /// renaming renames us in direct messages; the rest only makes sense in a room. Returns
    /// what is left to carry out.
    fn in_conversation(&mut self, peer: EndpointId, effect: Effect) -> Option<Effect> {
        let not_here = |what: &str| {
            Msg::Warning(format!(
                "{what} is about a room; this is a private conversation (Alt-1..9: rooms)"
            ))
        };
        let msg = match effect {
            Effect::Search(words) => {
                let (dm, me) = (self.direct.clone(), self.direct.id());
                self.answer_later(async move {
                    Some(match dm.search(Some(peer), words.clone()).await {
                        Ok(found) => Msg::Found {
                            words,
                            found: found.into_iter().map(|m| direct::stored(m, &me)).collect(),
                        },
                        Err(err) => Msg::Warning(err),
                    })
                });
                return None;
            }
            Effect::Rename(name) => {
                self.direct.set_name(name.clone());
                Msg::Notice(format!(
                    "your direct messages now carry the name {name} (/nick in a room renames you there)"
                ))
            }
            Effect::SendFile(path) => {
                let (node, dm) = (self.sessions.node().clone(), self.direct.clone());
                self.answer_later(async move {
                    let file = match super::super::files::share(&node, &path).await {
                        Ok(file) => file,
                        Err(err) => return Some(Msg::Warning(err)),
                    };
                    // Shown once queued, as the DM actor reports every message of ours.
                    let sent = dm.send_file(peer, file).await;
                    sent.err().map(|err| Msg::Warning(err.to_string()))
                });
                return None;
            }
            Effect::ListFiles => {
                let lines = self.files.list(Place::Direct(peer));
                self.list_files(lines);
                return None;
            }
            Effect::ShowTicket => not_here("an invitation"),
            Effect::ShowNet => not_here("/net"),
            Effect::Ignore { .. } | Effect::ListIgnored => not_here("/ignore"),
            other => return Some(other),
        };
        let _ = self.answers_tx.send(msg);
        None
    }

    /// A line (or `/me` action) to the room of `view`; held while the room is still starting
    /// and sent once it runs (see `Tui::started`). A session that ended reports it through
    /// its events: lines to it do nothing.
    pub(super) async fn say(&mut self, view: ViewKey, text: String, action: bool) {
        if let Some(session) = self.sessions.handle(view) {
            let _ = if action {
                session.act(text).await
            } else {
                session.say(text).await
            };
            return;
        }
        let held = self.held.entry(view).or_default();
        if held.len() < MAX_HELD {
            held.push((text, action));
        } else {
            let why =
                format!("{MAX_HELD} lines already wait for this room to start; not sent: {text}");
            let _ = self.answers_tx.send(Msg::Warning(why));
        }
    }

    /// `/files`: its lines as notices.
    fn list_files(&self, lines: Vec<String>) {
        let mut msgs = vec![Msg::Notice(format!("{} file(s) shared here", lines.len()))];
        msgs.extend(lines.into_iter().map(|l| Msg::Notice(format!("  {l}"))));
        let _ = self.answers_tx.send(Msg::Batch(msgs));
    }

    /// What the DM actor said, as a message for the app.
    pub(super) fn on_direct(&mut self, event: DirectEvent) -> Option<Msg> {
        let me = self.direct.id();
        Some(match event {
            DirectEvent::Message(message) => {
                self.files.note_direct(&message, &me);
                Msg::Direct(direct::line(message, &me, false))
            }
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

    pub(super) async fn execute(&mut self, effect: Effect, guard: &mut TerminalGuard) {
        let session = self.current_session();
        let effect = match self.app.direct_peer() {
            Some(peer) => match self.in_conversation(peer, effect) {
                Some(effect) => effect,
                None => return,
            },
            None => effect,
        };
        let action = matches!(effect, Effect::Act(_));
        match effect {
            Effect::Open { view, name, label } => self.start_room(view, Start::Open, name, label),
            Effect::Join { view, name, ticket } => {
                self.start_room(view, Start::Join(*ticket), name, None);
            }
            Effect::JoinNearby { view, name, topic } => {
                self.start_room(view, Start::Lan(topic.to_string()), name, None);
            }
            Effect::JoinKnown { view, name, room } => {
                self.start_room(view, Start::Known(room), name, None);
            }
            Effect::Part(view) => {
                self.held.remove(&view);
                self.sessions.part(view);
            }
            // TODO(front-end core): forget the lobby entry in the store
            // (`set_open(topic, false)`); until then it is gone for this run only.
            Effect::ForgetRoom(_) => {}
            Effect::SayIn(view, text) => self.say(view, text, false).await,
            Effect::SendDirect { peer, text, action } => {
                // Queued on the store thread in the background: typing never waits on the
                // disk. The message itself comes back as an event once saved.
                let dm = self.direct.clone();
                self.answer_later(async move {
                    let err = dm.send(peer, text.clone(), action).await.err()?;
                    Some(Msg::Batch(vec![
                        Msg::Warning(err.to_string()),
                        Msg::Unsent { peer, text, action },
                    ]))
                });
            }
            Effect::LoadConversation { peer, .. } => {
                let (dm, me) = (self.direct.clone(), self.direct.id());
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
            Effect::Say(text) | Effect::Act(text) => {
                if let Some(view) = self.app.current_view() {
                    self.say(view, text, action).await;
                }
            }
            Effect::Rename(name) => {
                // Direct messages carry the name last chosen in any room.
                self.direct.set_name(name.clone());
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
            // Answers go to the room they were asked in, wherever the user is by then.
            Effect::Search(words) => {
                if let (Some(session), Some(view)) = (session, self.app.current_view()) {
                    self.answer_later(async move {
                        let msg = match session.search(words.clone()).await {
                            Ok(found) => Msg::Found { words, found },
                            Err(err) => Msg::Warning(err),
                        };
                        Some(Msg::For(view, Box::new(msg)))
                    });
                }
            }
            Effect::ShowTicket => {
                if let (Some(session), Some(view)) = (session, self.app.current_view()) {
                    self.answer_later(async move {
                        let ticket = session.ticket().await.ok()?;
                        Some(Msg::For(view, Box::new(Msg::Ticket(ticket))))
                    });
                }
            }
            Effect::ShowNet => {
                if let (Some(session), Some(view)) = (session, self.app.current_view()) {
                    self.answer_later(async move {
                        let net = session.net().await.ok()?;
                        Some(Msg::For(view, Box::new(Msg::NetView(net))))
                    });
                }
            }
            Effect::SendFile(path) => match (self.app.current_view(), session) {
                (Some(_), Some(session)) => {
                    let node = self.sessions.node().clone();
                    self.answer_later(async move {
                        let msg = match super::super::files::share(&node, &path).await {
                            Ok(file) => {
                                let _ = session.share(file).await;
                                return None;
                            }
                            Err(err) => Msg::Warning(err),
                        };
                        Some(msg)
                    });
                }
                _ => {
                    let why = "files are shared in a room that runs".to_string();
                    let _ = self.answers_tx.send(Msg::Warning(why));
                }
            },
            Effect::GetFile { handle, force } => {
                let hint =
                    format!("/get {handle} again (or Enter again on its line) fetches it anyway");
                let msg = match self.files.get(&handle, force, &hint) {
                    Ok(text) => Msg::Notice(text),
                    Err(err) => Msg::Warning(err),
                };
                let _ = self.answers_tx.send(msg);
            }
            Effect::ListFiles => {
                let lines = match self.app.current_view() {
                    Some(view) => self.files.list(Place::Room(view)),
                    None => Vec::new(),
                };
                self.list_files(lines);
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
            Effect::Bell if self.config.ui.bell => guard.bell(),
            Effect::Bell => {}
            Effect::Mouse(on) => {
                if let Err(err) = guard.set_mouse(on) {
                    let why = format!("could not turn mouse capture {}: {err}", on_off(on));
                    let _ = self.answers_tx.send(Msg::Warning(why));
                }
            }
            Effect::Quit => self.quit = true,
        }
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

//! Carrying out commands, the same for both front ends: in a room (held while it is still
//! starting), in a private conversation, or about the rooms and files as a whole.

use super::files::{self, Place};
use super::{About, Answer, Answers, Core, Reply, Target, direct};
use crate::app::command::Command;
use crate::config::Start;
use crate::proto::EndpointId;

impl Core {
    /// Carry out `command` for `at` (a room or a conversation; `None`: in none yet). What
    /// comes back says how it went; answers that take time may come later (see [`Answers`]).
    pub async fn execute(&mut self, at: Option<Target>, command: Command) -> Vec<Reply> {
        let about = match at {
            Some(Target::Room(key)) => About::Room(key),
            Some(Target::Direct(peer)) => About::Direct(peer),
            None => About::Nothing,
        };
        match command {
            Command::Msg(who, text) => match self.resolve(&who).await {
                Ok((peer, _)) => self.send_direct(peer, text, false).await,
                Err(why) => vec![Reply::error(about, why)],
            },
            Command::Query(who) => vec![match self.resolve(&who).await {
                Ok((peer, display)) => Reply::new(about, Answer::Query { peer, display }),
                Err(why) => Reply::error(about, why),
            }],
            Command::Rooms => vec![Reply::new(about, Answer::Rooms(self.rooms.infos()))],
            Command::Whois(who) => vec![match self.resolve(&who).await {
                Ok((peer, display)) => {
                    let mut rooms = Vec::new();
                    for room in self.rooms.iter() {
                        let session = self.sessions.handle(room.key);
                        let Some(Ok(members)) = (match session {
                            Some(session) => Some(session.members().await),
                            None => None,
                        }) else {
                            continue;
                        };
                        if members.iter().any(|m| m.id == peer) {
                            rooms.push(room.name());
                        }
                    }
                    let rooms = match rooms.is_empty() {
                        true => "in none of your rooms now".to_string(),
                        false => format!("in {}", rooms.join(", ")),
                    };
                    Reply::info(about, format!("{display}: key {peer}, {rooms}"))
                }
                Err(why) => Reply::error(about, why),
            }],
            Command::Files(Some(room)) => vec![match self.rooms.find(&room) {
                Ok(key) => {
                    let files = self.files.list(Place::Room(key));
                    Reply::new(About::Room(key), Answer::Files(files))
                }
                Err(err) => Reply::error(about, err.to_string()),
            }],
            Command::Get(arg) => vec![self.get(about, &arg, false)],
            Command::Unshare(handle) => vec![match self.files.unshare(&handle).await {
                Ok(text) => Reply::info(about, text),
                Err(why) => Reply::error(about, why),
            }],
            Command::To(query, text) => match self.rooms.find(&query) {
                Ok(key) => {
                    Box::pin(self.execute(Some(Target::Room(key)), Command::Say(text))).await
                }
                Err(err) => vec![Reply::error(about, err.to_string())],
            },
            Command::Open(label) => {
                let key = self.rooms.new_key();
                self.start_room(key, Start::Open, None, label, true);
                Vec::new()
            }
            Command::Join(what) => match self.join_start(what).await {
                Ok(start) => {
                    let key = self.rooms.new_key();
                    self.start_room(key, start, None, None, true);
                    Vec::new()
                }
                Err(why) => vec![Reply::error(about, why)],
            },
            command => match at {
                Some(Target::Room(key)) => self.in_room(key, command).await,
                Some(Target::Direct(peer)) => self.in_conversation(peer, command).await,
                None => vec![Reply::error(about, "not in a room yet (/open, /join)")],
            },
        }
    }

    /// A command about room `key`. Held while the room is still starting and carried out
    /// once it runs (see [`Core::absorb`]), in the order typed.
    async fn in_room(&mut self, key: super::RoomKey, command: Command) -> Vec<Reply> {
        let about = About::Room(key);
        match command {
            Command::Part => return self.part(key),
            // Known to the core (kept from the room's events), even while it starts.
            Command::Topic(None) => {
                let text = self.rooms.get(key).map(|room| room.describe_name());
                return vec![Reply::info(about, text.unwrap_or_default())];
            }
            Command::Files(None) => {
                return vec![Reply::new(
                    about,
                    Answer::Files(self.files.list(Place::Room(key))),
                )];
            }
            _ => {}
        }
        let command = match self.rooms.hold(key, command) {
            Ok(None) => return Vec::new(),
            Ok(Some(command)) => command,
            Err(why) => return vec![Reply::error(about, why)],
        };
        let Some(session) = self.sessions.handle(key).cloned() else {
            return vec![Reply::error(about, "the room has ended already")];
        };
        // A session that ended says so through its events; commands to it do nothing.
        match command {
            Command::Say(text) => {
                let _ = session.say(text).await;
            }
            Command::Me(text) => {
                let _ = session.act(text).await;
            }
            Command::Line(line) => {
                let _ = session.line(line.input()).await;
            }
            Command::Moderation(moderation) => {
                return self.moderate(key, session, moderation).await;
            }
            // Answered by the room with a `RoomNamed` event (or a refusal); a private room's
            // topic is its state's.
            Command::Topic(Some(text)) => {
                if let Ok(Some(_)) = session.state().await {
                    let action = crate::proto::state::Action::SetTopic(text);
                    return match session.moderate(action).await {
                        Ok(Err(why)) => vec![Reply::error(about, why)],
                        _ => Vec::new(),
                    };
                }
                let _ = session.set_room_name(text).await;
            }
            // Once the room took it, DMs and rooms opened later carry it too (`absorb`).
            Command::Nick(name) => {
                let _ = session.rename(name).await;
            }
            // Answered by the room with an event (or a refusal).
            Command::Ignore(who, ignore) => {
                let _ = session.ignore(who, ignore).await;
            }
            Command::Ignored => {
                let _ = session.list_ignored().await;
            }
            Command::Who => {
                if let Ok(members) = session.members().await {
                    return vec![Reply::new(about, Answer::Members(members))];
                }
            }
            Command::Ticket => {
                return self
                    .answer(async move {
                        let ticket = session.ticket().await.ok();
                        ticket
                            .map(|t| Reply::new(about, Answer::Ticket(t)))
                            .into_iter()
                            .collect()
                    })
                    .await;
            }
            Command::Net => {
                return self
                    .answer(async move {
                        let net = session.net().await.ok();
                        net.map(|n| Reply::new(about, Answer::Net(n)))
                            .into_iter()
                            .collect()
                    })
                    .await;
            }
            Command::Search(words) => {
                return self
                    .answer(async move {
                        vec![match session.search(words.clone()).await {
                            Ok(found) => Reply::new(about, Answer::Found { words, found }),
                            Err(why) => Reply::error(about, why),
                        }]
                    })
                    .await;
            }
            Command::Send(path) => {
                let (node, updates) = (self.node.clone(), self.files.updates());
                // Hashing a big file takes a while: off the front end's loop.
                return self
                    .answer(async move {
                        match files::share(&node, &path, Place::Room(key), updates).await {
                            Ok(file) => {
                                let _ = session.share(file).await;
                                Vec::new()
                            }
                            Err(why) => vec![Reply::error(about, why)],
                        }
                    })
                    .await;
            }
            other => {
                let why = format!("{other:?} is not about one room");
                return vec![Reply::error(about, why)];
            }
        }
        Vec::new()
    }

    /// A command in the private conversation with `peer`.
    async fn in_conversation(&mut self, peer: EndpointId, command: Command) -> Vec<Reply> {
        let about = About::Direct(peer);
        let not_here = |what: &str| {
            vec![Reply::error(
                about,
                format!(
                    "{what} is about a room; this is a private conversation (/room: back to a room)"
                ),
            )]
        };
        match command {
            Command::Say(text) => self.send_direct(peer, text, false).await,
            Command::Me(text) => self.send_direct(peer, text, true).await,
            Command::Nick(name) => {
                self.direct.set_name(name.clone());
                let text = format!(
                    "your direct messages now carry the name {name} (/nick in a room renames you there)"
                );
                vec![Reply::info(about, text)]
            }
            Command::Search(words) => {
                let (dm, me) = (self.direct.clone(), self.direct.id());
                self.answer(async move {
                    vec![match dm.search(Some(peer), words.clone()).await {
                        Ok(found) => {
                            let found = found.into_iter().map(|m| direct::stored(m, &me)).collect();
                            Reply::new(about, Answer::Found { words, found })
                        }
                        Err(why) => Reply::error(about, why),
                    }]
                })
                .await
            }
            Command::Send(path) => {
                let (node, dm) = (self.node.clone(), self.direct.clone());
                let updates = self.files.updates();
                self.answer(async move {
                    let file = match files::share(&node, &path, Place::Direct(peer), updates).await
                    {
                        Ok(file) => file,
                        Err(why) => return vec![Reply::error(about, why)],
                    };
                    // Shown once queued, as the DM actor reports every message of ours.
                    match dm.send_file(peer, file).await {
                        Ok(_) => Vec::new(),
                        Err(err) => vec![Reply::error(about, err.to_string())],
                    }
                })
                .await
            }
            Command::Files(None) => {
                vec![Reply::new(
                    about,
                    Answer::Files(self.files.list(Place::Direct(peer))),
                )]
            }
            Command::Ticket => not_here("an invitation"),
            Command::Net => not_here("/net"),
            Command::Who => not_here("/who"),
            Command::Part => not_here("/part"),
            Command::Topic(_) => not_here("/topic"),
            Command::Moderation(_) => not_here("that"),
            Command::Ignore(..) | Command::Ignored => not_here("/ignore"),
            Command::Line(line) => self.line_in_conversation(peer, line).await,
            other => vec![Reply::error(
                about,
                format!("{other:?} is not about a conversation"),
            )],
        }
    }

    /// A direct message to `peer`; it is reported (as a DM event) once queued.
    pub async fn send_direct(
        &mut self,
        peer: EndpointId,
        text: String,
        action: bool,
    ) -> Vec<Reply> {
        let about = About::Direct(peer);
        let dm = self.direct.clone();
        let unsent = move |err: String, text: String| {
            vec![
                Reply::error(about, err),
                Reply::new(about, Answer::Unsent { peer, text, action }),
            ]
        };
        match self.answers {
            // Pending from now on: input ending waits for it (its events may come later).
            Answers::InOrder => match dm.send(peer, text.clone(), action).await {
                Ok(id) => {
                    self.pending_dms.insert(id);
                    vec![Reply::new(about, Answer::DirectQueued(id))]
                }
                Err(err) => unsent(err.to_string(), text),
            },
            // Queued on the store thread in the background: typing never waits on the disk.
            Answers::Later => {
                self.answer(async move {
                    match dm.send(peer, text.clone(), action).await {
                        Ok(_) => Vec::new(),
                        Err(err) => unsent(err.to_string(), text),
                    }
                })
                .await
            }
        }
    }

    /// `/get HANDLE [--force]`; `force`: asked for twice (terminal UI), so even above
    /// `--max-get`.
    pub fn get(&mut self, about: About, arg: &str, force: bool) -> Reply {
        let (handle, force) = match arg.split_once(char::is_whitespace) {
            Some((handle, flag)) if flag.trim() == "--force" => (handle, true),
            _ => (arg.trim(), force),
        };
        let hint = format!("/get {handle} --force fetches it anyway (or /get it again)");
        match self.files.get(handle, force, &hint) {
            Ok(text) => Reply::info(about, text),
            Err(why) => Reply::error(about, why),
        }
    }

    /// `/part` of room `key`: gone from our rooms at once; its session says goodbye in the
    /// background (a room still starting, as soon as it runs).
    pub fn part(&mut self, key: super::RoomKey) -> Vec<Reply> {
        let about = About::Room(key);
        if !self.sessions.part(key) {
            return vec![Reply::error(about, "the room has ended already")];
        }
        match self.rooms.remove(key) {
            Some(room) => vec![Reply::new(about, Answer::Parted(Box::new(room)))],
            None => Vec::new(),
        }
    }

    /// The member `who` names among the members of every room, then everyone seen this run,
    /// or a whole key in hex: its key and how it is shown.
    pub(super) async fn resolve(&self, who: &str) -> Result<(EndpointId, String), String> {
        let members = self.members().await;
        self.directory
            .resolve(who, members, Some(self.direct.id()))
            .map(|m| (m.id, m.display))
            .map_err(|refusal| refusal.to_string())
    }

    /// `/join TICKET|LABEL`: a ticket, else a known room, else a room on the LAN; never a
    /// room we are in already.
    pub async fn join_start(&self, what: String) -> Result<Start, String> {
        if let Some(room) = self.rooms.iter().find(|r| r.matches(&what)) {
            return Err(format!("already in {}", room.name()));
        }
        let start = self.sessions.resolve(what).await?;
        let topic = match &start {
            Start::Join(ticket) => Some(ticket.topic),
            Start::Rejoin { topic, .. } => Some(*topic),
            Start::Invite(invite) => Some(super::private::invite_topic(invite)),
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

//! The terminal UI's state and its Elm-style update: `App::update(msg, now) -> Vec<Effect>`.
//!
//! Contract: pure. Keys, pastes, mouse and room events come in as [`Msg`]; what the outside
//! world must do (send, rename, copy, ring the bell, quit) goes out as [`Effect`]. Never touches
//! the network or the terminal; `ui::view` draws from `&App`.

pub mod command;
pub mod complete;
pub mod complete_path;
pub mod editor;
pub mod help;
pub mod keys;
pub mod layout;
pub mod lobby;
pub mod log;
pub mod net;
pub mod notices;
pub mod recall;
pub mod time;
pub mod wrap;

mod chat;
pub mod direct;
mod events;
#[cfg(test)]
pub(crate) mod fixtures;
mod msg;
mod pick;
mod popup;
mod quit;
mod rooms;
pub mod views;

use chrono::FixedOffset;
use ratatui::layout::Rect;

use self::complete::Completion;
use self::editor::Editor;
use self::lobby::Lobby;
use self::log::{ChatLog, Entry, EntryKind};
use self::recall::Recall;
use self::views::Views;
use crate::proto::{MemberInfo, TopicId, UnixMillis};
use crate::store::StoredMessage;
pub use msg::{Effect, Msg, Transfer};

#[derive(Debug, Clone)]
pub enum Screen {
    Lobby(Lobby),
    Chat,
}

/// How we are connected to the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Dialing the ticket's peers.
    Joining,
    /// In the room with no direct neighbour (the opener before anyone joins).
    Waiting,
    /// Lost every neighbour; dialing the room's known peers.
    Reconnecting,
    /// No neighbour and no network.
    Offline,
    Connected(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub ticket: String,
    /// An OSC 52 copy was sent to the terminal.
    pub copied: bool,
}

pub struct App {
    pub screen: Screen,
    /// The rooms and conversations; the current one's state is in the fields below.
    pub views: Views,
    pub me: Option<MemberInfo>,
    pub topic: Option<TopicId>,
    pub members: Vec<MemberInfo>,
    /// Everyone seen in any view this run, for `/msg` and `/query` (see `app::direct`).
    directory: crate::proto::Directory,
    /// Members whose connection goes through a relay.
    pub relayed: Vec<crate::proto::EndpointId>,
    pub link: Link,
    /// Lost every connection to the room and not back yet (for the notices on the way).
    cut_off: bool,
    pub log: ChatLog,
    pub input: Editor,
    recall: Recall,
    completion: Option<Completion>,
    /// The invite popup, when shown.
    pub invite: Option<Invite>,
    /// The help overlay, when shown (over the invite, if both are).
    pub help: Option<help::Help>,
    /// Whether the terminal reports the mouse to us (wheel scrolling) rather than letting
    /// the user select text; the run layer sets it from the config and carries out toggles.
    pub mouse: bool,
    pub last_error: Option<String>,
    /// A file being fetched (the status bar shows it).
    pub transfer: Option<Transfer>,
    /// `/get` of a file above `--max-get` asked once: the next `/get` of it goes.
    asked_get: Option<String>,
    /// The rooms we were in at start, offered by the lobby.
    pub stored_rooms: Vec<lobby::StoredRoom>,
    /// The name to enter rooms with before any room knows us (from the command line or
    /// the lobby).
    pub default_name: String,
    /// When Ctrl-C was pressed with a draft typed: a second press soon after quits.
    quit_armed: Option<UnixMillis>,
    /// The terminal's size.
    pub area: Rect,
    /// Where message times are shown (the local zone; UTC in tests).
    pub offset: FixedOffset,
}

impl App {
    /// Start in the lobby (`lobby_name`: the name to prefill) or, with `None`, straight in
    /// the chat screen while the session starts.
    pub fn new(lobby_name: Option<&str>, area: Rect, offset: FixedOffset) -> Self {
        Self {
            screen: match lobby_name {
                Some(name) => Screen::Lobby(Lobby::new(name)),
                None => Screen::Chat,
            },
            views: Views::default(),
            me: None,
            topic: None,
            members: Vec::new(),
            directory: Default::default(),
            relayed: Vec::new(),
            link: Link::Joining,
            cut_off: false,
            log: ChatLog::with_time(log::TimeStyle::new(offset, "%H:%M")),
            input: Editor::default(),
            recall: Recall::default(),
            completion: None,
            invite: None,
            help: None,
            mouse: true,
            last_error: None,
            transfer: None,
            asked_get: None,
            stored_rooms: Vec::new(),
            default_name: lobby_name.unwrap_or_default().to_string(),
            quit_armed: None,
            area,
            offset,
        }
    }

    /// How I am shown right now: with a fingerprint while someone shares my name.
    pub fn my_display(&self) -> Option<&str> {
        let me = self.me.as_ref()?;
        let current = self.members.iter().find(|m| m.id == me.id).unwrap_or(me);
        Some(&current.display)
    }

    pub fn layout(&self) -> layout::ChatLayout {
        layout::chat_layout(
            self.area,
            &self.input,
            self.views.tabs.len(),
            self.direct_peer().is_none(),
        )
    }

    fn history_cols(&self) -> usize {
        self.layout().history.width as usize
    }

    fn notice(&mut self, now: UnixMillis, text: String) {
        let cols = self.history_cols();
        let entry = Entry::new(now, EntryKind::Notice(text));
        self.log.push(entry, cols);
    }

    fn error(&mut self, now: UnixMillis, text: String) {
        let cols = self.history_cols();
        self.last_error = Some(text.clone());
        let entry = Entry::new(now, EntryKind::Error(text));
        self.log.push(entry, cols);
    }

    /// Show times with `format` (strftime, checked by the config) in every view.
    pub fn set_time_format(&mut self, format: &str) {
        let time = log::TimeStyle::new(self.offset, format);
        for log in self.views.parked_logs() {
            log.time = time.clone();
        }
        self.log.time = time;
    }

    pub fn update(&mut self, msg: Msg, now: UnixMillis) -> Vec<Effect> {
        self.log.time.set_today(now);
        match msg {
            Msg::For(view, msg) => return self.update_view(view, *msg, now),
            Msg::Key(key) => return self.on_key(key, now),
            Msg::Paste(text) => self.on_paste(&text),
            Msg::Mouse(mouse) => self.on_mouse(mouse),
            Msg::Resize(width, height) => self.area = Rect::new(0, 0, width, height),
            Msg::Ready {
                me,
                topic,
                ticket,
                opened,
            } => {
                self.notice(
                    now,
                    format!("you are {} in room {}", me.display, topic.fmt_short()),
                );
                self.me = Some(me);
                self.topic = Some(topic);
                if self.link == Link::Joining {
                    self.link = Link::Waiting;
                }
                if opened {
                    self.notice(now, "waiting for others: share the ticket (Ctrl-T)".into());
                    self.show_invite(ticket);
                }
            }
            Msg::Room(event) => return self.on_room_event(event, now),
            Msg::Members(members) => {
                for member in &members {
                    self.directory.note(member);
                }
                self.members = members;
            }
            Msg::Ticket(ticket) => self.show_invite(ticket),
            Msg::TicketChanged(ticket) => {
                if let Some(invite) = &mut self.invite {
                    *invite = Invite {
                        ticket,
                        copied: false,
                    };
                }
            }
            Msg::Net(state) => self.on_net(state, now),
            Msg::NetView(view) => {
                for line in net::net_lines(&view) {
                    self.notice(now, line);
                }
            }
            Msg::Relayed(ids) => self.relayed = ids,
            Msg::Nearby(rooms) => {
                if let Screen::Lobby(lobby) = &mut self.screen {
                    lobby.nearby = rooms;
                }
            }
            Msg::Batch(msgs) => {
                let mut effects = Vec::new();
                for msg in msgs {
                    effects.extend(self.update(msg, now));
                }
                return effects;
            }
            Msg::Notice(text) => self.notice(now, text),
            Msg::Transfer(transfer) => self.transfer = transfer,
            Msg::Unsent { peer, text, action } => self.unsent(peer, text, action, now),
            Msg::Direct(line) => return self.on_direct(line, now),
            Msg::Delivered { peer, id } => self.on_delivered(peer, id),
            Msg::StoredRooms(rooms) => {
                if let Screen::Lobby(lobby) = &mut self.screen {
                    lobby.set_rooms(rooms.clone());
                }
                self.stored_rooms = rooms;
            }
            Msg::Warning(text) => self.error(now, text),
            Msg::Found { words, found } => self.show_found(now, &words, found),
            Msg::PathCompletions { prefix, candidates } => {
                self.on_path_completions(&prefix, candidates);
            }
            Msg::Failed(reason) => {
                let name = self.me.as_ref().map_or("", |m| m.name.as_str()).to_string();
                let lobby = match std::mem::replace(&mut self.screen, Screen::Chat) {
                    Screen::Lobby(mut lobby) => {
                        lobby.error = Some(reason);
                        lobby
                    }
                    Screen::Chat => self.lobby(&name, Some(reason)),
                };
                self.screen = Screen::Lobby(lobby);
                self.link = Link::Joining;
            }
        }
        Vec::new()
    }
}

impl App {
    /// The lobby, back after the last room closed: offering the rooms we were in at start.
    fn lobby(&self, name: &str, error: Option<String>) -> Lobby {
        let mut lobby = Lobby::new(name);
        lobby.set_rooms(self.stored_rooms.clone());
        lobby.error = error;
        lobby
    }

    fn show_found(&mut self, now: UnixMillis, words: &str, found: Vec<StoredMessage>) {
        if found.is_empty() {
            self.notice(now, format!("no message matches \"{words}\""));
            return;
        }
        let count = found.len();
        self.notice(
            now,
            format!("{count} found for \"{words}\" (newest first):"),
        );
        for m in found {
            let time = log::format_time(m.sent, &self.offset, "%Y-%m-%d %H:%M");
            self.notice(now, format!("  {time} {}: {}", m.display, m.text));
        }
    }
}

/// Whether `text` names `name` as a whole word, ignoring case.
pub fn mentions(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    let name = name.to_lowercase();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(&name).any(|(i, m)| {
        let before = text[..i].chars().next_back();
        let after = text[i + m.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "rooms_tests.rs"]
mod rooms_tests;

#[cfg(test)]
#[path = "files_tests.rs"]
mod files_tests;

#[cfg(test)]
#[path = "keys_tests.rs"]
mod keys_tests;

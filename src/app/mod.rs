//! The terminal UI's state and its Elm-style update: `App::update(msg, now) -> Vec<Effect>`.
//!
//! Contract: pure. Keys, pastes, mouse and room events come in as [`Msg`]; what the outside
//! world must do (send, rename, copy, ring the bell, quit) goes out as [`Effect`]. Never touches
//! the network or the terminal; `ui::view` draws from `&App`.

pub(crate) mod command;
pub(crate) mod complete;
pub(crate) mod complete_path;
pub(crate) mod editor;
pub(crate) mod help;
pub(crate) mod keys;
pub(crate) mod layout;
pub(crate) mod lobby;
pub(crate) mod log;
pub(crate) mod moderation;
pub(crate) mod recall;
pub(crate) mod time;
pub(crate) mod wrap;

mod chat;
pub(crate) mod direct;
mod emoji;
mod events;
#[cfg(test)]
#[path = "pick_line_tests.rs"]
mod pick_line_tests;

#[cfg(test)]
pub(crate) mod fixtures;
mod line_marks;
mod link;
pub(crate) mod links;
mod msg;
mod notify;
mod pick;
pub mod pick_line;
mod popup;
pub(crate) mod private;
mod quit;
pub(crate) mod read;
mod rooms;
pub(crate) mod view;
pub(crate) mod views;

use chrono::FixedOffset;
use ratatui::layout::Rect;

use self::complete::Completion;
use self::lobby::Lobby;
use self::log::{Entry, EntryKind};
use self::recall::Recall;
use self::view::View;
use self::views::Views;
use crate::model::StoredMessage;
use crate::proto::UnixMillis;
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
    /// The rooms and conversations, each with its own state (see [`App::view`]).
    pub views: Views,
    /// Everyone seen in any view this run, for `/msg` and `/query` (see `app::direct`).
    directory: crate::proto::Directory,
    recall: Recall,
    completion: Option<Completion>,
    /// The help overlay, when shown (over the invite, if both are).
    pub help: Option<help::Help>,
    /// Whether the terminal reports the mouse to us (wheel scrolling) rather than letting
    /// the user select text; the run layer sets it from the config and carries out toggles.
    pub mouse: bool,
    /// A file being fetched (the status bar shows it).
    pub transfer: Option<Transfer>,
    /// `/get` of a file above `--max-get` asked once: the next `/get` of it goes.
    asked_get: Option<String>,
    /// Tell rooms we are typing (the config's `typing`).
    pub typing: bool,
    /// Picking a line to reply to, edit, delete, react to or copy (see `app::pick_line`).
    pub line_pick: Option<pick_line::LinePick>,
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
    /// The terminal has the focus (assumed until it reports otherwise): lines on screen are
    /// seen, and nothing needs a desktop notification.
    pub focused: bool,
    /// Where each view was left off in the last run, by [`read::read_key`].
    stored_reads: std::collections::HashMap<String, UnixMillis>,
    /// Highlight words and whom not to notify of (see [`notify`]).
    notifier: notify::Notifier,
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
            views: Views::with_time(log::TimeStyle::new(offset, "%H:%M")),
            directory: Default::default(),
            recall: Recall::default(),
            completion: None,
            help: None,
            mouse: true,
            transfer: None,
            asked_get: None,
            line_pick: None,
            typing: true,
            stored_rooms: Vec::new(),
            default_name: lobby_name.unwrap_or_default().to_string(),
            quit_armed: None,
            area,
            offset,
            focused: true,
            stored_reads: Default::default(),
            notifier: Default::default(),
        }
    }

    /// How I am shown right now: with a fingerprint while someone shares my name.
    pub fn my_display(&self) -> Option<&str> {
        let view = self.view();
        let me = view.me.as_ref()?;
        let current = view.members.iter().find(|m| m.id == me.id).unwrap_or(me);
        Some(&current.display)
    }

    /// The error the status bar shows: the current view's, while it has not expired.
    pub fn status_error(&self) -> Option<&str> {
        self.view().error.as_ref().map(|e| e.text.as_str())
    }

    /// When the app has something to do with no message coming in (an error to take off the
    /// status bar): the front end sends [`Msg::Tick`] then.
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        let errors = self.views.all().filter_map(View::error_deadline);
        errors
            .chain(self.views.all().filter_map(View::typing_deadline))
            .min()
    }

    pub fn layout(&self) -> layout::ChatLayout {
        layout::chat_layout(
            self.area,
            &self.view().input,
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
        self.view_mut().log.push(entry, cols);
    }

    /// An error in the view worked on: in its history, and in its status bar until it
    /// expires or something succeeds there (see [`view::ERROR_MS`]).
    fn error(&mut self, now: UnixMillis, text: String) {
        let cols = self.history_cols();
        let view = self.view_mut();
        view.error = Some(view::ViewError {
            text: text.clone(),
            at: now,
        });
        view.log.push(Entry::new(now, EntryKind::Error(text)), cols);
    }

    /// Something succeeded in the view worked on: its error is over.
    fn succeeded(&mut self) {
        self.view_mut().error = None;
    }

    /// Show times with `format` (strftime, checked by the config) in every view.
    pub fn set_time_format(&mut self, format: &str) {
        let time = log::TimeStyle::new(self.offset, format);
        for view in self.views.all_mut() {
            view.log.time = time.clone();
        }
    }

    /// Apply `msg`; then whatever is on screen now has been seen (see [`read`]).
    pub fn update(&mut self, msg: Msg, now: UnixMillis) -> Vec<Effect> {
        let effects = self.apply(msg, now);
        self.see(now);
        effects
    }

    fn apply(&mut self, msg: Msg, now: UnixMillis) -> Vec<Effect> {
        for view in self.views.all_mut() {
            view.expire_error(now);
            view.expire_typing(now);
        }
        self.view_mut().log.time.set_today(now);
        match msg {
            Msg::Tick => {}
            Msg::For(view, msg) => return self.update_view(view, *msg, now),
            Msg::Key(key) => return self.on_key(key, now),
            Msg::Paste(text) => self.on_paste(&text),
            Msg::Mouse(mouse) => self.on_mouse(mouse),
            Msg::Resize(width, height) => self.area = Rect::new(0, 0, width, height),
            Msg::Focus(focused) => self.set_focus(focused),
            Msg::Ready {
                me,
                topic,
                ticket,
                room_name,
                opened,
            } => {
                if let (Some(name), Some(tab)) = (room_name, self.views.target_tab_mut()) {
                    tab.set_room_name(name);
                }
                self.notice(
                    now,
                    format!("you are {} in room {}", me.display, topic.fmt_short()),
                );
                let view = self.view_mut();
                view.me = Some(me);
                view.topic = Some(topic);
                if view.link == Link::Joining {
                    view.link = Link::Waiting;
                }
                if opened {
                    self.notice(now, "waiting for others: share the ticket (Ctrl-T)".into());
                    self.show_invite(ticket);
                }
            }
            Msg::Room(event) => return self.on_room_event(event, now),
            Msg::Members(members) => self.on_members(members),
            Msg::RoomState(state) => self.on_room_state(state, now),
            Msg::Removed { by, reason, ban } => self.on_removed(by, &reason, ban, now),
            Msg::Knock { id, name, gone } => {
                let line = crate::present::private::knock_line(&id, &name, gone);
                self.notice(now, line.trim_start_matches("* ").to_string());
            }
            Msg::Ticket(ticket) => self.show_invite(ticket),
            Msg::TicketChanged(ticket) => {
                if let Some(invite) = &mut self.view_mut().invite {
                    *invite = Invite {
                        ticket,
                        copied: false,
                    };
                }
            }
            Msg::Net(state) => self.on_net(state, now),
            Msg::NetView(view) => {
                for line in crate::present::net::net_lines(&view) {
                    self.notice(now, line);
                }
            }
            Msg::Relayed(ids) => self.view_mut().relayed = ids,
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
                let me = self.view().me.as_ref();
                let name = me.map_or("", |m| m.name.as_str()).to_string();
                let lobby = match std::mem::replace(&mut self.screen, Screen::Chat) {
                    Screen::Lobby(mut lobby) => {
                        lobby.error = Some(reason);
                        lobby
                    }
                    Screen::Chat => self.lobby(&name, Some(reason)),
                };
                self.screen = Screen::Lobby(lobby);
                self.view_mut().link = Link::Joining;
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
            let time = crate::present::format_time(m.sent, &self.offset, "%Y-%m-%d %H:%M");
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

#[cfg(test)]
#[path = "view_tests.rs"]
mod view_tests;

#[cfg(test)]
#[path = "private_tests.rs"]
mod private_tests;

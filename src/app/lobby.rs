//! The lobby: `parlor` with no subcommand asks for your name, then rejoins the rooms you were
//! in (all preselected), opens a new room, joins one with a pasted ticket, or joins a room
//! announced on the LAN with one key (Alt-1..9).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::editor::Editor;
use super::keys::edit;
use crate::proto::TopicId;
use crate::proto::invite::Invite;
use crate::proto::names::clean_name;
use crate::proto::ticket::{Ticket, TicketError};

/// Rooms announced on the LAN that the lobby offers (Alt-1..9).
pub const MAX_NEARBY: usize = 9;

/// A room announced on the LAN, as the lobby lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearbyRoom {
    pub topic: TopicId,
    pub label: String,
    pub members: usize,
    /// Private: joining knocks, and an admin lets you in.
    pub private: bool,
}

/// A room we were in when parlor last ran, offered for rejoining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRoom {
    pub topic: TopicId,
    pub label: Option<String>,
    /// The name everyone in the room sees, when no label of ours names it.
    pub room_name: Option<String>,
}

impl StoredRoom {
    /// Its label, else the room's name, else its short topic.
    pub fn title(&self) -> String {
        self.label
            .clone()
            .or_else(|| self.room_name.clone())
            .unwrap_or_else(|| format!("#{}", self.topic.fmt_short()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Name,
    /// The list of rooms we were in (only when there are some).
    Rooms,
    Open,
    Ticket,
}

/// What the lobby decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Open {
        name: String,
    },
    Join {
        name: String,
        ticket: Box<Ticket>,
    },
    /// A private room's invite.
    Redeem {
        name: String,
        invite: Box<Invite>,
    },
    /// A room announced on the LAN.
    JoinNearby {
        name: String,
        topic: TopicId,
    },
    /// Rooms we were in.
    Rejoin {
        name: String,
        rooms: Vec<StoredRoom>,
    },
    /// A room we were in is not to be offered again (Delete on it).
    Forget(TopicId),
    Quit,
}

#[derive(Debug, Clone)]
pub struct Lobby {
    pub name: Editor,
    pub ticket: Editor,
    pub focus: Focus,
    /// Why the last attempt failed (bad name, bad ticket, nobody answered).
    pub error: Option<String>,
    /// Rooms announced on the LAN, refreshed every few seconds.
    pub nearby: Vec<NearbyRoom>,
    /// Rooms we were in, each with whether it is selected for rejoining.
    pub rooms: Vec<(StoredRoom, bool)>,
    /// The highlighted room of `rooms`.
    pub cursor: usize,
}

impl Lobby {
    pub fn new(name: &str) -> Self {
        Self {
            name: Editor::with_text(name),
            ticket: Editor::default(),
            focus: Focus::Name,
            error: None,
            nearby: Vec::new(),
            rooms: Vec::new(),
            cursor: 0,
        }
    }

    /// Offer `rooms` for rejoining, all selected.
    pub fn set_rooms(&mut self, rooms: Vec<StoredRoom>) {
        self.rooms = rooms.into_iter().map(|room| (room, true)).collect();
        self.cursor = 0;
    }

    fn move_focus(&mut self, forward: bool) {
        let rooms = !self.rooms.is_empty();
        self.focus = match (self.focus, forward) {
            (Focus::Name, true) if rooms => Focus::Rooms,
            (Focus::Name, true) | (Focus::Rooms, true) | (Focus::Ticket, false) => Focus::Open,
            (Focus::Open, true) => Focus::Ticket,
            (Focus::Open, false) if rooms => Focus::Rooms,
            (Focus::Ticket, true) | (Focus::Open, false) | (Focus::Rooms, false) => Focus::Name,
            (Focus::Name, false) => Focus::Ticket,
        };
    }

    /// Up and Down in the list of rooms move through it, and out of it at its ends.
    fn move_in_rooms(&mut self, down: bool) {
        match (down, self.cursor) {
            (false, 0) => self.move_focus(false),
            (false, _) => self.cursor -= 1,
            (true, c) if c + 1 >= self.rooms.len() => self.move_focus(true),
            (true, _) => self.cursor += 1,
        }
    }

    fn focused_editor(&mut self) -> Option<&mut Editor> {
        match self.focus {
            Focus::Name => Some(&mut self.name),
            Focus::Ticket => Some(&mut self.ticket),
            Focus::Open | Focus::Rooms => None,
        }
    }

    fn chosen_name(&mut self) -> Option<String> {
        let name = clean_name(self.name.text());
        if name.is_none() {
            self.error = Some("type a name first (letters, digits, punctuation)".into());
            self.focus = Focus::Name;
        }
        name
    }

    pub fn paste(&mut self, text: &str) {
        let single_line: String = match self.focus {
            // A name is one line; a ticket may arrive wrapped over several.
            Focus::Name => text.lines().next().unwrap_or_default().to_string(),
            _ => text.split_whitespace().collect(),
        };
        if let Some(editor) = self.focused_editor() {
            editor.insert(&single_line);
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Option<Choice> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => return Some(Choice::Quit),
            // As on the chat screen: Ctrl-D quits from an empty field, else deletes.
            KeyCode::Char('d') if ctrl && self.focused_editor().is_none_or(|e| e.is_empty()) => {
                return Some(Choice::Quit);
            }
            // Esc never drops what was typed: it only dismisses the error shown.
            KeyCode::Esc => self.error = None,
            KeyCode::Char(digit @ '1'..='9') if key.modifiers.contains(KeyModifiers::ALT) => {
                let index = digit as usize - '1' as usize;
                let topic = self.nearby.get(index)?.topic;
                return Some(Choice::JoinNearby {
                    name: self.chosen_name()?,
                    topic,
                });
            }
            KeyCode::Down if self.focus == Focus::Rooms => self.move_in_rooms(true),
            KeyCode::Up if self.focus == Focus::Rooms => self.move_in_rooms(false),
            KeyCode::Char(' ') if self.focus == Focus::Rooms => {
                if let Some((_, selected)) = self.rooms.get_mut(self.cursor) {
                    *selected = !*selected;
                }
            }
            KeyCode::Delete | KeyCode::Char('d') if self.focus == Focus::Rooms => {
                return self.forget();
            }
            KeyCode::Tab | KeyCode::Down => self.move_focus(true),
            KeyCode::BackTab | KeyCode::Up => self.move_focus(false),
            KeyCode::Enter => return self.submit(),
            _ => {
                if let Some(editor) = self.focused_editor() {
                    edit(editor, key);
                }
            }
        }
        None
    }

    /// What Enter in the name field does: the form's first action that has what it needs
    /// (a ticket typed, else the rooms selected, else a new room).
    pub fn default_action(&self) -> Focus {
        if !self.ticket.is_empty() {
            Focus::Ticket
        } else if self.rooms.iter().any(|(_, selected)| *selected) {
            Focus::Rooms
        } else {
            Focus::Open
        }
    }

    /// Delete on a room of the list: it goes, and is not offered again.
    fn forget(&mut self) -> Option<Choice> {
        if self.cursor >= self.rooms.len() {
            return None;
        }
        let (room, _) = self.rooms.remove(self.cursor);
        if self.rooms.is_empty() {
            self.cursor = 0;
            self.focus = Focus::Open;
        } else {
            self.cursor = self.cursor.min(self.rooms.len() - 1);
        }
        Some(Choice::Forget(room.topic))
    }

    fn submit(&mut self) -> Option<Choice> {
        match self.focus {
            // The name typed, Enter goes on as the form would: no extra key to press.
            Focus::Name => {
                self.chosen_name()?;
                self.submit_as(self.default_action())
            }
            focus => self.submit_as(focus),
        }
    }

    fn submit_as(&mut self, action: Focus) -> Option<Choice> {
        match action {
            Focus::Name => None,
            Focus::Rooms => {
                let rooms: Vec<StoredRoom> = self
                    .rooms
                    .iter()
                    .filter(|(_, selected)| *selected)
                    .map(|(room, _)| room.clone())
                    .collect();
                if rooms.is_empty() {
                    self.error = Some("select a room with Space first".into());
                    return None;
                }
                Some(Choice::Rejoin {
                    name: self.chosen_name()?,
                    rooms,
                })
            }
            Focus::Open => Some(Choice::Open {
                name: self.chosen_name()?,
            }),
            Focus::Ticket => {
                let ticket = match self.ticket.text().parse::<Ticket>() {
                    Ok(ticket) => ticket,
                    // A private room's invite, checked as `parlor join` checks it.
                    Err(TicketError::Invite) => {
                        match super::rooms::usable_invite(self.ticket.text()) {
                            Ok(invite) => {
                                return Some(Choice::Redeem {
                                    name: self.chosen_name()?,
                                    invite: Box::new(invite),
                                });
                            }
                            Err(err) => {
                                self.error = Some(err);
                                self.focus = Focus::Ticket;
                                return None;
                            }
                        }
                    }
                    Err(err) => {
                        self.error = Some(format!("invalid ticket: {err}"));
                        // There to be fixed, also when Enter was pressed in the name.
                        self.focus = Focus::Ticket;
                        return None;
                    }
                };
                Some(Choice::Join {
                    name: self.chosen_name()?,
                    ticket: Box::new(ticket),
                })
            }
        }
    }
}

#[cfg(test)]
#[path = "lobby_tests.rs"]
mod tests;

//! The lobby: `parlor` with no subcommand asks for your name, then opens a new room, joins
//! one with a pasted ticket, or joins a room announced on the LAN with one key (Alt-1..9).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::editor::Editor;
use super::keys::edit;
use crate::proto::TopicId;
use crate::proto::names::clean_name;
use crate::proto::ticket::Ticket;

/// Rooms announced on the LAN that the lobby offers (Alt-1..9).
pub const MAX_NEARBY: usize = 9;

/// A room announced on the LAN, as the lobby lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearbyRoom {
    pub topic: TopicId,
    pub label: String,
    pub members: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Name,
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
    /// A room announced on the LAN.
    JoinNearby {
        name: String,
        topic: TopicId,
    },
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
}

impl Lobby {
    pub fn new(name: &str) -> Self {
        Self {
            name: Editor::with_text(name),
            ticket: Editor::default(),
            focus: Focus::Name,
            error: None,
            nearby: Vec::new(),
        }
    }

    fn move_focus(&mut self, forward: bool) {
        self.focus = match (self.focus, forward) {
            (Focus::Name, true) | (Focus::Ticket, false) => Focus::Open,
            (Focus::Open, true) => Focus::Ticket,
            (Focus::Ticket, true) | (Focus::Open, false) => Focus::Name,
            (Focus::Name, false) => Focus::Ticket,
        };
    }

    fn focused_editor(&mut self) -> Option<&mut Editor> {
        match self.focus {
            Focus::Name => Some(&mut self.name),
            Focus::Ticket => Some(&mut self.ticket),
            Focus::Open => None,
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
            KeyCode::Esc => return Some(Choice::Quit),
            KeyCode::Char(digit @ '1'..='9') if key.modifiers.contains(KeyModifiers::ALT) => {
                let index = digit as usize - '1' as usize;
                let topic = self.nearby.get(index)?.topic;
                return Some(Choice::JoinNearby {
                    name: self.chosen_name()?,
                    topic,
                });
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

    fn submit(&mut self) -> Option<Choice> {
        match self.focus {
            Focus::Name => {
                self.chosen_name()?;
                self.focus = if self.ticket.is_empty() {
                    Focus::Open
                } else {
                    Focus::Ticket
                };
                None
            }
            Focus::Open => Some(Choice::Open {
                name: self.chosen_name()?,
            }),
            Focus::Ticket => {
                let ticket = match self.ticket.text().parse::<Ticket>() {
                    Ok(ticket) => ticket,
                    Err(err) => {
                        self.error = Some(format!("invalid ticket: {err}"));
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
mod tests {
    use super::*;
    use crate::proto::{EndpointAddr, SecretKey, TopicId};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn open_with_the_prefilled_name() {
        let mut lobby = Lobby::new("sam");
        assert_eq!(lobby.on_key(key(KeyCode::Enter)), None);
        assert_eq!(lobby.focus, Focus::Open);
        assert_eq!(
            lobby.on_key(key(KeyCode::Enter)),
            Some(Choice::Open { name: "sam".into() })
        );
    }

    #[test]
    fn join_needs_a_valid_ticket_and_keeps_what_was_typed() {
        let mut lobby = Lobby::new("sam");
        lobby.focus = Focus::Ticket;
        lobby.paste("not a ticket");
        assert_eq!(lobby.on_key(key(KeyCode::Enter)), None);
        assert!(
            lobby
                .error
                .as_deref()
                .unwrap()
                .starts_with("invalid ticket")
        );
        assert_eq!(
            lobby.ticket.text(),
            "notaticket",
            "the pasted text stays to be fixed"
        );

        let id = SecretKey::from_bytes(&[1; 32]).public();
        let addr = EndpointAddr::new(id).with_ip_addr("127.0.0.1:9".parse().unwrap());
        let ticket = Ticket::new(TopicId::from_bytes([2; 32]), vec![addr]);
        lobby.ticket.take();
        let text = ticket.to_string();
        lobby.paste(&format!("{}\n{}", &text[..20], &text[20..]));
        assert_eq!(
            lobby.on_key(key(KeyCode::Enter)),
            Some(Choice::Join {
                name: "sam".into(),
                ticket: Box::new(ticket)
            })
        );
    }

    #[test]
    fn alt_digit_joins_a_nearby_room() {
        let mut lobby = Lobby::new("sam");
        let alt = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT);
        assert_eq!(lobby.on_key(alt('1')), None, "nothing nearby yet");
        let topic = TopicId::from_bytes([3; 32]);
        lobby.nearby = vec![NearbyRoom {
            topic,
            label: "standup".into(),
            members: 2,
        }];
        assert_eq!(lobby.on_key(alt('2')), None);
        assert_eq!(
            lobby.on_key(alt('1')),
            Some(Choice::JoinNearby {
                name: "sam".into(),
                topic
            })
        );
        // A plain digit is typing.
        assert_eq!(lobby.on_key(key(KeyCode::Char('1'))), None);
        assert_eq!(lobby.name.text(), "sam1");
    }

    #[test]
    fn an_empty_name_is_refused() {
        let mut lobby = Lobby::new("");
        lobby.focus = Focus::Open;
        assert_eq!(lobby.on_key(key(KeyCode::Enter)), None);
        assert_eq!(lobby.focus, Focus::Name);
        assert!(lobby.error.is_some());
    }
}

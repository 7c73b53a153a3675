//! The rooms a front end is in: which exist, which is current (headless: where typed lines
//! go), and the commands typed for a room that is still starting (carried out once its
//! session runs).

use std::time::Duration;

use crate::app::command::Command;
pub use crate::model::RoomInfo;
use crate::model::{RoomKind, RoomStateView};
use crate::proto::TopicId;

use super::RoomKey;

/// Lines held for a room whose session has not started yet; more are refused.
const MAX_HELD: usize = 1000;
/// Input is not read while a room has this many of our lines waiting (held, or queued in its
/// session at the rate others accept): a pipe faster than the room waits instead of losing
/// lines to a full queue.
const READ_PAUSE_AT: usize = 256;

#[derive(Debug, Clone)]
pub struct Room {
    pub key: RoomKey,
    /// Known once ready (or from the store for a known room).
    pub topic: Option<TopicId>,
    pub label: Option<String>,
    /// The name everyone sees: the newest `/topic` (or the name opened with), else the
    /// ticket's until the room tells it.
    pub room_name: Option<String>,
    /// Who set [`Self::room_name`] (shown name), `None` for a ticket's name.
    pub room_named_by: Option<String>,
    pub ready: bool,
    /// A ticket's room: how long it may take to join.
    pub join_timeout: Option<Duration>,
    /// `Some` until the session started: lines and room commands typed meanwhile, carried
    /// out in order once it runs.
    pub held: Option<Vec<Command>>,
    /// Our lines waiting in its session (its last `Queued` event), and the count before it
    /// (headless says when lines start waiting and when the last went out).
    pub queued: usize,
    pub queued_before: usize,
    /// A private room's signed state, as last reported (`None`: a public room, or not yet).
    pub state: Option<RoomStateView>,
}

impl Room {
    /// How text lines and messages name the room: the user's own label, else the room's
    /// name, else its short topic.
    pub fn name(&self) -> String {
        match (&self.label, &self.room_name, &self.topic) {
            (Some(label), _, _) => label.clone(),
            (None, Some(name), _) => name.clone(),
            (None, None, Some(topic)) => topic.fmt_short(),
            (None, None, None) => format!("room {}", self.key),
        }
    }

    /// Whether `query` names this room: its label, its name, or a prefix of its topic (hex).
    pub fn matches(&self, query: &str) -> bool {
        let hex = query.trim_start_matches('#').to_ascii_lowercase();
        self.label.as_deref() == Some(query)
            || self.room_name.as_deref() == Some(query)
            || (!hex.is_empty() && self.topic.is_some_and(|t| t.to_string().starts_with(&hex)))
    }

    /// What `/topic` without text says.
    pub fn describe_name(&self) -> String {
        match (&self.room_name, &self.room_named_by) {
            (Some(name), Some(by)) => format!("room name: {name} (set by {by})"),
            (Some(name), None) => {
                format!("room name: {name} (from the ticket; nobody here set it yet)")
            }
            (None, _) => "this room has no name yet: /topic TEXT names it for everyone".into(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Rooms {
    list: Vec<Room>,
    current: Option<RoomKey>,
    next_key: RoomKey,
}

/// Why `/room` or `/to` found no single room.
#[derive(Debug, thiserror::Error)]
pub enum NoRoom {
    #[error("no room here is labelled {0:?} or has a topic starting with it (see /rooms)")]
    None(String),
    #[error("{0:?} matches several rooms ({1}); give more of the topic")]
    Several(String, String),
}

impl Rooms {
    /// A key no room has yet (the terminal UI uses its views' keys instead).
    pub fn new_key(&mut self) -> RoomKey {
        let key = self.next_key;
        self.next_key += 1;
        key
    }

    /// A new room, starting (its topic when known already); it becomes the current one when
    /// `current` (or when it is the first).
    pub fn add(
        &mut self,
        key: RoomKey,
        topic: Option<TopicId>,
        label: Option<String>,
        join_timeout: Option<Duration>,
        current: bool,
    ) {
        self.next_key = self.next_key.max(key + 1);
        self.list.push(Room {
            key,
            topic,
            label,
            room_name: None,
            room_named_by: None,
            ready: false,
            join_timeout,
            held: Some(Vec::new()),
            queued: 0,
            queued_before: 0,
            state: None,
        });
        if self.current.is_none() || current {
            self.current = Some(key);
        }
    }

    /// The session of `key` runs: the lines and commands held for it.
    pub fn started(&mut self, key: RoomKey) -> Vec<Command> {
        self.get_mut(key)
            .and_then(|room| room.held.take())
            .unwrap_or_default()
    }

    /// Room `key` is ready; `room_name`: the name it goes by so far, if any.
    pub fn ready(&mut self, key: RoomKey, topic: TopicId, room_name: Option<&str>) {
        if let Some(room) = self.get_mut(key) {
            room.topic = Some(topic);
            room.ready = true;
            if room_name.is_some() && room.room_named_by.is_none() {
                room.room_name = room_name.map(str::to_string);
            }
        }
    }

    /// Room `key` was named by a member (shown as `by`).
    pub fn named(&mut self, key: RoomKey, name: &str, by: &str) {
        if let Some(room) = self.get_mut(key) {
            room.room_name = Some(name.to_string());
            room.room_named_by = Some(by.to_string());
        }
    }

    /// Private room `key`'s state changed: its name is the state's; the state before.
    pub fn set_state(&mut self, key: RoomKey, state: &RoomStateView) -> Option<RoomStateView> {
        let room = self.get_mut(key)?;
        if !state.name.is_empty() {
            room.room_name = Some(state.name.clone());
            room.room_named_by = None;
        }
        room.state.replace(state.clone())
    }

    /// Room `key` reports `waiting` lines queued; the count before.
    pub fn set_queued(&mut self, key: RoomKey, waiting: usize) -> Option<usize> {
        let room = self.get_mut(key)?;
        room.queued_before = std::mem::replace(&mut room.queued, waiting);
        Some(room.queued_before)
    }

    /// Some room has so many of our lines waiting that input should wait too.
    pub fn backlogged(&self) -> bool {
        self.list
            .iter()
            .any(|room| room.queued + room.held.as_ref().map_or(0, Vec::len) >= READ_PAUSE_AT)
    }

    /// Lines held for rooms that never started.
    pub fn held(&self) -> usize {
        self.list
            .iter()
            .filter_map(|room| room.held.as_ref())
            .map(Vec::len)
            .sum()
    }

    /// Hold `command` (a line is `Command::Say`) for a room that is still starting; gives it
    /// back when the room runs already, an error when too many wait.
    pub fn hold(&mut self, key: RoomKey, command: Command) -> Result<Option<Command>, String> {
        let Some(held) = self.get_mut(key).and_then(|room| room.held.as_mut()) else {
            return Ok(Some(command));
        };
        if held.len() >= MAX_HELD {
            return Err(format!(
                "{MAX_HELD} lines already wait for this room to start; this one was not queued"
            ));
        }
        held.push(command);
        Ok(None)
    }

    pub fn remove(&mut self, key: RoomKey) -> Option<Room> {
        let index = self.list.iter().position(|room| room.key == key)?;
        let room = self.list.remove(index);
        if self.current == Some(key) {
            // The room entered before it (or the first) becomes current.
            self.current = self.list.get(index.saturating_sub(1)).map(|room| room.key);
        }
        Some(room)
    }

    pub fn get(&self, key: RoomKey) -> Option<&Room> {
        self.list.iter().find(|room| room.key == key)
    }

    fn get_mut(&mut self, key: RoomKey) -> Option<&mut Room> {
        self.list.iter_mut().find(|room| room.key == key)
    }

    pub fn current(&self) -> Option<&Room> {
        self.current.and_then(|key| self.get(key))
    }

    pub fn set_current(&mut self, key: RoomKey) {
        self.current = Some(key);
    }

    /// The one room `query` names.
    pub fn find(&self, query: &str) -> Result<RoomKey, NoRoom> {
        let found: Vec<&Room> = self.list.iter().filter(|r| r.matches(query)).collect();
        match found.as_slice() {
            [room] => Ok(room.key),
            [] => Err(NoRoom::None(query.to_string())),
            many => {
                // A label names exactly one room even if it also prefixes a topic.
                if let Some(room) = many.iter().find(|r| r.label.as_deref() == Some(query)) {
                    return Ok(room.key);
                }
                let names: Vec<String> = many.iter().map(|r| r.name()).collect();
                Err(NoRoom::Several(query.to_string(), names.join(", ")))
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Room> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// What `/rooms` shows.
    pub fn infos(&self) -> Vec<RoomInfo> {
        self.list
            .iter()
            .map(|room| RoomInfo {
                topic: room.topic,
                label: room.label.clone(),
                room_name: room.room_name.clone(),
                current: self.current == Some(room.key),
                ready: room.ready,
                kind: match room.state {
                    Some(_) => RoomKind::Private,
                    None => RoomKind::Public,
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_found_by_label_or_topic_prefix_and_the_current_one_follows() {
        let mut rooms = Rooms::default();
        let ops = rooms.new_key();
        rooms.add(ops, None, Some("ops".into()), None, true);
        let second = rooms.new_key();
        assert_eq!(second, 1);
        rooms.add(second, None, None, None, false);
        assert_eq!(
            rooms.current().map(|r| r.key),
            Some(ops),
            "the first stays current"
        );
        let other = rooms.new_key();
        rooms.add(other, None, None, None, true);
        assert_eq!(
            rooms.current().map(|r| r.key),
            Some(other),
            "/open and /join switch"
        );
        rooms.ready(ops, TopicId::from_bytes([0xab; 32]), None);
        rooms.ready(other, TopicId::from_bytes([0xac; 32]), None);
        rooms.remove(1);
        assert_eq!(rooms.find("ops").unwrap(), ops);
        assert_eq!(rooms.find("#abab").unwrap(), ops);
        assert_eq!(rooms.find("ACAC").unwrap(), other);
        assert!(matches!(rooms.find("a"), Err(NoRoom::Several(..))));
        assert!(matches!(rooms.find("zz"), Err(NoRoom::None(_))));
        rooms.remove(other);
        assert_eq!(rooms.current().map(|r| r.key), Some(ops));
    }

    #[test]
    fn lines_wait_for_a_room_that_is_starting() {
        let mut rooms = Rooms::default();
        let key = rooms.new_key();
        rooms.add(key, None, None, None, true);
        let say = |text: &str| Command::Say(text.to_string());
        assert_eq!(rooms.hold(key, say("early")), Ok(None));
        assert_eq!(rooms.hold(key, Command::Me("waves".into())), Ok(None));
        assert_eq!(
            rooms.started(key),
            vec![say("early"), Command::Me("waves".into())],
            "lines and commands, in the order typed"
        );
        assert_eq!(
            rooms.hold(key, say("late")),
            Ok(Some(say("late"))),
            "it runs now"
        );
    }

    #[test]
    fn input_waits_while_a_room_has_many_lines_waiting() {
        let mut rooms = Rooms::default();
        let starting = rooms.new_key();
        rooms.add(starting, None, None, None, true);
        for i in 0..READ_PAUSE_AT - 1 {
            assert_eq!(
                rooms.hold(starting, Command::Say(format!("line {i}"))),
                Ok(None)
            );
        }
        assert!(!rooms.backlogged());
        assert_eq!(
            rooms.hold(starting, Command::Say("one more".into())),
            Ok(None)
        );
        assert!(rooms.backlogged(), "held lines count");
        rooms.started(starting);
        assert!(!rooms.backlogged());
        assert_eq!(rooms.set_queued(starting, READ_PAUSE_AT), Some(0));
        assert!(rooms.backlogged(), "lines queued in the session count");
        assert_eq!(rooms.set_queued(starting, 3), Some(READ_PAUSE_AT));
        assert!(!rooms.backlogged());
    }
}

//! Requests with an id (`--json`): an input line `{"id": "...", "line": "..."}` is that line,
//! and every event it causes directly carries `"re": "<id>"`: its answer or error at once, and
//! later its `sent` (or the refusal), `dm` and `dm_status`. Lines are matched to their later
//! events by room and text (a room sends in the order said) and direct messages by their id.

use std::collections::{HashMap, VecDeque};

use crate::front::RoomKey;
use crate::proto::MessageId;
use crate::proto::room::{Attempt, Event};

/// Lines said with an id and not yet sent, per room; the oldest is forgotten past this (a
/// room queues at most 1,000 of ours).
const MAX_SAID: usize = 1024;
/// Direct messages with an id not yet delivered; the oldest is forgotten past this.
const MAX_DIRECT: usize = 4096;

/// What an input line asked, once read.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Request {
    pub id: Option<String>,
    pub line: String,
}

/// Read one input line: a JSON object with `line` (and `id`) when `json` and it looks like
/// one, else the line itself. A malformed request is an error naming what is wrong (with
/// the id when one could be read).
pub(super) fn read_line(typed: &str, json: bool) -> Result<Request, (Option<String>, String)> {
    let trimmed = typed.trim();
    if !json || !trimmed.starts_with('{') {
        return Ok(Request {
            id: None,
            line: typed.to_string(),
        });
    }
    let value: serde_json::Value = serde_json::from_str(trimmed)
        .map_err(|err| (None, format!("not a JSON request: {err}")))?;
    let id = match value.get("id") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(id)) => Some(id.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(_) => return Err((None, "a request's \"id\" is a string or a number".into())),
    };
    match value.get("line") {
        Some(serde_json::Value::String(line)) => Ok(Request {
            id,
            line: line.clone(),
        }),
        _ => Err((
            id,
            "a request needs \"line\": the line to carry out, as a string".into(),
        )),
    }
}

/// Which id each later event answers.
#[derive(Debug, Default)]
pub(super) struct Pending {
    said: HashMap<RoomKey, VecDeque<(String, String)>>,
    direct: HashMap<MessageId, String>,
    direct_order: VecDeque<MessageId>,
}

impl Pending {
    /// Line `text` was said in room `key` for request `id`.
    pub fn said(&mut self, key: RoomKey, text: String, id: String) {
        let said = self.said.entry(key).or_default();
        if said.len() >= MAX_SAID {
            said.pop_front();
        }
        said.push_back((text, id));
    }

    /// Direct message `message` was queued for request `id`.
    pub fn direct(&mut self, message: MessageId, id: String) {
        if self.direct_order.len() >= MAX_DIRECT
            && let Some(oldest) = self.direct_order.pop_front()
        {
            self.direct.remove(&oldest);
        }
        self.direct_order.push_back(message);
        self.direct.insert(message, id);
    }

    /// The request room `key`'s event answers: our line sent, or refused; lines starting to
    /// wait (nobody is there yet, or the pace) answer the line said last.
    pub fn room_event(&mut self, key: RoomKey, event: &Event) -> Option<String> {
        let text = match event {
            Event::Queued(_) => {
                return self.said.get(&key)?.back().map(|(_, id)| id.clone());
            }
            Event::MessageSent(line) => &line.text,
            Event::Refused {
                attempt: Attempt::Say(text) | Attempt::Act(text),
                ..
            } => text,
            _ => return None,
        };
        let said = self.said.get_mut(&key)?;
        let index = said.iter().position(|(said, _)| said == text)?;
        said.remove(index).map(|(_, id)| id)
    }

    /// The request a direct message's event answers; `done` once it was delivered.
    pub fn direct_event(&mut self, message: &MessageId, done: bool) -> Option<String> {
        if done {
            self.direct_order.retain(|m| m != message);
            self.direct.remove(message)
        } else {
            self.direct.get(message).cloned()
        }
    }

    /// Room `key` is gone: its lines will not be sent.
    pub fn room_gone(&mut self, key: RoomKey) {
        self.said.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_read_from_json_and_anything_else_is_a_line() {
        let read = |s: &str| read_line(s, true);
        assert_eq!(
            read(r#"{"id": "7", "line": "/who"}"#),
            Ok(Request {
                id: Some("7".into()),
                line: "/who".into()
            })
        );
        assert_eq!(
            read(r#"{"id": 42, "line": "hi"}"#).unwrap().id.as_deref(),
            Some("42")
        );
        assert_eq!(read("hello {there}").unwrap().line, "hello {there}");
        assert_eq!(
            read_line(r#"{"line": "x"}"#, false).unwrap().line,
            r#"{"line": "x"}"#
        );
        let (id, why) = read(r#"{"id": "a"}"#).unwrap_err();
        assert_eq!(id.as_deref(), Some("a"));
        assert!(why.contains("\"line\""), "{why}");
        assert!(
            read("{not json")
                .unwrap_err()
                .1
                .starts_with("not a JSON request")
        );
        assert!(read(r#"{"id": [1], "line": "x"}"#).is_err());
    }

    #[test]
    fn later_events_find_the_request_that_caused_them_and_memory_is_bounded() {
        use crate::proto::room::Refusal;
        let mut pending = Pending::default();
        pending.said(1, "same".into(), "a".into());
        pending.said(1, "same".into(), "b".into());
        pending.said(1, "other".into(), "c".into());
        let refused = |text: &str| {
            let too_long = Refusal::TooLong {
                text_bytes: 1,
                max_text_bytes: 0,
            };
            Event::refused(too_long, Attempt::Say(text.into()))
        };
        assert_eq!(
            pending.room_event(2, &refused("same")),
            None,
            "another room"
        );
        assert_eq!(
            pending.room_event(1, &Event::Queued(3)).as_deref(),
            Some("c"),
            "the line said last made lines wait"
        );
        assert_eq!(
            pending.room_event(1, &refused("other")).as_deref(),
            Some("c")
        );
        assert_eq!(
            pending.room_event(1, &refused("same")).as_deref(),
            Some("a"),
            "in order"
        );
        assert_eq!(
            pending.room_event(1, &refused("same")).as_deref(),
            Some("b")
        );
        assert_eq!(
            pending.room_event(1, &refused("same")),
            None,
            "said without an id"
        );
        for i in 0..MAX_SAID + 10 {
            pending.said(3, format!("{i}"), format!("{i}"));
        }
        assert_eq!(pending.said[&3].len(), MAX_SAID);
        pending.room_gone(3);
        assert!(!pending.said.contains_key(&3));

        let id = MessageId::from_bytes([1; 32]);
        pending.direct(id, "d".into());
        assert_eq!(pending.direct_event(&id, false).as_deref(), Some("d"));
        assert_eq!(pending.direct_event(&id, true).as_deref(), Some("d"));
        assert_eq!(pending.direct_event(&id, true), None);
        for i in 0..MAX_DIRECT + 10 {
            let mut bytes = [0; 32];
            bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
            pending.direct(MessageId::from_bytes(bytes), format!("{i}"));
        }
        assert_eq!(pending.direct.len(), MAX_DIRECT);
        assert_eq!(pending.direct_order.len(), MAX_DIRECT);
    }
}

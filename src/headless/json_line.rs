//! The JSON line of a chat line (`message`, `sent`), written straight into one buffer.
//!
//! It is what a member prints most, once for every line anyone says. The general path
//! ([`super::json::to_json`]) builds a `serde_json::Value` tree first (a map, and a string for
//! each field and id) and then copies the whole line again to escape it for terminals: about a
//! twentieth of a receiving member's CPU in the profile (README, Performance H). Here the
//! strings go through the same serde_json escaper, and the terminal check copies only when a
//! character needs it, so the bytes are exactly the general path's (a test compares them).

use std::io::Write as _;

use super::Report;
use super::json::{rfc3339, terminal_safe_owned};
use crate::proto::TopicId;
use crate::proto::room::{ChatLine, Event};

/// The line for `report` if it is a line received or sent (as `room_event` names them), about
/// `room`, answering request `re`; `None` for every other report (the general path's).
pub(super) fn for_report(
    report: &Report,
    room: Option<&TopicId>,
    re: Option<&str>,
) -> Option<String> {
    match report {
        Report::Room(Event::MessageReceived(line)) => chat_line("message", line, room, re),
        Report::Room(Event::MessageSent(line)) => chat_line("sent", line, room, re),
        _ => None,
    }
}

/// The line for `line` received (`kind` "message") or sent by us ("sent"), as the general
/// path prints those two events.
fn chat_line(
    kind: &str,
    line: &ChatLine,
    room: Option<&TopicId>,
    re: Option<&str>,
) -> Option<String> {
    let mut out = Vec::with_capacity(320 + line.text.len());
    // The fields in the general path's order (serde_json keeps insertion order here).
    field_str(&mut out, "{\"type\":", kind);
    field_display(&mut out, ",\"id\":", &line.id);
    field_display(&mut out, ",\"from\":", &line.author.id);
    field_str(&mut out, ",\"name\":", &line.author.name);
    field_str(&mut out, ",\"display\":", &line.author.display);
    field_str(&mut out, ",\"text\":", &line.text);
    field_str(&mut out, ",\"time\":", &rfc3339(line.sent));
    if line.action {
        out.extend_from_slice(b",\"action\":true");
    }
    if line.history {
        out.extend_from_slice(b",\"history\":true");
    }
    if let Some(parent) = &line.reply_to {
        field_display(&mut out, ",\"reply_to\":", parent);
    }
    if let Some(room) = room {
        field_display(&mut out, ",\"room\":", room);
    }
    if let Some(re) = re {
        field_str(&mut out, ",\"re\":", re);
    }
    out.push(b'}');
    // Only UTF-8 went in; were it ever otherwise, the general path still prints the line.
    let json = String::from_utf8(out).ok()?;
    Some(terminal_safe_owned(json))
}

/// `key` (with its punctuation), then `value` as a JSON string by serde_json's escaper.
fn field_str(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(key.as_bytes());
    // Writing into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// `key`, then an id or key as a JSON string (they print as hex: nothing to escape).
fn field_display(out: &mut Vec<u8>, key: &str, value: &impl std::fmt::Display) {
    out.extend_from_slice(key.as_bytes());
    let _ = write!(out, "\"{value}\"");
}

#[cfg(test)]
mod tests {
    use super::super::json::to_json;
    use super::super::{Report, json::terminal_safe};
    use super::*;
    use crate::app::fixtures::{self, member};
    use crate::proto::MessageId;

    fn line(text: &str) -> ChatLine {
        let mut author = member(7, "ann \"the\" \\ builder");
        author.display = "ann#1f2e".into();
        fixtures::line(&author, text, 3)
    }

    /// What the general path prints for the same report.
    fn general(event: Event, room: Option<&TopicId>, re: Option<&str>) -> String {
        terminal_safe(&to_json(&Report::Room(event), room, re))
    }

    #[test]
    fn the_same_bytes_as_the_general_path() {
        let topic = TopicId::from_bytes([3; 32]);
        let hostile = "a\u{1b}[2J\u{9b}31m\u{202e}olleh\u{2028}x\u{7f}\u{200b}\u{e0041}\u{feff}é🙂";
        let texts = [
            "plain text",
            "tab\there \"quoted\" \\ back",
            "line\nbreak",
            "naïve café 🙂, nothing to escape",
            hostile,
            "",
        ];
        for text in texts {
            let mut variants = vec![line(text)];
            let mut action = line(text);
            action.action = true;
            action.history = true;
            variants.push(action);
            let mut reply = line(text);
            reply.reply_to = Some(Box::new(MessageId::of(b"parent")));
            variants.push(reply);
            for chat in variants {
                for (room, re) in [(None, None), (Some(&topic), Some("req-1\u{1b}"))] {
                    let fast = chat_line("message", &chat, room, re).expect("a plain line");
                    let slow = general(Event::MessageReceived(chat.clone()), room, re);
                    assert_eq!(fast, slow);
                    let fast = chat_line("sent", &chat, room, re).expect("a plain line");
                    assert_eq!(fast, general(Event::MessageSent(chat.clone()), room, re));
                }
            }
        }
    }
}

//! `--json` lines: one object per event with a `type` field. Field names are a public interface
//! for scripts and bots: add fields, never rename them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::Report;
use crate::model::StoredMessage;
use crate::proto::direct::DirectMessage;
use crate::proto::room::{ChangeKind, ChatLine, Event, LeaveReason};
use crate::proto::{TopicId, UnixMillis};

/// Whether `c` must not reach a terminal raw: C0 and DEL, C1 (U+009B is a CSI on some
/// terminals), bidi controls, invisible format characters, line and paragraph separators, and
/// tag characters.
fn unsafe_for_terminals(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{ad}' | '\u{61c}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}'
        | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

/// A JSON line made safe to print on a terminal (`tail -f`): every character a terminal could
/// act on is written as a `\uXXXX` escape (a surrogate pair above U+FFFF), so the decoded text
/// stays exactly what was sent. Outside strings JSON is plain ASCII, so only string contents
/// change.
pub fn terminal_safe(json: &str) -> String {
    terminal_safe_owned(json.to_owned())
}

/// [`terminal_safe`] for a line already owned: returned as it is when nothing needs an escape
/// (the common case, with no copy).
pub fn terminal_safe_owned(json: String) -> String {
    if needs_escapes(&json) {
        escaped(&json)
    } else {
        json
    }
}

/// Whether a character of `json` is one [`terminal_safe`] escapes; printable ASCII (most
/// lines, wholly) is checked a byte at a time.
fn needs_escapes(json: &str) -> bool {
    let printable = |b: &u8| (0x20..0x7f).contains(b) || *b == b'\n';
    !json.as_bytes().iter().all(printable)
        && json.chars().any(|c| unsafe_for_terminals(c) && c != '\n')
}

/// `json` with every character a terminal could act on written as an escape.
fn escaped(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if unsafe_for_terminals(c) && c != '\n' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-25T02:34:40.123Z`.
pub fn rfc3339(time: UnixMillis) -> String {
    let millis = i64::try_from(time.0).unwrap_or(i64::MAX);
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn message(kind: &str, line: &ChatLine) -> Value {
    let mut value = json!({
        "type": kind,
        "id": line.id.to_string(),
        "from": line.author.id.to_string(),
        "name": line.author.name,
        "display": line.author.display,
        "text": line.text,
        "time": rfc3339(line.sent),
    });
    if line.action {
        value["action"] = Value::Bool(true);
    }
    if line.history {
        value["history"] = Value::Bool(true);
    }
    if let Some(parent) = &line.reply_to {
        value["reply_to"] = Value::String(parent.to_string());
    }
    value
}

/// A change to a line: `reaction`, `edited` or `deleted`, naming the line (`to`) and who.
fn change(line: &ChatLine) -> Value {
    let Some(change) = &line.change else {
        return message("message", line);
    };
    let (to, by) = (change.to.to_string(), line.author.id.to_string());
    let mut value = match &change.kind {
        ChangeKind::React { emoji, on } => json!({
            "type": "reaction", "to": to, "from": by, "display": line.author.display,
            "emoji": emoji, "on": on,
        }),
        ChangeKind::Edit => json!({
            "type": "edited", "to": to, "from": by, "display": line.author.display,
            "text": line.text,
        }),
        ChangeKind::Delete => json!({
            "type": "deleted", "to": to, "by": by, "display": line.author.display,
        }),
    };
    value["id"] = Value::String(line.id.to_string());
    value["time"] = Value::String(rfc3339(line.sent));
    if line.history {
        value["history"] = Value::Bool(true);
    }
    value
}

/// A stored message, as `search_result` events and `parlor export --format json` lines show it.
pub fn stored(kind: &str, m: &StoredMessage) -> Value {
    let mut value = json!({
        "type": kind,
        "id": m.id.to_string(),
        "from": m.author.to_string(),
        "name": m.name,
        "display": m.display,
        "text": m.text,
        "time": rfc3339(m.sent),
    });
    if m.action {
        value["action"] = Value::Bool(true);
    }
    if let Some(parent) = &m.reply_to {
        value["reply_to"] = Value::String(parent.to_string());
    }
    if m.edited {
        value["edited"] = Value::Bool(true);
    }
    if m.deleted {
        value["deleted"] = Value::Bool(true);
    }
    if !m.reactions.is_empty() {
        let reactions: Vec<Value> = m
            .reactions
            .iter()
            .map(|(emoji, who)| {
                let from: Vec<String> = who.iter().map(|id| id.to_string()).collect();
                json!({"emoji": emoji, "from": from})
            })
            .collect();
        value["reactions"] = Value::Array(reactions);
    }
    value
}

fn members(list: &[crate::proto::MemberInfo]) -> Vec<Value> {
    list.iter()
        .map(|m| json!({"id": m.id.to_string(), "name": m.name, "display": m.display}))
        .collect()
}

fn room_event(event: &Event) -> Value {
    match event {
        Event::MessageReceived(line) => message("message", line),
        Event::MessageSent(line) => message("sent", line),
        Event::Changed(line) => change(line),
        Event::Typing(m) => json!({
            "type": "typing", "from": m.id.to_string(), "name": m.name, "display": m.display,
        }),
        Event::MemberJoined(m) => {
            json!({"type": "joined", "from": m.id.to_string(), "name": m.name, "display": m.display})
        }
        Event::MemberLeft { member: m, reason } => json!({
            "type": "left",
            "from": m.id.to_string(),
            "name": m.name,
            "display": m.display,
            "reason": match reason { LeaveReason::Left => "left", LeaveReason::TimedOut => "timeout" },
        }),
        Event::MemberRenamed { member: m, old } => json!({
            "type": "renamed",
            "from": m.id.to_string(),
            "old": old,
            "new": m.name,
            "display": m.display,
        }),
        Event::NeighborsChanged(count) => json!({"type": "neighbors", "count": count}),
        Event::Lagged => json!({"type": "lagged"}),
        Event::Refused { refusal, .. } => json!({"type": "error", "message": refusal.to_string()}),
        Event::Flooded { member: m, dropped } => json!({
            "type": "flood",
            "from": m.id.to_string(),
            "name": m.name,
            "display": m.display,
            "dropped": dropped,
        }),
        Event::NameClash {
            member: m,
            owner,
            own,
        } => json!({
            "own": own,
            "type": "name_clash",
            "from": m.id.to_string(),
            "name": m.name,
            "display": m.display,
            "owner": owner.id.to_string(),
            "owner_display": owner.display,
        }),
        Event::Ignored { member: m, ignored } => json!({
            "type": "ignored",
            "from": m.id.to_string(),
            "name": m.name,
            "display": m.display,
            "ignored": ignored,
        }),
        Event::IgnoredList(list) => json!({"type": "ignored_list", "members": members(list)}),
        Event::Queued(count) => json!({"type": "queued", "count": count}),
        Event::RoomNamed { name, by, sent } => json!({
            "type": "room_name",
            "name": name,
            "by": by.display,
            "from": by.id.to_string(),
            "time": rfc3339(*sent),
        }),
    }
}

/// `/net`: our side, then each member's path.
fn net_view(view: &crate::model::NetView) -> Value {
    let report = &view.report;
    let peers: Vec<Value> = report
        .peers
        .iter()
        .map(|p| {
            json!({
                "id": p.id.to_string(),
                "name": view.name_of(&p.id),
                "path": p.kind.as_str(),
                "addr": p.addr,
                "rtt_ms": p.rtt.map(|rtt| rtt.as_secs_f64() * 1000.0),
            })
        })
        .collect();
    json!({
        "type": "net",
        "id": report.id.to_string(),
        "addrs": report.addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "relay": report.relay.as_ref().map(ToString::to_string),
        "relay_latency_ms": report.relay_latency.map(|l| l.as_secs_f64() * 1000.0),
        "lan": report.lan.is_ok(),
        "lan_error": report.lan.as_ref().err(),
        "peers": peers,
    })
}

/// One JSON line per report (a search gives one per result); with `room`, every object
/// names the room it is about (the topic in hex); with `re`, the request it answers.
pub fn to_json(report: &Report, room: Option<&TopicId>, re: Option<&str>) -> String {
    let mut values = values(report);
    for value in &mut values {
        if let Some(room) = room {
            value["room"] = Value::String(room.to_string());
        }
        if let Some(re) = re {
            value["re"] = Value::String(re.to_string());
        }
    }
    let lines: Vec<String> = values.iter().map(Value::to_string).collect();
    lines.join("\n")
}

fn values(report: &Report) -> Vec<Value> {
    let value = match report {
        Report::Ready {
            id,
            name,
            topic,
            ticket,
            room_name,
            kind,
        } => json!({
            "type": "ready",
            "id": id.to_string(),
            "name": name,
            "topic": topic.to_string(),
            "ticket": ticket,
            "room_name": room_name,
            "kind": kind.as_str(),
        }),
        Report::RoomState(state) => super::json_private::room_state(state),
        Report::Removed { by, reason, ban } => json!({
            "type": "removed",
            "by": by,
            "reason": reason,
            "ban": ban,
        }),
        Report::Knock { id, name, gone } => json!({
            "type": if *gone { "knock_gone" } else { "knock" },
            "id": id.to_string(),
            "name": name,
        }),
        Report::Knocking { label, asked } => json!({
            "type": "knocking",
            "label": label,
            "asked": asked,
        }),
        Report::Invite(invite) => super::json_private::invite(invite),
        Report::Invites(invites) => super::json_private::invites(invites),
        Report::Room(event) => room_event(event),
        Report::Members(list) => json!({"type": "members", "members": members(list)}),
        Report::Ticket(ticket) => json!({"type": "ticket", "ticket": ticket}),
        Report::NetState(state) => json!({
            "type": "net",
            "state": state.state.as_str(),
            "neighbors": state.neighbours,
            // Deprecated (the British spelling of `neighbors`): removed in the next release.
            "neighbours": state.neighbours,
        }),
        Report::Net(view) => net_view(view),
        Report::Found(found) => {
            if found.is_empty() {
                return vec![json!({"type": "info", "message": "no message matches"})];
            }
            return found.iter().map(|m| stored("search_result", m)).collect();
        }
        Report::Rooms(rooms) => {
            let rooms: Vec<Value> = rooms
                .iter()
                .map(|r| {
                    json!({
                        "room": r.topic.map(|t| t.to_string()),
                        "label": r.label,
                        "room_name": r.room_name,
                        "current": r.current,
                        "ready": r.ready,
                        "kind": r.kind.as_str(),
                    })
                })
                .collect();
            json!({"type": "rooms", "rooms": rooms})
        }
        Report::Files(files) => {
            let files: Vec<Value> = files
                .iter()
                .map(|shared| {
                    let (offer, file) = (&shared.offer, &shared.offer.file);
                    let path = match &shared.state {
                        crate::model::FileState::Saved(path) => Some(path.display().to_string()),
                        _ => None,
                    };
                    json!({
                        "handle": file.handle(),
                        "hash": file.hash,
                        "name": file.name,
                        "size": file.size,
                        "mime": file.mime,
                        "from": offer.from.id.to_string(),
                        "display": offer.from.display,
                        "own": offer.own,
                        "state": shared.state_word(),
                        "detail": shared.state_text(),
                        "path": path,
                    })
                })
                .collect();
            json!({"type": "files", "files": files})
        }
        Report::FileShared(line) => {
            let Some(file) = &line.file else {
                return vec![message("message", line)];
            };
            let mut value = json!({
                "type": "file",
                "id": line.id.to_string(),
                "from": line.author.id.to_string(),
                "sender": line.author.name,
                "display": line.author.display,
                "name": file.name,
                "size": file.size,
                "hash": file.hash,
                "handle": file.handle(),
                "mime": file.mime,
                "time": rfc3339(line.sent),
            });
            if line.history {
                value["history"] = Value::Bool(true);
            }
            value
        }
        Report::Transfer {
            handle,
            done,
            total,
            rate,
        } => {
            json!({"type": "transfer", "handle": handle, "done": done, "total": total, "rate": rate})
        }
        Report::Saved { handle, path } => {
            json!({"type": "saved", "handle": handle, "path": path.display().to_string()})
        }
        Report::FileError { handle, message } => {
            json!({"type": "error", "handle": handle, "message": message})
        }
        Report::NotFetched { handle, reason } => {
            json!({"type": "not_fetched", "handle": handle, "reason": reason})
        }
        Report::Dm {
            message: message @ DirectMessage {
                file: Some(file), ..
            },
            display,
        } => {
            json!({
                "type": "file",
                "dm": true,
                "id": message.id.to_string(),
                "from": message.from.to_string(),
                "to": message.to.to_string(),
                "sender": message.name,
                "display": display,
                "name": file.name,
                "size": file.size,
                "hash": file.hash,
                "handle": file.handle(),
                "mime": file.mime,
                "time": rfc3339(message.sent),
            })
        }
        Report::Dm {
            message:
                message @ DirectMessage {
                    change: Some(change),
                    ..
                },
            display,
        } => {
            let (to, from) = (change.to.to_string(), message.from.to_string());
            let mut value = match &change.kind {
                ChangeKind::React { emoji, on } => json!({
                    "type": "reaction", "to": to, "from": from, "display": display,
                    "emoji": emoji, "on": on,
                }),
                ChangeKind::Edit => json!({
                    "type": "edited", "to": to, "from": from, "display": display,
                    "text": message.text,
                }),
                ChangeKind::Delete => json!({
                    "type": "deleted", "to": to, "by": from, "display": display,
                }),
            };
            value["dm"] = Value::Bool(true);
            value["recipient"] = Value::String(message.to.to_string());
            value["id"] = Value::String(message.id.to_string());
            value["time"] = Value::String(rfc3339(message.sent));
            value
        }
        Report::Dm { message, display } => {
            let mut value = json!({
                "type": "dm",
                "id": message.id.to_string(),
                "from": message.from.to_string(),
                "to": message.to.to_string(),
                "name": message.name,
                "display": display,
                "text": message.text,
                "time": rfc3339(message.sent),
            });
            if message.action {
                value["action"] = Value::Bool(true);
            }
            if let Some(parent) = &message.reply_to {
                value["reply_to"] = Value::String(parent.to_string());
            }
            value
        }
        Report::DmStatus { id, state } => json!({
            "type": "dm_status",
            "id": id.to_string(),
            "state": state.as_str(),
        }),
        Report::Warning(message) => json!({"type": "warning", "message": message}),
        Report::Info(message) => json!({"type": "info", "message": message}),
        Report::Error(message) => json!({"type": "error", "message": message}),
    };
    vec![value]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_safe_on_a_terminal_and_decode_exactly() {
        let hostile = "a\u{1b}[2J\u{9b}31m\u{202e}olleh\u{2028}x\u{7f}\u{200b}\u{e0041}\u{feff}é🙂";
        let line = json!({"type": "message", "text": hostile}).to_string();
        let safe = terminal_safe(&line);
        assert!(safe.chars().all(|c| !unsafe_for_terminals(c)), "{safe}");
        let back: Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["text"], hostile, "the text decodes exactly");
        assert!(
            safe.contains("\\udb40\\udc41"),
            "a tag character as a surrogate pair: {safe}"
        );
        assert!(safe.contains("é🙂"), "ordinary text stays as it is");
        assert_eq!(terminal_safe(&safe), safe, "idempotent");
    }
}

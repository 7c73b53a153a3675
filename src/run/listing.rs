//! `parlor rooms` and `parlor export`: reading the store, writing text or JSON lines.

use std::io::Write;

use chrono::{FixedOffset, Local, Offset};

use crate::cli::ExportFormat;
use crate::headless::json::stored;
use crate::present::format_time;
use crate::proto::UnixMillis;
use crate::proto::names::sanitize_text;
use crate::store::{RoomSummary, StoredMessage};

/// `2026-11-25 12:04:05` (or without seconds) in `offset`.
fn timestamp(time: UnixMillis, offset: &FixedOffset, seconds: bool) -> String {
    let format = if seconds {
        "%Y-%m-%d %H:%M:%S"
    } else {
        "%Y-%m-%d %H:%M"
    };
    format_time(time, offset, format)
}

pub fn local_offset() -> FixedOffset {
    Local::now().offset().fix()
}

pub fn write_rooms(
    out: &mut impl Write,
    rooms: &[RoomSummary],
    json: bool,
    offset: &FixedOffset,
) -> std::io::Result<()> {
    if json {
        for room in rooms {
            let value = serde_json::json!({
                "type": "room",
                "label": room.label,
                "room_name": room.room_name,
                "topic": room.topic.to_string(),
                "last_active": crate::headless::json::rfc3339(room.last_active),
                "messages": room.messages,
            });
            writeln!(out, "{value}")?;
        }
        return Ok(());
    }
    if rooms.is_empty() {
        return writeln!(out, "no rooms yet: `parlor open` or `parlor join TICKET`");
    }
    writeln!(
        out,
        "{:<20} {:<12} {:<17} {:>8}  NAME",
        "LABEL", "ROOM", "LAST ACTIVE", "MESSAGES"
    )?;
    for room in rooms {
        let label = room
            .label
            .as_deref()
            .map_or("-".to_string(), |l| sanitize_text(l, false));
        // The name everyone sees (`/topic`), last: it may be long.
        let name = room
            .room_name
            .as_deref()
            .map_or("-".to_string(), |n| sanitize_text(n, false));
        writeln!(
            out,
            "{:<20} {:<12} {:<17} {:>8}  {}",
            label,
            room.topic.fmt_short(),
            timestamp(room.last_active, offset, false),
            room.messages,
            name
        )?;
    }
    Ok(())
}

pub fn write_export(
    out: &mut impl Write,
    messages: &[StoredMessage],
    format: ExportFormat,
    offset: &FixedOffset,
) -> std::io::Result<()> {
    for m in messages {
        match format {
            ExportFormat::Json => {
                let line = stored("message", m).to_string();
                writeln!(out, "{}", crate::headless::json::terminal_safe_owned(line))?;
            }
            ExportFormat::Txt => {
                let time = timestamp(m.sent, offset, true);
                let name = sanitize_text(&m.display, false);
                let prefix = if m.action {
                    format!("{time} * {name} ")
                } else {
                    format!("{time} {name}: ")
                };
                let indent = " ".repeat(prefix.chars().count());
                let text = sanitize_text(&m.text, true).replace('\n', &format!("\n{indent}"));
                let reactions: Vec<String> = m
                    .reactions
                    .iter()
                    .map(|(emoji, who)| format!("{} {}", sanitize_text(emoji, false), who.len()))
                    .collect();
                let reactions = match reactions.is_empty() {
                    true => String::new(),
                    false => format!("  [{}]", reactions.join(" ")),
                };
                match (m.deleted, m.edited) {
                    (true, _) => writeln!(out, "{time} {name}: (message deleted)")?,
                    (false, true) => writeln!(out, "{prefix}{text} (edited){reactions}")?,
                    (false, false) => writeln!(out, "{prefix}{text}{reactions}")?,
                }
            }
        }
    }
    Ok(())
}

//! Text lines for people: `12:04 sam: hello`, `* sam joined`. Remote text is sanitised, so a
//! peer cannot send escape sequences to the reader's terminal.

use chrono::FixedOffset;

use super::Report;
use crate::present::clock;
use crate::present::notices::describe;
use crate::proto::names::sanitize_text;
use crate::proto::room::{ChangeKind, Event, LeaveReason};

pub fn to_text(report: &Report, offset: &FixedOffset) -> Option<String> {
    let line = match report {
        Report::Ready {
            name,
            topic,
            ticket,
            room_name,
            kind,
            ..
        } => {
            let room = match room_name {
                Some(room_name) => format!(
                    "{} (#{})",
                    sanitize_text(room_name, false),
                    topic.fmt_short()
                ),
                None => topic.fmt_short(),
            };
            match (kind, ticket.is_empty()) {
                (crate::model::RoomKind::Private, true) => format!(
                    "* you are {name} in private room {room}; only its owner and admins invite"
                ),
                (crate::model::RoomKind::Private, false) => format!(
                    "* you are {name} in private room {room}; invite (7 days): parlor join {ticket}"
                ),
                (crate::model::RoomKind::Public, _) => format!(
                    "* you are {name} in room {room}; others join with: parlor join {ticket}"
                ),
            }
        }
        Report::RoomState(state) => crate::present::private::state_line(state),
        Report::Removed { by, reason, ban } => {
            crate::present::private::removed_line(by.as_deref(), reason, *ban)
        }
        Report::Knock { id, name, gone } => crate::present::private::knock_line(id, name, *gone),
        Report::Knocking { label, asked } => crate::present::private::knocking_line(label, *asked),
        Report::Invite(invite) => crate::present::private::invite_line(invite, offset),
        Report::Invites(invites) => crate::present::private::invites_lines(invites, offset),
        Report::Room(event) => return room_event(event, offset),
        Report::Members(members) => {
            let names: Vec<String> = members
                .iter()
                .map(|m| sanitize_text(&m.display, false))
                .collect();
            format!("* {} here: {}", names.len(), names.join(", "))
        }
        Report::Ticket(ticket) => format!("* ticket: {ticket}"),
        Report::NetState(state) => format!(
            "* network: {} ({} neighbour{})",
            state.state.as_str(),
            state.neighbours,
            if state.neighbours == 1 { "" } else { "s" }
        ),
        Report::Net(view) => net_view(view),
        Report::Found(found) if found.is_empty() => "* no message matches".to_string(),
        Report::Found(found) => {
            let lines: Vec<String> = found
                .iter()
                .map(|m| {
                    format!(
                        "* found: {} {}: {}",
                        clock(m.sent, offset),
                        sanitize_text(&m.display, false),
                        sanitize_text(&m.text, false)
                    )
                })
                .collect();
            lines.join("\n")
        }
        Report::Rooms(rooms) => {
            let rooms: Vec<String> = rooms
                .iter()
                .map(|r| {
                    let name = r
                        .label
                        .clone()
                        .or_else(|| r.room_name.clone())
                        .unwrap_or_else(|| {
                            r.topic
                                .map_or_else(|| "(opening)".into(), |t| t.fmt_short())
                        });
                    let name = sanitize_text(&name, false);
                    let state = if r.ready { "" } else { " (joining)" };
                    let current = if r.current { "*" } else { "" };
                    format!("{current}{name}{state}")
                })
                .collect();
            format!("* {} room(s): {}", rooms.len(), rooms.join(", "))
        }
        Report::Files(files) => {
            let count = files.len();
            let files: Vec<String> = files.iter().map(ToString::to_string).collect();
            let files = sanitize_text(&files.join("; "), false);
            format!("* {count} file(s) shared here: {files}")
        }
        Report::FileShared(line) => {
            let Some(file) = &line.file else {
                return room_event(&Event::MessageReceived(line.clone()), offset);
            };
            format!(
                "{} * {} shared {} ({}): /get {}",
                clock(line.sent, offset),
                sanitize_text(&line.author.display, false),
                sanitize_text(&file.name, false),
                crate::present::show_size(file.size),
                file.handle()
            )
        }
        Report::Transfer {
            handle,
            done,
            total,
            ..
        } => format!(
            "* {handle}: {}%",
            done.saturating_mul(100) / (*total).max(1)
        ),
        Report::Saved { handle, path } => format!("* {handle} saved as {}", path.display()),
        Report::FileError { handle, message } => format!("! {handle}: {message}"),
        Report::NotFetched { handle, reason } => format!(
            "* {handle} not fetched by itself: {}; /get {handle} fetches it",
            sanitize_text(reason, false)
        ),
        Report::Dm { message, display } => {
            let who = sanitize_text(display, false);
            let text = sanitize_text(&message.text, true);
            let time = clock(message.sent, offset);
            if let Some(change) = &message.change {
                let to = crate::proto::room::short_id(&change.to);
                return Some(match &change.kind {
                    ChangeKind::React { emoji, on: true } => {
                        format!(
                            "{time} [dm] * {who} reacted {} to {to}",
                            sanitize_text(emoji, false)
                        )
                    }
                    ChangeKind::React { emoji, on: false } => {
                        format!(
                            "{time} [dm] * {who} took back {} on {to}",
                            sanitize_text(emoji, false)
                        )
                    }
                    ChangeKind::Edit => format!("{time} [dm] * {who} edited {to}: {text}"),
                    ChangeKind::Delete => format!("{time} [dm] * {who} deleted {to}"),
                });
            }
            if let Some(file) = &message.file {
                return Some(format!(
                    "{time} [dm] * {who} shared {} ({}): /get {}",
                    sanitize_text(&file.name, false),
                    crate::present::show_size(file.size),
                    file.handle()
                ));
            }
            match message.action {
                true => format!("{time} [dm] * {who} {text}"),
                false => format!("{time} [dm] {who}: {text}"),
            }
        }
        Report::DmStatus { id, state } => {
            format!(
                "* direct message {} {}",
                &id.to_string()[..8],
                state.as_str()
            )
        }
        Report::Warning(message) => format!("! {message}"),
        Report::Info(message) => format!("* {message}"),
        Report::Error(message) => format!("! {message}"),
    };
    Some(line)
}

/// `/net` for people, each line starting with `* `.
fn net_view(view: &crate::model::NetView) -> String {
    let lines: Vec<String> = crate::present::net::net_lines(view)
        .into_iter()
        .map(|line| format!("* {line}"))
        .collect();
    lines.join("\n")
}

fn room_event(event: &Event, offset: &FixedOffset) -> Option<String> {
    let who = |display: &str| sanitize_text(display, false);
    let line = match event {
        Event::MessageReceived(line) => {
            // `12:04 sam: hello`, or for a /me line `12:04 * sam waves`.
            let (star, separator) = if line.action { ("* ", " ") } else { ("", ": ") };
            let prefix = format!(
                "{} {star}{}{separator}",
                clock(line.sent, offset),
                who(&line.author.display)
            );
            // Continuation lines are indented under the first, so each event stays one block.
            let indent = " ".repeat(prefix.chars().count());
            let text = sanitize_text(&line.text, true).replace('\n', &format!("\n{indent}"));
            format!("{prefix}{text}")
        }
        Event::MessageSent(_) => return None,
        Event::Changed(line) => {
            let change = line.change.as_ref()?;
            let (when, by) = (clock(line.sent, offset), who(&line.author.display));
            let to = crate::proto::room::short_id(&change.to);
            match &change.kind {
                ChangeKind::React { emoji, on: true } => {
                    format!("{when} * {by} reacted {} to {to}", who(emoji))
                }
                ChangeKind::React { emoji, on: false } => {
                    format!("{when} * {by} took back {} on {to}", who(emoji))
                }
                ChangeKind::Edit => format!(
                    "{when} * {by} edited {to}: {}",
                    sanitize_text(&line.text, false)
                ),
                ChangeKind::Delete => format!("{when} * {by} deleted {to}"),
            }
        }
        Event::MemberJoined(m) => format!("* {} joined", who(&m.display)),
        Event::MemberLeft { member, reason } => match reason {
            LeaveReason::Left => format!("* {} left", who(&member.display)),
            LeaveReason::TimedOut => format!("* {} left (timed out)", who(&member.display)),
        },
        Event::MemberRenamed { member, old } => {
            format!("* {} is now known as {}", who(old), who(&member.display))
        }
        Event::NeighborsChanged(0) => "* waiting for peers".to_string(),
        Event::NeighborsChanged(_) | Event::Typing(_) => return None,
        Event::Lagged => "! the network outpaced this node: fetching the messages it missed".into(),
        Event::Refused { refusal, .. } => format!("! {refusal}"),
        Event::Flooded { .. } | Event::NameClash { .. } => {
            format!("! {}", sanitize_text(&describe(event)?, false))
        }
        Event::Ignored { .. } | Event::IgnoredList(_) | Event::RoomNamed { .. } => {
            format!("* {}", sanitize_text(&describe(event)?, false))
        }
        Event::Queued(0) => "* every queued line went out".to_string(),
        Event::Queued(count) => {
            format!("* {count} line(s) wait to go out, at the rate others accept")
        }
    };
    Some(line)
}

//! Headless mode's output: one line per event, as JSON objects (`--json`) or as text for people.
//!
//! Contract: pure formatting of [`Report`]s; the reading of stdin and writing of stdout happen
//! in `run`.

pub mod json;
mod json_line;
mod json_private;
mod text;

use crate::model::StoredMessage;
use crate::proto::room::Event;
use crate::proto::{EndpointId, MemberInfo, TopicId};

pub use json::to_json;
pub use text::to_text;

/// Everything headless mode reports.
#[derive(Debug, Clone)]
pub enum Report {
    /// The node can send; printed once.
    Ready {
        id: EndpointId,
        name: String,
        topic: TopicId,
        ticket: String,
        /// The name everyone sees (signed by a member, or the ticket's until one arrives).
        room_name: Option<String>,
        kind: crate::model::RoomKind,
    },
    /// A private room's state, whenever it changes.
    RoomState(crate::model::RoomStateView),
    /// We were removed from a private room (by whom, as shown; `None`: learnt from the
    /// members refusing us after being away).
    Removed {
        by: Option<String>,
        reason: String,
        ban: bool,
    },
    /// Someone knocks at a private room we are an admin of (or stopped: `gone`).
    Knock {
        id: crate::proto::EndpointId,
        name: String,
        gone: bool,
    },
    /// We knock at a private room found on the LAN, waiting for an admin.
    Knocking {
        label: String,
        asked: usize,
    },
    /// `/invite` in a private room.
    Invite(crate::model::IssuedInvite),
    /// `/invites`.
    Invites(Vec<crate::model::IssuedInvite>),
    Room(Event),
    Members(Vec<MemberInfo>),
    Ticket(String),
    /// The room's connectivity changed.
    NetState(crate::model::NetState),
    /// The answer to `/net`.
    Net(crate::model::NetView),
    /// Answers to `/search`, newest first.
    Found(Vec<StoredMessage>),
    /// The answer to `/rooms`.
    Rooms(Vec<RoomInfo>),
    /// The answer to `/files`.
    Files(Vec<crate::model::SharedFile>),
    /// A line sharing a file (ours or someone's).
    FileShared(crate::proto::room::ChatLine),
    /// A fetch's progress (a few times a second at most).
    Transfer {
        handle: String,
        done: u64,
        total: u64,
        /// Bytes a second.
        rate: u64,
    },
    /// A fetched file is on disk.
    Saved {
        handle: String,
        path: std::path::PathBuf,
    },
    /// A fetch failed.
    FileError {
        handle: String,
        message: String,
    },
    /// An offer within `--auto-get` not fetched by itself: a quota was reached (`reason`);
    /// `/get` still fetches it.
    NotFetched {
        handle: String,
        reason: String,
    },
    /// A direct message: received, or ours once queued; `display` names its sender.
    Dm {
        message: crate::proto::direct::DirectMessage,
        display: String,
    },
    /// Our direct message `id` is pending or was delivered.
    DmStatus {
        id: crate::proto::MessageId,
        state: crate::proto::direct::DmState,
    },
    Info(String),
    Warning(String),
    Error(String),
}

pub use crate::model::RoomInfo;

/// Which room a report is about, when a front end is in several: JSON lines get a `"room"`
/// field, text lines a `[label]` prefix.
#[derive(Debug, Clone, Copy)]
pub struct RoomTag<'a> {
    pub topic: &'a TopicId,
    /// How text lines name the room.
    pub name: &'a str,
    /// Prefix text lines (only once there is more than one room).
    pub prefix_text: bool,
}

/// Format a report about `room`, answering request `re` (JSON only: text has no requests).
pub fn format_in(
    report: &Report,
    json: bool,
    room: Option<RoomTag>,
    re: Option<&str>,
) -> Option<String> {
    if json {
        let topic = room.map(|r| r.topic);
        // The line every member prints for every line said: straight to text (`json_line`).
        if let Some(line) = json_line::for_report(report, topic, re) {
            return Some(line);
        }
        let line = to_json(report, topic, re);
        return Some(json::terminal_safe_owned(line));
    }
    let text = to_text(report, chrono::Local::now().offset())?;
    match room {
        Some(room) if room.prefix_text => {
            let name = crate::proto::names::sanitize_text(room.name, false);
            let lines: Vec<String> = text.lines().map(|l| format!("[{name}] {l}")).collect();
            Some(lines.join("\n"))
        }
        _ => Some(text),
    }
}

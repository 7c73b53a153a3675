//! Headless mode's output: one line per event, as JSON objects (`--json`) or as text for people.
//!
//! Contract: pure formatting of [`Report`]s; the reading of stdin and writing of stdout happen
//! in `run`.

pub mod json;
mod text;

use crate::proto::room::Event;
use crate::proto::{EndpointId, MemberInfo, TopicId};
use crate::store::StoredMessage;

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
    },
    Room(Event),
    Members(Vec<MemberInfo>),
    Ticket(String),
    /// The room's connectivity changed.
    NetState(crate::session::NetState),
    /// The answer to `/net`.
    Net(crate::session::NetView),
    /// Answers to `/search`, newest first.
    Found(Vec<StoredMessage>),
    Info(String),
    Warning(String),
    Error(String),
}

/// Format a report; `None` when the format has nothing to say about it.
pub fn format(report: &Report, json: bool) -> Option<String> {
    if json {
        Some(json::terminal_safe(&to_json(report)))
    } else {
        to_text(report, chrono::Local::now().offset())
    }
}

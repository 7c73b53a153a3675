//! `--json` lines: one object per event with a `type` field. Field names are a public interface
//! for scripts and bots: add fields, never rename them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::Report;
use crate::proto::UnixMillis;
use crate::proto::room::{ChatLine, Event, LeaveReason};
use crate::store::StoredMessage;

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
    value
}

/// A stored message, as `search_result` events and `parlor export --format json` lines show it.
pub fn stored(kind: &str, m: &StoredMessage) -> Value {
    let mut value = json!({
        "type": kind,
        "id": m.id.to_string(),
        "from": m.author.to_string(),
        "name": m.name,
        "text": m.text,
        "time": rfc3339(m.sent),
    });
    if m.action {
        value["action"] = Value::Bool(true);
    }
    value
}

fn room_event(event: &Event) -> Value {
    match event {
        Event::MessageReceived(line) => message("message", line),
        Event::MessageSent(line) => message("sent", line),
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
    }
}

/// `/net`: our side, then each member's path.
fn net_view(view: &crate::session::NetView) -> Value {
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

pub fn to_json(report: &Report) -> String {
    let value = match report {
        Report::Ready {
            id,
            name,
            topic,
            ticket,
        } => json!({
            "type": "ready",
            "id": id.to_string(),
            "name": name,
            "topic": topic.to_string(),
            "ticket": ticket,
        }),
        Report::Room(event) => room_event(event),
        Report::Members(members) => json!({
            "type": "members",
            "members": members
                .iter()
                .map(|m| json!({"id": m.id.to_string(), "name": m.name, "display": m.display}))
                .collect::<Vec<_>>(),
        }),
        Report::Ticket(ticket) => json!({"type": "ticket", "ticket": ticket}),
        Report::NetState(state) => json!({
            "type": "net",
            "state": state.state.as_str(),
            "neighbours": state.neighbours,
        }),
        Report::Net(view) => net_view(view),
        Report::Found(found) => {
            if found.is_empty() {
                return json!({"type": "info", "message": "no message matches"}).to_string();
            }
            let lines: Vec<String> = found
                .iter()
                .map(|m| stored("search_result", m).to_string())
                .collect();
            return lines.join("\n");
        }
        Report::Warning(message) => json!({"type": "warning", "message": message}),
        Report::Info(message) => json!({"type": "info", "message": message}),
        Report::Error(message) => json!({"type": "error", "message": message}),
    };
    value.to_string()
}

//! One line for each room event about who may say what: floods cut by the rate limits, names
//! that collide with their owner's, `/ignore`. Shared by the TUI and the headless text mode.

use crate::proto::names::fingerprint;
use crate::proto::room::Event;

/// The line for `event`, when it is one of these.
pub fn describe(event: &Event) -> Option<String> {
    let text = match event {
        Event::Flooded { member, dropped } => format!(
            "{} is sending faster than the room allows: {dropped} of its messages were dropped",
            member.display
        ),
        Event::NameClash {
            member,
            owner,
            own: true,
        } => format!(
            "the name {} belongs to another key here ({}, first seen with it): others see you as {}",
            member.name,
            fingerprint(&owner.id, 8),
            member.display,
        ),
        Event::NameClash { member, owner, .. } => format!(
            "{} uses the name {} first seen here with another key ({}): shown with its fingerprint",
            member.display, member.name, owner.display,
        ),
        Event::Ignored {
            member,
            ignored: true,
        } => format!(
            "ignoring {} in this room (/unignore {} to undo)",
            member.display, member.display
        ),
        Event::Ignored {
            member,
            ignored: false,
        } => format!("no longer ignoring {}", member.display),
        Event::IgnoredList(list) if list.is_empty() => "nobody is ignored in this room".into(),
        Event::IgnoredList(list) => {
            let names: Vec<&str> = list.iter().map(|m| m.display.as_str()).collect();
            format!("ignored in this room: {}", names.join(", "))
        }
        Event::RoomNamed { name, by, .. } => {
            format!("room name: {name} (set by {})", by.display)
        }
        _ => return None,
    };
    Some(text)
}

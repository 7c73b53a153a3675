//! How a private room's state reads for people: its one-line summary, the role marks
//! (`~` owner, `@` admin, as IRC has them), what changed between two states, a removal,
//! and invites.

use chrono::FixedOffset;

use super::time::format_time;
use crate::model::{IssuedInvite, RoomStateView};
use crate::proto::UnixMillis;
use crate::proto::names::sanitize_text;
use crate::proto::state::{HistoryVisibility, Role};

/// The mark before a member's name: `~` owner, `@` admin, none for a member.
pub fn role_mark(role: Role) -> &'static str {
    match role {
        Role::Owner => "~",
        Role::Admin => "@",
        Role::Member => "",
    }
}

fn shown(text: &str) -> String {
    sanitize_text(text, false)
}

/// `* private room ops (epoch 3): ~ann, @bob, carl; 1 banned`
pub fn state_line(state: &RoomStateView) -> String {
    let members: Vec<String> = state
        .members
        .iter()
        .map(|m| format!("{}{}", role_mark(m.role), shown(&m.display)))
        .collect();
    let name = match state.name.is_empty() {
        true => "(no name)".to_string(),
        false => shown(&state.name),
    };
    let mut line = format!(
        "* private room {name} (epoch {}): {}",
        state.epoch,
        members.join(", ")
    );
    if !state.topic.is_empty() {
        line.push_str(&format!("; topic: {}", shown(&state.topic)));
    }
    if !state.bans.is_empty() {
        line.push_str(&format!("; {} banned", state.bans.len()));
    }
    line
}

/// What changed from `old` to `new`, one notice each (joins, removals, roles, name, topic,
/// history, a new key).
pub fn changes(old: &RoomStateView, new: &RoomStateView) -> Vec<String> {
    let mut notices = Vec::new();
    for m in &new.members {
        match old.role_of(&m.id) {
            None => notices.push(format!("{} joined the private room", shown(&m.display))),
            Some(before) if before != m.role => notices.push(format!(
                "{} is now {}",
                shown(&m.display),
                match m.role {
                    Role::Owner => "the room's owner",
                    Role::Admin => "an admin",
                    Role::Member => "a member (no longer an admin)",
                }
            )),
            Some(_) => {}
        }
    }
    for m in &old.members {
        if new.role_of(&m.id).is_none() {
            let how = match new.bans.contains(&m.id) {
                true => "was banned",
                false => "left or was removed",
            };
            notices.push(format!("{} {how}", shown(&m.display)));
        }
    }
    for id in &old.bans {
        if !new.bans.contains(id) {
            notices.push(format!("{} was unbanned", old.display_of(id)));
        }
    }
    if old.name != new.name {
        notices.push(format!("the room is now called {}", shown(&new.name)));
    }
    if old.topic != new.topic {
        notices.push(format!("topic: {}", shown(&new.topic)));
    }
    if old.history != new.history {
        notices.push(
            match new.history {
                HistoryVisibility::Shared => "newcomers now see what was said before they joined",
                HistoryVisibility::Joined => "newcomers now see only what is said after they join",
            }
            .to_string(),
        );
    }
    if new.epoch > old.epoch {
        notices.push(format!(
            "new room key (epoch {}): whoever left hears nothing said from now on",
            new.epoch
        ));
    }
    notices
}

/// `* eve (ab12cd34) asks to join: /accept eve or /deny eve`, or that it stopped.
pub fn knock_line(id: &crate::proto::EndpointId, name: &str, gone: bool) -> String {
    let who = format!("{} ({})", shown(name), id.fmt_short());
    match gone {
        false => format!(
            "* {who} asks to join: /accept {name} or /deny {name}",
            name = shown(name)
        ),
        true => format!("* {who} stopped knocking"),
    }
}

/// `* standup is private: knocking at 2 members; waiting for an admin to let you in`
pub fn knocking_line(label: &str, asked: usize) -> String {
    format!(
        "* {} is private: knocking at {asked} member{}; waiting for an admin to let you in",
        shown(label),
        if asked == 1 { "" } else { "s" }
    )
}

/// `* you were removed from this room by ann: spamming`
pub fn removed_line(by: Option<&str>, reason: &str, ban: bool) -> String {
    let how = if ban { "banned from" } else { "removed from" };
    let mut line = match by {
        Some(by) => format!("* you were {how} this room by {}", shown(by)),
        None => format!("* you were {how} this room while away"),
    };
    if !reason.is_empty() {
        line.push_str(&format!(": {}", shown(reason)));
    }
    line
}

fn expiry(invite: &IssuedInvite, offset: &FixedOffset) -> String {
    format_time(UnixMillis(invite.expires), offset, "%Y-%m-%d %H:%M")
}

fn uses(invite: &IssuedInvite) -> String {
    match invite.uses {
        Some(n) => format!("{}/{n} uses", invite.used),
        None => format!("{} uses", invite.used),
    }
}

/// `/invite`'s answer.
pub fn invite_line(invite: &IssuedInvite, offset: &FixedOffset) -> String {
    let limit = match invite.uses {
        Some(1) => ", one join".to_string(),
        Some(n) => format!(", {n} joins"),
        None => String::new(),
    };
    format!(
        "* invite {} (until {}{limit}): parlor join {}",
        &invite.id[..8.min(invite.id.len())],
        expiry(invite, offset),
        invite.text
    )
}

/// `/invites`' answer, one line each.
pub fn invites_lines(invites: &[IssuedInvite], offset: &FixedOffset) -> String {
    if invites.is_empty() {
        return "* no invite issued here yet (/invite)".to_string();
    }
    let now = UnixMillis::now().0;
    let lines: Vec<String> = invites
        .iter()
        .map(|invite| {
            let state = if invite.revoked {
                "revoked"
            } else if invite.expires <= now {
                "expired"
            } else if invite.uses.is_some_and(|n| invite.used >= n) {
                "used up"
            } else {
                "valid"
            };
            format!(
                "* invite {} {state}, until {}, {}",
                &invite.id[..8.min(invite.id.len())],
                expiry(invite, offset),
                uses(invite)
            )
        })
        .collect();
    lines.join("\n")
}

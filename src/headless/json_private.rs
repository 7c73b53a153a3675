//! `--json` lines of private rooms: `room_state`, `invite`, `invites` (the field
//! names are the contract).

use serde_json::{Value, json};

use super::json::rfc3339;
use crate::model::{IssuedInvite, RoomStateView};
use crate::proto::UnixMillis;
use crate::proto::state::{HistoryVisibility, Role};

pub fn role_word(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

pub fn history_word(history: HistoryVisibility) -> &'static str {
    match history {
        HistoryVisibility::Shared => "shared",
        HistoryVisibility::Joined => "joined",
    }
}

pub fn room_state(state: &RoomStateView) -> Value {
    let members: Vec<Value> = state
        .members
        .iter()
        .map(|m| {
            json!({
                "id": m.id.to_string(),
                "name": m.name,
                "display": m.display,
                "role": role_word(m.role),
            })
        })
        .collect();
    let bans: Vec<String> = state.bans.iter().map(ToString::to_string).collect();
    json!({
        "type": "room_state",
        "room_id": state.room,
        "kind": "private",
        "name": state.name,
        "topic": state.topic,
        "epoch": state.epoch,
        "key_epoch": state.key_epoch,
        "owner": state.owner.to_string(),
        "members": members,
        "bans": bans,
        "history": history_word(state.history),
        "version": state.version,
    })
}

fn invite_fields(invite: &IssuedInvite) -> Value {
    json!({
        "id": invite.id,
        "invite": invite.text,
        "expires": rfc3339(UnixMillis(invite.expires)),
        "uses": invite.uses,
        "used": invite.used,
        "revoked": invite.revoked,
    })
}

pub fn invite(invite: &IssuedInvite) -> Value {
    let mut value = invite_fields(invite);
    value["type"] = Value::String("invite".into());
    value
}

pub fn invites(invites: &[IssuedInvite]) -> Value {
    let list: Vec<Value> = invites.iter().map(invite_fields).collect();
    json!({"type": "invites", "invites": list})
}

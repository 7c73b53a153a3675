//! A private room's signed state as the front ends show it (`room_state` in headless, the
//! member list's roles and the status bar in the terminal).

use crate::proto::EndpointId;
use crate::proto::state::{HistoryVisibility, Role};

/// Whether a room decides who is in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoomKind {
    /// The ticket is the membership (rooms from before private rooms, `--public`).
    #[default]
    Public,
    /// Members, roles, invites and a key per epoch.
    Private,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// A private room's state after a change (its fold over every operation known so far).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomStateView {
    /// The stable room id (hex).
    pub room: String,
    pub name: String,
    pub topic: String,
    pub epoch: u64,
    /// The epoch whose key this member holds and talks with: `epoch` once the new key came
    /// (lower while it is being fetched after a change).
    pub key_epoch: u64,
    pub owner: EndpointId,
    /// Members and their roles, in key order, with their names as the room shows them (a
    /// member not heard from yet: an empty name, its short key as display).
    pub members: Vec<StateMember>,
    pub bans: Vec<EndpointId>,
    pub history: HistoryVisibility,
    /// Operations applied since the room was made.
    pub version: u64,
}

/// One member of a private room's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMember {
    pub id: EndpointId,
    pub role: Role,
    pub name: String,
    pub display: String,
}

impl RoomStateView {
    pub fn role_of(&self, id: &EndpointId) -> Option<Role> {
        self.members.iter().find(|m| m.id == *id).map(|m| m.role)
    }

    /// How `id` is shown: its display name if it is a member, else its short key.
    pub fn display_of(&self, id: &EndpointId) -> String {
        self.members
            .iter()
            .find(|m| m.id == *id)
            .map(|m| m.display.clone())
            .unwrap_or_else(|| id.fmt_short().to_string())
    }
}

/// An invite this device issued, as `/invites` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedInvite {
    /// The invite's id (hex): `/revoke PREFIX` names it.
    pub id: String,
    pub text: String,
    /// Unix milliseconds.
    pub expires: u64,
    /// Joins it allows (`None`: any number until it expires).
    pub uses: Option<u32>,
    /// Joins it was used for so far (as the room's state counts them).
    pub used: u32,
    pub revoked: bool,
}

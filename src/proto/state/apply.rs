//! Who may do what, and what it does: one operation against the state the merge has reached.
//!
//! - a member may only leave (the owner may not: it hands the room over first);
//! - an admin adds, removes, bans and unbans members (never the owner or another admin) and
//!   sets the name, topic and history visibility;
//! - the owner does all that to admins too, makes and unmakes admins, and hands the room over.
//!
//! Anything else is a [`Skip`]: the operation stays in the log (everyone skips it alike) and
//! changes nothing.

use super::op::Action;
use super::{MAX_BANS, MAX_MEMBERS, Role, RoomState};
use crate::proto::EndpointId;

/// Why the merge did not apply an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skip {
    /// Its author is not a member at that point.
    NotMember,
    /// Its author's role does not allow it.
    NotEntitled,
    /// Its target's role is the author's or above (an admin removing an admin).
    Outranked,
    /// It would change nothing (adding a member, unbanning a key not banned).
    NoChange,
    /// It adds a banned key.
    Banned,
    /// The room holds [`MAX_MEMBERS`] members or [`MAX_BANS`] bans.
    Full,
    /// It adds a key whose removal (or leave, or ban) its author had not seen: removal wins.
    RemovedConcurrently,
    /// An operation of the same counter from a higher rank (or with a lower hash) set it first.
    Superseded,
    /// Its counter is not above a parent's.
    BadCounter,
    /// It descends from an operation with a bad counter.
    BadAncestor,
    /// A second genesis.
    SecondCreate,
}

/// What an applied operation did that the merge must remember.
pub(super) enum Applied {
    Changed,
    /// `who` left the room (removed, banned or on its own): a later add must have seen this.
    Removed(EndpointId),
}

/// Apply `action` by `author` to `state`, if `author` is entitled to it there.
pub(super) fn apply(
    state: &mut RoomState,
    author: &EndpointId,
    action: &Action,
) -> Result<Applied, Skip> {
    let role = state.role_of(author).ok_or(Skip::NotMember)?;
    let at_least = |needed: Role| {
        if role >= needed {
            Ok(())
        } else {
            Err(Skip::NotEntitled)
        }
    };
    match action {
        Action::Create { .. } => Err(Skip::SecondCreate),
        Action::Add { who } => {
            at_least(Role::Admin)?;
            if state.is_member(who) {
                return Err(Skip::NoChange);
            }
            if state.is_banned(who) {
                return Err(Skip::Banned);
            }
            if state.members.len() >= MAX_MEMBERS {
                return Err(Skip::Full);
            }
            state.members.insert(*who, Role::Member);
            Ok(Applied::Changed)
        }
        Action::Remove { who, .. } => {
            at_least(Role::Admin)?;
            if !state.is_member(who) {
                return Err(Skip::NoChange);
            }
            outranks(state, role, who)?;
            remove(state, who);
            Ok(Applied::Removed(*who))
        }
        Action::Ban { who, .. } => {
            at_least(Role::Admin)?;
            if state.is_banned(who) {
                return Err(Skip::NoChange);
            }
            if state.is_member(who) {
                outranks(state, role, who)?;
            }
            if state.bans.len() >= MAX_BANS {
                return Err(Skip::Full);
            }
            state.bans.insert(*who);
            if state.is_member(who) {
                remove(state, who);
                return Ok(Applied::Removed(*who));
            }
            Ok(Applied::Changed)
        }
        Action::Unban { who } => {
            at_least(Role::Admin)?;
            if !state.bans.remove(who) {
                return Err(Skip::NoChange);
            }
            Ok(Applied::Changed)
        }
        Action::SetRole { who, role: new } => {
            at_least(Role::Owner)?;
            match state.role_of(who) {
                None => Err(Skip::NoChange),
                Some(Role::Owner) => Err(Skip::Outranked),
                Some(old) if old == *new => Err(Skip::NoChange),
                Some(_) => {
                    state.members.insert(*who, *new);
                    Ok(Applied::Changed)
                }
            }
        }
        Action::HandOver { to } => {
            at_least(Role::Owner)?;
            if to == author || !state.is_member(to) {
                return Err(Skip::NoChange);
            }
            state.members.insert(*to, Role::Owner);
            state.members.insert(*author, Role::Admin);
            state.owner = *to;
            Ok(Applied::Changed)
        }
        Action::SetName(name) => {
            at_least(Role::Admin)?;
            set(&mut state.name, name)
        }
        Action::SetTopic(topic) => {
            at_least(Role::Admin)?;
            set(&mut state.topic, topic)
        }
        Action::SetHistory(history) => {
            at_least(Role::Admin)?;
            if state.history == *history {
                return Err(Skip::NoChange);
            }
            state.history = *history;
            Ok(Applied::Changed)
        }
        Action::Leave => {
            if role == Role::Owner {
                return Err(Skip::NotEntitled);
            }
            remove(state, author);
            Ok(Applied::Removed(*author))
        }
    }
}

/// Only the owner removes admins, and nobody removes the owner.
fn outranks(state: &RoomState, role: Role, who: &EndpointId) -> Result<(), Skip> {
    match state.role_of(who) {
        Some(target) if target >= role => Err(Skip::Outranked),
        _ => Ok(()),
    }
}

/// A member goes: the others move to a new epoch, with a key it never gets.
fn remove(state: &mut RoomState, who: &EndpointId) {
    state.members.remove(who);
    state.epoch += 1;
}

fn set(field: &mut String, value: &str) -> Result<Applied, Skip> {
    if field == value {
        return Err(Skip::NoChange);
    }
    value.clone_into(field);
    Ok(Applied::Changed)
}

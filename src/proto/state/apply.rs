//! Who may do what, and what it does: one operation against the state the merge has reached.
//!
//! - a member may only leave (the owner may not: it hands the room over first);
//! - an admin adds, removes, bans and unbans members (never the owner or another admin) and
//!   sets the name, topic and history visibility;
//! - the owner does all that to admins too, makes and unmakes admins, and hands the room over;
//! - an admin revokes invites;
//! - an outsider joins with an invite, checked in this order: already a member (no change);
//!   banned; the invite does not decode, verify or name this room (bad invite); its issuer is
//!   not an admin or the owner at that point (not entitled); revoked; used up (its `uses` joins
//!   already applied); the joiner was removed, banned or left earlier in the fold (removed
//!   concurrently: a kicked member cannot walk back in with an old invite; only an admin's
//!   `Add` that saw the removal brings it back); the room or the invite count is full.
//!   Expiry is not checked here (the fold has no clock): the member that accepts a redemption
//!   checks `Invite::check(now)` before it carries the join into the log.
//!
//! Anything else is a [`Skip`]: the operation stays in the log (everyone skips it alike) and
//! changes nothing.

use super::op::Action;
use super::{MAX_BANS, MAX_INVITES_TRACKED, MAX_MEMBERS, MAX_REVOKED, Role, RoomState};
use crate::proto::EndpointId;
use crate::proto::invite::Invite;

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
    /// The room holds [`MAX_MEMBERS`] members, [`MAX_BANS`] bans, [`MAX_REVOKED`] revoked
    /// invites, or counts the uses of [`MAX_INVITES_TRACKED`] invites and this is another.
    Full,
    /// It adds a key whose removal (or leave, or ban) its author had not seen: removal wins.
    /// A join by a key removed, banned or gone earlier in the fold, whatever it saw.
    RemovedConcurrently,
    /// A join whose invite does not decode, does not verify, or names another room.
    BadInvite,
    /// A join by a revoked invite.
    Revoked,
    /// A join by an invite whose every use was already applied.
    UsedUp,
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
/// `author_removed`: whether the author was removed, banned or left earlier in the fold (a join
/// by it is refused).
pub(super) fn apply(
    state: &mut RoomState,
    author: &EndpointId,
    action: &Action,
    author_removed: bool,
) -> Result<Applied, Skip> {
    let role = match (action, state.role_of(author)) {
        // The one action of a key that is not (yet) a member.
        (Action::Join { invite }, _) => return join(state, author, invite, author_removed),
        (_, Some(role)) => role,
        (_, None) => return Err(Skip::NotMember),
    };
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
        Action::Revoke { id } => {
            at_least(Role::Admin)?;
            if state.revoked.contains(id) {
                return Err(Skip::NoChange);
            }
            if state.revoked.len() >= MAX_REVOKED {
                return Err(Skip::Full);
            }
            state.revoked.insert(*id);
            Ok(Applied::Changed)
        }
        Action::Join { invite } => join(state, author, invite, author_removed),
    }
}

/// `author` admits itself with `invite`: the checks in the module documentation's order.
fn join(
    state: &mut RoomState,
    author: &EndpointId,
    invite: &[u8],
    author_removed: bool,
) -> Result<Applied, Skip> {
    if state.is_member(author) {
        return Err(Skip::NoChange);
    }
    if state.is_banned(author) {
        return Err(Skip::Banned);
    }
    let invite = Invite::from_bytes(invite).map_err(|_| Skip::BadInvite)?;
    if invite.room != state.room {
        return Err(Skip::BadInvite);
    }
    if !matches!(
        state.role_of(&invite.issuer),
        Some(Role::Admin | Role::Owner)
    ) {
        return Err(Skip::NotEntitled);
    }
    if state.is_revoked(&invite.id) {
        return Err(Skip::Revoked);
    }
    let used = state.uses_of(&invite.id);
    if invite.uses.is_some_and(|uses| used >= uses) {
        return Err(Skip::UsedUp);
    }
    if author_removed {
        return Err(Skip::RemovedConcurrently);
    }
    let untracked = !state.invite_uses.contains_key(&invite.id);
    if state.members.len() >= MAX_MEMBERS
        || (untracked && state.invite_uses.len() >= MAX_INVITES_TRACKED)
    {
        return Err(Skip::Full);
    }
    state.members.insert(*author, Role::Member);
    state.invite_uses.insert(invite.id, used.saturating_add(1));
    Ok(Applied::Changed)
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

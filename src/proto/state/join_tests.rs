//! Joining by invite, revoking invites, the epoch's keyholder and the per-author bound.

use super::apply::apply;
use super::tests::{
    A1, A2, M1, M2, M3, OUTSIDER, OWNER, act, ban, id, key, other_room, remove, room, skip_of,
};
use super::*;
use crate::proto::invite::{Invite, InviteDraft};
use crate::proto::{EndpointAddr, SecretKey, UnixMillis};

const JOINER: u8 = 60;

/// An invite to `log`'s room, signed by `issuer`.
fn invite(log: &OpLog, issuer: u8, uses: Option<u32>) -> Invite {
    let draft = InviteDraft {
        room: log.room(),
        owner: id(OWNER),
        expires: UnixMillis(1),
        uses,
        peers: vec![EndpointAddr::new(id(issuer))],
        name: None,
    };
    Invite::issue(&key(issuer), draft).expect("issues")
}

fn join(invite: &Invite) -> Action {
    Action::Join {
        invite: invite.to_bytes(),
    }
}

/// `who` joins with `invite`; what the fold said about it.
fn joins(log: &mut OpLog, who: u8, invite: &Invite) -> Option<Skip> {
    let op = act(log, who, join(invite));
    skip_of(&log.fold(), &op)
}

/// Many distinct keys (the `key(byte)` ones are too few to fill a room).
fn many_keys(n: usize) -> impl Iterator<Item = EndpointId> {
    (0..n).map(|i| {
        let mut bytes = [0xa5; 32];
        bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
        SecretKey::from_bytes(&bytes).public()
    })
}

/// The `n`th of many invite ids, `fill` elsewhere.
fn invite_id(n: usize, fill: u8) -> InviteId {
    let mut id = [fill; 16];
    id[..8].copy_from_slice(&(n as u64).to_le_bytes());
    id
}

#[test]
fn an_invite_admits_its_joiners_until_it_is_used_up() {
    let mut log = room();
    let two = invite(&log, A1, Some(2));
    let epoch_op = log.fold().state.epoch_op();
    assert_eq!(joins(&mut log, JOINER, &two), None);
    let state = log.fold().state;
    assert_eq!(state.role_of(&id(JOINER)), Some(Role::Member));
    assert_eq!(state.uses_of(&two.id), 1);
    assert_eq!(
        (state.epoch(), state.epoch_op()),
        (0, epoch_op),
        "a join keeps the key"
    );
    assert_eq!(joins(&mut log, JOINER, &two), Some(Skip::NoChange));
    assert_eq!(joins(&mut log, JOINER + 1, &two), None);
    assert_eq!(joins(&mut log, JOINER + 2, &two), Some(Skip::UsedUp));
    assert_eq!(log.fold().state.uses_of(&two.id), 2);
    // An invite without a bound (the owner's) admits anyone until revoked.
    let open = invite(&log, OWNER, None);
    for who in JOINER + 3..JOINER + 6 {
        assert_eq!(joins(&mut log, who, &open), None);
    }
    assert_eq!(log.fold().state.uses_of(&open.id), 3);
    assert_eq!(log.fold().state.uses_of(&[0; 16]), 0);
}

#[test]
fn a_join_is_skipped_for_each_reason_in_order() {
    let mut log = room();
    let good = invite(&log, A1, Some(5));
    // Banned, even with a good invite.
    act(&mut log, A2, ban(OUTSIDER));
    assert_eq!(joins(&mut log, OUTSIDER, &good), Some(Skip::Banned));
    // Bytes that are no invite, and an invite to another room.
    let garbage = act(&mut log, JOINER, Action::Join { invite: vec![3; 9] });
    assert_eq!(skip_of(&log.fold(), &garbage), Some(Skip::BadInvite));
    let foreign = invite(&other_room(1), A1, None);
    assert_eq!(joins(&mut log, JOINER, &foreign), Some(Skip::BadInvite));
    // Issued by a plain member, or by an admin demoted since: not entitled.
    let by_member = invite(&log, M1, None);
    assert_eq!(joins(&mut log, JOINER, &by_member), Some(Skip::NotEntitled));
    let by_a2 = invite(&log, A2, None);
    let role = Role::Member;
    act(&mut log, OWNER, Action::SetRole { who: id(A2), role });
    assert_eq!(joins(&mut log, JOINER, &by_a2), Some(Skip::NotEntitled));
    // Revoked (by an admin; a member's revocation is skipped).
    let revoked = invite(&log, A1, None);
    let by_m2 = act(&mut log, M2, Action::Revoke { id: revoked.id });
    assert_eq!(skip_of(&log.fold(), &by_m2), Some(Skip::NotEntitled));
    act(&mut log, A1, Action::Revoke { id: revoked.id });
    let again = act(&mut log, OWNER, Action::Revoke { id: revoked.id });
    assert_eq!(skip_of(&log.fold(), &again), Some(Skip::NoChange));
    assert!(log.fold().state.is_revoked(&revoked.id));
    assert_eq!(joins(&mut log, JOINER, &revoked), Some(Skip::Revoked));
    // Removed, or gone on its own, earlier in the log: no walking back in with an invite.
    act(&mut log, A1, remove(M1));
    act(&mut log, M3, Action::Leave);
    assert_eq!(joins(&mut log, M1, &good), Some(Skip::RemovedConcurrently));
    assert_eq!(joins(&mut log, M3, &good), Some(Skip::RemovedConcurrently));
    // An admin's add that saw the removal still brings a member back.
    act(&mut log, A1, Action::Add { who: id(M1) });
    assert!(log.fold().state.is_member(&id(M1)));
    // None of that used the good invite; a fresh key still joins with it.
    assert_eq!(log.fold().state.uses_of(&good.id), 0);
    assert_eq!(joins(&mut log, JOINER, &good), None);
}

#[test]
fn joins_and_revocations_are_bounded() {
    let log = room();
    let good = invite(&log, A1, None);
    let action = join(&good);
    let base = log.fold().state;
    // The room is full.
    let mut full = base.clone();
    full.members
        .extend(many_keys(MAX_MEMBERS - full.members.len()).map(|k| (k, Role::Member)));
    assert!(matches!(
        apply(&mut full, &id(JOINER), &action, false),
        Err(Skip::Full)
    ));
    // The uses of MAX_INVITES_TRACKED other invites are counted: no room for this one's.
    let mut tracking = base.clone();
    tracking
        .invite_uses
        .extend((0..MAX_INVITES_TRACKED).map(|n| (invite_id(n, 9), 1)));
    assert!(matches!(
        apply(&mut tracking, &id(JOINER), &action, false),
        Err(Skip::Full)
    ));
    // An invite already counted is still used.
    tracking.invite_uses.insert(good.id, 1);
    tracking.invite_uses.pop_first();
    assert!(apply(&mut tracking, &id(JOINER), &action, false).is_ok());
    assert_eq!(tracking.uses_of(&good.id), 2);
    // The revoked set is full.
    let mut revoking = base;
    revoking
        .revoked
        .extend((0..MAX_REVOKED).map(|n| invite_id(n, 1)));
    assert!(matches!(
        apply(
            &mut revoking,
            &id(A1),
            &Action::Revoke { id: good.id },
            false
        ),
        Err(Skip::Full)
    ));
}

#[test]
fn the_keyholder_is_the_author_of_the_epochs_operation_while_a_member() {
    let mut log = room();
    let state = log.fold().state;
    assert_eq!(state.epoch_op(), log.genesis().hash);
    assert_eq!(state.keyholder(), id(OWNER));
    // An admin's removal: that admin makes the next key.
    let removal = act(&mut log, A1, remove(M1));
    let state = log.fold().state;
    assert_eq!((state.epoch(), state.epoch_op()), (1, removal.hash));
    assert_eq!(state.keyholder(), id(A1));
    // Demoted, it is still a member: still the keyholder of the epoch it started.
    let role = Role::Member;
    act(&mut log, OWNER, Action::SetRole { who: id(A1), role });
    assert_eq!(log.fold().state.keyholder(), id(A1));
    // A leave: the leaver is gone, the owner makes the key.
    let leave = act(&mut log, M2, Action::Leave);
    let state = log.fold().state;
    assert_eq!((state.epoch(), state.epoch_op()), (2, leave.hash));
    assert_eq!(state.keyholder(), id(OWNER));
    // A hand-over within the epoch names no second keyholder.
    act(&mut log, OWNER, Action::HandOver { to: id(A2) });
    let state = log.fold().state;
    assert_eq!((state.owner(), state.keyholder()), (id(A2), id(OWNER)));
    // The keyholder removed: a new epoch, whose keyholder is its remover.
    let removal = act(&mut log, A2, remove(OWNER));
    let state = log.fold().state;
    assert_eq!(
        (state.epoch_op(), state.keyholder()),
        (removal.hash, id(A2))
    );
    assert!(state.member_ids().contains(&state.keyholder()));
    assert!(!state.member_ids().contains(&id(OWNER)));
}

#[test]
fn a_key_that_is_not_an_admin_cannot_fill_the_log() {
    let mut log = room();
    for n in 0..MAX_OPS_PER_MEMBER {
        act(&mut log, M1, Action::SetTopic(n.to_string()));
        act(&mut log, OUTSIDER, Action::SetTopic(n.to_string()));
    }
    let ninth = log.author(&key(M1), Action::SetName("m1".into()));
    let ninth = ninth.expect("signs");
    assert_eq!(log.insert(ninth.clone()), Err(LogError::AuthorFull));
    let stranger = log.author(&key(OUTSIDER), Action::Leave).expect("signs");
    assert_eq!(log.insert(stranger), Err(LogError::AuthorFull));
    // A replay of what it already has is no new op.
    let known = log
        .ops()
        .find(|o| o.author == id(M1))
        .cloned()
        .expect("one");
    assert_eq!(log.insert(known), Ok(Inserted::Duplicate));
    // Admins and the owner have no bound of their own.
    for n in 0..2 * MAX_OPS_PER_MEMBER {
        act(&mut log, A1, Action::SetTopic(format!("a{n}")));
    }
    // Made an admin, the member may go on; the log it makes decodes.
    let role = Role::Admin;
    act(&mut log, OWNER, Action::SetRole { who: id(M1), role });
    assert_eq!(log.insert(ninth), Ok(Inserted::New));
    assert_eq!(log.authored_by(&id(M1)), MAX_OPS_PER_MEMBER + 1);
    // Demoted again, what it did as an admin stays, and a log holding it still decodes.
    let role = Role::Member;
    act(&mut log, OWNER, Action::SetRole { who: id(M1), role });
    let decoded = OpLog::decode(&log.encode()).expect("decodes");
    assert_eq!(decoded.fold().state, log.fold().state);
    // Once a fold has seen the demotion, it is a member at its cap again.
    let more = log.author(&key(M1), Action::SetName("more".into()));
    assert_eq!(log.insert(more.expect("signs")), Err(LogError::AuthorFull));
    // A log where a key that never was an admin has more is refused as a whole.
    let mut stuffed = room();
    for n in 0..=MAX_OPS_PER_MEMBER {
        let op = stuffed.author(&key(M2), Action::SetTopic(n.to_string()));
        stuffed
            .insert_uncapped(op.expect("signs"))
            .expect("inserts");
    }
    assert_eq!(
        OpLog::decode(&stuffed.encode()).err(),
        Some(LogError::AuthorFull)
    );
}

#[test]
fn the_join_checks_come_in_their_order() {
    let log = room();
    let by_member = invite(&log, M1, Some(1));
    let used = invite(&log, A1, Some(1));
    let mut state = log.fold().state;
    state.bans.insert(id(OUTSIDER));
    state.revoked.insert(by_member.id);
    state.invite_uses.insert(used.id, 1);
    let check = |state: &RoomState, who: u8, action: &Action, removed: bool| {
        apply(&mut state.clone(), &id(who), action, removed).err()
    };
    let garbage = Action::Join { invite: vec![0; 3] };
    // A member, even with garbage; banned before a bad invite.
    assert_eq!(check(&state, M2, &garbage, true), Some(Skip::NoChange));
    assert_eq!(check(&state, OUTSIDER, &garbage, true), Some(Skip::Banned));
    // The issuer before the revocation; used up before a removal.
    let revoked_by_member = join(&by_member);
    assert_eq!(
        check(&state, JOINER, &revoked_by_member, false),
        Some(Skip::NotEntitled)
    );
    assert_eq!(
        check(&state, JOINER, &join(&used), true),
        Some(Skip::UsedUp)
    );
    // Removed before full.
    let fresh = join(&invite(&log, A1, None));
    let mut full = state.clone();
    full.members
        .extend(many_keys(MAX_MEMBERS - full.members.len()).map(|k| (k, Role::Member)));
    assert_eq!(
        check(&full, JOINER, &fresh, true),
        Some(Skip::RemovedConcurrently)
    );
    assert_eq!(check(&full, JOINER, &fresh, false), Some(Skip::Full));
    assert_eq!(check(&state, JOINER, &fresh, false), None);
}

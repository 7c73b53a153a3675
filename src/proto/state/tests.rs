use super::*;
use crate::proto::SecretKey;

pub(super) fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes(&[byte; 32])
}

pub(super) const OWNER: u8 = 1;
pub(super) const A1: u8 = 2;
pub(super) const A2: u8 = 3;
pub(super) const M1: u8 = 10;
pub(super) const M2: u8 = 11;
pub(super) const M3: u8 = 12;
pub(super) const OUTSIDER: u8 = 50;

pub(super) fn id(byte: u8) -> crate::proto::EndpointId {
    key(byte).public()
}

/// Author `action` as `who` on top of `log` and insert it.
pub(super) fn act(log: &mut OpLog, who: u8, action: Action) -> SignedOp {
    let op = log.author(&key(who), action).expect("signs");
    assert_eq!(log.insert(op.clone()), Ok(Inserted::New));
    op
}

/// A room owned by OWNER, with admins A1 and A2 and members M1..M3.
pub(super) fn room() -> OpLog {
    let room = RoomId::from_bytes([7; 32]);
    let mut log =
        OpLog::create(&key(OWNER), room, "ops", "", HistoryVisibility::Joined).expect("creates");
    for who in [A1, A2, M1, M2, M3] {
        act(&mut log, OWNER, Action::Add { who: id(who) });
    }
    for who in [A1, A2] {
        let role = Role::Admin;
        act(&mut log, OWNER, Action::SetRole { who: id(who), role });
    }
    log
}

/// A removal without a reason.
pub(super) fn remove(who: u8) -> Action {
    Action::Remove {
        who: id(who),
        reason: String::new(),
    }
}

/// A ban without a reason.
pub(super) fn ban(who: u8) -> Action {
    Action::Ban {
        who: id(who),
        reason: String::new(),
    }
}

/// A room other than [`room`]'s, by OWNER.
pub(super) fn other_room(byte: u8) -> OpLog {
    let room = RoomId::from_bytes([byte; 32]);
    OpLog::create(&key(OWNER), room, "x", "", HistoryVisibility::Joined).expect("creates")
}

pub(super) fn skip_of(folded: &Folded, op: &SignedOp) -> Option<Skip> {
    folded
        .skipped
        .iter()
        .find(|s| s.op == op.hash)
        .map(|s| s.why)
}

#[test]
fn a_new_room_has_its_owner_and_the_ops_build_on_it() {
    let log = OpLog::create(
        &key(OWNER),
        RoomId::generate(),
        "ops",
        "t",
        HistoryVisibility::Shared,
    )
    .expect("creates");
    let state = log.fold().state;
    assert_eq!(state.owner(), id(OWNER));
    assert_eq!(state.role_of(&id(OWNER)), Some(Role::Owner));
    assert_eq!(
        (state.epoch(), state.version(), state.name()),
        (0, 0, "ops")
    );
    let state = room().fold().state;
    assert_eq!(state.member_count(), 6);
    assert_eq!(state.role_of(&id(A1)), Some(Role::Admin));
    assert_eq!(state.role_of(&id(M3)), Some(Role::Member));
    assert_eq!((state.epoch(), state.version()), (0, 7));
    assert_ne!(state.previous(), StateHash::default());
}

#[test]
fn a_forged_or_tampered_op_is_refused_and_changes_nothing() {
    let mut log = room();
    let before = log.fold().state;
    let op = log.author(&key(A1), remove(M1)).expect("signs");
    for at in [40, 96, op.bytes().len() - 1] {
        let mut forged = op.bytes().to_vec();
        forged[at] ^= 1;
        assert!(matches!(
            log.insert_bytes(&forged),
            Err(LogError::Op(OpError::BadSignature | OpError::Malformed(_)))
        ));
    }
    // Signed by A1, claiming the owner wrote it.
    let mut claimed = op.bytes().to_vec();
    claimed[1..33].copy_from_slice(id(OWNER).as_bytes());
    assert_eq!(
        log.insert_bytes(&claimed),
        Err(LogError::Op(OpError::BadSignature))
    );
    assert_eq!(log.len(), 7);
    assert_eq!(log.fold().state, before);
}

#[test]
fn unentitled_ops_are_skipped_and_recorded() {
    let mut log = room();
    let before = log.fold().state;
    let reason = String::new;
    let cases = [
        (
            M1,
            Action::Remove {
                who: id(M2),
                reason: reason(),
            },
            Skip::NotEntitled,
        ),
        (M1, Action::SetName("mine".into()), Skip::NotEntitled),
        (
            A1,
            Action::Remove {
                who: id(A2),
                reason: reason(),
            },
            Skip::Outranked,
        ),
        (
            A1,
            Action::Ban {
                who: id(OWNER),
                reason: reason(),
            },
            Skip::Outranked,
        ),
        (
            A1,
            Action::SetRole {
                who: id(M1),
                role: Role::Admin,
            },
            Skip::NotEntitled,
        ),
        (A1, Action::HandOver { to: id(A1) }, Skip::NotEntitled),
        (OUTSIDER, Action::Add { who: id(OUTSIDER) }, Skip::NotMember),
        (OWNER, Action::Leave, Skip::NotEntitled),
        (OWNER, Action::Add { who: id(M1) }, Skip::NoChange),
    ];
    let ops: Vec<_> = cases
        .iter()
        .map(|(who, action, _)| act(&mut log, *who, action.clone()))
        .collect();
    let folded = log.fold();
    for ((who, action, why), op) in cases.iter().zip(&ops) {
        assert_eq!(skip_of(&folded, op), Some(*why), "{who}: {action:?}");
    }
    assert_eq!(folded.state, before);
}

#[test]
fn a_replayed_op_changes_nothing() {
    let mut log = room();
    let op = act(&mut log, A1, remove(M1));
    let once = log.fold().state.hash();
    assert_eq!(log.insert(op.clone()), Ok(Inserted::Duplicate));
    assert_eq!(log.insert_bytes(op.bytes()), Ok(Inserted::Duplicate));
    assert_eq!(log.insert(log.genesis().clone()), Ok(Inserted::Duplicate));
    assert_eq!(log.fold().state.hash(), once);
    assert_eq!(log.len(), 8);
}

#[test]
fn removals_bans_and_leaves_start_new_epochs() {
    let mut log = room();
    act(
        &mut log,
        A1,
        Action::Remove {
            who: id(M1),
            reason: "spam".into(),
        },
    );
    act(&mut log, M2, Action::Leave);
    act(
        &mut log,
        A2,
        Action::Ban {
            who: id(M3),
            reason: String::new(),
        },
    );
    act(
        &mut log,
        A2,
        Action::Ban {
            who: id(OUTSIDER),
            reason: String::new(),
        },
    );
    let state = log.fold().state;
    assert_eq!(state.epoch(), 3, "a ban of a non-member changes no key");
    for gone in [M1, M2, M3] {
        assert!(!state.is_member(&id(gone)));
    }
    assert!(state.is_banned(&id(M3)) && state.is_banned(&id(OUTSIDER)));
    // A banned key is not added back until it is unbanned; then it is.
    let refused = act(&mut log, A1, Action::Add { who: id(M3) });
    assert_eq!(skip_of(&log.fold(), &refused), Some(Skip::Banned));
    act(&mut log, A1, Action::Unban { who: id(M3) });
    act(&mut log, A1, Action::Add { who: id(M3) });
    act(&mut log, A1, Action::Add { who: id(M1) });
    let state = log.fold().state;
    assert!(state.is_member(&id(M3)) && state.is_member(&id(M1)));
    assert_eq!(state.epoch(), 3);
}

#[test]
fn the_owner_beats_an_admin_at_the_same_counter() {
    let mut log = room();
    let seen = log.clone();
    let remove = seen.author(&key(A1), remove(M1)).expect("signs");
    let demote = seen
        .author(
            &key(OWNER),
            Action::SetRole {
                who: id(A1),
                role: Role::Member,
            },
        )
        .expect("signs");
    assert_eq!(remove.op.counter, demote.op.counter);
    log.insert(remove.clone()).expect("inserts");
    log.insert(demote).expect("inserts");
    let folded = log.fold();
    assert_eq!(skip_of(&folded, &remove), Some(Skip::NotEntitled));
    assert!(folded.state.is_member(&id(M1)));
    assert_eq!(folded.state.role_of(&id(A1)), Some(Role::Member));
    // Same counter, same rank: the first name by hash stays; an admin's never beats the owner's.
    let seen = log.clone();
    let by_owner = seen.author(&key(OWNER), Action::SetName("owner's".into()));
    let by_admin = seen.author(&key(A2), Action::SetName("admin's".into()));
    log.insert(by_owner.expect("signs")).expect("inserts");
    let by_admin = by_admin.expect("signs");
    log.insert(by_admin.clone()).expect("inserts");
    let folded = log.fold();
    assert_eq!(folded.state.name(), "owner's");
    assert_eq!(skip_of(&folded, &by_admin), Some(Skip::Superseded));
}

#[test]
fn a_concurrent_add_never_undoes_a_removal() {
    let mut log = room();
    let unseen = log.clone();
    act(&mut log, A1, remove(M1));
    // A2 had not seen the removal, but had done more: its add has the higher counter.
    let mut a2_view = unseen;
    act(&mut a2_view, A2, Action::SetTopic("x".into()));
    act(&mut a2_view, A2, Action::SetTopic("y".into()));
    let add = act(&mut a2_view, A2, Action::Add { who: id(M1) });
    for op in a2_view.ops() {
        log.insert(op.clone()).expect("inserts");
    }
    let folded = log.fold();
    assert_eq!(skip_of(&folded, &add), Some(Skip::RemovedConcurrently));
    assert!(!folded.state.is_member(&id(M1)));
    // An add that saw the removal brings the member back.
    act(&mut log, A2, Action::Add { who: id(M1) });
    assert!(log.fold().state.is_member(&id(M1)));
}

#[test]
fn the_owner_hands_the_room_over() {
    let mut log = room();
    act(&mut log, OWNER, Action::HandOver { to: id(A1) });
    act(&mut log, A1, remove(OWNER));
    let state = log.fold().state;
    assert_eq!(state.owner(), id(A1));
    assert_eq!(state.role_of(&id(A1)), Some(Role::Owner));
    assert!(!state.is_member(&id(OWNER)));
}

#[test]
fn an_op_waits_for_its_parents_and_a_bad_counter_is_skipped() {
    let log = room();
    let mut ahead = log.clone();
    let first = act(&mut ahead, A1, Action::SetTopic("one".into()));
    let second = act(&mut ahead, A1, Action::SetTopic("two".into()));
    let mut behind = log.clone();
    behind.insert(second.clone()).expect("inserts");
    let folded = behind.fold();
    assert_eq!(folded.waiting, vec![second.hash]);
    assert_eq!(folded.state, log.fold().state);
    behind.insert(first.clone()).expect("inserts");
    assert_eq!(behind.fold().state.topic(), "two");
    // A counter not exactly one above its parents' (picked to land after a rival, or so high
    // that the next one would overflow) is skipped, and so is what builds on it.
    let before = behind.fold().state;
    let with_counter = |counter, parent: &SignedOp, who| {
        let parents = vec![parent.hash];
        let op = Op {
            room: log.room(),
            counter,
            parents,
            action: Action::Leave,
        };
        SignedOp::sign(&key(who), op).expect("signs")
    };
    let c = second.op.counter;
    let mut last = second.clone();
    for bad in [
        with_counter(c, &second, M1),
        with_counter(c + 2, &second, M2),
        with_counter(u64::MAX, &second, M3),
    ] {
        behind.insert(bad.clone()).expect("inserts");
        assert_eq!(skip_of(&behind.fold(), &bad), Some(Skip::BadCounter));
        last = bad;
    }
    // What builds on them is skipped too; our own next op builds on what takes part.
    let orphan = Op {
        room: log.room(),
        counter: u64::MAX,
        parents: vec![last.hash],
        action: remove(M2),
    };
    let orphan = SignedOp::sign(&key(A1), orphan).expect("signs");
    behind.insert(orphan.clone()).expect("inserts");
    assert_eq!(skip_of(&behind.fold(), &orphan), Some(Skip::BadAncestor));
    assert_eq!(behind.fold().state, before);
    let next = behind.author(&key(A1), remove(M1)).expect("signs");
    assert_eq!(
        (next.op.counter, &next.op.parents[..]),
        (c + 1, &[second.hash][..])
    );
    behind.insert(next.clone()).expect("inserts");
    let folded = behind.fold();
    assert_eq!(skip_of(&folded, &next), None);
    assert!(!folded.state.is_member(&id(M1)));
}

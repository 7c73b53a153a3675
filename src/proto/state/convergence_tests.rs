//! Convergence, in the simulator's style: seeded random races of operations
//! ([`super::convergence_race`]), delivered to every member in its own random order, with random
//! delays and duplicates (and a forgery). Every member must end in the same state, with the same
//! epoch operation and keyholder; the keyholder is a member; and no removed or banned key is a
//! member or the keyholder, unless an add that saw the removal brought it back (a join never
//! does).

use std::collections::BTreeSet;

use super::convergence_race::{OUTSIDERS, Rng, base, id, race, schedule};
use super::tests::skip_of;
use super::*;

const SEEDS: u64 = 1000;
const RECEIVERS: usize = 8;

/// No member is banned; the keyholder is a member; no key an applied removal took out is a
/// member (or so the keyholder), unless an applied add that had seen that removal brought it
/// back.
fn check_removals(log: &OpLog, folded: &Folded) {
    let state = &folded.state;
    assert!(state.bans().all(|k| !state.is_member(k)), "a banned member");
    assert!(state.is_member(&state.keyholder()), "the keyholder is gone");
    assert!(!state.is_banned(&state.keyholder()), "a banned keyholder");
    let skipped: BTreeSet<OpHash> = folded.skipped.iter().map(|s| s.op).collect();
    let applied: Vec<&SignedOp> = log
        .ops()
        .filter(|o| !skipped.contains(&o.hash) && !folded.waiting.contains(&o.hash))
        .collect();
    for removal in &applied {
        let gone = match &removal.op.action {
            Action::Remove { who, .. } | Action::Ban { who, .. } => *who,
            Action::Leave => removal.author,
            _ => continue,
        };
        if !state.is_member(&gone) {
            assert_ne!(state.keyholder(), gone, "a removed keyholder");
            continue;
        }
        let readded = applied.iter().any(|add| {
            matches!(add.op.action, Action::Add { who } if who == gone)
                && log.saw(&add.hash, &removal.hash)
        });
        assert!(readded, "{gone} removed by {:?} but a member", removal.hash);
    }
}

/// The named race of a ban and a join by invite (same counter): whenever the ban is applied,
/// the join is skipped as banned. Whether the ban was applied.
fn ban_beats_join(ops: &[SignedOp], folded: &Folded) -> bool {
    let joiner = id(OUTSIDERS[1]);
    let join = ops
        .iter()
        .find(|o| o.author == joiner && matches!(o.op.action, Action::Join { .. }));
    let ban = ops
        .iter()
        .find(|o| matches!(o.op.action, Action::Ban { who, .. } if who == joiner));
    let (Some(join), Some(ban)) = (join, ban) else {
        panic!("the named race is missing");
    };
    let skip = |op: &SignedOp| {
        folded
            .skipped
            .iter()
            .find(|s| s.op == op.hash)
            .map(|s| s.why)
    };
    if skip(ban).is_some() {
        return false;
    }
    assert_eq!(
        skip(join),
        Some(Skip::Banned),
        "a join beat a concurrent ban"
    );
    true
}

#[test]
fn every_member_folds_every_race_to_the_same_state() {
    let base = base();
    let (mut interleavings, mut compared, mut ops_total, mut skipped_total) = (0, 0, 0, 0);
    let (mut epochs, mut keyholders) = (BTreeSet::new(), BTreeSet::new());
    let (mut refused_joins, mut joins) = (0, 0);
    for seed in 0..SEEDS {
        let mut rng = Rng::new(seed);
        let ops = race(&mut rng, &base);
        // The reference: everything, inserted in the order it was made.
        let mut all = base.clone();
        for op in &ops {
            all.insert(op.clone()).expect("inserts");
        }
        let reference = all.fold();
        assert!(reference.waiting.is_empty());
        check_removals(&all, &reference);
        let expected = reference.state.hash();
        let keyholder = (reference.state.keyholder(), reference.state.epoch_op());
        // A forgery somewhere in every member's stream: the first op, signed by someone else.
        let mut forged = ops[0].bytes().to_vec();
        forged[40] ^= 0x01;
        for _ in 0..RECEIVERS {
            let mut log = base.clone();
            let order = schedule(&mut rng, &ops);
            let forge_at = rng.below(order.len());
            for (n, i) in order.iter().enumerate() {
                if n == forge_at {
                    assert!(log.insert_bytes(&forged).is_err());
                }
                log.insert(ops[*i].clone()).expect("inserts");
                // Partway states must hold the invariants too (and never panic).
                if rng.below(order.len()) == 0 {
                    let partial = log.fold();
                    check_removals(&log, &partial);
                }
            }
            let state = log.fold().state;
            assert_eq!(state.hash(), expected, "seed {seed}");
            assert_eq!(
                (state.keyholder(), state.epoch_op()),
                keyholder,
                "seed {seed}"
            );
            interleavings += 1;
            compared += 1;
        }
        ops_total += ops.len();
        skipped_total += reference.skipped.len();
        epochs.insert(reference.state.epoch());
        refused_joins += usize::from(ban_beats_join(&ops, &reference));
        joins += ops
            .iter()
            .filter(|o| matches!(o.op.action, Action::Join { .. }))
            .filter(|o| skip_of(&reference, o).is_none())
            .count();
        keyholders.insert(reference.state.keyholder());
    }
    eprintln!(
        "{interleavings} interleavings over {SEEDS} seeds, {compared} final states compared, \
         {ops_total} racing ops ({skipped_total} skipped), final epochs {epochs:?}, \
         {} keyholders, a join refused for a concurrent ban in {refused_joins} races, {joins} joins applied",
        keyholders.len()
    );
    assert!(refused_joins > SEEDS as usize / 2, "the ban races the join");
    assert!(joins > SEEDS as usize / 10, "joins by invite take part");
    assert!(keyholders.len() > 3, "the keyholder varies with the race");
    assert_eq!(compared, SEEDS as usize * RECEIVERS);
}

//! Convergence, in the simulator's style: seeded random races of operations, delivered to every
//! member in its own random order, with random delays and duplicates (and a forgery). Every
//! member must end in the same state, and no removed or banned key may be in it unless an add
//! that saw the removal brought it back.

use std::collections::BTreeSet;

use super::tests::key;
use super::*;
use crate::proto::EndpointId;

const SEEDS: u64 = 1000;
const RECEIVERS: usize = 8;

const OWNER: u8 = 1;
const ADMINS: [u8; 3] = [2, 3, 4];
const MEMBERS: [u8; 6] = [10, 11, 12, 13, 14, 15];
const OUTSIDERS: [u8; 2] = [50, 51];

fn id(byte: u8) -> EndpointId {
    key(byte).public()
}

/// xorshift, as `sim::swarm` draws: reproducible from the seed alone.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    }

    fn pick(&mut self, from: &[u8]) -> u8 {
        from[self.below(from.len())]
    }
}

/// The room every member starts from: an owner, three admins, six members.
fn base() -> OpLog {
    let room = RoomId::from_bytes([9; 32]);
    let mut log =
        OpLog::create(&key(OWNER), room, "r", "", HistoryVisibility::Joined).expect("creates");
    let mut add = |action| {
        let op = log.author(&key(OWNER), action).expect("signs");
        log.insert(op).expect("inserts");
    };
    for who in ADMINS.iter().chain(&MEMBERS) {
        add(Action::Add { who: id(*who) });
    }
    for who in ADMINS {
        let role = Role::Admin;
        add(Action::SetRole { who: id(who), role });
    }
    log
}

/// The named races, all from the same view, then a few random operations each authored on a
/// random part of what was made before (partly concurrent, partly causal).
fn race(rng: &mut Rng, base: &OpLog) -> Vec<SignedOp> {
    let [a1, a2, a3] = ADMINS;
    let [m1, m2, m3, m4, ..] = MEMBERS;
    let outsider = OUTSIDERS[0];
    let reason = String::new;
    let named = [
        // Two admins remove different members at once.
        (
            a1,
            Action::Remove {
                who: id(m1),
                reason: reason(),
            },
        ),
        (
            a2,
            Action::Remove {
                who: id(m2),
                reason: reason(),
            },
        ),
        // An admin removes while the owner demotes it.
        (
            a3,
            Action::Remove {
                who: id(m3),
                reason: reason(),
            },
        ),
        (
            OWNER,
            Action::SetRole {
                who: id(a3),
                role: Role::Member,
            },
        ),
        // A ban races an add.
        (a1, Action::Add { who: id(outsider) }),
        (
            a2,
            Action::Ban {
                who: id(outsider),
                reason: reason(),
            },
        ),
        (m4, Action::Leave),
    ];
    let mut made: Vec<SignedOp> = named
        .into_iter()
        .map(|(who, action)| base.author(&key(who), action).expect("signs"))
        .collect();
    let everyone: Vec<u8> = [OWNER]
        .iter()
        .chain(&ADMINS)
        .chain(&MEMBERS)
        .chain(&OUTSIDERS)
        .copied()
        .collect();
    for _ in 0..rng.below(13) {
        let mut view = base.clone();
        for op in &made {
            if rng.below(2) == 0 {
                view.insert(op.clone()).expect("inserts");
            }
        }
        let who = id(rng.pick(&everyone));
        let action = match rng.below(11) {
            0 | 1 => Action::Remove {
                who,
                reason: reason(),
            },
            2 => Action::Ban {
                who,
                reason: reason(),
            },
            3 => Action::Unban { who },
            4 | 5 => Action::Add { who },
            6 => Action::SetRole {
                who,
                role: [Role::Admin, Role::Member][rng.below(2)],
            },
            7 => Action::HandOver { to: who },
            8 => Action::SetName(format!("n{}", rng.below(4))),
            9 => Action::SetHistory(HistoryVisibility::Shared),
            _ => Action::Leave,
        };
        let author = key(rng.pick(&everyone));
        made.push(view.author(&author, action).expect("signs"));
    }
    made
}

/// One member's deliveries: every op one to three times, each at a random time; ties in a
/// random order.
fn schedule(rng: &mut Rng, ops: &[SignedOp]) -> Vec<usize> {
    let mut arrivals: Vec<(usize, usize, usize)> = Vec::new();
    for i in 0..ops.len() {
        for _ in 0..=rng.below(3) {
            arrivals.push((rng.below(100), rng.below(1 << 20), i));
        }
    }
    arrivals.sort_unstable();
    arrivals.into_iter().map(|(_, _, i)| i).collect()
}

/// No member is banned; no key an applied removal took out is a member, unless an applied add
/// that had seen that removal brought it back.
fn check_removals(log: &OpLog, folded: &Folded) {
    let state = &folded.state;
    assert!(state.bans().all(|k| !state.is_member(k)), "a banned member");
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
            continue;
        }
        let readded = applied.iter().any(|add| {
            matches!(add.op.action, Action::Add { who } if who == gone)
                && log.saw(&add.hash, &removal.hash)
        });
        assert!(readded, "{gone} removed by {:?} but a member", removal.hash);
    }
}

#[test]
fn every_member_folds_every_race_to_the_same_state() {
    let base = base();
    let (mut interleavings, mut compared, mut ops_total, mut skipped_total) = (0, 0, 0, 0);
    let mut epochs = BTreeSet::new();
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
            assert_eq!(log.fold().state.hash(), expected, "seed {seed}");
            interleavings += 1;
            compared += 1;
        }
        ops_total += ops.len();
        skipped_total += reference.skipped.len();
        epochs.insert(reference.state.epoch());
    }
    eprintln!(
        "{interleavings} interleavings over {SEEDS} seeds, {compared} final states compared, \
         {ops_total} racing ops ({skipped_total} skipped), final epochs {epochs:?}"
    );
    assert_eq!(compared, SEEDS as usize * RECEIVERS);
}

//! The races the convergence tests run: an owner, three admins and six members in a room, the
//! named races of issue 23 and random operations, and each receiver's delivery order.

use std::collections::HashMap;

use super::tests::key;
use super::*;
use crate::proto::invite::{Invite, InviteDraft};
use crate::proto::{EndpointAddr, EndpointId, UnixMillis};

pub(super) const OWNER: u8 = 1;
pub(super) const ADMINS: [u8; 3] = [2, 3, 4];
pub(super) const MEMBERS: [u8; 6] = [10, 11, 12, 13, 14, 15];
/// Keys outside the room; the last ones join by invite.
pub(super) const OUTSIDERS: [u8; 4] = [50, 51, 52, 53];

pub(super) fn id(byte: u8) -> EndpointId {
    key(byte).public()
}

/// xorshift, as `sim::swarm` draws: reproducible from the seed alone.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
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
pub(super) fn base() -> OpLog {
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

/// The first admin's invite of this seed, good for two joins (its id from the seed, so a seed
/// replays exactly).
fn invite(rng: &mut Rng, base: &OpLog) -> Invite {
    let draft = InviteDraft {
        room: base.room(),
        owner: id(OWNER),
        expires: UnixMillis(u64::MAX),
        uses: Some(2),
        peers: vec![EndpointAddr::new(id(ADMINS[0]))],
        name: None,
    };
    let id: [u8; 16] = std::array::from_fn(|_| rng.below(256) as u8);
    Invite::issue_with_id(&key(ADMINS[0]), draft, id).expect("issues")
}

fn remove(who: u8) -> Action {
    Action::Remove {
        who: id(who),
        reason: String::new(),
    }
}

fn ban(who: u8) -> Action {
    Action::Ban {
        who: id(who),
        reason: String::new(),
    }
}

/// The named races, all from the same view, then a few random operations each authored on a
/// random part of what was made before (partly concurrent, partly causal). No key authors
/// more than [`MAX_OPS_PER_MEMBER`]: the bound is each member's at insert, not the fold's,
/// and these races are about the fold.
pub(super) fn race(rng: &mut Rng, base: &OpLog) -> Vec<SignedOp> {
    let [a1, a2, a3] = ADMINS;
    let [m1, m2, m3, m4, ..] = MEMBERS;
    let [outsider, joiner, _, late_joiner] = OUTSIDERS;
    let invite = invite(rng, base);
    let join = || Action::Join {
        invite: invite.to_bytes(),
    };
    let named = [
        // Two admins remove different members at once.
        (a1, remove(m1)),
        (a2, remove(m2)),
        // An admin removes while the owner demotes it.
        (a3, remove(m3)),
        (
            OWNER,
            Action::SetRole {
                who: id(a3),
                role: Role::Member,
            },
        ),
        // A ban races an add.
        (a1, Action::Add { who: id(outsider) }),
        (a2, ban(outsider)),
        // A ban races a join by the first admin's invite.
        (joiner, join()),
        (a2, ban(joiner)),
        (m4, Action::Leave),
    ];
    let mut made: Vec<SignedOp> = named
        .into_iter()
        .map(|(who, action)| base.author(&key(who), action).expect("signs"))
        .collect();
    let mut authored: HashMap<EndpointId, usize> = HashMap::new();
    for op in &made {
        *authored.entry(op.author).or_default() += 1;
    }
    let everyone: Vec<u8> = [OWNER]
        .iter()
        .chain(&ADMINS)
        .chain(&MEMBERS)
        .chain(&OUTSIDERS)
        .copied()
        .collect();
    for _ in 0..rng.below(16) {
        let mut view = base.clone();
        for op in &made {
            if rng.below(2) == 0 {
                view.insert(op.clone()).expect("inserts");
            }
        }
        let target = rng.pick(&everyone);
        let who = id(target);
        let action = match rng.below(14) {
            0 | 1 => remove(target),
            2 => ban(target),
            3 => Action::Unban { who },
            4 | 5 => Action::Add { who },
            6 => Action::SetRole {
                who,
                role: [Role::Admin, Role::Member][rng.below(2)],
            },
            7 => Action::HandOver { to: who },
            8 => Action::SetName(format!("n{}", rng.below(4))),
            9 => Action::SetHistory(HistoryVisibility::Shared),
            10 | 11 => join(),
            12 => Action::Revoke { id: invite.id },
            _ => Action::Leave,
        };
        // Joins mostly by keys outside, the last of which only ever joins.
        let author = match action {
            Action::Join { .. } if rng.below(3) > 0 => late_joiner,
            _ => rng.pick(&everyone[..everyone.len() - 1]),
        };
        let count = authored.entry(id(author)).or_default();
        if *count >= MAX_OPS_PER_MEMBER {
            continue;
        }
        *count += 1;
        made.push(view.author(&key(author), action).expect("signs"));
    }
    made
}

/// One member's deliveries: every op one to three times, each at a random time; ties in a
/// random order.
pub(super) fn schedule(rng: &mut Rng, ops: &[SignedOp]) -> Vec<usize> {
    let mut arrivals: Vec<(usize, usize, usize)> = Vec::new();
    for i in 0..ops.len() {
        for _ in 0..=rng.below(3) {
            arrivals.push((rng.below(100), rng.below(1 << 20), i));
        }
    }
    arrivals.sort_unstable();
    arrivals.into_iter().map(|(_, _, i)| i).collect()
}

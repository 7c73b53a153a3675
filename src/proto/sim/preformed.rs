//! A room that has been together a while, made without simulating how it formed, and the
//! signature checks the simulator shares between its members.

use std::sync::Arc;

use super::swarm::{LINKS, Swarm, TOPIC, secret};
use crate::proto::room::{Input, RoomConfig};
use crate::proto::wire;

impl Swarm {
    /// Members `0..n` as a room that has been together a while: linked, joined, each knowing
    /// every other (from a signed `AboutMe` each, announcing the heartbeat of a room this
    /// size), each beating at that interval. What forming it took is not simulated.
    pub fn preformed(&mut self, n: usize) {
        for i in 1..n {
            for _ in 0..LINKS.min(i) {
                let j = self.random(i as u64) as usize;
                if !self.links[i].iter().any(|(k, _)| *k == j) {
                    self.link(i, j);
                }
            }
        }
        let now = self.now();
        for i in 0..n {
            self.online[i] = true;
            let neighbours: Vec<usize> = self.links[i].iter().map(|(j, _)| *j).collect();
            for j in neighbours {
                let id = self.rooms[j].id();
                self.rooms[i].handle(Input::NeighborUp(id), now);
            }
        }
        let every = RoomConfig::default().timing.heartbeat_for(n).as_secs() as u32;
        let everyone: Vec<Arc<[u8]>> = (0..n)
            .map(|i| {
                let body = wire::MessageBody::AboutMe {
                    from: self.rooms[i].id(),
                    name: format!("m{i}"),
                    every: Some(every),
                };
                let payload = wire::Payload {
                    nonce: i as u64,
                    sent: now.wall.0,
                    body,
                };
                let bytes = wire::seal(&secret(i), &TOPIC, &payload).unwrap_or_default();
                Arc::from(bytes)
            })
            .collect();
        let checked = self.check(everyone);
        for i in 0..n {
            self.rooms[i].handle(Input::Roster(checked.clone()), now);
            // Announce again, now as a member of a room this size (sent nowhere: everyone
            // just learnt of everyone).
            self.rooms[i].handle(Input::Resumed, now);
            self.schedule_tick(i);
        }
    }

    /// Check envelopes' signatures, each once for the whole run (the cost of checking is
    /// not what the simulator measures; the rooms check what arrives live themselves).
    pub(super) fn check(&mut self, envelopes: Vec<Arc<[u8]>>) -> wire::CheckedBatch {
        let mut batch = wire::CheckedBatch::default();
        let now = self.now().wall;
        for bytes in envelopes {
            let id = crate::proto::MessageId::of(&bytes);
            let verified = match self.checked.get(&id) {
                Some(v) => v.clone(),
                None => match wire::Verifier::default().open(&bytes, &TOPIC, now) {
                    Ok(v) => {
                        self.checked.insert(id, v.clone());
                        v
                    }
                    Err(rejection) => {
                        batch.rejected.push(rejection);
                        continue;
                    }
                },
            };
            batch.accepted.push((verified, bytes));
        }
        batch
    }
}

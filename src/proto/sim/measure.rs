//! What one step costs in a simulated [`Swarm`] and how long it takes to be known everywhere:
//! a join, a line, a vanished member. Used by the room benchmark (`--mode sim`) and the tests.

use std::collections::HashMap;
use std::time::Duration;

use super::swarm::{Counts, Swarm};
use crate::proto::room::Event;

/// One member joining.
#[derive(Debug, Clone)]
pub struct JoinFigures {
    /// Everything sent while it joined (no heartbeat falls in the window: see the bench).
    pub cost: Counts,
    /// Until every other member listed the newcomer by name.
    pub everyone_knew_newcomer: Option<Duration>,
    /// Until the newcomer listed every member.
    pub newcomer_knew_everyone: Option<Duration>,
}

/// One line said.
#[derive(Debug, Clone)]
pub struct LineFigures {
    /// Deliveries of the line itself (whatever else was sent meanwhile is not its cost).
    pub deliveries: u64,
    pub reached: usize,
    pub expected: usize,
    /// Arrival after it was said: the median member, and the last one.
    pub median: Duration,
    pub last: Duration,
}

/// One member vanishing without a word.
#[derive(Debug, Clone)]
pub struct VanishFigures {
    pub cost: Counts,
    /// Until every other member reported it gone.
    pub everyone_reported: Option<Duration>,
}

impl Swarm {
    /// Member `i` joins; runs `window` of simulated time.
    pub fn measure_join(&mut self, i: usize, window: Duration) -> JoinFigures {
        let (before, t0) = (self.counts, self.t);
        self.take_seen();
        let newcomer = self.rooms[i].id();
        self.join(i);
        self.run_until(t0 + window);
        let others = self.online() - 1;
        let mut knew: HashMap<usize, Duration> = HashMap::new();
        let mut learnt = Vec::new();
        for (t, j, event) in self.take_seen() {
            if let Event::MemberJoined(member) = event {
                if member.id == newcomer && j != i {
                    knew.entry(j).or_insert(t - t0);
                }
                if j == i {
                    learnt.push(t - t0);
                }
            }
        }
        learnt.sort();
        JoinFigures {
            cost: self.counts - before,
            everyone_knew_newcomer: (knew.len() >= others)
                .then(|| knew.values().max().copied())
                .flatten(),
            newcomer_knew_everyone: learnt.get(others.wrapping_sub(1)).copied(),
        }
    }

    /// Member `from` says a line; runs `window`.
    pub fn measure_line(&mut self, from: usize, text: &str, window: Duration) -> LineFigures {
        let t0 = self.t;
        self.take_seen();
        self.input(from, crate::proto::room::Input::Say(text.into()));
        self.run_until(t0 + window);
        let mut id = None;
        let mut arrivals = Vec::new();
        for (t, _, event) in self.take_seen() {
            match event {
                Event::MessageReceived(line) if line.text == text => arrivals.push(t - t0),
                Event::MessageSent(line) if line.text == text => id = Some(line.id),
                _ => {}
            }
        }
        arrivals.sort();
        LineFigures {
            deliveries: id.map_or(0, |id| self.deliveries_of(&id)),
            reached: arrivals.len(),
            expected: self.online() - 1,
            median: arrivals
                .get(arrivals.len() / 2)
                .copied()
                .unwrap_or_default(),
            last: arrivals.last().copied().unwrap_or_default(),
        }
    }

    /// Member `i` vanishes; runs until everyone reported it gone, or `limit`.
    pub fn measure_vanish(&mut self, i: usize, limit: Duration) -> VanishFigures {
        let (before, t0) = (self.counts, self.t);
        self.take_seen();
        let gone = self.rooms[i].id();
        self.crash(i);
        let others = self.online();
        let mut reported = HashMap::new();
        let step = Duration::from_millis(500);
        while reported.len() < others && self.t < t0 + limit {
            let until = self.t + step;
            self.run_until(until);
            for (t, j, event) in self.take_seen() {
                if matches!(&event, Event::MemberLeft { member, .. } if member.id == gone) {
                    reported.entry(j).or_insert(t - t0);
                }
            }
        }
        VanishFigures {
            cost: self.counts - before,
            everyone_reported: (reported.len() >= others)
                .then(|| reported.values().max().copied())
                .flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::swarm::Swarm;
    use crate::proto::room::RoomConfig;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn in_a_sparse_swarm_with_latency_joins_cost_o_n_and_everyone_learns_everything() {
        let n = 60;
        let mut swarm = Swarm::new(n + 2, (MS(10), MS(100)), RoomConfig::default());
        swarm.preformed(n);
        swarm.run_until(Duration::from_secs(3));
        for newcomer in [n, n + 1] {
            let join = swarm.measure_join(newcomer, Duration::from_secs(5));
            let members = swarm.online() as u64;
            assert!(
                join.everyone_knew_newcomer
                    .is_some_and(|t| t < Duration::from_secs(2)),
                "{join:?}"
            );
            // From one neighbour's member list, a round trip after its first link.
            assert!(
                join.newcomer_knew_everyone
                    .is_some_and(|t| t < Duration::from_secs(1)),
                "{join:?}"
            );
            // Its two broadcasts and a few answers, each delivered to everyone; the lists.
            assert!(join.cost.broadcasts <= 12, "{join:?}");
            assert!(join.cost.deliveries <= 12 * members, "{join:?}");
        }
        let line = swarm.measure_line(3, "hello", Duration::from_secs(2));
        assert_eq!(line.reached, line.expected);
        assert_eq!(line.deliveries, line.expected as u64);
        let vanish = swarm.measure_vanish(5, Duration::from_secs(120));
        let reported = vanish.everyone_reported.expect("everyone reported it gone");
        assert!(reported <= Duration::from_secs(32), "{vanish:?}");
        assert!(
            vanish.cost.broadcasts <= 5,
            "Missing from its neighbours: {vanish:?}"
        );
    }

    #[test]
    fn when_everyone_answers_a_join_costs_n_squared() {
        let n = 40;
        let config = RoomConfig {
            answerers: u64::MAX,
            ..RoomConfig::default()
        };
        let mut swarm = Swarm::new(n + 1, (MS(10), MS(100)), config);
        swarm.preformed(n);
        swarm.run_until(Duration::from_secs(3));
        let join = swarm.measure_join(n, Duration::from_secs(5));
        assert!(join.cost.broadcasts >= n as u64, "{join:?}");
        assert!(join.cost.deliveries >= (n * n) as u64, "{join:?}");
    }
}

//! Presence at scale in the simulator (`parlor::proto::sim::swarm`): the real room state
//! machine in rooms of 100 and 1,000 members on a sparse overlay (5 links per newcomer) with
//! link latencies of 10-100 ms, and with every link at 100 ms. The room has been together a
//! while (every member announced a heartbeat for a room its size, so none falls in the
//! measured windows); then 5 members join one after another, 10 lines are said, and one
//! member vanishes. For comparison, the same 100-member room with everyone answering a
//! newcomer, as parlor did before member lists.

use std::time::Duration;

use parlor::proto::room::RoomConfig;
use parlor::proto::sim::measure::{JoinFigures, LineFigures};
use parlor::proto::sim::swarm::Swarm;
use serde_json::{Value, json};

use crate::Options;

const JOINS: usize = 5;
const LINES: usize = 10;

fn ms(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1000.0)
}

fn max_ms(all: impl Iterator<Item = Option<Duration>>) -> Option<f64> {
    let all: Vec<Option<Duration>> = all.collect();
    if all.iter().any(Option::is_none) {
        return None;
    }
    ms(all.into_iter().flatten().max())
}

/// One room size and latency: a JSON object of the figures, also printed.
fn scenario(n: usize, latency: (Duration, Duration), config: RoomConfig, label: &str) -> Value {
    let mut swarm = Swarm::new(n + JOINS, latency, config.clone());
    swarm.preformed(n);
    // The member-list check every member makes 2 s after joining, out of the way.
    swarm.run_until(Duration::from_secs(3));
    let joins: Vec<JoinFigures> = (n..n + JOINS)
        .map(|i| swarm.measure_join(i, Duration::from_secs(5)))
        .collect();
    let lines: Vec<LineFigures> = (0..LINES)
        .map(|k| swarm.measure_line(k * 7 % n, &format!("line {k}"), Duration::from_secs(3)))
        .collect();
    let vanish = swarm.measure_vanish(1, Duration::from_secs(120));
    let members = (n + JOINS) as f64;
    let per =
        |f: fn(&JoinFigures) -> u64| joins.iter().map(f).sum::<u64>() as f64 / joins.len() as f64;
    let (broadcasts, deliveries, direct) = (
        per(|j| j.cost.broadcasts),
        per(|j| j.cost.deliveries),
        per(|j| j.cost.direct),
    );
    let knew_newcomer = max_ms(joins.iter().map(|j| j.everyone_knew_newcomer));
    let knew_everyone = max_ms(joins.iter().map(|j| j.newcomer_knew_everyone));
    let reached: usize = lines.iter().map(|l| l.reached).sum();
    let expected: usize = lines.iter().map(|l| l.expected).sum();
    let line_deliveries = lines.iter().map(|l| l.deliveries).sum::<u64>() as f64 / LINES as f64;
    let median = lines.iter().map(|l| l.median).max().unwrap_or_default();
    let last = lines.iter().map(|l| l.last).max().unwrap_or_default();
    let every = config.timing.heartbeat_for(n + JOINS);
    let heartbeats_per_s = members / every.as_secs_f64();
    let show = |v: Option<f64>| v.map_or("never".to_string(), |v| format!("{v:.0} ms"));
    println!("  {label}");
    println!(
        "    per join: {broadcasts:.1} broadcasts, {deliveries:.0} deliveries ({:.1} x members), {direct:.0} envelopes sent directly; every member knew the newcomer after {} (slowest of {JOINS}), the newcomer knew every member after {}",
        deliveries / members,
        show(knew_newcomer),
        show(knew_everyone),
    );
    println!(
        "    per line: {line_deliveries:.0} deliveries, {reached}/{expected} delivered ({:.1} %), median member {:.0} ms, last {:.0} ms (slowest of {LINES})",
        100.0 * reached as f64 / expected.max(1) as f64,
        median.as_secs_f64() * 1000.0,
        last.as_secs_f64() * 1000.0,
    );
    println!(
        "    heartbeat every {} s: {heartbeats_per_s:.2} broadcasts/s room-wide, {:.0} deliveries/s; a vanished member reported gone by all after {} ({} broadcasts)",
        every.as_secs(),
        heartbeats_per_s * (members - 1.0),
        show(ms(vanish.everyone_reported)),
        vanish.cost.broadcasts,
    );
    json!({
        "members": n + JOINS,
        "latency_ms": [latency.0.as_millis() as u64, latency.1.as_millis() as u64],
        "join": {
            "broadcasts": broadcasts, "deliveries": deliveries,
            "deliveries_per_member": deliveries / members, "direct_envelopes": direct,
            "everyone_knew_newcomer_ms": knew_newcomer, "newcomer_knew_everyone_ms": knew_everyone,
        },
        "line": {
            "deliveries": line_deliveries, "delivered": reached, "expected": expected,
            "median_ms": median.as_secs_f64() * 1000.0, "last_ms": last.as_secs_f64() * 1000.0,
        },
        "heartbeat": {"every_s": every.as_secs(), "broadcasts_per_s": heartbeats_per_s,
                      "deliveries_per_s": heartbeats_per_s * (members - 1.0)},
        "vanished": {"everyone_reported_ms": ms(vanish.everyone_reported),
                     "broadcasts": vanish.cost.broadcasts},
    })
}

pub fn run(opts: &Options) -> Value {
    let ms = Duration::from_millis;
    let sizes: &[usize] = if opts.smoke { &[50] } else { &[100, 1000] };
    let mut report = serde_json::Map::new();
    for &n in sizes {
        for (latency, name) in [
            ((ms(10), ms(100)), "10-100 ms"),
            ((ms(100), ms(100)), "100 ms"),
        ] {
            let label = format!("{n} members + {JOINS} joining, links {name}");
            let value = scenario(n, latency, RoomConfig::default(), &label);
            report.insert(label, value);
        }
    }
    let n = sizes[0];
    let everyone = RoomConfig {
        answerers: u64::MAX,
        ..RoomConfig::default()
    };
    let label =
        format!("{n} members + {JOINS} joining, links 10-100 ms, everyone answers (before)");
    let value = scenario(n, (ms(10), ms(100)), everyone, &label);
    report.insert(label, value);
    Value::Object(report)
}

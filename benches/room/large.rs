//! A large room as a new user would try it: 30 real processes (`--members N`) on 127.0.0.1, the
//! joiners all started at once with the opener's ticket, then one line every 0.5 s from varying
//! members, each received by all the others. Run for every program in the same run (parlor with
//! a data directory and the iroh-gossip chat example with `--side-by-side`), so that the
//! machine's mood of the moment is the same for both.
//!
//! Reports: all joiners ready (able to send) after their start; every member knowing every
//! other's name (parlor only: the example prints no names), from the start and after the last
//! joiner was ready; 10 lines right after joining; 20 lines after 4 s of quiet; delivery;
//! resident memory.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Options;
use crate::peers::{Limit, Program, Role, spawn};
use crate::process::{PATIENCE, Phase, Room, open, row};
use crate::stats::{cpu_time, latency, rss_mb};

/// How long forming the room may take before the run gives up.
const FORM_PATIENCE: Duration = Duration::from_secs(60);
const LINE_EVERY: Duration = Duration::from_millis(500);

/// How the room came together.
struct Formed {
    /// From the joiners' start to each one's `ready`.
    ready: Vec<Duration>,
    /// From the joiners' start until every member listed every other (parlor).
    all_names: Option<Duration>,
}

/// p0 opens the room; p1..pN-1 start at once and join with its ticket. Waits until every
/// joiner is ready and (for parlor) every member knows every other's name.
fn form(program: &Program, n: usize) -> anyhow::Result<(Room, Formed)> {
    let (tx, lines) = mpsc::channel();
    let (opener, ticket) = open(program, Limit::Lifted, &tx, &lines)?;
    let mut procs = vec![opener];
    let started = Instant::now();
    for i in 1..n {
        procs.push(spawn(
            program,
            i,
            Role::Join(&ticket),
            Limit::Lifted,
            tx.clone(),
        )?);
    }
    let names = matches!(program, Program::Parlor { .. });
    let mut ready = HashMap::new();
    // Who each member lists as here, from `joined` and `left` events.
    let mut known: Vec<HashSet<String>> = vec![HashSet::new(); n];
    let everyone_known = |known: &[HashSet<String>]| known.iter().all(|k| k.len() >= n - 1);
    let mut all_names = None;
    let deadline = started + FORM_PATIENCE;
    while ready.len() < n - 1 || (names && all_names.is_none()) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((i, at, v)) = lines.recv_timeout(left) else {
            anyhow::bail!(
                "{}: after {FORM_PATIENCE:?}, {} of {} joiners ready, names known by {} of {n}",
                program.label(),
                ready.len(),
                n - 1,
                known.iter().filter(|k| k.len() >= n - 1).count()
            );
        };
        let from = v["from"].as_str().unwrap_or_default().to_string();
        match v["type"].as_str() {
            Some("ready") if i > 0 => {
                ready.entry(i).or_insert(at.duration_since(started));
            }
            Some("joined") => {
                known[i].insert(from);
            }
            Some("left") => {
                known[i].remove(&from);
            }
            _ => {}
        }
        if names && all_names.is_none() && everyone_known(&known) {
            all_names = Some(at.duration_since(started));
        }
    }
    let mut ready: Vec<Duration> = ready.into_values().collect();
    ready.sort();
    let room = Room {
        procs,
        lines,
        ticket,
    };
    Ok((room, Formed { ready, all_names }))
}

/// `count` lines, one every 0.5 s, each from another member (in rounds of at most one line
/// per member when there are more lines than members).
fn lines_from_varying_members(room: &mut Room, count: usize, first: usize) -> crate::process::Run {
    let n = room.procs.len();
    // A stride coprime with the room size visits every member before repeating one.
    let senders: Vec<usize> = (0..count).map(|k| (first + k * 7) % n).collect();
    let mut total = crate::process::Run::default();
    for round in senders.chunks(n.min(count).max(1)) {
        let every = LINE_EVERY * round.len() as u32;
        let run = room.traffic(round, every, 1, Phase::Spread, PATIENCE);
        total.latencies.extend(run.latencies);
        total.delivered += run.delivered;
        total.expected += run.expected;
        total.duplicates += run.duplicates;
    }
    total
}

pub fn run(opts: &Options, programs: &[Program]) -> anyhow::Result<Value> {
    let n = opts.members;
    let mut report = serde_json::Map::new();
    for program in programs {
        println!("  -- {} x{n}", program.label());
        let (mut room, formed) = form(program, n)?;
        let ready = latency(formed.ready.clone());
        let last_ready = formed.ready.last().copied().unwrap_or_default();
        let names_after_last = formed
            .all_names
            .map(|t| t.saturating_sub(last_ready).as_secs_f64() * 1000.0);
        println!(
            "    joiners started at once: ready p50 {:.0} ms, all {:.0} ms; every member knows every name: {}",
            ready.p50_ms,
            ready.max_ms,
            match (formed.all_names, names_after_last) {
                (Some(all), Some(after)) => format!(
                    "{:.0} ms ({after:.0} ms after the last ready)",
                    all.as_secs_f64() * 1000.0
                ),
                _ => "- (prints no names)".into(),
            }
        );
        let label = "10 lines right after joining, 1 per 0.5 s";
        let fresh = lines_from_varying_members(&mut room, if opts.smoke { 3 } else { 10 }, 1);
        let fresh = row(label, &fresh);
        std::thread::sleep(Duration::from_secs(4));
        let label = "20 lines after 4 s of quiet, 1 per 0.5 s";
        let cpu_before: Duration = room.pids().iter().map(|p| cpu_time(p)).sum();
        let settled = lines_from_varying_members(&mut room, if opts.smoke { 3 } else { 20 }, 2);
        let cpu = room.pids().iter().map(|p| cpu_time(p)).sum::<Duration>() - cpu_before;
        let cpu_per = cpu.as_micros() as f64 / settled.delivered.max(1) as f64;
        let settled = row(label, &settled);
        println!(
            "    CPU of all {n} processes while the 20 lines went round: {:.2} s, {cpu_per:.0} µs per delivered line",
            cpu.as_secs_f64()
        );
        let mut rss: Vec<f64> = room.pids().iter().map(|p| rss_mb(p)).collect();
        rss.sort_by(f64::total_cmp);
        let median = rss.get(rss.len() / 2).copied().unwrap_or_default();
        let max = rss.last().copied().unwrap_or_default();
        println!("    resident memory per process: median {median:.1} MB, max {max:.1} MB");
        if opts.smoke {
            for (what, run) in [("fresh", &fresh), ("settled", &settled)] {
                anyhow::ensure!(
                    run["delivered"] == run["expected"],
                    "{}: {what} lines lost in a {n}-member room",
                    program.label()
                );
            }
        }
        report.insert(
            program.key().into(),
            json!({
                "members": n,
                "ready_ms": {"p50": ready.p50_ms, "max": ready.max_ms},
                "all_names_ms": formed.all_names.map(|d| d.as_secs_f64() * 1000.0),
                "all_names_after_last_ready_ms": names_after_last,
                "fresh": fresh,
                "settled": settled,
                "rss_mb": {"median": median, "max": max},
                "cpu_us_per_delivery_settled": cpu_per,
            }),
        );
        room.quit();
    }
    Ok(Value::Object(report))
}

//! Direct messages and several rooms, as real processes with data directories on 127.0.0.1:
//! - a direct message from one process's stdin (`/msg p1 ...`) until the other prints it
//!   (`dm`), and until the sender prints it delivered (`dm_status`), beside a room line
//!   between the same two processes in the same run;
//! - restarting with five stored rooms (`parlor join T1 .. T5` by topic, as the lobby's
//!   rejoin does): until every room is ready, and until the member of each is back.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Options;
use crate::peers::{Limit, Line, Member, Program, spawn_in};
use crate::process::{Lines, Room, row, wait_for};
use crate::stats::latency;
use crate::support::parlor::tempdir;

/// Between two messages (direct or room lines).
const INTERVAL: Duration = Duration::from_millis(100);
/// Rooms the restart scenario rejoins.
const ROOMS: usize = 5;

pub fn run(opts: &Options) -> anyhow::Result<Value> {
    let messages = if opts.smoke { 20 } else { 100 };
    let restarts = if opts.smoke { 1 } else { 5 };
    let dm = direct_messages(messages)?;
    let rejoin = rejoin_rooms(restarts)?;
    Ok(json!({"direct": dm, "rejoin": rejoin}))
}

/// Two processes in one room: `messages` direct messages from p0 to p1, then as many room
/// lines, one every 100 ms (a fast typist; within the 20 a second one member may send).
fn direct_messages(messages: u64) -> anyhow::Result<Value> {
    let program = Program::PARLOR;
    let mut room = Room::form(&program, 2, Limit::Lifted)?;
    room.say(0, "/who");
    // p0 must know p1's name before `/msg p1` can find it.
    wait_for(&room.lines, "p1 listed", |i, v| {
        i == 0 && v["type"] == "members" && v["members"].as_array().is_some_and(|m| m.len() == 2)
    })
    .or_else(|_| {
        wait_for(&room.lines, "p1 joined", |i, v| {
            i == 0 && v["type"] == "joined"
        })
    })?;
    let mut times = DmTimes {
        tag: rand::random::<u32>(),
        ..DmTimes::default()
    };
    let start = Instant::now();
    for seq in 0..messages {
        let due = start + INTERVAL * seq as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        times.sent_at.insert(seq, Instant::now());
        room.say(0, &format!("/msg p1 {seq}:{}", times.tag));
        times.collect(&room.lines, Duration::ZERO);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while (times.received.len() as u64) < messages || (times.delivered.len() as u64) < messages {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        times.collect(&room.lines, left);
    }
    let runs = [
        ("direct message, shown to the addressee", times.received),
        (
            "direct message, shown delivered to the sender",
            times.delivered,
        ),
    ];
    let mut report = json!({});
    for (label, samples) in runs {
        let run = crate::process::Run {
            delivered: samples.len() as u64,
            expected: messages,
            latencies: samples,
            duplicates: 0,
        };
        report[label] = row(label, &run);
    }
    // Room lines between the same two processes, for comparison.
    let lines = room.traffic(
        &[0],
        INTERVAL,
        messages,
        crate::process::Phase::Spread,
        Duration::from_secs(5),
    );
    report["room line"] = row("room line (same processes)", &lines);
    room.quit();
    Ok(report)
}

/// When each direct message was written to p0, and how long until it showed.
#[derive(Default)]
struct DmTimes {
    /// Marks this run's messages.
    tag: u32,
    sent_at: HashMap<u64, Instant>,
    /// Message ids p0 printed, to match its `dm_status` to a message.
    ids: HashMap<String, u64>,
    received: Vec<Duration>,
    delivered: Vec<Duration>,
}

impl DmTimes {
    /// Read what arrived (waiting at most `wait` for the first line): `dm` at p1 and
    /// `dm_status delivered` at p0, timed from the line written to p0.
    fn collect(&mut self, lines: &Lines, wait: Duration) {
        let mut next = lines.recv_timeout(wait).ok();
        while let Some((i, at, v)) = next {
            let text = v["text"].as_str().unwrap_or_default();
            let seq = text
                .split_once(':')
                .filter(|(_, t)| *t == self.tag.to_string())
                .and_then(|(seq, _)| seq.parse::<u64>().ok());
            let since = |seq: &u64| self.sent_at.get(seq).map(|t| at - *t);
            match (i, v["type"].as_str(), seq) {
                (1, Some("dm"), Some(seq)) => self.received.extend(since(&seq)),
                (0, Some("dm"), Some(seq)) => {
                    let id = v["id"].as_str().unwrap_or_default().to_string();
                    self.ids.insert(id, seq);
                }
                (0, Some("dm_status"), _) if v["state"] == "delivered" => {
                    let seq = self.ids.get(v["id"].as_str().unwrap_or_default());
                    let took = seq.and_then(since);
                    self.delivered.extend(took);
                }
                _ => {}
            }
            next = lines.try_recv().ok();
        }
    }
}

/// p0 opens five rooms; p1 joins them all by ticket, quits, and starts again `restarts`
/// times with the five topics (known rooms): until each is `ready`, and until p0 is back in
/// each (its `joined`).
fn rejoin_rooms(restarts: usize) -> anyhow::Result<Value> {
    let dirs = [tempdir("host"), tempdir("member")];
    let (tx, lines) = mpsc::channel::<Line>();
    let mut host = spawn_in(&dirs[0], 0, &["open"], tx.clone())?;
    for _ in 1..ROOMS {
        host_line(&mut host, "/open");
    }
    let mut tickets = Vec::new();
    let mut topics = Vec::new();
    while tickets.len() < ROOMS {
        let (_, _, ready) = wait_for(&lines, "the host's rooms", |i, v| {
            i == 0 && v["type"] == "ready"
        })?;
        tickets.push(ready["ticket"].as_str().unwrap_or_default().to_string());
        topics.push(ready["topic"].as_str().unwrap_or_default().to_string());
    }
    let mut args = vec!["join"];
    args.extend(tickets.iter().map(String::as_str));
    let mut member = spawn_in(&dirs[1], 1, &args, tx.clone())?;
    back_in_every_room(&lines, &topics)?;
    let (mut ready, mut back) = (Vec::new(), Vec::new());
    for _ in 0..restarts {
        member.quit();
        member.wait();
        let mut args = vec!["join"];
        args.extend(topics.iter().map(String::as_str));
        let started = Instant::now();
        member = spawn_in(&dirs[1], 1, &args, tx.clone())?;
        let (all_ready, all_back) = back_in_every_room(&lines, &topics)?;
        ready.push(all_ready - started);
        back.push(all_back - started);
    }
    member.quit();
    host.quit();
    member.wait();
    host.wait();
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    let show = |label: &str, samples: Vec<Duration>| {
        let l = latency(samples);
        println!(
            "    {label:<44} p50 {:7.1} ms  max {:7.1} ms  ({} starts)",
            l.p50_ms, l.max_ms, l.samples
        );
        json!({"p50_ms": l.p50_ms, "max_ms": l.max_ms, "starts": l.samples})
    };
    Ok(json!({
        "rooms": ROOMS,
        "all ready": show("5 stored rooms: all ready", ready),
        "all back with their member": show("5 stored rooms: the member back in each", back),
    }))
}

/// Until p1 printed `ready` in every room and heard p0 in each: when the last of each came.
fn back_in_every_room(lines: &Lines, topics: &[String]) -> anyhow::Result<(Instant, Instant)> {
    let (mut ready, mut back) = (HashSet::new(), HashSet::new());
    let (mut last_ready, mut last_back) = (Instant::now(), Instant::now());
    while ready.len() < topics.len() || back.len() < topics.len() {
        let (_, at, v) = wait_for(lines, "p1 back in every room", |i, v| {
            i == 1 && (v["type"] == "ready" || (v["type"] == "joined" && v["name"] == "p0"))
        })?;
        let room = v["room"].as_str().unwrap_or_default().to_string();
        let set = if v["type"] == "ready" {
            &mut ready
        } else {
            &mut back
        };
        if set.insert(room) {
            if v["type"] == "ready" {
                last_ready = at;
            } else {
                last_back = at;
            }
        }
    }
    Ok((last_ready, last_back))
}

fn host_line(host: &mut Member, line: &str) {
    let _ = host.write_line(line);
}

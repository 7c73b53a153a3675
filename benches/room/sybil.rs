//! A member with a thousand keys (issue 25's "Must reach"): three parlor processes with data
//! directories in a public room (p0 opens it, p1 says a line every 100 ms, p2 listens) talk
//! quietly for a while; then an iroh node in this process, holding the ticket, joins the topic
//! through p0 and speaks for 1,000 freshly minted keys: each announces itself with the largest
//! name allowed and renames every few seconds, and all of them send lines as fast as this
//! process can sign them, each key within its own limits. A persistent attacker: whenever p0
//! cuts its node off, it comes back at once with a new node key (the same 1,000 keys). Measured at p0: resident memory and
//! the data directory's size before and at the end, and the honest member's lines (p1 to p0
//! and p2) quiet and under attack. The last line printed is one JSON object.
//!
//! The attack starts once the room has been going for a minute (parlor takes the keys it hears
//! in the first minute after joining as members from before; the smoke run does not wait).

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use parlor::net::{NetConfig, NetEvent, Node};
use parlor::proto::ticket::Ticket;
use parlor::proto::wire::{self, MessageBody, Payload};
use parlor::proto::{EndpointAddr, SecretKey, TopicId, UnixMillis};
use serde_json::{Value, json};

use crate::Options;
use crate::peers::{Limit, Program};
use crate::process::Room;
use crate::stats::{latency, rss_mb};

const KEYS: usize = 1_000;
const HONEST: usize = 1;
const RECEIVERS: [usize; 2] = [0, 2];
const HONEST_EVERY: Duration = Duration::from_millis(100);
/// Lines the attacker sends a second in all, at most (each key stays under its 20 a second and
/// 64 KiB a second: 2 lines of 4 KiB a second each).
const ATTACK_RATE: u64 = 2_000;
const LINE_BYTES: usize = 4 * 1024;
/// Each key renames this often (presence allows one per 2 s).
const RENAME_EVERY: Duration = Duration::from_secs(5);

pub fn run(opts: &Options) -> anyhow::Result<Value> {
    let (warm, quiet_s, attack_s) = if opts.smoke {
        (Duration::ZERO, 0.5, 1.0)
    } else {
        (Duration::from_secs(60), 10.0, 30.0)
    };
    let program = Program::Parlor {
        data_dir: true,
        public: true,
    };
    let mut room = Room::form(&program, 3, Limit::Default)?;
    let ticket = Ticket::from_str(&room.ticket)?;
    let pid = room.pids()[0].clone();
    let dir = room.procs[0]
        .data_dir()
        .ok_or_else(|| anyhow::anyhow!("p0 has no data directory"))?
        .to_path_buf();
    println!(
        "  3 processes (data directories, default limits), public room; p{HONEST} says a line every {} ms; then {KEYS} minted keys from one node through p0, {} lines/s of {} KiB in all, renaming every {} s",
        HONEST_EVERY.as_millis(),
        ATTACK_RATE,
        LINE_BYTES / 1024,
        RENAME_EVERY.as_secs()
    );
    std::thread::sleep(warm);
    let quiet = honest_phase(&mut room, quiet_s)?;
    let (rss_before, disk_before) = (rss_mb(&pid), dir_bytes(&dir));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let attack = Attack {
        topic: ticket.topic,
        via: ticket.peers.clone(),
        span: Duration::from_secs_f64(attack_s),
    };
    let sending = runtime.spawn(attack.run());
    let loud = honest_phase(&mut room, attack_s)?;
    let (sent, nodes) = runtime.block_on(sending)??;
    let (rss_after, disk_after) = (rss_mb(&pid), dir_bytes(&dir));
    room.quit();
    let rss_growth = rss_after - rss_before;
    let disk_growth = (disk_after as f64 - disk_before as f64) / 1e6;
    let quiet_lat = latency(quiet.latencies.clone());
    let loud_lat = latency(loud.latencies.clone());
    let delivered = loud.delivered_ratio();
    println!(
        "    quiet: honest p50 {:.2} ms p99 {:.2} ms, delivered {:.1} %",
        quiet_lat.p50_ms,
        quiet_lat.p99_ms,
        quiet.delivered_ratio() * 100.0
    );
    println!(
        "    attack: {sent} lines from {KEYS} keys in {attack_s:.0} s, through {nodes} node keys (a new one each time p0 cut one off); honest p50 {:.2} ms p99 {:.2} ms, delivered {:.1} % (p0 {} of {}, p2 {} of {})",
        loud_lat.p50_ms,
        loud_lat.p99_ms,
        delivered * 100.0,
        loud.shown_by[0],
        loud.sent,
        loud.shown_by[1],
        loud.sent
    );
    println!(
        "    p0: resident {rss_before:.1} -> {rss_after:.1} MB ({rss_growth:+.1}), data directory {:.1} -> {:.1} MB ({disk_growth:+.1}) (targets: <= 50 MB, <= 100 MB, p99 <= 2x quiet + 2 ms, 100 % delivered)",
        disk_before as f64 / 1e6,
        disk_after as f64 / 1e6
    );
    if opts.smoke {
        anyhow::ensure!(
            quiet.delivered_ratio() == 1.0 && delivered == 1.0,
            "honest lines lost: quiet {:.3}, under attack {delivered:.3}",
            quiet.delivered_ratio()
        );
    }
    Ok(json!({
        "mode": "sybil",
        "rss_growth_mb": rss_growth,
        "disk_growth_mb": disk_growth,
        "honest_p99_ms": loud_lat.p99_ms,
        "honest_quiet_p99_ms": quiet_lat.p99_ms,
        "honest_delivered": delivered,
        "attack_lines": sent,
        "attacker_nodes": nodes,
        "keys": KEYS,
    }))
}

/// What the receivers showed of the honest member's lines in one phase.
struct Honest {
    sent: u64,
    shown: u64,
    /// Per receiver, in `RECEIVERS` order.
    shown_by: [u64; 2],
    latencies: Vec<Duration>,
}

impl Honest {
    fn delivered_ratio(&self) -> f64 {
        let expected = self.sent * RECEIVERS.len() as u64;
        if expected == 0 {
            return 1.0;
        }
        self.shown as f64 / expected as f64
    }
}

/// p1 says a line every 100 ms for `seconds` (the attack, if any, runs on its own runtime
/// meanwhile); then wait (at most 10 s) until both receivers showed them all.
fn honest_phase(room: &mut Room, seconds: f64) -> anyhow::Result<Honest> {
    let tag = rand::random::<u32>();
    let count = (seconds / HONEST_EVERY.as_secs_f64()).round().max(1.0) as u64;
    let start = Instant::now();
    let mut sent_at = Vec::with_capacity(count as usize);
    for n in 0..count {
        let due = start + HONEST_EVERY * n as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        sent_at.push(Instant::now());
        room.say(HONEST, &format!("h:{tag}:{n}"));
    }
    let mut latencies = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let give_up = Instant::now() + Duration::from_secs(10);
    while (seen.len() as u64) < count * RECEIVERS.len() as u64 {
        let Ok((to, at, v)) = room
            .lines
            .recv_timeout(give_up.saturating_duration_since(Instant::now()))
        else {
            break;
        };
        if !RECEIVERS.contains(&to) || v["type"] != "message" {
            continue;
        }
        let text = v["text"].as_str().unwrap_or_default();
        let mut parts = text.trim().splitn(3, ':');
        let (Some("h"), Some(run), Some(seq)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(seq) = seq.parse::<usize>() else {
            continue;
        };
        if run != tag.to_string() || !seen.insert((to, seq)) {
            continue;
        }
        if let Some(t) = sent_at.get(seq) {
            latencies.push(at.duration_since(*t));
        }
    }
    let shown_by = RECEIVERS.map(|r| seen.iter().filter(|(to, _)| *to == r).count() as u64);
    Ok(Honest {
        sent: count,
        shown: seen.len() as u64,
        shown_by,
        latencies,
    })
}

/// The attacker: one node at a time speaking for many keys.
struct Attack {
    topic: TopicId,
    via: Vec<EndpointAddr>,
    span: Duration,
}

/// A node of the attacker's on the topic.
struct Speaker {
    node: Node,
    handle: parlor::net::TopicHandle,
}

impl Attack {
    /// A new node key on the topic through p0, once it has a neighbour.
    async fn speaker(&self) -> anyhow::Result<Speaker> {
        let node = Node::spawn(&NetConfig::loopback(SecretKey::generate())).await?;
        let mut handle = node.subscribe(self.topic, &self.via).await?;
        let up = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(event) = handle.next_event().await {
                if matches!(event, NetEvent::NeighborUp(_)) {
                    return true;
                }
            }
            false
        })
        .await;
        if up != Ok(true) {
            node.shutdown(Duration::from_millis(10)).await;
            anyhow::bail!("the attacker got no neighbour");
        }
        Ok(Speaker { node, handle })
    }

    /// Join, announce every key, then send lines and renames for `span`, coming back with a
    /// new node key whenever cut off; (lines sent, node keys used).
    async fn run(self) -> anyhow::Result<(u64, u64)> {
        let mut speaker = self.speaker().await?;
        let mut nodes = 1u64;
        let keys: Vec<SecretKey> = (0..KEYS).map(|_| SecretKey::generate()).collect();
        let mut nonce = 0u64;
        let mut seal = |key: &SecretKey, body: MessageBody| {
            nonce += 1;
            let payload = Payload {
                nonce,
                sent: UnixMillis::now().0,
                body,
            };
            wire::seal(key, &self.topic, &payload)
        };
        let name = |k: usize, round: u64| {
            let base = format!("{k:04}-{round}-");
            let fill = parlor::proto::names::MAX_NAME_CHARS.saturating_sub(base.chars().count());
            format!("{base}{}", "ẅ".repeat(fill))
        };
        let about = |k: usize, round: u64| MessageBody::AboutMe {
            from: keys[k].public(),
            name: name(k, round),
            every: None,
        };
        for (k, key) in keys.iter().enumerate() {
            speaker.handle.broadcast(seal(key, about(k, 0))?).await;
        }
        let text = "s".repeat(LINE_BYTES);
        let started = Instant::now();
        let mut ticker = tokio::time::interval(Duration::from_millis(10));
        let per_tick = (ATTACK_RATE / 100).max(1);
        let (mut sent, mut next, mut round) = (0u64, 0usize, 0u64);
        let mut renamed = Instant::now();
        while started.elapsed() < self.span {
            ticker.tick().await;
            // What the room says back is read only for a cut: p0 dropped us.
            let mut cut = false;
            while let Ok(Some(event)) =
                tokio::time::timeout(Duration::ZERO, speaker.handle.next_event()).await
            {
                cut |= matches!(event, NetEvent::NeighborDown(_));
            }
            if cut {
                speaker
                    .node
                    .clone()
                    .shutdown(Duration::from_millis(10))
                    .await;
                // Refused (paced or blocked): try again with yet another key until the end.
                let next = loop {
                    nodes += 1;
                    match self.speaker().await {
                        Ok(next) => break Some(next),
                        Err(_) if started.elapsed() < self.span => continue,
                        Err(_) => break None,
                    }
                };
                let Some(next) = next else { break };
                speaker = next;
                for (k, key) in keys.iter().enumerate() {
                    speaker.handle.broadcast(seal(key, about(k, round))?).await;
                }
            }
            if renamed.elapsed() >= RENAME_EVERY {
                round += 1;
                renamed = Instant::now();
                for (k, key) in keys.iter().enumerate() {
                    speaker.handle.broadcast(seal(key, about(k, round))?).await;
                }
            }
            for _ in 0..per_tick {
                let key = &keys[next % KEYS];
                let body = MessageBody::Message {
                    from: key.public(),
                    text: format!("{sent}{text}"),
                    action: false,
                    file: None,
                    reply_to: None,
                    change: None,
                };
                speaker.handle.broadcast(seal(key, body)?).await;
                sent += 1;
                next += 1;
            }
        }
        speaker.handle.flush().await;
        speaker.node.shutdown(Duration::from_secs(1)).await;
        Ok((sent, nodes))
    }
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

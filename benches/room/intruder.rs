//! What a non-member's flood costs a private room's member (issue 23's "Must reach"): two
//! parlor processes (data directories, default limits) idle in a room while an iroh node in
//! this process, which learned the epoch's gossip topic (from the key in a member's data
//! directory, as a removed member or a thief of the disk would), joins the topic through the
//! owner and broadcasts 10,000 messages a second of garbage sealed with a key of its own. The
//! same against a public room (its topic is in the ticket), for comparison. Measured: each
//! member's CPU over the flood (utime + stime from `/proc/PID/stat`, as % of one core, beside
//! the same span idle) and resident memory before, right after and 2 s after (0.2 s in the smoke run); then a line from
//! p1 to p0, to show the room still talks.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use parlor::net::{NetConfig, NetEvent, Node};
use parlor::proto::invite::Invite;
use parlor::proto::seal::{self, EpochKey};
use parlor::proto::state::RoomId;
use parlor::proto::ticket::Ticket;
use parlor::proto::{EndpointAddr, SecretKey, TopicId};
use serde_json::{Value, json};

use crate::Options;
use crate::peers::{Limit, Program};
use crate::process::{Room, wait_for};
use crate::stats::{cpu_time, rss_mb};

/// The attacker's pace: messages per second, sent in batches every millisecond.
const RATE: u64 = 10_000;
/// Bytes of each garbage message before sealing (a chat line's envelope is about this).
const GARBAGE_BYTES: usize = 256;
/// The target: a member spends less than this share of one core on the flood.
const CPU_TARGET_PERCENT: f64 = 10.0;

/// One member's cost: CPU over the idle span and over the flood, memory at three moments.
struct Cost {
    idle_percent: f64,
    flood_percent: f64,
    rss_before: f64,
    rss_after: f64,
    rss_settled: f64,
}

pub fn run(opts: &Options) -> anyhow::Result<Value> {
    let (seconds, settle) = if opts.smoke { (0.5, 0.2) } else { (5.0, 2.0) };
    let mut report = serde_json::Map::new();
    for public in [false, true] {
        let kind = if public { "public" } else { "private" };
        let program = Program::Parlor {
            data_dir: true,
            public,
        };
        let entry = flood(&program, public, seconds, settle)
            .map_err(|e| anyhow::anyhow!("{kind} room under a non-member's flood: {e:#}"))?;
        if opts.smoke {
            anyhow::ensure!(
                entry["line_after_ms"].is_number(),
                "{kind} room: no line got through after the flood"
            );
        }
        report.insert(kind.into(), entry);
    }
    Ok(Value::Object(report))
}

fn flood(program: &Program, public: bool, seconds: f64, settle: f64) -> anyhow::Result<Value> {
    let mut room = Room::form(program, 2, Limit::Default)?;
    let ticket = room.ticket.clone();
    let (topic, owner) = if public {
        let ticket = Ticket::from_str(&ticket)?;
        (ticket.topic, ticket.peers)
    } else {
        let invite = Invite::from_str(&ticket)?;
        let dir = room.procs[0]
            .data_dir()
            .ok_or_else(|| anyhow::anyhow!("the owner has no data directory"))?;
        (epoch_topic(dir, &invite.room)?, invite.peers)
    };
    let pids: Vec<String> = room.pids();
    let span = Duration::from_secs_f64(seconds);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (costs, sent, took) = runtime.block_on(async {
        let node = Node::spawn(&NetConfig::loopback(SecretKey::generate())).await?;
        let settle = Duration::from_secs_f64(settle);
        let outcome = attack(&node, topic, &owner, &pids, span, settle).await;
        node.shutdown(Duration::from_secs(1)).await;
        outcome
    })?;
    // The room still talks: p1's line at p0.
    let line = format!("after the flood {}", rand::random::<u32>());
    let said = Instant::now();
    room.say(1, &line);
    let shown = wait_for(&room.lines, "the line after the flood", |i, v| {
        i == 0 && v["type"] == "message" && v["text"].as_str().is_some_and(|t| t.trim() == line)
    })
    .ok()
    .map(|(_, at, _)| at.duration_since(said).as_secs_f64() * 1000.0);
    room.quit();
    let kind = if public { "public" } else { "private" };
    let rate = sent as f64 / took.as_secs_f64();
    println!(
        "    {kind} room, {sent} garbage messages at {rate:.0}/s for {:.1} s through p0 (target: < {CPU_TARGET_PERCENT} % of a core, no memory growth):",
        took.as_secs_f64()
    );
    let mut members = serde_json::Map::new();
    for (i, cost) in costs.iter().enumerate() {
        println!(
            "      p{i}{}: CPU {:5.1} % of a core (idle {:.1} %), resident {:.1} MB before, {:.1} MB after, {:.1} MB {settle} s later",
            if i == 0 { " (dialed)" } else { "" },
            cost.flood_percent,
            cost.idle_percent,
            cost.rss_before,
            cost.rss_after,
            cost.rss_settled
        );
        members.insert(
            format!("p{i}"),
            json!({
                "cpu_percent_flood": cost.flood_percent, "cpu_percent_idle": cost.idle_percent,
                "rss_mb_before": cost.rss_before, "rss_mb_after": cost.rss_after,
                "rss_mb_settled": cost.rss_settled,
            }),
        );
    }
    match shown {
        Some(ms) => println!("      then p1's line reached p0 in {ms:.1} ms"),
        None => println!("      then p1's line did not reach p0"),
    }
    Ok(json!({
        "sent": sent, "seconds": took.as_secs_f64(), "rate_per_s": rate,
        "members": members, "line_after_ms": shown,
    }))
}

/// The topic the owner talks on now: its newest epoch key from its data directory's store.
fn epoch_topic(dir: &Path, room: &RoomId) -> anyhow::Result<TopicId> {
    let path = dir.join(parlor::store::DATABASE_FILE);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let db = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let key: Option<Vec<u8>> = db
            .query_row(
                "SELECT key FROM epoch_keys WHERE room = ?1 ORDER BY epoch DESC LIMIT 1",
                [room.as_bytes().as_slice()],
                |row| row.get(0),
            )
            .ok();
        if let Some(key) = key.and_then(|k| <[u8; 32]>::try_from(k).ok()) {
            return Ok(seal::topic_of(room, &EpochKey::from_bytes(key)));
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no epoch key in {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Join `topic` through `owner`, measure the members idle for `span`, flood for `span`, and
/// measure again right after and `settle` later; (each member's cost, messages sent, how long
/// sending took).
async fn attack(
    node: &Node,
    topic: TopicId,
    owner: &[EndpointAddr],
    pids: &[String],
    span: Duration,
    settle: Duration,
) -> anyhow::Result<(Vec<Cost>, u64, Duration)> {
    let mut handle = node.subscribe(topic, owner).await?;
    let joined = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = handle.next_event().await {
            if matches!(event, NetEvent::NeighborUp(_)) {
                return true;
            }
        }
        false
    })
    .await;
    anyhow::ensure!(joined == Ok(true), "the attacker never got a neighbour");
    // What the idle members say on the topic is left unread: the pump drops it when full.
    let cpu = |pids: &[String]| pids.iter().map(|p| cpu_time(p)).collect::<Vec<_>>();
    let idle_from = cpu(pids);
    tokio::time::sleep(span).await;
    let idle = cpu(pids);
    let rss_before: Vec<f64> = pids.iter().map(|p| rss_mb(p)).collect();
    let forged = seal::message_key(&EpochKey::generate());
    let per_tick = RATE / 1000;
    let started = Instant::now();
    let flood_from = cpu(pids);
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    let mut sent = 0u64;
    // A persistent attacker: whenever it may have been cut off, it asks to be taken in
    // again (every 50 ms: a new connection attempt each time it is refused).
    let owner_ids: Vec<_> = owner.iter().map(|a| a.id).collect();
    let mut redial_at = Instant::now();
    while started.elapsed() < span {
        ticker.tick().await;
        if redial_at.elapsed() >= Duration::from_millis(50) {
            handle.join_peers(owner_ids.clone());
            redial_at = Instant::now();
        }
        for _ in 0..per_tick {
            let garbage: Vec<u8> = (0..GARBAGE_BYTES).map(|_| rand::random()).collect();
            handle.broadcast(seal::seal(&forged, &garbage)).await;
            sent += 1;
        }
    }
    handle.flush().await;
    let took = started.elapsed();
    let flood = cpu(pids);
    let rss_after: Vec<f64> = pids.iter().map(|p| rss_mb(p)).collect();
    tokio::time::sleep(settle).await;
    let percent = |from: Duration, to: Duration, over: Duration| {
        to.saturating_sub(from).as_secs_f64() / over.as_secs_f64() * 100.0
    };
    let costs = (0..pids.len())
        .map(|i| Cost {
            idle_percent: percent(idle_from[i], idle[i], span),
            flood_percent: percent(flood_from[i], flood[i], took),
            rss_before: rss_before[i],
            rss_after: rss_after[i],
            rss_settled: rss_mb(&pids[i]),
        })
        .collect();
    Ok((costs, sent, took))
}

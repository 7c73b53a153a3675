//! The room benchmark: parlor rooms on 127.0.0.1 (`--offline` settings), formed through
//! tickets, measured in one process against bare iroh-gossip and as real processes.
//!
//! `cargo bench --bench room` runs everything; after `--`: `--smoke` (tiny, for CI),
//! `--mode inproc|process|latency|flood|large|sim|dm|files|private|sybil|all`, `--seconds S` (per traffic run), `--nodes 2,10,30` (room
//! sizes in one process), `--side-by-side` (the process scenarios also for the iroh-gossip chat
//! example, built once from the cargo registry's copy of the package). Process mode runs
//! parlor with a data directory (as users run it) and `--ephemeral`; latency mode is process
//! mode without the rate rows (for comparing latency often, with a longer `--seconds`); flood mode runs a member
//! writing 10x the default rate limit among parlor processes that keep it; large mode starts
//! `--members N` (30) processes at once in one room (with `--side-by-side`, the example too);
//! sim mode runs presence in simulated rooms of 100 and 1,000 members with link latency; dm
//! mode times direct messages between two processes (beside a room line) and restarting into
//! five stored rooms; files mode shares files between processes (1 GiB against a plain QUIC
//! stream, resuming after a kill, nine members fetching at once); private mode measures private
//! rooms: `--members N` (30) processes through five kicks (each remaining member on the new
//! epoch) and one member frozen during a kick, a non-member flooding the epoch's topic (CPU and
//! memory, beside a public room), and latency private against public; sybil mode has one node
//! speak for 1,000 minted keys beside three processes and prints, last, one JSON line
//! (`{"mode":"sybil","rss_growth_mb",...}`). Prints a table and
//! writes `target/bench/room.json` (and a timestamped copy) so runs can be compared.
//! Figures, never assertions on time; the smoke run checks delivery only.

mod direct;
mod file_room;
mod files;
mod flood;
mod inproc;
mod intruder;
mod kinds;
mod large;
mod peers;
mod process;
mod quic;
mod rekey;
mod sim;
mod stats;
#[path = "../../tests/support/mod.rs"]
mod support;
mod sybil;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use inproc::{Cluster, Kind, payload};
use parlor::net::Broadcast;
use serde_json::{Value, json};
use stats::{Latency, latency};

#[derive(Debug, Clone)]
pub struct Options {
    pub smoke: bool,
    /// Room sizes for the in-process runs.
    pub sizes: Vec<usize>,
    pub inproc: bool,
    pub process: bool,
    /// Process mode's latency rows only (no rates up to 20,000 msg/s).
    pub latency_only: bool,
    /// The flood scenario (real processes with the default rate limit).
    pub flood: bool,
    /// The large-room scenario: `members` real processes joining at once.
    pub large: bool,
    /// Presence at scale in the simulator (rooms of 100 and 1,000).
    pub sim: bool,
    /// Direct messages and rejoining five stored rooms (real processes).
    pub direct: bool,
    /// Sharing files between real processes, beside a plain QUIC stream.
    pub files: bool,
    /// Private rooms: rekeying after kicks, a member away, a non-member's flood, latency
    /// against public rooms.
    pub private: bool,
    /// A member with a thousand keys (real processes with data directories).
    pub sybil: bool,
    pub members: usize,
    pub seconds: f64,
    /// Run the process scenarios for the iroh-gossip chat example too.
    pub side_by_side: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let smoke = args.iter().any(|a| a == "--smoke");
    let mode = value("--mode").unwrap_or_else(|| "all".into());
    let default_sizes = if smoke { vec![2] } else { vec![2, 10, 30] };
    Options {
        smoke,
        sizes: value("--nodes")
            .map(|list| {
                list.split(',')
                    .filter_map(|n| n.trim().parse().ok())
                    .filter(|&n| n >= 2)
                    .collect::<Vec<usize>>()
            })
            .filter(|sizes| !sizes.is_empty())
            .unwrap_or(default_sizes),
        inproc: mode == "all" || mode == "inproc",
        process: mode == "all" || mode == "process" || mode == "latency",
        latency_only: mode == "latency",
        flood: mode == "all" || mode == "flood",
        large: mode == "all" || mode == "large",
        sim: mode == "all" || mode == "sim",
        direct: mode == "all" || mode == "dm",
        files: mode == "all" || mode == "files",
        private: mode == "all" || mode == "private",
        sybil: mode == "all" || mode == "sybil",
        members: value("--members")
            .and_then(|n| n.parse().ok())
            .filter(|&n: &usize| n >= 2)
            .unwrap_or(if smoke { 5 } else { 30 }),
        seconds: value("--seconds")
            .and_then(|s| s.parse().ok())
            .unwrap_or(if smoke { 0.5 } else { 3.0 }),
        side_by_side: args.iter().any(|a| a == "--side-by-side"),
    }
}

/// What one traffic run delivered.
#[derive(Debug, Default)]
pub struct Traffic {
    pub latency: Latency,
    pub sent: u64,
    pub expected: u64,
    pub delivered: u64,
    pub duplicates: u64,
    pub from_history: u64,
    pub lagged: u64,
    pub wire_bytes_per_delivery: f64,
    pub cpu_us_per_delivery: f64,
}

impl Traffic {
    fn ratio(&self) -> f64 {
        if self.expected == 0 {
            return 1.0;
        }
        self.delivered as f64 / self.expected as f64
    }

    fn json(&self) -> Value {
        json!({
            "p50_ms": self.latency.p50_ms, "p99_ms": self.latency.p99_ms, "max_ms": self.latency.max_ms,
            "sent": self.sent, "expected": self.expected, "delivered": self.delivered,
            "delivery_ratio": self.ratio(), "duplicates": self.duplicates,
            "from_history": self.from_history, "lagged": self.lagged,
            "wire_bytes_per_delivery": self.wire_bytes_per_delivery,
            "cpu_us_per_delivery": self.cpu_us_per_delivery,
        })
    }

    fn row(&self) -> String {
        format!(
            "p50 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms  delivered {:6.2} %  dup {}  lagged {}  {:5.0} B/msg  {:5.1} µs CPU/msg",
            self.latency.p50_ms,
            self.latency.p99_ms,
            self.latency.max_ms,
            self.ratio() * 100.0,
            self.duplicates,
            self.lagged,
            self.wire_bytes_per_delivery,
            self.cpu_us_per_delivery
        )
    }
}

/// `senders` each send one message per `interval`, `per_sender` times; wait for delivery.
async fn traffic(
    cluster: &mut Cluster,
    senders: &[usize],
    interval: Duration,
    per_sender: u64,
) -> Traffic {
    let n = cluster.len() as u64;
    let bytes_before = cluster.wire_bytes().await;
    let cpu_before = stats::own_cpu_time();
    let lagged_before = cluster.lagged.load(std::sync::atomic::Ordering::Relaxed);
    let mut ticker = tokio::time::interval(interval);
    for seq in 0..per_sender {
        ticker.tick().await;
        for &s in senders {
            cluster.say(s, payload(s, seq));
        }
    }
    let sent = per_sender * senders.len() as u64;
    let expected = sent * (n - 1);
    let mut seen = HashSet::new();
    let mut latencies = Vec::new();
    let (mut duplicates, mut from_history) = (0, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while (seen.len() as u64) < expected {
        match tokio::time::timeout_at(deadline, cluster.deliveries.recv()).await {
            Ok(Some(d)) => {
                if !seen.insert((d.to, d.from, d.seq)) {
                    duplicates += 1;
                } else if d.history {
                    from_history += 1;
                } else {
                    latencies.push(d.latency);
                }
            }
            _ => break,
        }
    }
    let delivered = seen.len() as u64;
    let cpu = stats::own_cpu_time().saturating_sub(cpu_before);
    let bytes = cluster.wire_bytes().await.saturating_sub(bytes_before);
    Traffic {
        latency: latency(latencies),
        sent,
        expected,
        delivered,
        duplicates,
        from_history,
        lagged: cluster.lagged.load(std::sync::atomic::Ordering::Relaxed) - lagged_before,
        wire_bytes_per_delivery: bytes as f64 / delivered.max(1) as f64,
        cpu_us_per_delivery: cpu.as_micros() as f64 / delivered.max(1) as f64,
    }
}

/// The highest rate (msg/s, one sender, 2 nodes) delivered completely with no `Lagged`.
async fn throughput(kind: Kind, rates: &[u64], seconds: f64) -> anyhow::Result<(u64, Vec<Value>)> {
    let mut best = 0;
    let mut tried = Vec::new();
    for &rate in rates {
        let mut cluster = Cluster::form(kind, 2).await?;
        let lagged_before = cluster.lagged.load(std::sync::atomic::Ordering::Relaxed);
        let per_ms = (rate / 1000).max(1);
        let ticks = (seconds * 1000.0) as u64;
        let started = Instant::now();
        let mut ticker = tokio::time::interval(Duration::from_millis(1));
        let mut seq = 0;
        for _ in 0..ticks {
            ticker.tick().await;
            for _ in 0..per_ms {
                cluster.say(0, payload(0, seq));
                seq += 1;
            }
        }
        let achieved = seq as f64 / started.elapsed().as_secs_f64();
        let mut got = HashSet::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while (got.len() as u64) < seq {
            match tokio::time::timeout_at(deadline, cluster.deliveries.recv()).await {
                Ok(Some(d)) => {
                    got.insert(d.seq);
                }
                _ => break,
            }
        }
        let lagged = cluster.lagged.load(std::sync::atomic::Ordering::Relaxed) - lagged_before;
        let complete = got.len() as u64 == seq && lagged == 0;
        tried.push(json!({"rate": rate, "achieved": achieved, "sent": seq, "delivered": got.len(), "complete": complete}));
        println!(
            "    {:>6} msg/s (achieved {achieved:>7.0}): {} of {seq} delivered",
            rate,
            got.len()
        );
        cluster.shutdown_alone().await;
        if !complete {
            break;
        }
        best = rate;
    }
    Ok((best, tried))
}

async fn inproc(opts: &Options) -> anyhow::Result<Value> {
    let mut report = serde_json::Map::new();
    let kinds = [
        Kind::Parlor(Broadcast::Tuned),
        Kind::Parlor(Broadcast::LibraryDefault),
        Kind::Baseline,
    ];
    let sizes = &opts.sizes;
    let per = |interval_ms: u64| ((opts.seconds * 1000.0) as u64 / interval_ms).max(5);
    for &n in sizes {
        for kind in kinds {
            if n > 30 && kind == Kind::Parlor(Broadcast::LibraryDefault) {
                continue;
            }
            let started = Instant::now();
            let mut cluster = Cluster::form(kind, n).await?;
            let formed = started.elapsed();
            println!("\n{} x{n} (formed in {formed:?})", kind.label());
            // Everyone at once on the fresh overlay first (as the issue measured bare
            // iroh-gossip), then one sender, then everyone again on the settled tree.
            let everyone: Vec<usize> = (0..n).collect();
            let interval = if n >= 30 { 100 } else { 10 };
            let every = Duration::from_millis(interval);
            let all = traffic(&mut cluster, &everyone, every, per(interval)).await;
            println!("  all send every {interval:>3} ms     {}", all.row());
            let one = traffic(&mut cluster, &[0], Duration::from_millis(20), per(20)).await;
            println!("  then one sender, 50 msg/s   {}", one.row());
            let warm = traffic(&mut cluster, &everyone, every, per(interval)).await;
            println!("  then all send again         {}", warm.row());
            let mut entry = json!({
                "nodes": n,
                "one_sender_50_per_s": one.json(),
                "all_send": all.json(),
                "all_send_settled": warm.json(),
                "all_send_interval_ms": interval,
                "join_ready_ms": cluster.ready.iter().map(|d| d.as_secs_f64() * 1000.0).collect::<Vec<_>>(),
                "join_all_names_ms": cluster.all_names.map(|d| d.as_secs_f64() * 1000.0),
            });
            if n == 10 || opts.smoke {
                let burst = traffic(
                    &mut cluster,
                    &[0],
                    Duration::from_micros(1),
                    if opts.smoke { 200 } else { 1000 },
                )
                .await;
                println!("  burst of {} unpaced       {}", burst.sent, burst.row());
                entry["burst"] = burst.json();
            }
            let ready = latency(cluster.ready.clone());
            println!(
                "  join: ready p50 {:.1} ms max {:.1} ms; all {n} names known {:?}",
                ready.p50_ms, ready.max_ms, cluster.all_names
            );
            let shutdown = cluster.shutdown_alone().await;
            println!("  shutdown with every peer gone: {shutdown:?}");
            entry["shutdown_alone_ms"] = json!(shutdown.as_secs_f64() * 1000.0);
            report.insert(format!("{} x{n}", kind.label()), entry);
            // The smoke run guards parlor's delivery (the baseline is the library's business).
            if opts.smoke && matches!(kind, Kind::Parlor(_)) {
                assert_eq!(
                    one.delivered,
                    one.expected,
                    "{}: one sender lost messages",
                    kind.label()
                );
                for run in [&all, &warm] {
                    assert_eq!(
                        run.delivered,
                        run.expected,
                        "{}: all senders lost messages",
                        kind.label()
                    );
                }
            }
        }
    }
    if !opts.smoke {
        for kind in [Kind::Parlor(Broadcast::Tuned), Kind::Baseline] {
            println!(
                "\n{} x2 throughput, {} s per rate",
                kind.label(),
                opts.seconds.min(10.0)
            );
            let (best, tried) = throughput(
                kind,
                &[2000, 5000, 10000, 20000, 40000],
                opts.seconds.min(10.0),
            )
            .await?;
            println!("  highest rate with 100 % delivery and no Lagged: {best} msg/s");
            report.insert(
                format!("{} throughput", kind.label()),
                json!({"best_rate": best, "tried": tried}),
            );
        }
    }
    report.insert("process_rss_mb".into(), json!(stats::rss_mb("self")));
    Ok(Value::Object(report))
}

fn main() -> anyhow::Result<()> {
    let opts = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut report = json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "machine": format!("{} cores", std::thread::available_parallelism().map_or(0, |n| n.get())),
        "options": {"smoke": opts.smoke, "seconds": opts.seconds},
    });
    if opts.inproc {
        println!("== in one process (parlor vs bare iroh-gossip), 127.0.0.1");
        report["inproc"] = runtime.block_on(inproc(&opts))?;
    }
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    // parlor as users run it, `--ephemeral`, and the iroh-gossip example when asked for.
    let programs = || -> anyhow::Result<Vec<peers::Program>> {
        let mut programs = vec![peers::Program::PARLOR];
        if !opts.smoke {
            programs.push(peers::Program::Parlor {
                data_dir: false,
                public: false,
            });
        }
        if opts.side_by_side {
            let example = peers::build_gossip_example(&target)?;
            programs.push(peers::Program::GossipExample(example));
        }
        Ok(programs)
    };
    if opts.process {
        println!("\n== real processes (stdin line to stdout line), 127.0.0.1");
        report["process"] = process::run(&opts, &programs()?)?;
    }
    if opts.sim {
        println!("\n== presence at scale, simulated (the room state machine, latency 10-100 ms)");
        report["sim"] = sim::run(&opts);
    }
    if opts.large {
        println!("\n== a large room, real processes joining at once, 127.0.0.1");
        report["large"] = large::run(&opts, &programs()?)?;
    }
    if opts.direct {
        println!("\n== direct messages and five stored rooms, real processes, 127.0.0.1");
        report["dm"] = direct::run(&opts)?;
    }
    if opts.files {
        println!("\n== sharing files, real processes with data directories, 127.0.0.1");
        report["files"] = files::run(&opts)?;
    }
    if opts.flood {
        println!("\n== a flooding member, real processes with the default rate limit, 127.0.0.1");
        report["flood"] = flood::run(&opts)?;
    }
    if opts.private {
        println!("\n== private rooms, real processes with data directories, 127.0.0.1");
        println!("  -- kicks: each remaining member on the new epoch");
        let mut private = rekey::run(&opts)?;
        println!("  -- a non-member floods the epoch's topic (learned from a member's disk)");
        private["non_member_flood"] = intruder::run(&opts)?;
        println!("  -- latency, private and public rooms in the same run");
        private["latency_private_vs_public"] = kinds::run(&opts)?;
        report["private"] = private;
    }
    if opts.sybil {
        println!(
            "\n== a member with a thousand keys, real processes with data directories, 127.0.0.1"
        );
        report["sybil"] = sybil::run(&opts)?;
    }
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir)?;
    let text = serde_json::to_string_pretty(&report)?;
    std::fs::write(dir.join("room.json"), &text)?;
    std::fs::write(
        dir.join(format!("room-{}.json", chrono::Utc::now().timestamp())),
        &text,
    )?;
    println!("\nwrote {}", dir.join("room.json").display());
    // The sybil run's figures, last, as one line for scripts.
    if opts.sybil {
        println!("{}", serde_json::to_string(&report["sybil"])?);
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

//! Real processes on 127.0.0.1: a line written to one process's stdin until it is read from
//! another's stdout, as users feel it. The same scenarios run for each program in one run
//! (parlor with a data directory, parlor `--ephemeral`, and the iroh-gossip chat example when
//! asked for), so the machine's mood of the moment is the same for all.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Options;
use crate::peers::{Limit, Line, Member, Program, Role, spawn};
use crate::stats::{cpu_time, latency, rss_mb};

pub type Lines = mpsc::Receiver<Line>;

pub(crate) fn wait_for(
    lines: &Lines,
    what: &str,
    pred: impl Fn(usize, &Value) -> bool,
) -> anyhow::Result<Line> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (i, at, v) = lines
            .recv_timeout(left)
            .map_err(|_| anyhow::anyhow!("no {what}"))?;
        if pred(i, &v) {
            return Ok((i, at, v));
        }
    }
}

/// Start process 0 opening a room; its ticket once it has printed one.
pub(crate) fn open(
    program: &Program,
    limit: Limit,
    tx: &mpsc::Sender<Line>,
    lines: &Lines,
) -> anyhow::Result<(Member, String)> {
    let opener = spawn(program, 0, Role::Open, limit, tx.clone())?;
    let (_, _, first) = wait_for(lines, "ticket", |i, v| i == 0 && v["ticket"].is_string())?;
    let ticket = first["ticket"].as_str().unwrap_or_default().to_string();
    Ok((opener, ticket))
}

#[derive(Clone, Copy)]
pub(crate) enum Phase {
    Spread,
    Together,
}

/// Processes `p0`.. in one room, with every line they print.
pub struct Room {
    pub procs: Vec<Member>,
    pub lines: Lines,
    /// What the opener printed to join with (a private room's invite).
    pub ticket: String,
}

/// What one traffic run delivered.
#[derive(Default)]
pub(crate) struct Run {
    pub latencies: Vec<Duration>,
    pub delivered: u64,
    pub expected: u64,
    pub duplicates: u64,
}

impl Room {
    /// Process 0 opens the room, the others join one at a time.
    pub fn form(program: &Program, n: usize, limit: Limit) -> anyhow::Result<Self> {
        Self::form_with(program, &vec![limit; n])
    }

    /// A room of one process per limit (the first opens it).
    pub fn form_with(program: &Program, limits: &[Limit]) -> anyhow::Result<Self> {
        let (tx, lines) = mpsc::channel();
        let (opener, ticket) = open(program, limits[0], &tx, &lines)?;
        let mut procs = vec![opener];
        for (i, limit) in limits.iter().enumerate().skip(1) {
            procs.push(spawn(program, i, Role::Join(&ticket), *limit, tx.clone())?);
            wait_for(&lines, "ready", |j, v| j == i && v["type"] == "ready")?;
        }
        std::thread::sleep(Duration::from_millis(300));
        while lines.try_recv().is_ok() {}
        Ok(Self {
            procs,
            lines,
            ticket,
        })
    }

    /// Process `i` says `text` (one `write`, as a terminal hands over a whole line).
    pub fn say(&mut self, i: usize, text: &str) {
        let _ = self.procs[i].write_line(text);
    }

    /// Senders write `from:seq` lines every `interval`, each at its own phase of the interval
    /// (`Phase::Spread`, as people typing) or all at the same instant (`Phase::Together`, the
    /// worst case); waits up to `patience` after the last line for delivery.
    pub(crate) fn traffic(
        &mut self,
        senders: &[usize],
        interval: Duration,
        per_sender: u64,
        phase: Phase,
        patience: Duration,
    ) -> Run {
        let n = self.procs.len() as u64;
        let mut sent_at = HashMap::new();
        let start = Instant::now();
        let slots = match phase {
            Phase::Spread => senders.len() as u32,
            Phase::Together => 1,
        };
        let tag = rand::random::<u32>();
        for seq in 0..per_sender {
            for (k, &s) in senders.iter().enumerate() {
                let slot = k as u32 % slots;
                let due = start + interval * seq as u32 + interval * slot / slots;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let text = format!("{s}:{seq}:{tag}:{}", "x".repeat(180));
                sent_at.insert((s, seq), Instant::now());
                self.say(s, &text);
            }
        }
        let expected = per_sender * senders.len() as u64 * (n - 1);
        let mut seen = HashSet::new();
        let mut latencies = Vec::new();
        let mut duplicates = 0;
        let deadline = Instant::now() + patience;
        while (seen.len() as u64) < expected {
            let Ok((to, at, v)) = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            else {
                break;
            };
            if v["type"] != "message" {
                continue;
            }
            let text = v["text"].as_str().unwrap_or_default();
            let mut parts = text.splitn(4, ':');
            let (Some(from), Some(seq), Some(run)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (Ok(from), Ok(seq)) = (from.parse::<usize>(), seq.parse::<u64>()) else {
                continue;
            };
            if run != tag.to_string() {
                continue;
            }
            if !seen.insert((to, from, seq)) {
                duplicates += 1;
            } else if let Some(t) = sent_at.get(&(from, seq)) {
                latencies.push(at.duration_since(*t));
            }
        }
        Run {
            latencies,
            delivered: seen.len() as u64,
            expected,
            duplicates,
        }
    }

    pub(crate) fn pids(&self) -> Vec<String> {
        self.procs.iter().map(|p| p.pid().to_string()).collect()
    }

    pub fn quit(mut self) {
        for p in &mut self.procs {
            p.quit();
        }
        for p in &mut self.procs {
            p.wait();
        }
    }
}

pub(crate) fn row(label: &str, run: &Run) -> Value {
    let l = latency(run.latencies.clone());
    println!(
        "    {label:<44} p50 {:6.2} ms  p99 {:6.2} ms  max {:7.2} ms  delivered {}/{}{}",
        l.p50_ms,
        l.p99_ms,
        l.max_ms,
        run.delivered,
        run.expected,
        if run.duplicates > 0 {
            format!("  {} twice", run.duplicates)
        } else {
            String::new()
        }
    );
    json!({"p50_ms": l.p50_ms, "p99_ms": l.p99_ms, "max_ms": l.max_ms,
           "delivered": run.delivered, "expected": run.expected, "duplicates": run.duplicates})
}

/// Every scenario for each program; a JSON object per program.
pub fn run(opts: &Options, programs: &[Program]) -> anyhow::Result<Value> {
    let mut report = serde_json::Map::new();
    for program in programs {
        println!("  -- {}", program.label());
        report.insert(program.key().into(), scenarios(opts, program)?);
    }
    Ok(Value::Object(report))
}

/// Messages per sender for a run of `opts.seconds` at `rate`.
fn per_sender(opts: &Options, rate: f64) -> u64 {
    ((opts.seconds * rate) as u64).max(5)
}

/// Process 0 says a line every 20 ms.
pub(crate) fn one_sender(room: &mut Room, opts: &Options) -> Run {
    let interval = Duration::from_millis(20);
    let count = per_sender(opts, 50.0);
    room.traffic(&[0], interval, count, Phase::Spread, PATIENCE)
}

/// How long a run waits for the last deliveries.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

fn scenarios(opts: &Options, program: &Program) -> anyhow::Result<Value> {
    let mut report = serde_json::Map::new();

    let mut two = Room::form(program, 2, Limit::Lifted)?;
    let label = "2 nodes, 50 msg/s";
    let run = one_sender(&mut two, opts);
    report.insert(label.into(), row(label, &run));
    if opts.smoke {
        assert_eq!(run.delivered, run.expected, "process mode lost messages");
    }
    two.quit();

    if !opts.smoke {
        ten_nodes(opts, program, &mut report)?;
        if !opts.latency_only {
            rates(opts, program, &mut report)?;
        }
    }
    start_to_first_message(opts, program, &mut report)?;
    Ok(Value::Object(report))
}

fn ten_nodes(
    opts: &Options,
    program: &Program,
    report: &mut serde_json::Map<String, Value>,
) -> anyhow::Result<()> {
    let mut ten = Room::form(program, 10, Limit::Lifted)?;
    let label = "10 nodes, 1 sender 50 msg/s";
    let run = one_sender(&mut ten, opts);
    report.insert(label.into(), row(label, &run));
    let cpu_before: Duration = ten.pids().iter().map(|p| cpu_time(p)).sum();
    let everyone: Vec<usize> = (0..10).collect();
    let interval = Duration::from_millis(200);
    let label = "10 nodes, all send 5 msg/s, own phase";
    let per = per_sender(opts, 5.0);
    let spread = ten.traffic(&everyone, interval, per, Phase::Spread, PATIENCE);
    report.insert(label.into(), row(label, &spread));
    let label = "10 nodes, all send 5 msg/s, same instant";
    let together = ten.traffic(&everyone, interval, per, Phase::Together, PATIENCE);
    report.insert(label.into(), row(label, &together));
    let cpu: Duration = ten.pids().iter().map(|p| cpu_time(p)).sum::<Duration>() - cpu_before;
    let delivered = spread.delivered + together.delivered;
    let rss: Vec<f64> = ten.pids().iter().map(|p| rss_mb(p)).collect();
    let avg = rss.iter().sum::<f64>() / rss.len() as f64;
    let cpu_per = cpu.as_micros() as f64 / delivered.max(1) as f64;
    println!(
        "    resident memory per process (10-node room): avg {avg:.1} MB, max {:.1} MB; CPU {cpu_per:.0} µs per delivered message ({:.2} s in all)",
        rss.iter().cloned().fold(0.0, f64::max),
        cpu.as_secs_f64()
    );
    report.insert(
        "rss_mb_per_process_10_nodes".into(),
        json!({"avg": avg, "all": rss}),
    );
    report.insert("cpu_us_per_delivery_10_nodes".into(), json!(cpu_per));
    report.insert("cpu_s_10_nodes_all_send".into(), json!(cpu.as_secs_f64()));
    ten.quit();
    Ok(())
}

/// 2 nodes: the highest rate with every line delivered, then 16,000 msg/s for 5 s (above
/// capacity: with catch-up every line should still arrive, late).
fn rates(
    opts: &Options,
    program: &Program,
    report: &mut serde_json::Map<String, Value>,
) -> anyhow::Result<()> {
    let mut best = 0;
    for rate in [1000u64, 2000, 5000, 10000, 16000, 20000] {
        let mut room = Room::form(program, 2, Limit::Lifted)?;
        let interval = Duration::from_micros(1_000_000 / rate);
        let count = (rate as f64 * opts.seconds.min(3.0)) as u64;
        let run = room.traffic(&[0], interval, count, Phase::Spread, Duration::from_secs(5));
        println!(
            "    2 nodes at {rate:>6} msg/s: {}/{} delivered",
            run.delivered, run.expected
        );
        report.insert(
            format!("2 nodes at {rate} msg/s, delivered"),
            json!(run.delivered as f64 / run.expected as f64),
        );
        room.quit();
        if run.delivered < run.expected {
            break;
        }
        best = rate;
    }
    println!("    highest rate with 100 % delivery: {best} msg/s");
    report.insert("2 nodes, highest complete rate".into(), json!(best));

    let mut room = Room::form(program, 2, Limit::Lifted)?;
    let rate = 16_000u64;
    let patience = if program.catches_up() { 30 } else { 10 };
    let run = room.traffic(
        &[0],
        Duration::from_micros(1_000_000 / rate),
        rate * 5,
        Phase::Spread,
        Duration::from_secs(patience),
    );
    let label = "2 nodes, 16,000 msg/s for 5 s, in the end";
    report.insert(label.into(), row(label, &run));
    room.quit();
    Ok(())
}

/// Process start to first message received: B is started with a line waiting on stdin.
fn start_to_first_message(
    opts: &Options,
    program: &Program,
    report: &mut serde_json::Map<String, Value>,
) -> anyhow::Result<()> {
    let mut starts = Vec::new();
    let (tx, lines) = mpsc::channel();
    let (mut a, ticket) = open(program, Limit::Lifted, &tx, &lines)?;
    for round in 0..if opts.smoke { 2 } else { 10 } {
        let t0 = Instant::now();
        let mut b = spawn(program, 1, Role::Join(&ticket), Limit::Lifted, tx.clone())?;
        let _ = b.write_line(&format!("hello {round}"));
        let (_, at, _) = wait_for(&lines, "first message", |i, v| {
            i == 0
                && v["type"] == "message"
                && v["text"]
                    .as_str()
                    .is_some_and(|t| t.trim() == format!("hello {round}"))
        })?;
        starts.push(at.duration_since(t0));
        b.quit();
        b.wait();
    }
    a.quit();
    a.wait();
    let s = latency(starts);
    println!(
        "    process start -> first message received: p50 {:.1} ms, max {:.1} ms",
        s.p50_ms, s.max_ms
    );
    report.insert(
        "start_to_first_message_ms".into(),
        json!({"p50": s.p50_ms, "max": s.max_ms}),
    );
    Ok(())
}

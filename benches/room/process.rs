//! Real `parlor --headless --json --offline` processes: a line written to one process's stdin
//! until it is read from another's stdout, as users feel it.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Options;
use crate::stats::{cpu_time, latency, rss_mb};

const BIN: &str = env!("CARGO_BIN_EXE_parlor");

struct Proc {
    child: Child,
    stdin: ChildStdin,
}

/// What a process printed: (which process, when, the event).
type Lines = mpsc::Receiver<(usize, Instant, Value)>;

fn spawn(
    i: usize,
    rest: &[&str],
    out: mpsc::Sender<(usize, Instant, Value)>,
) -> anyhow::Result<Proc> {
    let mut child = Command::new(BIN)
        .args([
            "--headless",
            "--json",
            "--offline",
            "--ephemeral",
            "--bind",
            "127.0.0.1:0",
            "--name",
        ])
        .arg(format!("p{i}"))
        .args(rest)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let at = Instant::now();
            if let Ok(value) = serde_json::from_str::<Value>(&line)
                && out.send((i, at, value)).is_err()
            {
                return;
            }
        }
    });
    Ok(Proc { child, stdin })
}

fn wait_for(
    lines: &Lines,
    what: &str,
    pred: impl Fn(usize, &Value) -> bool,
) -> anyhow::Result<(usize, Instant, Value)> {
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

#[derive(Clone, Copy)]
enum Phase {
    Spread,
    Together,
}

struct Room {
    procs: Vec<Proc>,
    lines: Lines,
}

impl Room {
    fn form(n: usize) -> anyhow::Result<Self> {
        let (tx, lines) = mpsc::channel();
        let mut procs = vec![spawn(0, &["open"], tx.clone())?];
        let (_, _, ready) = wait_for(&lines, "ready", |i, v| i == 0 && v["type"] == "ready")?;
        let ticket = ready["ticket"].as_str().unwrap_or_default().to_string();
        for i in 1..n {
            procs.push(spawn(i, &["join", &ticket], tx.clone())?);
            wait_for(&lines, "ready", |j, v| j == i && v["type"] == "ready")?;
        }
        std::thread::sleep(Duration::from_millis(300));
        while lines.try_recv().is_ok() {}
        Ok(Self { procs, lines })
    }

    /// One `write` per line, as a terminal or a script hands over a whole line (`writeln!` on
    /// the unbuffered pipe would write the text and the newline apart, waking the reader twice).
    fn say(&mut self, i: usize, text: &str) {
        let line = format!("{text}\n");
        let _ = self.procs[i].stdin.write_all(line.as_bytes());
    }

    /// Senders write `from:seq` lines every `interval`, each at its own phase of the interval
    /// (`Phase::Spread`, as people typing) or all at the same instant (`Phase::Together`, the
    /// worst case); returns latencies and delivery.
    fn traffic(
        &mut self,
        senders: &[usize],
        interval: Duration,
        per_sender: u64,
        phase: Phase,
    ) -> (Vec<Duration>, u64, u64) {
        let n = self.procs.len() as u64;
        let mut sent_at = HashMap::new();
        let start = Instant::now();
        let slots = match phase {
            Phase::Spread => senders.len() as u32,
            Phase::Together => 1,
        };
        for seq in 0..per_sender {
            for (k, &s) in senders.iter().enumerate() {
                let slot = k as u32 % slots;
                let due = start + interval * seq as u32 + interval * slot / slots;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let text = format!("{s}:{seq}:{}", "x".repeat(190));
                sent_at.insert((s, seq), Instant::now());
                self.say(s, &text);
            }
        }
        let expected = per_sender * senders.len() as u64 * (n - 1);
        let mut seen = HashSet::new();
        let mut latencies = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
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
            let mut parts = text.splitn(3, ':');
            let (Some(from), Some(seq)) = (parts.next(), parts.next()) else {
                continue;
            };
            let (Ok(from), Ok(seq)) = (from.parse::<usize>(), seq.parse::<u64>()) else {
                continue;
            };
            if seen.insert((to, from, seq))
                && let Some(t) = sent_at.get(&(from, seq))
            {
                latencies.push(at.duration_since(*t));
            }
        }
        (latencies, seen.len() as u64, expected)
    }

    fn pids(&self) -> Vec<String> {
        self.procs
            .iter()
            .map(|p| p.child.id().to_string())
            .collect()
    }

    fn quit(mut self) {
        for p in &mut self.procs {
            let _ = writeln!(p.stdin, "/quit");
        }
        for p in &mut self.procs {
            let _ = p.child.wait();
        }
    }
}

fn row(label: &str, lat: &[Duration], delivered: u64, expected: u64) -> Value {
    let l = latency(lat.to_vec());
    println!(
        "  {label:<42} p50 {:6.2} ms  p99 {:6.2} ms  max {:6.2} ms  delivered {delivered}/{expected}",
        l.p50_ms, l.p99_ms, l.max_ms
    );
    json!({"p50_ms": l.p50_ms, "p99_ms": l.p99_ms, "max_ms": l.max_ms, "delivered": delivered, "expected": expected})
}

pub fn run(opts: &Options) -> anyhow::Result<Value> {
    let mut report = serde_json::Map::new();
    let per = |rate: f64| ((opts.seconds * rate) as u64).max(5);

    let mut two = Room::form(2)?;
    let (lat, got, want) = two.traffic(&[0], Duration::from_millis(20), per(50.0), Phase::Spread);
    report.insert(
        "2 nodes, 50 msg/s".into(),
        row("2 nodes, 50 msg/s", &lat, got, want),
    );
    if opts.smoke {
        assert_eq!(got, want, "process mode lost messages");
    }
    two.quit();

    if !opts.smoke {
        let mut ten = Room::form(10)?;
        let (lat, got, want) =
            ten.traffic(&[0], Duration::from_millis(20), per(50.0), Phase::Spread);
        report.insert(
            "10 nodes, 1 sender 50 msg/s".into(),
            row("10 nodes, 1 sender 50 msg/s", &lat, got, want),
        );
        let cpu_before: Duration = ten.pids().iter().map(|p| cpu_time(p)).sum();
        let everyone: Vec<usize> = (0..10).collect();
        let interval = Duration::from_millis(200);
        let label = "10 nodes, all send 5 msg/s, own phase";
        let (lat, got, want) = ten.traffic(&everyone, interval, per(5.0), Phase::Spread);
        report.insert(label.into(), row(label, &lat, got, want));
        let label = "10 nodes, all send 5 msg/s, same instant";
        let (lat, together, want) = ten.traffic(&everyone, interval, per(5.0), Phase::Together);
        report.insert(label.into(), row(label, &lat, together, want));
        let cpu: Duration = ten.pids().iter().map(|p| cpu_time(p)).sum::<Duration>() - cpu_before;
        let got = got + together;
        let rss: Vec<f64> = ten.pids().iter().map(|p| rss_mb(p)).collect();
        let avg = rss.iter().sum::<f64>() / rss.len() as f64;
        println!(
            "  resident memory per process (10-node room): avg {avg:.1} MB, max {:.1} MB; CPU {:.0} µs per delivered message",
            rss.iter().cloned().fold(0.0, f64::max),
            cpu.as_micros() as f64 / got.max(1) as f64
        );
        report.insert(
            "rss_mb_per_process_10_nodes".into(),
            json!({"avg": avg, "all": rss}),
        );
        report.insert(
            "cpu_us_per_delivery_10_nodes".into(),
            json!(cpu.as_micros() as f64 / got.max(1) as f64),
        );
        ten.quit();

        // Highest rate with complete delivery, 2 nodes.
        let mut best = 0;
        for rate in [1000u64, 2000, 5000, 10000, 20000] {
            let mut room = Room::form(2)?;
            let interval = Duration::from_micros(1_000_000 / rate);
            let count = (rate as f64 * opts.seconds.min(3.0)) as u64;
            let (_, got, want) = room.traffic(&[0], interval, count, Phase::Spread);
            println!("  2 nodes at {rate:>6} msg/s: {got}/{want} delivered");
            room.quit();
            if got < want {
                break;
            }
            best = rate;
        }
        println!("  highest rate with 100 % delivery: {best} msg/s");
        report.insert("2 nodes, highest complete rate".into(), json!(best));
    }

    // Process start to first message received: B is started with a line waiting on stdin.
    let mut starts = Vec::new();
    let (tx, lines) = mpsc::channel();
    let mut a = spawn(0, &["open"], tx.clone())?;
    let (_, _, ready) = wait_for(&lines, "ready", |i, v| i == 0 && v["type"] == "ready")?;
    let ticket = ready["ticket"].as_str().unwrap_or_default().to_string();
    for round in 0..if opts.smoke { 2 } else { 10 } {
        let t0 = Instant::now();
        let mut b = spawn(1, &["join", &ticket], tx.clone())?;
        let _ = writeln!(b.stdin, "hello {round}");
        let (_, at, _) = wait_for(&lines, "first message", |i, v| {
            i == 0 && v["type"] == "message" && v["text"] == format!("hello {round}")
        })?;
        starts.push(at.duration_since(t0));
        let _ = writeln!(b.stdin, "/quit");
        let _ = b.child.wait();
    }
    let _ = writeln!(a.stdin, "/quit");
    let _ = a.child.wait();
    let s = latency(starts);
    println!(
        "  process start -> first message received: p50 {:.1} ms, max {:.1} ms",
        s.p50_ms, s.max_ms
    );
    report.insert(
        "start_to_first_message_ms".into(),
        json!({"p50": s.p50_ms, "max": s.max_ms}),
    );
    Ok(Value::Object(report))
}

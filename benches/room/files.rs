//! Sharing files between real parlor processes with data directories on 127.0.0.1, beside a
//! plain QUIC stream between two iroh endpoints in the same run (`quic.rs`):
//! - one big file (1 GiB; 16 MiB with `--smoke`) from p0 to p1, three times (a fresh file
//!   each, the stream measured just before each): `/send` until p1 sees the offer, `/get`
//!   until fetched (the `transfer` event at 100 %) and until saved, with both processes'
//!   resident memory sampled every 10 ms during the first;
//! - resume: another big file, p1 killed (SIGKILL) once it reports half, started again on
//!   its data directory, `/get` again: where the fetch starts and how long the rest takes;
//! - a 100 MB file (8 MiB smoke) fetched by one member alone, then another shared in a room
//!   of 10 (4 smoke) and fetched by the nine others at once: until every copy is saved and
//!   each is compared with the original.
//!
//! Figures, never assertions on time; the smoke run checks the bytes only.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Options;
use crate::peers::{Line, Proc, spawn_in};
use crate::process::Lines;
use crate::stats::{cpu_time, rss_mb};

const MIB: u64 = 1 << 20;
/// The longest any step may take before the run gives up (a 1 GiB fetch on a busy machine).
const PATIENCE: Duration = Duration::from_secs(600);

pub fn run(opts: &Options) -> anyhow::Result<Value> {
    let (big, medium, members) = if opts.smoke {
        (16 * MIB, 8 * MIB, 4)
    } else {
        (1024 * MIB, 100 * 1_000_000, 10)
    };
    let work = std::env::temp_dir().join(format!("parlor-bench-files-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let rounds = if opts.smoke { 1 } else { 3 };
    let result = scenarios(&work, (big, medium, members), rounds);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn scenarios(
    work: &Path,
    (big, medium, members): (u64, u64, usize),
    rounds: usize,
) -> anyhow::Result<Value> {
    let mbps = |took: Duration| big as f64 / MIB as f64 / took.as_secs_f64();
    let mut room = FileRoom::form(work, 2)?;
    // The machine is shared and noisy: rounds of the stream and parlor one after the other,
    // each on a fresh file, compared round by round and by their medians.
    let (mut streams, mut memory, mut fetches) = (Vec::new(), Vec::new(), Vec::new());
    let mut first = None;
    for round in 0..rounds {
        let source = work.join(format!("big-{round}.bin"));
        make_file(&source, big, 10 + round as u64)?;
        let stream = crate::quic::run(&source, big, work)?;
        let one = room.share_and_get(&source, &[1], round == 0)?;
        std::fs::remove_file(&source)?;
        println!(
            "    round {}: stream file to file {:.2} s, memory to memory {:.2} s; parlor fetched {:.2} s, saved {:.2} s ({:.0} % of the file-to-file stream)",
            round + 1,
            stream.file_to_file.as_secs_f64(),
            stream.memory_to_memory.as_secs_f64(),
            one.fetched[0].as_secs_f64(),
            one.saved[0].as_secs_f64(),
            100.0 * stream.file_to_file.as_secs_f64() / one.fetched[0].as_secs_f64()
        );
        streams.push(stream.file_to_file);
        memory.push(stream.memory_to_memory);
        fetches.push(one.saved[0]);
        first.get_or_insert(one);
    }
    let one = first.ok_or_else(|| anyhow::anyhow!("no round ran"))?;
    let (stream, memory, fetched) = (median(&streams), median(&memory), median(&fetches));
    let rows = [
        (
            format!("plain QUIC stream, file to file ({} MiB)", big / MIB),
            stream,
        ),
        ("plain QUIC stream, memory to memory".to_string(), memory),
        ("parlor /get until saved".to_string(), fetched),
    ];
    for (label, took) in rows {
        println!(
            "    {label:<46} {:8.2} s  {:7.1} MiB/s  (median of {rounds})",
            took.as_secs_f64(),
            mbps(took)
        );
    }
    println!(
        "    {:<46} {:.0} % of the file-to-file stream, {:.0} % of memory to memory",
        "parlor's throughput",
        100.0 * stream.as_secs_f64() / fetched.as_secs_f64(),
        100.0 * memory.as_secs_f64() / fetched.as_secs_f64()
    );
    println!(
        "    {:<46} {:8.2} s",
        "parlor /send until offered (hashing)",
        one.shared.as_secs_f64()
    );
    println!(
        "    {:<46} sender {:.1} MB, receiver {:.1} MB",
        "resident memory during the transfer, max", one.rss_max[0], one.rss_max[1]
    );
    let resumed = room.resume(work, big)?;
    println!(
        "    {:<46} killed at {:.0} %, began again at {:.0} %, the rest fetched in {:.2} s",
        "resume after SIGKILL",
        resumed.killed_at * 100.0,
        resumed.began_at * 100.0,
        resumed.rest.as_secs_f64()
    );
    let alone_source = work.join("medium-alone.bin");
    make_file(&alone_source, medium, 2)?;
    let alone_cpu = room.cpu_seconds();
    let alone = room.share_and_get(&alone_source, &[1], false)?;
    let alone_cpu = room.cpu_seconds() - alone_cpu;
    room.quit();
    let mut crowd = FileRoom::form(work, members)?;
    let crowd_source = work.join("medium-crowd.bin");
    make_file(&crowd_source, medium, 3)?;
    let fetchers: Vec<usize> = (1..members).collect();
    let cpu_before = crowd.cpu_seconds();
    let all = crowd.share_and_get(&crowd_source, &fetchers, false)?;
    let cpu = crowd.cpu_seconds() - cpu_before;
    crowd.quit();
    let last = all.saved.iter().max().copied().unwrap_or_default();
    let alone_took = alone.saved[0];
    println!(
        "    {:<46} {:8.2} s  ({:.2} CPU-s in both processes)",
        format!("{} MB fetched by one member alone", medium / 1_000_000),
        alone_took.as_secs_f64(),
        alone_cpu
    );
    println!(
        "    {:<46} {:8.2} s  ({:.1}x one fetch; {:.1} CPU-s in all processes, {} copies verified)",
        format!("... by {} members at once, the last saved", fetchers.len()),
        last.as_secs_f64(),
        last.as_secs_f64() / alone_took.as_secs_f64(),
        cpu,
        fetchers.len()
    );
    let secs = |d: Duration| d.as_secs_f64();
    Ok(json!({
        "big_bytes": big,
        "rounds": rounds,
        "stream_file_to_file_s": secs(stream),
        "stream_memory_to_memory_s": secs(memory),
        "parlor_saved_s": secs(fetched),
        "parlor_shared_s": secs(one.shared),
        "saved_vs_stream": secs(stream) / secs(fetched),
        "rss_max_mb": {"sender": one.rss_max[0], "receiver": one.rss_max[1]},
        "resume": {"killed_at": resumed.killed_at, "began_at": resumed.began_at,
                   "rest_s": secs(resumed.rest)},
        "crowd": {"bytes": medium, "members": members, "alone_s": secs(alone_took), "alone_cpu_s": alone_cpu,
                  "all_s": secs(last), "each_s": all.saved.iter().map(|d| secs(*d)).collect::<Vec<_>>(),
                  "cpu_s": cpu},
    }))
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// A file of `size` pseudo-random bytes (`seed` makes each file different).
fn make_file(path: &Path, size: u64, seed: u64) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut block = vec![0u8; MIB as usize];
    let mut left = size;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        let n = left.min(MIB) as usize;
        out.write_all(&block[..n])?;
        left -= n as u64;
    }
    out.flush()?;
    Ok(())
}

/// Whether two files hold the same bytes.
fn same_bytes(a: &Path, b: &Path) -> anyhow::Result<bool> {
    let (mut a, mut b) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    let (mut x, mut y) = (vec![0u8; MIB as usize], vec![0u8; MIB as usize]);
    loop {
        let n = read_full(&mut a, &mut x)?;
        let m = read_full(&mut b, &mut y)?;
        if n != m || x[..n] != y[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Until a line matching `pred` (within [`PATIENCE`]).
fn wait(lines: &Lines, what: &str, pred: impl Fn(usize, &Value) -> bool) -> anyhow::Result<Line> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (i, at, v) = lines
            .recv_timeout(left)
            .map_err(|_| anyhow::anyhow!("no {what}"))?;
        if v["type"] == "error" {
            eprintln!("    p{i}: {}", v["message"]);
        }
        if pred(i, &v) {
            return Ok((i, at, v));
        }
    }
}

/// What sharing one file and fetching it took.
struct Shared {
    /// From `/send` until the first fetcher saw the offer.
    shared: Duration,
    /// Per fetcher, from the `/get` lines until fetched (100 %) and until saved.
    fetched: Vec<Duration>,
    saved: Vec<Duration>,
    /// The highest resident memory of p0 and p1 while the fetches ran (when sampled).
    rss_max: [f64; 2],
}

struct Resumed {
    killed_at: f64,
    began_at: f64,
    rest: Duration,
}

/// p0 opens a room that p1.. join, each with its own data and download directories.
struct FileRoom {
    procs: Vec<Proc>,
    dirs: Vec<PathBuf>,
    topic: String,
    tx: mpsc::Sender<Line>,
    lines: Lines,
}

impl FileRoom {
    fn form(work: &Path, n: usize) -> anyhow::Result<Self> {
        let (tx, lines) = mpsc::channel();
        let tag = rand::random::<u32>();
        let dirs: Vec<PathBuf> = (0..n).map(|i| work.join(format!("p{i}-{tag}"))).collect();
        let mut procs = vec![member(&dirs[0], 0, &["open"], &tx)?];
        let (_, _, ready) = wait(&lines, "p0 ready", |i, v| i == 0 && v["type"] == "ready")?;
        let ticket = ready["ticket"].as_str().unwrap_or_default().to_string();
        let topic = ready["topic"].as_str().unwrap_or_default().to_string();
        for (i, dir) in dirs.iter().enumerate().skip(1) {
            procs.push(member(dir, i, &["join", &ticket], &tx)?);
            wait(&lines, "ready", |j, v| j == i && v["type"] == "ready")?;
        }
        let mut room = Self {
            procs,
            dirs,
            topic,
            tx,
            lines,
        };
        // p0 serves only the members it knows: wait until it lists them all.
        loop {
            room.say(0, "/who");
            let (_, _, v) = wait(&room.lines, "p0's member list", |i, v| {
                i == 0 && v["type"] == "members"
            })?;
            if v["members"].as_array().is_some_and(|m| m.len() >= n) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(room)
    }

    fn say(&mut self, i: usize, line: &str) {
        let _ = self.procs[i]
            .stdin
            .write_all(format!("{line}\n").as_bytes());
    }

    fn cpu_seconds(&self) -> f64 {
        self.procs
            .iter()
            .map(|p| cpu_time(&p.child.id().to_string()).as_secs_f64())
            .sum()
    }

    /// p0 shares `source`; every fetcher sees the offer; all `/get` it at once; until all
    /// saved it, every copy compared with `source` (and removed).
    fn share_and_get(
        &mut self,
        source: &Path,
        fetchers: &[usize],
        sample_memory: bool,
    ) -> anyhow::Result<Shared> {
        let name = source
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let sent = Instant::now();
        self.say(0, &format!("/send {}", source.display()));
        let mut handle = String::new();
        let mut seen = 0;
        let mut shared = Duration::ZERO;
        while seen < fetchers.len() {
            let (_, at, v) = wait(&self.lines, "the offer", |i, v| {
                fetchers.contains(&i) && v["type"] == "file" && v["name"] == name.as_str()
            })?;
            if seen == 0 {
                shared = at - sent;
            }
            handle = v["handle"].as_str().unwrap_or_default().to_string();
            seen += 1;
        }
        let sampler = sample_memory.then(|| Sampler::start(&self.procs[..2]));
        let started = Instant::now();
        for &i in fetchers {
            self.say(i, &format!("/get {handle} --force"));
        }
        let mut fetched = vec![Duration::ZERO; fetchers.len()];
        let mut saved = vec![Duration::ZERO; fetchers.len()];
        let mut paths = Vec::new();
        while paths.len() < fetchers.len() {
            let (i, at, v) = wait(&self.lines, "every copy saved", |i, v| {
                fetchers.contains(&i)
                    && v["handle"] == handle.as_str()
                    && (v["type"] == "saved"
                        || v["type"] == "error"
                        || (v["type"] == "transfer" && v["done"] == v["total"]))
            })?;
            let k = fetchers.iter().position(|&f| f == i).unwrap_or_default();
            match v["type"].as_str() {
                Some("transfer") => fetched[k] = at - started,
                Some("saved") => {
                    saved[k] = at - started;
                    paths.push(PathBuf::from(v["path"].as_str().unwrap_or_default()));
                }
                _ => anyhow::bail!("p{i} could not fetch {name}: {}", v["message"]),
            }
        }
        let rss_max = sampler.map_or([0.0; 2], Sampler::stop);
        for path in paths {
            anyhow::ensure!(
                same_bytes(source, &path)?,
                "{} differs from {name}",
                path.display()
            );
            std::fs::remove_file(&path)?;
        }
        Ok(Shared {
            shared,
            fetched,
            saved,
            rss_max,
        })
    }

    /// p0 shares a new big file; p1 is killed once it has half and started again: where
    /// its second `/get` begins, and how long the rest takes.
    fn resume(&mut self, work: &Path, size: u64) -> anyhow::Result<Resumed> {
        let source = work.join("big-resumed.bin");
        make_file(&source, size, 4)?;
        let name = "big-resumed.bin";
        self.say(0, &format!("/send {}", source.display()));
        let (_, _, offer) = wait(&self.lines, "the offer", |i, v| {
            i == 1 && v["type"] == "file" && v["name"] == name
        })?;
        let handle = offer["handle"].as_str().unwrap_or_default().to_string();
        self.say(1, &format!("/get {handle} --force"));
        let (_, _, half) = wait(&self.lines, "half of it", |i, v| {
            i == 1
                && v["type"] == "transfer"
                && v["done"].as_u64().unwrap_or(0) * 2 >= v["total"].as_u64().unwrap_or(1)
        })?;
        let fraction = |v: &Value| {
            v["done"].as_u64().unwrap_or(0) as f64 / v["total"].as_u64().unwrap_or(1).max(1) as f64
        };
        let _ = self.procs[1].child.kill();
        let _ = self.procs[1].child.wait();
        let killed_at = fraction(&half);
        let args = ["join", self.topic.as_str()];
        self.procs[1] = member(&self.dirs[1], 1, &args, &self.tx)?;
        wait(&self.lines, "p1 back", |i, v| {
            i == 1 && v["type"] == "ready"
        })?;
        // The offer comes back from p1's history.
        wait(&self.lines, "the offer again", |i, v| {
            i == 1 && v["type"] == "file" && v["handle"] == handle.as_str()
        })?;
        let started = Instant::now();
        self.say(1, &format!("/get {handle} --force"));
        let (_, _, first) = wait(&self.lines, "the fetch again", |i, v| {
            i == 1 && v["type"] == "transfer" && v["handle"] == handle.as_str()
        })?;
        let (_, fetched_at, _) = wait(&self.lines, "the rest fetched", |i, v| {
            i == 1 && (v["type"] == "error" || (v["type"] == "transfer" && v["done"] == v["total"]))
        })?;
        let (_, _, saved) = wait(&self.lines, "saved", |i, v| {
            i == 1 && (v["type"] == "saved" || v["type"] == "error")
        })?;
        anyhow::ensure!(
            saved["type"] == "saved",
            "the resumed fetch failed: {}",
            saved["message"]
        );
        let path = PathBuf::from(saved["path"].as_str().unwrap_or_default());
        anyhow::ensure!(same_bytes(&source, &path)?, "the resumed copy differs");
        std::fs::remove_file(&path)?;
        std::fs::remove_file(&source)?;
        Ok(Resumed {
            killed_at,
            began_at: fraction(&first),
            rest: fetched_at - started,
        })
    }

    fn quit(mut self) {
        for p in &mut self.procs {
            p.quit();
        }
        for p in &mut self.procs {
            p.wait();
        }
    }
}

/// parlor member `i` keeping its data in `dir` and saving downloads under it.
fn member(dir: &Path, i: usize, args: &[&str], tx: &mpsc::Sender<Line>) -> anyhow::Result<Proc> {
    let downloads = dir.join("downloads");
    let downloads = downloads.to_string_lossy();
    let mut all = vec![
        "--download-dir",
        downloads.as_ref(),
        "--max-rate",
        "1000000",
    ];
    all.extend_from_slice(args);
    spawn_in(dir, i, &all, tx.clone())
}

/// The highest resident memory of some processes, sampled every 10 ms from a thread.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<[f64; 2]>,
}

impl Sampler {
    fn start(procs: &[Proc]) -> Self {
        let pids: Vec<String> = procs.iter().map(|p| p.child.id().to_string()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || {
                let mut max = [0.0f64; 2];
                while !stop.load(Ordering::Relaxed) {
                    for (k, pid) in pids.iter().enumerate().take(2) {
                        max[k] = max[k].max(rss_mb(pid));
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                max
            }
        });
        Self { stop, thread }
    }

    fn stop(self) -> [f64; 2] {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

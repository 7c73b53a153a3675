//! The processes of the file benchmark: a room of parlor processes with their own data and
//! download directories, sharing and fetching files, resuming after a kill, and sampling
//! resident memory; the files they share.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::peers::{Line, Member, spawn_in};
use crate::process::Lines;
use crate::stats::{cpu_time, rss_mb};

pub(crate) const MIB: u64 = 1 << 20;
/// The longest any step may take before the run gives up (a 1 GiB fetch on a busy machine).
const PATIENCE: Duration = Duration::from_secs(600);

/// A file of `size` pseudo-random bytes (`seed` makes each file different).
pub(crate) fn make_file(path: &Path, size: u64, seed: u64) -> anyhow::Result<()> {
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
pub(crate) fn same_bytes(a: &Path, b: &Path) -> anyhow::Result<bool> {
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
pub(crate) fn wait(
    lines: &Lines,
    what: &str,
    pred: impl Fn(usize, &Value) -> bool,
) -> anyhow::Result<Line> {
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
pub(crate) struct Shared {
    /// From `/send` until the first fetcher saw the offer.
    pub shared: Duration,
    /// Per fetcher, from the `/get` lines until fetched (100 %) and until saved.
    pub fetched: Vec<Duration>,
    pub saved: Vec<Duration>,
    /// The highest resident memory of p0 and p1 while the fetches ran (when sampled).
    pub rss_max: [f64; 2],
    /// CPU-s of p0 and p1 from the `/get` lines until every copy was saved.
    pub cpu: [f64; 2],
}

pub(crate) struct Resumed {
    pub killed_at: f64,
    pub began_at: f64,
    pub rest: Duration,
}

/// p0 opens a room that p1.. join, each with its own data and download directories.
pub(crate) struct FileRoom {
    procs: Vec<Member>,
    dirs: Vec<PathBuf>,
    topic: String,
    tx: mpsc::Sender<Line>,
    lines: Lines,
}

impl FileRoom {
    pub(crate) fn form(work: &Path, n: usize) -> anyhow::Result<Self> {
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
        let _ = self.procs[i].write_line(line);
    }

    pub(crate) fn cpu_seconds(&self) -> f64 {
        self.procs
            .iter()
            .map(|p| cpu_time(&p.pid().to_string()).as_secs_f64())
            .sum()
    }

    /// p0 shares `source`; every fetcher sees the offer; all `/get` it at once; until all
    /// saved it, every copy compared with `source` (and removed).
    pub(crate) fn share_and_get(
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
        let cpu = |procs: &[Member]| {
            let of = |p: &Member| cpu_time(&p.pid().to_string());
            [of(&procs[0]), of(&procs[1])]
        };
        let cpu_before = cpu(&self.procs);
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
        let cpu_after = cpu(&self.procs);
        let cpu_used = [0, 1].map(|k| cpu_after[k].saturating_sub(cpu_before[k]).as_secs_f64());
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
            cpu: cpu_used,
        })
    }

    /// p0 shares a new big file; p1 is killed once it has half and started again: where
    /// its second `/get` begins, and how long the rest takes.
    pub(crate) fn resume(&mut self, work: &Path, size: u64) -> anyhow::Result<Resumed> {
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
        self.procs[1].kill();
        self.procs[1].wait();
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

    pub(crate) fn quit(mut self) {
        for p in &mut self.procs {
            p.quit();
        }
        for p in &mut self.procs {
            p.wait();
        }
    }
}

/// parlor member `i` keeping its data in `dir` and saving downloads under it.
pub(crate) fn member(
    dir: &Path,
    i: usize,
    args: &[&str],
    tx: &mpsc::Sender<Line>,
) -> anyhow::Result<Member> {
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
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<[f64; 2]>,
}

impl Sampler {
    fn start(procs: &[Member]) -> Self {
        let pids: Vec<String> = procs.iter().map(|p| p.pid().to_string()).collect();
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

//! Sharing files between real parlor processes with data directories on 127.0.0.1, beside a
//! plain QUIC stream between two iroh endpoints in the same run (`quic.rs`):
//! - one big file (1 GiB; 16 MiB with `--smoke`) from p0 to p1, three times (a fresh file
//!   each, the stream measured just before each): `/send` until p1 sees the offer, `/get`
//!   until fetched (the `transfer` event at 100 %) and until saved, with both processes'
//!   resident memory sampled every 10 ms during the first, and the CPU each used (the
//!   stream's: this process's, both ends);
//! - resume: another big file, p1 killed (SIGKILL) once it reports half, started again on
//!   its data directory, `/get` again: where the fetch starts and how long the rest takes;
//! - a 100 MB file (8 MiB smoke) fetched by one member alone, then another shared in a room
//!   of 10 (4 smoke) and fetched by the nine others at once: until every copy is saved and
//!   each is compared with the original.
//!
//! Figures, never assertions on time; the smoke run checks the bytes only.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::Options;
use crate::file_room::{FileRoom, MIB, make_file};

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
    // CPU-s per round: the stream file to file, memory to memory, parlor's sender, receiver.
    let mut cpu: [Vec<f64>; 4] = Default::default();
    let mut first = None;
    for round in 0..rounds {
        let source = work.join(format!("big-{round}.bin"));
        make_file(&source, big, 10 + round as u64)?;
        // Each side starts with nothing left for the disk to write: the file just made (or
        // the last round's copies) being written back slowed whichever ran first.
        settle_disk();
        let stream = crate::quic::run(&source, big, work)?;
        settle_disk();
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
        println!(
            "             CPU: stream file to file {:.2} CPU-s, memory to memory {:.2}; parlor sender {:.2}, receiver {:.2}",
            stream.file_to_file_cpu, stream.memory_to_memory_cpu, one.cpu[0], one.cpu[1]
        );
        let round_cpu = [
            stream.file_to_file_cpu,
            stream.memory_to_memory_cpu,
            one.cpu[0],
            one.cpu[1],
        ];
        for (all, this) in cpu.iter_mut().zip(round_cpu) {
            all.push(this);
        }
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
    let [stream_cpu, memory_cpu, sender_cpu, receiver_cpu] = cpu.map(|v| median(&v));
    println!(
        "    {:<46} stream {:.2} CPU-s file to file, {:.2} memory to memory; parlor {:.2} + {:.2} (sender + receiver, {:.1}x the file-to-file stream)  (medians)",
        "CPU for the transfer, both ends",
        stream_cpu,
        memory_cpu,
        sender_cpu,
        receiver_cpu,
        (sender_cpu + receiver_cpu) / stream_cpu.max(0.01)
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
        "cpu_s": {"stream_file_to_file": stream_cpu, "stream_memory_to_memory": memory_cpu,
                  "parlor_sender": sender_cpu, "parlor_receiver": receiver_cpu},
        "rss_max_mb": {"sender": one.rss_max[0], "receiver": one.rss_max[1]},
        "resume": {"killed_at": resumed.killed_at, "began_at": resumed.began_at,
                   "rest_s": secs(resumed.rest)},
        "crowd": {"bytes": medium, "members": members, "alone_s": secs(alone_took), "alone_cpu_s": alone_cpu,
                  "all_s": secs(last), "each_s": all.saved.iter().map(|d| secs(*d)).collect::<Vec<_>>(),
                  "cpu_s": cpu},
    }))
}

/// Waits until everything written so far is on disk (`sync`; if it cannot run, the run goes
/// on unsettled, as before).
fn settle_disk() {
    let _ = std::process::Command::new("sync").status();
}

fn median<T: Copy + Default + PartialOrd>(samples: &[T]) -> T {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

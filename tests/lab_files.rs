//! Files in the network lab: ten hosts on one LAN, each host's upload shaped to 40 Mbit/s
//! (a token bucket on its own interface), so that, as between machines on real links, the
//! sender's upload is what a crowd of fetchers would share, not this machine's two cores.
//! One member fetches a file alone; then nine fetch another at once, every copy checked.
//! Figures print as `LAB files_...: ...` (`cargo test --test lab_files -- --nocapture`);
//! nothing asserts on time.
//!
//! Needs what `tests/lab.rs` needs (root or user namespaces; `ip`, `nft`, `sysctl`, `tc`), and
//! runs, or is skipped, the same way; traffic stays in the lab's namespaces (10.77.0.0/16).

#[path = "common/pty.rs"]
mod pty;
#[path = "support/mod.rs"]
mod support;

// The harness offers operations no scenario here uses.
#[allow(dead_code)]
mod lab {
    pub mod host;
    pub mod netns;
    pub mod sandbox;
    pub mod topology;
    pub mod tty;
}

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lab::netns::exec;
use lab::topology::Lab;
use support::process::Proc;

const MEMBERS: usize = 10;
const FILE_BYTES: usize = 16 << 20;
/// Each host's upload: 40 Mbit/s, 5 MB/s; a 16 MiB file alone takes about 3.4 s.
const UPLOAD: &str = "40mbit";
/// Nine copies from one uplink would take nine times a single fetch: far longer than this.
const CROWD_PATIENCE: Duration = Duration::from_secs(120);

/// Shape `host`'s upload: what it sends out of `eth0` passes a token bucket.
fn shape(lab: &Lab, host: &str) {
    let ns = &lab.host(host).ns;
    let tbf = [
        "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", UPLOAD, "burst", "64kb", "latency",
        "100ms",
    ];
    exec(ns, "tc", &tbf);
}

fn file_of(path: &Path, seed: u8) -> Vec<u8> {
    let mut bytes = vec![0u8; FILE_BYTES];
    blake3::Hasher::new()
        .update(&[seed; 32])
        .finalize_xof()
        .fill(&mut bytes);
    std::fs::write(path, &bytes).expect("write the file to share");
    bytes
}

/// p0 shares `path`; `fetchers` see the offer and all `/get` it at once; until every one
/// saved a copy equal to `bytes`: how long the last took.
async fn share_and_fetch(
    procs: &mut [Proc],
    fetchers: &[usize],
    path: &Path,
    bytes: &[u8],
) -> Duration {
    procs[0].send(&format!("/send {}", path.display())).await;
    let name = path.file_name().and_then(|n| n.to_str()).expect("a name");
    let mut handle = String::new();
    for &i in fetchers {
        let offer = procs[i]
            .expect("the offer", |e| e["type"] == "file" && e["name"] == name)
            .await;
        handle = offer["handle"].as_str().expect("a handle").to_string();
    }
    let started = Instant::now();
    for &i in fetchers {
        procs[i].send(&format!("/get {handle}")).await;
    }
    let mut last = Duration::ZERO;
    for &i in fetchers {
        let saved = procs[i]
            .expect_within(CROWD_PATIENCE, |e| {
                e["type"] == "saved" || (e["type"] == "error" && e["handle"].is_string())
            })
            .await
            .unwrap_or_else(|| panic!("{} saved nothing", procs[i].name));
        assert_eq!(saved["type"], "saved", "{}: {saved}", procs[i].name);
        last = last.max(saved.at.saturating_duration_since(started));
        let copy = PathBuf::from(saved["path"].as_str().expect("a path"));
        assert!(
            std::fs::read(&copy).expect("the copy") == bytes,
            "{}'s copy differs",
            procs[i].name
        );
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_nine_members_fetch_from_each_other() {
    let Some(lab) = Lab::new("files_swarm") else {
        return;
    };
    let lab = lab.lan(MEMBERS);
    let hosts: Vec<String> = (1..=MEMBERS).map(|i| format!("a{i}")).collect();
    for host in &hosts {
        shape(&lab, host);
    }
    let downloads = |host: &str| {
        let dir = lab.host(host).data_dir.join("downloads");
        dir.to_str().expect("UTF-8 temp dir").to_string()
    };
    let mut procs = vec![lab.parlor("a1", &["open"])];
    let ready = procs[0].ready().await;
    let ticket = ready["ticket"].as_str().expect("a ticket").to_string();
    for host in &hosts[1..] {
        let dl = downloads(host);
        procs.push(lab.parlor(host, &["--download-dir", &dl, "join", &ticket]));
    }
    let others: Vec<&str> = hosts[1..].iter().map(String::as_str).collect();
    procs[0].expect_joined(&others).await;

    let alone = lab.host("a1").data_dir.join("alone.bin");
    let alone_bytes = file_of(&alone, 1);
    let one = share_and_fetch(&mut procs, &[1], &alone, &alone_bytes).await;
    let crowd = lab.host("a1").data_dir.join("crowd.bin");
    let crowd_bytes = file_of(&crowd, 2);
    let fetchers: Vec<usize> = (1..MEMBERS).collect();
    let all = share_and_fetch(&mut procs, &fetchers, &crowd, &crowd_bytes).await;
    lab.figure(format_args!(
        "{} MiB over {UPLOAD} uploads: one member alone {:.2?}, nine at once {:.2?} ({:.1}x; \
         nine copies through the sender's upload alone: 9x at least)",
        FILE_BYTES >> 20,
        one,
        all,
        all.as_secs_f64() / one.as_secs_f64()
    ));
    for p in &mut procs {
        p.send("/quit").await;
    }
    for p in &mut procs {
        assert_eq!(p.exit().await, 0, "{} exited badly", p.name);
    }
}

//! Membership at the cap: 10,000 keys join a room, one signed `AboutMe` each (what a flood of
//! fake members costs). Prints, next to the targets of issue 11: one membership update at
//! 10,000 members (`Room::handle` of an `AboutMe` from a new key, then `Room::members()`), also
//! as the session pays for it (the list only when due, at most every 250 ms), one TUI frame with the 10,001-line member list (120x40), and
//! the growth of resident memory over the 10,000 joins; for distinct names and for every key
//! named "x" (each then shown with a fingerprint).
//!
//! `cargo bench --bench members`. Each case runs in a child process of its own (this binary
//! with `--case NAME`), so that the second case's memory figure does not reuse the first's
//! freed pages. Writes `target/bench/members.json`. Figures, never assertions on time.

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::FixedOffset;
use parlor::app::{App, Msg};
use parlor::proto::room::{Input, Room, RoomConfig};
use parlor::proto::wire::{self, MessageBody, Payload};
use parlor::proto::{MAX_KNOWN_KEYS, Now, SecretKey, TopicId, UnixMillis};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use serde_json::{Value, json};

const TOPIC: TopicId = TopicId::from_bytes([7; 32]);
/// Joins timed at the end (the room then holds 9,000 to 10,000 members).
const TIMED: usize = 1_000;
const CASES: [(&str, &str); 2] = [("distinct", "distinct names"), ("x", "all named \"x\"")];
/// The targets.
const UPDATE_TARGET_MS: f64 = 5.0;
const FRAME_TARGET_MS: f64 = 16.0;
const RSS_TARGET_MB: f64 = 30.0;
/// How often the session sends a large room's member list (session/roster.rs).
const ROSTER_EVERY: Duration = Duration::from_millis(250);

fn secret(n: u32) -> SecretKey {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&n.to_le_bytes());
    seed[31] = 1;
    SecretKey::from_bytes(&seed)
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// p50 and p99 in ms.
fn percentiles(mut samples: Vec<Duration>) -> Value {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    json!({"p50": at(0.5), "p99": at(0.99), "max": at(1.0)})
}

/// One case, in this (child) process: its figures as one JSON line on stdout.
fn case(name: &str) -> Value {
    let members = MAX_KNOWN_KEYS;
    let start = Now {
        at: Instant::now(),
        wall: UnixMillis::now(),
    };
    // One join per ms of the room's clock: far inside every presence deadline.
    let at = |i: usize| start.after(Duration::from_millis(i as u64 + 1));
    // Signing is the joiner's cost, not ours: every envelope is made before anything is timed.
    let envelopes: Vec<Vec<u8>> = (0..members)
        .map(|i| {
            let key = secret(i as u32 + 1);
            let body = MessageBody::AboutMe {
                from: key.public(),
                name: if name == "x" {
                    "x".into()
                } else {
                    format!("member{i}")
                },
                every: None,
            };
            let payload = Payload {
                nonce: i as u64,
                sent: at(i).wall.0,
                body,
            };
            wire::seal(&key, &TOPIC, &payload).expect("small envelope")
        })
        .collect();
    let mut room = Room::new(secret(0), TOPIC, "me".into(), 1, RoomConfig::default());
    room.handle(Input::NeighborUp(secret(u32::MAX).public()), start);
    let area = Rect::new(0, 0, 120, 40);
    let mut app = App::new(None, area, FixedOffset::east_opt(0).expect("UTC"));
    app.update(
        Msg::Ready {
            me: room.me(),
            topic: TOPIC,
            ticket: "unused".into(),
            room_name: None,
            opened: false,
        },
        start.wall,
    );
    let mut terminal = Terminal::new(TestBackend::new(area.width, area.height)).expect("terminal");

    let rss_before = rss_mb();
    let (mut handle, mut list, mut update, mut replace, mut draw) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut copy = Vec::new();
    // What the session pays per join: the room's handling, and the list only when it is due
    // (a large room's list goes out at most every 250 ms: session/roster.rs).
    let mut session = Vec::new();
    let mut last_list: Option<Instant> = None;
    let all_joins = Instant::now();
    for (i, envelope) in envelopes.iter().enumerate() {
        // A copy, so the pre-made envelopes stay allocated and out of the memory figure.
        let input = Input::Received(envelope.clone());
        let t0 = Instant::now();
        let outputs = room.handle(input, at(i));
        let t1 = Instant::now();
        let listed = room.members();
        let t2 = Instant::now();
        drop(outputs);
        let timed = i >= members - TIMED;
        if timed {
            // What any owned list per join costs, however it is kept: the floor of `members()`.
            let t = Instant::now();
            let cloned = listed.clone();
            copy.push(t.elapsed());
            drop(cloned);
        }
        // The session hands every new list to the UI, which drops the old one.
        let t3 = Instant::now();
        app.update(Msg::Members(listed), at(i).wall);
        let t4 = Instant::now();
        let due = last_list.is_none_or(|t| t.elapsed() >= ROSTER_EVERY);
        if due {
            last_list = Some(Instant::now());
        }
        if timed {
            session.push(if due { t2 - t0 } else { t1 - t0 });
            handle.push(t1 - t0);
            list.push(t2 - t1);
            update.push(t2 - t0);
            replace.push(t4 - t3);
            let t5 = Instant::now();
            terminal
                .draw(|frame| parlor::ui::view(&app, frame))
                .expect("draw");
            draw.push(t5.elapsed());
        }
    }
    let all_joins = all_joins.elapsed();
    let rss_after = rss_mb();
    drop(envelopes);
    json!({
        "case": name,
        "members_listed": app.view().members.len(),
        "keys_known": room.known_keys(),
        "fingerprinted": app.view().members.iter().filter(|m| m.display != m.name).count(),
        "update_ms": percentiles(update),
        "session_ms": percentiles(session),
        "handle_ms": percentiles(handle),
        "members_ms": percentiles(list),
        "replace_ms": percentiles(replace),
        "clone_ms": percentiles(copy),
        "frame_ms": percentiles(draw),
        "all_joins_s": all_joins.as_secs_f64(),
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "rss_growth_mb": rss_after - rss_before,
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        let name = args.get(i + 1).map_or("distinct", String::as_str);
        println!("{}", case(name));
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let mut results = Vec::new();
    for (name, _) in CASES {
        let out = Command::new(&exe).args(["--case", name]).output()?;
        anyhow::ensure!(
            out.status.success(),
            "case {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        results.push(serde_json::from_slice::<Value>(&out.stdout)?);
    }
    table(&results);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let report = json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "targets": {"update_ms": UPDATE_TARGET_MS, "frame_ms": FRAME_TARGET_MS, "rss_growth_mb": RSS_TARGET_MB},
        "cases": results,
    });
    std::fs::write(
        dir.join("members.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    println!("\nwrote {}", dir.join("members.json").display());
    Ok(())
}

/// A figure's row: how to print it from a case's JSON, and its target if the issue sets one.
struct Row {
    label: &'static str,
    figure: fn(&Value) -> String,
    /// (JSON key, target, unit): the p99 (or the plain number) is held to the target.
    target: Option<(&'static str, f64, &'static str)>,
}

fn ms(v: &Value, key: &str) -> String {
    format!(
        "p50 {:6.3} p99 {:6.3} ms",
        v[key]["p50"].as_f64().unwrap_or(0.0),
        v[key]["p99"].as_f64().unwrap_or(0.0)
    )
}

const ROWS: [Row; 10] = [
    Row {
        label: "membership update, as the session does it",
        figure: |v| ms(v, "session_ms"),
        target: Some(("session_ms", UPDATE_TARGET_MS, "ms")),
    },
    Row {
        label: "membership update with a full list each",
        figure: |v| ms(v, "update_ms"),
        target: Some(("update_ms", UPDATE_TARGET_MS, "ms")),
    },
    Row {
        label: "  of which room.handle(AboutMe)",
        figure: |v| ms(v, "handle_ms"),
        target: None,
    },
    Row {
        label: "  of which room.members()",
        figure: |v| ms(v, "members_ms"),
        target: None,
    },
    Row {
        label: "  floor: clone of the finished list",
        figure: |v| ms(v, "clone_ms"),
        target: None,
    },
    Row {
        label: "UI takes the new list (drops the old)",
        figure: |v| ms(v, "replace_ms"),
        target: None,
    },
    Row {
        label: "TUI frame, full member list",
        figure: |v| ms(v, "frame_ms"),
        target: Some(("frame_ms", FRAME_TARGET_MS, "ms")),
    },
    Row {
        label: "RSS growth over the joins",
        figure: |v| format!("{:.1} MB", v["rss_growth_mb"].as_f64().unwrap_or(0.0)),
        target: Some(("rss_growth_mb", RSS_TARGET_MB, "MB")),
    },
    Row {
        label: "listed / keys known / with fingerprint",
        figure: |v| {
            format!(
                "{} / {} / {}",
                v["members_listed"], v["keys_known"], v["fingerprinted"]
            )
        },
        target: None,
    },
    Row {
        label: "all joins (handle + members + UI list)",
        figure: |v| format!("{:.2} s", v["all_joins_s"].as_f64().unwrap_or(0.0)),
        target: None,
    },
];

fn table(results: &[Value]) {
    println!(
        "{MAX_KNOWN_KEYS} keys join a room (one AboutMe each); times over the last {TIMED} joins, 120x40 terminal\n"
    );
    let mut header = format!("{:<44}", "");
    for (_, label) in CASES {
        header += &format!("{label:>28}");
    }
    println!("{header}{:>12}", "target");
    for row in &ROWS {
        let mut line = format!("{:<44}", row.label);
        for v in results {
            line += &format!("{:>28}", (row.figure)(v));
        }
        if let Some((key, target, unit)) = row.target {
            line += &format!("{:>12}", format!("≤ {target} {unit}"));
            let verdicts: Vec<&str> = results
                .iter()
                .map(|v| {
                    let figure = v[key]["p99"].as_f64().or(v[key].as_f64()).unwrap_or(0.0);
                    if figure <= target { "met" } else { "MISSED" }
                })
                .collect();
            line += &format!("  {}", verdicts.join(" / "));
        }
        println!("{line}");
    }
}

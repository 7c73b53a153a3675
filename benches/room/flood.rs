//! A hostile member, as real processes with the DEFAULT rate limit (20 lines/s per author,
//! burst 50): a flooder writes 200 lines/s (ten times the limit) for 10 s while an honest
//! member says a line every 100 ms. Two receivers (so "cut at every receiver" means more than
//! one) should show the flooder cut to the limit, report it, and show the honest member's lines
//! as fast as in a quiet room. Figures only; the smoke run checks delivery counts.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Options;
use crate::peers::{Limit, Program};
use crate::process::Room;
use crate::stats::{Latency, latency};

/// p0 opens the room and receives, p1 is honest, p2 floods, p3 receives.
const RECEIVERS: [usize; 2] = [0, 3];
const HONEST: usize = 1;
const FLOODER: usize = 2;
const HONEST_EVERY: Duration = Duration::from_millis(100);
const FLOOD_EVERY: Duration = Duration::from_millis(5);
/// The default limit for chat lines (`RateLimits::default()` in src/proto/limits.rs).
const BURST: f64 = 50.0;
const PER_SECOND: f64 = 20.0;
/// How far the flooder's shown lines may be from the limit's count and still be "cut to the
/// limit": the bucket refills by the receiver's clock, the expectation uses the writer's.
const TOLERANCE: f64 = 0.10;

/// What one receiver showed in one phase.
#[derive(Default)]
struct Shown {
    honest: Vec<Duration>,
    honest_history: u64,
    flooder: u64,
    flooder_history: u64,
    /// `dropped` of each flood report about the flooder.
    reports: Vec<u64>,
    lagged: u64,
}

/// What one phase sent and what each receiver showed.
struct Phase {
    honest_sent: u64,
    flood_sent: u64,
    /// First to last flood line written.
    flood_span: Duration,
    shown: BTreeMap<usize, Shown>,
}

impl Phase {
    /// Lines the limit lets through of the flood: the burst, then the rate over its span.
    fn allowed(&self) -> f64 {
        (BURST + PER_SECOND * self.flood_span.as_secs_f64()).min(self.flood_sent as f64)
    }
}

/// The honest member every 100 ms for `seconds`, and the flooder every 5 ms if `flood`; then
/// waits for every honest line (or 10 s) and `settle` more for the flood's tail and reports.
fn phase(room: &mut Room, seconds: f64, flood: bool, settle: Duration) -> Phase {
    let tag = rand::random::<u32>();
    let honest_count = (seconds / HONEST_EVERY.as_secs_f64()).round() as u64;
    let flood_count = if flood {
        (seconds / FLOOD_EVERY.as_secs_f64()).round() as u64
    } else {
        0
    };
    // Both senders from this one thread, by due time (a late tick catches up at once, as a
    // script would), so neither waits behind the other's sleep.
    let mut sent_at = Vec::with_capacity(honest_count as usize);
    let (mut h, mut f) = (0u64, 0u64);
    let (mut first_flood, mut last_flood) = (None, None);
    let start = Instant::now();
    let padding = "x".repeat(100);
    while h < honest_count || f < flood_count {
        let honest_due = (h < honest_count).then(|| start + HONEST_EVERY * h as u32);
        let flood_due = (f < flood_count).then(|| start + FLOOD_EVERY * f as u32);
        let honest_next = match (honest_due, flood_due) {
            (Some(a), Some(b)) => a <= b,
            (a, _) => a.is_some(),
        };
        let due = if honest_next { honest_due } else { flood_due }.expect("one is due");
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if honest_next {
            sent_at.push(Instant::now());
            room.say(HONEST, &format!("h:{tag}:{h}:{padding}"));
            h += 1;
        } else {
            let now = Instant::now();
            first_flood.get_or_insert(now);
            last_flood = Some(now);
            room.say(FLOODER, &format!("f:{tag}:{f}:{padding}"));
            f += 1;
        }
    }
    let mut shown: BTreeMap<usize, Shown> =
        RECEIVERS.iter().map(|&r| (r, Shown::default())).collect();
    let flooder_name = format!("p{FLOODER}");
    let settled = Instant::now() + settle;
    let give_up = Instant::now() + Duration::from_secs(10);
    loop {
        let complete = shown
            .values()
            .all(|s| s.honest.len() as u64 >= honest_count);
        let until = if complete { settled } else { give_up };
        let Ok((to, at, v)) = room
            .lines
            .recv_timeout(until.saturating_duration_since(Instant::now()))
        else {
            break;
        };
        let Some(seen) = shown.get_mut(&to) else {
            continue;
        };
        match v["type"].as_str() {
            Some("message") => {
                let text = v["text"].as_str().unwrap_or_default();
                let history = v["history"] == true;
                let mut parts = text.splitn(4, ':');
                let (Some(who), Some(run), Some(seq)) = (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                if run != tag.to_string() {
                    continue;
                }
                match (who, seq.parse::<usize>()) {
                    ("h", Ok(seq)) => {
                        seen.honest_history += u64::from(history);
                        if let Some(t) = sent_at.get(seq) {
                            seen.honest.push(at.duration_since(*t));
                        }
                    }
                    ("f", Ok(_)) if history => seen.flooder_history += 1,
                    ("f", Ok(_)) => seen.flooder += 1,
                    _ => {}
                }
            }
            Some("flood") if v["name"] == flooder_name.as_str() => {
                seen.reports.push(v["dropped"].as_u64().unwrap_or(0));
            }
            Some("lagged") => seen.lagged += 1,
            _ => {}
        }
    }
    Phase {
        honest_sent: honest_count,
        flood_sent: flood_count,
        flood_span: match (first_flood, last_flood) {
            (Some(a), Some(b)) => b - a,
            _ => Duration::ZERO,
        },
        shown,
    }
}

/// Form the room, a quiet phase, the flood; print the table and the two checks.
pub fn run(opts: &Options) -> anyhow::Result<Value> {
    // The smoke run keeps only what guards delivery: short phases, counts checked.
    let (quiet_s, flood_s, settle) = if opts.smoke {
        (0.5, 2.0, Duration::from_millis(500))
    } else {
        (10.0, 10.0, Duration::from_secs(2))
    };
    let program = Program::PARLOR;
    // Receivers keep the default limit. An honest parlor paces its own lines to it, so the
    // flooder's own limit is lifted: it stands for a modified client that does not pace.
    let mut limits = [Limit::Default; 4];
    limits[FLOODER] = Limit::Lifted;
    let mut room = Room::form_with(&program, &limits)?;
    println!(
        "  4 processes (data directories, default limit {PER_SECOND}/s burst {BURST}): p{HONEST} honest every {} ms, p{FLOODER} floods {} lines/s, receivers p{} and p{}",
        HONEST_EVERY.as_millis(),
        1000 / FLOOD_EVERY.as_millis(),
        RECEIVERS[0],
        RECEIVERS[1]
    );
    let quiet = phase(&mut room, quiet_s, false, Duration::from_millis(300));
    let flood = phase(&mut room, flood_s, true, settle);
    room.quit();
    let report = table(&quiet, &flood);
    if opts.smoke {
        for (r, shown) in &flood.shown {
            for phase in [&quiet, &flood] {
                let got = phase.shown[r].honest.len() as u64;
                assert_eq!(got, phase.honest_sent, "p{r} lost honest lines");
            }
            let flooder = shown.flooder + shown.flooder_history;
            assert!(
                flooder >= BURST as u64 && flooder <= flood.flood_sent / 2,
                "p{r} showed {flooder} of {} flood lines: not cut to the limit",
                flood.flood_sent
            );
        }
    }
    Ok(report)
}

fn table(quiet: &Phase, flood: &Phase) -> Value {
    let allowed = flood.allowed();
    let span = flood.flood_span.as_secs_f64();
    println!(
        "    {:<9} {:>22} {:>22} {:>9} {:>20} {:>9} {:>17}",
        "receiver",
        "honest quiet p50/p99",
        "honest flood p50/p99",
        "honest",
        "flooder shown (/s)¹",
        "limit",
        "reports (dropped)"
    );
    let mut receivers = serde_json::Map::new();
    let (mut cut_everywhere, mut fast_everywhere) = (true, true);
    let mut cut_figures = Vec::new();
    let mut p99_figures = Vec::new();
    for (r, shown) in &flood.shown {
        let q: Latency = latency(quiet.shown[r].honest.clone());
        let l: Latency = latency(shown.honest.clone());
        let flooder = shown.flooder + shown.flooder_history;
        // Past the burst, to hold against the limit's rate.
        let rate = (flooder as f64 - BURST).max(0.0) / span.max(f64::EPSILON);
        let cut = (flooder as f64 - allowed).abs() <= allowed * TOLERANCE;
        let bound = 2.0 * q.p99_ms + 2.0;
        let fast = l.p99_ms <= bound;
        cut_everywhere &= cut;
        fast_everywhere &= fast;
        cut_figures.push(format!("p{r} {flooder}"));
        let sign = if fast { "≤" } else { ">" };
        p99_figures.push(format!("p{r} {:.2} {sign} {bound:.2} ms", l.p99_ms));
        let dropped: u64 = shown.reports.iter().sum();
        println!(
            "    {:<9} {:>8.2} / {:>7.2} ms {:>8.2} / {:>7.2} ms {:>4}/{:<4} {:>12} ({:>5.1}) {:>9.0} {:>9} ({})",
            format!("p{r}"),
            q.p50_ms,
            q.p99_ms,
            l.p50_ms,
            l.p99_ms,
            shown.honest.len(),
            flood.honest_sent,
            flooder,
            rate,
            allowed,
            shown.reports.len(),
            dropped
        );
        if shown.flooder_history > 0 || shown.lagged > 0 || shown.honest_history > 0 {
            println!(
                "      p{r}: {} flooder and {} honest lines came through catch-up; {} lagged",
                shown.flooder_history, shown.honest_history, shown.lagged
            );
        }
        receivers.insert(
            format!("p{r}"),
            json!({
                "quiet": {"p50_ms": q.p50_ms, "p99_ms": q.p99_ms, "max_ms": q.max_ms,
                          "delivered": quiet.shown[r].honest.len(), "sent": quiet.honest_sent},
                "flood": {"p50_ms": l.p50_ms, "p99_ms": l.p99_ms, "max_ms": l.max_ms,
                          "delivered": shown.honest.len(), "sent": flood.honest_sent},
                "flooder_shown": flooder,
                "flooder_shown_from_history": shown.flooder_history,
                "flooder_shown_per_s_past_burst": rate,
                "flood_reports": shown.reports,
                "lagged": shown.lagged,
                "cut_to_limit": cut,
                "honest_p99_within_bound": fast,
            }),
        );
    }
    println!(
        "    ¹ past the burst. The flooder wrote {} lines in {span:.2} s; the limit lets {BURST} + {PER_SECOND}/s × {span:.2} s = {allowed:.0} through. Flood reports come ~1 s after the first drop, then once a minute.",
        flood.flood_sent
    );
    let yes = |b: bool| if b { "yes" } else { "no" };
    println!(
        "    flood cut to the limit at every receiver: {} ({} shown, {allowed:.0} ± {:.0} % allowed)",
        yes(cut_everywhere),
        cut_figures.join(", "),
        TOLERANCE * 100.0
    );
    println!(
        "    honest p99 under flood ≤ 2× quiet p99 + 2 ms: {} ({})",
        yes(fast_everywhere),
        p99_figures.join(", ")
    );
    json!({
        "quiet_seconds": quiet.honest_sent as f64 * HONEST_EVERY.as_secs_f64(),
        "flood_sent": flood.flood_sent,
        "flood_span_s": span,
        "flood_allowed": allowed,
        "limit": {"per_second": PER_SECOND, "burst": BURST},
        "receivers": receivers,
        "cut_to_limit_everywhere": cut_everywhere,
        "honest_p99_within_bound_everywhere": fast_everywhere,
    })
}

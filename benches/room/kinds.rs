//! Private rooms against public ones in the same run (issue 23's "Must reach": private within
//! 10 % of public): rooms of 2 and 10 parlor processes (data directories) opened with `open`
//! (private: every envelope sealed, on the epoch's topic) and `open --public`, one sender at
//! 50 lines/s, stdin to stdout. In the order private, public, public, private (the machine's
//! mood drifting over the run weighs on both alike), each kind's two runs pooled.

use serde_json::{Value, json};

use crate::Options;
use crate::peers::{Limit, Program};
use crate::process::{Room, Run, one_sender};
use crate::stats::{Latency, latency};

/// The target: private p50 within this share of public's.
const WITHIN: f64 = 0.10;

pub fn run(opts: &Options) -> anyhow::Result<Value> {
    let sizes: &[usize] = if opts.smoke { &[2] } else { &[2, 10] };
    let order: &[bool] = if opts.smoke {
        &[false, true]
    } else {
        &[false, true, true, false]
    };
    let mut report = serde_json::Map::new();
    println!(
        "    {:<32} {:>26} {:>26} {:>12}",
        "one sender, 50 lines/s", "private p50 / p99", "public p50 / p99", "p50 private"
    );
    for &n in sizes {
        let (mut private, mut public) = (Run::default(), Run::default());
        for &is_public in order {
            let program = Program::Parlor {
                data_dir: true,
                public: is_public,
            };
            let mut room = Room::form(&program, n, Limit::Lifted)?;
            let run = one_sender(&mut room, opts);
            room.quit();
            let pooled = if is_public { &mut public } else { &mut private };
            pooled.latencies.extend(run.latencies);
            pooled.delivered += run.delivered;
            pooled.expected += run.expected;
            pooled.duplicates += run.duplicates;
        }
        let (p, q) = (
            latency(private.latencies.clone()),
            latency(public.latencies.clone()),
        );
        let ratio = p.p50_ms / q.p50_ms.max(f64::EPSILON) - 1.0;
        println!(
            "    {:<32} {:>11.2} / {:>7.2} ms {:>11.2} / {:>7.2} ms {:>+10.1} %{}",
            format!("{n} processes"),
            p.p50_ms,
            p.p99_ms,
            q.p50_ms,
            q.p99_ms,
            ratio * 100.0,
            if ratio <= WITHIN { "" } else { "  (over 10 %)" }
        );
        for (kind, run) in [("private", &private), ("public", &public)] {
            anyhow::ensure!(
                !opts.smoke || run.delivered == run.expected,
                "{kind} room of {n}: {} of {} lines delivered",
                run.delivered,
                run.expected
            );
        }
        report.insert(
            format!("{n} processes, 1 sender 50 msg/s"),
            json!({
                "private": figures(&p, &private),
                "public": figures(&q, &public),
                "private_over_public_p50": ratio,
                "within_10_percent": ratio <= WITHIN,
            }),
        );
    }
    Ok(Value::Object(report))
}

fn figures(l: &Latency, run: &Run) -> Value {
    json!({"p50_ms": l.p50_ms, "p99_ms": l.p99_ms, "max_ms": l.max_ms,
           "delivered": run.delivered, "expected": run.expected})
}

//! Our own lines go out at the pace receivers accept: a burst waits, in order, and arrives
//! whole instead of being cut by every receiver's rate limit.

use std::time::Duration;

use super::*;
use crate::proto::limits::RateLimits;
use crate::proto::sim::Sim;

fn texts(events: &[Event], sent: bool) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MessageSent(line) if sent => Some(line.text.clone()),
            Event::MessageReceived(line) if !sent => Some(line.text.clone()),
            _ => None,
        })
        .collect()
}

fn queued(events: &[Event]) -> Vec<usize> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Queued(n) => Some(*n),
            _ => None,
        })
        .collect()
}

fn pair() -> Sim {
    let mut sim = Sim::new(&["ann", "bob"]);
    sim.connect(0);
    sim.connect(1);
    sim.take_events(0);
    sim.take_events(1);
    sim
}

#[test]
fn a_burst_beyond_the_rate_limit_arrives_whole_and_in_order() {
    let mut sim = pair();
    let lines: Vec<String> = (0..300).map(|i| format!("build log line {i}")).collect();
    for line in &lines {
        sim.input(0, Input::Say(line.clone()));
    }
    let limit = RateLimits::default().messages;
    let burst = pace::own_pace(limit).burst as usize;
    let ann = sim.take_events(0);
    assert_eq!(
        texts(&ann, true).len(),
        burst,
        "only what the pace allows is sent (and reported sent) at once"
    );
    assert_eq!(sim.rooms[0].queued(), 300 - burst);
    assert_eq!(
        queued(&ann).first(),
        Some(&1),
        "waiting is reported as it starts"
    );
    assert_eq!(queued(&ann).last(), Some(&(300 - burst)));

    // 260 lines at 18 a second: about 15 s.
    sim.advance(Duration::from_secs(20));
    let ann_later = sim.take_events(0);
    assert_eq!(queued(&ann_later).last(), Some(&0), "and as it ends");
    let mut sent = texts(&ann, true);
    sent.extend(texts(&ann_later, true));
    assert_eq!(sent, lines, "every line reported sent once, in order");

    let bob = sim.take_events(1);
    assert_eq!(texts(&bob, false), lines, "every line arrived, in order");
    assert!(
        !bob.iter().any(|e| matches!(e, Event::Flooded { .. })),
        "an honest sender is never reported as flooding"
    );
    assert_eq!(sim.rooms[1].stats().rejected.get("rate limited"), None);
}

#[test]
fn the_pace_stays_under_what_receivers_allow() {
    let limit = RateLimits::default().messages;
    let pace = pace::own_pace(limit);
    assert!(pace.per_second < limit.per_second && pace.burst < limit.burst);
    assert!(pace.per_second > 0.0 && pace.burst >= 1);
}

#[test]
fn a_full_queue_while_joined_refuses_with_its_own_reason() {
    let mut sim = pair();
    for i in 0..1100 {
        sim.input(0, Input::Say(format!("line {i}")));
    }
    let ann = sim.take_events(0);
    let refused: Vec<_> = ann
        .iter()
        .filter_map(|e| match e {
            Event::Refused { refusal, attempt } => Some((refusal.clone(), attempt.clone())),
            _ => None,
        })
        .collect();
    let burst = pace::own_pace(RateLimits::default().messages).burst as usize;
    assert_eq!(refused.len(), 1100 - 1000 - burst);
    assert!(
        matches!(&refused[0], (Refusal::Backlogged(1000), Attempt::Say(t)) if *t == format!("line {}", 1000 + burst))
    );
    assert!(
        refused[0].0.to_string().contains("waiting to go out"),
        "{}",
        refused[0].0
    );
}

#[test]
fn lines_typed_before_joining_go_out_paced_too() {
    let mut sim = Sim::new(&["ann", "bob"]);
    sim.connect(0);
    for i in 0..100 {
        sim.input(0, Input::Say(format!("early {i}")));
    }
    assert_eq!(queued(&sim.take_events(0)).last(), Some(&100));
    sim.connect(1);
    sim.advance(Duration::from_secs(10));
    let received = texts(&sim.take_events(1), false);
    assert_eq!(received.len(), 100, "all arrive once a peer is there");
    assert_eq!(received[0], "early 0");
    assert_eq!(queued(&sim.take_events(0)).last(), Some(&0));
}

#[test]
fn big_lines_go_out_at_the_byte_rate_receivers_allow_and_all_arrive() {
    let mut sim = pair();
    // 60 lines of 30 KiB: 1.8 MB, far past the byte burst receivers allow at once.
    let lines: Vec<String> = (0..60)
        .map(|i| format!("{i:02}{}", "x".repeat(30_000)))
        .collect();
    for line in &lines {
        sim.input(0, Input::Say(line.clone()));
    }
    let ann = sim.take_events(0);
    let at_once = texts(&ann, true).len();
    let bytes = pace::own_pace(RateLimits::default().bytes);
    assert!(
        at_once < 60 && at_once <= bytes.burst as usize / 30_000,
        "{at_once} sent at once"
    );
    sim.advance(Duration::from_secs(60));
    let bob = sim.take_events(1);
    assert_eq!(texts(&bob, false), lines, "every line arrived, in order");
    assert_eq!(sim.rooms[1].stats().rejected.get("rate limited"), None);
}

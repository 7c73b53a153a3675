use std::time::Duration;

use super::*;
use crate::proto::sim::Sim;

fn joined_names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MemberJoined(m) => Some(m.display.clone()),
            _ => None,
        })
        .collect()
}

fn received_texts(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MessageReceived(line) => Some(format!("{}: {}", line.author.display, line.text)),
            _ => None,
        })
        .collect()
}

fn left(events: &[Event]) -> Vec<(String, LeaveReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MemberLeft { member, reason } => Some((member.display.clone(), *reason)),
            _ => None,
        })
        .collect()
}

fn three_members() -> Sim {
    let mut sim = Sim::new(&["ann", "bob", "cat"]);
    for i in 0..3 {
        sim.connect(i);
    }
    sim
}

#[test]
fn everybody_learns_everybody_once() {
    let mut sim = three_members();
    let mut ann = joined_names(&sim.take_events(0));
    ann.sort();
    assert_eq!(ann, ["bob", "cat"]);
    let mut cat = joined_names(&sim.take_events(2));
    cat.sort();
    assert_eq!(
        cat,
        ["ann", "bob"],
        "the late joiner hears of everyone already there"
    );
    sim.take_events(1);
    // Heartbeats and repeated introductions never announce anyone twice.
    sim.advance(Duration::from_secs(120));
    for i in 0..3 {
        assert!(joined_names(&sim.take_events(i)).is_empty());
        assert_eq!(sim.rooms[i].members().len(), 3);
    }
}

#[test]
fn who_is_there_is_answered_once_per_newcomer() {
    let mut sim = Sim::new(&["ann", "bob", "cat", "dan"]);
    for i in 0..3 {
        sim.connect(i);
    }
    let before = sim.broadcasts;
    sim.connect(3);
    // dan: AboutMe + WhoIsThere; each of the three answers once.
    assert_eq!(sim.broadcasts - before, 2 + 3);
}

#[test]
fn messages_reach_everyone_and_repeats_are_kept() {
    let mut sim = three_members();
    for i in 0..3 {
        sim.take_events(i);
    }
    sim.input(0, Input::Say("ok".into()));
    sim.input(0, Input::Say("ok".into()));
    for i in [1, 2] {
        assert_eq!(received_texts(&sim.take_events(i)), ["ann: ok", "ann: ok"]);
    }
    let sent = sim.take_events(0);
    assert_eq!(
        sent.iter()
            .filter(|e| matches!(e, Event::MessageSent(_)))
            .count(),
        2
    );
}

#[test]
fn lines_typed_before_joining_are_sent_on_join() {
    let mut sim = Sim::new(&["ann", "bob"]);
    sim.connect(0);
    sim.input(0, Input::Say("anyone?".into()));
    assert_eq!(sim.rooms[0].queued(), 1);
    assert_eq!(sim.broadcasts, 0, "nothing is broadcast before joining");
    sim.connect(1);
    assert_eq!(received_texts(&sim.take_events(1)), ["ann: anyone?"]);
    assert_eq!(sim.rooms[0].queued(), 0);
}

#[test]
fn the_queue_is_bounded() {
    let mut sim = Sim::new(&["ann"]);
    sim.connect(0);
    for i in 0..1000 {
        sim.input(0, Input::Say(format!("line {i}")));
    }
    sim.input(0, Input::Say("one too many".into()));
    assert!(matches!(
        sim.take_events(0).last(),
        Some(Event::Refused { refusal: Refusal::QueueFull(1000), attempt: Attempt::Say(text) }) if text == "one too many"
    ));
}

#[test]
fn oversize_text_is_refused_not_sent() {
    let mut sim = three_members();
    sim.take_events(0);
    let before = sim.broadcasts;
    sim.input(0, Input::Say("x".repeat(40_000)));
    assert_eq!(sim.broadcasts, before);
    match sim.take_events(0).as_slice() {
        [
            Event::Refused {
                refusal:
                    Refusal::TooLong {
                        text_bytes,
                        max_text_bytes,
                    },
                attempt: Attempt::Say(_),
            },
        ] => {
            assert_eq!(*text_bytes, 40_000);
            assert!(*max_text_bytes > 30_000 && *max_text_bytes < 32_768);
            // The limit it names really fits.
            sim.input(0, Input::Say("x".repeat(*max_text_bytes)));
            assert_eq!(sim.broadcasts, before + 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rename_is_announced() {
    let mut sim = three_members();
    for i in 0..3 {
        sim.take_events(i);
    }
    sim.input(1, Input::SetName("robert".into()));
    for i in [0, 2] {
        let events = sim.take_events(i);
        assert!(
            matches!(
                events.as_slice(),
                [Event::MemberRenamed { member, old }] if member.name == "robert" && old == "bob"
            ),
            "{events:?}"
        );
    }
    assert!(matches!(
        sim.take_events(1).as_slice(),
        [Event::MemberRenamed { old, .. }] if old == "bob"
    ));
    sim.input(1, Input::SetName(" \u{1b} ".into()));
    assert!(matches!(
        sim.take_events(1).as_slice(),
        [Event::Refused { refusal: Refusal::InvalidName, attempt: Attempt::SetName(raw) }] if raw == " \u{1b} "
    ));
}

#[test]
fn leave_is_reported_at_once() {
    let mut sim = three_members();
    for i in 0..3 {
        sim.take_events(i);
    }
    sim.input(2, Input::Leave);
    sim.crash(2);
    for i in [0, 1] {
        assert_eq!(
            left(&sim.take_events(i)),
            [("cat".into(), LeaveReason::Left)]
        );
        assert_eq!(sim.rooms[i].members().len(), 2);
    }
    // No second report when its deadline would have come.
    sim.advance(Duration::from_secs(200));
    assert!(left(&sim.take_events(0)).is_empty());
}

#[test]
fn a_vanished_member_times_out_once() {
    let mut sim = three_members();
    for i in 0..3 {
        sim.take_events(i);
    }
    sim.crash(2);
    // Its neighbours report it missing 20-25 s after the link dropped; it has 10 s to answer.
    sim.advance(Duration::from_secs(29));
    assert!(
        left(&sim.take_events(0)).is_empty(),
        "not before the deadline"
    );
    sim.advance(Duration::from_secs(7));
    assert_eq!(
        left(&sim.take_events(0)),
        [("cat".into(), LeaveReason::TimedOut)]
    );
    assert_eq!(
        left(&sim.take_events(1)),
        [("cat".into(), LeaveReason::TimedOut)]
    );
    sim.advance(Duration::from_secs(300));
    assert!(left(&sim.take_events(0)).is_empty());
    assert_eq!(sim.rooms[0].members().len(), 2, "the living stay");
}

#[test]
fn a_member_that_comes_back_joins_again() {
    let mut sim = three_members();
    sim.crash(2);
    sim.advance(Duration::from_secs(60));
    sim.take_events(0);
    sim.connect(2);
    assert_eq!(joined_names(&sim.take_events(0)), ["cat"]);
}

#[test]
fn same_names_get_fingerprints() {
    let mut sim = Sim::new(&["sam", "sam", "kim"]);
    for i in 0..3 {
        sim.connect(i);
    }
    let names: Vec<String> = sim.rooms[2]
        .members()
        .into_iter()
        .map(|m| m.display)
        .collect();
    assert_eq!(names.len(), 3);
    assert!(names.contains(&"kim".to_string()));
    // The first sam met keeps the name; the other is told apart by its key.
    assert!(names.contains(&"sam".to_string()), "{names:?}");
    let sams: Vec<&String> = names.iter().filter(|n| n.starts_with("sam#")).collect();
    assert_eq!(sams.len(), 1, "{names:?}");
}

#[test]
fn hostile_names_are_cleaned() {
    let mut sim = Sim::new(&["ann", "\u{1b}]0;pwned\u{7}eve#1234"]);
    sim.connect(0);
    sim.connect(1);
    let joined = joined_names(&sim.take_events(0));
    assert_eq!(joined, ["]0;pwnedeve1234"]);
}

#[test]
fn replays_and_garbage_are_counted_not_fatal() {
    let mut sim = Sim::new(&["ann", "bob"]);
    sim.connect(0);
    sim.connect(1);
    let now = sim.now();
    let bob = &mut sim.rooms[1];
    let sent = bob.handle(Input::Say("once".into()), now);
    let Some(Output::Broadcast(bytes)) = sent.first().cloned() else {
        panic!("{sent:?}")
    };
    let ann = &mut sim.rooms[0];
    let shown = |outputs: Vec<Output>| {
        outputs
            .into_iter()
            .filter(|o| matches!(o, Output::Event(_)))
            .count()
    };
    assert_eq!(shown(ann.handle(Input::Received(bytes.clone()), now)), 1);
    assert!(ann.handle(Input::Received(bytes), now).is_empty());
    assert!(
        ann.handle(Input::Received(b"garbage".to_vec()), now)
            .is_empty()
    );
    assert_eq!(ann.stats().rejected.get("replay"), Some(&1));
    assert_eq!(ann.stats().rejected.get("truncated"), Some(&1));
}

fn broadcasts(outputs: &[Output]) -> Vec<Vec<u8>> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Broadcast(bytes) => Some(bytes.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn answers_are_spread_over_the_window_and_shared_by_newcomers() {
    let mut sim = Sim::new(&["ann", "bob", "cat", "dan"]);
    sim.connect(0);
    sim.connect(1);
    let now = sim.now();
    let ann = sim.rooms[0].id();
    // cat and dan join through ann; what they broadcast (AboutMe, WhoIsThere) reaches ann and bob.
    let mut asks = Vec::new();
    for i in [2, 3] {
        asks.extend(broadcasts(
            &sim.rooms[i].handle(Input::NeighborUp(ann), now),
        ));
    }
    assert_eq!(asks.len(), 4);
    for member in [0, 1] {
        for bytes in &asks {
            let out = sim.rooms[member].handle(Input::Received(bytes.clone()), now);
            assert!(broadcasts(&out).is_empty(), "nobody answers at once");
        }
    }
    let spread = RoomConfig::default().answer_spread;
    let due: Vec<Instant> = (0..2)
        .map(|m| sim.rooms[m].next_deadline().unwrap())
        .collect();
    assert_ne!(due[0], due[1], "members answer at different points");
    for (member, &at) in due.iter().enumerate() {
        assert!(at > now.at && at < now.at + spread);
        let early = Now {
            at: at - Duration::from_micros(1),
            wall: now.wall,
        };
        assert!(broadcasts(&sim.rooms[member].handle(Input::Tick, early)).is_empty());
        let then = Now { at, wall: now.wall };
        let answers = broadcasts(&sim.rooms[member].handle(Input::Tick, then));
        assert_eq!(answers.len(), 1, "one answer serves both newcomers");
        for i in [2, 3] {
            sim.rooms[i].handle(Input::Received(answers[0].clone()), then);
        }
    }
    for i in [2, 3] {
        assert_eq!(sim.rooms[i].members().len(), 3, "ann, bob and the newcomer");
    }
}

#[test]
fn a_pending_answer_goes_out_before_our_next_line() {
    let mut sim = Sim::new(&["ann", "bob"]);
    sim.connect(0);
    let now = sim.now();
    let (ann, bob) = (sim.rooms[0].id(), sim.rooms[1].id());
    sim.rooms[0].handle(Input::NeighborUp(bob), now);
    let asks = broadcasts(&sim.rooms[1].handle(Input::NeighborUp(ann), now));
    for bytes in asks {
        sim.rooms[0].handle(Input::Received(bytes), now);
    }
    let said = broadcasts(&sim.rooms[0].handle(Input::Say("welcome".into()), now));
    assert_eq!(said.len(), 2, "the answer, then the line");
    let events: Vec<Event> = said
        .into_iter()
        .flat_map(|bytes| sim.rooms[1].handle(Input::Received(bytes), now))
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(received_texts(&events), ["ann: welcome"]);
    assert!(
        sim.rooms[0]
            .next_deadline()
            .is_none_or(|t| t > now.at + Duration::from_secs(1))
    );
}

#[test]
fn after_a_sleep_a_member_reannounces_and_catches_up_from_the_oldest() {
    let mut sim = Sim::new(&["ann", "bob"]);
    let now = sim.now();
    let bob = sim.rooms[1].id();
    // Not in the room: nothing to say, nobody to ask.
    assert!(sim.rooms[0].handle(Input::Resumed, now).is_empty());
    sim.rooms[0].handle(Input::NeighborUp(bob), now);
    let outputs = sim.rooms[0].handle(Input::Resumed, now);
    assert_eq!(broadcasts(&outputs).len(), 2, "AboutMe and WhoIsThere");
    assert!(outputs.iter().any(|o| matches!(
        o,
        Output::RequestHistory {
            page: Page::Oldest,
            ..
        }
    )));
    // Bob, who had timed ann out, hears her again and answers.
    let answers: Vec<Output> = broadcasts(&outputs)
        .into_iter()
        .flat_map(|bytes| sim.rooms[1].handle(Input::Received(bytes), now))
        .collect();
    assert_eq!(joined_names(&events_of(&answers)), ["ann"]);
}

fn events_of(outputs: &[Output]) -> Vec<Event> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Back from an outage, a member's first line can overtake its `AboutMe` (another path
/// through the gossip tree): it still carries the name we knew, not a bare key.
#[test]
fn a_line_that_overtakes_the_returning_members_name_keeps_the_name() {
    let mut sim = three_members();
    sim.crash(2);
    sim.advance(Duration::from_secs(60));
    sim.take_events(0);
    assert_eq!(sim.rooms[0].members().len(), 2, "cat timed out");
    let now = sim.now();
    // Cat is back; what it announces on the way is lost (took another path).
    let ann = sim.rooms[0].id();
    sim.rooms[2].handle(Input::NeighborUp(ann), now);
    let line = broadcasts(&sim.rooms[2].handle(Input::Say("I am back".into()), now));
    let outputs: Vec<Output> = line
        .into_iter()
        .flat_map(|bytes| sim.rooms[0].handle(Input::Received(bytes), now))
        .collect();
    assert_eq!(received_texts(&events_of(&outputs)), ["cat: I am back"]);
}

#[test]
fn a_member_back_soon_after_leaving_is_answered_again() {
    let mut sim = three_members();
    sim.input(2, Input::Leave);
    sim.crash(2);
    sim.take_events(2);
    // Restarted and back within the answer interval.
    let topic = sim.rooms[2].topic();
    let secret = SecretKey::from_bytes(&[3; 32]);
    sim.rooms[2] = Room::new(secret, topic, "cat".into(), 9, RoomConfig::default());
    sim.advance(Duration::from_secs(1));
    sim.connect(2);
    let mut names = joined_names(&sim.take_events(2));
    names.sort();
    assert_eq!(names, ["ann", "bob"]);
}

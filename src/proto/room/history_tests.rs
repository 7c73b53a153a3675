//! Catch-up scenarios on the simulator: late joiners get what was said, from envelopes they
//! verify themselves.

use std::time::Duration;

use super::*;
use crate::proto::SecretKey;
use crate::proto::sim::Sim;
use crate::proto::wire::{self, MessageBody, Payload};

fn history_lines(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MessageReceived(line) if line.history => {
                Some(format!("{}: {}", line.author.display, line.text))
            }
            _ => None,
        })
        .collect()
}

/// ann and bob talk; bob leaves; cat joins late.
fn talk_then_late_joiner() -> Sim {
    let mut sim = Sim::new(&["ann", "bob", "cat"]);
    sim.connect(0);
    sim.connect(1);
    sim.input(0, Input::Say("morning".into()));
    sim.advance(Duration::from_secs(1));
    sim.input(1, Input::Say("build is green".into()));
    sim.advance(Duration::from_secs(1));
    sim.input(1, Input::Leave);
    sim.crash(1);
    sim.advance(Duration::from_secs(1));
    sim.connect(2);
    sim
}

#[test]
fn a_late_joiner_catches_up_in_order_with_names() {
    let mut sim = talk_then_late_joiner();
    let events = sim.take_events(2);
    // bob is gone, but his own signed AboutMe names him.
    assert_eq!(
        history_lines(&events),
        ["ann: morning", "bob: build is green"]
    );
    let joined: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::MemberJoined(_)))
        .collect();
    assert_eq!(
        joined.len(),
        1,
        "history does not make bob join: {joined:?}"
    );
    assert_eq!(sim.rooms[2].stats().history_accepted, 2);
}

#[test]
fn history_already_seen_is_not_shown_twice() {
    let mut sim = Sim::new(&["ann", "bob"]);
    sim.connect(0);
    sim.connect(1);
    sim.input(0, Input::Say("hi".into()));
    sim.take_events(1);
    // bob asks again (as after Lagged): nothing new to show.
    sim.input(1, Input::Lagged);
    let events = sim.take_events(1);
    assert!(matches!(events.as_slice(), [Event::Lagged]), "{events:?}");
}

#[test]
fn forged_and_altered_history_is_rejected() {
    let mut sim = Sim::new(&["ann", "bob", "cat"]);
    sim.connect(0);
    sim.connect(1);
    sim.input(1, Input::Say("pay 5 to ann".into()));
    let good = sim.rooms[0].history_answer(UnixMillis(0), 100, Page::Newest, sim.now().wall);
    let real = good.iter().map(|e| e.to_vec()).collect::<Vec<_>>();
    // Altered: one byte of text changed.
    let mut altered = real.last().unwrap().clone();
    let at = altered.len() - 5;
    altered[at] ^= 0x20;
    // Forged: mallory signs a message claiming to be bob.
    let bob = sim.rooms[1].id();
    let mallory = SecretKey::from_bytes(&[66; 32]);
    let forged = wire::seal(
        &mallory,
        &sim.rooms[0].topic(),
        &Payload {
            nonce: 1,
            sent: sim.now().wall.0,
            body: MessageBody::Message {
                from: bob,
                text: "pay 500 to mallory".into(),
                action: false,
                file: None,
                reply_to: None,
                change: None,
            },
        },
    )
    .unwrap();
    let now = sim.now();
    let cat = &mut sim.rooms[2];
    let outputs = cat.handle(
        Input::History(vec![altered, forged, b"\x01garbage".to_vec()]),
        now,
    );
    assert!(outputs.is_empty(), "{outputs:?}");
    assert_eq!(cat.stats().rejected.get("bad_signature"), Some(&1));
    assert_eq!(cat.stats().rejected.get("from_mismatch"), Some(&1));
    assert_eq!(cat.stats().rejected.get("truncated"), Some(&1));
    // The genuine answer still works.
    let outputs = cat.handle(Input::History(real), now);
    let shown: Vec<Event> = outputs
        .into_iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(history_lines(&shown), ["bob: pay 5 to ann"]);
}

#[test]
fn joining_and_lagging_ask_for_history_from_before_the_newest_message() {
    let mut sim = Sim::new(&["ann", "bob"]);
    sim.connect(0);
    let now = sim.now();
    let bob_id = sim.rooms[1].id();
    let outputs = sim.rooms[0].handle(Input::NeighborUp(bob_id), now);
    let oldest = sim.rooms[0].history_window().oldest(now.wall);
    assert!(
        outputs.contains(&Output::RequestHistory {
            since: oldest,
            page: Page::Newest
        }),
        "{outputs:?}"
    );
    let outputs = sim.rooms[0].handle(Input::Lagged, now);
    assert!(
        outputs.iter().any(|o| matches!(
            o,
            Output::RequestHistory {
                page: Page::Oldest,
                ..
            }
        )),
        "after Lagged, page through everything from the gap: {outputs:?}"
    );
}

#[test]
fn what_is_said_is_persisted_before_it_is_shown() {
    let mut sim = Sim::new(&["ann", "bob"]);
    sim.connect(0);
    sim.connect(1);
    let now = sim.now();
    let outputs = sim.rooms[0].handle(Input::Say("keep me".into()), now);
    let persist = outputs
        .iter()
        .position(|o| matches!(o, Output::Persist(Record::Message(_))));
    let show = outputs
        .iter()
        .position(|o| matches!(o, Output::Event(Event::MessageSent(_))));
    assert!(persist.unwrap() < show.unwrap());
}

/// A neighbour answering our catch-up first can backdate a look-alike's `AboutMe`: the name
/// it claims is shown, but not pinned to it; the key that says the name live pins it.
#[test]
fn a_name_learned_from_history_is_pinned_only_by_live_presence() {
    use super::hostile_tests::{about, joined_room, line, secret};
    let (mut room, now) = joined_room();
    let (mallory, alice) = (secret(66), secret(1));
    let backdated = UnixMillis(now.wall.0 - 3_600_000);
    let answer = vec![
        about(&mallory, "alice", backdated),
        line(&mallory, "pay mallory", UnixMillis(backdated.0 + 1), 1),
    ];
    let outputs = room.handle(Input::History(answer), now);
    assert!(
        !outputs
            .iter()
            .any(|o| matches!(o, Output::Persist(Record::Pin { .. }))),
        "history pins nothing: {outputs:?}"
    );
    // The real alice speaks up live: the name is hers, the look-alike gets a fingerprint.
    let outputs = room.handle(Input::Received(about(&alice, "alice", now.wall)), now);
    assert!(
        outputs.iter().any(|o| matches!(
            o,
            Output::Persist(Record::Pin { id, .. }) if *id == alice.public()
        )),
        "{outputs:?}"
    );
    let members = room.members();
    let shown = |key: &SecretKey| {
        room.members
            .info_or_stranger(&key.public())
            .display
            .to_string()
    };
    assert_eq!(shown(&alice), "alice", "{members:?}");
    assert!(shown(&mallory).starts_with("alice#"), "{}", shown(&mallory));
}

/// A key first seen in history whose name is free pins it once it is here live.
#[test]
fn a_history_name_is_pinned_when_its_key_comes_live() {
    use super::hostile_tests::{about, joined_room, secret};
    let (mut room, now) = joined_room();
    let bob = secret(2);
    let earlier = UnixMillis(now.wall.0 - 60_000);
    room.handle(Input::History(vec![about(&bob, "bob", earlier)]), now);
    let outputs = room.handle(Input::Received(about(&bob, "bob", now.wall)), now);
    assert!(
        outputs.iter().any(|o| matches!(
            o,
            Output::Persist(Record::Pin { id, .. }) if *id == bob.public()
        )),
        "{outputs:?}"
    );
}

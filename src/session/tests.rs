//! The session handle over loopback: commands and their answers, events in order, readiness,
//! failure, leaving, and a store that stalls while the network goes on.

use std::time::Duration;

use super::*;
use crate::net::NetConfig;
use crate::proto::SecretKey;
use crate::proto::room::{Attempt, Refusal};
use crate::proto::ticket::Ticket;
use crate::store::{Store, StoreThread};

/// Generous: only a broken build waits this long.
const WAIT: Duration = Duration::from_secs(20);
/// Events a failed [`Member::expect`] shows, at most (the last ones).
const SKIPPED_SHOWN: usize = 20;

async fn node() -> Node {
    node_as(SecretKey::generate()).await
}

async fn node_as(secret: SecretKey) -> Node {
    Node::spawn(&NetConfig::loopback(secret)).await.unwrap()
}

pub(super) fn spec(name: &str, ticket: Option<&str>) -> SessionSpec {
    let entry = match ticket {
        Some(ticket) => {
            let ticket: Ticket = ticket.parse().unwrap();
            Entry {
                topic: Some(ticket.topic),
                peers: ticket.peers,
                label: None,
                lan: None,
                room_name: None,
            }
        }
        None => Entry::default(),
    };
    SessionSpec {
        name: name.into(),
        entry,
        history: Default::default(),
        limits: Default::default(),
        join_timeout: ticket.map(|_| WAIT),
        private: None,
    }
}

pub(super) struct Member {
    pub(super) node: Node,
    pub(super) handle: SessionHandle,
    pub(super) events: Events,
}

impl Member {
    async fn start(name: &str, ticket: Option<&str>, store: Option<StoreHandle>) -> Self {
        Self::start_as(SecretKey::generate(), name, ticket, store).await
    }

    /// A member with a key of our choosing: the same member again after a restart.
    pub(super) async fn start_as(
        secret: SecretKey,
        name: &str,
        ticket: Option<&str>,
        store: Option<StoreHandle>,
    ) -> Self {
        let node = node_as(secret).await;
        let (handle, events) = spawn(&node, store, spec(name, ticket)).await.unwrap();
        Self {
            node,
            handle,
            events,
        }
    }

    /// The next event that `pred` picks, skipping others.
    pub(super) async fn expect(
        &mut self,
        what: &str,
        pred: impl Fn(&SessionEvent) -> bool,
    ) -> SessionEvent {
        // What came instead, so that a wait that fails says what the session did meanwhile.
        let mut skipped = std::collections::VecDeque::new();
        let wait = async {
            loop {
                match self.events.recv().await {
                    Some(event) if pred(&event) => return event,
                    Some(event) => {
                        if skipped.len() == SKIPPED_SHOWN {
                            skipped.pop_front();
                        }
                        skipped.push_back(event);
                    }
                    None => panic!("the stream ended before {what}; before that: {skipped:?}"),
                }
            }
        };
        match tokio::time::timeout(WAIT, wait).await {
            Ok(event) => event,
            Err(_) => panic!("no {what} in {WAIT:?}; the last events instead: {skipped:?}"),
        }
    }

    pub(super) async fn expect_text(&mut self, text: &str) -> SessionEvent {
        self.expect(
            text,
            |e| matches!(e, SessionEvent::Room(Event::MessageReceived(l)) if l.text == text),
        )
        .await
    }

    pub(super) async fn ticket(&mut self) -> String {
        match self
            .expect("ready", |e| matches!(e, SessionEvent::Ready { .. }))
            .await
        {
            SessionEvent::Ready { ticket, .. } => ticket,
            _ => unreachable!(),
        }
    }

    pub(super) async fn close(mut self) {
        self.handle.leave().await.unwrap();
        while self.events.recv().await.is_some() {}
        self.node.shutdown(Duration::from_millis(250)).await;
    }
}

pub(super) fn joined(name: &'static str) -> impl Fn(&SessionEvent) -> bool {
    move |e| matches!(e, SessionEvent::Room(Event::MemberJoined(m)) if m.name == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handle_commands_a_room_and_events_come_in_order() {
    let mut ann = Member::start("ann", None, None).await;
    let ticket = ann.ticket().await;
    // Ready comes first, then the member list.
    assert!(matches!(
        ann.events.recv().await,
        Some(SessionEvent::Members(m)) if m.len() == 1
    ));
    let mut bob = Member::start("bob", Some(&ticket), None).await;
    bob.ticket().await;
    ann.expect("bob joined", joined("bob")).await;
    let members = ann
        .expect(
            "the list with bob",
            |e| matches!(e, SessionEvent::Members(m) if m.len() == 2),
        )
        .await;
    assert!(matches!(members, SessionEvent::Members(m) if m.iter().any(|m| m.name == "bob")));

    bob.handle.say("hello ann".into()).await.unwrap();
    ann.expect_text("hello ann").await;
    bob.handle.act("waves".into()).await.unwrap();
    let wave = ann.expect_text("waves").await;
    assert!(matches!(wave, SessionEvent::Room(Event::MessageReceived(l)) if l.action));

    // Answers come on their own channel, never guessed from the event stream.
    let names: Vec<String> = ann
        .handle
        .members()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["ann", "bob"]);
    let fresh: Ticket = bob.handle.ticket().await.unwrap().parse().unwrap();
    assert_eq!(fresh.topic, ann.handle.topic());
    assert_eq!(fresh.peers[0].id, bob.handle.id());
    let status = bob.handle.status().await.unwrap();
    assert!(status.joined && status.neighbors == 1 && status.queued == 0);
    bob.handle.drained().await.unwrap();

    // A refused rename carries what was asked.
    bob.handle.rename("#".into()).await.unwrap();
    let refused = bob
        .expect("the refusal", |e| {
            matches!(e, SessionEvent::Room(Event::Refused { .. }))
        })
        .await;
    assert_eq!(
        refused,
        SessionEvent::Room(Event::refused(
            Refusal::InvalidName,
            Attempt::SetName("#".into())
        ))
    );
    bob.handle.rename("robert".into()).await.unwrap();
    ann.expect("the rename", |e| {
        matches!(e, SessionEvent::Room(Event::MemberRenamed { member, old }) if member.name == "robert" && old == "bob")
    })
    .await;

    // Leaving: the others hear it; the handle then reports the session gone.
    let handle = bob.handle.clone();
    bob.close().await;
    ann.expect("robert left", |e| {
        matches!(e, SessionEvent::Room(Event::MemberLeft { member, .. }) if member.name == "robert")
    })
    .await;
    assert_eq!(handle.say("anyone?".into()).await, Err(SessionGone));
    ann.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_every_handle_leaves_the_room() {
    let mut ann = Member::start("ann", None, None).await;
    let ticket = ann.ticket().await;
    let bob = Member::start("bob", Some(&ticket), None).await;
    ann.expect("bob joined", joined("bob")).await;
    drop(bob.handle);
    ann.expect("bob left", |e| {
        matches!(e, SessionEvent::Room(Event::MemberLeft { member, .. }) if member.name == "bob")
    })
    .await;
    let mut events = bob.events;
    while events.recv().await.is_some() {}
    ann.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_nobody_answers_fails_and_ends_the_stream() {
    // A ticket for a node that is gone: its address no longer answers.
    let gone = node().await;
    let ticket = Ticket::new(TopicId::from_bytes([3; 32]), vec![gone.addr()]).to_string();
    gone.shutdown(Duration::from_millis(250)).await;
    let node = node().await;
    let mut spec = spec("bob", Some(&ticket));
    spec.join_timeout = Some(Duration::from_millis(300));
    let (handle, mut events) = spawn(&node, None, spec).await.unwrap();
    match tokio::time::timeout(WAIT, events.recv()).await.unwrap() {
        Some(SessionEvent::Failed(reason)) => {
            assert!(reason.contains("no peer answered"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(events.recv().await.is_none());
    assert_eq!(handle.status().await, Err(SessionGone));
}

/// While bob's store is stuck (as a slow disk would be), bob's network side goes on: what
/// others say reaches everyone through the room and bob shows it at once (saved a moment
/// later, off the path to the screen); bob's own line goes out at once and is shown once it
/// is saved, so nothing he wrote is shown that a crash could lose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_delays_nothing_but_the_display_of_our_own_lines() {
    let store = StoreThread::spawn(Store::in_memory().unwrap()).unwrap();
    let mut ann = Member::start("ann", None, None).await;
    let ticket = ann.ticket().await;
    let mut bob = Member::start("bob", Some(&ticket), Some(store.handle())).await;
    let bob_ticket = bob.ticket().await;
    let mut cat = Member::start("cat", Some(&bob_ticket), None).await;
    cat.ticket().await;
    for member in [&mut ann, &mut bob, &mut cat] {
        let all = |e: &SessionEvent| matches!(e, SessionEvent::Members(m) if m.len() == 3);
        member.expect("all three", all).await;
    }
    bob.handle.say("before".into()).await.unwrap();
    ann.expect_text("before").await;
    assert_eq!(bob.handle.status().await.unwrap().messages, 1);

    let release = store.handle().stall();
    ann.handle.say("during".into()).await.unwrap();
    cat.expect_text("during").await;
    // Ann's line is shown while bob's store is stuck.
    bob.expect_text("during").await;
    bob.handle.say("mine, during".into()).await.unwrap();
    ann.expect_text("mine, during").await;
    cat.expect_text("mine, during").await;
    // Bob's own line went out, but he has not shown it: it is not saved.
    while let Some(event) = bob.events.try_recv() {
        assert!(
            !matches!(&event, SessionEvent::Room(Event::MessageSent(l)) if l.text == "mine, during"),
            "shown before saved"
        );
    }
    drop(release);
    let mine = bob
        .expect("bob's own line, once saved", |e| {
            matches!(e, SessionEvent::Room(Event::MessageSent(_)))
        })
        .await;
    assert!(matches!(mine, SessionEvent::Room(Event::MessageSent(l)) if l.text == "mine, during"));
    // Both are on disk.
    let topic = bob.handle.topic();
    let count = || {
        let handle = store.handle();
        async move {
            handle
                .call(move |s| s.message_count(topic))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while count().await < 3 {
        assert!(tokio::time::Instant::now() < deadline, "not all saved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for member in [ann, bob, cat] {
        member.close().await;
    }
    store.close(WAIT).await;
}

/// After `Lagged`, a member pages through everything since a little before its newest
/// message, served from the other member's disk, until nothing is missing: far more than the
/// 1,000 a newcomer gets or a room keeps in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_lagged_every_stored_line_arrives_page_by_page() {
    use crate::proto::room::{ChatLine, Record};
    use crate::proto::wire::{self, MessageBody, Payload};
    use crate::proto::{MessageId, UnixMillis};

    const LINES: u64 = 5000;
    let topic = TopicId::from_bytes(rand::random());
    let cat = SecretKey::generate();
    let store = StoreThread::spawn(Store::in_memory().unwrap()).unwrap();
    let now = UnixMillis::now().0;
    let records: Vec<Record> = (0..LINES)
        .map(|i| {
            let payload = Payload {
                nonce: i,
                sent: now - 60_000 + i,
                body: MessageBody::Message {
                    from: cat.public(),
                    text: format!("line {i}"),
                    action: false,
                    file: None,
                    reply_to: None,
                    change: None,
                },
            };
            let envelope = wire::seal(&cat, &topic, &payload).unwrap();
            Record::Message(ChatLine {
                id: MessageId::of(&envelope),
                author: MemberInfo {
                    id: cat.public(),
                    name: "cat".into(),
                    display: "cat".into(),
                },
                text: format!("line {i}"),
                action: false,
                sent: UnixMillis(payload.sent),
                history: false,
                envelope: envelope.into(),
                file: None,
                reply_to: None,
                change: None,
            })
        })
        .collect();
    let (done, mut committed) = tokio::sync::mpsc::unbounded_channel();
    store
        .handle()
        .save(topic, records, UnixMillis(now), 1, &done, false)
        .unwrap();
    committed.recv().await.unwrap();

    let node_a = node().await;
    let mut ann_spec = spec("ann", None);
    ann_spec.entry.topic = Some(topic);
    let (ann, mut ann_events) = spawn(&node_a, Some(store.handle()), ann_spec)
        .await
        .unwrap();
    let ticket = loop {
        if let Some(SessionEvent::Ready { ticket, .. }) = ann_events.recv().await {
            break ticket;
        }
    };
    let mut bob = Member::start("bob", Some(&ticket), None).await;
    let mut seen = std::collections::HashSet::new();
    let mut lagged = false;
    let all = async {
        while (seen.len() as u64) < LINES {
            match bob.events.recv().await {
                Some(SessionEvent::Room(Event::MessageReceived(line))) => {
                    assert!(line.history);
                    assert!(seen.insert(line.text), "shown twice");
                }
                Some(SessionEvent::Ready { .. }) => {}
                Some(_) => {}
                None => panic!("bob's session ended"),
            }
            // Once the newcomer's page is in, act as if gossip dropped messages.
            if !lagged && seen.len() >= 1000 {
                lagged = true;
                bob.handle.lagged().await.unwrap();
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .unwrap_or_else(|_| panic!("only {} of {LINES} arrived", seen.len()));
    assert!(lagged);
    // Nothing more comes: a line said now is the next message bob shows.
    ann.say("done".into()).await.unwrap();
    let next = bob
        .expect("the next message", |e| {
            matches!(e, SessionEvent::Room(Event::MessageReceived(_)))
        })
        .await;
    assert!(
        matches!(&next, SessionEvent::Room(Event::MessageReceived(l)) if l.text == "done"),
        "{next:?}"
    );
    bob.close().await;
    ann.leave().await.unwrap();
    while ann_events.recv().await.is_some() {}
    node_a.shutdown(Duration::from_millis(250)).await;
    store.close(WAIT).await;
}

/// One node, two rooms: each session sends and receives its own room's lines only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_share_one_node_and_stay_apart() {
    let shared = node().await;
    let (red, mut red_events) = spawn(&shared, None, spec("ann", None)).await.unwrap();
    let (blue, mut blue_events) = spawn(&shared, None, spec("ann", None)).await.unwrap();
    let ticket_of = |event: Option<SessionEvent>| match event {
        Some(SessionEvent::Ready { ticket, .. }) => ticket,
        other => panic!("{other:?}"),
    };
    let red_ticket = ticket_of(red_events.recv().await);
    let blue_ticket = ticket_of(blue_events.recv().await);
    assert_ne!(red.topic(), blue.topic());
    red.say("only for red".into()).await.unwrap();
    blue.say("only for blue".into()).await.unwrap();

    // Lines said before anyone came go out once someone joins, each to its own room.
    let mut bob = Member::start("bob", Some(&red_ticket), None).await;
    let mut cat = Member::start("cat", Some(&blue_ticket), None).await;
    bob.expect_text("only for red").await;
    cat.expect_text("only for blue").await;
    red.say("red again".into()).await.unwrap();
    blue.say("blue again".into()).await.unwrap();
    for (member, mine, theirs) in [
        (&mut bob, "red again", "blue"),
        (&mut cat, "blue again", "red"),
    ] {
        let next = member
            .expect(mine, |e| {
                matches!(e, SessionEvent::Room(Event::MessageReceived(_)))
            })
            .await;
        match next {
            SessionEvent::Room(Event::MessageReceived(l)) => {
                assert_eq!(l.text, mine, "no line of the {theirs} room");
            }
            _ => unreachable!(),
        }
    }
    for member in [bob, cat] {
        member.close().await;
    }
    for (handle, mut events) in [(red, red_events), (blue, blue_events)] {
        handle.leave().await.unwrap();
        while events.recv().await.is_some() {}
    }
    shared.shutdown(Duration::from_millis(250)).await;
}

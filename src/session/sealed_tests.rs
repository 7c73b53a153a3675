//! Sessions of a private room over loopback: members holding the epoch's key talk through
//! sealed envelopes; a parlor on the same topic without the key (a public session there, the
//! way an older parlor or an outsider who learnt the topic would be) is read by nobody.

use super::tests::{Member, joined, spec};
use super::*;
use crate::net::NetConfig;
use crate::proto::SecretKey;
use crate::proto::seal::EpochKey;
use crate::proto::state::{Action, HistoryVisibility, OpLog, RoomId};
use crate::proto::ticket::Ticket;

/// Generous: only a broken build waits this long.
const WAIT: Duration = Duration::from_secs(20);

async fn start(spec: SessionSpec) -> Member {
    start_as(SecretKey::generate(), spec).await
}

pub(super) async fn start_as(secret: SecretKey, spec: SessionSpec) -> Member {
    let node = Node::spawn(&NetConfig::loopback(secret)).await.unwrap();
    let (handle, events) = spawn(&node, None, spec).await.unwrap();
    Member {
        node,
        handle,
        events,
    }
}

pub(super) fn private(name: &str, ticket: Option<&str>, room: &PrivateSpec) -> SessionSpec {
    SessionSpec {
        private: Some(room.clone()),
        ..spec(name, ticket)
    }
}

/// Anything of eve's a member would show: her lines or her joining.
fn from_eve(event: &SessionEvent) -> bool {
    match event {
        SessionEvent::Room(Event::MessageReceived(line)) => line.text.starts_with("eve"),
        SessionEvent::Room(Event::MemberJoined(member)) => member.name == "eve",
        _ => false,
    }
}

/// A private room's first epoch, owned by the first of `members`, the others added by it.
pub(super) fn new_room(members: &[&SecretKey]) -> PrivateSpec {
    let owner = members[0];
    let room = RoomId::generate();
    let mut log = OpLog::create(owner, room, "sealed", "", HistoryVisibility::Shared).unwrap();
    for member in &members[1..] {
        let op = log
            .author(
                owner,
                Action::Add {
                    who: member.public(),
                },
            )
            .unwrap();
        log.insert(op).unwrap();
    }
    PrivateSpec {
        epoch_op: Some(log.fold().state.epoch_op()),
        log,
        key: EpochKey::generate(),
        epoch: 0,
    }
}

/// A ticket to the epoch's topic through `member` (what a member's address book gives; the
/// ticket's topic is not used by a private session, its peers are).
pub(super) fn ticket_via(member: &Member, room: &PrivateSpec) -> String {
    Ticket::new(room.topic(), vec![member.node.addr()]).to_string()
}

/// What `read` gives once `done` holds for it (bounded, polled): the positive sign that what
/// was sent has arrived, instead of a sleep.
pub(super) async fn when<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    read: impl Fn() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let wait = async {
        loop {
            if let Some(value) = read().await
                && done(&value)
            {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .unwrap_or_else(|_| panic!("never {what}"))
}

/// `member`'s status once `done` holds for it.
async fn status_when(member: &Member, what: &str, done: impl Fn(&Status) -> bool) -> Status {
    when(what, || async { member.handle.status().await.ok() }, done).await
}

/// Every event up to the line `marker`, which must come.
pub(super) async fn events_until(member: &mut Member, marker: &str) -> Vec<SessionEvent> {
    let mut seen = Vec::new();
    let wait = async {
        loop {
            match member.events.recv().await {
                Some(SessionEvent::Room(Event::MessageReceived(line))) if line.text == marker => {
                    return;
                }
                Some(event) => seen.push(event),
                None => panic!("the stream ended before {marker}"),
            }
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .unwrap_or_else(|_| panic!("no {marker}"));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_talk_sealed_and_plaintext_on_the_topic_is_dropped_unread() {
    let (ann_key, bob_key) = (SecretKey::generate(), SecretKey::generate());
    let room = new_room(&[&ann_key, &bob_key]);
    let mut ann = start_as(ann_key, private("ann", None, &room)).await;
    let invite = ann.ticket().await;
    assert!(
        invite.parse::<crate::proto::invite::Invite>().is_ok(),
        "{invite}"
    );
    // Envelopes are signed for the room's lasting topic; the traffic is on the epoch's.
    assert_eq!(ann.handle.topic(), room.room_topic());
    assert_ne!(room.topic(), room.room_topic());
    let ticket = ticket_via(&ann, &room);

    let mut bob = start_as(bob_key, private("bob", Some(&ticket), &room)).await;
    bob.ticket().await;
    // Bob's presence came sealed and opened: ann knows him.
    ann.expect("bob joined", joined("bob")).await;
    bob.handle.say("hi ann".into()).await.unwrap();
    ann.expect_text("hi ann").await;
    ann.handle.say("hi bob".into()).await.unwrap();
    bob.expect_text("hi bob").await;
    assert_eq!(ann.handle.status().await.unwrap().unopened, 0);
    assert_eq!(bob.handle.status().await.unwrap().unopened, 0);

    // Eve reaches the topic (a public session there, dialing ann) and talks in plaintext.
    let mut eve = start(spec("eve", Some(&ticket))).await;
    eve.ticket().await;
    for n in 0..3 {
        eve.handle.say(format!("eve {n}")).await.unwrap();
    }
    eve.handle.drained().await.unwrap();
    // Eve's presence and her three lines, at least, reached ann and were dropped.
    let before_marker = status_when(&ann, "4 dropped", |s| s.unopened >= 4)
        .await
        .unopened;
    bob.handle.say("after eve".into()).await.unwrap();
    let shown = events_until(&mut ann, "after eve").await;
    assert!(!shown.iter().any(from_eve), "{shown:?}");
    ann.handle.say("after eve too".into()).await.unwrap();
    let shown = events_until(&mut bob, "after eve too").await;
    assert!(!shown.iter().any(from_eve), "{shown:?}");
    let members = ann.handle.members().await.unwrap();
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(ann.handle.status().await.unwrap().unopened >= before_marker);

    // Eve reads nothing: what the members sent reached her and failed her checks.
    let status = status_when(&eve, "a rejection", |s| {
        s.stats.rejected.values().sum::<u64>() > 0
    })
    .await;
    assert_eq!(status.unopened, 0, "a public session opens nothing");
    while let Some(event) = eve.events.try_recv() {
        assert!(
            !matches!(
                &event,
                SessionEvent::Room(Event::MessageReceived(_))
                    | SessionEvent::Room(Event::MemberJoined(_))
            ),
            "{event:?}"
        );
    }

    eve.close().await;
    bob.close().await;
    ann.close().await;
}

/// The longest line `member` may say, from the refusal of one that is too long.
async fn longest_line(member: &mut Member) -> usize {
    let too_long = "x".repeat(crate::proto::wire::MAX_ENVELOPE_SIZE);
    member.handle.say(too_long).await.unwrap();
    let refused = member
        .expect("the refusal", |e| {
            matches!(e, SessionEvent::Room(Event::Refused { .. }))
        })
        .await;
    match refused {
        SessionEvent::Room(Event::Refused {
            refusal: crate::proto::room::Refusal::TooLong { max_text_bytes, .. },
            ..
        }) => max_text_bytes,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_sealed_line_still_fits_a_gossip_message() {
    let (ann_key, bob_key) = (SecretKey::generate(), SecretKey::generate());
    let room = new_room(&[&ann_key, &bob_key]);
    let mut ann = start_as(ann_key, private("ann", None, &room)).await;
    ann.ticket().await;
    let ticket = ticket_via(&ann, &room);
    let mut public = start(spec("pub", None)).await;
    public.ticket().await;
    // The limit is estimated from one refused envelope, whose numbers (nonce, time) vary in
    // length by a few digits: the private room's is the seal's overhead lower, give or take.
    let longest = longest_line(&mut ann).await;
    let lower = longest_line(&mut public).await - longest;
    let overhead = crate::proto::seal::SEAL_OVERHEAD;
    assert!((overhead - 4..=overhead + 4).contains(&lower), "{lower}");
    let mut bob = start_as(bob_key, private("bob", Some(&ticket), &room)).await;
    bob.ticket().await;
    ann.expect("bob joined", joined("bob")).await;
    // Near the limit (those digits again): sealed, it still goes through gossip.
    let line = "y".repeat(longest - 24);
    ann.handle.say(line.clone()).await.unwrap();
    bob.expect_text(&line).await;
    for member in [bob, ann, public] {
        member.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_member_catches_up_through_sealed_answers() {
    let keys = [
        SecretKey::generate(),
        SecretKey::generate(),
        SecretKey::generate(),
    ];
    let room = new_room(&[&keys[0], &keys[1], &keys[2]]);
    let [ann_key, bob_key, carl_key] = keys;
    let mut ann = start_as(ann_key, private("ann", None, &room)).await;
    ann.ticket().await;
    let ticket = ticket_via(&ann, &room);
    let mut bob = start_as(bob_key, private("bob", Some(&ticket), &room)).await;
    bob.ticket().await;
    ann.expect("bob joined", joined("bob")).await;
    bob.handle.say("said before carl".into()).await.unwrap();
    ann.expect_text("said before carl").await;

    // Carl asks ann or bob for history and the member list: both come sealed and open.
    let mut carl = start_as(carl_key, private("carl", Some(&ticket), &room)).await;
    carl.ticket().await;
    let line = carl.expect_text("said before carl").await;
    assert!(matches!(line, SessionEvent::Room(Event::MessageReceived(l)) if l.history));
    status_when(&carl, "history accepted", |s| s.stats.history_accepted > 0).await;
    for member in [&ann, &bob, &carl] {
        assert_eq!(member.handle.status().await.unwrap().unopened, 0);
    }
    for member in [carl, bob, ann] {
        member.close().await;
    }
}

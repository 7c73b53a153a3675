//! Direct messages between real nodes over loopback (127.0.0.1, no relays): privacy and
//! order, delivery after the addressee (and the sender) restart, strangers, replays, and
//! hostile bytes. Negative checks wait for a marker sent after what must not arrive.

use std::time::Duration;

use super::*;
use crate::net::NetConfig;
use crate::proto::SecretKey;
use crate::proto::UnixMillis;
use crate::proto::direct::{Ack, Draft, seal_direct};
use crate::store::{Store, StoreThread};

/// Generous: only a broken build waits this long.
const WAIT: Duration = Duration::from_secs(20);

pub(super) struct Peer {
    pub(super) node: Node,
    pub(super) dm: DirectHandle,
    events: DirectEvents,
}

impl Peer {
    pub(super) async fn start(secret: SecretKey, store: Option<StoreHandle>) -> Self {
        let node = Node::spawn(&NetConfig::loopback(secret)).await.unwrap();
        let (dm, events) = spawn_direct(&node, store, "peer".into()).await.unwrap();
        Self { node, dm, events }
    }

    pub(super) async fn new() -> Self {
        Self::start(SecretKey::generate(), None).await
    }

    pub(super) fn id(&self) -> EndpointId {
        self.node.id()
    }

    /// The next event `pick` takes, skipping others (all returned, in order, for checks).
    pub(super) async fn until<T>(
        &mut self,
        mut pick: impl FnMut(&DirectEvent) -> Option<T>,
    ) -> (T, Vec<DirectEvent>) {
        let mut skipped = Vec::new();
        let found = tokio::time::timeout(WAIT, async {
            loop {
                let event = self.events.recv().await.expect("events ended");
                if let Some(found) = pick(&event) {
                    return found;
                }
                skipped.push(event);
            }
        })
        .await
        .expect("no such event in time");
        (found, skipped)
    }

    /// The next message received from `from`.
    pub(super) async fn received_from(
        &mut self,
        from: EndpointId,
    ) -> (DirectMessage, Vec<DirectEvent>) {
        self.until(|e| match e {
            DirectEvent::Message(m) if m.from == from && m.state == DmState::Received => {
                Some(m.clone())
            }
            _ => None,
        })
        .await
    }

    /// Everything we heard before a marker `from` sends us now (a negative check waits for
    /// it, never for a fixed time).
    pub(super) async fn before_marker_from(&mut self, from: &Peer) -> Vec<DirectEvent> {
        let marker = from
            .dm
            .send(self.id(), "marker".into(), false)
            .await
            .unwrap();
        let (got, before) = self.received_from(from.id()).await;
        assert_eq!(got.id, marker);
        before
    }

    pub(super) async fn delivered(&mut self, id: MessageId) {
        self.until(|e| {
            matches!(e, DirectEvent::Status { id: got, state: DmState::Delivered, .. } if *got == id)
                .then_some(())
        })
        .await;
    }
}

/// Both know each other's address and share a room.
pub(super) fn introduce(a: &Peer, b: &Peer) {
    a.node.learn(b.node.addr());
    b.node.learn(a.node.addr());
    a.dm.allow([b.id()]);
    b.dm.allow([a.id()]);
}

fn texts(messages: &[DirectMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

#[tokio::test]
async fn a_dm_reaches_only_its_addressee_in_order_and_is_marked_delivered() {
    let (mut a, mut b, mut c) = (Peer::new().await, Peer::new().await, Peer::new().await);
    introduce(&a, &b);
    introduce(&a, &c);
    introduce(&b, &c);
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        ids.push(a.dm.send(b.id(), text.into(), text == "two").await.unwrap());
    }
    for (id, text) in ids.iter().zip(["one", "two", "three"]) {
        let (got, _) = b.received_from(a.id()).await;
        assert_eq!((got.id, got.text.as_str(), got.to), (*id, text, b.id()));
        assert_eq!(got.action, text == "two");
    }
    for id in &ids {
        a.delivered(*id).await;
    }
    // C hears nothing of it: the first message C gets is the marker sent after.
    let before = c.before_marker_from(&a).await;
    assert!(
        before.iter().all(|e| !matches!(e, DirectEvent::Message(_))),
        "{before:?}"
    );
    // Both sides show the same conversation.
    let at_a = a.dm.conversation(b.id(), 10).await.unwrap();
    let at_b = b.dm.conversation(a.id(), 10).await.unwrap();
    assert_eq!(texts(&at_a), ["one", "two", "three"]);
    assert_eq!(at_a.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert_eq!(at_b.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert!(at_a.iter().all(|m| m.state == DmState::Delivered));
    assert!(at_b.iter().all(|m| m.state == DmState::Received));
    assert_eq!(a.dm.stats().await.delivered, 4);
    assert_eq!(b.dm.stats().await.received, 3);
    let found = b.dm.search(Some(a.id()), "TWO".into()).await.unwrap();
    assert_eq!(texts(&found), ["two"]);
}

/// A sends to B while B's node is not running; B comes back with the same key.
async fn delivered_after_return(restart_sender: bool) {
    let b_key = SecretKey::generate();
    let a_key = SecretKey::generate();
    let dir = crate::store::tests::tempdir();
    let open = || StoreThread::spawn(Store::open(&dir).unwrap()).unwrap();
    let store = open();
    let mut a = Peer::start(a_key.clone(), Some(store.handle())).await;
    let id =
        a.dm.send(b_key.public(), "are you there?".into(), false)
            .await
            .unwrap();
    let (pending, _) = a
        .until(|e| match e {
            DirectEvent::Message(m) => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!((pending.id, pending.state), (id, DmState::Pending));
    let list = a.dm.conversations().await.unwrap();
    assert_eq!((list[0].peer, list[0].pending), (b_key.public(), 1));
    let store = if restart_sender {
        a.dm.shutdown().await;
        a.node.clone().shutdown(Duration::from_secs(1)).await;
        store.close(WAIT).await;
        let store = open();
        a = Peer::start(a_key, Some(store.handle())).await;
        let page = a.dm.conversation(b_key.public(), 10).await.unwrap();
        assert_eq!(page[0].state, DmState::Pending);
        store
    } else {
        store
    };
    let mut b = Peer::start(b_key, None).await;
    introduce(&a, &b);
    // Seen online in a room: retried at once, not after the backoff.
    a.dm.seen(b.id());
    let (got, _) = b.received_from(a.id()).await;
    assert_eq!((got.id, got.text.as_str()), (id, "are you there?"));
    a.delivered(id).await;
    let page = a.dm.conversation(b.id(), 10).await.unwrap();
    assert_eq!(page[0].state, DmState::Delivered);
    a.dm.shutdown().await;
    store.close(WAIT).await;
}

#[tokio::test]
async fn a_dm_to_an_offline_member_is_delivered_when_it_returns() {
    delivered_after_return(false).await;
}

#[tokio::test]
async fn a_pending_dm_survives_the_senders_restart() {
    delivered_after_return(true).await;
}

#[tokio::test]
async fn a_strangers_dm_is_dropped_counted_and_never_shown() {
    let (mut a, mut b, c) = (Peer::new().await, Peer::new().await, Peer::new().await);
    // A knows B's address but shares no room with it.
    a.node.learn(b.node.addr());
    introduce(&c, &b);
    let spam = a.dm.send(b.id(), "buy now".into(), false).await.unwrap();
    a.until(|e| matches!(e, DirectEvent::Warning(_)).then_some(()))
        .await;
    let before = b.before_marker_from(&c).await;
    assert!(
        before.contains(&DirectEvent::Dropped {
            from: a.id(),
            count: 1
        }),
        "{before:?}"
    );
    assert!(before.iter().all(|e| !matches!(e, DirectEvent::Message(_))));
    assert!(b.dm.conversation(a.id(), 10).await.unwrap().is_empty());
    assert!(b.dm.stats().await.dropped_strangers >= 1);
    // Still pending at A: once they share a room, it goes through.
    assert_eq!(
        a.dm.conversation(b.id(), 1).await.unwrap()[0].state,
        DmState::Pending
    );
    b.dm.allow([a.id()]);
    a.dm.seen(b.id());
    let (got, _) = b.received_from(a.id()).await;
    assert_eq!(got.id, spam);
    a.delivered(spam).await;
}

#[tokio::test]
async fn replays_show_once_and_both_sides_agree_on_order() {
    let (mut a, mut b) = (Peer::new().await, Peer::new().await);
    introduce(&a, &b);
    // Interleaved sends from both sides.
    let mut ids = Vec::new();
    for i in 0..4 {
        let (x, y) = tokio::join!(
            a.dm.send(b.id(), format!("a{i}"), false),
            b.dm.send(a.id(), format!("b{i}"), false)
        );
        ids.push(x.unwrap());
        ids.push(y.unwrap());
    }
    for _ in 0..4 {
        b.received_from(a.id()).await;
        a.received_from(b.id()).await;
    }
    let at_a = a.dm.conversation(b.id(), 100).await.unwrap();
    let at_b = b.dm.conversation(a.id(), 100).await.unwrap();
    let order = |page: &[DirectMessage]| page.iter().map(|m| (m.sent, m.id)).collect::<Vec<_>>();
    assert_eq!(at_a.len(), 8);
    assert_eq!(order(&at_a), order(&at_b));
    let mut sorted = order(&at_a);
    sorted.sort();
    assert_eq!(order(&at_a), sorted);
    // A replayed envelope is acknowledged each time and shown once.
    let sealed = seal_direct(
        &a.node.secret(),
        &Draft {
            to: b.id(),
            name: "a",
            text: "once",
            action: false,
            file: None,
            sent: UnixMillis::now(),
            nonce: 1,
            reply_to: None,
            change: None,
        },
    )
    .unwrap();
    for _ in 0..3 {
        let ack = a.node.send_direct(b.id(), &sealed.envelope).await.unwrap();
        assert_eq!(ack, Ack::Saved(sealed.message.id));
    }
    let marker = a.dm.send(b.id(), "marker".into(), false).await.unwrap();
    let (first, _) = b.received_from(a.id()).await;
    assert_eq!(first.id, sealed.message.id);
    let (next, _) = b.received_from(a.id()).await;
    assert_eq!(next.id, marker);
    let page = b.dm.conversation(a.id(), 100).await.unwrap();
    assert_eq!(page.iter().filter(|m| m.text == "once").count(), 1);
}

#[tokio::test]
async fn bad_wire_bytes_are_rejected_without_harm() {
    let (a, mut b, c) = (Peer::new().await, Peer::new().await, Peer::new().await);
    introduce(&a, &b);
    let draft = |to| Draft {
        to,
        name: "a",
        text: "hi",
        action: false,
        file: None,
        sent: UnixMillis::now(),
        nonce: 2,
        reply_to: None,
        change: None,
    };
    let mut forged = seal_direct(&a.node.secret(), &draft(b.id()))
        .unwrap()
        .envelope;
    let last = forged.len() - 2;
    forged[last] ^= 0x20;
    let not_for_b = seal_direct(&a.node.secret(), &draft(c.id()))
        .unwrap()
        .envelope;
    let garbage = vec![0x5a; 300];
    let link = a.node.connect_direct(b.id()).await.unwrap();
    for bad in [&garbage, &forged, &not_for_b] {
        let ack = link.send(bad).await.unwrap();
        assert_eq!(ack, Ack::Invalid(MessageId::of(bad)));
    }
    // Three that do not verify: B closed the connection (a fourth costs a new handshake).
    assert!(link.send(&garbage).await.is_err());
    // A frame announcing more than an envelope: the connection is closed, nothing read.
    let oversize = ((crate::proto::wire::MAX_ENVELOPE_SIZE + 1) as u32).to_be_bytes();
    assert!(
        link.send_raw(&oversize)
            .await
            .map_or(true, |answer| answer.is_empty())
    );
    let mut truncated = 100u32.to_be_bytes().to_vec();
    truncated.extend_from_slice(b"short");
    let link = a.node.connect_direct(b.id()).await.unwrap();
    assert!(
        link.send_raw(&truncated)
            .await
            .map_or(true, |answer| answer.is_empty())
    );
    assert_eq!(b.dm.stats().await.rejected, 3);
    // B still takes good messages.
    let marker = a.dm.send(b.id(), "still here".into(), false).await.unwrap();
    let (got, before) = b.received_from(a.id()).await;
    assert_eq!(got.id, marker);
    assert!(before.iter().all(|e| !matches!(e, DirectEvent::Message(_))));
}

#[tokio::test]
async fn sends_are_checked_before_they_queue() {
    let a = Peer::new().await;
    let b = SecretKey::generate().public();
    assert_eq!(
        a.dm.send(b, "  ".into(), false).await,
        Err(SendError::Empty)
    );
    assert_eq!(
        a.dm.send(a.id(), "me".into(), false).await,
        Err(SendError::ToSelf)
    );
    let long = "x".repeat(40_000);
    assert!(matches!(
        a.dm.send(b, long, false).await,
        Err(SendError::TooLong { .. })
    ));
    a.dm.shutdown().await;
    assert_eq!(
        a.dm.send(b, "late".into(), false).await,
        Err(SendError::Gone)
    );
}

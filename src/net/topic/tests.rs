//! The incoming pump with a tiny queue: what it drops, and that the session always hears of it.

use std::task::Poll;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::NetEvent;
use super::pump::pump;
use crate::proto::SecretKey;

fn message(n: u8) -> NetEvent {
    NetEvent::Received(
        Bytes::from(vec![n]),
        SecretKey::from_bytes(&[1; 32]).public(),
    )
}

/// Gossip, played by the test: `feed` events in, then `handled` waits until the pump has
/// taken every one of them (it came back for more), so what it did with them is done.
struct Gossip {
    feed: Option<mpsc::UnboundedSender<NetEvent>>,
    fed: usize,
    taken: mpsc::UnboundedReceiver<usize>,
}

impl Gossip {
    /// Start a pump from this stand-in into a queue of `capacity`.
    fn start(capacity: usize) -> (Self, mpsc::Receiver<NetEvent>) {
        let (feed, mut source) = mpsc::unbounded_channel();
        let (took, taken) = mpsc::unbounded_channel();
        let mut count = 0;
        let stream = n0_future::stream::poll_fn(move |cx| match source.poll_recv(cx) {
            Poll::Ready(event) => {
                count += 1;
                Poll::Ready(event)
            }
            Poll::Pending => {
                let _ = took.send(count);
                Poll::Pending
            }
        });
        let (events, session) = mpsc::channel(capacity);
        tokio::spawn(pump(stream, events));
        let gossip = Self {
            feed: Some(feed),
            fed: 0,
            taken,
        };
        (gossip, session)
    }

    async fn send(&mut self, events: impl IntoIterator<Item = NetEvent>) {
        for event in events {
            self.feed.as_ref().unwrap().send(event).unwrap();
            self.fed += 1;
        }
        while self.taken.recv().await.unwrap() < self.fed {}
    }

    /// The subscription ends.
    fn end(&mut self) {
        self.feed = None;
    }
}

async fn next(session: &mut mpsc::Receiver<NetEvent>) -> NetEvent {
    session.recv().await.expect("the pump stopped")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overflow_drops_messages_and_the_session_hears_lagged_once_there_is_room() {
    let (mut gossip, mut session) = Gossip::start(2);
    gossip.send((1..=4).map(message)).await;
    assert_eq!(next(&mut session).await, message(1));
    assert_eq!(next(&mut session).await, message(2));
    // Nothing more came from gossip: the room made by reading is enough.
    assert_eq!(next(&mut session).await, NetEvent::Lagged);
    gossip.send([message(5), message(6)]).await;
    // Once per overflow: what follows is the next message, not another `Lagged`.
    assert_eq!(next(&mut session).await, message(5));
    assert_eq!(next(&mut session).await, message(6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossips_own_lagged_reaches_the_session_in_order() {
    let (mut gossip, mut session) = Gossip::start(8);
    gossip
        .send([message(1), NetEvent::Lagged, message(2)])
        .await;
    assert_eq!(next(&mut session).await, message(1));
    assert_eq!(next(&mut session).await, NetEvent::Lagged);
    assert_eq!(next(&mut session).await, message(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neighbour_changes_dropped_in_an_overflow_are_told_before_lagged() {
    let (ann, bob, cat) = (
        SecretKey::generate().public(),
        SecretKey::generate().public(),
        SecretKey::generate().public(),
    );
    let (mut gossip, mut session) = Gossip::start(1);
    gossip.send([NetEvent::NeighborUp(cat)]).await;
    assert_eq!(next(&mut session).await, NetEvent::NeighborUp(cat));
    gossip
        .send([
            message(1),
            NetEvent::NeighborUp(ann),
            NetEvent::NeighborUp(bob),
            message(2),
            NetEvent::NeighborDown(bob),
            NetEvent::NeighborDown(cat),
        ])
        .await;
    assert_eq!(next(&mut session).await, message(1));
    // Where things stand now (bob came and went: nothing to tell), then `Lagged`.
    assert_eq!(next(&mut session).await, NetEvent::NeighborUp(ann));
    assert_eq!(next(&mut session).await, NetEvent::NeighborDown(cat));
    assert_eq!(next(&mut session).await, NetEvent::Lagged);
    gossip.send([message(3)]).await;
    assert_eq!(next(&mut session).await, message(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_comes_after_what_the_session_missed() {
    let (mut gossip, mut session) = Gossip::start(1);
    gossip.send([message(1), message(2)]).await;
    gossip.end();
    assert_eq!(next(&mut session).await, message(1));
    assert_eq!(next(&mut session).await, NetEvent::Lagged);
    assert!(matches!(next(&mut session).await, NetEvent::Closed(_)));
    assert_eq!(session.recv().await, None);
}

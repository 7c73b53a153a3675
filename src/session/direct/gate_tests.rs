//! Who may write to us, decided on the connection's key before a byte is read: a key the
//! user ignores, or one we share no live room with, is refused unread (no signature checked),
//! and the user hears of it as of any stranger's message.

use super::tests::{Peer, introduce};
use super::*;
use crate::proto::direct::Ack;

#[tokio::test]
async fn a_stranger_is_refused_on_its_key_before_anything_is_read() {
    let (a, mut b, c) = (Peer::new().await, Peer::new().await, Peer::new().await);
    a.node.learn(b.node.addr());
    introduce(&c, &b);
    let link = a.node.connect_direct(b.id()).await.unwrap();
    // Bytes that would cost a parse and a signature check: never read.
    let garbage = vec![0x5a; 300];
    let ack = link.send(&garbage).await.unwrap();
    assert_eq!(ack, Ack::Refused(MessageId::of(&garbage)));
    let before = b.before_marker_from(&c).await;
    assert!(
        before.contains(&DirectEvent::Dropped {
            from: a.id(),
            count: 1
        }),
        "{before:?}"
    );
    let stats = b.dm.stats().await;
    assert_eq!(stats.rejected, 0, "nothing was parsed");
    assert_eq!(stats.dropped_strangers, 1);
}

#[tokio::test]
async fn an_ignored_member_cannot_write_until_unignored() {
    let (mut a, mut b, c) = (Peer::new().await, Peer::new().await, Peer::new().await);
    introduce(&a, &b);
    introduce(&c, &b);
    b.dm.ignore(a.id(), true);
    let id = a.dm.send(b.id(), "hello?".into(), false).await.unwrap();
    a.until(|e| matches!(e, DirectEvent::Warning(_)).then_some(()))
        .await;
    let before = b.before_marker_from(&c).await;
    assert!(before.iter().all(|e| !matches!(e, DirectEvent::Message(_))));
    assert!(b.dm.conversation(a.id(), 10).await.unwrap().is_empty());
    // Unignored: what waited goes through.
    b.dm.ignore(a.id(), false);
    a.dm.seen(b.id());
    let (got, _) = b.received_from(a.id()).await;
    assert_eq!(got.id, id);
    a.delivered(id).await;
}

#[tokio::test]
async fn whom_we_wrote_to_may_answer_though_we_share_no_room() {
    let (mut a, mut b) = (Peer::new().await, Peer::new().await);
    // a knows b (a room they shared once); b writes first, so a may answer...
    a.node.learn(b.node.addr());
    b.node.learn(a.node.addr());
    a.dm.allow([b.id()]);
    let first =
        a.dm.send(b.id(), "still there?".into(), false)
            .await
            .unwrap();
    // ...b does not know a: refused, kept pending.
    a.until(|e| matches!(e, DirectEvent::Warning(_)).then_some(()))
        .await;
    // b writes to a (it knows a's key from elsewhere): now b knows a, and a's message goes.
    let answer = b.dm.send(a.id(), "yes".into(), false).await.unwrap();
    let (got, _) = a.received_from(b.id()).await;
    assert_eq!(got.id, answer);
    a.dm.seen(b.id());
    let (got, _) = b.received_from(a.id()).await;
    assert_eq!(got.id, first);
}

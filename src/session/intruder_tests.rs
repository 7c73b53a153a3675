//! A non-member that learnt a private room's topic and floods it: the member it reaches
//! blocks its gossip after a few dozen messages (closing the connection and refusing it
//! again), says so, and the room talks on.

use std::time::Duration;

use super::knock_tests::ann_and_bob;
use super::*;
use crate::net::{NetConfig, NetEvent};
use crate::proto::SecretKey;
use crate::proto::seal::{self, EpochKey};

const WAIT: Duration = Duration::from_secs(20);

/// Wait until `spy` has `peer` for a neighbour.
async fn neighbour_up(spy: &mut crate::net::TopicHandle, peer: crate::proto::EndpointId) {
    let up = async {
        while let Some(event) = spy.next_event().await {
            if matches!(event, NetEvent::NeighborUp(id) if id == peer) {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, up)
        .await
        .expect("the spy reaches its peer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_non_member_is_cut_off_and_the_room_talks_on() {
    let (room, mut ann, mut bob) = ann_and_bob().await;
    let eve = Node::spawn(&NetConfig::loopback(SecretKey::generate()))
        .await
        .unwrap();
    let mut spy = eve
        .subscribe(room.topic(), &[ann.node.addr()])
        .await
        .unwrap();
    neighbour_up(&mut spy, ann.node.id()).await;

    // Garbage sealed with a key of eve's own, far more than a newcomer would ever say.
    let own = seal::message_key(&EpochKey::generate());
    for n in 0..500u32 {
        let garbage: Vec<u8> = (0..256).map(|i| (n as usize * 31 + i) as u8).collect();
        spy.broadcast(seal::seal(&own, &garbage)).await;
    }
    let warned = ann
        .expect(
            "the block",
            |e| matches!(e, SessionEvent::Warning(text) if text.contains("blocked")),
        )
        .await;
    assert!(
        matches!(&warned, SessionEvent::Warning(text) if text.contains(&eve.id().fmt_short().to_string())),
        "{warned:?}"
    );
    assert!(ann.node.is_gossip_blocked(&eve.id()));
    // Eve's link to ann is closed, and asking to be taken in again is refused.
    let down = async {
        while let Some(event) = spy.next_event().await {
            if matches!(event, NetEvent::NeighborDown(id) if id == ann.node.id()) {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, down)
        .await
        .expect("ann closes eve's gossip");
    let again = eve
        .endpoint_for_tests()
        .connect(ann.node.addr(), iroh_gossip::ALPN)
        .await;
    if let Ok(conn) = again {
        tokio::time::timeout(WAIT, conn.closed())
            .await
            .expect("ann closes eve's new gossip connection");
    }
    // The members still hear each other.
    ann.handle.say("after the flood".into()).await.unwrap();
    bob.expect_text("after the flood").await;
    eve.shutdown(Duration::from_millis(100)).await;
}

/// In a public room anyone with the ticket is a member, but envelopes that do not verify are
/// still junk: a fresh neighbour sending dozens has its gossip cut, and the room talks on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_neighbour_sending_envelopes_that_do_not_verify_is_cut_off() {
    use super::tests::{Member, joined};
    let mut ann = Member::start_as(SecretKey::generate(), "ann", None, None).await;
    let ticket = ann.ticket().await;
    let mut bob = Member::start_as(SecretKey::generate(), "bob", Some(&ticket), None).await;
    bob.ticket().await;
    ann.expect("bob joined", joined("bob")).await;
    let topic = ticket
        .parse::<crate::proto::ticket::Ticket>()
        .unwrap()
        .topic;
    let eve = Node::spawn(&NetConfig::loopback(SecretKey::generate()))
        .await
        .unwrap();
    let mut spy = eve.subscribe(topic, &[ann.node.addr()]).await.unwrap();
    neighbour_up(&mut spy, ann.node.id()).await;
    // Lines signed by eve, each damaged after signing: each costs ann a signature check.
    let key = eve.secret();
    for n in 0..200u64 {
        let payload = crate::proto::wire::Payload {
            nonce: n,
            sent: crate::proto::UnixMillis::now().0,
            body: crate::proto::wire::MessageBody::Message {
                from: key.public(),
                text: format!("junk {n}"),
                action: false,
                file: None,
                reply_to: None,
                change: None,
            },
        };
        let mut junk = crate::proto::wire::seal(&key, &topic, &payload).unwrap();
        let last = junk.len() - 3;
        junk[last] ^= 0x5a;
        spy.broadcast(junk).await;
    }
    let warned = ann
        .expect(
            "the cut",
            |e| matches!(e, SessionEvent::Warning(text) if text.contains("do not verify")),
        )
        .await;
    assert!(
        matches!(&warned, SessionEvent::Warning(text) if text.contains(&eve.id().fmt_short().to_string())),
        "{warned:?}"
    );
    assert!(ann.node.is_gossip_blocked(&eve.id()));
    ann.handle.say("after the junk".into()).await.unwrap();
    bob.expect_text("after the junk").await;
    eve.shutdown(Duration::from_millis(100)).await;
}

//! Knocks at a private room found on the LAN, over loopback: an admin holds the knock, tells
//! its front end, and lets the knocker in (who then talks in the room) or turns it away; a
//! member who is not an admin says so at once; a knocker that hangs up is forgotten.

use std::time::Duration;

use super::sealed_tests::{new_room, private, start_as, ticket_via};
use super::tests::{Member, joined};
use super::*;
use crate::net::NetConfig;
use crate::net::keys::KeyFetchError;
use crate::proto::SecretKey;
use crate::proto::state::KeyAnswer;

const WAIT: Duration = Duration::from_secs(20);

/// Ann owning a room with bob (a member) in it, both running.
pub(super) async fn ann_and_bob() -> (PrivateSpec, Member, Member) {
    let (ann_key, bob_key) = (SecretKey::generate(), SecretKey::generate());
    let room = new_room(&[&ann_key, &bob_key]);
    let mut ann = start_as(ann_key, private("ann", None, &room)).await;
    ann.ticket().await;
    let ticket = ticket_via(&ann, &room);
    let mut bob = start_as(bob_key, private("bob", Some(&ticket), &room)).await;
    bob.ticket().await;
    ann.expect("bob joined", joined("bob")).await;
    (room, ann, bob)
}

fn knocked(name: &'static str) -> impl Fn(&SessionEvent) -> bool {
    move |e| matches!(e, SessionEvent::Knock { name: n, .. } if n == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_lets_a_knocker_in_and_it_talks_in_the_room() {
    let (room, mut ann, mut bob) = ann_and_bob().await;
    let dave_key = SecretKey::generate();
    let dave = Node::spawn(&NetConfig::loopback(dave_key.clone()))
        .await
        .unwrap();
    let knock = tokio::spawn(dave.knock(ann.node.addr(), room.room(), "dave".into()));
    let event = ann.expect("dave's knock", knocked("dave")).await;
    assert!(matches!(event, SessionEvent::Knock { id, .. } if id == dave.id()));

    // A wrong name is refused with who is knocking; the right one lets dave in.
    let wrong = ann.handle.accept("eve".into()).await.unwrap();
    assert!(
        wrong.as_ref().is_err_and(|e| e.contains("dave")),
        "{wrong:?}"
    );
    let accepted = ann.handle.accept("dave".into()).await.unwrap().unwrap();
    assert!(accepted.starts_with("dave ("), "{accepted}");
    let answer = tokio::time::timeout(WAIT, knock)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let answer = KeyAnswer::decode(&answer, room.room()).unwrap();
    assert!(answer.log.fold().state.is_member(&dave.id()));
    dave.shutdown(Duration::from_millis(100)).await;

    // With what the answer holds, dave's own parlor is in the room and heard.
    let spec = PrivateSpec {
        log: answer.log,
        key: answer.key,
        epoch: answer.epoch,
        epoch_op: Some(answer.epoch_op),
    };
    let ticket = ticket_via(&ann, &spec);
    let mut dave = start_as(dave_key, private("dave", Some(&ticket), &spec)).await;
    dave.ticket().await;
    dave.handle.say("hello, I knocked".into()).await.unwrap();
    ann.expect_text("hello, I knocked").await;
    bob.expect_text("hello, I knocked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_knock_is_told_and_a_member_cannot_let_anyone_in() {
    let (room, mut ann, bob) = ann_and_bob().await;
    let eve = Node::spawn(&NetConfig::loopback(SecretKey::generate()))
        .await
        .unwrap();
    // Bob is no admin: he answers at once.
    let at_bob = eve.knock(bob.node.addr(), room.room(), "eve".into()).await;
    assert!(
        matches!(&at_bob, Err(KeyFetchError::Refused(why)) if why.reason.contains("only the room's admins")),
        "{at_bob:?}"
    );
    let knock = tokio::spawn(eve.knock(ann.node.addr(), room.room(), "eve".into()));
    ann.expect("eve's knock", knocked("eve")).await;
    let denied = ann
        .handle
        .deny("eve".into(), "not today".into())
        .await
        .unwrap();
    assert!(denied.is_ok(), "{denied:?}");
    let answer = tokio::time::timeout(WAIT, knock).await.unwrap().unwrap();
    assert!(
        matches!(&answer, Err(KeyFetchError::Refused(why)) if why.reason.contains("denied") && why.kind == crate::net::keys::RefusalKind::Denied && why.reason.contains("not today")),
        "{answer:?}"
    );
    // Nothing is left to answer.
    let again = ann.handle.accept(String::new()).await.unwrap();
    assert_eq!(again, Err("nobody is knocking".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_knocker_that_hangs_up_is_forgotten() {
    let (room, mut ann, _bob) = ann_and_bob().await;
    let eve = Node::spawn(&NetConfig::loopback(SecretKey::generate()))
        .await
        .unwrap();
    let knock = tokio::spawn(eve.knock(ann.node.addr(), room.room(), "eve".into()));
    ann.expect("eve's knock", knocked("eve")).await;
    knock.abort();
    eve.shutdown(Duration::from_millis(100)).await;
    let gone = ann
        .expect("eve gone", |e| matches!(e, SessionEvent::KnockGone { .. }))
        .await;
    assert!(matches!(gone, SessionEvent::KnockGone { name, .. } if name == "eve"));
    let accept = ann.handle.accept("eve".into()).await.unwrap();
    assert_eq!(accept, Err("nobody is knocking".into()));
}

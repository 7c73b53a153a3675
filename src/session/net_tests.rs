//! `/net` over loopback: a peer that goes away and comes back is shown on the path it uses now.

use super::tests::{Member, joined};
use super::*;
use crate::net::{PathKind, PeerPath};
use crate::proto::{EndpointId, SecretKey};

async fn path_of(handle: &SessionHandle, peer: EndpointId) -> PeerPath {
    let view = handle.net().await.unwrap();
    view.report
        .peers
        .into_iter()
        .find(|p| p.id == peer)
        .expect("the peer is listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_reconnects_is_shown_on_its_live_path() {
    let mut ann = Member::start_as(SecretKey::generate(), "ann", None, None).await;
    let ticket = ann.ticket().await;
    let bob_key = SecretKey::generate();
    let bob_id = bob_key.public();
    let mut bob = Member::start_as(bob_key.clone(), "bob", Some(&ticket), None).await;
    bob.ticket().await;
    ann.expect("bob joined", joined("bob")).await;
    let first = path_of(&ann.handle, bob_id).await;
    assert_eq!(first.kind, PathKind::Direct, "{first:?}");

    // Bob's process ends without closing its endpoint and comes back on another port, while
    // ann's old connection to him has not timed out yet (it holds iroh's path selection).
    drop(bob);
    let mut bob = Member::start_as(bob_key, "bob", Some(&ticket), None).await;
    bob.ticket().await;
    ann.expect("bob joined again", joined("bob")).await;
    assert_eq!(ann.handle.status().await.unwrap().neighbors, 1);
    // The new connection's handshake can finish a moment before its path has carried a
    // datagram back; `/net` shows the new address once it has (within seconds, not never).
    let bob_now = bob.node.addr().ip_addrs().next().map(ToString::to_string);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let again = loop {
        let path = path_of(&ann.handle, bob_id).await;
        if path.addr == bob_now || tokio::time::Instant::now() >= deadline {
            break path;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(again.kind, PathKind::Direct, "{again:?}");
    assert_eq!(
        again.addr, bob_now,
        "the address bob uses now, not his old one"
    );

    bob.close().await;
    ann.close().await;
}

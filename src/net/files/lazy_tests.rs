//! The file store opens on first use, and a stranger connecting is not a use.

use super::tests::{fetch, node};
use crate::net::{NetConfig, Node};
use crate::proto::SecretKey;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_opens_for_a_peer_that_may_fetch_and_not_for_a_stranger() {
    let blobs = crate::store::tests::tempdir().join("blobs");
    let config = NetConfig {
        blobs_dir: Some(blobs.clone()),
        ..NetConfig::loopback(SecretKey::generate())
    };
    let a = Node::spawn(&config).await.expect("node");
    let b = node().await;
    a.learn(b.addr());
    b.learn(a.addr());
    assert!(!blobs.exists(), "opened at start");
    let hash = blake3::hash(b"nobody offered this").to_hex().to_string();

    // b is in none of a's rooms and was offered nothing: refused before the store opens.
    assert!(fetch(&b, &hash, 1000, vec![a.id()]).await.is_err());
    assert!(!blobs.exists(), "a stranger opened the store");

    // A peer that may fetch gets a store to ask (which does not have the hash).
    a.allow_files([b.id()]);
    assert!(fetch(&b, &hash, 1000, vec![a.id()]).await.is_err());
    assert!(blobs.exists(), "not opened for a peer that may fetch");
    for node in [a, b] {
        node.shutdown(std::time::Duration::from_secs(2)).await;
    }
}

//! Fetching from several providers at once, in one process over loopback.

use iroh_blobs::protocol::ChunkRanges;
use tokio::sync::mpsc;

use super::piece::{Outcome, ask};
use super::tests::{check_saved, fetch, file_of, nodes, shutdown};
use crate::net::Node;

/// A member that already holds the file serves pieces of it beside the sender: the fetch
/// asks both, and the copy is whole.
#[tokio::test]
async fn members_holding_the_file_serve_pieces_beside_the_sender() {
    let all = nodes(3).await;
    let (a, b, c) = (&all[0], &all[1], &all[2]);
    let path = file_of(12 << 20);
    let shared = a.share_file(&path, |_, _| {}).await.expect("share");
    fetch(b, &shared.hash, shared.size, vec![a.id()])
        .await
        .expect("fetch");
    let (a_before, b_before) = (a.files_served(), b.files_served());
    fetch(c, &shared.hash, shared.size, vec![a.id(), b.id()])
        .await
        .expect("fetch");
    assert!(a.files_served() > a_before, "the sender sent pieces");
    assert!(b.files_served() > b_before, "the other member sent pieces");
    check_saved(c, &shared.hash, &path).await;
    shutdown(all).await;
}

/// Fetchers that start together trade the pieces they already hold.
#[tokio::test]
async fn fetchers_starting_together_all_get_whole_copies() {
    let all = nodes(4).await;
    let path = file_of(9 << 20);
    let shared = all[0].share_file(&path, |_, _| {}).await.expect("share");
    let ids: Vec<_> = all.iter().map(Node::id).collect();
    let fetches = all[1..].iter().map(|node| {
        let mut providers = vec![ids[0]];
        providers.extend(ids[1..].iter().filter(|id| **id != node.id()));
        fetch(node, &shared.hash, shared.size, providers)
    });
    for done in n0_future::join_all(fetches).await {
        done.expect("fetch");
    }
    for node in &all[1..] {
        check_saved(node, &shared.hash, &path).await;
    }
    shutdown(all).await;
}

/// A request on a connection closed under it (the fetch closes a provider's connection when
/// that provider comes back and is dialed again, or fails another request) is that
/// provider's failure: its piece goes to another provider. It was taken for a failure of
/// our own store, which ended the whole fetch ("cannot store ... here: local failure: failed
/// to open stream pair: closed"; seen with nine members fetching at once).
#[tokio::test]
async fn a_request_on_a_closed_connection_fails_the_provider_not_the_fetch() {
    let all = nodes(2).await;
    let (a, b) = (&all[0], &all[1]);
    let path = file_of(1 << 20);
    let shared = a.share_file(&path, |_, _| {}).await.expect("share");
    let hash = shared.hash.parse().expect("hash");
    let conn = b
        .endpoint
        .connect(a.id(), iroh_blobs::ALPN)
        .await
        .expect("connect");
    conn.close(0u32.into(), b"reconnecting");
    let store = b.files.store.get().await.expect("store").clone();
    let (heard, _keep) = mpsc::channel(8);
    let outcome = ask(store, conn, hash, (0, ChunkRanges::all()), heard).await;
    assert!(matches!(outcome, Outcome::Failed), "{outcome:?}");
    shutdown(all).await;
}

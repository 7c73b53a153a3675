//! Collecting blobs over loopback: what no offer names and partial blobs nobody fetches go,
//! our shares and the whole files of offers we know stay; on disk and in memory alike.

use std::time::Duration;

use super::tests::{fetch, fetch_partly, file_of, introduce, shutdown};
use crate::model::files::Place;
use crate::net::{NetConfig, Node};
use crate::proto::SecretKey;

async fn collected_on(blobs: Option<std::path::PathBuf>) {
    let make = |blobs: Option<std::path::PathBuf>| async move {
        let config = NetConfig {
            blobs_dir: blobs,
            ..NetConfig::loopback(SecretKey::generate())
        };
        Node::spawn(&config).await.expect("node")
    };
    let (a, b) = (make(None).await, make(blobs).await);
    let all = vec![a.clone(), b.clone()];
    introduce(&all);
    let share = async |node: &Node, len: usize| {
        node.share_file(&file_of(len), |_, _| {})
            .await
            .expect("share")
    };
    let (offered, orphan, partial) = (
        share(&a, 40 << 10).await,
        share(&a, 40 << 10).await,
        share(&a, 4 << 20).await,
    );
    let ours = share(&b, 40 << 10).await;
    for file in [&offered, &orphan] {
        fetch(&b, &file.hash, file.size, vec![a.id()])
            .await
            .expect("fetch");
    }
    fetch_partly(&b, &partial.hash, partial.size, &a, 1 << 20).await;
    let place = Place::Direct(a.id());
    b.files_offered(&offered.hash, place);
    b.files_offered(&partial.hash, place);

    b.collect_files_soon();
    let have = async |hash: &str| b.file_status(hash).await.expect("status");
    let gone = tokio::time::timeout(Duration::from_secs(30), async {
        while have(&orphan.hash).await.have > 0 || have(&partial.hash).await.have > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    gone.await
        .expect("the orphan and the partial blob are collected");
    assert!(have(&offered.hash).await.complete, "an offered file went");
    assert!(have(&ours.hash).await.complete, "our share went");
    shutdown(all).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unneeded_blobs_are_collected_on_disk() {
    collected_on(Some(crate::store::tests::tempdir().join("blobs"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unneeded_blobs_are_collected_in_memory() {
    collected_on(None).await;
}

//! What we serve of our own files: one shared by reference only while it is as it was
//! hashed, in this run or an earlier one.

use std::io::{Seek, SeekFrom, Write};
use std::time::Duration;

use tokio::sync::mpsc;

use super::REFERENCE_FROM;
use super::tests::{fetch, file_of, introduce, nodes, shutdown};
use crate::net::{NetConfig, Node};
use crate::proto::SecretKey;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_shared_by_reference_is_not_served_once_it_changed() {
    let all = nodes(3).await;
    let (a, b, c) = (&all[0], &all[1], &all[2]);
    let (tell, mut told) = mpsc::channel(4);
    a.files_tell(tell);
    let path = file_of(REFERENCE_FROM as usize + (1 << 20));
    let shared = a.share_file(&path, |_, _| {}).await.expect("share");
    fetch(c, &shared.hash, shared.size, vec![a.id()])
        .await
        .expect("served while unchanged");
    // Edited in place (same size): its last bytes are no longer the hash's.
    edit_the_end(&path);
    assert!(
        fetch(b, &shared.hash, shared.size, vec![a.id()])
            .await
            .is_err()
    );
    assert_eq!(b.file_status(&shared.hash).await.expect("status").have, 0);
    let why = told.try_recv().expect("the user is told");
    assert!(why.contains("changed since it was shared"), "{why}");
    // Once.
    assert!(
        fetch(b, &shared.hash, shared.size, vec![a.id()])
            .await
            .is_err()
    );
    assert!(told.try_recv().is_err(), "told twice");
    // Shared again as it is now: served.
    let again = a.share_file(&path, |_, _| {}).await.expect("share");
    fetch(b, &again.hash, again.size, vec![a.id()])
        .await
        .expect("served once shared again");
    shutdown(all).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_edited_while_parlor_was_not_running_is_not_served() {
    let blobs = crate::store::tests::tempdir().join("blobs");
    let with_store = || NetConfig {
        blobs_dir: Some(blobs.clone()),
        ..NetConfig::loopback(SecretKey::generate())
    };
    let path = file_of(REFERENCE_FROM as usize + (1 << 20));
    let before = Node::spawn(&with_store()).await.expect("node");
    let shared = before.share_file(&path, |_, _| {}).await.expect("share");
    before.shutdown(Duration::from_secs(2)).await;
    edit_the_end(&path);

    let a = Node::spawn(&with_store()).await.expect("node");
    let b = super::tests::node().await;
    let all = vec![a.clone(), b.clone()];
    introduce(&all);
    let (tell, mut told) = mpsc::channel(4);
    a.files_tell(tell);
    assert!(
        fetch(&b, &shared.hash, shared.size, vec![a.id()])
            .await
            .is_err()
    );
    assert_eq!(b.file_status(&shared.hash).await.expect("status").have, 0);
    let why = told.try_recv().expect("the user is told");
    assert!(why.contains("changed since it was shared"), "{why}");
    shutdown(all).await;
}

/// Its last 100 bytes overwritten: same size, other bytes, a new modification time.
fn edit_the_end(path: &std::path::Path) {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    file.seek(SeekFrom::End(-100)).expect("seek");
    file.write_all(&[0xAA; 100]).expect("write");
}

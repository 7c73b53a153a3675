//! What we serve of our own files: one shared by reference only while it is as it was
//! hashed, and nothing of one withdrawn (`/unshare`).

use std::io::{Seek, SeekFrom, Write};

use tokio::sync::mpsc;

use super::REFERENCE_FROM;
use super::tests::{fetch, file_of, nodes, shutdown};

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
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    file.seek(SeekFrom::End(-100)).expect("seek");
    file.write_all(&[0xAA; 100]).expect("write");
    drop(file);
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

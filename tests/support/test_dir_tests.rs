//! The sweep of finished test processes' scratch folders (`test_dir`).

use super::test_dir::{fresh, sweep};

#[test]
fn the_folders_of_finished_processes_go_and_the_rest_stay() {
    let root = fresh("sweep");
    // No process has the largest pid (Linux caps them at 2^22).
    let gone = root.join(u32::MAX.to_string());
    let running = root.join(std::process::id().to_string());
    let other = root.join("not-a-process");
    for dir in [&gone, &running, &other] {
        std::fs::create_dir_all(dir.join("inside")).unwrap();
    }
    sweep(&root);
    if std::path::Path::new("/proc/self").exists() {
        assert!(!gone.exists(), "a finished process's folder is removed");
    }
    assert!(running.join("inside").exists(), "a running process's stays");
    assert!(other.join("inside").exists(), "what no process named stays");
}

#[test]
fn each_directory_is_new_and_empty() {
    let (a, b) = (fresh("same"), fresh("same"));
    assert_ne!(a, b);
    assert!(a.is_dir() && std::fs::read_dir(&a).unwrap().next().is_none());
}

//! The store thread gives way to the network and the screen.
//!
//! Writing history is never what a user waits for: others' lines are shown before they are
//! saved, and a save that waits a moment loses nothing. But on a busy machine (two cores, a
//! room's worth of processes) a commit woken just as a line arrives took a core from the
//! thread carrying the line: 2 processes on 2 cores, 50 lines/s, the store thread at nice 10
//! took the median line from ~0.65 to ~0.55 ms (as fast as without a data directory). With
//! the processor idle it runs as before; under load it still gets its share, only later.
//!
//! Not lower: your own line is shown once the store thread has put it in the journal, so that
//! thread must still get its turn when other programs fill every core. `SCHED_IDLE` was tried
//! (2026-12-07): with four busy loops on two cores your own line took p50 15 ms, p90 126 ms,
//! max 717 ms to show, against 0.7 / 5.8 / 16 ms at nice 10 (60 lines, same binary), for a
//! gain in the room bench that did not stand out of its noise.

/// The nice value of the store thread (0 is the default, 19 the lowest).
const STORE_NICE: i32 = 10;

/// Lower the calling thread's priority. Failure (a system that refuses) only costs speed.
pub fn background() {
    #[cfg(target_os = "linux")]
    {
        // On Linux `setpriority(PRIO_PROCESS, tid)` applies to that one thread.
        let me = rustix::thread::gettid();
        if let Err(err) = rustix::process::setpriority_process(Some(me), STORE_NICE) {
            tracing::debug!("cannot lower the store thread's priority: {err}");
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use rustix::process::{Pid, getpriority_process};

    fn tid() -> Pid {
        rustix::thread::gettid()
    }

    #[test]
    fn the_thread_that_calls_it_alone_runs_at_nice_10() {
        let before = getpriority_process(Some(tid())).unwrap();
        let nice = std::thread::spawn(|| {
            super::background();
            getpriority_process(Some(tid())).unwrap()
        })
        .join()
        .unwrap();
        // Lowering needs no privilege; a thread already lower (a test run under `nice`) is
        // raised to 10 only by root, else it stays where it was.
        assert!(
            nice == super::STORE_NICE || (nice == before && before > super::STORE_NICE),
            "nice {nice}, started at {before}"
        );
        assert_eq!(
            getpriority_process(Some(tid())).unwrap(),
            before,
            "the calling thread alone"
        );
    }
}

//! The store thread gives way to the network and the screen.
//!
//! Writing history is never what a user waits for: others' lines are shown before they are
//! saved, and a save that waits a moment loses nothing. But on a busy machine (two cores, a
//! room's worth of processes) a commit woken just as a line arrives took a core from the
//! thread carrying the line: 2 processes on 2 cores, 50 lines/s, the store thread at nice 10
//! took the median line from ~0.65 to ~0.55 ms (as fast as without a data directory). With
//! the processor idle it runs as before; under load it still gets its share, only later.

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

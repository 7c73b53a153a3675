//! The store thread gives way to the network and the screen.
//!
//! Writing history is never what a user waits for: others' lines are shown before they are
//! saved, and a save that waits a moment loses nothing. But on a busy machine (two cores, a
//! room's worth of processes) a commit woken just as a line arrives took a core from the
//! thread carrying the line.
//!
//! On Linux the thread runs under `SCHED_IDLE`: any waking thread of the normal class takes
//! the core from it at once. A nice value alone no longer does that: the kernel's EEVDF
//! scheduler (6.6 and later) lets a running thread finish its slice however low its weight,
//! so at nice 10 a commit still delayed the line that woke meanwhile (2 processes, 50
//! lines/s, data dirs, three A/B runs beside the bare iroh-gossip example: parlor's median
//! 0.87-1.28x the example's at nice 10, 0.69-1.07x under `SCHED_IDLE`). With the processor idle the store runs as before; under load it
//! takes the time others leave, which on a chat machine is most of it. Where `SCHED_IDLE` is
//! refused (musl's wrapper, a sandbox), the thread falls back to nice 10.

/// The nice value of the store thread when `SCHED_IDLE` is refused (19 is the lowest).
const STORE_NICE: i32 = 10;

/// Lower the calling thread's priority. Failure (a system that refuses) only costs speed.
pub fn background() {
    #[cfg(target_os = "linux")]
    {
        let Err(err) = sched_idle() else {
            return;
        };
        tracing::debug!("no SCHED_IDLE for the store thread ({err}), nice {STORE_NICE} instead");
        // On Linux `setpriority(PRIO_PROCESS, tid)` applies to that one thread.
        let me = rustix::thread::gettid();
        if let Err(err) = rustix::process::setpriority_process(Some(me), STORE_NICE) {
            tracing::debug!("cannot lower the store thread's priority: {err}");
        }
    }
}

/// `sched_setscheduler(0, SCHED_IDLE)`: on Linux, pid 0 is the calling thread alone.
///
/// Declared here rather than through the `libc` crate: rustix has no binding, and one more
/// dependency changes the symbol names the link order file (`link/parlor.order`) lists.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn sched_idle() -> std::io::Result<()> {
    /// `SCHED_IDLE` from `<linux/sched.h>`, the same on every architecture.
    const SCHED_IDLE: std::ffi::c_int = 5;
    /// `struct sched_param`: one int on glibc and musl.
    #[repr(C)]
    struct SchedParam {
        sched_priority: std::ffi::c_int,
    }
    // SAFETY: the C library std links provides this function with this signature.
    unsafe extern "C" {
        fn sched_setscheduler(
            pid: std::ffi::c_int,
            policy: std::ffi::c_int,
            param: *const SchedParam,
        ) -> std::ffi::c_int;
    }
    let param = SchedParam { sched_priority: 0 };
    // SAFETY: `param` is a valid, live `struct sched_param` for the length of the call.
    if unsafe { sched_setscheduler(0, SCHED_IDLE, &param) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_thread_that_calls_it_alone_runs_under_sched_idle() {
        let policy_of = |tid: &str| {
            let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
            // Field 41 (policy), counted after the command name's closing parenthesis.
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            after.split(' ').nth(38).unwrap().parse::<u32>().unwrap()
        };
        let (tid, policy) = std::thread::spawn(move || {
            super::background();
            let tid = rustix::thread::gettid().as_raw_nonzero().to_string();
            let policy = policy_of(&tid);
            (tid, policy)
        })
        .join()
        .unwrap();
        assert!(!tid.is_empty());
        assert_eq!(policy, 5, "SCHED_IDLE");
        let me = rustix::thread::gettid().as_raw_nonzero().to_string();
        assert_eq!(policy_of(&me), 0, "this thread stays SCHED_OTHER");
    }
}

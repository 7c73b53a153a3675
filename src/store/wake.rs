//! When the store thread hears of work from the network thread: once that thread is about to
//! sleep, not in the middle of a line's trip.
//!
//! Handing a job to the store thread wakes it (a futex), and on two cores the woken thread
//! takes a core from whatever runs there: a line of ours on its way out (its journal entry is
//! queued in the same step that broadcasts it) or another member's line we are forwarding. So
//! the thread that runs the network (see `run`) turns deferral on for itself; its jobs then
//! wait in a queue of its own, in order, and go to the store thread all at once when the
//! runtime has nothing left to run ([`wake_store_thread`], tokio's `on_thread_park`), or
//! earlier once [`MOST_DEFERRED`] of them or [`LONGEST_DEFERRED`] piled up. Jobs that
//! someone waits on (queries, closing) go at once, after the queue.
//!
//! Any other thread (tests, the blocking pool) sends at once, as before.

use std::cell::RefCell;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use super::writer::{Job, StoreGone};

/// Jobs held before they go anyway (a burst of saves is one wake-up all the same).
const MOST_DEFERRED: usize = 256;
/// The longest a job waits for the thread to go idle, checked as the next one is queued.
const LONGEST_DEFERRED: Duration = Duration::from_millis(5);

/// A deferring thread's jobs, and when the oldest of them was queued.
#[derive(Default)]
struct Held {
    since: Option<Instant>,
    jobs: Vec<(Sender<Job>, Job)>,
}

thread_local! {
    /// `Some` on a thread that defers.
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Make this thread's store jobs wait until [`wake_store_thread`] (the runtime's park hook),
/// for as long as the guard lives; dropping it hands over what is held and stops deferring.
#[must_use = "deferring stops when the guard is dropped"]
pub fn defer_store_wakeups() -> DeferWakeups {
    HELD.with(|held| {
        held.borrow_mut().get_or_insert_with(Held::default);
    });
    DeferWakeups(std::marker::PhantomData)
}

/// This thread defers store wake-ups while it lives (not `Send`: it is about this thread).
pub struct DeferWakeups(std::marker::PhantomData<*const ()>);

impl Drop for DeferWakeups {
    fn drop(&mut self) {
        wake_store_thread();
        HELD.with(|held| held.borrow_mut().take());
    }
}

/// Hand the store thread what this thread held back: run when the runtime is about to sleep.
pub fn wake_store_thread() {
    let jobs = HELD.with(|held| match held.borrow_mut().as_mut() {
        Some(held) => {
            held.since = None;
            std::mem::take(&mut held.jobs)
        }
        None => Vec::new(),
    });
    for (to, job) in jobs {
        if let Err(refused) = to.send(job) {
            refused.0.refuse();
        }
    }
}

/// Send `job` to the store thread now, or hold it if this thread defers and nobody waits for
/// it (`urgent` false). An urgent job goes after everything held.
pub(super) fn send(to: &Sender<Job>, job: Job, urgent: bool) -> Result<(), StoreGone> {
    let outcome = HELD.with(|held| {
        let mut held = held.borrow_mut();
        match held.as_mut() {
            Some(held) if !urgent => {
                let since = *held.since.get_or_insert_with(Instant::now);
                held.jobs.push((to.clone(), job));
                Ok(held.jobs.len() >= MOST_DEFERRED || since.elapsed() >= LONGEST_DEFERRED)
            }
            _ => Err(job),
        }
    });
    match outcome {
        Ok(full) => {
            if full {
                wake_store_thread();
            }
            Ok(())
        }
        Err(job) => {
            wake_store_thread();
            to.send(job).map_err(|_| StoreGone)
        }
    }
}

#[cfg(test)]
#[path = "wake_tests.rs"]
mod tests;

//! Headless output that makes the session wait on the reader only as much as the reader is
//! slow. A line goes straight to stdout when nothing is queued and stdout can take it without
//! blocking (one `poll`, then one `write`: no other thread woken per line); otherwise it is
//! handed to a thread of its own, which writes whatever has queued up, then flushes once. The
//! queue is bounded in bytes: a reader slower than the room makes the writer wait (back-pressure
//! up to the session, which then drops gossip and catches up later) instead of growing memory.
//! No line is lost and the order is kept.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, ready};
use std::thread::JoinHandle;

use tokio::io::AsyncWrite;
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

/// Lines up to this size are written directly: a pipe with room for one more buffer (what
/// `poll` reports as writable) takes them whole without blocking.
const DIRECT_MAX: usize = 4096;

/// Bytes of lines queued for the thread, at most (a longer line waits for the queue to empty).
const QUEUE_BYTES: usize = 1024 * 1024;

/// Where lines go.
pub trait Output: Write + Send + 'static {
    /// Whether a write of up to [`DIRECT_MAX`] bytes would complete now, without blocking.
    fn writable_now(&self) -> bool;
}

impl Output for std::io::Stdout {
    fn writable_now(&self) -> bool {
        use rustix::event::PollFlags;
        let ready = super::readiness::poll_now(self, PollFlags::OUT);
        ready.contains(PollFlags::OUT)
            && !ready.intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL)
    }
}

/// Room for a line in the queue, being waited for.
type Waiting = Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send>>;

/// The session's end: writes never block the thread and never fail (a closed stdout just
/// drops lines), but wait while the queue is full.
pub struct LineWriter<O: Output> {
    /// Each line with its share of the queue's bytes, given back once it is written.
    lines: mpsc::Sender<(Vec<u8>, OwnedSemaphorePermit)>,
    /// Lines handed to the thread and not written yet.
    queued: Arc<AtomicUsize>,
    out: Arc<Mutex<O>>,
    /// The queue's bytes not taken by a line.
    room: Arc<Semaphore>,
    capacity: usize,
    /// A write that found the queue full, waiting for room.
    waiting: Option<Waiting>,
}

/// Start the writer thread on `out`; join the handle after the session to flush the last lines.
pub fn spawn<O: Output>(out: O) -> (LineWriter<O>, JoinHandle<()>) {
    spawn_with(out, QUEUE_BYTES)
}

/// [`spawn`] with a queue of `capacity` bytes.
fn spawn_with<O: Output>(out: O, capacity: usize) -> (LineWriter<O>, JoinHandle<()>) {
    let (lines, queue) = mpsc::channel::<(Vec<u8>, OwnedSemaphorePermit)>();
    let out = Arc::new(Mutex::new(out));
    let queued = Arc::new(AtomicUsize::new(0));
    let (thread_out, thread_queued) = (out.clone(), queued.clone());
    let thread = std::thread::spawn(move || {
        while let Ok(first) = queue.recv() {
            let mut out = thread_out.lock().unwrap_or_else(|p| p.into_inner());
            let mut line = Some(first);
            while let Some((bytes, room)) = line {
                let written = out.write_all(&bytes);
                thread_queued.fetch_sub(1, Ordering::AcqRel);
                // The line is out of the queue: its bytes may be taken again.
                drop(room);
                if written.is_err() {
                    return;
                }
                line = queue.try_recv().ok();
            }
            if out.flush().is_err() {
                return;
            }
        }
    });
    let writer = LineWriter {
        lines,
        queued,
        out,
        room: Arc::new(Semaphore::new(capacity)),
        capacity,
        waiting: None,
    };
    (writer, thread)
}

/// Wait for the writer thread to write what is queued (the writer must be dropped first), at
/// most `limit`: a reader that stopped reading must not keep the process alive.
pub fn finish(thread: JoinHandle<()>, limit: std::time::Duration) {
    let deadline = std::time::Instant::now() + limit;
    while !thread.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    if thread.is_finished() {
        let _ = thread.join();
    }
}

impl<O: Output> LineWriter<O> {
    /// Bytes of lines queued and not written yet.
    #[cfg(test)]
    fn queued_bytes(&self) -> usize {
        self.capacity - self.room.available_permits()
    }

    /// Write `buf` now if nothing is queued before it and `out` takes it without blocking.
    fn try_direct(&self, buf: &[u8]) -> bool {
        if buf.len() > DIRECT_MAX || self.queued.load(Ordering::Acquire) > 0 {
            return false;
        }
        let Ok(mut out) = self.out.try_lock() else {
            return false;
        };
        if !out.writable_now() {
            return false;
        }
        // A failed write drops the line, as the thread does.
        let _ = out.write_all(buf).and_then(|()| out.flush());
        true
    }
}

impl<O: Output> AsyncWrite for LineWriter<O> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let waiting = match &mut this.waiting {
            Some(waiting) => waiting,
            None => {
                if this.try_direct(buf) {
                    return Poll::Ready(Ok(buf.len()));
                }
                // A line longer than the queue takes all of it: it goes once the queue is empty.
                let bytes = u32::try_from(buf.len().min(this.capacity)).unwrap_or(u32::MAX);
                let room = this.room.clone().acquire_many_owned(bytes);
                this.waiting.insert(Box::pin(room))
            }
        };
        // Waiting is the back-pressure. (A write given up meanwhile leaves its wait behind for
        // the next line; the queue's bound is then off by that one line's size at most.)
        let room = ready!(waiting.as_mut().poll(cx));
        this.waiting = None;
        // The semaphore is never closed, and a thread that stopped takes no more lines.
        if let Ok(room) = room {
            this.queued.fetch_add(1, Ordering::AcqRel);
            if this.lines.send((buf.to_vec(), room)).is_err() {
                this.queued.fetch_sub(1, Ordering::AcqRel);
            }
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        // Direct writes are flushed at once, and the thread flushes after every batch.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use tokio::io::AsyncWriteExt;

    use super::*;

    /// Collects what is written; says it is writable when told to; while stuck, a write
    /// waits (a reader that stopped reading).
    #[derive(Clone, Default)]
    struct Sink {
        bytes: Arc<Mutex<Vec<u8>>>,
        writable: Arc<AtomicBool>,
        stuck: Arc<(Mutex<bool>, std::sync::Condvar)>,
    }

    impl Sink {
        fn stick(&self, stuck: bool) {
            *self.stuck.0.lock().unwrap() = stuck;
            self.stuck.1.notify_all();
        }
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (lock, unstuck) = &*self.stuck;
            drop(
                unstuck
                    .wait_while(lock.lock().unwrap(), |stuck| *stuck)
                    .unwrap(),
            );
            self.bytes.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Output for Sink {
        fn writable_now(&self) -> bool {
            self.writable.load(Ordering::Relaxed)
        }
    }

    #[tokio::test]
    async fn lines_arrive_in_order_by_either_path_and_all_of_them_by_join() {
        let sink = Sink::default();
        let (mut writer, thread) = spawn(sink.clone());
        for i in 0..1000 {
            // Writable or not, in stretches: both paths, interleaved.
            sink.writable.store(i / 7 % 2 == 0, Ordering::Relaxed);
            writer.write_all(format!("{i}\n").as_bytes()).await.unwrap();
        }
        // A line too long for the direct path goes through the thread, after the others.
        sink.writable.store(true, Ordering::Relaxed);
        let long = format!("{}\n", "x".repeat(DIRECT_MAX));
        writer.write_all(long.as_bytes()).await.unwrap();
        drop(writer);
        thread.join().unwrap();
        let text = String::from_utf8(sink.bytes.lock().unwrap().clone()).unwrap();
        let mut lines = text.lines();
        let numbers: Vec<usize> = lines
            .by_ref()
            .take(1000)
            .map(|l| l.parse().unwrap())
            .collect();
        assert_eq!(numbers, (0..1000).collect::<Vec<_>>());
        assert_eq!(lines.next().map(str::len), Some(DIRECT_MAX));
    }

    #[tokio::test]
    async fn a_reader_that_stops_makes_the_writer_wait_within_the_queue_bound() {
        let sink = Sink::default();
        sink.stick(true);
        let (mut writer, thread) = spawn_with(sink.clone(), 1000);
        let line = |i: usize| format!("{i:099}\n");
        for i in 0..10 {
            writer.write_all(line(i).as_bytes()).await.unwrap();
        }
        assert_eq!(writer.queued_bytes(), 1000);
        // The reader took nothing: the next line waits, and the queue holds no more.
        let eleventh = line(10);
        let write = writer.write_all(eleventh.as_bytes());
        assert!(n0_future::future::poll_once(write).await.is_none());
        assert_eq!(writer.queued_bytes(), 1000);
        // Reading again lets it through; a line longer than the queue goes once it is empty.
        sink.stick(false);
        writer.write_all(eleventh.as_bytes()).await.unwrap();
        let long = format!("{}\n", "y".repeat(2500));
        writer.write_all(long.as_bytes()).await.unwrap();
        writer.write_all(line(11).as_bytes()).await.unwrap();
        drop(writer);
        thread.join().unwrap();
        let text = String::from_utf8(sink.bytes.lock().unwrap().clone()).unwrap();
        let mut expected: Vec<String> = (0..=10).map(line).collect();
        expected.push(long);
        expected.push(line(11));
        assert_eq!(text, expected.concat(), "every line, in order");
    }

    #[test]
    fn stdout_of_a_test_can_be_asked_whether_it_is_writable() {
        // Whatever stdout is here (a pipe, a file), asking never blocks and never fails.
        let _ = std::io::stdout().writable_now();
    }
}

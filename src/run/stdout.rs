//! Headless output that never makes the session wait on the reader. A line goes straight to
//! stdout when nothing is queued and stdout can take it without blocking (one `poll`, then
//! one `write`: no other thread woken per line); otherwise it is handed to a thread of its own,
//! which writes whatever has queued up, then flushes once. A slow reader thus costs memory on
//! that thread, never time on the network thread.

use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use tokio::io::AsyncWrite;

/// Lines up to this size are written directly: a pipe with room for one more buffer (what
/// `poll` reports as writable) takes them whole without blocking.
const DIRECT_MAX: usize = 4096;

/// Where lines go.
pub trait Output: Write + Send + 'static {
    /// Whether a write of up to [`DIRECT_MAX`] bytes would complete now, without blocking.
    fn writable_now(&self) -> bool;
}

impl Output for std::io::Stdout {
    fn writable_now(&self) -> bool {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let mut fds = [PollFd::new(self, PollFlags::OUT)];
        let now = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        matches!(poll(&mut fds, Some(&now)), Ok(1))
            && fds[0].revents().contains(PollFlags::OUT)
            && !fds[0]
                .revents()
                .intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL)
    }
}

/// The session's end: writes never block and never fail (a closed stdout just drops lines).
pub struct LineWriter<O: Output> {
    lines: mpsc::Sender<Vec<u8>>,
    /// Lines handed to the thread and not written yet.
    queued: Arc<AtomicUsize>,
    out: Arc<Mutex<O>>,
}

/// Start the writer thread on `out`; join the handle after the session to flush the last lines.
pub fn spawn<O: Output>(out: O) -> (LineWriter<O>, JoinHandle<()>) {
    let (lines, queue) = mpsc::channel::<Vec<u8>>();
    let out = Arc::new(Mutex::new(out));
    let queued = Arc::new(AtomicUsize::new(0));
    let (thread_out, thread_queued) = (out.clone(), queued.clone());
    let thread = std::thread::spawn(move || {
        while let Ok(first) = queue.recv() {
            let mut out = thread_out.lock().unwrap_or_else(|p| p.into_inner());
            let mut line = Some(first);
            while let Some(bytes) = line {
                let written = out.write_all(&bytes);
                thread_queued.fetch_sub(1, Ordering::AcqRel);
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
    (LineWriter { lines, queued, out }, thread)
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
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if !self.try_direct(buf) {
            self.queued.fetch_add(1, Ordering::AcqRel);
            if self.lines.send(buf.to_vec()).is_err() {
                self.queued.fetch_sub(1, Ordering::AcqRel);
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

    /// Collects what is written; says it is writable when told to.
    #[derive(Clone, Default)]
    struct Sink {
        bytes: Arc<Mutex<Vec<u8>>>,
        writable: Arc<AtomicBool>,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
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

    #[test]
    fn stdout_of_a_test_can_be_asked_whether_it_is_writable() {
        // Whatever stdout is here (a pipe, a file), asking never blocks and never fails.
        let _ = std::io::stdout().writable_now();
    }
}

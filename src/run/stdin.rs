//! Headless input read on the network thread itself when stdin can be polled (a pipe, a
//! terminal, a socket): `tokio::io::stdin()` reads on a blocking thread, so every typed line
//! woke that thread and then, from it, the network thread (two wake-ups in a row on the path of
//! each line sent). A descriptor `epoll` refuses (a regular file, `/dev/null`) is read the
//! blocking way, as before.
//!
//! Stdin stays in blocking mode (its file description is shared with the shell and whatever
//! else holds it; switching it to non-blocking would leak out of parlor): a read is made only
//! once `poll(2)` with no timeout says it cannot block, and the readiness tokio tracks (edge
//! triggered) is cleared only once `poll` says nothing is left. (Were another process to read
//! the same pipe at the same time, it could take the bytes between the `poll` and the read,
//! which would then wait on the network thread for the next input; two readers of one stream
//! split its lines between them anyway, so that is no way to drive parlor.)

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use rustix::event::PollFlags;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, Interest, ReadBuf};

use super::readiness::poll_now;

/// Stdin, polled on the runtime when it can be, else read on a blocking thread.
pub enum Input {
    Polled(Polled<io::Stdin>),
    Blocking(tokio::io::Stdin),
}

/// Stdin for headless mode (call inside the runtime).
pub fn stdin() -> Input {
    match Polled::new(io::stdin()) {
        Ok(polled) => Input::Polled(polled),
        Err(_) => Input::Blocking(tokio::io::stdin()),
    }
}

impl AsyncRead for Input {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Input::Polled(polled) => Pin::new(polled).poll_read(cx, buf),
            Input::Blocking(stdin) => Pin::new(stdin).poll_read(cx, buf),
        }
    }
}

/// What a [`Polled`] may read: types that hold one descriptor, open and the same for as long
/// as they live (stdin is descriptor 0, which parlor never closes).
pub trait StableFd: AsRawFd + AsFd {}
impl StableFd for io::Stdin {}
// What the tests read instead of stdin.
#[cfg(test)]
impl StableFd for io::PipeReader {}
#[cfg(test)]
impl StableFd for std::fs::File {}

/// A blocking descriptor read when `epoll` and `poll` say it has something.
pub struct Polled<F: StableFd> {
    fd: AsyncFd<F>,
}

impl<F: StableFd> Polled<F> {
    /// Fails for what `epoll` cannot watch (regular files, some devices).
    #[allow(unsafe_code)]
    pub fn new(source: F) -> io::Result<Self> {
        // SAFETY: a `StableFd` keeps its descriptor open and unchanged while it lives, and the
        // `AsyncFd` owns it.
        let fd = unsafe { AsyncFd::register_with_interest(source, Interest::READABLE) };
        Ok(Self {
            fd: fd.map_err(io::Error::from)?,
        })
    }
}

/// Whether a read of `fd` returns at once: data, end of input, or an error to report.
fn readable_now(fd: impl AsFd) -> bool {
    poll_now(fd, PollFlags::IN)
        .intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
}

impl<F: StableFd + Unpin> AsyncRead for Polled<F> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut ready = ready!(self.fd.poll_read_ready(cx))?;
            if !readable_now(self.fd.get_ref()) {
                // Nothing left: wait for the next edge (one that came meanwhile is kept).
                ready.clear_ready();
                continue;
            }
            let unfilled = buf.initialize_unfilled();
            let read = rustix::io::read(self.fd.get_ref(), unfilled).map_err(io::Error::from);
            return Poll::Ready(read.map(|n| buf.advance(n)));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

    use super::*;

    #[tokio::test]
    async fn lines_through_a_pipe_arrive_whole_in_order_then_the_end() {
        let (read, mut writer) = std::io::pipe().unwrap();
        let mut input = BufReader::new(Polled::new(read).unwrap());
        // More than a pipe holds (64 KiB), written while the reader reads, in pieces that
        // split lines.
        let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        let sent = text.clone();
        let writing = std::thread::spawn(move || {
            for piece in sent.as_bytes().chunks(777) {
                writer.write_all(piece).unwrap();
            }
        });
        let mut got = Vec::new();
        let mut line = String::new();
        while input.read_line(&mut line).await.unwrap() > 0 {
            got.push(std::mem::take(&mut line));
        }
        writing.join().unwrap();
        assert_eq!(got.concat(), text);
        assert_eq!(got.len(), 20_000);
    }

    #[tokio::test]
    async fn a_line_written_later_wakes_the_reader() {
        let (read, mut writer) = std::io::pipe().unwrap();
        let mut input = Polled::new(read).unwrap();
        let mut buf = [0u8; 64];
        // Nothing yet: the read waits (and must not block the thread: this runtime has one).
        let first = tokio::time::timeout(std::time::Duration::from_millis(50), async {
            input.read(&mut buf).await
        });
        assert!(first.await.is_err(), "nothing was written yet");
        writer.write_all(b"hello\n").unwrap();
        let n = input.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello\n");
        drop(writer);
        assert_eq!(input.read(&mut buf).await.unwrap(), 0, "the end of input");
    }

    #[tokio::test]
    async fn a_regular_file_cannot_be_polled_so_it_is_read_the_blocking_way() {
        let file = std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
        assert!(Polled::new(file.unwrap()).is_err());
    }
}

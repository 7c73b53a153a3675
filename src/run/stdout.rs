//! Headless output through a thread of its own: the session hands a line over and goes on,
//! instead of waiting for two trips through tokio's blocking pool (write, then flush) per
//! line. The thread writes whatever has queued up, then flushes once.

use std::io::Write;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use tokio::io::AsyncWrite;

/// The session's end: writes never block and never fail (a closed stdout just drops lines).
pub struct LineWriter {
    lines: mpsc::Sender<Vec<u8>>,
}

/// Start the writer thread on `out`; join the handle after the session to flush the last lines.
pub fn spawn(mut out: impl Write + Send + 'static) -> (LineWriter, JoinHandle<()>) {
    let (lines, queue) = mpsc::channel::<Vec<u8>>();
    let thread = std::thread::spawn(move || {
        while let Ok(first) = queue.recv() {
            if out.write_all(&first).is_err() {
                return;
            }
            while let Ok(more) = queue.try_recv() {
                if out.write_all(&more).is_err() {
                    return;
                }
            }
            if out.flush().is_err() {
                return;
            }
        }
    });
    (LineWriter { lines }, thread)
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let _ = self.lines.send(buf.to_vec());
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        // The thread flushes after every batch.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::AsyncWriteExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn lines_arrive_in_order_and_all_of_them_by_join() {
        let sink = Sink::default();
        let (mut writer, thread) = spawn(sink.clone());
        for i in 0..1000 {
            writer.write_all(format!("{i}\n").as_bytes()).await.unwrap();
        }
        drop(writer);
        thread.join().unwrap();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<usize> = text.lines().map(|l| l.parse().unwrap()).collect();
        assert_eq!(lines, (0..1000).collect::<Vec<_>>());
    }
}

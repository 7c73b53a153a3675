//! Headless mode: lines in, one event per line out, sessions in between: one or several rooms
//! (`join A B ...`, `/open`, `/join`), typed lines going to the current one (`/room`
//! switches). Generic over its input and output streams and its shutdown signal, so tests run
//! whole sessions in-process.

mod commands;
mod events;
mod failures;
mod output;
mod requests;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use tokio::time::{Instant, sleep_until};

use self::failures::Failures;
pub use self::failures::NotAllDone;
use crate::config::{Config, ConfigError};
use crate::front::{Answers, Core, Incoming, RoomKey, Update};
use crate::headless::Report;
use crate::proto::EndpointId;
use crate::session::{SessionEvent, SessionGone};
use crate::store::Store;

/// How long input that ended may wait for a peer to send its queued lines to.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the last lines, after leaving, may wait on a reader that stopped reading (output
/// waits on the reader: see `run::stdout`); past it they are dropped, so parlor still exits.
const LAST_LINES: Duration = Duration::from_secs(5);

/// Resolves once every queued line was sent.
type Drained = Pin<Box<dyn Future<Output = Result<(), SessionGone>> + Send>>;

struct Headless<W> {
    /// The rooms, direct messages and files, and carrying out commands.
    core: Core,
    /// `/query NAME`: typed lines go to this member privately (until `/room`).
    query: Option<(EndpointId, String)>,
    output: W,
    json: bool,
    /// Output waits for the reader until then (while leaving); `None`: as long as it takes.
    output_until: Option<Instant>,
    /// The reader stopped reading while leaving: the rest is not written.
    output_stuck: bool,
    /// Input ended with lines still queued in some room (not only direct messages).
    unsent_rooms: usize,
    /// Some room sent queued lines since this was last cleared: waiting for them after input
    /// ended is worth more time.
    queue_moved: bool,
    /// What could not be carried out: the exit code is 1 if anything was.
    failures: Failures,
    /// The request (`{"id", "line"}`) the report being written answers.
    re: Option<String>,
    /// Which request later events answer.
    requests: requests::Pending,
}

/// How the loop ended.
enum Stop {
    /// `/quit`, a signal, or input ended with nothing left to send.
    Quit,
    /// The last room ended by itself, or could not start (the reason was reported).
    Ended(anyhow::Error),
    /// Input ended and the queued lines found no peer in time.
    Unsent,
}

/// Run headless until `/quit`, end of input, `shutdown`, or the last room ending.
pub async fn run_headless<R, W>(
    config: Config,
    store: Option<Store>,
    input: R,
    output: W,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let starts = config.starts().to_vec();
    if starts.is_empty() {
        return Err(ConfigError::NoCommand.into());
    }
    let json = config.json;
    let core = Core::boot(config, store, Answers::InOrder).await?;
    let keeps_dms = core.keeps_dms();
    let mut headless = Headless {
        core,
        query: None,
        json,
        output,
        output_until: None,
        output_stuck: false,
        unsent_rooms: 0,
        queue_moved: false,
        failures: Failures::default(),
        re: None,
        requests: requests::Pending::default(),
    };
    for (i, start) in starts.into_iter().enumerate() {
        // The first room named is the current one.
        let key = headless.core.rooms.new_key();
        headless.core.start_room(key, start, None, None, i == 0);
    }
    let stop = headless.main_loop(BufReader::new(input), shutdown).await;
    let stop = match stop {
        // Undelivered direct messages wait on disk for the next run; without a disk they are
        // lost, which is a failure.
        Stop::Unsent if headless.unsent_rooms == 0 && keeps_dms => {
            let pending = headless.core.pending_dms.len();
            let message = format!(
                "{pending} direct message(s) not delivered yet: they are kept and sent when parlor runs again"
            );
            headless.report(Report::Warning(message), None).await;
            Stop::Quit
        }
        stop => stop,
    };
    let result = headless.finish(stop).await;
    let result = std::mem::take(&mut headless.failures).into_result(result);
    headless.core.close().await;
    result
}

impl<W: AsyncWrite + Unpin> Headless<W> {
    async fn main_loop<R: AsyncRead + Unpin>(
        &mut self,
        mut input: BufReader<R>,
        shutdown: impl Future<Output = ()>,
    ) -> Stop {
        tokio::pin!(shutdown);
        let mut line = Vec::new();
        let mut input_open = true;
        let mut drain_deadline: Option<Instant> = None;
        let mut drained: Option<Drained> = None;
        // Input ended and every room's queued lines went out: waiting for direct messages.
        let mut rooms_drained = false;
        let far = Instant::now() + Duration::from_secs(24 * 3600);
        loop {
            tokio::select! {
                // Back-pressure: lines wait in the pipe, not in a queue that would refuse them.
                read = input.read_until(b'\n', &mut line), if input_open && !self.core.rooms.backlogged() => {
                    match read {
                        Ok(0) | Err(_) => {
                            input_open = false;
                            drain_deadline = Some(Instant::now() + self.drain_wait());
                            drained = Some(self.all_drained());
                        }
                        Ok(_) => {
                            // Its answer may wait on the reader; a signal still ends parlor.
                            let typed = String::from_utf8_lossy(&line).into_owned();
                            let quit = tokio::select! {
                                quit = self.on_input(&typed) => quit,
                                () = &mut shutdown => true,
                            };
                            if quit {
                                return Stop::Quit;
                            }
                        }
                    }
                    line.clear();
                }
                incoming = self.core.next() => {
                    // Only a room starting or ending changes what "drained" means.
                    let rooms_changed = match &incoming {
                        Incoming::Room(_, Update::Event(event)) => matches!(event, SessionEvent::Failed(_)),
                        Incoming::Room(..) => true,
                        _ => false,
                    };
                    let direct = matches!(incoming, Incoming::Direct(_));
                    let ended = tokio::select! {
                        // Printing waits on the reader; a signal still ends parlor.
                        ended = self.on_incoming(incoming) => ended,
                        () = &mut shutdown => return Stop::Quit,
                    };
                    if let Some(err) = ended {
                        return Stop::Ended(err);
                    }
                    // Lines still going out at the room's pace: the wait is for a peer, not
                    // for the pace, so it starts again while they move.
                    if std::mem::take(&mut self.queue_moved) && !input_open && !rooms_drained {
                        drain_deadline = Some(Instant::now() + DRAIN_TIMEOUT);
                    }
                    if rooms_changed && !input_open && !rooms_drained {
                        drained = Some(self.all_drained());
                    }
                    if direct && rooms_drained && self.core.pending_dms.is_empty() {
                        return Stop::Quit;
                    }
                }
                done = async { drained.as_mut().expect("guarded").await }, if drained.is_some() => {
                    drained = None;
                    match done {
                        Ok(()) if self.core.pending_dms.is_empty() => return Stop::Quit,
                        Ok(()) => rooms_drained = true,
                        // A session ended first: its events say why, and the next update
                        // waits on the rooms left.
                        Err(_) => {}
                    }
                }
                _ = sleep_until(drain_deadline.unwrap_or(far)), if drain_deadline.is_some() => {
                    self.unsent_rooms = usize::from(!rooms_drained);
                    return Stop::Unsent;
                }
                () = &mut shutdown => return Stop::Quit,
            }
        }
    }

    /// How long queued lines may wait once input ended: a ticket's room that is still
    /// joining gets its join timeout.
    fn drain_wait(&self) -> Duration {
        self.core
            .rooms
            .iter()
            .filter(|room| !room.ready)
            .filter_map(|room| room.join_timeout)
            .max()
            .unwrap_or(DRAIN_TIMEOUT)
            .max(DRAIN_TIMEOUT)
    }

    /// Resolves once no room has a line waiting for a peer (rooms still starting count as
    /// waiting: their lines are held until then).
    fn all_drained(&self) -> Drained {
        let rooms = &self.core.rooms;
        let handles: Vec<_> = rooms
            .iter()
            .filter_map(|room| self.core.sessions.handle(room.key).cloned())
            .collect();
        let starting = rooms.iter().any(|room| room.held.is_some());
        Box::pin(async move {
            if starting {
                return std::future::pending().await;
            }
            for handle in handles {
                handle.drained().await?;
            }
            Ok(())
        })
    }

    /// Leave every room (unless they already ended), report the last events and what was
    /// never sent.
    async fn finish(&mut self, stop: Stop) -> anyhow::Result<()> {
        let held = self.core.rooms.held();
        let left = self.core.sessions.leave_all().await;
        self.output_until = Some(Instant::now() + LAST_LINES);
        // Each room's stream ends shortly after it left.
        while !self.core.rooms.is_empty() {
            let (key, update) = self.core.sessions.next().await;
            match update {
                // Started while we were leaving: leave it too.
                Update::Started(handle) => {
                    let _ = handle.leave().await;
                }
                Update::Event(SessionEvent::Failed(_)) => {}
                Update::Event(event) => self.on_event(key, event).await,
                Update::Ended | Update::StartFailed(_) => {
                    self.core.rooms.remove(key);
                }
            }
        }
        // Lines typed for rooms that never started count as unsent too.
        let unsent: usize = left.iter().map(|(_, left)| left.unsent).sum::<usize>() + held;
        if unsent > 0 {
            let message = format!("{unsent} queued message(s) were not sent: no peer had joined");
            self.report(Report::Error(message), None).await;
        }
        match stop {
            Stop::Quit => Ok(()),
            Stop::Ended(err) => Err(err),
            Stop::Unsent if unsent == 0 => Err(anyhow::anyhow!(
                "{} direct message(s) not delivered in time, and --ephemeral keeps nothing for later",
                self.core.pending_dms.len()
            )),
            Stop::Unsent => Err(anyhow::anyhow!(
                "{unsent} message(s) not sent: no peer joined in time"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::config::Start;

    /// Output waits on its reader now; a reader that stopped must not keep a signal from
    /// ending parlor (nor the last lines, after leaving, keep it from exiting).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_signal_ends_headless_while_a_line_waits_on_a_reader_that_stopped() {
        let config = Config::headless_loopback("ann", vec![Start::Open]);
        let (_typing, input) = tokio::io::duplex(64);
        let (output, mut reader) = tokio::io::duplex(16);
        let (signal, signalled) = tokio::sync::oneshot::channel::<()>();
        let run = tokio::spawn(run_headless(config, None, input, output, async {
            let _ = signalled.await;
        }));
        // The first line has begun (it is longer than the pipe): it now waits on the reader.
        let mut first = [0u8; 1];
        reader.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"{");
        signal.send(()).unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(60), run).await;
        assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
    }
}

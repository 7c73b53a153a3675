//! History between members, both ways, off the network thread where it costs: asking
//! neighbours for what we missed (answers checked on the blocking pool; after `Lagged`, page by
//! page until the gap is closed), and answering their requests (from disk when there is a
//! store, which reaches further back than the room's memory).

mod lane;
#[cfg(test)]
mod tests;
mod window;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};

use self::lane::Lane;
use super::actor::Actor;
use super::sealed::{open_answer, seal_answer};
use crate::net::HistoryQuery;
use crate::net::history::MAX_ANSWER_ENVELOPES;
use crate::proto::room::Page;
use crate::proto::{TopicId, UnixMillis, wire};

/// Neighbours asked in parallel for history (each falls back on others: see [`lane`]).
const CATCH_UP_PEERS: usize = 2;
/// Most pages one catch-up reads (bounds what a peer can make us fetch).
const MAX_PAGES: usize = 64;
/// A failed member-list request is asked again this many times, after 0.5, 1, 2 and 4 s.
const ROSTER_RETRIES: u8 = 4;
const ROSTER_RETRY_AFTER: Duration = Duration::from_millis(250);
/// Catch-up requests served from disk at once, per session.
pub const MAX_SERVING: usize = 4;

/// One answer (or page of one), checked.
pub struct CatchUpPage {
    pub batch: wire::CheckedBatch,
    /// The last page of this request.
    pub last: bool,
    /// The last page, cut by the page cap while pages still moved forward: what follows is
    /// still to be asked for.
    pub cut: bool,
    /// Of a request paging through a gap.
    pub paged: bool,
    /// A member list (see [`Actor::ask_roster`]), not history.
    pub roster: bool,
}

/// The catch-up's own state: answers on their way back, the requests running (live lines wait
/// behind the first), the one paging through a gap, the member-list retries, and the disk
/// reads serving others.
pub(super) struct CatchUps {
    /// Checked answers coming back from their tasks.
    results_tx: mpsc::UnboundedSender<CatchUpPage>,
    results: mpsc::UnboundedReceiver<CatchUpPage>,
    running: usize,
    /// A catch-up paging through a gap (after `Lagged`) is running; `Some(true)`: the room
    /// lagged again meanwhile, so another one follows.
    paging: Option<bool>,
    /// The newest message the paging catch-up brought: where the next one starts (the room's
    /// newest line may be far past it, and past what is missing).
    paged_to: Option<UnixMillis>,
    /// Member-list requests asked again since the last one the room wanted.
    roster_asks: u8,
    /// Peers' requests being served from disk (see [`MAX_SERVING`]).
    serving: Arc<Semaphore>,
}

impl CatchUps {
    pub(super) fn new() -> Self {
        let (results_tx, results) = mpsc::unbounded_channel();
        Self {
            results_tx,
            results,
            running: 0,
            paging: None,
            paged_to: None,
            roster_asks: 0,
            serving: Arc::new(Semaphore::new(MAX_SERVING)),
        }
    }

    /// Catch-up requests under way.
    pub(super) fn running(&self) -> usize {
        self.running
    }

    /// The next checked answer (cancel-safe).
    pub(super) async fn next(&mut self) -> Option<CatchUpPage> {
        self.results.recv().await
    }
}

impl Actor {
    /// A checked answer came back: a member list goes to the room (or is asked again), a
    /// history page is fed to it; when the last request ends, live lines held behind it go.
    pub(super) async fn on_page(&mut self, page: CatchUpPage) {
        let CatchUpPage {
            batch,
            last,
            cut,
            paged,
            roster,
        } = page;
        if roster {
            self.roster_answered(batch).await;
            return;
        }
        if last {
            self.catch_up.running = self.catch_up.running.saturating_sub(1);
        }
        if paged && let Some((newest, _)) = batch.newest_message() {
            self.catch_up.paged_to = self.catch_up.paged_to.max(Some(newest));
        }
        self.feed(crate::proto::room::Input::CheckedHistory(batch))
            .await;
        if last && paged {
            self.paged_through(cut);
        }
        if self.catch_up.running == 0 {
            self.release_held();
        }
    }

    /// Ask a few neighbours, picked at random, for what we missed; their answers are checked
    /// off this thread, held to what was asked, and come back through `history_rx`. The
    /// newest page serves a newcomer; after `Lagged`, the first lane pages through from
    /// `since` to the end, so every lost line comes back.
    pub(super) fn catch_up(&mut self, since: UnixMillis, page: Page) {
        if page == Page::Oldest {
            // One paging catch-up at a time: lagging again while it runs means one more after.
            if let Some(again) = &mut self.catch_up.paging {
                *again = true;
                return;
            }
        }
        let topic = self.room.topic();
        let neighbors: Vec<_> = self.room.neighbors().copied().collect();
        let lanes = lane::deal(&neighbors, CATCH_UP_PEERS, lane::TRIES, &mut rand::rng());
        for (k, peers) in lanes.into_iter().enumerate() {
            let paged = page == Page::Oldest && k == 0;
            let (pages, limit) = if paged {
                self.catch_up.paging = Some(false);
                self.catch_up.paged_to = None;
                (MAX_PAGES, MAX_ANSWER_ENVELOPES / 2)
            } else {
                (1, self.room.history_window().max_messages)
            };
            let lane = Lane {
                peers,
                topic,
                since,
                limit,
                pages,
                paged,
                roster: false,
            };
            let node = self.node.clone();
            let sealing = self.sealing.clone();
            let fetch = move |peer, since| {
                let answer = node.fetch_history(peer, topic, since, limit, page);
                let sealing = sealing.clone();
                async move { Ok(open_answer(sealing.as_ref(), answer.await?)) }
            };
            self.catch_up.running += 1;
            tokio::spawn(lane.run(fetch, self.catch_up.results_tx.clone()));
        }
    }

    /// Ask a neighbour, at random, for its member list: a request for no message (see
    /// [`Self::serve_history`]); another if it fails (up to [`lane::TRIES`]). When all fail (a
    /// member that many newcomers asked at once turns some away), ask again later.
    pub(super) fn ask_roster(&mut self) {
        self.catch_up.roster_asks = 0;
        self.ask_roster_after(Duration::ZERO);
    }

    fn ask_roster_after(&mut self, delay: Duration) {
        let neighbors: Vec<_> = self.room.neighbors().copied().collect();
        let peers = lane::deal(&neighbors, 1, lane::TRIES, &mut rand::rng());
        let Some(peers) = peers.into_iter().next() else {
            return;
        };
        let lane = Lane {
            peers,
            topic: self.room.topic(),
            since: UnixMillis::now(),
            limit: 0,
            pages: 1,
            paged: false,
            roster: true,
        };
        let node = self.node.clone();
        let topic = self.room.topic();
        let sealing = self.sealing.clone();
        let fetch = move |peer, since| {
            let answer = node.fetch_history(peer, topic, since, 0, Page::Newest);
            let sealing = sealing.clone();
            async move { Ok(open_answer(sealing.as_ref(), answer.await?)) }
        };
        let results = self.catch_up.results_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            lane.run(fetch, results).await;
        });
    }

    /// A member list came (or every neighbour asked failed to give one).
    async fn roster_answered(&mut self, batch: wire::CheckedBatch) {
        let asks = &mut self.catch_up.roster_asks;
        if batch.accepted.is_empty() && *asks < ROSTER_RETRIES {
            *asks += 1;
            let delay = ROSTER_RETRY_AFTER * (1 << *asks);
            self.ask_roster_after(delay);
            return;
        }
        self.feed(crate::proto::room::Input::Roster(batch)).await;
    }

    /// A paging catch-up ended: if the room lagged again meanwhile, or the page cap cut it,
    /// page on from the newest line it brought. Not from where a catch-up starts afresh
    /// (the newest line held less the overlap for skewed clocks, 2 minutes): at 16,000 lines
    /// a second that is the whole burst again, so every run paged the same first 64,000
    /// lines and the last 8,000 of 80,000 never came back. A line lost in a lag while the
    /// run paged was sent before the run's pages that reached past it were read.
    fn paged_through(&mut self, cut: bool) {
        let again = self.catch_up.paging.take() == Some(true);
        let reached = self.catch_up.paged_to.take();
        if again || cut {
            let since = reached.unwrap_or_else(|| self.room.catch_up_since(UnixMillis::now()));
            self.catch_up(since, Page::Oldest);
        }
    }

    /// Answer a peer's catch-up request: from disk in a task (the store thread does the
    /// reading), else from the room's memory.
    pub(super) fn serve_history(&self, mut query: HistoryQuery) {
        // A private room's history and member list are its members' only, and with
        // `/history joined` only what was said since each joined.
        if !self.may_read(&query.peer) {
            let _ = query.reply.send(Vec::new());
            return;
        }
        // Our own window and limit bound every page, whatever was asked (`--history-days`,
        // `--history-limit`).
        let window = self.room.history_window();
        query.since = query
            .since
            .max(self.readable_since(&query.peer))
            .max(window.oldest(UnixMillis::now()));
        let limit = query
            .limit
            .min(MAX_ANSWER_ENVELOPES / 2)
            .min(window.max_messages);
        // A request for no message asks for the member list (older members answer it with
        // nothing: the newcomer then learns the members from their answers and heartbeats).
        // In a private room every answer goes sealed, envelope by envelope.
        if query.limit == 0 {
            let roster = self.room.roster(UnixMillis::now());
            let _ = query.reply.send(seal_answer(self.sealing.as_ref(), roster));
            return;
        }
        match &self.store {
            Some(store) => {
                // Reading pages from disk is bounded: past a few at once, askers get nothing
                // (they ask another member, or again later).
                let Ok(permit) = self.catch_up.serving.clone().try_acquire_owned() else {
                    let _ = query.reply.send(Vec::new());
                    return;
                };
                let store = store.clone();
                let topic = self.room.topic();
                let now = UnixMillis::now();
                let since = query.since;
                // What the store may not have committed yet. Paging through a gap, only
                // when memory holds all of it since `since`: else (a fast sender's store a
                // thousand lines behind) memory's newest would follow the disk's newest with
                // lines neither holds between, and the asker's next page would start past them.
                let whole = self.room.history_held_since(since);
                let recent = match query.page {
                    Page::Oldest if !whole => Vec::new(),
                    _ => self.room.history_answer(since, limit, query.page, now),
                };
                let sealing = self.sealing.clone();
                tokio::spawn(async move {
                    let page = query.page;
                    let answer = store
                        .call(move |s| s.history_page(topic, since, limit, page, recent))
                        .await;
                    let answer = match answer {
                        Ok(Ok(answer)) => answer,
                        Ok(Err(err)) => {
                            tracing::warn!("cannot read history to serve: {err}");
                            Vec::new()
                        }
                        Err(_) => Vec::new(),
                    };
                    let _ = query.reply.send(seal_answer(sealing.as_ref(), answer));
                    drop(permit);
                });
            }
            None => {
                let answer =
                    self.room
                        .history_answer(query.since, limit, query.page, UnixMillis::now());
                let _ = query.reply.send(seal_answer(self.sealing.as_ref(), answer));
            }
        }
    }
}

/// Check a batch of envelopes' signatures on the blocking pool, not the network thread.
pub async fn check_off_thread(envelopes: Vec<Vec<u8>>, topic: TopicId) -> wire::CheckedBatch {
    if envelopes.is_empty() {
        return wire::CheckedBatch::default();
    }
    tokio::task::spawn_blocking(move || wire::check_batch(envelopes, &topic, UnixMillis::now()))
        .await
        .unwrap_or_default()
}

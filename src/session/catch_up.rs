//! History between members, both ways, off the network thread where it costs: asking
//! neighbours for what we missed (answers checked on the blocking pool; after `Lagged`, page by
//! page until the gap is closed), and answering their requests (from disk when there is a
//! store, which reaches further back than the room's memory).

mod lane;
#[cfg(test)]
mod tests;
mod window;

use std::time::Duration;

use self::lane::Lane;
use super::actor::Actor;
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
    /// Of a request paging through a gap.
    pub paged: bool,
    /// A member list (see [`Actor::ask_roster`]), not history.
    pub roster: bool,
}

impl Actor {
    /// Ask a few neighbours, picked at random, for what we missed; their answers are checked
    /// off this thread, held to what was asked, and come back through `history_rx`. The
    /// newest page serves a newcomer; after `Lagged`, the first lane pages through from
    /// `since` to the end, so every lost line comes back.
    pub(super) fn catch_up(&mut self, since: UnixMillis, page: Page) {
        if page == Page::Oldest {
            // One paging catch-up at a time: lagging again while it runs means one more after.
            if let Some(again) = &mut self.paging {
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
                self.paging = Some(false);
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
            let fetch = move |peer, since| node.fetch_history(peer, topic, since, limit, page);
            self.catching_up += 1;
            tokio::spawn(lane.run(fetch, self.history_tx.clone()));
        }
    }

    /// Ask a neighbour, at random, for its member list: a request for no message (see
    /// [`Self::serve_history`]); another if it fails (up to [`lane::TRIES`]). When all fail (a
    /// member that many newcomers asked at once turns some away), ask again later.
    pub(super) fn ask_roster(&mut self) {
        self.roster_asks = 0;
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
        let fetch = move |peer, since| node.fetch_history(peer, topic, since, 0, Page::Newest);
        let results = self.history_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            lane.run(fetch, results).await;
        });
    }

    /// A member list came (or every neighbour asked failed to give one).
    pub(super) async fn roster_answered(&mut self, batch: wire::CheckedBatch) {
        if batch.accepted.is_empty() && self.roster_asks < ROSTER_RETRIES {
            self.roster_asks += 1;
            self.ask_roster_after(ROSTER_RETRY_AFTER * (1 << self.roster_asks));
            return;
        }
        self.feed(crate::proto::room::Input::Roster(batch)).await;
    }

    /// A paging catch-up ended: if the room lagged again meanwhile, page through once more.
    pub(super) fn paged_through(&mut self) {
        if self.paging.take() == Some(true) {
            let since = self.room.catch_up_since(UnixMillis::now());
            self.catch_up(since, Page::Oldest);
        }
    }

    /// Answer a peer's catch-up request: from disk in a task (the store thread does the
    /// reading), else from the room's memory.
    pub(super) fn serve_history(&self, query: HistoryQuery) {
        let limit = query.limit.min(MAX_ANSWER_ENVELOPES / 2);
        // A request for no message asks for the member list (older members answer it with
        // nothing: the newcomer then learns the members from their answers and heartbeats).
        if query.limit == 0 {
            let _ = query.reply.send(self.room.roster(UnixMillis::now()));
            return;
        }
        match &self.store {
            Some(store) => {
                // Reading pages from disk is bounded: past a few at once, askers get nothing
                // (they ask another member, or again later).
                let Ok(permit) = self.serving.clone().try_acquire_owned() else {
                    let _ = query.reply.send(Vec::new());
                    return;
                };
                let store = store.clone();
                let topic = self.room.topic();
                let now = UnixMillis::now();
                let since = query.since.max(self.room.history_window().oldest(now));
                // What the store may not have committed yet.
                let recent = self.room.history_answer(since, limit, query.page, now);
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
                    let _ = query.reply.send(answer);
                    drop(permit);
                });
            }
            None => {
                let answer =
                    self.room
                        .history_answer(query.since, limit, query.page, UnixMillis::now());
                let _ = query.reply.send(answer);
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

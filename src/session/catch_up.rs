//! History between members, both ways, off the network thread where it costs: asking
//! neighbours for what we missed (answers checked on the blocking pool; after `Lagged`, page by
//! page until the gap is closed), and answering their requests (from disk when there is a
//! store, which reaches further back than the room's memory).

mod lane;
#[cfg(test)]
mod tests;
mod window;

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
/// Catch-up requests served from disk at once, per session.
pub const MAX_SERVING: usize = 4;

/// One answer (or page of one), checked.
pub struct CatchUpPage {
    pub batch: wire::CheckedBatch,
    /// The last page of this request.
    pub last: bool,
    /// Of a request paging through a gap.
    pub paged: bool,
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
            };
            let node = self.node.clone();
            let fetch = move |peer, since| node.fetch_history(peer, topic, since, limit, page);
            self.catching_up += 1;
            tokio::spawn(lane.run(fetch, self.history_tx.clone()));
        }
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

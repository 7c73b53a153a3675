//! Whom a catch-up asks, and what it does with a useless answer. Neighbours are asked in a
//! random order: in key order, a member who ground a low key would always be asked first and
//! could withhold the room's history from everyone. An answer that fails, is refused or holds
//! no message sends the lane on to its next peer, from the same point, a bounded number of
//! times.

use std::future::Future;

use rand::seq::SliceRandom;
use tokio::sync::mpsc;

use super::window::{self, Asked};
use super::{CatchUpPage, check_off_thread};
use crate::net::history::MAX_ANSWER_BYTES;
use crate::proto::wire::{CheckedBatch, MAX_ENVELOPE_SIZE};
use crate::proto::{EndpointId, TopicId, UnixMillis};

/// Peers one lane asks at most (the first, then others when an answer is useless).
pub(super) const TRIES: usize = 3;

/// The peers each of at most `lanes` lanes asks in turn: all of `neighbors` in one random
/// order, each lane starting at another place in it and going round, at most `tries` each.
/// Lanes thus start at different peers, and none asks a peer twice.
pub(super) fn deal(
    neighbors: &[EndpointId],
    lanes: usize,
    tries: usize,
    rng: &mut impl rand::Rng,
) -> Vec<Vec<EndpointId>> {
    let mut order = neighbors.to_vec();
    order.shuffle(rng);
    let n = order.len();
    (0..lanes.min(n))
        .map(|lane| (0..tries.min(n)).map(|k| order[(lane + k) % n]).collect())
        .collect()
}

/// One line of catch-up requests: a page from one peer, or pages through a gap.
#[derive(Debug, Clone)]
pub(super) struct Lane {
    /// Asked in this order while answers are useless.
    pub peers: Vec<EndpointId>,
    pub topic: TopicId,
    pub since: UnixMillis,
    pub limit: usize,
    /// Most pages read (1 unless paging through a gap).
    pub pages: usize,
    /// Pages through a gap (told to the actor with every page).
    pub paged: bool,
    /// Asks for a member list, not history (told to the actor with the answer).
    pub roster: bool,
}

/// What became of one request.
enum Outcome {
    /// Messages came; `next`: the page was full, ask on from there.
    Useful {
        batch: CheckedBatch,
        next: Option<UnixMillis>,
    },
    /// Failed, refused, or no message in it (what names it had are still worth keeping).
    Useless(CheckedBatch),
}

impl Lane {
    /// Ask until the lane is done, sending every checked page to `results`; the last page
    /// says so (exactly one does, even when every peer failed). `fetch` asks a peer for the
    /// envelopes since a time (the network, or a stand-in in tests).
    pub(super) async fn run<F, A>(self, mut fetch: F, results: mpsc::UnboundedSender<CatchUpPage>)
    where
        F: FnMut(EndpointId, UnixMillis) -> A,
        A: Future<Output = anyhow::Result<Vec<Vec<u8>>>>,
    {
        let mut peers = self.peers.iter().copied();
        let mut peer = peers.next();
        let mut since = self.since;
        let mut pages = 0;
        loop {
            let Some(asked) = peer else {
                let _ = results.send(self.page(CheckedBatch::default(), true, false));
                return;
            };
            match self.ask(&mut fetch, asked, since).await {
                Outcome::Useful { batch, next } => {
                    pages += 1;
                    let cut = next.is_some() && pages >= self.pages;
                    let next = next.filter(|_| pages < self.pages);
                    let last = next.is_none();
                    if results.send(self.page(batch, last, cut)).is_err() || last {
                        return;
                    }
                    since = next.unwrap_or(since);
                }
                Outcome::Useless(batch) => {
                    peer = peers.next();
                    let last = peer.is_none();
                    // Names alone are still worth keeping; the last page is sent anyway.
                    if !batch.accepted.is_empty() || last {
                        let gone = results.send(self.page(batch, last, false)).is_err();
                        if gone || last {
                            return;
                        }
                    }
                }
            }
        }
    }

    fn page(&self, batch: CheckedBatch, last: bool, cut: bool) -> CatchUpPage {
        CatchUpPage {
            batch,
            last,
            cut,
            paged: self.paged,
            roster: self.roster,
        }
    }

    async fn ask<F, A>(&self, fetch: &mut F, peer: EndpointId, since: UnixMillis) -> Outcome
    where
        F: FnMut(EndpointId, UnixMillis) -> A,
        A: Future<Output = anyhow::Result<Vec<Vec<u8>>>>,
    {
        let started = std::time::Instant::now();
        let envelopes = match fetch(peer, since).await {
            Ok(envelopes) => envelopes,
            Err(err) => {
                tracing::debug!(peer = %peer.fmt_short(), "catch-up failed: {err:#}");
                return Outcome::Useless(CheckedBatch::default());
            }
        };
        let count = envelopes.len();
        let bytes: usize = envelopes.iter().map(|e| e.len() + 4).sum();
        // The answerer stops at its byte limit too: a page that reached it is full.
        let at_byte_limit = bytes + MAX_ENVELOPE_SIZE + 4 > MAX_ANSWER_BYTES;
        let mut batch = check_off_thread(envelopes, self.topic).await;
        let asked = Asked {
            since,
            limit: self.limit,
        };
        let fit = match window::hold(&mut batch, asked, UnixMillis::now()) {
            Ok(fit) => fit,
            Err(over) => {
                tracing::debug!(peer = %peer.fmt_short(), "catch-up answer refused: {over}");
                return Outcome::Useless(CheckedBatch::default());
            }
        };
        if fit.early + fit.future > 0 {
            tracing::debug!(peer = %peer.fmt_short(), early = fit.early, future = fit.future, "catch-up answer held messages outside the window");
        }
        let newest = batch.newest_message().map(|(sent, _)| sent.0);
        tracing::debug!(peer = %peer.fmt_short(), count, since = since.0, ?newest, kept = fit.messages, elapsed = ?started.elapsed(), "catch-up answer");
        if self.roster {
            // A member list holds no message: any list ends the lane, an empty one does not.
            return match batch.accepted.is_empty() {
                true => Outcome::Useless(batch),
                false => Outcome::Useful { batch, next: None },
            };
        }
        let Some((newest, _)) = batch.newest_message() else {
            return Outcome::Useless(batch);
        };
        // Another page while this one moved forward in time and was full; when paging
        // through a gap, whenever it moved forward: the answerer may cap pages below our
        // limit (a member without a data directory serves at most its own history size), so
        // only a page that brings nothing newer ends the gap.
        let full = fit.messages >= self.limit || at_byte_limit;
        let next = (newest > since && (full || self.paged)).then_some(newest);
        Outcome::Useful { batch, next }
    }
}

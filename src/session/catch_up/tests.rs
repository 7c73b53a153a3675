//! Asking for history from a hostile room: random peers, a fallback on useless answers, and
//! answers held to what was asked. The network is a stand-in: a map from peer to answer.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::lane::{Lane, deal};
use super::window::{Asked, Fit, OverLimit, hold};
use super::*;
use crate::proto::wire::{MAX_CLOCK_SKEW_MS, MessageBody, Payload, seal};
use crate::proto::{EndpointId, SecretKey};

const T0: u64 = 1_750_000_000_000;

fn topic() -> TopicId {
    TopicId::from_bytes([9; 32])
}

fn message(author: &SecretKey, sent: u64, text: &str) -> Vec<u8> {
    let payload = Payload {
        nonce: rand::random(),
        sent,
        body: MessageBody::Message {
            from: author.public(),
            text: text.into(),
            action: false,
            file: None,
            reply_to: None,
            change: None,
        },
    };
    seal(author, &topic(), &payload).unwrap()
}

fn name(author: &SecretKey, sent: u64) -> Vec<u8> {
    let payload = Payload {
        nonce: rand::random(),
        sent,
        body: MessageBody::AboutMe {
            from: author.public(),
            name: "cat".into(),
            every: None,
        },
    };
    seal(author, &topic(), &payload).unwrap()
}

fn texts(batch: &wire::CheckedBatch) -> Vec<String> {
    let mut texts: Vec<String> = batch
        .accepted
        .iter()
        .filter_map(|(v, _)| match &v.body {
            MessageBody::Message { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    texts.sort();
    texts
}

fn peers(n: usize) -> Vec<EndpointId> {
    (0..n).map(|_| SecretKey::generate().public()).collect()
}

#[test]
fn neighbours_are_dealt_at_random_and_each_lane_tries_others_once() {
    let neighbors = peers(8);
    let mut first = BTreeSet::new();
    for _ in 0..50 {
        let lanes = deal(&neighbors, 2, 3, &mut rand::rng());
        assert_eq!(lanes.len(), 2);
        assert_ne!(lanes[0][0], lanes[1][0], "lanes start apart");
        for lane in &lanes {
            assert_eq!(lane.len(), 3);
            assert_eq!(lane.iter().collect::<BTreeSet<_>>().len(), 3, "{lane:?}");
        }
        first.insert(lanes[0][0]);
    }
    // In key order it would always be the same one; at random, one of 8 fifty times over.
    assert!(first.len() > 2, "{first:?}");
    // Fewer neighbours than lanes or tries: each is still asked.
    let two = peers(2);
    let lanes = deal(&two, 2, 3, &mut rand::rng());
    assert_eq!(lanes.len(), 2);
    assert!(
        lanes
            .iter()
            .all(|lane| lane.len() == 2 && lane[0] != lane[1])
    );
    assert!(deal(&[], 2, 3, &mut rand::rng()).is_empty());
}

#[tokio::test]
async fn an_answer_is_held_to_the_asked_window_and_limit() {
    let cat = SecretKey::generate();
    let since = T0;
    let now = UnixMillis(T0 + 60_000);
    let answer = vec![
        // A name, however old, is what names the author: kept.
        name(&cat, since - 3_600_000),
        message(&cat, since - 1, "early"),
        message(&cat, since, "at since"),
        message(&cat, now.0, "now"),
        message(&cat, now.0 + MAX_CLOCK_SKEW_MS + 1, "from the future"),
    ];
    // Checked by a clock far ahead, so the future one gets past the signature check.
    let check =
        |answer: Vec<Vec<u8>>| wire::check_batch(answer, &topic(), UnixMillis(u64::MAX / 2));
    let mut batch = check(answer.clone());
    assert_eq!(batch.accepted.len(), 5);
    let asked = Asked {
        since: UnixMillis(since),
        limit: 4,
    };
    let fit = hold(&mut batch, asked, now).unwrap();
    assert_eq!(
        fit,
        Fit {
            messages: 4,
            early: 1,
            future: 1
        }
    );
    assert_eq!(texts(&batch), ["at since", "now"]);
    assert_eq!(batch.accepted.len(), 3, "the name stays");
    assert!(
        batch
            .rejected
            .iter()
            .any(|r| matches!(r, wire::Rejection::FutureTimestamp { .. })),
        "the room counts the future one"
    );
    assert!(
        batch
            .rejected
            .iter()
            .any(|r| matches!(r, wire::Rejection::OutsideWindow { early_ms: 1 })),
        "and the early one"
    );
    // One message over the limit: refused whole.
    let mut batch = check(answer);
    let asked = Asked {
        since: UnixMillis(since),
        limit: 3,
    };
    let refused = hold(&mut batch, asked, now);
    assert_eq!(
        refused,
        Err(OverLimit {
            messages: 4,
            limit: 3
        })
    );
}

/// What a stand-in peer answers: envelopes, or why it failed.
type Answer = Result<Vec<Vec<u8>>, String>;

/// A stand-in network: what each peer answers to a request since a time (by default, the
/// answer for any time), and who was asked, in order.
#[derive(Clone, Default)]
struct Net {
    answers: HashMap<(EndpointId, Option<u64>), Answer>,
    asked: Arc<Mutex<Vec<(EndpointId, u64)>>>,
}

impl Net {
    fn answer(&mut self, peer: EndpointId, since: Option<u64>, answer: Result<Vec<Vec<u8>>, &str>) {
        self.answers
            .insert((peer, since), answer.map_err(str::to_string));
    }

    fn asked(&self) -> Vec<(EndpointId, u64)> {
        self.asked.lock().unwrap().clone()
    }

    /// Run `lane` on this network; every page it sends, in order.
    async fn run(&self, lane: Lane) -> Vec<CatchUpPage> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let net = self.clone();
        let fetch = move |peer: EndpointId, since: UnixMillis| {
            net.asked.lock().unwrap().push((peer, since.0));
            let answer = net
                .answers
                .get(&(peer, Some(since.0)))
                .or_else(|| net.answers.get(&(peer, None)))
                .cloned()
                .unwrap_or_else(|| Err("nobody there".into()));
            async move { answer.map_err(anyhow::Error::msg) }
        };
        lane.run(fetch, tx).await;
        let mut pages = Vec::new();
        while let Ok(page) = rx.try_recv() {
            pages.push(page);
        }
        let lasts = pages.iter().filter(|p| p.last).count();
        assert_eq!(lasts, 1, "exactly one last page");
        assert!(pages.last().is_some_and(|p| p.last), "and it comes last");
        pages
    }
}

fn lane(peers: &[EndpointId], limit: usize, pages: usize) -> Lane {
    Lane {
        peers: peers.to_vec(),
        topic: topic(),
        since: UnixMillis(T0),
        limit,
        pages,
        paged: pages > 1,
        roster: false,
    }
}

/// `peer` serves `count` pages of two lines each (`m0`, `m1`, ...), each asked from the
/// newest line of the one before, 20 ms apart.
fn pages_of_two(net: &mut Net, peer: EndpointId, cat: &SecretKey, count: u64) {
    for k in 0..count {
        let from = T0 + 20 * k;
        let page = vec![
            message(cat, from + 10, &format!("m{}", 2 * k)),
            message(cat, from + 20, &format!("m{}", 2 * k + 1)),
        ];
        net.answer(peer, Some(if k == 0 { T0 } else { from }), Ok(page));
    }
}

fn all_texts(pages: &[CatchUpPage]) -> Vec<String> {
    let mut all: Vec<String> = pages.iter().flat_map(|p| texts(&p.batch)).collect();
    all.sort();
    all
}

#[tokio::test]
async fn an_empty_failed_or_refused_answer_sends_the_lane_to_the_next_peer() {
    let cat = SecretKey::generate();
    let [empty, failing, stuffing, honest, unasked] = peers(5).try_into().unwrap();
    let mut net = Net::default();
    net.answer(empty, None, Ok(Vec::new()));
    net.answer(failing, None, Err("connection lost"));
    // Over the limit of 2: refused, none of it shown.
    let stuffed = (0..3).map(|i| message(&cat, T0 + i, "stuffed")).collect();
    net.answer(stuffing, None, Ok(stuffed));
    let lines = vec![name(&cat, T0 - 1), message(&cat, T0 + 5, "hello")];
    net.answer(honest, None, Ok(lines));

    let order = [empty, failing, stuffing, honest, unasked];
    let pages = net.run(lane(&order, 2, 1)).await;
    assert_eq!(all_texts(&pages), ["hello"]);
    let asked: Vec<_> = net.asked().into_iter().map(|(peer, _)| peer).collect();
    assert_eq!(asked, &order[..4], "stops at the first useful answer");

    // Nobody useful: every peer of the lane is asked once, then it ends empty.
    let net = Net::default();
    let pages = net.run(lane(&order[..3], 2, 1)).await;
    assert!(all_texts(&pages).is_empty());
    assert_eq!(net.asked().len(), 3);
}

#[tokio::test]
async fn paging_goes_on_from_where_it_was_with_another_peer() {
    let cat = SecretKey::generate();
    let [quitter, honest] = peers(2).try_into().unwrap();
    let mut net = Net::default();
    // The first page is full (limit 2); then the quitter answers nothing more.
    let first = vec![message(&cat, T0 + 10, "a"), message(&cat, T0 + 20, "b")];
    net.answer(quitter, Some(T0), Ok(first));
    net.answer(quitter, Some(T0 + 20), Ok(Vec::new()));
    let second = vec![message(&cat, T0 + 30, "c")];
    net.answer(honest, Some(T0 + 20), Ok(second.clone()));
    // Nothing newer: the gap is closed.
    net.answer(honest, Some(T0 + 30), Ok(second));

    let pages = net.run(lane(&[quitter, honest], 2, 8)).await;
    assert_eq!(all_texts(&pages), ["a", "b", "c", "c"]);
    assert!(pages.iter().all(|p| p.paged));
    assert_eq!(
        net.asked(),
        [
            (quitter, T0),
            (quitter, T0 + 20),
            (honest, T0 + 20),
            (honest, T0 + 30)
        ]
    );
}

#[tokio::test]
async fn paging_goes_on_when_a_peer_serves_smaller_pages_than_asked() {
    let cat = SecretKey::generate();
    let [small] = peers(1).try_into().unwrap();
    let mut net = Net::default();
    // Asked for 100 at a time, it serves 2 (its own history size); 6 lines in the gap.
    pages_of_two(&mut net, small, &cat, 3);
    net.answer(small, Some(T0 + 60), Ok(vec![message(&cat, T0 + 60, "m5")]));
    let pages = net.run(lane(&[small], 100, 64)).await;
    let mut texts = all_texts(&pages);
    texts.dedup();
    assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4", "m5"]);
}

#[tokio::test]
async fn a_lane_cut_by_the_page_cap_says_so_and_one_that_reached_the_end_does_not() {
    let cat = SecretKey::generate();
    let [peer] = peers(1).try_into().unwrap();
    let mut net = Net::default();
    // Full pages (limit 2) moving forward, more than the cap of 2 pages.
    pages_of_two(&mut net, peer, &cat, 3);
    let pages = net.run(lane(&[peer], 2, 2)).await;
    assert_eq!(all_texts(&pages), ["m0", "m1", "m2", "m3"]);
    let cut: Vec<bool> = pages.iter().map(|p| p.cut).collect();
    assert_eq!(cut, [false, true], "the session pages on from m3");
    // The same gap with room for every page: it ends where nothing newer comes, uncut.
    let pages = net.run(lane(&[peer], 2, 8)).await;
    assert!(pages.iter().all(|p| !p.cut));
    assert!(all_texts(&pages).contains(&"m5".to_string()));
}

/// A member list holds no message: the first non-empty one ends the lane (an empty or failed
/// answer still sends it on), so a list request costs one list, not one per neighbour.
#[tokio::test]
async fn a_member_list_lane_stops_at_the_first_list() {
    let cat = SecretKey::generate();
    let [failing, listing, unasked] = peers(3).try_into().unwrap();
    let mut net = Net::default();
    net.answer(failing, None, Err("busy"));
    net.answer(listing, None, Ok(vec![name(&cat, T0 - 1)]));
    net.answer(unasked, None, Ok(vec![name(&cat, T0 - 1)]));
    let mut roster = lane(&[failing, listing, unasked], 0, 1);
    roster.roster = true;
    let pages = net.run(roster).await;
    let asked: Vec<_> = net.asked().into_iter().map(|(peer, _)| peer).collect();
    assert_eq!(asked, [failing, listing]);
    let last = pages.last().expect("a last page");
    assert!(last.last && last.roster);
    assert_eq!(last.batch.accepted.len(), 1);
}

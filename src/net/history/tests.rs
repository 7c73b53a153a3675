//! The history protocol's bounds: framing and caps as pure functions, and over loopback a
//! server that cuts off peers who stall and refuses requests over its limits.

use std::time::Duration;

use iroh::address_lookup::memory::MemoryLookup;
use iroh::endpoint::{ApplicationClose, ConnectionError, PortmapperConfig, presets};
use iroh::protocol::Router;
use iroh::{Endpoint, RelayMode};

use super::server::{CLOSE_BUSY, CLOSE_TIMED_OUT, capped};
use super::*;
use crate::net::known::Known;
use crate::proto::SecretKey;

/// Generous: only a broken build waits this long.
const WAIT: Duration = Duration::from_secs(20);
/// Long enough that a stalled request outlives the test.
const FOREVER: Duration = Duration::from_secs(3600);

/// Limits that never time out: 2 places per peer and per room, `total` in all, `reserved`
/// of them for known keys.
fn patient(total: usize, reserved: usize) -> ServeLimits {
    ServeLimits {
        read_timeout: FOREVER,
        write_timeout: FOREVER,
        per_peer: 2,
        per_room: 2,
        total,
        reserved,
    }
}

pub(in crate::net) static LOOKUP: std::sync::LazyLock<MemoryLookup> =
    std::sync::LazyLock::new(MemoryLookup::new);

fn frame(envelopes: &[&[u8]]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for envelope in envelopes {
        bytes.extend_from_slice(&(envelope.len() as u32).to_be_bytes());
        bytes.extend_from_slice(envelope);
    }
    bytes
}

#[test]
fn answers_parse_and_bad_framing_is_refused() {
    let good = frame(&[b"one", b"", b"three"]);
    assert_eq!(
        parse_answer(&good).unwrap(),
        vec![b"one".to_vec(), vec![], b"three".to_vec()]
    );
    assert!(parse_answer(&good[..good.len() - 1]).is_err());
    assert!(parse_answer(&[0, 0]).is_err());
    assert!(parse_answer(&u32::MAX.to_be_bytes()).is_err());
    assert!(parse_answer(&[]).unwrap().is_empty());
}

#[test]
fn an_answer_over_the_envelope_count_is_refused_whole() {
    let most = vec![&b""[..]; MAX_ANSWER_ENVELOPES];
    assert_eq!(
        parse_answer(&frame(&most)).unwrap().len(),
        MAX_ANSWER_ENVELOPES
    );
    let over = vec![&b""[..]; MAX_ANSWER_ENVELOPES + 1];
    assert!(parse_answer(&frame(&over)).is_err());
}

#[test]
fn the_server_sends_no_more_than_an_asker_accepts() {
    let tiny: Vec<Arc<[u8]>> = (0..MAX_ANSWER_ENVELOPES + 10)
        .map(|_| Arc::from(&b"x"[..]))
        .collect();
    assert_eq!(capped(&tiny).len(), MAX_ANSWER_ENVELOPES);
    let big: Vec<Arc<[u8]>> = (0..1000)
        .map(|_| Arc::from(vec![7u8; MAX_ENVELOPE_SIZE]))
        .collect();
    let sent = capped(&big);
    let bytes: usize = sent.iter().map(|e| 4 + e.len()).sum();
    assert!(bytes <= MAX_ANSWER_BYTES, "{bytes}");
    assert!(
        bytes + 4 + MAX_ENVELOPE_SIZE > MAX_ANSWER_BYTES,
        "stopped early"
    );
    assert!(parse_answer(&frame(&sent.iter().map(|e| &e[..]).collect::<Vec<_>>())).is_ok());
}

#[test]
fn at_most_two_requests_per_peer_and_sixteen_in_all() {
    let limits = ServeLimits {
        per_peer: 2,
        ..ServeLimits::default()
    };
    let server = HistoryServer::with_limits(HistoryRoutes::default(), limits, Known::default());
    let peers: Vec<EndpointId> = (0..9).map(|_| SecretKey::generate().public()).collect();
    let mut slots = Vec::new();
    for peer in &peers[..8] {
        slots.push(server.take(*peer).expect("first"));
        slots.push(server.take(*peer).expect("second"));
        assert!(server.take(*peer).is_none(), "a third of one peer");
    }
    assert_eq!(server.serving(&peers[0]), (16, 2));
    assert!(server.take(peers[8]).is_none(), "the 17th");
    // A place freed is a place for anyone.
    slots.swap_remove(0);
    assert_eq!(server.serving(&peers[0]), (15, 1));
    slots.push(server.take(peers[8]).expect("after one ended"));
    drop(slots);
    assert_eq!(server.serving(&peers[8]), (0, 0));
}

/// A member in several rooms with us rejoins them at once: two requests per room are served,
/// a third about the same room is not, and each room counts apart.
#[test]
fn two_requests_per_peer_and_room() {
    let server = HistoryServer::new(HistoryRoutes::default(), Known::default());
    let peer = SecretKey::generate().public();
    let rooms: Vec<TopicId> = (1..=5).map(|n| TopicId::from_bytes([n; 32])).collect();
    let mut slots = Vec::new();
    for room in &rooms {
        slots.push(server.take_room(peer, *room).expect("first"));
        slots.push(server.take_room(peer, *room).expect("second"));
        assert!(
            server.take_room(peer, *room).is_none(),
            "a third about one room"
        );
    }
    let other = SecretKey::generate().public();
    assert!(
        server.take_room(other, rooms[0]).is_some(),
        "another peer's"
    );
    slots.swap_remove(0);
    assert!(
        server.take_room(peer, rooms[0]).is_some(),
        "after one ended"
    );
    // Connections: up to 12 of one peer are read at once, 16 in all.
    let mut taken = Vec::new();
    while let Some(slot) = server.take(peer) {
        taken.push(slot);
    }
    assert_eq!(taken.len(), ServeLimits::default().per_peer);
}

/// An endpoint on loopback that finds peers in `LOOKUP` (servers are added as they start).
async fn endpoint() -> Endpoint {
    endpoint_with(SecretKey::generate()).await
}

/// A loopback endpoint with `secret` that finds peers in `LOOKUP` (key delivery's tests too).
pub(in crate::net) async fn endpoint_with(secret: SecretKey) -> Endpoint {
    Endpoint::builder(presets::Minimal)
        .secret_key(secret)
        .address_lookup(LOOKUP.clone())
        .relay_mode(RelayMode::Disabled)
        .portmapper_config(PortmapperConfig::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .bind()
        .await
        .unwrap()
}

/// A node serving history with `limits`; its one room answers every request with `answer`.
struct Server {
    router: Router,
    server: HistoryServer,
    topic: TopicId,
    /// The keys it knows.
    known: Known,
}

impl Server {
    async fn start(limits: ServeLimits, answer: Vec<Arc<[u8]>>) -> Self {
        let routes = HistoryRoutes::default();
        let topic = TopicId::from_bytes(rand::random());
        let mut queries = routes.add(topic);
        tokio::spawn(async move {
            while let Some(query) = queries.recv().await {
                let _ = query.reply.send(answer.clone());
            }
        });
        let known = Known::default();
        let server = HistoryServer::with_limits(routes, limits, known.clone());
        let router = Router::builder(endpoint().await)
            .accept(HISTORY_ALPN, server.clone())
            .spawn();
        LOOKUP.add_endpoint_info(router.endpoint().addr());
        Self {
            router,
            server,
            topic,
            known,
        }
    }

    /// Connect from `client` and send a whole request, then keep the connection open: the
    /// server holds a serving place for it until the asker hangs up.
    async fn hold(&self, client: &Endpoint) -> Stalled {
        let stalled = self.stall(client, &[]).await;
        let mut send = stalled._send;
        let request = serde_json::to_vec(&Request {
            topic: self.topic.to_string(),
            since: 0,
            limit: 10,
            page: Page::Newest,
        })
        .unwrap();
        let mut frame = (request.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&request);
        send.write_all(&frame).await.unwrap();
        Stalled {
            _send: send,
            ..stalled
        }
    }

    /// Connect from `client` and open a request stream, sending only `sent` of it.
    async fn stall(&self, client: &Endpoint, sent: &[u8]) -> Stalled {
        let conn = client
            .connect(self.router.endpoint().addr(), HISTORY_ALPN)
            .await
            .unwrap();
        let (mut send, recv) = conn.open_bi().await.unwrap();
        // QUIC announces a stream with its first bytes (a hold sends them next).
        if !sent.is_empty() {
            send.write_all(sent).await.unwrap();
        }
        Stalled {
            conn,
            _send: send,
            _recv: recv,
        }
    }

    /// Wait until `peer` has `count` requests being served.
    async fn wait_serving(&self, peer: &EndpointId, count: usize) {
        let wait = async {
            while self.server.serving(peer).1 != count {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(WAIT, wait)
            .await
            .expect("never served");
    }

    async fn fetch(&self, client: &Endpoint) -> anyhow::Result<Vec<Vec<u8>>> {
        let id = self.router.endpoint().id();
        fetch(client, id, self.topic, UnixMillis(0), 10, Page::Newest).await
    }
}

/// A request left hanging. The streams are kept: dropping them would end the request.
struct Stalled {
    conn: iroh::endpoint::Connection,
    _send: iroh::endpoint::SendStream,
    _recv: iroh::endpoint::RecvStream,
}

async fn close_code(conn: &iroh::endpoint::Connection) -> u64 {
    match tokio::time::timeout(WAIT, conn.closed()).await.unwrap() {
        ConnectionError::ApplicationClosed(ApplicationClose { error_code, .. }) => {
            error_code.into_inner()
        }
        other => panic!("closed otherwise: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_never_sent_or_an_answer_never_read_is_cut_off_and_freed() {
    let limits = ServeLimits {
        read_timeout: Duration::from_millis(100),
        write_timeout: Duration::from_millis(100),
        ..ServeLimits::default()
    };
    // More than QUIC's windows take unread.
    let answer = vec![Arc::from(vec![1u8; MAX_ENVELOPE_SIZE]); 300];
    let server = Server::start(limits, answer).await;
    let client = endpoint().await;
    // Two bytes of the length, then nothing.
    let silent = server.stall(&client, &[0, 0]).await;
    assert_eq!(close_code(&silent.conn).await, u64::from(CLOSE_TIMED_OUT));
    assert_eq!(server.server.serving(&client.id()), (0, 0));

    // A whole request, then the answer is never read.
    let conn = client
        .connect(server.router.endpoint().addr(), HISTORY_ALPN)
        .await
        .unwrap();
    let (mut send, _recv) = conn.open_bi().await.unwrap();
    let request = serde_json::to_vec(&Request {
        topic: server.topic.to_string(),
        since: 0,
        limit: 10,
        page: Page::Newest,
    })
    .unwrap();
    send.write_all(&(request.len() as u32).to_be_bytes())
        .await
        .unwrap();
    send.write_all(&request).await.unwrap();
    send.finish().unwrap();
    assert_eq!(close_code(&conn).await, u64::from(CLOSE_TIMED_OUT));
    assert_eq!(server.server.serving(&client.id()), (0, 0));
    server.router.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_request_of_one_peer_is_refused_while_two_are_served() {
    let limits = patient(3, 0);
    let server = Server::start(limits, vec![Arc::from(&b"hello"[..])]).await;
    let (ann, bob, cat) = (endpoint().await, endpoint().await, endpoint().await);
    let held = [server.hold(&ann).await, server.hold(&ann).await];
    server.wait_serving(&ann.id(), 2).await;
    let third = server.hold(&ann).await;
    assert_eq!(close_code(&third.conn).await, u64::from(CLOSE_BUSY));
    assert!(
        server.fetch(&ann).await.is_err(),
        "refused through fetch too"
    );
    // Another peer is served meanwhile, up to the total.
    let _bob_held = server.hold(&bob).await;
    server.wait_serving(&bob.id(), 1).await;
    assert_eq!(server.server.serving(&bob.id()).0, 3);
    let fourth = server.hold(&cat).await;
    assert_eq!(
        close_code(&fourth.conn).await,
        u64::from(CLOSE_BUSY),
        "over the total"
    );
    // Once ann's requests end, she is served again.
    for held in held {
        held.conn.close(0u32.into(), b"bye");
    }
    server.wait_serving(&ann.id(), 0).await;
    let answer = server.fetch(&ann).await.unwrap();
    assert_eq!(answer, vec![b"hello".to_vec()]);
    server.router.shutdown().await.unwrap();
}

/// A stranger who connects and sends no request (or half of one) holds a reading place of
/// its own, never a serving one: members are served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_never_sent_hold_no_serving_place() {
    let limits = patient(2, 0);
    let server = Server::start(limits, vec![Arc::from(&b"hello"[..])]).await;
    let (eve, ann) = (endpoint().await, endpoint().await);
    let _silent = [
        server.stall(&eve, &[0]).await,
        server.stall(&eve, &[0, 0]).await,
    ];
    // Past its reading places, eve is refused at once.
    let third = eve
        .connect(server.router.endpoint().addr(), HISTORY_ALPN)
        .await
        .unwrap();
    assert_eq!(close_code(&third).await, u64::from(CLOSE_BUSY));
    assert_eq!(server.server.serving(&eve.id()), (0, 0));
    // Twice over: both serving places are free.
    assert_eq!(server.fetch(&ann).await.unwrap(), vec![b"hello".to_vec()]);
    assert_eq!(server.fetch(&ann).await.unwrap(), vec![b"hello".to_vec()]);
    server.router.shutdown().await.unwrap();
}

/// Strangers (keys that share no live room with us) may not take the places kept for the
/// keys we know: however many keys they have, a member is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_are_kept_for_known_keys() {
    let limits = patient(2, 1);
    let server = Server::start(limits, vec![Arc::from(&b"hello"[..])]).await;
    let (eve, mallory, ann) = (endpoint().await, endpoint().await, endpoint().await);
    server.known.add_members([ann.id()]);
    let _held = server.hold(&eve).await;
    server.wait_serving(&eve.id(), 1).await;
    for stranger in [&eve, &mallory] {
        let refused = server.hold(stranger).await;
        assert_eq!(close_code(&refused.conn).await, u64::from(CLOSE_BUSY));
    }
    assert_eq!(server.fetch(&ann).await.unwrap(), vec![b"hello".to_vec()]);
    server.router.shutdown().await.unwrap();
}

/// A server that answers with whatever bytes it is given, framing or not.
#[derive(Debug, Clone)]
struct Raw(Arc<Vec<u8>>);

impl iroh::protocol::ProtocolHandler for Raw {
    async fn accept(
        &self,
        conn: iroh::endpoint::Connection,
    ) -> Result<(), iroh::protocol::AcceptError> {
        if let Ok((mut send, _recv)) = conn.accept_bi().await {
            let _ = send.write_all(&self.0).await;
            let _ = send.finish();
            conn.closed().await;
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asker_refuses_an_answer_over_the_caps() {
    let client = endpoint().await;
    let topic = TopicId::from_bytes([1; 32]);
    let answers = [
        (vec![0u8; MAX_ANSWER_BYTES + 1], "bytes"),
        (frame(&vec![&b""[..]; MAX_ANSWER_ENVELOPES + 1]), "count"),
        (frame(&[b"fine"]), "within"),
    ];
    for (answer, what) in answers {
        let router = Router::builder(endpoint().await)
            .accept(HISTORY_ALPN, Raw(Arc::new(answer)))
            .spawn();
        LOOKUP.add_endpoint_info(router.endpoint().addr());
        let server = router.endpoint().id();
        let got = fetch(&client, server, topic, UnixMillis(0), 10, Page::Newest).await;
        match what {
            "within" => assert_eq!(got.unwrap(), vec![b"fine".to_vec()]),
            _ => assert!(got.is_err(), "over the {what} cap: {got:?}"),
        }
        router.shutdown().await.unwrap();
    }
}

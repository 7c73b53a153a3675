//! The relay server in process, on 127.0.0.1, with iroh-relay's own client: who it lets in and
//! how fast a client may send.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::RelayUrl;
use iroh_relay::client::{Client, ClientBuilder};
use iroh_relay::protos::relay::{ClientToRelayMsg, Datagrams, RelayToClientMsg};
use n0_future::{SinkExt, StreamExt};
use tokio::time::{Instant, timeout};

use super::*;
use crate::proto::{EndpointId, SecretKey};

type Lines = Arc<Mutex<Vec<String>>>;

async fn relay(allow: Option<AllowList>, rate_limit: Option<u32>) -> (Running, RelayUrl, Lines) {
    let lines = Lines::default();
    let log = {
        let lines = lines.clone();
        move |line: String| lines.lock().unwrap().push(line)
    };
    let options = RelayOptions {
        bind: ([127, 0, 0, 1], 0).into(),
        http_bind: None,
        tls: None,
        allow_file: None,
        rate_limit: rate_limit.and_then(NonZeroU32::new),
    };
    let running = start(options, allow, log).await.unwrap();
    let url = format!("http://{}", running.server.http_addr().unwrap())
        .parse()
        .unwrap();
    (running, url, lines)
}

async fn connect(url: &RelayUrl, seed: u8) -> Result<Client, iroh_relay::client::ConnectError> {
    let tls = iroh_relay::tls::CaTlsConfig::default()
        .client_config(iroh_relay::tls::default_provider())
        .unwrap();
    ClientBuilder::new(
        url.clone(),
        SecretKey::from_bytes(&[seed; 32]),
        iroh::dns::DnsResolver::new(),
    )
    .tls_client_config(tls)
    .connect()
    .await
}

fn id(seed: u8) -> EndpointId {
    SecretKey::from_bytes(&[seed; 32]).public()
}

/// The next datagrams' length `to` receives (the relay's pings and health notes skipped).
async fn received(to: &mut Client) -> Option<usize> {
    loop {
        match to.next().await? {
            Ok(RelayToClientMsg::Datagrams { datagrams, .. }) => {
                return Some(datagrams.contents.len());
            }
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// Sends from `from` to `to` until one arrives: both are registered with the relay then.
async fn first_through(from: &mut Client, to: &mut Client, to_id: EndpointId) {
    for _ in 0..20 {
        let hello = ClientToRelayMsg::Datagrams {
            dst_endpoint_id: to_id,
            datagrams: Datagrams::from(b"hello"),
        };
        from.send(hello).await.unwrap();
        if let Ok(Some(_)) = timeout(Duration::from_millis(250), received(to)).await {
            return;
        }
    }
    panic!("nothing got through the relay");
}

#[tokio::test]
async fn only_the_allowed_ids_connect_and_the_denied_are_logged() {
    let allow = AllowList::parse(&format!("# the team\n{}\n{}\n", id(2), id(3))).unwrap();
    let (running, url, lines) = relay(Some(allow), None).await;
    assert!(lines.lock().unwrap()[0].contains("2 endpoint id(s) allowed"));
    let denied = connect(&url, 1).await;
    assert!(denied.is_err(), "a stranger connected");
    let shown = lines.lock().unwrap().clone();
    let line = format!("client {} denied: not on the allow list", id(1).fmt_short());
    assert!(shown.contains(&line), "{shown:?}");
    let mut b = connect(&url, 2).await.expect("an allowed id connects");
    let mut c = connect(&url, 3).await.expect("an allowed id connects");
    first_through(&mut b, &mut c, id(3)).await;
    drop(running);
}

#[tokio::test]
async fn without_an_allow_list_everyone_connects() {
    let (_running, url, lines) = relay(None, None).await;
    assert!(lines.lock().unwrap()[0].ends_with("open to every endpoint, no rate limit"));
    let mut a = connect(&url, 1).await.unwrap();
    let mut b = connect(&url, 2).await.unwrap();
    first_through(&mut a, &mut b, id(2)).await;
}

/// 32 KiB/s with a 64 KiB burst: 160 KiB take about 3 s (with no limit: milliseconds).
#[tokio::test]
async fn a_client_sends_no_faster_than_the_rate_limit() {
    const RATE: u32 = 32 * 1024;
    let (_running, url, lines) = relay(None, Some(RATE)).await;
    assert!(lines.lock().unwrap()[0].ends_with("open to every endpoint, 32k a second per client"));
    let mut from = connect(&url, 1).await.unwrap();
    let mut to = connect(&url, 2).await.unwrap();
    first_through(&mut from, &mut to, id(2)).await;
    let started = Instant::now();
    let total = 160 * 1024;
    let chunk = vec![7u8; 2048];
    let sending = tokio::spawn(async move {
        for _ in 0..total / chunk.len() {
            let datagrams = ClientToRelayMsg::Datagrams {
                dst_endpoint_id: id(2),
                datagrams: Datagrams::from(&chunk),
            };
            from.send(datagrams).await.unwrap();
        }
        from
    });
    let mut got = 0;
    while got < total {
        let more = timeout(Duration::from_secs(20), received(&mut to)).await;
        got += more.expect("the relay stalled").expect("the relay closed");
    }
    let took = started.elapsed();
    let _from = sending.await.unwrap();
    assert!(took >= Duration::from_secs(2), "160 KiB in {took:?}");
    assert!(took < Duration::from_secs(10), "160 KiB in {took:?}");
}

#[test]
fn the_rate_limit_is_iroh_relays_per_client_limit() {
    let rate = 4 << 20;
    let limits = client_limits(NonZeroU32::new(rate));
    let limit = limits.client_rx.expect("a limit");
    assert_eq!(limit.bytes_per_second.get(), rate);
    assert_eq!(limit.max_burst_bytes.map(|b| b.get()), Some(2 * rate));
    assert!(client_limits(None).client_rx.is_none());
}

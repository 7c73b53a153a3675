//! The ticket's own address with relays off, with a relay that answers and with one that does
//! not. Every socket is on 127.0.0.1.

use std::time::Duration;

use iroh::RelayUrl;
use iroh_relay::server::{RelayConfig as RelayServerConfig, Server, ServerConfig};
use tokio::time::Instant;

use super::HOME_RELAY_WAIT;
use crate::net::{NetConfig, Node};
use crate::proto::SecretKey;

fn config(seed: u8, relays: Vec<RelayUrl>) -> NetConfig {
    let mut config = NetConfig::loopback(SecretKey::from_bytes(&[seed; 32]));
    config.relays = relays;
    config
}

/// Our address in a fresh ticket, and how long making it took.
async fn ticket_addr(node: &Node) -> (iroh::EndpointAddr, Duration) {
    let started = Instant::now();
    let peers = node.ticket_peers(&[], 4).await;
    (peers[0].clone(), started.elapsed())
}

#[tokio::test]
async fn without_relays_nothing_waits() {
    let node = Node::spawn(&config(41, Vec::new())).await.unwrap();
    let (addr, took) = ticket_addr(&node).await;
    assert!(took < Duration::from_millis(200), "{took:?}");
    assert_eq!(addr.relay_urls().count(), 0);
    assert!(addr.ip_addrs().next().is_some());
    node.shutdown(Duration::from_secs(1)).await;
}

/// The bug: a ticket made right after start had no relay. Now it waits for the home relay.
#[tokio::test]
async fn a_ticket_made_at_start_carries_the_home_relay() {
    let relay = RelayServerConfig::new(([127, 0, 0, 1], 0));
    let mut server_config = ServerConfig::default();
    server_config.relay = Some(relay);
    server_config.metrics_addr = None;
    let server = Server::spawn(server_config).await.unwrap();
    let url: RelayUrl = format!("http://{}", server.http_addr().unwrap())
        .parse()
        .unwrap();
    let node = Node::spawn(&config(42, vec![url.clone()])).await.unwrap();
    let (addr, took) = ticket_addr(&node).await;
    eprintln!("home relay in the ticket after {took:?}");
    assert_eq!(addr.relay_urls().collect::<Vec<_>>(), [&url]);
    // Found, not the fallback: the endpoint's own address has it too.
    assert_eq!(node.addr().relay_urls().collect::<Vec<_>>(), [&url]);
    assert!(took < HOME_RELAY_WAIT, "{took:?}");
    node.shutdown(Duration::from_secs(1)).await;
    let _ = server.shutdown().await;
}

/// A relay that never answers: the ticket waits no longer than the start's grace and names
/// the configured relay anyway; later tickets do not wait at all.
#[tokio::test]
async fn an_unreachable_relay_is_carried_after_the_grace() {
    let url: RelayUrl = "http://127.0.0.1:9/".parse().unwrap();
    let node = Node::spawn(&config(43, vec![url.clone()])).await.unwrap();
    let (addr, took) = ticket_addr(&node).await;
    assert!(
        took <= HOME_RELAY_WAIT + Duration::from_millis(300),
        "{took:?}"
    );
    assert_eq!(addr.relay_urls().collect::<Vec<_>>(), [&url]);
    assert!(addr.ip_addrs().next().is_some());
    let (again, took) = ticket_addr(&node).await;
    assert!(took < Duration::from_millis(200), "{took:?}");
    assert_eq!(again, addr);
    node.shutdown(Duration::from_secs(1)).await;
}

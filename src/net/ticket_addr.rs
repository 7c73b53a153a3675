//! Our address as a ticket carries it. Direct addresses are known as soon as the sockets are
//! bound, the home relay only once a relay answered (a fraction of a second to a few seconds
//! later). A ticket made before that (the one in `ready`, printed at once) held only LAN
//! addresses, useless to a joiner behind another NAT. So, with relays, a ticket waits for the
//! home relay until [`HOME_RELAY_WAIT`] after the node started, and past that carries the
//! configured relays (`--relay`) anyway: we keep trying them, so whichever becomes home is
//! in the ticket. With relays off (tests, loopback, `--offline`) nothing waits.

use std::time::Duration;

use iroh::{Endpoint, EndpointAddr, RelayUrl, TransportAddr, Watcher};
use tokio::time::Instant;

use super::NetConfig;

/// How long after the node started a ticket may wait for the home relay.
pub const HOME_RELAY_WAIT: Duration = Duration::from_secs(2);

/// What a ticket needs to know about our relays.
#[derive(Debug, Clone)]
pub(super) struct TicketRelays {
    /// Until when a ticket waits for the home relay; `None`: relays are off.
    until: Option<Instant>,
    /// The relays the user configured, carried when the home relay is not known in time.
    /// Empty for n0's public relays: a ticket naming one of several regions we are not
    /// connected to would only mislead the joiner.
    configured: Vec<RelayUrl>,
}

impl TicketRelays {
    /// For a node started now with `config`.
    pub(super) fn new(config: &NetConfig) -> Self {
        // As `Node::spawn` sets the relay mode: n0's relays unless offline, ours if given.
        let relays_on = !config.offline || !config.relays.is_empty();
        Self {
            until: relays_on.then(|| Instant::now() + HOME_RELAY_WAIT),
            configured: config.relays.clone(),
        }
    }

    /// Our address for a ticket: with the home relay (waited for, within the start's grace),
    /// else with the configured relays.
    pub(super) async fn addr(&self, endpoint: &Endpoint) -> EndpointAddr {
        let mut watcher = endpoint.watch_addr();
        let addr = watcher.get();
        let Some(until) = self.until else {
            return addr;
        };
        if has_relay(&addr) {
            return addr;
        }
        if let Ok(Some(addr)) = tokio::time::timeout_at(until, home_relay(&mut watcher)).await {
            return addr;
        }
        let mut addr = watcher.get();
        if !has_relay(&addr) {
            let relays = self.configured.iter().cloned().map(TransportAddr::Relay);
            addr.addrs.extend(relays);
        }
        addr
    }
}

fn has_relay(addr: &EndpointAddr) -> bool {
    addr.relay_urls().next().is_some()
}

/// The next address of ours that has a home relay; `None` once the endpoint is gone.
async fn home_relay(watcher: &mut impl Watcher<Value = EndpointAddr>) -> Option<EndpointAddr> {
    loop {
        let addr = watcher.updated().await.ok()?;
        if has_relay(&addr) {
            return Some(addr);
        }
    }
}

#[cfg(test)]
#[path = "ticket_addr_tests.rs"]
mod tests;

//! Our own gossip dials, for rooms rejoining after an outage.

use std::time::Duration;

use super::Node;
use crate::proto::EndpointId;

/// How long one of our own gossip dials may take. A new one starts every redial round (at
/// most [`MAX_DIALS_PER_PEER`] at once), so one stuck on a path that died does not hold up
/// the next.
const GOSSIP_DIAL_TIMEOUT: Duration = Duration::from_secs(8);
const MAX_DIALS_PER_PEER: u8 = 2;
/// Our own dials in flight in all, whatever the rooms and the LAN ask for.
const MAX_DIALS: usize = 32;

impl Node {
    /// Dial `peers` on the gossip protocol ourselves and hand gossip the connections; each
    /// peer reached is sent on `connected`, for the room to send it one `Join` over the new
    /// connection (not one per round: gossip would queue them all while the peer is away,
    /// then flood the room with them).
    ///
    /// Why not leave it to gossip: once a dial of its own failed (every dial fails while the
    /// link is down), iroh-gossip 0.101 keeps the peer "pending" with messages queued and
    /// never dials it again, so a member whose link was down longer than a dial's timeout
    /// (~30 s) never got back in.
    pub fn dial(
        &self,
        peers: &[EndpointId],
        connected: &tokio::sync::mpsc::UnboundedSender<EndpointId>,
    ) {
        for &peer in peers {
            {
                let mut dialing = self.dialing.lock().unwrap_or_else(|p| p.into_inner());
                let in_flight: usize = dialing.values().map(|n| usize::from(*n)).sum();
                if in_flight >= MAX_DIALS {
                    return;
                }
                let count = dialing.entry(peer).or_default();
                if *count >= MAX_DIALS_PER_PEER {
                    continue;
                }
                *count += 1;
            }
            let (endpoint, gossip) = (self.endpoint.clone(), self.gossip.clone());
            let dialing = self.dialing.clone();
            let connected = connected.clone();
            tokio::spawn(async move {
                let dial = endpoint.connect(peer, iroh_gossip::ALPN);
                match tokio::time::timeout(GOSSIP_DIAL_TIMEOUT, dial).await {
                    Ok(Ok(conn)) => match gossip.handle_connection(conn).await {
                        Ok(()) => {
                            let _ = connected.send(peer);
                        }
                        Err(err) => tracing::debug!("gossip refused the connection: {err:#}"),
                    },
                    Ok(Err(err)) => tracing::debug!("dial {}: {err:#}", peer.fmt_short()),
                    Err(_) => tracing::debug!("dial {}: timed out", peer.fmt_short()),
                }
                let mut dialing = dialing.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(count) = dialing.get_mut(&peer) {
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        dialing.remove(&peer);
                    }
                }
            });
        }
    }
}

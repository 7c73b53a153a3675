//! Entering a topic: subscribing (with the peers to dial) and, apart, routing the topic's
//! catch-up requests, since a private room talks on its epoch's topic but is asked for
//! history under its lasting one.

use tokio::sync::mpsc;

use super::{HistoryQuery, Node, TopicHandle};
use crate::proto::{EndpointAddr, TopicId};

impl Node {
    /// Subscribe to `topic`, dialing `peers` (from a ticket) in the background. Peers'
    /// catch-up requests for the topic arrive on the returned channel, for the owner of the
    /// room's history to answer.
    pub async fn join(
        &self,
        topic: TopicId,
        peers: &[EndpointAddr],
    ) -> anyhow::Result<(TopicHandle, mpsc::Receiver<HistoryQuery>)> {
        let handle = self.subscribe(topic, peers).await?;
        Ok((handle, self.serve_history(topic)))
    }

    /// Subscribe to `topic` only: a private room talks on its epoch's topic but is asked for
    /// history under its stable one ([`Self::serve_history`]).
    pub async fn subscribe(
        &self,
        topic: TopicId,
        peers: &[EndpointAddr],
    ) -> anyhow::Result<TopicHandle> {
        for peer in peers {
            // A bare id (a member met before) is dialed from what the endpoint knows.
            if peer.id != self.id() && !peer.is_empty() {
                self.lookup.add_endpoint_info(peer.clone());
            }
        }
        let bootstrap = peers
            .iter()
            .map(|p| p.id)
            .filter(|id| *id != self.id())
            .collect();
        TopicHandle::subscribe(&self.gossip, topic, bootstrap).await
    }

    /// Peers' catch-up requests for `topic`, for the owner of the room's history to answer.
    pub fn serve_history(&self, topic: TopicId) -> mpsc::Receiver<HistoryQuery> {
        self.history.add(topic)
    }
}

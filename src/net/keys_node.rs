//! The node's side of key delivery (`parlor/keys/1`, see [`super::keys`]): routing a private
//! room's requests to its session, and asking members.

use tokio::sync::mpsc;

use super::Node;
use super::keys::{self, KeyFetchError, KeyQuery};
use crate::proto::state::RoomId;
use crate::proto::{EndpointAddr, EndpointId};

impl Node {
    /// Key requests for `room`, for its session to decide (replacing an earlier route).
    pub fn serve_keys(&self, room: RoomId) -> mpsc::Receiver<KeyQuery> {
        self.keys.add(room)
    }

    /// A future that asks `peer` for `room`'s key and log; it owns what it needs, so it can
    /// run in its own task.
    pub fn fetch_key(
        &self,
        peer: EndpointId,
        room: RoomId,
        have_epoch: u64,
    ) -> impl std::future::Future<Output = Result<Vec<u8>, KeyFetchError>> + Send + use<> {
        let endpoint = self.endpoint.clone();
        async move { keys::fetch_key(&endpoint, peer, room, have_epoch).await }
    }

    /// Join `room` at `peer` with `invite` (see [`keys::redeem`]); `peer`'s addresses are
    /// remembered for dialing.
    pub async fn redeem(
        &self,
        peer: EndpointAddr,
        room: RoomId,
        invite: &[u8],
        sign_join: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
    ) -> Result<Vec<u8>, KeyFetchError> {
        if peer.id != self.id() {
            self.lookup.add_endpoint_info(peer.clone());
        }
        keys::redeem(&self.endpoint, peer, room, invite, sign_join).await
    }
}

impl Node {
    /// Knock at `peer` to be let in to `room` as `name` (see [`keys::knock`]): the key
    /// answer once an admin there accepts.
    pub fn knock(
        &self,
        peer: EndpointAddr,
        room: RoomId,
        name: String,
    ) -> impl std::future::Future<Output = Result<Vec<u8>, KeyFetchError>> + Send + use<> {
        let endpoint = self.endpoint.clone();
        async move { keys::knock(&endpoint, peer, room, &name).await }
    }
}

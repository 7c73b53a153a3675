//! Leaving a room: goodbye, the last saves and events, then unsubscribing, each bounded.

use tokio::sync::oneshot;

use super::actor::{Actor, LEAVE_EVENTS, LEAVE_FLUSH};
use super::handle::Left;
use crate::net;
use crate::proto::UnixMillis;
use crate::proto::room::Input;

impl Actor {
    /// Stop announcing the room on the LAN, if it was.
    pub(super) fn withdraw(&mut self) {
        if std::mem::take(&mut self.announced)
            && let Err(err) = self.node.announce(self.room.topic(), None)
        {
            tracing::debug!("{err:#}");
        }
    }

    /// Hand every event that may be shown to the front end, waiting (bounded) for it to read
    /// them: a front end that stopped reading must not keep the session in the room.
    pub(super) async fn flush_events(&mut self) {
        self.release_held();
        let _ = tokio::time::timeout(LEAVE_EVENTS, async {
            while let Some(event) = self.outbox.pop() {
                if self.events.send(event).await.is_err() {
                    return;
                }
            }
        })
        .await;
    }

    /// Remember who is around, say goodbye, wait (bounded) for the last saves so everything
    /// shown is on disk, answer `reply`, hand over the last events, then unsubscribe (after a
    /// linger, so neighbours can still fetch our last lines).
    pub(super) async fn leave(mut self, reply: oneshot::Sender<Left>) {
        let had_neighbors = self.room.is_joined();
        let topic = self.room.topic();
        if let Some(store) = &self.store {
            if had_neighbors {
                self.remember_peers(store.clone()).await;
            }
            store.spawn_call(move |s| {
                let _ = s.touch_room(topic, UnixMillis::now());
            });
        }
        self.withdraw();
        self.feed(Input::Leave).await;
        self.flush_saves();
        let _ = tokio::time::timeout(LEAVE_FLUSH, self.net.flush()).await;
        self.wait_for_saves().await;
        let _ = reply.send(Left {
            unsent: self.room.queued(),
        });
        self.flush_events().await;
        net::leave_topic(self.net, had_neighbors).await;
    }
}

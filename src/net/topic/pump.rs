//! The incoming half of a topic subscription: gossip's events into a bounded queue for the
//! session. The pump never waits for the session while gossip has something for it (that
//! would stall gossip's subscriber task, which then drops messages for us unseen) and never
//! holds more than the queue: when the session falls behind, messages are dropped and the
//! session hears `Lagged` (once per stretch of dropping, as soon as there is room), which makes
//! the room catch up on them over the history protocol. Neighbour changes are not messages a
//! catch-up brings back: the pump keeps the neighbours gossip reports and tells the session
//! the difference, before that `Lagged` (whose catch-up asks those neighbours).

use std::collections::BTreeSet;

use n0_future::{Stream, StreamExt};
use tokio::sync::mpsc::{self, error::TrySendError};

use super::NetEvent;
use crate::proto::EndpointId;

/// The session is gone: nothing more to pump.
struct Gone;

/// What the session has not been told yet.
#[derive(Debug, Default)]
struct Behind {
    /// Messages were dropped since the session last heard `Lagged` (or gossip dropped some).
    dropped: bool,
    /// The neighbours as gossip reports them, and as the session was last told.
    actual: BTreeSet<EndpointId>,
    told: BTreeSet<EndpointId>,
}

impl Behind {
    fn is_behind(&self) -> bool {
        self.dropped || self.actual != self.told
    }

    /// The first neighbour change the session has not been told: who, and whether up.
    fn next_change(&self) -> Option<(EndpointId, bool)> {
        let up = self
            .actual
            .difference(&self.told)
            .next()
            .map(|id| (*id, true));
        up.or_else(|| {
            self.told
                .difference(&self.actual)
                .next()
                .map(|id| (*id, false))
        })
    }

    /// Tell the session what it missed, as far as the queue has room: neighbour changes,
    /// then `Lagged`.
    fn catch_up(&mut self, events: &mpsc::Sender<NetEvent>) -> Result<(), Gone> {
        while let Some((id, up)) = self.next_change() {
            let change = if up {
                NetEvent::NeighborUp(id)
            } else {
                NetEvent::NeighborDown(id)
            };
            match events.try_send(change) {
                Ok(()) if up => self.told.insert(id),
                Ok(()) => self.told.remove(&id),
                Err(TrySendError::Full(_)) => return Ok(()),
                Err(TrySendError::Closed(_)) => return Err(Gone),
            };
        }
        if self.dropped {
            match events.try_send(NetEvent::Lagged) {
                Ok(()) => self.dropped = false,
                Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Closed(_)) => return Err(Gone),
            }
        }
        Ok(())
    }

    /// One event from gossip (anything but the end).
    fn offer(&mut self, event: NetEvent, events: &mpsc::Sender<NetEvent>) -> Result<(), Gone> {
        match event {
            // Told through the difference, in order with the messages around them.
            NetEvent::NeighborUp(id) => {
                self.actual.insert(id);
                self.catch_up(events)
            }
            NetEvent::NeighborDown(id) => {
                self.actual.remove(&id);
                self.catch_up(events)
            }
            NetEvent::Lagged => {
                self.dropped = true;
                self.catch_up(events)
            }
            event => {
                self.catch_up(events)?;
                if self.is_behind() {
                    // Behind whatever was missed: this message comes back with the catch-up.
                    self.dropped = true;
                    return Ok(());
                }
                match events.try_send(event) {
                    Ok(()) => Ok(()),
                    Err(TrySendError::Full(_)) => {
                        self.dropped = true;
                        Ok(())
                    }
                    Err(TrySendError::Closed(_)) => Err(Gone),
                }
            }
        }
    }
}

/// Move `source`'s events into `events` until either ends; the last event is `Closed`.
pub(super) async fn pump(source: impl Stream<Item = NetEvent>, events: mpsc::Sender<NetEvent>) {
    let mut source = std::pin::pin!(source);
    let mut behind = Behind::default();
    let reason = loop {
        let next = if behind.is_behind() {
            // Either gossip has more (handled without waiting), or the session made room.
            tokio::select! {
                next = source.next() => next,
                room = events.reserve() => {
                    // The pump is the only sender: the room freed here is there for
                    // `catch_up`.
                    if room.map(drop).is_err() || behind.catch_up(&events).is_err() {
                        return;
                    }
                    continue;
                }
            }
        } else {
            source.next().await
        };
        match next {
            Some(NetEvent::Closed(reason)) => break reason,
            None => break "the gossip subscription ended".to_string(),
            Some(event) => {
                if behind.offer(event, &events).is_err() {
                    return;
                }
            }
        }
    };
    // Nothing more comes from gossip: waiting on the session is fine now.
    while behind.is_behind() {
        let room = events.reserve().await.map(drop);
        if room.is_err() || behind.catch_up(&events).is_err() {
            return;
        }
    }
    let _ = events.send(NetEvent::Closed(reason)).await;
}

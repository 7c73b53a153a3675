//! What happens to headless mode's rooms, printed: the core's books first, then each room's
//! events tagged with their room, a room that ended reported (or ending parlor as the last).

use tokio::io::AsyncWrite;

use super::Headless;
use crate::front::{Incoming, RoomKey, Update};
use crate::headless::Report;
use crate::proto::room::Event;
use crate::session::SessionEvent;

impl<W: AsyncWrite + Unpin> Headless<W> {
    /// Something came in: the core's books first (and what a room that started was sent),
    /// then printed; `Some(error)` when it was the last room and it ended.
    pub(super) async fn on_incoming(&mut self, incoming: Incoming) -> Option<anyhow::Error> {
        let replies = self.core.absorb(&incoming).await;
        self.present(replies).await;
        match incoming {
            Incoming::Room(key, update) => return self.on_update(key, update).await,
            Incoming::Direct(event) => self.on_direct(event).await,
            Incoming::File(update) => self.on_file(update).await,
            Incoming::Replies(replies) => {
                self.present(replies).await;
            }
        }
        None
    }

    async fn on_update(&mut self, key: RoomKey, update: Update) -> Option<anyhow::Error> {
        match update {
            Update::Started(_) => None,
            Update::StartFailed(err) => self.room_ended(key, err).await,
            Update::Event(SessionEvent::Failed(reason)) => {
                self.room_ended(key, anyhow::anyhow!(reason)).await
            }
            // Reported, then the room ends with that reason (the last room: exit 1).
            Update::Event(SessionEvent::Removed { by, reason, ban }) => {
                let display = by.map(|id| self.display_in(key, &id));
                let line = crate::present::private::removed_line(display.as_deref(), &reason, ban);
                let report = Report::Removed {
                    by: display,
                    reason,
                    ban,
                };
                if self.core.rooms.get(key).is_some() {
                    self.report(report, Some(key)).await;
                }
                let why = line.trim_start_matches("* ").to_string();
                self.room_ended(key, anyhow::anyhow!(why)).await
            }
            Update::Event(event) => {
                self.on_event(key, event).await;
                None
            }
            Update::Ended => {
                self.room_ended(key, anyhow::anyhow!("the session ended"))
                    .await
            }
        }
    }

    /// A room ended by itself: with others left it is reported and dropped; as the last one,
    /// it ends parlor with its reason.
    async fn room_ended(&mut self, key: RoomKey, err: anyhow::Error) -> Option<anyhow::Error> {
        self.requests.room_gone(key);
        let room = self.core.rooms.remove(key)?;
        if self.core.rooms.is_empty() {
            return Some(err);
        }
        let report = Report::Error(format!("{err:#}"));
        self.report_in(&room, report).await;
        None
    }

    pub(super) async fn on_event(&mut self, key: RoomKey, event: SessionEvent) {
        // A line of ours sent or refused answers the request that said it, if any.
        self.re = match &event {
            SessionEvent::Room(event) => self.requests.room_event(key, event),
            _ => None,
        };
        let report = match event {
            SessionEvent::Ready {
                me,
                topic,
                ticket,
                room_name,
                kind,
            } => Report::Ready {
                id: me.id,
                name: me.name,
                topic,
                ticket,
                room_name,
                kind,
            },
            SessionEvent::State(state) => Report::RoomState(state),
            SessionEvent::Knock { id, name } => Report::Knock {
                id,
                name,
                gone: false,
            },
            SessionEvent::Knocking { label, asked } => Report::Knocking { label, asked },
            SessionEvent::KnockGone { id, name } => Report::Knock {
                id,
                name,
                gone: true,
            },
            // Handled with the room's end (`on_update`).
            SessionEvent::Removed { .. } => return,
            SessionEvent::Room(Event::MessageReceived(line) | Event::MessageSent(line))
                if line.file.is_some() =>
            {
                Report::FileShared(line)
            }
            SessionEvent::Room(Event::Queued(waiting)) => {
                // The core noted the new count already.
                let before = self.core.rooms.get(key).map_or(0, |r| r.queued_before);
                self.queue_moved |= waiting < before;
                // Reported when lines start waiting and when the last went out.
                if (before == 0) == (waiting == 0) {
                    return;
                }
                Report::Room(Event::Queued(waiting))
            }
            SessionEvent::Room(event) => Report::Room(event),
            SessionEvent::Warning(text) => Report::Warning(text),
            SessionEvent::Net(state) => Report::NetState(state),
            SessionEvent::Ticket(ticket) => Report::Ticket(ticket),
            // Printed on `/who` only.
            SessionEvent::Members(_) => return,
            SessionEvent::Failed(reason) => Report::Error(reason),
        };
        if self.core.rooms.get(key).is_some() {
            self.report(report, Some(key)).await;
        }
        self.re = None;
    }

    /// How `id` is shown: as the rooms showed it, else as room `key`'s state does (its short
    /// key if it is not in it).
    fn display_in(&self, key: RoomKey, id: &crate::proto::EndpointId) -> String {
        if let Some(member) = self.core.directory.get(id) {
            return member.display.clone();
        }
        let state = self.core.rooms.get(key).and_then(|r| r.state.as_ref());
        state.map_or_else(|| id.fmt_short().to_string(), |s| s.display_of(id))
    }
}

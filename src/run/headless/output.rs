//! What headless mode prints: room events tagged with their room, direct messages and
//! their delivery, each line written as the reader takes it (bounded while leaving).

use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{Headless, RoomKey};
use crate::front::{FileUpdate, Room, direct};
use crate::headless::{self, Report, RoomTag};
use crate::proto::direct::DmState;
use crate::session::direct::DirectEvent;

impl<W: AsyncWrite + Unpin> Headless<W> {
    /// What the DM actor said.
    pub(super) async fn on_direct(&mut self, event: DirectEvent) {
        let report = match event {
            DirectEvent::Message(message) => {
                let own = message.from == self.core.direct.id();
                let display = if own {
                    message.name.clone()
                } else {
                    // Noted by the core as this message came in (`Core::absorb`).
                    self.core.directory.get(&message.from).map_or_else(
                        || direct::stranger(message.from, &message.name).display,
                        |member| member.display.clone(),
                    )
                };
                let (id, pending) = (message.id, message.state == DmState::Pending);
                if !own {
                    self.report(Report::Dm { message, display }, None).await;
                    return;
                }
                // Ours: the request that sent it, if any (until it is delivered).
                self.re = self.requests.direct_event(&id, !pending);
                self.report(Report::Dm { message, display }, None).await;
                Report::DmStatus {
                    id,
                    state: if pending {
                        DmState::Pending
                    } else {
                        DmState::Delivered
                    },
                }
            }
            DirectEvent::Status { id, state, .. } => {
                self.re = self.requests.direct_event(&id, state == DmState::Delivered);
                Report::DmStatus { id, state }
            }
            DirectEvent::Dropped { from, count } => Report::Warning(direct::dropped(&from, count)),
            DirectEvent::Warning(text) => Report::Warning(text),
        };
        self.report(report, None).await;
        self.re = None;
    }

    /// A fetch moved on.
    pub(super) async fn on_file(&mut self, update: FileUpdate) {
        // Events name a file by its handle, as its offer did.
        use crate::proto::wire::handle_of as handle;
        let report = match update {
            FileUpdate::Progress {
                hash,
                done,
                total,
                rate,
            } => Report::Transfer {
                handle: handle(&hash),
                done,
                total,
                rate,
            },
            FileUpdate::Saved { hash, path } => Report::Saved {
                handle: handle(&hash),
                path,
            },
            FileUpdate::Failed { hash, reason, .. } => Report::FileError {
                handle: handle(&hash),
                message: reason,
            },
            FileUpdate::Resumed { hash, who } => {
                let name = self.core.files.name_of(&hash).unwrap_or(&hash);
                Report::Info(format!("{who} is back: fetching {name} again"))
            }
            FileUpdate::Changed { reason, .. } => Report::Warning(reason),
            FileUpdate::NotFetched { hash, reason } => Report::NotFetched {
                handle: handle(&hash),
                reason,
            },
            // Handled by `Files::update` (a waiting fetch tried again).
            // Headless waits for /send's answer in order: nothing to show while it hashes.
            FileUpdate::Retry { .. } | FileUpdate::Hashing { .. } => return,
        };
        self.report(report, None).await;
    }

    /// A report about `room`, tagged with it.
    pub(super) async fn report_in(&mut self, room: &Room, report: Report) {
        let line = self.line_in(room, &report);
        self.failures.note(&report);
        self.write(line).await;
    }

    /// A report about room `room` if it is open (tagged with it), else about no room.
    pub(super) async fn report(&mut self, report: Report, room: Option<RoomKey>) {
        // Borrowed, not cloned: this runs for every line anyone says, and a private room's
        // state (every member) would be copied each time.
        let line = match room.and_then(|key| self.core.rooms.get(key)) {
            Some(room) => self.line_in(room, &report),
            None => headless::format_in(&report, self.json, None, self.re.as_deref()),
        };
        self.failures.note(&report);
        self.write(line).await;
    }

    /// How `report` about `room` prints.
    fn line_in(&self, room: &Room, report: &Report) -> Option<String> {
        // Only text lines show the room's name.
        let name = if self.json {
            String::new()
        } else {
            room.name()
        };
        let tag = room.topic.as_ref().map(|topic| RoomTag {
            topic,
            name: &name,
            prefix_text: self.core.rooms.len() > 1,
        });
        headless::format_in(report, self.json, tag, self.re.as_deref())
    }

    pub(super) async fn write(&mut self, line: Option<String>) {
        let Some(mut line) = line else {
            return;
        };
        line.push('\n');
        if self.output_stuck {
            return;
        }
        // A reader that went away (closed pipe) is not our failure: keep chatting until input
        // ends or a signal comes.
        let write = async {
            if self.output.write_all(line.as_bytes()).await.is_ok() {
                let _ = self.output.flush().await;
            }
        };
        match self.output_until {
            None => write.await,
            // Once one line waited too long, none follows it: no gap in what is printed.
            Some(until) => {
                self.output_stuck = tokio::time::timeout_at(until, write).await.is_err();
            }
        }
    }
}

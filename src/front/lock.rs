//! `/lock`: a public room's private successor. The caller opens a private room (its owner),
//! named as the old one; once it runs, every member the old room shows gets an invite by
//! direct message (the old room's ticket must not let strangers into the new one, so the
//! invite is never said in the old room), and the old room gets a line pointing at it.

use super::{About, Core, Reply, RoomKey};
use crate::config::Start;
use crate::proto::EndpointId;
use crate::session::DEFAULT_INVITE_LASTS;

/// A successor opened by `/lock`, until it runs.
pub(super) struct Lock {
    from: RoomKey,
    /// The old room's members then, us left out.
    members: Vec<EndpointId>,
}

impl Core {
    /// `/lock` in public room `from`: open its private successor as room `to` (the current
    /// one when `current`), named `label` or as the old room is.
    pub async fn lock_room(
        &mut self,
        from: RoomKey,
        to: RoomKey,
        name: Option<String>,
        label: Option<String>,
        current: bool,
    ) -> Vec<Reply> {
        let about = About::Room(from);
        let Some(session) = self.sessions.handle(from).cloned() else {
            return vec![Reply::error(about, "the room is not running (yet)")];
        };
        match session.state().await {
            Ok(None) => {}
            Ok(Some(_)) => return vec![Reply::error(about, "this room is private already")],
            Err(gone) => return vec![Reply::error(about, gone.to_string())],
        }
        let me = self.direct.id();
        let members: Vec<EndpointId> = (session.members().await)
            .unwrap_or_default()
            .into_iter()
            .map(|m| m.id)
            .filter(|id| *id != me)
            .collect();
        let label = label.or_else(|| self.rooms.get(from).map(|room| room.name()));
        let count = members.len();
        self.forced_private.insert(to);
        self.start_room(to, Start::Open, name, label, current);
        self.locks.insert(to, Lock { from, members });
        let text = format!(
            "opening this room's private successor (yours); the {count} other member(s) here get an invite by direct message once it runs"
        );
        vec![Reply::info(about, text)]
    }

    /// Room `to` runs: if it is a `/lock` successor, its invite goes by direct message to
    /// each member of the old room, and the old room is told where everyone went.
    pub(super) async fn lock_ready(&mut self, to: RoomKey) -> Vec<Reply> {
        let Some(lock) = self.locks.remove(&to) else {
            return Vec::new();
        };
        let Some(new) = self.sessions.handle(to).cloned() else {
            return Vec::new();
        };
        let old = self.sessions.handle(lock.from).cloned();
        let old_name = self
            .rooms
            .get(lock.from)
            .map_or_else(|| "the room".to_string(), |room| room.name());
        let dm = self.direct.clone();
        self.answer(async move {
            let about = About::Room(to);
            let invite = match new.invite(None, DEFAULT_INVITE_LASTS).await {
                Ok(Ok(invite)) => invite,
                Ok(Err(why)) => return vec![Reply::error(about, why)],
                Err(gone) => return vec![Reply::error(about, gone.to_string())],
            };
            let text = format!(
                "{old_name} moved to a private room; your invite (7 days): parlor join {}",
                invite.text
            );
            let mut sent = 0;
            for peer in lock.members {
                if dm.send(peer, text.clone(), false).await.is_ok() {
                    sent += 1;
                }
            }
            if let Some(old) = old {
                let line = format!(
                    "this room moved to a private one: its {sent} member(s) here got an invite by direct message"
                );
                let _ = old.say(line).await;
            }
            let done = format!("{sent} invite(s) sent by direct message; the old room was told");
            vec![Reply::info(about, done)]
        })
        .await
    }
}

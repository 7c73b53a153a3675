//! A private room's commands (`/kick`, `/ban`, `/op`, `/invite`, ...): names resolved to keys
//! here, the change made by the room's session, which answers whether it took.

use super::{About, Answer, Core, Reply, RoomKey};
use crate::app::moderation::Moderation;
use crate::model::RoomStateView;
use crate::proto::EndpointId;
use crate::proto::state::{Action, HistoryVisibility, Role};
use crate::session::{DEFAULT_INVITE_LASTS, SessionHandle};

impl Core {
    /// Carry out `moderation` in room `key`, through its running `session`.
    pub(super) async fn moderate(
        &mut self,
        key: RoomKey,
        session: SessionHandle,
        moderation: Moderation,
    ) -> Vec<Reply> {
        let about = About::Room(key);
        let Ok(state) = session.state().await else {
            return vec![Reply::error(about, "the room has ended already")];
        };
        let Some(state) = state else {
            return self.in_public_room(about, session, moderation).await;
        };
        let action: Result<Action, String> = match moderation {
            Moderation::Invite { uses, lasts } => {
                let lasts = lasts.unwrap_or(DEFAULT_INVITE_LASTS);
                return self
                    .answer(async move {
                        vec![match session.invite(uses, lasts).await {
                            Ok(Ok(invite)) => Reply::new(about, Answer::Invite(invite)),
                            Ok(Err(why)) => Reply::error(about, why),
                            Err(gone) => Reply::error(about, gone.to_string()),
                        }]
                    })
                    .await;
            }
            Moderation::Invites => {
                let invites = session.invites().await.unwrap_or_default();
                return vec![Reply::new(about, Answer::Invites(invites))];
            }
            Moderation::Lock => {
                return vec![Reply::error(about, "this room is private already")];
            }
            Moderation::Revoke(prefix) => {
                return vec![match session.revoke(prefix).await {
                    Ok(Ok(id)) => Reply::info(
                        about,
                        format!("invite {id} revoked: nobody joins with it any more"),
                    ),
                    Ok(Err(why)) => Reply::error(about, why),
                    Err(gone) => Reply::error(about, gone.to_string()),
                }];
            }
            Moderation::Accept(who) => {
                return vec![match session.accept(who).await {
                    Ok(Ok(who)) => Reply::info(about, format!("let {who} in")),
                    Ok(Err(why)) => Reply::error(about, why),
                    Err(gone) => Reply::error(about, gone.to_string()),
                }];
            }
            Moderation::Deny { who, reason } => {
                return vec![match session.deny(who, reason).await {
                    Ok(Ok(who)) => Reply::info(about, format!("turned {who} away")),
                    Ok(Err(why)) => Reply::error(about, why),
                    Err(gone) => Reply::error(about, gone.to_string()),
                }];
            }
            Moderation::History(None) => {
                let text = match state.history {
                    HistoryVisibility::Shared => {
                        "newcomers see what was said before they joined (/history joined: only what is said after)"
                    }
                    HistoryVisibility::Joined => {
                        "newcomers see only what is said after they join (/history shared: everything kept)"
                    }
                };
                return vec![Reply::info(about, text)];
            }
            Moderation::History(Some(history)) => Ok(Action::SetHistory(history)),
            Moderation::RoomName(name) => Ok(Action::SetName(name)),
            Moderation::Kick { who, reason } => self
                .member_key(&state, &who)
                .await
                .map(|who| Action::Remove { who, reason }),
            Moderation::Ban { who, reason } => self
                .member_key(&state, &who)
                .await
                .map(|who| Action::Ban { who, reason }),
            // A key the room no longer has: named as this run saw it, or by its whole key.
            Moderation::Add(who) => self.resolve(&who).await.map(|(who, _)| Action::Add { who }),
            Moderation::Unban(who) => self
                .member_key(&state, &who)
                .await
                .map(|who| Action::Unban { who }),
            Moderation::Op(who) => self.member_key(&state, &who).await.map(|who| {
                let role = Role::Admin;
                Action::SetRole { who, role }
            }),
            Moderation::Deop(who) => self.member_key(&state, &who).await.map(|who| {
                let role = Role::Member;
                Action::SetRole { who, role }
            }),
            Moderation::Owner(who) => self
                .member_key(&state, &who)
                .await
                .map(|to| Action::HandOver { to }),
        };
        let action = match action {
            Ok(action) => action,
            Err(why) => return vec![Reply::error(about, why)],
        };
        match session.moderate(action).await {
            Ok(Ok(())) => Vec::new(),
            Ok(Err(why)) => vec![Reply::error(about, why)],
            Err(gone) => vec![Reply::error(about, gone.to_string())],
        }
    }
}

impl Core {
    /// A public room has no state to change: its ticket is its invite.
    async fn in_public_room(
        &mut self,
        about: About,
        session: SessionHandle,
        moderation: Moderation,
    ) -> Vec<Reply> {
        match moderation {
            // `/invite` was `/ticket`'s other name before private rooms, and still is here.
            Moderation::Invite {
                uses: None,
                lasts: None,
            } => {
                self.answer(async move {
                    let ticket = session.ticket().await.ok();
                    ticket
                        .map(|t| Reply::new(about, Answer::Ticket(t)))
                        .into_iter()
                        .collect()
                })
                .await
            }
            Moderation::Lock => {
                let About::Room(from) = about else {
                    return Vec::new();
                };
                let to = self.rooms.new_key();
                self.lock_room(from, to, None, None, true).await
            }
            _ => vec![Reply::error(
                about,
                "this room is public: its ticket lets anyone in and nobody can be removed \
                 (/lock opens a private successor)",
            )],
        }
    }

    /// The key of the member (or banned key) `who` names in a private room's state: a name
    /// as members are shown, or the start of a key in hex.
    async fn member_key(&self, state: &RoomStateView, who: &str) -> Result<EndpointId, String> {
        let known =
            |id: &EndpointId| state.members.iter().any(|m| m.id == *id) || state.bans.contains(id);
        if let Ok((id, _)) = self.resolve(who).await
            && known(&id)
        {
            return Ok(id);
        }
        let hex = who.trim_start_matches('#').to_ascii_lowercase();
        let mut matching: Vec<EndpointId> = state
            .members
            .iter()
            .map(|m| m.id)
            .chain(state.bans.iter().copied())
            .filter(|id| hex.len() >= 4 && id.to_string().starts_with(&hex))
            .collect();
        matching.dedup();
        match matching.as_slice() {
            [id] => Ok(*id),
            [] => Err(format!(
                "{who:?} names no member of this room (a name as /who shows it, or the start of a key)"
            )),
            _ => Err(format!(
                "{who:?} names several members; give more of the key"
            )),
        }
    }
}

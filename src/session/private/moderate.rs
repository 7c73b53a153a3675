//! What the front ends ask of a private room: changes to its state (`/kick`, `/ban`, `/op`,
//! `/roomname`, ...), invites (`/invite`, `/invites`, `/revoke`) and its state.

use super::super::actor::Actor;
use super::op_frame;
use crate::model::IssuedInvite;
use crate::proto::UnixMillis;
use crate::proto::invite::{Invite, InviteDraft};
use crate::proto::state::{Action, Role, Skip};
use crate::proto::ticket::MAX_TICKET_PEERS;

/// Why a change was not made, for the one who asked.
fn refusal(why: Skip) -> &'static str {
    match why {
        Skip::NotMember => "you are not a member of this room",
        Skip::NotEntitled => "your role in this room does not allow that",
        Skip::Outranked => "they rank as high as you or higher",
        Skip::NoChange => "that changes nothing",
        Skip::Banned => "they are banned (/unban first)",
        Skip::Full => "the room is full",
        Skip::Superseded | Skip::RemovedConcurrently => {
            "another change made at the same time took precedence"
        }
        _ => "the room's state did not take it",
    }
}

impl Actor {
    /// Make the change `action` as us: signed, merged, sent to the room. A change that would
    /// be skipped is refused instead, with the reason.
    pub(in crate::session) async fn moderate(&mut self, action: Action) -> Result<(), String> {
        let secret = self.node.secret();
        let private = self.private.as_mut().ok_or("this room is public: it has no members list to change (rooms opened without --public are private)")?;
        let op = private
            .log
            .author(&secret, action)
            .map_err(|err| err.to_string())?;
        let mut trial = private.log.clone();
        trial.insert(op.clone()).map_err(|err| err.to_string())?;
        if let Some(skipped) = trial.fold().skipped.iter().find(|s| s.op == op.hash) {
            return Err(refusal(skipped.why).to_string());
        }
        private.log = trial;
        // Sent in the epoch it was made in: a removed member hears it is out.
        let sealed = self.sealed(op_frame(&op));
        self.net.broadcast(sealed).await;
        self.merged().await;
        Ok(())
    }

    /// `/invite`: a signed invite naming us and a few neighbours to redeem it at.
    pub(in crate::session) async fn issue_invite(
        &mut self,
        uses: Option<u32>,
        lasts: std::time::Duration,
    ) -> Result<IssuedInvite, String> {
        let me = self.room.id();
        let private = self
            .private
            .as_ref()
            .ok_or("this room is public: its ticket is its invite (/invite shows it)")?;
        if private.state.role_of(&me) < Some(Role::Admin) {
            return Err("only the room's owner and admins invite (ask one of them)".into());
        }
        let draft_room = private.room();
        let owner = private.state.owner();
        let name = Some(private.state.name().to_string()).filter(|n| !n.is_empty());
        let neighbours: Vec<_> = self.room.neighbors().copied().collect();
        let peers = self.node.ticket_peers(&neighbours, MAX_TICKET_PEERS).await;
        let expires = UnixMillis(
            UnixMillis::now()
                .0
                .saturating_add(u64::try_from(lasts.as_millis()).unwrap_or(u64::MAX)),
        );
        let draft = InviteDraft {
            room: draft_room,
            owner,
            expires,
            uses,
            peers,
            name,
        };
        let invite = Invite::issue(&self.node.secret(), draft).map_err(|err| err.to_string())?;
        let issued = IssuedInvite {
            id: invite.id_hex(),
            text: invite.to_string(),
            expires: expires.0,
            uses,
            used: 0,
            revoked: false,
        };
        if let Some(private) = self.private.as_mut() {
            private.remember_invite(issued.clone());
        }
        Ok(issued)
    }

    /// `/invites`: those issued here, with what the room's state says of each.
    pub(in crate::session) fn invites(&self) -> Vec<IssuedInvite> {
        let Some(private) = self.private.as_ref() else {
            return Vec::new();
        };
        private
            .invites
            .iter()
            .map(|invite| {
                let mut invite = invite.clone();
                if let Ok(bytes) = data_encoding::HEXLOWER.decode(invite.id.as_bytes())
                    && let Ok(id) = <[u8; 16]>::try_from(bytes)
                {
                    invite.used = private.state.uses_of(&id);
                    invite.revoked = private.state.is_revoked(&id);
                }
                invite
            })
            .collect()
    }

    /// `/revoke PREFIX`: end the one invite issued here whose id starts with it, or the
    /// invite whose whole text is given (one issued in an earlier run, or by another admin).
    pub(in crate::session) async fn revoke(&mut self, prefix: &str) -> Result<String, String> {
        if let Ok(invite) = prefix.trim().parse::<Invite>() {
            let room = self.private.as_ref().map(|p| p.room());
            if Some(invite.room) != room {
                return Err("that invite is for another room".into());
            }
            self.moderate(Action::Revoke { id: invite.id }).await?;
            return Ok(invite.id_hex());
        }
        let prefix = prefix.trim().to_ascii_lowercase();
        let matching: Vec<String> = self
            .invites()
            .into_iter()
            .filter(|i| !i.revoked && !prefix.is_empty() && i.id.starts_with(&prefix))
            .map(|i| i.id)
            .collect();
        let id = match matching.as_slice() {
            [id] => id.clone(),
            [] => {
                return Err(format!(
                    "no invite issued here starts with {prefix:?} (see /invites)"
                ));
            }
            _ => {
                return Err(format!(
                    "{prefix:?} names {} invites; give more of the id",
                    matching.len()
                ));
            }
        };
        let bytes = data_encoding::HEXLOWER
            .decode(id.as_bytes())
            .ok()
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .ok_or("a malformed invite id")?;
        self.moderate(Action::Revoke { id: bytes }).await?;
        Ok(id)
    }
}

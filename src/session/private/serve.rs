//! Answering `parlor/keys/1` for a private room: the key and log to members, the log to an
//! invite's holder (after checking the invite), and the key to that holder once its signed
//! join is merged and made it a member. Everything is decided from the connection's key.

use super::super::actor::Actor;
use super::op_frame;
use crate::net::keys::{KeyAsk, KeyQuery, Refusal, RefusalKind};
use crate::proto::invite::Invite;
use crate::proto::state::{Action, Inserted, KeyAnswer, Role, SignedOp, Skip};
use crate::proto::{EndpointId, UnixMillis};

/// What a member answers a key request from a key that is not (or no longer) a member: the
/// asker takes it that it was removed when enough members say so.
pub(super) const NOT_A_MEMBER: &str = "you are not a member of this room";
pub(super) const BANNED: &str = "you are banned from this room";

pub(super) fn banned() -> Refusal {
    Refusal::new(RefusalKind::Banned, BANNED)
}

impl Actor {
    pub(in crate::session) async fn answer_key(&mut self, query: KeyQuery) {
        let answer = match query.ask {
            KeyAsk::Knock { name } => return self.on_knock(query.peer, name, query.reply),
            KeyAsk::Member { .. } => self.key_answer(&query.peer),
            KeyAsk::Invite { invite } => self.check_invite(&invite, &query.peer).and_then(|_| {
                self.private
                    .as_ref()
                    .map(|private| private.log.encode())
                    .ok_or_else(|| "not a private room".into())
            }),
            KeyAsk::Join { invite, op } => self.admit(&invite, &op, query.peer).await,
        };
        let _ = query.reply.send(answer);
    }

    /// The current key and the log, for a member.
    pub(super) fn key_answer(&self, peer: &EndpointId) -> Result<Vec<u8>, Refusal> {
        let private = self.private.as_ref().ok_or("not a private room")?;
        if !private.state.is_member(peer) {
            return Err(match private.state.is_banned(peer) {
                true => banned(),
                false => Refusal::new(RefusalKind::NotMember, NOT_A_MEMBER),
            });
        }
        if !private.key_is_current() {
            let why = "no key for the room's current epoch here yet; ask again";
            return Err(Refusal::new(RefusalKind::AskAgain, why));
        }
        let answer = KeyAnswer {
            log: private.log.clone(),
            epoch: private.state.epoch(),
            epoch_op: private.state.epoch_op(),
            key: private.held.key.clone(),
        };
        Ok(answer.encode())
    }

    /// Whether `invite` lets `peer` in now: ours, unexpired, issued by an admin, not revoked
    /// nor used up, and `peer` not banned. One line for the joiner when not.
    fn check_invite(&self, invite: &[u8], peer: &EndpointId) -> Result<Invite, Refusal> {
        let private = self.private.as_ref().ok_or("not a private room")?;
        let invite = Invite::from_bytes(invite).map_err(|err| err.to_string())?;
        let state = &private.state;
        if invite.room != state.room() {
            return Err("this invite is for another room".into());
        }
        invite
            .check(UnixMillis::now())
            .map_err(|err| err.to_string())?;
        if state.role_of(&invite.issuer) < Some(Role::Admin) {
            return Err("whoever issued this invite may no longer invite to the room".into());
        }
        if state.is_revoked(&invite.id) {
            return Err("this invite was revoked (ask for a new one)".into());
        }
        if let Some(uses) = invite.uses
            && !state.is_member(peer)
            && state.uses_of(&invite.id) >= uses
        {
            return Err("this invite was used up (ask for a new one)".into());
        }
        if state.is_banned(peer) {
            return Err(banned());
        }
        Ok(invite)
    }

    /// `peer`'s signed join: merged if it checks out, and the key for it once it made `peer`
    /// a member (the others hear of it on the topic).
    async fn admit(
        &mut self,
        invite: &[u8],
        op: &[u8],
        peer: EndpointId,
    ) -> Result<Vec<u8>, Refusal> {
        self.check_invite(invite, &peer)?;
        let op = SignedOp::decode(op).map_err(|err| err.to_string())?;
        let joins = matches!(&op.op.action, Action::Join { invite: shown } if shown == invite);
        if op.author != peer || !joins {
            return Err("that is not your join with this invite".into());
        }
        let private = self.private.as_mut().ok_or("not a private room")?;
        let (frame, hash) = (op_frame(&op), op.hash);
        let inserted = private.log.insert(op).map_err(|err| err.to_string())?;
        if inserted == Inserted::New {
            self.merged().await;
        }
        let private = self.private.as_ref().ok_or("not a private room")?;
        if !private.state.is_member(&peer) {
            let skipped = private.log.fold().skipped;
            let why = skipped.iter().find(|s| s.op == hash).map(|s| s.why);
            return Err(match why {
                Some(Skip::RemovedConcurrently) => {
                    "you were removed from this room: its invites no longer let you in".into()
                }
                Some(Skip::Banned) => banned(),
                _ => "the room did not take this join (its state changed meanwhile)".into(),
            });
        }
        if inserted == Inserted::New {
            let sealed = self.sealed(frame);
            self.net.broadcast(sealed).await;
        }
        self.key_answer(&peer)
    }
}

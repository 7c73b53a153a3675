//! Knocks at a private room announced on the LAN (issue 23): someone who found the room asks
//! to be let in; the connection is held open (by `net::keys`) while an admin decides. `/accept`
//! adds its key to the room and answers with the key, as a member's fetch is answered;
//! `/deny` answers no. Only admins hold knocks (a member could not let anyone in); a knock
//! whose knocker hung up is forgotten at the next poll.

use tokio::sync::oneshot;

use super::super::SessionEvent;
use super::super::actor::Actor;
use super::serve::banned;
use crate::net::keys::{Refusal, RefusalKind};
use crate::proto::EndpointId;
use crate::proto::names::clean_name;
use crate::proto::state::{Action, Role};

/// Knocks held per room; more are refused until some are answered or go.
pub(super) const MAX_KNOCKS: usize = 16;
/// What a member who is not an admin answers a knock.
pub(super) const NOT_AN_ADMIN: &str = "this member cannot let you in (only the room's admins can)";

/// A knock waiting for an admin here.
pub(in crate::session) struct Held {
    pub peer: EndpointId,
    /// What the knocker calls itself (cleaned; unchecked: shown with its key).
    pub name: String,
    pub reply: oneshot::Sender<Result<Vec<u8>, Refusal>>,
}

impl Held {
    /// How it is shown: its name and the start of its key (a name proves nothing).
    fn display(&self) -> String {
        format!("{} ({})", self.name, self.peer.fmt_short())
    }
}

impl Actor {
    /// `peer` knocks, calling itself `name`: held for an admin to decide, answered at once
    /// when there is nothing to decide (already a member, banned, we are no admin).
    pub(super) fn on_knock(
        &mut self,
        peer: EndpointId,
        name: String,
        reply: oneshot::Sender<Result<Vec<u8>, Refusal>>,
    ) {
        let me = self.room.id();
        let Some(private) = self.private.as_mut() else {
            let _ = reply.send(Err("not a private room".into()));
            return;
        };
        if private.state.is_member(&peer) {
            // Let in meanwhile (or knocking again after an answer that came too early).
            let _ = reply.send(self.key_answer(&peer));
            return;
        }
        let refused = if private.state.is_banned(&peer) {
            Some(banned())
        } else if private.state.role_of(&me) < Some(Role::Admin) {
            Some(Refusal::new(RefusalKind::NotAdmin, NOT_AN_ADMIN))
        } else {
            None
        };
        if let Some(why) = refused {
            let _ = reply.send(Err(why));
            return;
        }
        private
            .knocks
            .retain(|k| !k.reply.is_closed() && k.peer != peer);
        if private.knocks.len() >= MAX_KNOCKS {
            let why = "too many are knocking at this room now; try again later";
            let _ = reply.send(Err(Refusal::new(RefusalKind::AskAgain, why)));
            return;
        }
        let name = clean_name(&name).unwrap_or_else(|| "someone".into());
        self.outbox.push_now(SessionEvent::Knock {
            id: peer,
            name: name.clone(),
        });
        private.knocks.push(Held { peer, name, reply });
        // A knocker hanging up is noticed at the poll: look often while one is held.
        self.poll_soon();
    }

    /// Forget knocks whose knocker hung up, saying so (unless it was let in elsewhere).
    pub(super) fn prune_knocks(&mut self) {
        let Some(private) = self.private.as_mut() else {
            return;
        };
        let (gone, kept) = std::mem::take(&mut private.knocks)
            .into_iter()
            .partition(|k| k.reply.is_closed());
        private.knocks = kept;
        for knock in gone {
            if !private.state.is_member(&knock.peer) {
                self.outbox.push_now(SessionEvent::KnockGone {
                    id: knock.peer,
                    name: knock.name,
                });
            }
        }
    }

    /// `/accept WHO`: add the knocker `who` names to the room and give it the key. Answers
    /// who was let in.
    pub(in crate::session) async fn accept_knock(&mut self, who: &str) -> Result<String, String> {
        let knock = self.take_knock(who)?;
        let shown = knock.display();
        let member = self
            .private
            .as_ref()
            .is_some_and(|p| p.state.is_member(&knock.peer));
        if !member && let Err(why) = self.moderate(Action::Add { who: knock.peer }).await {
            // Still knocking: another admin may decide, or this one again.
            if let Some(private) = self.private.as_mut() {
                private.knocks.push(knock);
            }
            return Err(why);
        }
        // A key not current yet (a rekey under way) is refused "ask again": the knocker,
        // a member now, knocks again and is answered at once.
        let _ = knock.reply.send(self.key_answer(&knock.peer));
        Ok(shown)
    }

    /// `/deny WHO [REASON]`: tell the knocker no. Answers who was denied.
    pub(in crate::session) fn deny_knock(
        &mut self,
        who: &str,
        reason: &str,
    ) -> Result<String, String> {
        let knock = self.take_knock(who)?;
        let shown = knock.display();
        let why = match reason.trim() {
            "" => "an admin denied your knock".to_string(),
            reason => format!("an admin denied your knock: {reason}"),
        };
        let _ = knock
            .reply
            .send(Err(Refusal::new(RefusalKind::Denied, why)));
        Ok(shown)
    }

    /// The waiting knock `who` names (its name, or the start of its key; nothing: the only
    /// one), taken out.
    fn take_knock(&mut self, who: &str) -> Result<Held, String> {
        self.prune_knocks();
        let private = self
            .private
            .as_mut()
            .ok_or("this room is public: nobody knocks")?;
        let who = who.trim();
        let hex = who.trim_start_matches('#').to_ascii_lowercase();
        let matching: Vec<usize> = private
            .knocks
            .iter()
            .enumerate()
            .filter(|(_, k)| {
                who.is_empty()
                    || k.name.eq_ignore_ascii_case(who)
                    || (hex.len() >= 4 && k.peer.to_string().starts_with(&hex))
            })
            .map(|(i, _)| i)
            .collect();
        match matching.as_slice() {
            [i] => Ok(private.knocks.remove(*i)),
            [] if private.knocks.is_empty() => Err("nobody is knocking".into()),
            [] => Err(format!(
                "{who:?} is not knocking (knocking: {})",
                knockers(&private.knocks)
            )),
            _ => Err(format!(
                "several are knocking as {who:?}: {} (give the start of a key)",
                knockers(&private.knocks)
            )),
        }
    }
}

fn knockers(knocks: &[Held]) -> String {
    let shown: Vec<String> = knocks.iter().map(Held::display).collect();
    shown.join(", ")
}

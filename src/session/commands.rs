//! What the front ends ask of a session (through its handle), answered by the actor.

use super::actor::Actor;
use super::handle::{Command, Status};
use crate::proto::room::Input;
use crate::proto::ticket::{MAX_TICKET_PEERS, Ticket};

impl Actor {
    pub(super) async fn command(&mut self, command: Command) {
        match command {
            Command::Say { text, action } => {
                let input = if action {
                    Input::Act(text)
                } else {
                    Input::Say(text)
                };
                self.feed(input).await;
            }
            Command::Rename(name) => self.feed(Input::SetName(name)).await,
            Command::Room(input) => self.feed(input).await,
            Command::Members(reply) => {
                let _ = reply.send(self.room.members());
            }
            Command::Ticket(reply) => {
                let _ = reply.send(self.ticket().await);
            }
            Command::Status(reply) => {
                let _ = reply.send(Status {
                    joined: self.room.is_joined(),
                    neighbors: self.room.neighbors().count(),
                    queued: self.room.queued(),
                    catching_up: self.catch_up.running(),
                    messages: self.room.history_len(),
                    stats: self.room.stats().clone(),
                    unopened: self.unopened(),
                });
            }
            Command::Net(reply) => {
                let members = self.room.members();
                let peers: Vec<_> = members
                    .iter()
                    .map(|m| m.id)
                    .filter(|id| *id != self.room.id())
                    .collect();
                let report = self.node.report(&peers);
                let _ = reply.send(super::NetView { report, members });
            }
            Command::Drained(reply) => {
                self.drain_waiters.push(reply);
                self.answer_drained();
            }
            Command::FlushSaves(reply) => {
                self.flush_saves();
                let _ = reply.send(());
            }
            Command::Moderate(action, reply) => {
                let _ = reply.send(self.moderate(action).await);
            }
            Command::Invite { uses, lasts, reply } => {
                let _ = reply.send(self.issue_invite(uses, lasts).await);
            }
            Command::Invites(reply) => {
                let _ = reply.send(self.invites());
            }
            Command::Revoke(prefix, reply) => {
                let _ = reply.send(self.revoke(&prefix).await);
            }
            Command::Accept(who, reply) => {
                let _ = reply.send(self.accept_knock(&who).await);
            }
            Command::Deny { who, reason, reply } => {
                let _ = reply.send(self.deny_knock(&who, &reason));
            }
            Command::State(reply) => {
                let known = self.room.members();
                let _ = reply.send(self.private.as_ref().map(|p| p.view(&known)));
            }
            // Handled by the loop, which ends on it.
            Command::Leave(_) => {}
            #[cfg(test)]
            Command::Lagged => self.feed(Input::Lagged).await,
        }
    }

    /// A fresh ticket: us first, then a few current neighbours, so it outlives any one member.
    pub(super) async fn ticket(&mut self) -> String {
        if self.private.is_some() {
            return self.default_invite().await;
        }
        let neighbors: Vec<_> = self.room.neighbors().copied().collect();
        let peers = self.node.ticket_peers(&neighbors, MAX_TICKET_PEERS).await;
        // The address the ticket carries (it may have waited for the home relay): a later
        // change of ours hands out a new ticket, the same one again would not.
        self.ticket_addr = peers.first().cloned();
        let mut ticket = Ticket::new(self.room.topic(), peers);
        // Joiners see the room's name at once, before any member tells them.
        ticket.name = self.room_name();
        ticket.to_string()
    }
}

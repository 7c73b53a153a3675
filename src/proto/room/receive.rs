//! The receiving half of the room: live envelopes from gossip and envelopes from history. Every
//! one is verified; nothing remote can stop the room or speak for someone else.

use std::sync::Arc;
use std::time::Duration;

use super::{ChatLine, Event, LeaveReason, Output, Record, Room};
use crate::proto::members::NameChange;
use crate::proto::names::clean_name;
use crate::proto::wire::{self, CheckedBatch, MessageBody, Verified};
use crate::proto::{EndpointId, Now};

impl Room {
    pub(super) fn reject(&mut self, rejection: &wire::Rejection) {
        tracing::debug!(kind = rejection.kind(), "dropped envelope: {rejection}");
        *self.stats.rejected.entry(rejection.kind()).or_default() += 1;
    }

    fn name_of(verified: &Verified, name: &str) -> String {
        clean_name(name).unwrap_or_else(|| verified.author.fmt_short().to_string())
    }

    pub(super) fn on_received(&mut self, bytes: Vec<u8>, now: Now, out: &mut Vec<Output>) {
        let verified = match self.verifier.open(&bytes, &self.topic, now.wall) {
            Ok(verified) => verified,
            Err(rejection) => return self.reject(&rejection),
        };
        if !self.seen.insert(verified.id) {
            return self.reject(&wire::Rejection::Replay);
        }
        self.stats.accepted += 1;
        let author = verified.author;
        self.members.heard_from(author, now.at);
        let envelope: Arc<[u8]> = Arc::from(bytes);
        match &verified.body {
            MessageBody::WhoIsThere { .. } => self.answer(author, now, out),
            MessageBody::AboutMe { name, .. } => {
                let name = Self::name_of(&verified, name);
                self.backlog
                    .add_name(author, verified.sent, envelope.clone());
                let change = self.members.set_name(author, name.clone(), now.at);
                // Kept past the member's expiry: back from an outage, its first line can
                // arrive before its `AboutMe` does, and should still carry its name.
                self.members.remember_name(author, &name, verified.sent);
                let event = match change {
                    NameChange::Joined => self.members.info(&author).map(Event::MemberJoined),
                    NameChange::Renamed { old } => self
                        .members
                        .info(&author)
                        .map(|member| Event::MemberRenamed { member, old }),
                    NameChange::Unchanged => None,
                };
                // Heartbeats repeat the name: keep it only when it is news.
                if let Some(event) = event {
                    out.push(Output::Persist(Record::Name {
                        id: author,
                        name,
                        sent: verified.sent,
                        envelope,
                    }));
                    out.push(Output::Event(event));
                }
            }
            MessageBody::Message { text, action, .. } => {
                let line = ChatLine {
                    id: verified.id,
                    author: self.members.info_or_stranger(&author),
                    text: text.clone(),
                    action: *action,
                    sent: verified.sent,
                    history: false,
                    envelope,
                };
                self.backlog
                    .add_message(line.sent, line.id, author, line.envelope.clone());
                out.push(Output::Persist(Record::Message(line.clone())));
                out.push(Output::Event(Event::MessageReceived(line)));
            }
            MessageBody::Leave { .. } => {
                if let Some(member) = self.members.remove(&author) {
                    out.push(Output::Event(Event::MemberLeft {
                        member,
                        reason: LeaveReason::Left,
                    }));
                }
            }
        }
    }

    /// One `AboutMe` per asking newcomer, not one per question: a peer that repeats
    /// `WhoIsThere` within `answer_interval` gets no second answer.
    fn answer(&mut self, asker: EndpointId, now: Now, out: &mut Vec<Output>) {
        if asker == self.me || self.answered.contains_key(&asker) {
            return;
        }
        self.answered.insert(asker, now.at);
        let delay = self.answer_delay(asker);
        if delay.is_zero() {
            // Also serves whoever is waiting for a later answer.
            self.answer_due = None;
            return self.send_answer(now, out);
        }
        let due = now.at + delay;
        self.answer_due = Some(self.answer_due.map_or(due, |t| t.min(due)));
    }

    /// Where in the answer window this member answers `asker`: fixed by both keys, so every
    /// member picks another point and runs stay reproducible.
    fn answer_delay(&self, asker: EndpointId) -> Duration {
        let spread = self.config.answer_spread.as_micros() as u64;
        if spread == 0 {
            return Duration::ZERO;
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(self.me.as_bytes());
        hasher.update(asker.as_bytes());
        let hash = hasher.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&hash.as_bytes()[..8]);
        Duration::from_micros(u64::from_le_bytes(first) % spread)
    }

    pub(super) fn send_answer(&mut self, now: Now, out: &mut Vec<Output>) {
        let name = self.members.my_name().to_string();
        self.send(
            MessageBody::AboutMe {
                from: self.me,
                name,
            },
            now,
            out,
        );
    }

    /// Envelopes from a catch-up answer (or from disk at start). Each is verified like a live
    /// one; names come only from the authors' own signed `AboutMe`; presence is untouched (an
    /// old `AboutMe` does not make anyone join). New messages come out oldest first.
    pub(super) fn on_history(&mut self, envelopes: Vec<Vec<u8>>, now: Now, out: &mut Vec<Output>) {
        let checked = wire::check_batch(envelopes, &self.topic, now.wall);
        self.on_checked_history(checked, out);
    }

    /// A history batch whose envelopes were already checked (see [`wire::check_batch`]).
    pub(super) fn on_checked_history(&mut self, checked: CheckedBatch, out: &mut Vec<Output>) {
        for rejection in &checked.rejected {
            self.reject(rejection);
        }
        let verified = checked.accepted;
        for (v, envelope) in &verified {
            if let MessageBody::AboutMe { name, .. } = &v.body {
                let name = Self::name_of(v, name);
                self.backlog.add_name(v.author, v.sent, envelope.clone());
                if self.members.remember_name(v.author, &name, v.sent) {
                    out.push(Output::Persist(Record::Name {
                        id: v.author,
                        name,
                        sent: v.sent,
                        envelope: envelope.clone(),
                    }));
                }
            }
        }
        let mut lines = Vec::new();
        for (v, envelope) in verified {
            let MessageBody::Message { text, action, .. } = v.body else {
                continue;
            };
            if !self.seen.insert(v.id) {
                continue;
            }
            self.stats.history_accepted += 1;
            self.backlog
                .add_message(v.sent, v.id, v.author, envelope.clone());
            lines.push(ChatLine {
                id: v.id,
                author: self.members.info_or_stranger(&v.author),
                text,
                action,
                sent: v.sent,
                history: true,
                envelope,
            });
        }
        lines.sort_by_key(|line| (line.sent, line.id));
        for line in lines {
            out.push(Output::Persist(Record::Message(line.clone())));
            out.push(Output::Event(Event::MessageReceived(line)));
        }
    }
}

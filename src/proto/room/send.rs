//! The sending half of the room: sealing, the presence handshake, the user's lines and name.

use std::sync::Arc;

use super::{Attempt, ChatLine, Event, Output, Page, Record, Refusal, Room};
use crate::proto::name_index::Claim;
use crate::proto::names::{clean_name, name_key};
use crate::proto::wire::{self, MessageBody, Payload};
use crate::proto::{EndpointId, MessageId, Now};

/// What the user says: a line, an action, a file's line, a reply, or a change to a line.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub text: String,
    pub action: bool,
    pub file: Option<crate::proto::wire::FileRef>,
    pub reply_to: Option<MessageId>,
    pub change: Option<super::events::LineChange>,
}

impl Draft {
    pub(super) fn line(text: String, action: bool) -> Self {
        Self {
            text,
            action,
            ..Self::default()
        }
    }

    /// What to give back if it is refused.
    fn attempt(&self, text: String) -> Attempt {
        match (&self.file, &self.change) {
            (Some(file), _) => Attempt::Share(file.clone()),
            (None, Some(change)) => Attempt::Change(super::changes::describe(change, &self.text)),
            (None, None) => Attempt::said(text, self.action),
        }
    }
}

impl Room {
    fn next_nonce(&mut self) -> u64 {
        // splitmix64: cheap, and uniqueness per sender is all a nonce needs here.
        self.nonce_state = self.nonce_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.nonce_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(super) fn seal(&mut self, body: MessageBody, now: Now) -> Result<Vec<u8>, wire::TooLarge> {
        let payload = Payload {
            nonce: self.next_nonce(),
            sent: now.wall.0,
            body,
        };
        let bytes = wire::seal(&self.secret, &self.topic, &payload)?;
        if bytes.len() > self.config.max_envelope {
            return Err(wire::TooLarge { size: bytes.len() });
        }
        Ok(bytes)
    }

    /// Seal and broadcast a control message; dropped while not joined, since joining resends
    /// the presence handshake anyway.
    pub(super) fn send(&mut self, body: MessageBody, now: Now, out: &mut Vec<Output>) {
        if !self.is_joined() {
            return;
        }
        // Control bodies are small and names are capped: they always fit.
        if let Ok(bytes) = self.seal(body, now) {
            out.push(Output::Broadcast(bytes));
        }
    }

    /// Broadcast our `AboutMe` (when joined) and keep it: it names us in the history we serve.
    /// It also promises the next one within the heartbeat interval of a room this size; the
    /// next goes out at a random point of the last sixth of that interval, so that members who
    /// joined together do not beat together.
    pub(super) fn announce(&mut self, now: Now, out: &mut Vec<Output>) {
        let every = self.members.heartbeat();
        let jitter = (self.next_nonce() % 1000) as f64 / 1000.0;
        self.next_heartbeat = Some(now.at + every.mul_f64(1.0 - jitter / 6.0));
        let name = self.members.my_name().to_string();
        let body = MessageBody::AboutMe {
            from: self.me,
            name: name.clone(),
            every: Some(every.as_secs().try_into().unwrap_or(u32::MAX)),
        };
        let Ok(bytes) = self.seal(body, now) else {
            return;
        };
        let envelope: Arc<[u8]> = Arc::from(bytes.as_slice());
        self.backlog.add_name(self.me, now.wall, envelope.clone());
        // Heartbeats repeat the name: keep it only when it is news, as for others' names.
        if self.persisted_name.as_deref() != Some(name.as_str()) {
            self.persisted_name = Some(name.clone());
            // Our name is ours in this room if nobody had it first: keep that on disk (the
            // store keeps the first pin of a name, so this never takes one over).
            if self.members.names().owner_if_other(&self.me).is_none() {
                out.push(Output::Persist(Record::Pin {
                    key: name_key(&name),
                    id: self.me,
                }));
            }
            out.push(Output::Persist(Record::Name {
                id: self.me,
                name,
                sent: now.wall,
                envelope,
            }));
        }
        if self.is_joined() {
            out.push(Output::Broadcast(bytes));
        }
    }

    /// An older peer is here: it takes 80 s of silence for leaving, so our next heartbeat
    /// must come within its 30 s (at a random point of the last sixth, as always).
    pub(super) fn beat_within_legacy_interval(&mut self, now: Now) {
        let every = self.config.timing.heartbeat;
        let jitter = (self.next_nonce() % 1000) as f64 / 1000.0;
        let due = now.at + every.mul_f64(1.0 - jitter / 6.0);
        if self.next_heartbeat.is_none_or(|t| t > due) {
            self.next_heartbeat = Some(due);
        }
    }

    /// A line (or `/me` action, or a file offer: `file`, with its name as the text).
    pub(super) fn say(&mut self, draft: Draft, now: Now, out: &mut Vec<Output>) {
        let text = draft.text.clone();
        let action = draft.action;
        if text.trim().is_empty() {
            return;
        }
        // A newcomer still waiting for our answer learns our name before our words.
        if self.answer_due.take().is_some() {
            self.send_answer(now, out);
        }
        if self.queue.len() >= self.config.max_queue {
            let refusal = if self.is_joined() {
                Refusal::Backlogged(self.queue.len())
            } else {
                Refusal::QueueFull(self.queue.len())
            };
            out.push(Output::Event(Event::refused(refusal, draft.attempt(text))));
            return;
        }
        let text_bytes = text.len();
        let attempt = |text: String| draft.attempt(text);
        let body = MessageBody::Message {
            from: self.me,
            text: text.clone(),
            action,
            file: draft.file.clone(),
            reply_to: draft.reply_to.map(|id| id.to_string()),
            change: draft.change.as_ref().map(super::changes::write_change),
        };
        let bytes = match self.seal(body, now) {
            Ok(bytes) => bytes,
            Err(too_large) => {
                let overhead = too_large.size.saturating_sub(text_bytes);
                let max_text_bytes = self.config.max_envelope.saturating_sub(overhead);
                let refusal = Refusal::TooLong {
                    text_bytes,
                    max_text_bytes,
                };
                out.push(Output::Event(Event::refused(refusal, attempt(text))));
                return;
            }
        };
        let line = ChatLine {
            id: MessageId::of(&bytes),
            author: self.me(),
            text,
            action,
            sent: now.wall,
            history: false,
            envelope: Arc::from(bytes.as_slice()),
            file: draft.file.clone(),
            reply_to: draft.reply_to.map(Box::new),
            change: draft.change.clone().map(Box::new),
        };
        // Our own envelope may come back through a misbehaving peer: treat that as a replay.
        self.seen.insert(line.id);
        if self.may_send_now(bytes.len(), now) {
            self.sent(bytes, line, out);
        } else {
            self.queue.push_back((bytes, line));
            self.send_queued(now, out);
        }
    }

    /// A line goes out: broadcast, keep it for late joiners, store it, show it.
    pub(super) fn sent(&mut self, bytes: Vec<u8>, line: ChatLine, out: &mut Vec<Output>) {
        self.backlog
            .add_message(line.sent, line.id, self.me, line.envelope.clone());
        self.note_held(line.sent, line.sent);
        out.push(Output::Broadcast(bytes));
        if line.change.is_some() {
            return self.change_sent(line, out);
        }
        out.push(Output::Persist(Record::Message(line.clone())));
        out.push(Output::Event(Event::MessageSent(line.clone())));
        self.line_known(&line, out);
    }

    pub(super) fn set_name(&mut self, raw: &str, now: Now, out: &mut Vec<Output>) {
        let Some(name) = clean_name(raw) else {
            let attempt = Attempt::SetName(raw.to_string());
            out.push(Output::Event(Event::refused(Refusal::InvalidName, attempt)));
            return;
        };
        if name == self.members.my_name() {
            return;
        }
        let (old, claim) = self.members.set_my_name(name);
        out.push(Output::Event(Event::MemberRenamed {
            member: self.me(),
            old,
        }));
        if let Claim::Clash { owner } = claim {
            let owner = self.members.info_or_stranger(&owner);
            out.push(Output::Event(Event::NameClash {
                member: self.me(),
                owner,
                own: true,
            }));
        }
        self.announce(now, out);
    }

    pub(super) fn leave(&mut self, now: Now, out: &mut Vec<Output>) {
        if self.is_joined() {
            self.send(MessageBody::Leave { from: self.me }, now, out);
        }
    }

    pub(super) fn on_neighbor_up(&mut self, id: EndpointId, now: Now, out: &mut Vec<Output>) {
        let was_joined = self.is_joined();
        if !self.neighbors.insert(id) {
            return;
        }
        if self.members.is_named(&id) {
            self.members.heard_from(id, now.at, now.wall);
        }
        out.push(Output::Event(Event::NeighborsChanged(self.neighbors.len())));
        if was_joined {
            return;
        }
        // Joined (or rejoined after losing every link): introduce ourselves, ask who is here,
        // send what was typed meanwhile, and catch up on what was said while we were away:
        // on a first join the newest page; back from an outage, everything since (page by
        // page from the oldest), so nothing said meanwhile is missed however much it was.
        let page = if self.ever_joined {
            Page::Oldest
        } else {
            Page::Newest
        };
        if !self.ever_joined {
            // Whoever we hear in the first minute was here before us (see `limits`).
            self.limiter.joined(now.at);
        }
        self.ever_joined = true;
        self.announce(now, out);
        self.send(MessageBody::WhoIsThere { from: self.me }, now, out);
        self.send_queued(now, out);
        // Who is here comes from one neighbour's member list, not from everyone's answer.
        self.request_history(now, page, out);
        self.request_roster(out);
        self.joined_at = Some(now.at);
    }

    /// Ask a neighbour for the members it knows to be here.
    pub(super) fn request_roster(&self, out: &mut Vec<Output>) {
        out.push(Output::RequestRoster);
    }
}

//! The receiving half of the room: live envelopes from gossip and envelopes from history. Every
//! one is verified; nothing remote can stop the room or speak for someone else.

use std::sync::Arc;
use std::time::Duration;

use super::changes::read_change;
use super::unread::limit_kind;
use super::{ChatLine, Envelope, Event, LeaveReason, MAX_ROSTER, Output, Record, Room};

/// Room names a member list is read for: it carries one (the winner), a hostile one many.
const MAX_ROOM_NAMES: usize = 4;
use crate::proto::limits::Kind;
use crate::proto::members::NameChange;
use crate::proto::name_index::Claim;
use crate::proto::names::clean_name;
use crate::proto::wire::{self, CheckedBatch, MAX_CLOCK_SKEW_MS, MessageBody, Verified};
use crate::proto::{EndpointId, Now};

impl Room {
    pub(super) fn reject(&mut self, rejection: &wire::Rejection) {
        tracing::debug!(kind = rejection.kind(), "dropped envelope: {rejection}");
        *self.stats.rejected.entry(rejection.kind()).or_default() += 1;
        // What no honest peer sends (replays, newer versions and skewed clocks it may).
        if matches!(
            rejection,
            wire::Rejection::Oversize { .. }
                | wire::Rejection::Truncated { .. }
                | wire::Rejection::BadSignature
                | wire::Rejection::Malformed(_)
                | wire::Rejection::FromMismatch { .. }
        ) {
            self.junk += 1;
        }
    }

    /// Envelopes received that an honest neighbour rarely delivers: they fail to parse or to
    /// verify, or they are lines of keys first heard recently past what those may send.
    pub fn junk_count(&self) -> u64 {
        self.junk
    }

    /// Whether `id` has a share of the rate limits of its own (see [`crate::proto::limits`]).
    pub fn is_established(&self, id: &EndpointId) -> bool {
        self.limiter.is_established(id)
    }

    fn name_of(verified: &Verified, name: &str) -> String {
        clean_name(name).unwrap_or_else(|| verified.author.fmt_short().to_string())
    }

    /// Count an envelope dropped for a reason of the room's own (not a wire rejection).
    pub(super) fn drop_counted(&mut self, kind: &'static str) {
        *self.stats.rejected.entry(kind).or_default() += 1;
    }

    pub(super) fn on_received(&mut self, bytes: Vec<u8>, now: Now, out: &mut Vec<Output>) {
        if let Some(verdict) = self.refused_unread(&bytes, now) {
            self.junk += u64::from(verdict.junk);
            return self.drop_counted("rate limited");
        }
        let verified = match self.verifier.open(&bytes, &self.topic, now.wall) {
            Ok(verified) => verified,
            Err(rejection) => return self.reject(&rejection),
        };
        let author = verified.author;
        if wire::is_presence(&verified.body) && bytes.len() > wire::MAX_PRESENCE_BYTES {
            return self.drop_counted("oversize presence");
        }
        // An ignored key's lines and questions are dropped; its presence is still followed,
        // unseen (see `Room::hides`), so that `/unignore` lists it at once if it is here.
        let presence = matches!(
            verified.body,
            MessageBody::AboutMe { .. } | MessageBody::Leave { .. }
        );
        if self.ignored.contains(&author) && !presence {
            return self.drop_counted("ignored");
        }
        let kind = limit_kind(&verified.body);
        // A line the room holds is a replay even when the seen set has forgotten it.
        let held = matches!(verified.body, MessageBody::Message { .. })
            && self.backlog.contains(verified.sent, verified.id);
        if held || self.seen.contains(&verified.id) {
            return self.reject(&wire::Rejection::Replay);
        }
        if verified.sent < self.config.history.oldest(now.wall) {
            return self.drop_counted("too old");
        }
        if kind == Kind::Presence {
            // Presence counts only while it could still be current (a member's expiry plus
            // the clock skew), and is monotonic per author: an old `AboutMe` must not revert
            // a name or fake presence, an old `Leave` must not remove a member who came back,
            // after a restart or once the seen set forgot them.
            let expiry = self.config.timing.expiry_for(every(&verified.body));
            let expiry = expiry.as_millis() as u64;
            if verified.sent.0 + expiry + MAX_CLOCK_SKEW_MS < now.wall.0 {
                return self.drop_counted("stale presence");
            }
            let fresh =
                self.members
                    .presence_is_fresh(author, verified.sent, verified.id, now.wall);
            if let Err(not_fresh) = fresh {
                return self.drop_counted(not_fresh.kind());
            }
        }
        let line_bytes = match kind {
            Kind::Message => bytes.len(),
            _ => 0,
        };
        let verdict = self.limiter.check(author, kind, line_bytes, now.at);
        // A flood of minted keys: what relays it keeps relaying it (see `session::invalid`).
        self.junk += u64::from(verdict.junk);
        if !verdict.allowed {
            return self.drop_counted("rate limited");
        }
        // Only what got this far is remembered: refused envelopes cannot flush the set.
        self.seen.insert(verified.id);
        self.stats.accepted += 1;
        let envelope: Arc<[u8]> = Arc::from(bytes);
        match &verified.body {
            MessageBody::WhoIsThere { .. } => {
                self.members.heard_from(author, now.at, now.wall);
                self.answer(author, now, out)
            }
            MessageBody::Missing { who, .. } => self.on_missing(author, who, now, out),
            MessageBody::Typing { .. } => self.on_typing(author, verified.sent, now, out),
            MessageBody::RoomInfo { .. } => {
                if !self.on_room_info(&verified, &envelope, out) {
                    self.drop_counted("bad room name");
                }
            }
            MessageBody::AboutMe { name, .. } => {
                let name = Self::name_of(&verified, name);
                self.backlog
                    .add_name(author, verified.sent, envelope.clone());
                let (change, claim) =
                    self.members
                        .set_name(author, name.clone(), verified.sent, now.at, now.wall);
                let event = match change {
                    NameChange::Joined => self.members.info(&author).map(Event::MemberJoined),
                    NameChange::Renamed { old } => self
                        .members
                        .info(&author)
                        .map(|member| Event::MemberRenamed { member, old }),
                    NameChange::Unchanged => None,
                };
                self.members.beats_every(&author, every(&verified.body));
                if self.members.is_legacy(&author) {
                    self.beat_within_legacy_interval(now);
                }
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
                self.claimed(author, claim, true, out);
            }
            MessageBody::Message {
                file: Some(file), ..
            } if file.check().is_err() => self.drop_counted("bad file offer"),
            MessageBody::Message {
                change: Some(change),
                ..
            } if read_change(change).is_none() => self.drop_counted("bad change"),
            MessageBody::Message {
                text,
                action,
                file,
                reply_to,
                change,
                ..
            } => {
                // Older than any clock could be off: a replay or a backdated line. Shown as
                // history (never as new), and no sign that its author is here.
                let late = verified.sent.0 + MAX_CLOCK_SKEW_MS < now.wall.0;
                if !late {
                    self.members.heard_from(author, now.at, now.wall);
                }
                let line = ChatLine {
                    id: verified.id,
                    author: self.members.info_or_stranger(&author),
                    text: text.clone(),
                    action: *action,
                    sent: verified.sent,
                    history: late,
                    envelope,
                    file: file.clone(),
                    reply_to: reply_to
                        .as_deref()
                        .and_then(wire::parse_message_id)
                        .map(Box::new),
                    change: change.as_ref().and_then(read_change).map(Box::new),
                };
                self.backlog
                    .add_message(line.sent, line.id, author, line.envelope.clone());
                self.note_held(line.sent, now.wall);
                self.take_line(line, out);
            }
            MessageBody::Leave { .. } => {
                // Back later, even within the answer interval, it is a newcomer again.
                self.answered.remove(&author);
                if let Some(member) = self.members.remove(&author) {
                    out.push(Output::Event(Event::MemberLeft {
                        member,
                        reason: LeaveReason::Left,
                    }));
                }
            }
        }
    }

    /// A neighbour's member list: each recent `AboutMe` in it (at most [`MAX_ROSTER`]) may
    /// make its author join; anything else in it is dropped.
    pub(super) fn on_roster(&mut self, checked: CheckedBatch, now: Now, out: &mut Vec<Output>) {
        for rejection in &checked.rejected {
            self.reject(rejection);
        }
        let (names, presence): (Vec<_>, Vec<_>) = checked
            .accepted
            .iter()
            .partition(|(v, _)| matches!(v.body, MessageBody::RoomInfo { .. }));
        // The room's name comes with the list (however old: a name stays until changed).
        for (v, envelope) in names.into_iter().take(MAX_ROOM_NAMES) {
            if self.ignored.contains(&v.author) || !self.on_room_info(v, envelope, out) {
                self.drop_counted("bad room name");
            }
        }
        for (v, envelope) in presence.into_iter().take(MAX_ROSTER) {
            if !self.present_from_history(v, envelope, now, out) {
                self.drop_counted("not in a member list");
            }
        }
    }

    /// An `AboutMe` from a member list: recent enough that its author is
    /// still here (within the expiry its heartbeat allows), newer than any presence we had
    /// from it, and from someone not listed yet: it joins as if the `AboutMe` had arrived
    /// live when it was sent. A member list can thus name at most [`MAX_ROSTER`] newcomers a
    /// time, each signed by its own key, which is what a live flood of fresh keys could do.
    fn present_from_history(
        &mut self,
        v: &Verified,
        envelope: &Envelope,
        now: Now,
        out: &mut Vec<Output>,
    ) -> bool {
        let MessageBody::AboutMe { name, .. } = &v.body else {
            return false;
        };
        if envelope.len() > wire::MAX_PRESENCE_BYTES {
            return false;
        }
        let author = v.author;
        let expiry = self.config.timing.expiry_for(every(&v.body));
        let age = Duration::from_millis(now.wall.0.saturating_sub(v.sent.0));
        // Present but not announced yet (its line or question came first): the list names it.
        if author == self.me || self.members.is_named(&author) || age >= expiry {
            return false;
        }
        if self
            .members
            .presence_is_fresh(author, v.sent, v.id, now.wall)
            .is_err()
        {
            return false;
        }
        let heard = now.at.checked_sub(age).unwrap_or(now.at);
        let name = Self::name_of(v, name);
        self.backlog.add_name(author, v.sent, envelope.clone());
        let (change, claim) = self
            .members
            .set_name(author, name.clone(), v.sent, heard, now.wall);
        self.members.beats_every(&author, every(&v.body));
        if change == NameChange::Joined
            && let Some(member) = self.members.info(&author)
        {
            out.push(Output::Persist(Record::Name {
                id: author,
                name,
                sent: v.sent,
                envelope: envelope.clone(),
            }));
            out.push(Output::Event(Event::MemberJoined(member)));
        }
        self.claimed(author, claim, true, out);
        true
    }

    /// What a key's new name meant: a first claim is pinned (kept on disk); a clash with the
    /// name's owner is told once, when it happens live.
    pub(super) fn claimed(
        &mut self,
        id: EndpointId,
        claim: Option<Claim>,
        live: bool,
        out: &mut Vec<Output>,
    ) {
        match claim {
            Some(Claim::Pinned { key }) => out.push(Output::Persist(Record::Pin { key, id })),
            Some(Claim::Clash { owner }) if live => {
                let member = self.members.info_or_stranger(&id);
                let owner = self.members.info_or_stranger(&owner);
                out.push(Output::Event(Event::NameClash {
                    member,
                    owner,
                    own: false,
                }));
            }
            _ => {}
        }
    }

    /// One `AboutMe` per asking newcomer, not one per question: a peer that repeats
    /// `WhoIsThere` within `answer_interval` gets no second answer.
    fn answer(&mut self, asker: EndpointId, now: Now, out: &mut Vec<Output>) {
        if asker == self.me || self.answered.contains_key(&asker) {
            return;
        }
        self.answered.insert(asker, now.at);
        let (delay, answers) = self.answer_draw(asker);
        // An older newcomer asks no member list: everyone it can hear from answers it.
        if !answers && !self.members.is_legacy(&asker) {
            return;
        }
        if delay.is_zero() {
            // Also serves whoever is waiting for a later answer.
            self.answer_due = None;
            return self.send_answer(now, out);
        }
        let due = now.at + delay;
        self.answer_due = Some(self.answer_due.map_or(due, |t| t.min(due)));
    }

    /// Whether this member answers `asker`, and where in the answer window. The newcomer
    /// gets the member list from a neighbour; answers are a second source, so in a room of N
    /// listed members each answers with probability [`super::ANSWERERS`]/N: about that many
    /// answers per newcomer (broadcasts O(1), deliveries O(N)), not N (N²). Fixed by both keys,
    /// so every member draws otherwise and runs stay reproducible.
    fn answer_draw(&self, asker: EndpointId) -> (Duration, bool) {
        let words = crate::proto::pair_draw(&self.me, &asker);
        let word = |k: usize| words[k];
        let listed = self.members.listed() as u64;
        let answerers = self.config.answerers;
        let answers = listed <= answerers || word(1) % listed < answerers;
        let spread = self.config.answer_spread.as_micros() as u64;
        let delay = match spread {
            0 => Duration::ZERO,
            spread => Duration::from_micros(word(0) % spread),
        };
        (delay, answers)
    }

    /// `author` (a member here) lost its link to `who` and heard nothing from it since. If we
    /// are `who`, we show that we are here (at the rate answers may go out, well within the
    /// refute window); otherwise `who` is gone once the window passes without a word from it.
    fn on_missing(&mut self, author: EndpointId, who: &str, now: Now, out: &mut Vec<Output>) {
        if !self.members.is_named(&author) {
            return self.drop_counted("missing from stranger");
        }
        self.members.heard_from(author, now.at, now.wall);
        let Ok(who) = who.parse::<EndpointId>() else {
            return self.drop_counted("malformed missing");
        };
        if who == self.me {
            self.answer_due = None;
            self.send_answer(now, out);
        } else {
            self.members.reported_missing(&who, now.at);
        }
    }

    /// Our `AboutMe` for the newcomers that asked, unless answers are over their total rate:
    /// then it goes out once one is allowed, serving everyone who asked meanwhile.
    pub(super) fn send_answer(&mut self, now: Now, out: &mut Vec<Output>) {
        if let Err(wait) = self.answers.take(self.config.limits.answers, now.at) {
            let due = now.at + wait;
            self.answer_due = Some(self.answer_due.map_or(due, |t| t.min(due)));
            return;
        }
        self.announce(now, out);
    }

    /// Envelopes from a catch-up answer (or from disk at start). Each is verified like a live
    /// one; names come only from the authors' own signed `AboutMe`; presence is untouched (an
    /// old `AboutMe` does not make anyone join). New messages come out oldest first.
    pub(super) fn on_history(&mut self, envelopes: Vec<Vec<u8>>, now: Now, out: &mut Vec<Output>) {
        let checked = wire::check_batch(envelopes, &self.topic, now.wall);
        self.on_checked_history(checked, now, out);
    }

    /// A history batch whose envelopes were already checked (see [`wire::check_batch`]).
    pub(super) fn on_checked_history(
        &mut self,
        checked: CheckedBatch,
        now: Now,
        out: &mut Vec<Output>,
    ) {
        for rejection in &checked.rejected {
            self.reject(rejection);
        }
        let verified = checked.accepted;
        // Names come for the authors of the lines in the answer (and keys we know): a member
        // serving history must not fill our memory with thousands of fresh keys' names.
        let authors: std::collections::HashSet<EndpointId> = verified
            .iter()
            .filter(|(v, _)| matches!(v.body, MessageBody::Message { .. }))
            .map(|(v, _)| v.author)
            .collect();
        for (v, envelope) in &verified {
            if let MessageBody::AboutMe { name, .. } = &v.body {
                if envelope.len() > wire::MAX_PRESENCE_BYTES {
                    self.drop_counted("oversize presence");
                    continue;
                }
                let wanted = authors.contains(&v.author) || self.members.knows(&v.author);
                if self.ignored.contains(&v.author) || !wanted {
                    continue;
                }
                let name = Self::name_of(v, name);
                self.backlog.add_name(v.author, v.sent, envelope.clone());
                let known = self
                    .members
                    .remember_name(v.author, &name, v.sent, now.wall, false);
                if let Some(claim) = known {
                    out.push(Output::Persist(Record::Name {
                        id: v.author,
                        name,
                        sent: v.sent,
                        envelope: envelope.clone(),
                    }));
                    self.claimed(v.author, Some(claim), false, out);
                }
            }
        }
        for (v, envelope) in &verified {
            let named = matches!(v.body, MessageBody::RoomInfo { .. });
            if named && !self.ignored.contains(&v.author) && !self.on_room_info(v, envelope, out) {
                self.drop_counted("bad room name");
            }
        }
        let mut lines = Vec::new();
        for (v, envelope) in verified {
            let MessageBody::Message {
                text,
                action,
                file,
                reply_to,
                change,
                ..
            } = v.body
            else {
                continue;
            };
            if file.as_ref().is_some_and(|f| f.check().is_err()) {
                self.drop_counted("bad file offer");
                continue;
            }
            let change = match change.as_ref().map(read_change) {
                Some(None) => {
                    self.drop_counted("bad change");
                    continue;
                }
                Some(Some(change)) => Some(change),
                None => None,
            };
            let held = self.backlog.contains(v.sent, v.id);
            if held || self.ignored.contains(&v.author) || self.seen.contains(&v.id) {
                continue;
            }
            // Catch-up answers count too: keys not let in yet share one allowance for what
            // answers bring (a neighbour cannot fill our disk with minted keys' lines).
            if !self.limiter.allow_history(v.author, envelope.len(), now.at) {
                self.drop_counted("rate limited");
                continue;
            }
            self.seen.insert(v.id);
            self.note_held(v.sent, now.wall);
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
                file,
                reply_to: reply_to
                    .as_deref()
                    .and_then(wire::parse_message_id)
                    .map(Box::new),
                change: change.map(Box::new),
            });
        }
        lines.sort_by_key(|line| (line.sent, line.id));
        for line in lines {
            self.take_line(line, out);
        }
    }

    /// A line (or a change to one) that checked out: a line is kept and shown, and changes
    /// waiting for it follow; a change is checked against its line first.
    fn take_line(&mut self, line: ChatLine, out: &mut Vec<Output>) {
        if line.change.is_some() {
            return self.on_change(line, out);
        }
        out.push(Output::Persist(Record::Message(line.clone())));
        out.push(Output::Event(Event::MessageReceived(line.clone())));
        self.line_known(&line, out);
    }
}

/// The heartbeat interval an `AboutMe` announces (`None` for other bodies and older peers).
pub(super) fn every(body: &MessageBody) -> Option<Duration> {
    match body {
        MessageBody::AboutMe { every, .. } => every.map(|s| Duration::from_secs(s.into())),
        _ => None,
    }
}

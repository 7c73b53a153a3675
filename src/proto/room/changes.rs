//! Replies, reactions, edits and deletes (issue 24). A change travels as a line (signed,
//! rate-limited like one, kept, served with catch-up) whose body names the line it is about;
//! the room checks it against that line's author before anyone sees it: anyone reacts, only
//! the author edits, the author or (in a private room) an admin deletes, and nothing touches
//! a deleted line. A change that arrives before its line (gossip reorders, catch-up pages come
//! in any order) waits for it, bounded in number and time, instead of being lost.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::events::{ChangeKind, LineChange};
use super::{Attempt, ChatLine, Event, Output, Record, Refusal, Room};
use crate::proto::wire::{self, WireChange};
use crate::proto::{EndpointId, MessageId, Now, UnixMillis};

/// Lines whose authors are remembered for checking changes (the newest; a change to an older
/// line waits like one to an unknown line, then goes).
const MAX_KNOWN: usize = 8192;
/// Changes waiting for their line, and for how long at most.
const MAX_WAITING: usize = 256;
const WAIT_FOR_LINE: Duration = Duration::from_secs(600);

/// What the room knows of lines, for changes.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// Each known line's author, when it was sent, whether it was deleted, and its edits.
    known: HashMap<MessageId, Known>,
    order: VecDeque<MessageId>,
    waiting: VecDeque<(ChatLine, Instant)>,
    /// Who may delete anyone's line.
    admins: HashSet<EndpointId>,
}

#[derive(Debug)]
struct Known {
    author: EndpointId,
    sent: UnixMillis,
    deleted: bool,
    /// Its edits (each carries words of it), forgotten with it when it is deleted.
    edits: Vec<(UnixMillis, MessageId)>,
}

/// Edits remembered per line (an edit war past this is not unusual, just long).
const MAX_EDITS: usize = 64;

impl Changes {
    fn know(&mut self, id: MessageId, author: EndpointId, sent: UnixMillis) {
        if self.known.contains_key(&id) {
            return;
        }
        if self.order.len() >= MAX_KNOWN
            && let Some(oldest) = self.order.pop_front()
        {
            self.known.remove(&oldest);
        }
        let known = Known {
            author,
            sent,
            deleted: false,
            edits: Vec::new(),
        };
        self.known.insert(id, known);
        self.order.push_back(id);
    }

    /// Why `by` may not make `kind` to line `to` now (`None`: it may; `Some(None)`: the line
    /// is unknown).
    fn refusal(
        &self,
        by: &EndpointId,
        to: &MessageId,
        kind: &ChangeKind,
    ) -> Option<Option<Refusal>> {
        let Some(known) = self.known.get(to) else {
            return Some(None);
        };
        if known.deleted {
            return Some(Some(Refusal::LineDeleted));
        }
        let own = known.author == *by;
        match kind {
            ChangeKind::React { .. } => None,
            ChangeKind::Edit if !own => Some(Some(Refusal::NotYourLine("edit"))),
            ChangeKind::Delete if !own && !self.admins.contains(by) => {
                Some(Some(Refusal::NotYourLine("delete")))
            }
            _ => None,
        }
    }
}

/// A change as the wire carries it, read: `None` for anything malformed (an id that is no
/// id, an emoji that is not one).
pub fn read_change(change: &WireChange) -> Option<LineChange> {
    let to = wire::parse_message_id(change.to())?;
    let kind = match change {
        WireChange::React { emoji, on, .. } if wire::valid_emoji(emoji) => ChangeKind::React {
            emoji: emoji.clone(),
            on: *on,
        },
        WireChange::React { .. } => return None,
        WireChange::Edit { .. } => ChangeKind::Edit,
        WireChange::Delete { .. } => ChangeKind::Delete,
    };
    Some(LineChange { to, kind })
}

/// The change as it goes on the wire.
pub fn write_change(change: &LineChange) -> WireChange {
    let to = change.to.to_string();
    match &change.kind {
        ChangeKind::React { emoji, on } => WireChange::React {
            to,
            emoji: emoji.clone(),
            on: *on,
        },
        ChangeKind::Edit => WireChange::Edit { to },
        ChangeKind::Delete => WireChange::Delete { to },
    }
}

impl Room {
    /// A line (ours, live or from history) is known: changes to it can be checked, and
    /// those waiting for it are taken now.
    pub(super) fn line_known(&mut self, line: &ChatLine, out: &mut Vec<Output>) {
        self.changes.know(line.id, line.author.id, line.sent);
        if !self
            .changes
            .waiting
            .iter()
            .any(|(c, _)| is_about(c, &line.id))
        {
            return;
        }
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.changes.waiting)
            .into_iter()
            .partition(|(c, _)| is_about(c, &line.id));
        self.changes.waiting = waiting.into();
        for (change, _) in ready {
            self.on_change(change, out);
        }
    }

    /// A change from someone (live or from history): shown and kept if its author may make
    /// it, waiting if its line is unknown yet, dropped (counted) otherwise.
    pub(super) fn on_change(&mut self, line: ChatLine, out: &mut Vec<Output>) {
        let Some(change) = line.change.clone() else {
            return;
        };
        match self
            .changes
            .refusal(&line.author.id, &change.to, &change.kind)
        {
            None => self.apply(line, out),
            Some(None) => {
                let now = Instant::now();
                self.changes
                    .waiting
                    .retain(|(_, since)| now.duration_since(*since) < WAIT_FOR_LINE);
                if self.changes.waiting.len() >= MAX_WAITING {
                    self.changes.waiting.pop_front();
                    self.drop_counted("change waited too long");
                }
                self.changes.waiting.push_back((line, now));
            }
            Some(Some(_)) => self.drop_counted("change not allowed"),
        }
    }

    /// Show and keep a change that checked out. A deleted line and its edits are no longer
    /// served to anyone who catches up.
    fn apply(&mut self, line: ChatLine, out: &mut Vec<Output>) {
        if let Some(change) = &line.change
            && let Some(known) = self.changes.known.get_mut(&change.to)
        {
            match change.kind {
                ChangeKind::Edit if known.edits.len() < MAX_EDITS => {
                    known.edits.push((line.sent, line.id));
                }
                ChangeKind::Delete => {
                    known.deleted = true;
                    self.backlog.remove(known.sent, change.to);
                    for (sent, id) in known.edits.drain(..) {
                        self.backlog.remove(sent, id);
                    }
                }
                _ => {}
            }
        }
        out.push(Output::Persist(Record::Message(line.clone())));
        out.push(Output::Event(Event::Changed(line)));
    }

    /// The line `id` names: a whole id, or the start of one the room knows (8 hex digits or
    /// more, naming one line).
    fn resolve(&self, id: &str) -> Result<MessageId, Refusal> {
        let id = id.trim().to_ascii_lowercase();
        if let Some(whole) = wire::parse_message_id(&id) {
            return Ok(whole);
        }
        if id.len() < 8 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Refusal::NoSuchLine(id));
        }
        let mut matching = self
            .changes
            .order
            .iter()
            .rev()
            .filter(|known| known.to_string().starts_with(&id));
        match (matching.next(), matching.next()) {
            (Some(one), None) => Ok(*one),
            (Some(_), Some(_)) => Err(Refusal::AmbiguousLine(id)),
            (None, _) => Err(Refusal::NoSuchLine(id)),
        }
    }

    /// `/reply ID TEXT`.
    pub(super) fn reply(&mut self, to: &str, text: String, now: Now, out: &mut Vec<Output>) {
        match self.resolve(to) {
            Ok(parent) => {
                let draft = super::send::Draft {
                    reply_to: Some(parent),
                    ..super::send::Draft::line(text, false)
                };
                self.say(draft, now, out)
            }
            Err(refusal) => {
                let attempt = Attempt::Change(format!("/reply {to} {text}"));
                out.push(Output::Event(Event::refused(refusal, attempt)));
            }
        }
    }

    /// Our own change to line `to`, checked before it goes: refused (with why) when we may
    /// not make it.
    pub(super) fn change(
        &mut self,
        to: &str,
        kind: ChangeKind,
        text: String,
        now: Now,
        out: &mut Vec<Output>,
    ) {
        let change = match self.resolve(to) {
            Ok(to) => LineChange { to, kind },
            Err(refusal) => {
                let asked = LineChange {
                    to: MessageId::MIN,
                    kind,
                };
                let asked = describe(&asked, &text).replace(&short(&MessageId::MIN), to);
                out.push(Output::Event(Event::refused(
                    refusal,
                    Attempt::Change(asked),
                )));
                return;
            }
        };
        let me = self.me;
        let attempt = || Attempt::Change(describe(&change, &text));
        if let ChangeKind::React { emoji, .. } = &change.kind
            && !wire::valid_emoji(emoji)
        {
            let refusal = Refusal::BadEmoji(emoji.clone());
            out.push(Output::Event(Event::refused(refusal, attempt())));
            return;
        }
        let refused = match self.changes.refusal(&me, &change.to, &change.kind) {
            None => None,
            Some(None) => Some(Refusal::NoSuchLine(short(&change.to))),
            Some(Some(refusal)) => Some(refusal),
        };
        if let Some(refusal) = refused {
            out.push(Output::Event(Event::refused(refusal, attempt())));
            return;
        }
        let text = match &change.kind {
            ChangeKind::Edit => text,
            kind => kind.fallback(&text),
        };
        let draft = super::send::Draft {
            text,
            change: Some(change),
            ..Default::default()
        };
        self.say(draft, now, out);
    }

    /// Our own change went out: it is applied here as it will be everywhere.
    pub(super) fn change_sent(&mut self, line: ChatLine, out: &mut Vec<Output>) {
        self.apply(line, out);
    }

    pub(super) fn set_admins(&mut self, admins: Vec<EndpointId>) {
        self.changes.admins = admins.into_iter().collect();
    }
}

fn is_about(line: &ChatLine, id: &MessageId) -> bool {
    line.change.as_ref().is_some_and(|c| c.to == *id)
}

/// A line id as people see it: its first 8 hex digits.
pub fn short(id: &MessageId) -> String {
    id.to_string()[..8].to_string()
}

/// The command a change was asked with, given back when it is refused.
pub(super) fn describe(change: &LineChange, text: &str) -> String {
    let id = short(&change.to);
    match &change.kind {
        ChangeKind::React { emoji, on: true } => format!("/react {id} {emoji}"),
        ChangeKind::React { emoji, on: false } => format!("/unreact {id} {emoji}"),
        ChangeKind::Edit => format!("/edit {id} {text}"),
        ChangeKind::Delete => format!("/delete {id}"),
    }
}

//! The room's recent history as the original signed envelopes: what a member serves to late
//! joiners. Bounded by count and age. Alongside the messages it keeps each author's latest
//! `AboutMe`, so whoever receives the history can name authors who have since left, from
//! their own signed words rather than the server's say-so.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::{EndpointId, MessageId, UnixMillis};

/// How much history is kept and asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryWindow {
    pub max_messages: usize,
    pub max_age_ms: u64,
}

/// How many of a room's latest messages are kept and served by default (`history_limit`).
pub const DEFAULT_MAX_MESSAGES: usize = 1000;
/// How many days of messages are kept and served by default (`history_days`).
pub const DEFAULT_MAX_DAYS: f64 = 7.0;
/// A room's history kept on disk at most by default (`history_max`; see `store::retention`):
/// years of a busy team's chat.
pub const DEFAULT_STORED_BYTES: u64 = 256 << 20;

impl Default for HistoryWindow {
    fn default() -> Self {
        Self {
            max_messages: DEFAULT_MAX_MESSAGES,
            max_age_ms: (DEFAULT_MAX_DAYS * 24.0 * 3600.0 * 1000.0) as u64,
        }
    }
}

impl HistoryWindow {
    /// The oldest send time still inside the window at `now`.
    pub fn oldest(&self, now: UnixMillis) -> UnixMillis {
        UnixMillis(now.0.saturating_sub(self.max_age_ms))
    }
}

pub type Envelope = Arc<[u8]>;

/// Most `AboutMe` envelopes kept to name authors in the history we serve (each at most
/// [`crate::proto::wire::MAX_PRESENCE_BYTES`]).
pub const MAX_NAMES: usize = 10_000;
/// What the messages held for catch-up may weigh in all, whatever `max_messages` says: an
/// envelope may be 64 KiB, and a thousand of them from minted keys would be 64 MB per room.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// Which end of a long history a catch-up answer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Page {
    /// The newest messages since the given time: what a newcomer wants to read.
    #[default]
    Newest,
    /// The oldest messages since the given time, so that whoever missed a stretch can page
    /// through it to the end (after `Lagged`).
    Oldest,
}

#[derive(Debug, Default)]
pub struct Backlog {
    window: HistoryWindow,
    messages: BTreeMap<(UnixMillis, MessageId), (EndpointId, Envelope)>,
    /// What `messages`' envelopes weigh.
    message_bytes: usize,
    names: HashMap<EndpointId, (UnixMillis, Envelope)>,
    /// The send time of the newest message let go for room (see [`Backlog::holds_all_since`]).
    evicted_to: Option<UnixMillis>,
}

impl Backlog {
    pub fn new(window: HistoryWindow) -> Self {
        Self {
            window,
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Whether every message sent at or after `since` that we held is still held (none was let
    /// go for room): then what the disk lacks of them is here, with no gap before it.
    pub fn holds_all_since(&self, since: UnixMillis) -> bool {
        self.evicted_to.is_none_or(|evicted| evicted < since)
    }

    /// Send time of the newest message held.
    pub fn newest(&self) -> Option<UnixMillis> {
        self.messages.keys().next_back().map(|(sent, _)| *sent)
    }

    pub fn add_message(
        &mut self,
        sent: UnixMillis,
        id: MessageId,
        author: EndpointId,
        envelope: Envelope,
    ) {
        self.message_bytes += envelope.len();
        if let Some((_, old)) = self.messages.insert((sent, id), (author, envelope)) {
            self.message_bytes -= old.len();
        }
        while self.messages.len() > self.window.max_messages
            || (self.message_bytes > MAX_MESSAGE_BYTES && self.messages.len() > 1)
        {
            if let Some(((sent, _), (_, gone))) = self.messages.pop_first() {
                self.message_bytes -= gone.len();
                self.evicted_to = self.evicted_to.max(Some(sent));
            }
        }
    }

    /// Whether the message `id` sent at `sent` is held.
    /// Forget a message (a deleted line, an edit of it): never served again.
    pub fn remove(&mut self, sent: UnixMillis, id: MessageId) {
        if let Some((_, gone)) = self.messages.remove(&(sent, id)) {
            self.message_bytes -= gone.len();
        }
    }

    pub fn contains(&self, sent: UnixMillis, id: MessageId) -> bool {
        self.messages.contains_key(&(sent, id))
    }

    /// Keep `author`'s `AboutMe` if it is the newest seen. At most [`MAX_NAMES`] are kept:
    /// beyond, a tenth goes at once, those of authors with no message held and the oldest
    /// first (fake keys cost nothing).
    pub fn add_name(&mut self, author: EndpointId, sent: UnixMillis, envelope: Envelope) {
        let newer = self.names.get(&author).is_none_or(|(at, _)| *at <= sent);
        if !newer {
            return;
        }
        if !self.names.contains_key(&author) && self.names.len() >= MAX_NAMES {
            let authors: std::collections::HashSet<EndpointId> =
                self.messages.values().map(|(author, _)| *author).collect();
            let mut order: Vec<(bool, UnixMillis, EndpointId)> = self
                .names
                .iter()
                .map(|(id, (at, _))| (authors.contains(id), *at, *id))
                .collect();
            order.sort_unstable();
            for (_, _, id) in order.into_iter().take(MAX_NAMES / 10) {
                self.names.remove(&id);
            }
        }
        self.names.insert(author, (sent, envelope));
    }

    /// `author`'s newest `AboutMe` held, with its send time.
    pub fn name_of(&self, author: &EndpointId) -> Option<(UnixMillis, Envelope)> {
        self.names.get(author).cloned()
    }

    /// What to send someone asking for messages sent at or after `since` (at most `limit`, the
    /// newest or the oldest ones as `page` says, and never older than the window): the authors'
    /// `AboutMe` envelopes first, then the messages from oldest to newest.
    pub fn answer(
        &self,
        since: UnixMillis,
        limit: usize,
        page: Page,
        now: UnixMillis,
    ) -> Vec<Envelope> {
        let since = since.max(self.window.oldest(now));
        let limit = limit.min(self.window.max_messages);
        let range = self.messages.range((since, MessageId::MIN)..);
        let picked: Vec<&(EndpointId, Envelope)> = match page {
            Page::Oldest => range.take(limit).map(|(_, entry)| entry).collect(),
            Page::Newest => {
                let mut newest: Vec<_> = range.rev().take(limit).map(|(_, entry)| entry).collect();
                newest.reverse();
                newest
            }
        };
        let mut authors: Vec<EndpointId> = picked.iter().map(|(author, _)| *author).collect();
        authors.sort();
        authors.dedup();
        let names = authors
            .iter()
            .filter_map(|author| self.names.get(author).map(|(_, env)| env.clone()));
        names
            .chain(picked.into_iter().map(|(_, env)| env.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    fn env(s: &str) -> Envelope {
        Arc::from(s.as_bytes())
    }

    #[test]
    fn answers_newest_within_limits_with_names_first() {
        let (a, b) = (
            SecretKey::from_bytes(&[1; 32]).public(),
            SecretKey::from_bytes(&[2; 32]).public(),
        );
        let window = HistoryWindow {
            max_messages: 3,
            max_age_ms: 1000,
        };
        let mut backlog = Backlog::new(window);
        for (t, author) in [(100, a), (200, b), (300, a), (400, a)] {
            let text = format!("m{t}");
            backlog.add_message(
                UnixMillis(t),
                MessageId::of(text.as_bytes()),
                author,
                env(&text),
            );
        }
        assert_eq!(backlog.len(), 3, "the oldest fell out");
        backlog.add_name(a, UnixMillis(50), env("a-old"));
        backlog.add_name(a, UnixMillis(60), env("a"));
        backlog.add_name(a, UnixMillis(10), env("a-older"));
        let now = UnixMillis(1000);
        let got: Vec<String> = backlog
            .answer(UnixMillis(0), 2, Page::Newest, now)
            .iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect();
        assert_eq!(got, ["a", "m300", "m400"]);
        let oldest: Vec<String> = backlog
            .answer(UnixMillis(0), 2, Page::Oldest, now)
            .iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect();
        // b never sent a name: only a's comes first.
        assert_eq!(oldest, ["a", "m200", "m300"]);
        // Too old for the window at a later time.
        assert!(
            backlog
                .answer(UnixMillis(0), 10, Page::Newest, UnixMillis(1_500))
                .is_empty()
        );
        assert_eq!(backlog.newest(), Some(UnixMillis(400)));
    }

    #[test]
    fn held_messages_are_bounded_in_bytes() {
        let window = HistoryWindow {
            max_messages: 100_000,
            ..HistoryWindow::default()
        };
        let mut backlog = Backlog::new(window);
        let author = crate::proto::SecretKey::from_bytes(&[3; 32]).public();
        let big: Envelope = Arc::from(vec![7u8; 60 * 1024]);
        for n in 0..1_000u64 {
            let id = MessageId::from_bytes([(n % 251) as u8; 32]);
            backlog.add_message(UnixMillis(n), id, author, big.clone());
        }
        assert!(backlog.message_bytes <= MAX_MESSAGE_BYTES);
        assert_eq!(backlog.message_bytes, backlog.len() * big.len());
        assert_eq!(backlog.newest(), Some(UnixMillis(999)));
        // Removing keeps the count right.
        backlog.remove(
            UnixMillis(999),
            MessageId::from_bytes([(999 % 251) as u8; 32]),
        );
        assert_eq!(backlog.message_bytes, backlog.len() * big.len());
    }

    #[test]
    fn it_says_from_when_it_holds_every_message_it_had() {
        let window = HistoryWindow {
            max_messages: 3,
            ..HistoryWindow::default()
        };
        let mut backlog = Backlog::new(window);
        let author = crate::proto::SecretKey::from_bytes(&[3; 32]).public();
        let add = |backlog: &mut Backlog, n: u64| {
            let id = MessageId::from_bytes([n as u8; 32]);
            backlog.add_message(UnixMillis(n * 10), id, author, Arc::from(vec![1u8; 8]));
        };
        for n in 1..=3 {
            add(&mut backlog, n);
        }
        assert!(backlog.holds_all_since(UnixMillis(0)), "nothing let go yet");
        add(&mut backlog, 4);
        add(&mut backlog, 5);
        // Lines sent at 10 and 20 were let go for room.
        assert!(!backlog.holds_all_since(UnixMillis(20)));
        assert!(backlog.holds_all_since(UnixMillis(21)));
    }
}

//! Several rooms and conversations in one window. The current view's state lives in `App`'s
//! own fields (so everything that draws or edits works on "the room" as before); the others
//! are parked here and swapped in to switch to them, or for a moment to apply what arrived
//! for them. Each keeps its own history, scroll position, input draft and member list.

use std::collections::HashMap;

use super::editor::Editor;
use super::log::ChatLog;
use super::{App, Effect, Link, Msg};
use crate::proto::room::Event;
use crate::proto::{EndpointId, MemberInfo, TopicId, UnixMillis};

/// The front end's name for a view (a room's session, or a conversation), given before a
/// room has a topic.
pub type ViewKey = u64;

/// Views that Alt-1..9 reach; more are reached with Ctrl-N / Ctrl-P.
pub const DIGIT_KEYS: usize = 9;
/// Views held at once: rooms and conversations.
pub const MAX_VIEWS: usize = 64;
/// Of them, conversations: members writing to us cannot take the rooms' places.
pub const MAX_DIRECT_VIEWS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewKind {
    /// A room (its topic once known).
    Room(Option<TopicId>),
    /// A private conversation with one member.
    Direct(EndpointId),
}

/// A view as the room list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tab {
    pub key: ViewKey,
    pub kind: ViewKind,
    /// Its label, the short topic, or the other member's name.
    pub title: String,
    /// The title is a label the user chose (kept when the topic becomes known).
    pub labelled: bool,
    /// Messages that arrived while another view was shown.
    pub unread: usize,
    /// One of them names me (or is a direct message).
    pub mention: bool,
    /// Our lines waiting to go out in this room (before joining, or paced to the rate others
    /// accept).
    pub queued: usize,
}

/// The per-view state while another view is shown.
#[derive(Debug, Default)]
pub(super) struct Parked {
    me: Option<MemberInfo>,
    topic: Option<TopicId>,
    members: Vec<MemberInfo>,
    relayed: Vec<EndpointId>,
    link: Option<Link>,
    cut_off: bool,
    log: ChatLog,
    input: Editor,
    /// A room's invite popup stays with the room (its ticket changes with its session).
    invite: Option<super::Invite>,
}

/// The views and which is current.
#[derive(Debug, Default)]
pub struct Views {
    pub tabs: Vec<Tab>,
    pub current: usize,
    parked: HashMap<ViewKey, Parked>,
    next_key: ViewKey,
}

impl Views {
    pub fn current_tab(&self) -> Option<&Tab> {
        self.tabs.get(self.current)
    }

    pub fn position(&self, key: ViewKey) -> Option<usize> {
        self.tabs.iter().position(|t| t.key == key)
    }

    pub fn find_direct(&self, peer: &EndpointId) -> Option<ViewKey> {
        let kind = ViewKind::Direct(*peer);
        self.tabs.iter().find(|t| t.kind == kind).map(|t| t.key)
    }

    pub fn find_room(&self, topic: &TopicId) -> Option<ViewKey> {
        let kind = ViewKind::Room(Some(*topic));
        self.tabs.iter().find(|t| t.kind == kind).map(|t| t.key)
    }

    /// Every view's history, to set how times are shown.
    pub(super) fn parked_logs(&mut self) -> impl Iterator<Item = &mut ChatLog> {
        self.parked.values_mut().map(|p| &mut p.log)
    }

    /// The member lists of the views in the background.
    pub(super) fn parked_members(&self) -> impl Iterator<Item = &Vec<MemberInfo>> {
        self.parked.values().map(|p| &p.members)
    }

    /// How I am shown in the rooms in the background.
    pub(super) fn parked_me(&self) -> impl Iterator<Item = &MemberInfo> {
        self.parked.values().filter_map(|p| p.me.as_ref())
    }

    /// Whether a view in the background holds a draft (Ctrl-C asks before losing it).
    pub(super) fn parked_draft(&self) -> bool {
        self.parked
            .values()
            .any(|p| !p.input.text().trim().is_empty())
    }

    /// Unread messages in every view but the current one.
    pub fn unread(&self) -> usize {
        self.tabs.iter().map(|t| t.unread).sum()
    }
}

impl App {
    /// Add a view (it becomes current when `switch`, or when it is the first); returns its
    /// key, or `None` when [`MAX_VIEWS`] are open.
    /// `label`: the title the user gave it; else the short topic once known.
    pub fn add_view(
        &mut self,
        kind: ViewKind,
        label: Option<String>,
        switch: bool,
    ) -> Option<ViewKey> {
        let direct = |t: &Tab| matches!(t.kind, ViewKind::Direct(_));
        let conversations = self.views.tabs.iter().filter(|t| direct(t)).count();
        if self.views.tabs.len() >= MAX_VIEWS
            || (matches!(kind, ViewKind::Direct(_)) && conversations >= MAX_DIRECT_VIEWS)
        {
            return None;
        }
        let key = self.views.next_key;
        self.views.next_key += 1;
        let title = match (&label, &kind) {
            (Some(label), _) => label.clone(),
            (None, ViewKind::Room(Some(topic))) => format!("#{}", topic.fmt_short()),
            (None, _) => "…".to_string(),
        };
        self.views.tabs.push(Tab {
            key,
            kind,
            title,
            labelled: label.is_some(),
            unread: 0,
            queued: 0,
            mention: false,
        });
        if self.views.tabs.len() == 1 {
            // The first view is the state already in `App`'s fields.
            self.views.current = 0;
        } else {
            let mut parked = Parked::default();
            parked.log.time = self.log.time.clone();
            self.views.parked.insert(key, parked);
            if switch {
                self.switch_to(self.views.tabs.len() - 1);
            }
        }
        Some(key)
    }

    /// Show the view at `index` (no-op if out of range).
    pub fn switch_to(&mut self, index: usize) {
        if index >= self.views.tabs.len() || index == self.views.current {
            return;
        }
        let old = self.views.tabs[self.views.current].key;
        let new = self.views.tabs[index].key;
        let Some(mut state) = self.views.parked.remove(&new) else {
            return;
        };
        // Picking a file line is about the view shown; it does not wait in the background.
        self.log.pick(None);
        self.swap(&mut state);
        self.views.parked.insert(old, state);
        self.views.current = index;
        let tab = &mut self.views.tabs[index];
        tab.unread = 0;
        tab.mention = false;
        self.completion = None;
    }

    /// The next (`forward`) or previous view, wrapping around.
    pub fn cycle(&mut self, forward: bool) {
        let n = self.views.tabs.len();
        if n > 1 {
            let step = if forward { 1 } else { n - 1 };
            self.switch_to((self.views.current + step) % n);
        }
    }

    /// Swap the current view's state with `state`.
    fn swap(&mut self, state: &mut Parked) {
        std::mem::swap(&mut self.me, &mut state.me);
        std::mem::swap(&mut self.topic, &mut state.topic);
        std::mem::swap(&mut self.members, &mut state.members);
        std::mem::swap(&mut self.relayed, &mut state.relayed);
        let mut link = state.link.take().unwrap_or(Link::Joining);
        std::mem::swap(&mut self.link, &mut link);
        state.link = Some(link);
        std::mem::swap(&mut self.cut_off, &mut state.cut_off);
        std::mem::swap(&mut self.log, &mut state.log);
        std::mem::swap(&mut self.input, &mut state.input);
        std::mem::swap(&mut self.invite, &mut state.invite);
    }

    /// Apply `msg` to the view `key`, current or not. Messages for a view in the background
    /// count as unread there (a mention or direct message marks it); they ring only if they
    /// would have in front. A view whose session failed closes (the lobby comes back when it
    /// was the last one).
    pub(super) fn update_view(&mut self, key: ViewKey, msg: Msg, now: UnixMillis) -> Vec<Effect> {
        let Some(index) = self.views.position(key) else {
            return Vec::new();
        };
        if let Msg::Failed(reason) = msg {
            return self.view_failed(key, reason, now);
        }
        // Only the status bar shows it: no need to swap the view in.
        if let Msg::Room(Event::Queued(waiting)) = msg {
            self.views.tabs[index].queued = waiting;
            return Vec::new();
        }
        let topic = msg_topic(&msg);
        let effects = if index == self.views.current {
            self.update(msg, now)
        } else {
            self.update_parked(index, msg, now)
        };
        if let Some(topic) = topic {
            let tab = &mut self.views.tabs[index];
            tab.kind = ViewKind::Room(Some(topic));
            if !tab.labelled {
                tab.title = format!("#{}", topic.fmt_short());
            }
            // A room we are in now is one the lobby offers when the last one closes.
            if !self.stored_rooms.iter().any(|room| room.topic == topic) {
                let label = tab.labelled.then(|| tab.title.clone());
                self.stored_rooms
                    .push(super::lobby::StoredRoom { topic, label });
            }
        }
        effects
    }

    fn update_parked(&mut self, index: usize, msg: Msg, now: UnixMillis) -> Vec<Effect> {
        let key = self.views.tabs[index].key;
        let Some(mut state) = self.views.parked.remove(&key) else {
            return Vec::new();
        };
        // Said in the background, shown in the status bar too: say which room.
        let msg = match msg {
            Msg::Warning(text) => Msg::Warning(format!("{}: {text}", self.views.tabs[index].title)),
            msg => msg,
        };
        self.swap(&mut state);
        let counts = matches!(&msg, Msg::Room(Event::MessageReceived(line)) if !line.history);
        let effects = self.update(msg, now);
        // The room rings for a line that names us (see `on_room_event`): a mention.
        let mention = counts && effects.contains(&Effect::Bell);
        self.swap(&mut state);
        self.views.parked.insert(key, state);
        let tab = &mut self.views.tabs[index];
        if counts {
            tab.unread += 1;
        }
        tab.mention |= mention;
        effects
    }

    /// The session of view `key` could not start or ended: close it, saying why in the view
    /// shown next; without views left, back to the lobby.
    fn view_failed(&mut self, key: ViewKey, reason: String, now: UnixMillis) -> Vec<Effect> {
        let title = self
            .views
            .position(key)
            .map(|i| self.views.tabs[i].title.clone())
            .unwrap_or_default();
        if self.remove_view(key) {
            self.error(now, format!("{title}: {reason}"));
        } else {
            self.update(Msg::Failed(reason), now);
        }
        Vec::new()
    }

    /// Close the view `key` (its session left or failed); the one before it becomes current.
    /// Returns whether any view is left.
    pub fn remove_view(&mut self, key: ViewKey) -> bool {
        let Some(index) = self.views.position(key) else {
            return !self.views.tabs.is_empty();
        };
        if index == self.views.current && self.views.tabs.len() > 1 {
            let next = if index == 0 { 1 } else { index - 1 };
            self.switch_to(next);
        }
        let removed = self.views.tabs.remove(index);
        self.views.parked.remove(&removed.key);
        if self.views.current > index {
            self.views.current -= 1;
        }
        if self.views.tabs.is_empty() {
            // The fields held the last view: start clean for the next one.
            let mut blank = Parked::default();
            self.swap(&mut blank);
            self.link = Link::Joining;
            self.views.current = 0;
        }
        !self.views.tabs.is_empty()
    }

    /// Work on the history of view `key`, current or not.
    pub(super) fn with_log(&mut self, key: ViewKey, f: impl FnOnce(&mut ChatLog)) {
        if self.current_view() == Some(key) {
            f(&mut self.log);
        } else if let Some(parked) = self.views.parked.get_mut(&key) {
            f(&mut parked.log);
        }
    }

    /// The key of the current view.
    pub fn current_view(&self) -> Option<ViewKey> {
        self.views.current_tab().map(|t| t.key)
    }

    /// The terminal's title: the current view and what is unread elsewhere.
    pub fn title(&self) -> String {
        let name = self.views.current_tab().map_or_else(
            || "parlor".to_string(),
            |tab| format!("parlor: {}", tab.title),
        );
        match self.views.unread() {
            0 => name,
            n => format!("{name} ({n} unread)"),
        }
    }
}

/// The topic a message reveals for its room (`Ready`), to name the tab.
fn msg_topic(msg: &Msg) -> Option<TopicId> {
    match msg {
        Msg::Ready { topic, .. } => Some(*topic),
        _ => None,
    }
}

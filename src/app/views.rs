//! Several rooms and conversations in one window. Each view's state (history, scroll position,
//! draft, member list, link, invite, error) is one [`View`] kept by its key; `App` works on
//! "the view" through [`App::view`]: the current one, or, while a message for a view in the
//! background is applied, that one. Switching only changes which key is current.

use std::collections::HashMap;

use super::log::ChatLog;
use super::view::View;
use super::{App, Effect, Msg};
use crate::proto::room::Event;
use crate::proto::{EndpointId, TopicId, UnixMillis};

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
    /// The room's name everyone sees (`/topic`; the ticket's until a member's arrives).
    pub room_name: Option<String>,
}

impl Tab {
    /// The room's name changed: the title shows it, unless the user labelled the tab.
    pub fn set_room_name(&mut self, name: String) {
        self.room_name = Some(name);
        self.retitle();
    }

    /// The user's label, else the room's name, else the short topic.
    fn retitle(&mut self) {
        if self.labelled {
            return;
        }
        match (&self.room_name, &self.kind) {
            (Some(name), _) => self.title = name.clone(),
            (None, ViewKind::Room(Some(topic))) => self.title = format!("#{}", topic.fmt_short()),
            _ => {}
        }
    }
}

/// The views: their tabs in order, each one's state by key, and which is current.
#[derive(Debug, Default)]
pub struct Views {
    pub tabs: Vec<Tab>,
    pub current: usize,
    /// Every tab's state, by its key.
    states: HashMap<ViewKey, View>,
    /// What is shown while there is no view yet (starting) or no more (the lobby is back):
    /// the first view added takes it over, so nothing said before it is lost.
    detached: View,
    /// The view a message is being applied to, when it is not the current one.
    applying: Option<ViewKey>,
    next_key: ViewKey,
}

impl Views {
    /// No views yet; histories show times as `time` says.
    pub(super) fn with_time(time: super::log::TimeStyle) -> Self {
        let mut views = Self::default();
        views.detached.log = ChatLog::with_time(time);
        views
    }

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

    /// The key of the view being worked on: the one a message is applied to, else the
    /// current one.
    pub(super) fn target(&self) -> Option<ViewKey> {
        self.applying.or_else(|| self.current_tab().map(|t| t.key))
    }

    /// The tab of the view being worked on.
    pub(super) fn target_tab_mut(&mut self) -> Option<&mut Tab> {
        let key = self.target()?;
        self.tabs.iter_mut().find(|t| t.key == key)
    }

    pub(super) fn target_view(&self) -> &View {
        self.target()
            .and_then(|key| self.states.get(&key))
            .unwrap_or(&self.detached)
    }

    pub(super) fn target_view_mut(&mut self) -> &mut View {
        match self.target() {
            Some(key) if self.states.contains_key(&key) => {
                self.states.get_mut(&key).expect("checked just above")
            }
            _ => &mut self.detached,
        }
    }

    /// The state of view `key`.
    pub(super) fn state_mut(&mut self, key: ViewKey) -> Option<&mut View> {
        self.states.get_mut(&key)
    }

    /// Every view's state (and the detached one), e.g. to set how times are shown.
    pub(super) fn all_mut(&mut self) -> impl Iterator<Item = &mut View> {
        self.states
            .values_mut()
            .chain(std::iter::once(&mut self.detached))
    }

    /// Every view's state (and the detached one).
    pub(super) fn all(&self) -> impl Iterator<Item = &View> {
        self.states.values().chain(std::iter::once(&self.detached))
    }

    /// The views other than the one being worked on, in tab order.
    pub(super) fn others(&self) -> impl Iterator<Item = &View> {
        let target = self.target();
        self.tabs
            .iter()
            .filter(move |t| Some(t.key) != target)
            .filter_map(|t| self.states.get(&t.key))
    }

    /// Whether any view holds a draft (Ctrl-C asks before losing it).
    pub(super) fn any_draft(&self) -> bool {
        self.all().any(|v| !v.input.text().trim().is_empty())
    }

    /// Unread messages in every view but the current one.
    pub fn unread(&self) -> usize {
        self.tabs.iter().map(|t| t.unread).sum()
    }
}

impl App {
    /// The view being worked on: the current one (the one drawn), or the one a message for
    /// a view in the background is being applied to.
    pub fn view(&self) -> &View {
        self.views.target_view()
    }

    pub fn view_mut(&mut self) -> &mut View {
        self.views.target_view_mut()
    }

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
            room_name: None,
        });
        let fresh = View::like(&self.views.detached.log);
        let state = if self.views.tabs.len() == 1 {
            // The first view takes over what was shown before it.
            self.views.current = 0;
            std::mem::replace(&mut self.views.detached, fresh)
        } else {
            fresh
        };
        self.views.states.insert(key, state);
        self.restore_read(self.views.tabs.len() - 1);
        if switch {
            self.switch_to(self.views.tabs.len() - 1);
        }
        Some(key)
    }

    /// Show the view at `index` (no-op if out of range).
    pub fn switch_to(&mut self, index: usize) {
        if index >= self.views.tabs.len() || index == self.views.current {
            return;
        }
        // Picking a file line is about the view shown; it does not wait in the background.
        let shown = self.views.current_tab().map(|t| t.key);
        if let Some(view) = shown.and_then(|key| self.views.states.get_mut(&key)) {
            view.log.pick(None);
        }
        self.views.current = index;
        let tab = &mut self.views.tabs[index];
        tab.unread = 0;
        tab.mention = false;
        self.completion = None;
        self.returned();
    }

    /// The next (`forward`) or previous view, wrapping around.
    pub fn cycle(&mut self, forward: bool) {
        let n = self.views.tabs.len();
        if n > 1 {
            let step = if forward { 1 } else { n - 1 };
            self.switch_to((self.views.current + step) % n);
        }
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
            // Removed from a private room: its end was said, its history stays until /part.
            if self.is_removed(key) {
                return Vec::new();
            }
            return self.view_failed(key, reason, now);
        }
        let topic = msg_topic(&msg);
        let effects = if index == self.views.current {
            self.update(msg, now)
        } else {
            self.update_in_background(index, msg, now)
        };
        if let Some(topic) = topic {
            let tab = &mut self.views.tabs[index];
            tab.kind = ViewKind::Room(Some(topic));
            tab.retitle();
            self.restore_read(index);
            let tab = &mut self.views.tabs[index];
            // A room we are in now is one the lobby offers when the last one closes.
            if !self.stored_rooms.iter().any(|room| room.topic == topic) {
                let label = tab.labelled.then(|| tab.title.clone());
                // An unlabelled tab shows the room's name, or its short topic (`#...`).
                let room_name =
                    (!tab.labelled && !tab.title.starts_with('#')).then(|| tab.title.clone());
                self.stored_rooms.push(super::lobby::StoredRoom {
                    topic,
                    label,
                    room_name,
                });
            }
        }
        effects
    }

    /// Apply `msg` to the view at `index`, in the background: everything the update touches
    /// of "the view" is that view's own state (see [`App::view`]).
    fn update_in_background(&mut self, index: usize, msg: Msg, now: UnixMillis) -> Vec<Effect> {
        let key = self.views.tabs[index].key;
        let counts = matches!(&msg, Msg::Room(Event::MessageReceived(line)) if !line.history);
        let outer = self.views.applying.replace(key);
        let effects = self.update(msg, now);
        self.views.applying = outer;
        // The room rings for a line that names us (see `on_room_event`): a mention.
        let mention = counts && effects.contains(&Effect::Bell);
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
        self.keep_read(index);
        self.views.tabs.remove(index);
        let removed = self.views.states.remove(&key);
        if self.views.current > index {
            self.views.current -= 1;
        }
        if self.views.tabs.is_empty() {
            // Start clean for the next one, times shown as before.
            let detached = View::like(
                removed
                    .as_ref()
                    .map_or(&self.views.detached.log, |v| &v.log),
            );
            self.views.detached = detached;
            self.views.current = 0;
        }
        !self.views.tabs.is_empty()
    }

    /// Work on the state of view `key`, current or not.
    pub(super) fn with_view(&mut self, key: ViewKey, f: impl FnOnce(&mut View)) {
        if let Some(view) = self.views.states.get_mut(&key) {
            f(view);
        }
    }

    /// Whether we were removed from the private room of view `key`.
    pub fn is_removed(&self, key: ViewKey) -> bool {
        self.views.states.get(&key).is_some_and(|v| v.removed)
    }

    /// The state of view `key` (for the room list: each room's lock mark).
    pub fn view_of(&self, key: ViewKey) -> Option<&View> {
        self.views.states.get(&key)
    }

    /// The key of the current view.
    pub fn current_view(&self) -> Option<ViewKey> {
        self.views.current_tab().map(|t| t.key)
    }
}

/// The topic a message reveals for its room (`Ready`), to name the tab.
fn msg_topic(msg: &Msg) -> Option<TopicId> {
    match msg {
        Msg::Ready { topic, .. } => Some(*topic),
        _ => None,
    }
}

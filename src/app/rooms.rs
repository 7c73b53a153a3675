//! Moving between rooms: entering them from the lobby or with `/open` and `/join`, leaving
//! with `/part`, switching with keys and `/room`, `/to` and `/rooms`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::lobby::Choice;
use super::views::{DIGIT_KEYS, ViewKind};
use super::{App, Effect, Screen};
use crate::proto::UnixMillis;
use crate::proto::invite::Invite;
use crate::proto::names::clean_room_name;
use crate::proto::ticket::{Ticket, TicketError, looks_like_ticket};

/// An invite's text that can be used now: it parses, its signature holds, it has not expired
/// (as `parlor join` checks; the member it is redeemed at checks the rest). One line if not.
pub(super) fn usable_invite(text: &str) -> Result<Invite, String> {
    let invite: Invite = text
        .parse()
        .map_err(|e: crate::proto::invite::InviteError| e.to_string())?;
    invite.check(UnixMillis::now()).map_err(|e| e.to_string())?;
    Ok(invite)
}

impl App {
    /// What the lobby decided: views for the rooms to enter, and the effects that start them.
    pub(super) fn enter(&mut self, choice: Choice, now: UnixMillis) -> Vec<Effect> {
        match &choice {
            Choice::Open { name }
            | Choice::Join { name, .. }
            | Choice::Redeem { name, .. }
            | Choice::JoinNearby { name, .. }
            | Choice::Rejoin { name, .. } => self.default_name = name.clone(),
            Choice::Quit | Choice::Forget(_) => {}
        }
        let effects = match choice {
            Choice::Quit => return vec![Effect::Quit],
            // The lobby stays: only its list changed.
            Choice::Forget(topic) => {
                self.stored_rooms.retain(|room| room.topic != topic);
                return vec![Effect::ForgetRoom(topic)];
            }
            Choice::Open { name } => self.open_room(name, None, now),
            Choice::Join { name, ticket } => self.join_ticket(name, *ticket, now),
            Choice::Redeem { name, invite } => self.redeem(name, *invite, now),
            Choice::JoinNearby { name, topic } => {
                match self.add_view(ViewKind::Room(Some(topic)), None, true) {
                    Some(view) => vec![Effect::JoinNearby { view, name, topic }],
                    None => self.too_many(now),
                }
            }
            Choice::Rejoin { name, rooms } => {
                let mut effects = Vec::new();
                for (i, room) in rooms.into_iter().enumerate() {
                    let kind = ViewKind::Room(Some(room.topic));
                    // The first stays current: it is the one the user was in first.
                    let Some(view) = self.add_view(kind, room.label, i == 0) else {
                        effects.extend(self.too_many(now));
                        break;
                    };
                    effects.push(Effect::JoinKnown {
                        view,
                        name: name.clone(),
                        room: room.topic.to_string(),
                    });
                }
                effects
            }
        };
        if !effects.is_empty() {
            self.screen = Screen::Chat;
        }
        effects
    }

    fn too_many(&mut self, now: UnixMillis) -> Vec<Effect> {
        self.error(
            now,
            format!(
                "{} rooms and conversations are open: /part one first",
                super::views::MAX_VIEWS
            ),
        );
        Vec::new()
    }

    /// The name to enter a new room with: the one used in the current room (or any), else
    /// the one chosen at start.
    fn my_name(&self) -> String {
        self.my_info()
            .map_or_else(|| self.default_name.clone(), |me| me.name)
    }

    fn open_room(&mut self, name: String, label: Option<String>, now: UnixMillis) -> Vec<Effect> {
        match self.add_view(ViewKind::Room(None), label.clone(), true) {
            Some(view) => vec![Effect::Open { view, name, label }],
            None => self.too_many(now),
        }
    }

    fn join_ticket(&mut self, name: String, ticket: Ticket, now: UnixMillis) -> Vec<Effect> {
        let (topic, hint) = (ticket.topic, ticket.name.clone());
        self.enter_known_topic(topic, hint.as_deref(), now, |view| Effect::Join {
            view,
            name,
            ticket: Box::new(ticket),
        })
    }

    /// A private room's invite: a view for the room (known by its lasting topic), started by
    /// redeeming the invite.
    fn redeem(&mut self, name: String, invite: Invite, now: UnixMillis) -> Vec<Effect> {
        let topic = crate::proto::seal::room_topic(&invite.room);
        let hint = invite.name.clone();
        self.enter_known_topic(topic, hint.as_deref(), now, |view| Effect::Redeem {
            view,
            name,
            invite: Box::new(invite),
        })
    }

    /// A view for the room of `topic` (or the one we have), titled with `hint` (the ticket's
    /// or invite's name) until a member tells the room's; `start` makes the effect for it.
    fn enter_known_topic(
        &mut self,
        topic: crate::proto::TopicId,
        hint: Option<&str>,
        now: UnixMillis,
        start: impl FnOnce(super::views::ViewKey) -> Effect,
    ) -> Vec<Effect> {
        if let Some(view) = self.views.find_room(&topic) {
            return self.already_in(view, now);
        }
        match self.add_view(ViewKind::Room(Some(topic)), None, true) {
            Some(view) => {
                let named = hint.and_then(clean_room_name);
                if let (Some(name), Some(tab)) = (named, self.views.tabs.last_mut()) {
                    tab.set_room_name(name);
                }
                vec![start(view)]
            }
            None => self.too_many(now),
        }
    }

    fn already_in(&mut self, view: super::views::ViewKey, now: UnixMillis) -> Vec<Effect> {
        if let Some(index) = self.views.position(view) {
            self.switch_to(index);
            self.notice(now, "you are in this room already".into());
        }
        Vec::new()
    }

    /// `/lock`: a view for the current room's private successor, named as it is.
    pub(super) fn command_lock(&mut self, now: UnixMillis) -> Vec<Effect> {
        let Some(from) = self.current_view() else {
            return Vec::new();
        };
        if self.direct_peer().is_some() {
            self.error(
                now,
                "/lock is about a room; this is a private conversation".into(),
            );
            return Vec::new();
        }
        if self.view().state.is_some() {
            self.error(now, "this room is private already".into());
            return Vec::new();
        }
        let label = self.views.current_tab().map(|tab| tab.title.clone());
        let name = self.my_name();
        match self.add_view(ViewKind::Room(None), label.clone(), true) {
            Some(view) => vec![Effect::Lock {
                from,
                view,
                name,
                label,
            }],
            None => self.too_many(now),
        }
    }

    /// `/open [LABEL]`.
    pub(super) fn command_open(&mut self, label: Option<String>, now: UnixMillis) -> Vec<Effect> {
        let name = self.my_name();
        self.open_room(name, label, now)
    }

    /// `/join TICKET|LABEL`.
    pub(super) fn command_join(&mut self, what: String, now: UnixMillis) -> Vec<Effect> {
        let name = self.my_name();
        match what.parse::<Ticket>() {
            Ok(ticket) => return self.join_ticket(name, ticket, now),
            Err(TicketError::Invite) => {
                return match usable_invite(&what) {
                    Ok(invite) => self.redeem(name, invite, now),
                    Err(why) => {
                        self.error(now, why);
                        Vec::new()
                    }
                };
            }
            // A damaged ticket is said at once, in the line `parlor join` prints: looked up as
            // a room label it would open a view titled with it, only to fail.
            Err(err) if looks_like_ticket(&what) => {
                self.error(now, err.to_string());
                return Vec::new();
            }
            Err(_) => {}
        }
        if let Some(index) = self.find_view(&what) {
            let key = self.views.tabs[index].key;
            return self.already_in(key, now);
        }
        match self.add_view(ViewKind::Room(None), Some(what.clone()), true) {
            Some(view) => vec![Effect::JoinKnown {
                view,
                name,
                room: what,
            }],
            None => self.too_many(now),
        }
    }

    /// `/part`: the current room goes away at once; its session says goodbye meanwhile.
    pub(super) fn command_part(&mut self) -> Vec<Effect> {
        let Some(view) = self.current_view() else {
            return Vec::new();
        };
        // Not offered again by the lobby.
        if let Some(ViewKind::Room(Some(topic))) = self.views.current_tab().map(|t| t.kind.clone())
        {
            self.stored_rooms.retain(|room| room.topic != topic);
        }
        // A room we were removed from has no session left to leave.
        let ended = self.is_removed(view);
        if !self.remove_view(view) {
            let name = self.my_name();
            self.screen = Screen::Lobby(self.lobby(&name, None));
        }
        match ended {
            true => Vec::new(),
            false => vec![Effect::Part(view)],
        }
    }

    /// The view `query` names: a room's title, a conversation's (`@name` or `name`), or a
    /// room whose topic starts with it. Rooms first: a member calling itself like a room
    /// cannot take its place.
    fn find_view(&self, query: &str) -> Option<usize> {
        let tabs = &self.views.tabs;
        let is_room = |t: &super::views::Tab| matches!(t.kind, ViewKind::Room(_));
        if let Some(i) = tabs.iter().position(|t| is_room(t) && t.title == query) {
            return Some(i);
        }
        let name = query.strip_prefix('@').unwrap_or(query);
        if let Some(i) = tabs.iter().position(|t| !is_room(t) && t.title == name) {
            return Some(i);
        }
        let hex = query.trim_start_matches('#').to_ascii_lowercase();
        let mut found = tabs.iter().enumerate().filter(|(_, t)| {
            !hex.is_empty()
                && matches!(&t.kind, ViewKind::Room(Some(topic)) if topic.to_string().starts_with(&hex))
        });
        match (found.next(), found.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }

    /// `/room LABEL|PREFIX`.
    pub(super) fn command_room(&mut self, query: &str, now: UnixMillis) {
        match self.find_view(query) {
            Some(index) => self.switch_to(index),
            None => self.error(
                now,
                format!("no open room or conversation is {query:?} (see /rooms)"),
            ),
        }
    }

    /// `/to ROOM TEXT`.
    pub(super) fn command_to(&mut self, query: &str, text: String, now: UnixMillis) -> Vec<Effect> {
        match self.find_view(query) {
            Some(index) => match self.views.tabs[index].kind {
                ViewKind::Direct(peer) => vec![Effect::SendDirect {
                    peer,
                    text,
                    action: false,
                }],
                ViewKind::Room(_) => vec![Effect::SayIn(self.views.tabs[index].key, text)],
            },
            None => {
                self.error(
                    now,
                    format!("no open room or conversation is {query:?} (see /rooms)"),
                );
                Vec::new()
            }
        }
    }

    /// `/rooms`.
    pub(super) fn command_rooms(&mut self, now: UnixMillis) {
        let tabs: Vec<String> = self
            .views
            .tabs
            .iter()
            .enumerate()
            .map(|(i, tab)| {
                let current = if i == self.views.current {
                    " (here)"
                } else {
                    ""
                };
                let unread = match tab.unread {
                    0 => String::new(),
                    n => format!(", {n} unread"),
                };
                format!("{}: {}{current}{unread}", i + 1, tab.title)
            })
            .collect();
        self.notice(now, format!("{} open: {}", tabs.len(), tabs.join(" · ")));
    }

    /// Alt-1..9, Ctrl-N / Ctrl-P, Alt-Up / Alt-Down; `true` if `key` switched views.
    pub(super) fn switch_key(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Char(digit @ '1'..='9') if alt => {
                let index = digit as usize - '1' as usize;
                if index < DIGIT_KEYS {
                    self.switch_to(index);
                }
            }
            KeyCode::Char('n') if ctrl => self.cycle(true),
            KeyCode::Char('p') if ctrl => self.cycle(false),
            KeyCode::Down if alt => self.cycle(true),
            KeyCode::Up if alt => self.cycle(false),
            _ => return false,
        }
        true
    }
}

impl App {
    /// The terminal's title: the current view and what is unread elsewhere.
    /// A private room's shows its mark and, under a label of the user's, the room's own name;
    /// one we were removed from says so.
    pub fn title(&self) -> String {
        let name = self.views.current_tab().map_or_else(
            || "parlor".to_string(),
            |tab| {
                let view = self.view_of(tab.key);
                match view.and_then(|v| v.state.as_ref()) {
                    Some(state) => {
                        let mark = super::private::PRIVATE_MARK;
                        let mut title = format!("parlor: {mark}{}", tab.title);
                        if !state.name.is_empty() && state.name != tab.title {
                            title.push_str(&format!(" ({})", state.name));
                        }
                        if view.is_some_and(|v| v.removed) {
                            title.push_str(" (removed)");
                        }
                        title
                    }
                    None => format!("parlor: {}", tab.title),
                }
            },
        );
        match self.views.unread() {
            0 => name,
            n => format!("{name} ({n} unread)"),
        }
    }
}

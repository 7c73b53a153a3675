//! Direct messages in the terminal UI: `/msg NAME TEXT` and `/query NAME` find the member in
//! the rooms' member lists; each conversation is a view in the room list, its lines in the
//! order of their times (the same on both sides), ours marked pending until delivered.

use super::log::{Entry, EntryKind};
use super::views::{ViewKey, ViewKind};
use super::{App, Effect};
use crate::proto::wire::FileRef;
use crate::proto::{EndpointId, MemberInfo, MessageId, UnixMillis};

/// A direct message, as the front end hands it to the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectLine {
    pub id: MessageId,
    /// The other side of the conversation.
    pub peer: EndpointId,
    pub author: MemberInfo,
    pub text: String,
    pub action: bool,
    /// A file offered in it (`text` is its name).
    pub file: Option<FileRef>,
    pub sent: UnixMillis,
    /// We wrote it.
    pub own: bool,
    /// Ours, and not delivered yet.
    pub pending: bool,
    /// Loaded from disk (shown dimmed, never rings).
    pub history: bool,
    /// A reply: the message it answers.
    pub reply_to: Option<MessageId>,
    /// Not a message but a change to one of the conversation.
    pub change: Option<crate::proto::room::LineChange>,
}

impl App {
    /// Every member of every open room, current room first: who `/msg` can reach.
    fn all_members(&self) -> Vec<MemberInfo> {
        let mut all = self.view().members.clone();
        for view in self.views.others() {
            all.extend(view.members.iter().cloned());
        }
        all
    }

    /// The member `who` names: among every open room's members, then everyone seen this run
    /// (see [`crate::proto::Directory`]), or a whole key; never ourselves.
    pub(super) fn find_member(&self, who: &str) -> Result<MemberInfo, String> {
        let me = self.view().me.as_ref().map(|m| m.id);
        self.directory
            .resolve(who, self.all_members(), me)
            .map_err(|refusal| refusal.to_string())
    }

    /// The conversation view with `peer`, opened (in the background) if need be.
    fn conversation(&mut self, peer: &MemberInfo, switch: bool) -> Option<(ViewKey, bool)> {
        if let Some(view) = self.views.find_direct(&peer.id) {
            if switch && let Some(index) = self.views.position(view) {
                self.switch_to(index);
            }
            return Some((view, false));
        }
        let view = self.add_view(
            ViewKind::Direct(peer.id),
            Some(peer.display.clone()),
            switch,
        )?;
        Some((view, true))
    }

    /// `/msg NAME TEXT`: sent from wherever we are; the conversation opens in the background.
    pub(super) fn command_msg(&mut self, who: &str, text: String, now: UnixMillis) -> Vec<Effect> {
        let peer = match self.find_member(who) {
            Ok(peer) => peer,
            Err(err) => {
                self.error(now, err);
                return Vec::new();
            }
        };
        let mut effects = Vec::new();
        let conversation = self.conversation(&peer, false);
        if let Some((view, true)) = conversation {
            effects.push(Effect::LoadConversation {
                view,
                peer: peer.id,
            });
        }
        // Said where it was typed too: the conversation may be a tab the user is not on.
        if let Some((view, _)) = conversation
            && self.current_view() != Some(view)
        {
            let key = match self.views.position(view) {
                Some(index) if index < 9 => format!("Alt-{} shows", index + 1),
                _ => "Ctrl-N reaches".to_string(),
            };
            let shown = crate::proto::names::sanitize_text(&text, false);
            let note = format!(
                "→ {} privately: {shown} ({key} the conversation)",
                peer.display
            );
            self.notice(now, note);
        }
        effects.push(Effect::SendDirect {
            peer: peer.id,
            text,
            action: false,
        });
        effects
    }

    /// `/query NAME`: open (or go to) the conversation.
    pub(super) fn command_query(&mut self, who: &str, now: UnixMillis) -> Vec<Effect> {
        match self.find_member(who) {
            Ok(peer) => match self.conversation(&peer, true) {
                Some((view, true)) => vec![Effect::LoadConversation {
                    view,
                    peer: peer.id,
                }],
                _ => Vec::new(),
            },
            Err(err) => {
                self.error(now, err);
                Vec::new()
            }
        }
    }

    /// How I am shown: in the current room, else in any room.
    pub(super) fn my_info(&self) -> Option<MemberInfo> {
        let me = self.view().me.clone();
        me.or_else(|| self.views.others().find_map(|v| v.me.clone()))
    }

    /// The peer of the current view, when it is a conversation.
    pub fn direct_peer(&self) -> Option<EndpointId> {
        match self.views.current_tab()?.kind {
            ViewKind::Direct(peer) => Some(peer),
            ViewKind::Room(_) => None,
        }
    }

    /// A direct message arrived, was sent or loaded: into its conversation (opened if need
    /// be). A new one from someone else counts as unread elsewhere and rings.
    pub(super) fn on_direct(&mut self, mut line: DirectLine, now: UnixMillis) -> Vec<Effect> {
        let members = self.all_members();
        let known = |id: EndpointId| members.iter().find(|m| m.id == id).cloned();
        // Named as the rooms name them; a stranger keeps its fingerprint.
        let peer = known(line.peer).unwrap_or_else(|| match line.own {
            true => MemberInfo {
                id: line.peer,
                name: crate::proto::names::fingerprint(&line.peer, 8),
                display: format!("#{}", crate::proto::names::fingerprint(&line.peer, 8)),
            },
            false => line.author.clone(),
        });
        // Whom we write with is reachable by name (`/msg`) from any view.
        self.directory.note(&peer);
        let author = match line.own {
            true => self.my_info(),
            false => known(line.author.id),
        };
        if let Some(author) = author {
            line.author = author;
        }
        let Some((view, new)) = self.conversation(&peer, false) else {
            // Too many conversations open: said here rather than lost from sight.
            if !line.own && !line.history {
                let text = format!(
                    "{} wrote to you privately: {} (too many conversations open: /part one, then /query)",
                    line.author.display, line.text
                );
                self.error(now, text);
                return vec![Effect::Bell];
            }
            return Vec::new();
        };
        let mut effects = Vec::new();
        if new {
            effects.push(Effect::LoadConversation {
                view,
                peer: peer.id,
            });
        }
        if let Some(change) = line.change {
            let (author, text) = (line.author, line.text);
            self.with_view(view, |state| {
                super::line_marks::apply(&mut state.log, &author, text, change);
            });
            return effects;
        }
        let fresh = !line.own && !line.history;
        let index = self.views.position(view);
        let current = index == Some(self.views.current);
        let cols = self.history_cols();
        let mut offered = None;
        if let Some(file) = &line.file {
            (line.text, offered) = super::events::shared_file(file, line.own);
            line.action = true;
        }
        let heard = fresh.then(|| (line.author.clone(), line.text.clone()));
        let mut entry = Entry::new(
            line.sent,
            EntryKind::Message {
                author: line.author,
                text: line.text,
                action: line.action,
                own: line.own,
                mention: false,
                history: line.history,
            },
        );
        entry.id = Some(line.id);
        entry.pending = line.pending;
        if let Some(parent) = &line.reply_to {
            self.with_view(view, |state| {
                entry.marks.quote = Some(super::line_marks::quote_of(state.log.entries(), parent));
            });
        }
        entry.file = offered;
        let sent = line.own && !line.history;
        self.with_view(view, |state| {
            state.log.insert_ordered(entry, cols);
            // A line of ours went out there: whatever went wrong there before is over.
            if sent {
                state.error = None;
            }
        });
        if let Some((author, text)) = heard {
            if !current && let Some(i) = index {
                let tab = &mut self.views.tabs[i];
                tab.unread += 1;
                tab.mention = true;
            }
            // Someone ignored in a room is not let ring or notify from a conversation either.
            if !self.is_ignored(&author.id) {
                effects.push(Effect::Bell);
                effects.extend(self.notification(view, &author, "a direct message", &text, now));
            }
        }
        effects
    }

    /// A direct message could not be queued: back into the input as it would be typed here
    /// (in its conversation, or as `/msg` elsewhere), so Enter never sends it to a room;
    /// with something else being typed, shown as an error instead, so it is not lost.
    pub(super) fn unsent(&mut self, peer: EndpointId, text: String, action: bool, now: UnixMillis) {
        let typed = match (self.direct_peer() == Some(peer), action) {
            (true, true) => format!("/me {text}"),
            (true, false) => text,
            (false, _) => {
                let name = self
                    .views
                    .find_direct(&peer)
                    .and_then(|view| self.views.position(view))
                    .map_or_else(|| peer.to_string(), |i| self.views.tabs[i].title.clone());
                format!("/msg {name} {text}")
            }
        };
        if self.view_mut().input.is_empty() {
            self.view_mut().input.set(&typed);
        } else {
            self.error(now, format!("not sent: {typed}"));
        }
    }

    /// Our direct message `id` to `peer` was delivered.
    pub(super) fn on_delivered(&mut self, peer: EndpointId, id: MessageId) {
        if let Some(view) = self.views.find_direct(&peer) {
            self.with_view(view, |state| state.log.delivered(&id));
        }
    }
}

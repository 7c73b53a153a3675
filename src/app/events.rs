//! What happens in a room, as the chat log shows it: lines (a shared file as what it is and
//! how to fetch it), members coming, going and renaming, the link, refusals giving back what
//! was typed.

use super::log::{self, Entry, EntryKind};
use super::{App, Effect, Link};
use crate::present::notices;
use crate::proto::UnixMillis;
use crate::proto::room::{Attempt, Event, LeaveReason};
use crate::proto::wire::FileRef;

/// How a shared file reads in the log (as an action line): what it is and how to fetch it;
/// someone else's is marked, so it can be picked (Ctrl-G) and fetched with Enter.
pub(super) fn shared_file(file: &FileRef, own: bool) -> (String, Option<log::FileMark>) {
    let size = crate::present::show_size(file.size);
    if own {
        return (format!("shared {} ({size})", file.name), None);
    }
    let text = format!("shared {} ({size}) · /get {}", file.name, file.handle());
    let mark = log::FileMark {
        // The whole hash: a picked line fetches exactly its file, whatever shares its handle.
        handle: file.hash.clone(),
        name: file.name.clone(),
        size: file.size,
    };
    (text, Some(mark))
}

impl App {
    pub(super) fn on_room_event(&mut self, event: Event, now: UnixMillis) -> Vec<Effect> {
        let cols = self.history_cols();
        if matches!(event, Event::MessageSent(_)) {
            // A line of ours went out: whatever went wrong here before is over.
            self.succeeded();
        }
        match event {
            Event::MessageReceived(mut line) | Event::MessageSent(mut line) => {
                let own = Some(line.author.id) == self.view_mut().me.as_ref().map(|m| m.id);
                // Their line came: they are no longer typing it.
                self.view_mut()
                    .typing
                    .retain(|(m, _)| m.id != line.author.id);
                // Authors of history too: `/msg` reaches them when they are not here.
                self.directory.note(&line.author);
                // A shared file reads as what it is, and how to fetch it; someone else's can
                // be picked (Ctrl-G) and fetched with Enter.
                let mut offered = None;
                if let Some(file) = &line.file {
                    (line.text, offered) = shared_file(file, own);
                    line.action = true;
                }
                // My name or a highlight word: styled, and it rings (and may notify).
                let mention = !own && self.is_highlighted(&line.text);
                // Old news does not ring.
                let ring =
                    (mention && !line.history).then(|| (line.author.clone(), line.text.clone()));
                let mut entry = Entry::new(
                    line.sent,
                    EntryKind::Message {
                        author: line.author,
                        text: line.text,
                        action: line.action,
                        own,
                        mention,
                        history: line.history,
                    },
                );
                entry.file = offered;
                entry.id = Some(line.id);
                if let Some(parent) = &line.reply_to {
                    let quote = super::line_marks::quote_of(self.view().log.entries(), parent);
                    entry.marks.quote = Some(quote);
                }
                self.view_mut().log.push(entry, cols);
                if let Some((author, text)) = ring {
                    return self.highlight_effects(&author, &text, now);
                }
            }
            Event::Changed(line) => self.on_line_change(line, now),
            Event::Typing(member) if self.typing => self.view_mut().typing_from(member, now),
            Event::Typing(_) => {}
            Event::MemberJoined(member) => self.notice(now, format!("{} joined", member.display)),
            Event::MemberLeft { member, reason } => {
                let how = match reason {
                    LeaveReason::Left => "",
                    LeaveReason::TimedOut => " (timed out)",
                };
                self.notice(now, format!("{} left{how}", member.display));
            }
            Event::MemberRenamed { member, old } => {
                if self
                    .view_mut()
                    .me
                    .as_ref()
                    .is_some_and(|me| me.id == member.id)
                {
                    self.notice(now, format!("you are now known as {}", member.display));
                    self.view_mut().me = Some(member);
                } else {
                    self.notice(now, format!("{old} is now known as {}", member.display));
                }
            }
            // Reconnecting and offline come as [`Msg::Net`], right after.
            Event::NeighborsChanged(0) => {
                if !matches!(self.view_mut().link, Link::Reconnecting | Link::Offline) {
                    self.view_mut().link = Link::Waiting;
                }
            }
            Event::NeighborsChanged(n) => self.view_mut().link = Link::Connected(n),
            Event::Lagged => self.error(
                now,
                "the network outpaced us: fetching the messages we missed".into(),
            ),
            Event::Flooded { .. } | Event::NameClash { .. } => {
                if let Some(text) = notices::describe(&event) {
                    self.error(now, text);
                }
            }
            Event::Ignored {
                ref member,
                ignored,
            } => {
                self.note_ignored(member, ignored);
                if let Some(text) = notices::describe(&event) {
                    self.notice(now, text);
                }
            }
            Event::IgnoredList(ref members) => {
                for member in members {
                    self.note_ignored(member, true);
                }
                if let Some(text) = notices::describe(&event) {
                    self.notice(now, text);
                }
            }
            Event::RoomNamed { ref name, .. } => {
                if let Some(tab) = self.views.target_tab_mut() {
                    tab.set_room_name(name.clone());
                }
                if let Some(text) = notices::describe(&event) {
                    self.notice(now, text);
                }
            }
            // Kept on the view's tab: the room list and the status bar show it.
            Event::Queued(waiting) => {
                if let Some(tab) = self.views.target_tab_mut() {
                    tab.queued = waiting;
                }
            }
            Event::Refused { refusal, attempt } => {
                // Give the refused line back so nothing typed is lost, unless something new
                // is being typed already.
                let typed = match attempt {
                    Attempt::Say(text) => text,
                    Attempt::Act(text) => format!("/me {text}"),
                    Attempt::SetName(name) => format!("/nick {name}"),
                    Attempt::SetRoomName(name) => format!("/topic {name}"),
                    Attempt::Ignore(who) => format!("/ignore {who}"),
                    Attempt::Change(command) => command,
                    // Nothing was typed as such: the refusal names the file.
                    Attempt::Share(_) => String::new(),
                };
                if self.view_mut().input.is_empty() && !typed.is_empty() {
                    self.view_mut().input.set(&typed);
                }
                self.error(now, refusal.to_string());
            }
        }
        Vec::new()
    }
}

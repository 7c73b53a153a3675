//! A private room in its view: its signed state, kept for the member list's roles, the room
//! list's lock mark and the status bar, every change said as a notice; and its end when we
//! are removed (the view stays, its history readable, until `/part`).

use std::collections::HashSet;

use super::command::Command;
use super::view::View;
use super::{App, Effect};
use crate::model::RoomStateView;
use crate::present::private::changes;
use crate::proto::state::Role;
use crate::proto::{EndpointId, UnixMillis};

/// The mark before a private room's title (room list, status bar, window title). Plain ASCII
/// on purpose: a lock emoji is two columns wide in some terminals and one in others, and
/// missing from many fonts (the Linux console's among them); `+` shows everywhere, also
/// with `--theme mono`, where no colour could tell private rooms apart.
pub const PRIVATE_MARK: &str = "+";

/// What a removed room says to anything typed there.
pub const REMOVED_REFUSAL: &str = "you were removed from this room; /part closes it";

impl View {
    /// A private room (its state has come).
    pub fn private(&self) -> bool {
        self.state.is_some()
    }

    /// Who is here: in a private room, those of its members who announced themselves (one
    /// removed may still be heard until its last message fades).
    pub fn here(&self) -> usize {
        match &self.state {
            Some(state) => {
                let members: HashSet<&EndpointId> = state.members.iter().map(|m| &m.id).collect();
                (self.members.iter())
                    .filter(|m| members.contains(&m.id))
                    .count()
            }
            None => self.members.len(),
        }
    }

    /// Our role in a private room.
    pub fn my_role(&self) -> Option<Role> {
        let (state, me) = (self.state.as_ref()?, self.me.as_ref()?);
        state.role_of(&me.id)
    }
}

/// Whether `command` still makes sense in a room we were removed from: what only reads,
/// goes elsewhere or closes it.
fn works_when_removed(command: &Command) -> bool {
    matches!(
        command,
        Command::Who
            | Command::Expand
            | Command::Help
            | Command::Clear
            | Command::Quit
            | Command::Open(_)
            | Command::Join(_)
            | Command::Part
            | Command::Room(_)
            | Command::To(..)
            | Command::Rooms
            | Command::Msg(..)
            | Command::Query(_)
    )
}

impl App {
    pub(super) fn on_room_state(&mut self, state: RoomStateView, now: UnixMillis) {
        if !state.name.is_empty()
            && let Some(tab) = self.views.target_tab_mut()
        {
            tab.set_room_name(state.name.clone());
        }
        let old = self.view_mut().state.replace(state.clone());
        if let Some(old) = old {
            for notice in changes(&old, &state) {
                self.notice(now, notice);
            }
        }
    }

    /// We were removed: said as an error, and the view stays (its history readable) but
    /// takes nothing more; its session ends meanwhile.
    pub(super) fn on_removed(
        &mut self,
        by: Option<EndpointId>,
        reason: &str,
        ban: bool,
        now: UnixMillis,
    ) {
        // As the member list shows them: their name if they announced it, else as the
        // state knows them, else their short key.
        let view = self.view();
        let by = by.map(|id| match view.members.iter().find(|m| m.id == id) {
            Some(member) => member.display.clone(),
            None => view
                .state
                .as_ref()
                .map_or_else(|| id.fmt_short().to_string(), |state| state.display_of(&id)),
        });
        let line = crate::present::private::removed_line(by.as_deref(), reason, ban);
        self.error(now, line.trim_start_matches("* ").to_string());
        self.notice(
            now,
            "what was said here stays readable; /part closes the room".into(),
        );
        let view = self.view_mut();
        view.removed = true;
        view.invite = None;
    }

    /// `Some(refusal)` when `command` cannot be carried out because we were removed from the
    /// room shown (the draft is given back to fix or copy).
    pub(super) fn refuse_when_removed(
        &mut self,
        command: Option<&Command>,
        text: &str,
        now: UnixMillis,
    ) -> Option<Vec<Effect>> {
        if !self.view().removed || command.is_some_and(works_when_removed) {
            return None;
        }
        if !text.is_empty() {
            self.view_mut().input.set(text);
        }
        self.error(now, REMOVED_REFUSAL.to_string());
        Some(Vec::new())
    }
}

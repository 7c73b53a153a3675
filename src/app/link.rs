//! How we are connected to a room, as its view tells it: losing every connection while
//! others are here is an error (and coming back a notice); being alone in the room (everyone
//! else left, or no one came yet) is waiting, said neutrally by the status bar.

use super::{App, Link};
use crate::model::{Connectivity, NetState};
use crate::proto::{MemberInfo, UnixMillis};

/// Said when every connection to a room is lost while others are in it.
pub const LOST: &str = "lost every connection to the room: reconnecting…";

impl App {
    pub(super) fn on_net(&mut self, state: NetState, now: UnixMillis) {
        let view = self.view_mut();
        view.link = match state.state {
            Connectivity::Connected => Link::Connected(state.neighbours),
            Connectivity::Reconnecting => Link::Reconnecting,
            Connectivity::Offline => Link::Offline,
        };
        // With no one else here, no neighbour is no loss: we wait for others to join.
        let cut_off = match state.state {
            Connectivity::Connected => false,
            Connectivity::Reconnecting => !view.alone(),
            Connectivity::Offline => true,
        };
        match (view.cut_off, cut_off) {
            (true, false) => {
                self.succeeded();
                self.notice(now, "back in the room: catching up on what was said".into());
            }
            (false, true) => self.error(now, LOST.into()),
            _ => {}
        }
        self.view_mut().cut_off = cut_off;
    }

    /// Who is in the room now. The last of the others gone while we were reconnecting
    /// (they timed out rather than said goodbye): nothing is lost, we wait.
    pub(super) fn on_members(&mut self, members: Vec<MemberInfo>) {
        for member in &members {
            self.directory.note(member);
        }
        let view = self.view_mut();
        view.members = members;
        if view.cut_off && view.link == Link::Reconnecting && view.alone() {
            view.cut_off = false;
            if view.error.as_ref().is_some_and(|e| e.text == LOST) {
                view.error = None;
            }
        }
    }
}

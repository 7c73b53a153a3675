//! A private room's state in its view: kept for the member list's roles and the status bar,
//! and every change said as a notice.

use super::App;
use crate::model::RoomStateView;
use crate::present::private::changes;
use crate::proto::UnixMillis;

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
}

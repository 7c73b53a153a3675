//! How parlor is left, and what Esc does instead. Quitting takes a key no one presses by
//! accident: `/quit`, Ctrl-D on an empty line, or Ctrl-C; Ctrl-C with a draft typed (in any
//! view) only warns, and quits when pressed again within [`CONFIRM_MS`], so a half-typed
//! message is never lost to one stray key. Esc never quits: it closes what is open (a popup,
//! a file pick: see `popup` and `pick`), goes back to the newest line from scrollback, and
//! dismisses the error in the status bar.

use super::{App, Effect};
use crate::proto::UnixMillis;

/// How long a first Ctrl-C with a draft waits for the second.
pub const CONFIRM_MS: u64 = 2_000;

impl App {
    /// Ctrl-C: quit, unless a draft would be lost and this is not the second press in time.
    pub(super) fn ctrl_c(&mut self, now: UnixMillis) -> Vec<Effect> {
        let confirmed = self
            .quit_armed
            .take()
            .is_some_and(|at| now.0.saturating_sub(at.0) <= CONFIRM_MS);
        if confirmed || !self.has_draft() {
            return vec![Effect::Quit];
        }
        self.quit_armed = Some(now);
        // Where the warning can be seen: nothing over it, the history at its newest line.
        self.close_popups();
        self.view_mut().log.scroll_down(usize::MAX);
        self.notice(
            now,
            "press Ctrl-C again within 2 s to quit; your draft is kept".into(),
        );
        Vec::new()
    }

    /// Text typed and not sent, in this view or another.
    fn has_draft(&self) -> bool {
        self.views.any_draft()
    }

    /// Esc with nothing open: back to the newest line, else dismiss the status bar's error.
    pub(super) fn escape(&mut self) {
        if self.view_mut().log.scroll() > 0 {
            self.view_mut().log.scroll_down(usize::MAX);
        } else {
            self.view_mut().error = None;
        }
    }
}

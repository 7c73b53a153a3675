//! Picking a file line with the keyboard: Ctrl-G highlights the newest file someone shared
//! (the newest on screen, when scrolled up to one), Up / Down move to older / newer ones,
//! Enter fetches the one picked as `/get HANDLE` would, Esc or Ctrl-G again stop. Any other key
//! stops picking and does what it does (typing types), so picking never gets in the way.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::log::FileMark;
use super::{App, Effect};
use crate::proto::UnixMillis;

impl App {
    /// Whether a file line is picked (the keys above go to it).
    pub fn picking(&self) -> bool {
        self.view().log.picked().is_some()
    }

    /// The file the picked line offers: what Enter fetches.
    pub fn picked_file(&self) -> Option<&FileMark> {
        self.view().log.picked_file()
    }

    /// Ctrl-G: pick the newest file line (see the module's doc), or say there is none.
    pub(super) fn start_pick(&mut self, now: UnixMillis) {
        let (cols, height) = self.history_size();
        match self.view_mut().log.first_file_line(cols, height) {
            Some(index) => self.pick(index),
            None => self.notice(
                now,
                "no file shared here to fetch (Ctrl-G picks lines \"shared FILE · /get …\")".into(),
            ),
        }
    }

    fn pick(&mut self, index: usize) {
        let (cols, height) = self.history_size();
        self.view_mut().log.pick(Some(index));
        self.view_mut().log.reveal(index, cols, height);
    }

    /// A key while picking: `Some(effects)` if it was a picking key, `None` if it does what it
    /// does otherwise (picking has stopped then, unless it only scrolls the history).
    pub(super) fn on_pick_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let picked = self.view().log.picked()?;
        let plain = key.modifiers.difference(KeyModifiers::SHIFT).is_empty();
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Up | KeyCode::Down if plain => {
                let older = key.code == KeyCode::Up;
                // At the oldest or newest file line, the pick stays where it is.
                if let Some(next) = self.view_mut().log.next_file_line(picked, older) {
                    self.pick(next);
                }
            }
            // Picking stays on, so several files are fetched with Up, Enter, Up, Enter, and a
            // second Enter on a file above --max-get fetches it anyway (as a second /get).
            KeyCode::Enter if plain => {
                if let Some(handle) = self.picked_file().map(|file| file.handle.clone()) {
                    return Some(self.get_file(handle));
                }
            }
            KeyCode::Esc => self.view_mut().log.pick(None),
            KeyCode::Char('g') if ctrl => self.view_mut().log.pick(None),
            // Scrolling looks around without losing the pick.
            KeyCode::PageUp | KeyCode::PageDown => return None,
            _ => {
                self.view_mut().log.pick(None);
                return None;
            }
        }
        Some(Vec::new())
    }

    /// `/get HANDLE`, typed or picked: asked twice in a row, the user means it, whatever the
    /// size (`--max-get`).
    pub(super) fn get_file(&mut self, handle: String) -> Vec<Effect> {
        // A picked line names the whole hash, a typed /get a handle: one names the other.
        let force = self.asked_get.as_deref().is_some_and(|asked| {
            !asked.is_empty()
                && !handle.is_empty()
                && (asked.starts_with(&handle) || handle.starts_with(asked))
        });
        self.asked_get = Some(handle.clone());
        vec![Effect::GetFile { handle, force }]
    }
}

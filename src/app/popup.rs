//! Keys while a popup shows (the help overlay, the invite). A popup never swallows typing: its
//! own keys are ones no one types by accident, Enter closes it (and sends the draft, if any),
//! and any other key closes it and does what it does, so "anyone here yet?" typed over the
//! invite that `/open` shows lands in the input line.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::help::{Help, help_layout};
use super::{App, Effect};
use crate::proto::UnixMillis;

impl App {
    /// A key while a popup shows: `Some(effects)` if it was the popup's; `None` if the key
    /// does what it does otherwise (the popup has closed then).
    pub(super) fn on_popup_key(&mut self, key: KeyEvent, now: UnixMillis) -> Option<Vec<Effect>> {
        let plain = key.modifiers.difference(KeyModifiers::SHIFT).is_empty();
        if key.code == KeyCode::Enter
            && plain
            && (self.help.is_some() || self.view_mut().invite.is_some())
        {
            self.close_popups();
            return Some(self.submit(now));
        }
        if self.help.is_some() {
            return self.on_help_key(key);
        }
        if self.view_mut().invite.is_some() {
            return self.on_invite_key(key);
        }
        None
    }

    fn on_help_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let page = help_layout(self.area).rows.saturating_sub(1).max(1) as isize;
        match key.code {
            KeyCode::Up => self.scroll_help(-1),
            KeyCode::Down => self.scroll_help(1),
            KeyCode::PageUp => self.scroll_help(-page),
            KeyCode::PageDown => self.scroll_help(page),
            KeyCode::Home => self.scroll_help(isize::MIN),
            KeyCode::End => self.scroll_help(isize::MAX),
            KeyCode::Esc | KeyCode::F(1) => self.help = None,
            _ => {
                self.help = None;
                return None;
            }
        }
        Some(Vec::new())
    }

    fn on_invite_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Char('y') if ctrl => return Some(self.copy_ticket()),
            KeyCode::Char('c') if alt => return Some(self.copy_ticket()),
            // Ctrl-T and F2 open it, and close it again.
            KeyCode::Esc | KeyCode::F(2) => self.view_mut().invite = None,
            KeyCode::Char('t') if ctrl => self.view_mut().invite = None,
            _ => {
                self.view_mut().invite = None;
                return None;
            }
        }
        Some(Vec::new())
    }

    fn copy_ticket(&mut self) -> Vec<Effect> {
        match &mut self.view_mut().invite {
            // No invite to copy (a private room's member who may not invite).
            Some(invite) if invite.ticket.is_empty() => Vec::new(),
            Some(invite) => {
                invite.copied = true;
                vec![Effect::Copy(invite.ticket.clone())]
            }
            None => Vec::new(),
        }
    }

    pub(super) fn close_popups(&mut self) {
        self.help = None;
        self.view_mut().invite = None;
    }

    /// F1 and `/help`: the overlay, from the top (F1 again closes it).
    pub(super) fn toggle_help(&mut self) {
        self.help = match self.help {
            Some(_) => None,
            None => Some(Help::default()),
        };
    }

    /// Scroll the help overlay by `rows` (negative: up), within its rows.
    pub(super) fn scroll_help(&mut self, rows: isize) {
        let max = Help::max_scroll(self.area);
        if let Some(help) = &mut self.help {
            // From where it is in sight (the screen may have grown since).
            let from = help.scroll.min(max);
            help.scroll = from.saturating_add_signed(rows).min(max);
        }
    }
}

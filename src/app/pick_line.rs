//! Picking a line to act on (issue 24): Ctrl-O or Ctrl-Up highlights the newest line said
//! here (the newest on screen when scrolled up; Up alone recalls what was typed, and Alt-Up
//! goes to the previous room), Up / Down move through the lines, and then: `r`
//! replies, `e` edits (one's own), `d` deletes (one's own, or anyone's as a private room's
//! admin; asks y/n first), `+` reacts (1-8: the usual eight; `:` types a `:name:`), `y` copies
//! its text (OSC 52), `w` says who reacted. Esc stops; any other key stops picking and does
//! what it does.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::command::{Command, LineCommand};
use super::log::EntryKind;
use super::{App, Effect};
use crate::proto::state::Role;
use crate::proto::{MessageId, UnixMillis};

/// The reactions offered first, in the picker's order (keys 1 to 8).
pub const USUAL: [&str; 8] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "🙏"];

/// What picking a line is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinePick {
    /// A line is picked: what to do with it.
    Line,
    /// `+`: which reaction.
    React,
    /// `d`: sure?
    ConfirmDelete,
}

/// A line id as commands take it: enough hex digits that no two lines share them.
fn short(id: &MessageId) -> String {
    id.to_string()[..12].to_string()
}

impl App {
    /// What the picking keys do now, for the status bar (`None`: not picking a line).
    pub fn line_pick_help(&self) -> Option<Vec<String>> {
        let help = match self.line_pick? {
            LinePick::Line => vec![
                "r reply · e edit · d delete · + react · w who reacted · y copy".to_string(),
                "Up/Down: other lines".to_string(),
                "Esc: back to typing".to_string(),
            ],
            LinePick::React => {
                let usual: Vec<String> = USUAL
                    .iter()
                    .enumerate()
                    .map(|(i, e)| format!("{} {e}", i + 1))
                    .collect();
                vec![usual.join(" "), ": a :name:".into(), "Esc".into()]
            }
            LinePick::ConfirmDelete => vec!["delete this line? y / n".to_string()],
        };
        Some(help)
    }

    /// Ctrl-O / Ctrl-Up: pick the newest line with an id (the newest on screen when scrolled up).
    pub(super) fn start_line_pick(&mut self, now: UnixMillis) {
        let (cols, height) = self.history_size();
        let log = &self.view().log;
        let found = log.first_line_where(cols, height, |e| e.id.is_some() && !e.marks.deleted);
        match found {
            Some(index) => {
                self.view_mut().log.pick(Some(index));
                self.view_mut().log.reveal(index, cols, height);
                self.line_pick = Some(LinePick::Line);
            }
            None => self.notice(now, "no line here to pick".into()),
        }
    }

    fn stop_line_pick(&mut self) {
        self.line_pick = None;
        self.view_mut().log.pick(None);
    }

    /// A key while a line is picked: `Some(effects)` if picking took it.
    pub(super) fn on_line_pick_key(
        &mut self,
        key: KeyEvent,
        now: UnixMillis,
    ) -> Option<Vec<Effect>> {
        let mode = self.line_pick?;
        let Some(index) = self.view().log.picked() else {
            self.line_pick = None;
            return None;
        };
        let entry = self.view().log.entries().get(index)?.clone();
        let id = entry.id?;
        let plain = key.modifiers.difference(KeyModifiers::SHIFT).is_empty();
        if key.code == KeyCode::Esc {
            match mode {
                LinePick::Line => self.stop_line_pick(),
                _ => self.line_pick = Some(LinePick::Line),
            }
            return Some(Vec::new());
        }
        let run = |line: LineCommand| vec![Effect::Run(Command::Line(line))];
        let to = short(&id);
        match (mode, key.code) {
            (LinePick::React, KeyCode::Char(c @ '1'..='8')) => {
                self.stop_line_pick();
                let emoji = USUAL[(c as usize) - ('1' as usize)].to_string();
                return Some(run(LineCommand::React {
                    to,
                    emoji,
                    on: true,
                }));
            }
            (LinePick::React, KeyCode::Char(':')) => {
                self.stop_line_pick();
                self.view_mut().input.set(&format!("/react {to} :"));
            }
            (LinePick::ConfirmDelete, KeyCode::Char('y')) => {
                self.stop_line_pick();
                return Some(run(LineCommand::Delete { to }));
            }
            (LinePick::ConfirmDelete, _) | (LinePick::React, _) => {
                self.line_pick = Some(LinePick::Line)
            }
            (LinePick::Line, KeyCode::Up | KeyCode::Down) if plain => {
                let older = key.code == KeyCode::Up;
                let next = self
                    .view()
                    .log
                    .next_line_where(index, older, |e| e.id.is_some() && !e.marks.deleted);
                if let Some(next) = next {
                    let (cols, height) = self.history_size();
                    self.view_mut().log.pick(Some(next));
                    self.view_mut().log.reveal(next, cols, height);
                }
            }
            (LinePick::Line, KeyCode::Char('r')) if plain => {
                self.stop_line_pick();
                self.view_mut().input.set(&format!("/reply {to} "));
            }
            (LinePick::Line, KeyCode::Char('e')) if plain => {
                let EntryKind::Message { own, text, .. } = &entry.kind else {
                    return Some(Vec::new());
                };
                if !own {
                    self.error(now, "only your own lines can be edited".into());
                    return Some(Vec::new());
                }
                let text = text.clone();
                self.stop_line_pick();
                self.view_mut().input.set(&format!("/edit {to} {text}"));
            }
            (LinePick::Line, KeyCode::Char('d')) if plain => {
                let own = matches!(entry.kind, EntryKind::Message { own: true, .. });
                let admin = self.view().my_role() >= Some(Role::Admin);
                if !own && !admin {
                    self.error(
                        now,
                        "only your own lines can be deleted (and, in a private room, by its admins)"
                            .into(),
                    );
                    return Some(Vec::new());
                }
                self.line_pick = Some(LinePick::ConfirmDelete);
            }
            (LinePick::Line, KeyCode::Char('+')) => self.line_pick = Some(LinePick::React),
            (LinePick::Line, KeyCode::Char('w')) if plain => {
                let who: Vec<String> = entry
                    .marks
                    .reactions
                    .iter()
                    .map(|r| {
                        let names: Vec<&str> = r.by.iter().map(|(_, n)| n.as_str()).collect();
                        format!("{} {}", r.emoji, names.join(", "))
                    })
                    .collect();
                let text = match who.is_empty() {
                    true => "no reactions on this line".to_string(),
                    false => format!("reactions: {}", who.join(" · ")),
                };
                self.notice(now, text);
            }
            (LinePick::Line, KeyCode::Char('y')) if plain => {
                self.stop_line_pick();
                self.notice(now, "copied the line's text".into());
                return Some(vec![Effect::Copy(entry.text())]);
            }
            // Scrolling looks around without losing the pick.
            (LinePick::Line, KeyCode::PageUp | KeyCode::PageDown) => return None,
            _ => {
                self.stop_line_pick();
                return None;
            }
        }
        Some(Vec::new())
    }
}

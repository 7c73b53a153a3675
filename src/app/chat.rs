//! Keys, pastes, the mouse and typed commands on the chat screen (and routing to the lobby and
//! the invite popup).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use super::command::{self, COMMANDS, Command};
use super::complete::Completion;
use super::keys::edit;
use super::{App, Effect, Invite, Link, Screen};
use crate::proto::UnixMillis;

/// Rows the mouse wheel scrolls per notch.
const WHEEL_ROWS: usize = 3;

/// Keys listed by F1 and `/help`, after the commands (and in the README).
pub const KEYS: &[(&str, &str)] = &[
    ("Enter", "send; Alt-Enter starts a new line"),
    (
        "Up / Down",
        "recall earlier lines (kept across restarts, not with --ephemeral)",
    ),
    ("Tab", "complete a name, a command, or a path after /send"),
    (
        "Ctrl-G",
        "pick a shared file: Up/Down choose, Enter fetches, Esc stops",
    ),
    (
        "PageUp / PageDown, wheel",
        "scroll the history; Esc goes back to the newest line",
    ),
    (
        "Ctrl-T or F2",
        "invite to this room (a private room's lasts 7 days), QR code; Ctrl-Y copies it",
    ),
    (
        "F1",
        "this help: Up/Down, PageUp/PageDown scroll, Esc closes",
    ),
    (
        "F3 or Alt-M",
        "mouse on/off: off, the terminal selects text (no wheel scrolling)",
    ),
    ("Alt-1..9", "go to room or conversation 1..9"),
    (
        "Ctrl-N / Ctrl-P",
        "next / previous room (also Alt-Down / Alt-Up)",
    ),
    ("Ctrl-A / Ctrl-E", "start / end of the line"),
    ("Ctrl-W", "delete the word before the cursor"),
    (
        "Ctrl-U / Ctrl-K",
        "delete all of the draft before / after the cursor",
    ),
    ("Ctrl-Y", "put back what Ctrl-U, Ctrl-K or Ctrl-W deleted"),
    (
        "Esc",
        "close a popup, stop picking, back to the newest line; never quits",
    ),
    (
        "Ctrl-C",
        "quit (with a draft typed: press it twice within 2 s)",
    ),
    (
        "Ctrl-D",
        "quit on an empty line; else delete the character under the cursor",
    ),
];

/// How often the app asks a room to say we are typing (the room sends at most one per 3 s).
const TYPING_TOLD_MS: u64 = 3_000;

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent, now: UnixMillis) -> Vec<Effect> {
        // Key releases and repeats arrive on some terminals (kitty protocol): act on presses.
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if let Screen::Lobby(lobby) = &mut self.screen {
            return match lobby.on_key(key) {
                None => Vec::new(),
                Some(choice) => self.enter(choice, now),
            };
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return self.ctrl_c(now);
        }
        // Any other key in between: the next Ctrl-C warns again.
        self.quit_armed = None;
        if let Some(effects) = self.on_popup_key(key, now) {
            return effects;
        }
        if let Some(effects) = self.on_line_pick_key(key, now) {
            return effects;
        }
        if self.line_pick.is_none()
            && let Some(effects) = self.on_pick_key(key)
        {
            return effects;
        }
        if key.code != KeyCode::Tab {
            self.completion = None;
        }
        if self.switch_key(&key) {
            return Vec::new();
        }
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Esc => self.escape(),
            KeyCode::Char('d') if ctrl && self.view_mut().input.is_empty() => {
                return vec![Effect::Quit];
            }
            KeyCode::Enter if alt || ctrl => self.view_mut().input.insert_char('\n'),
            KeyCode::Enter => return self.submit(now),
            KeyCode::Char('t') if ctrl => return self.ask_ticket(now),
            KeyCode::Char('g') if ctrl => self.start_pick(now),
            KeyCode::F(2) => return self.ask_ticket(now),
            KeyCode::F(1) => self.toggle_help(),
            KeyCode::F(3) => return self.toggle_mouse(now),
            KeyCode::Char('m') if alt => return self.toggle_mouse(now),
            KeyCode::Tab => return self.complete(),
            KeyCode::Up if ctrl => self.start_line_pick(now),
            KeyCode::Char('o') if ctrl => self.start_line_pick(now),
            KeyCode::Up => {
                if let Some(line) = self.recall.older(self.views.target_view().input.text()) {
                    self.view_mut().input.set(&line);
                }
            }
            KeyCode::Down => {
                if let Some(line) = self.recall.newer() {
                    self.view_mut().input.set(&line);
                }
            }
            KeyCode::PageUp => {
                let (cols, height) = self.history_size();
                let most = self.scroll_height(height);
                let page = height.saturating_sub(1).max(1);
                self.view_mut().log.scroll_up(page, cols, most);
            }
            KeyCode::PageDown => {
                let (_, height) = self.history_size();
                self.view_mut()
                    .log
                    .scroll_down(height.saturating_sub(1).max(1));
            }
            _ => {
                edit(&mut self.view_mut().input, key);
                if matches!(key.code, KeyCode::Char(_)) {
                    return self.typed(now);
                }
            }
        }
        Vec::new()
    }

    pub(super) fn history_size(&self) -> (usize, usize) {
        let history = self.layout().history;
        (history.width as usize, history.height as usize)
    }

    pub(super) fn on_paste(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        match &mut self.screen {
            Screen::Lobby(lobby) => lobby.paste(&text),
            // However many lines, a paste is one message: it waits in the input for Enter.
            // Pasting is typing: it closes a popup and stops picking a file line.
            Screen::Chat => {
                self.close_popups();
                self.view_mut().log.pick(None);
                self.view_mut().input.insert(&text);
            }
        }
    }

    pub(super) fn on_mouse(&mut self, mouse: MouseEvent) {
        let (cols, height) = self.history_size();
        // The wheel scrolls what is on top.
        let rows = WHEEL_ROWS as isize;
        match mouse.kind {
            MouseEventKind::ScrollUp if self.help.is_some() => self.scroll_help(-rows),
            MouseEventKind::ScrollDown if self.help.is_some() => self.scroll_help(rows),
            MouseEventKind::ScrollUp => {
                let height = self.scroll_height(height);
                self.view_mut().log.scroll_up(WHEEL_ROWS, cols, height);
            }
            MouseEventKind::ScrollDown => self.view_mut().log.scroll_down(WHEEL_ROWS),
            _ => {}
        }
    }

    fn complete(&mut self) -> Vec<Effect> {
        if let Some(effects) = self.complete_path() {
            return effects;
        }
        if self.completion.is_none() {
            let commands: Vec<&str> = COMMANDS
                .iter()
                .filter_map(|(usage, _)| usage.split_whitespace().next())
                .collect();
            let mut names: Vec<String> = self
                .view_mut()
                .members
                .iter()
                .map(|m| m.name.clone())
                .collect();
            if let Some(me) = &self.view_mut().me {
                names.retain(|n| *n != me.name);
            }
            self.completion = Completion::begin(&self.view_mut().input, &commands, &names);
        }
        if let Some(completion) = &mut self.completion {
            completion.apply(&mut self.views.target_view_mut().input);
        }
        Vec::new()
    }

    /// F3 / Alt-M: let the terminal have the mouse (to select text), or take it back.
    fn toggle_mouse(&mut self, now: UnixMillis) -> Vec<Effect> {
        self.mouse = !self.mouse;
        let text = if self.mouse {
            "mouse on: the wheel scrolls; F3 or Alt-M lets the terminal select text again"
        } else {
            "mouse off: select text with the mouse; F3 or Alt-M turns the wheel back on"
        };
        self.notice(now, text.into());
        vec![Effect::Mouse(self.mouse)]
    }

    pub(super) fn submit(&mut self, now: UnixMillis) -> Vec<Effect> {
        let text = self.view_mut().input.take();
        if text.trim().is_empty() {
            return Vec::new();
        }
        self.recall.push(&text);
        self.view_mut().log.scroll_down(usize::MAX);
        let command = match command::parse(&text) {
            // A line that makes sense is the next thing done here: the last error is over
            // (a new one replaces it, if this one fails too).
            Ok(Some(command)) => {
                self.succeeded();
                command
            }
            Ok(None) => return Vec::new(),
            Err(err) => {
                // Keep the line so a typo can be fixed rather than retyped.
                self.view_mut().input.set(&text);
                self.error(now, err.to_string());
                return Vec::new();
            }
        };
        if let Some(refused) = self.refuse_when_removed(Some(&command), &text, now) {
            return refused;
        }
        match command {
            Command::Say(line) => return self.say(Effect::Say(line), now),
            Command::Me(line) => return self.say(Effect::Act(line), now),
            Command::Nick(name) => return vec![Effect::Rename(name)],
            Command::Who => {
                let members = &self.view().members;
                let names: Vec<&str> = members.iter().map(|m| m.display.as_str()).collect();
                let text = format!("{} here: {}", names.len(), names.join(", "));
                self.notice(now, text);
            }
            Command::Ticket => return vec![Effect::ShowTicket],
            Command::Net => return vec![Effect::ShowNet],
            Command::Search(words) => return vec![Effect::Search(words)],
            Command::Ignore(who, ignore) => return vec![Effect::Ignore { who, ignore }],
            Command::Ignored => return vec![Effect::ListIgnored],
            Command::Expand => {
                let cols = self.history_cols();
                if !self.view_mut().log.expand_newest(cols) {
                    self.notice(now, "no long message to expand".into());
                }
            }
            Command::Urls => self.command_urls(now),
            Command::Help => self.help = Some(super::help::Help::default()),
            Command::Clear => self.view_mut().log.clear(),
            Command::Quit => return vec![Effect::Quit],
            Command::Open(label) => return self.command_open(label, now),
            Command::Moderation(super::moderation::Moderation::Lock) => {
                return self.command_lock(now);
            }
            Command::Join(what) => return self.command_join(what, now),
            Command::Part => return self.command_part(),
            Command::Room(query) => self.command_room(&query, now),
            Command::To(query, text) => return self.command_to(&query, text, now),
            Command::Rooms => self.command_rooms(now),
            Command::Msg(who, text) => return self.command_msg(&who, text, now),
            Command::Query(who) => return self.command_query(&who, now),
            Command::Send(path) => return vec![Effect::SendFile(path)],
            Command::Get(handle) => return self.get_file(handle),
            Command::Files(_) => return vec![Effect::ListFiles],
            // Anything else is about the room or conversation shown, carried out by the
            // front-end core as headless does: a new command needs nothing here.
            #[allow(unreachable_patterns)]
            other => return vec![Effect::Run(other)],
        }
        Vec::new()
    }

    /// A character typed into the draft: a room hears we are typing (a line, not a
    /// command), at most every few seconds.
    fn typed(&mut self, now: UnixMillis) -> Vec<Effect> {
        if !self.typing || self.direct_peer().is_some() || self.view().removed {
            return Vec::new();
        }
        let view = self.view_mut();
        let draft = view.input.text();
        let lately = view
            .typing_told
            .is_some_and(|at| now.0.saturating_sub(at.0) < TYPING_TOLD_MS);
        if draft.starts_with('/') || draft.trim().is_empty() || lately {
            return Vec::new();
        }
        view.typing_told = Some(now);
        vec![Effect::Typing]
    }

    fn say(&mut self, effect: Effect, now: UnixMillis) -> Vec<Effect> {
        self.caught_up();
        if let Some(peer) = self.direct_peer() {
            let (text, action) = match effect {
                Effect::Act(text) => (text, true),
                Effect::Say(text) => (text, false),
                other => return vec![other],
            };
            return vec![Effect::SendDirect { peer, text, action }];
        }
        if !matches!(self.view_mut().link, Link::Connected(_)) {
            self.notice(now, "not connected yet: the message is queued".into());
        }
        vec![effect]
    }

    /// Ctrl-T / F2: the invite, asked for (not in a room we were removed from).
    fn ask_ticket(&mut self, now: UnixMillis) -> Vec<Effect> {
        self.refuse_when_removed(None, "", now)
            .unwrap_or_else(|| vec![Effect::ShowTicket])
    }

    /// Show the invite popup with `ticket`.
    pub fn show_invite(&mut self, ticket: String) {
        self.view_mut().invite = Some(Invite {
            ticket,
            copied: false,
        });
    }
}

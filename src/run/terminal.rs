//! Owning the terminal: raw mode, alternate screen, mouse (unless turned off), bracketed
//! paste and focus reporting on entry, and all of it undone on exit, on error (the guard's
//! drop) and on panic (the hook).

use std::io::Write;

use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste,
    EnableFocusChange, EnableMouseCapture,
};
use data_encoding::BASE64;
use ratatui::DefaultTerminal;

pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

fn undo_modes() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        DisableFocusChange
    );
    // Give the title back (xterm's title stack; terminals without one ignore it).
    let mut out = std::io::stdout();
    let _ = out.write_all(b"\x1b[23;0t");
    let _ = out.flush();
}

impl TerminalGuard {
    /// `mouse`: capture the mouse (wheel scrolling; the terminal's own selection then needs
    /// Shift in most terminals).
    pub fn enter(mouse: bool) -> std::io::Result<Self> {
        // ratatui::init installs a panic hook that leaves the alternate screen and raw mode;
        // ours runs first and turns mouse capture and bracketed paste off too.
        let terminal = ratatui::try_init()?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            undo_modes();
            previous(info);
        }));
        // Focus reports: lines count as seen (the read marker) and notifications go out
        // only while the terminal has the focus; terminals without them count as focused.
        crossterm::execute!(std::io::stdout(), EnableBracketedPaste, EnableFocusChange)?;
        if mouse {
            crossterm::execute!(std::io::stdout(), EnableMouseCapture)?;
        }
        // Keep the shell's title to give back on exit (xterm's title stack).
        let mut out = std::io::stdout();
        let _ = out.write_all(b"\x1b[22;0t");
        Ok(Self { terminal })
    }

    /// Capture the mouse or give it back to the terminal (F3 / Alt-M).
    pub fn set_mouse(&mut self, on: bool) -> std::io::Result<()> {
        if on {
            crossterm::execute!(std::io::stdout(), EnableMouseCapture)
        } else {
            crossterm::execute!(std::io::stdout(), DisableMouseCapture)
        }
    }

    /// Write raw bytes to the terminal (bell, clipboard escape).
    fn write_raw(&mut self, bytes: &[u8]) {
        let mut out = std::io::stdout();
        let _ = out.write_all(bytes);
        let _ = out.flush();
    }

    /// The window's title (OSC 2), with anything a terminal could act on removed.
    pub fn set_title(&mut self, title: &str) {
        let clean: String = crate::proto::names::sanitize_text(title, false)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        self.write_raw(format!("\x1b]2;{clean}\x07").as_bytes());
    }

    /// Write an escape sequence built from cleaned text (a notification's OSC), also wrapped
    /// for tmux's passthrough inside tmux.
    pub fn write_sequence(&mut self, sequence: &str) {
        self.write_raw(sequence.as_bytes());
        if std::env::var_os("TMUX").is_some() {
            let wrapped = format!("\x1bPtmux;{}\x1b\\", sequence.replace('\x1b', "\x1b\x1b"));
            self.write_raw(wrapped.as_bytes());
        }
    }

    pub fn bell(&mut self) {
        self.write_raw(b"\x07");
    }

    /// Ask the terminal to put `text` on the clipboard (OSC 52). Works over SSH; inside tmux
    /// the sequence is also sent wrapped for passthrough.
    pub fn copy(&mut self, text: &str) {
        let osc = format!("\x1b]52;c;{}\x07", BASE64.encode(text.as_bytes()));
        self.write_sequence(&osc);
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        undo_modes();
        ratatui::restore();
    }
}

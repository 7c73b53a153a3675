//! Desktop notifications as the config's `notify` says: through the terminal (an OSC 777 or
//! OSC 9 sequence, also wrapped for tmux), by running `notify_command` (no shell: the title
//! and the body are its two arguments), or not at all. The app has already cleaned the text
//! (one line, no control characters, bounded) and limited how often a view asks; here at most
//! one command runs at a time, so a slow notifier never piles up processes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::super::terminal::TerminalGuard;
use crate::config::{Notify, UiSettings};

pub(super) struct Notifier {
    mode: Notify,
    command: String,
    /// OSC 9 rather than OSC 777 (the terminals that understand only that one).
    osc9: bool,
    /// A command is running: the next notification is dropped rather than queued.
    running: Arc<AtomicBool>,
    /// The command failed to start once: said once, not per notification.
    failed: bool,
}

/// Whether the terminal we run in takes OSC 9 for notifications rather than OSC 777: iTerm2,
/// kitty and Windows Terminal (terminals ignore the OSCs they do not know).
fn prefers_osc9() -> bool {
    let var = |name| std::env::var(name).unwrap_or_default();
    var("TERM_PROGRAM") == "iTerm.app"
        || var("TERM") == "xterm-kitty"
        || std::env::var_os("WT_SESSION").is_some()
}

/// The escape sequence asking the terminal for a notification. `title` and `body` are clean
/// already; `;` in the title would end OSC 777's title field, so it is replaced.
pub(super) fn sequence(title: &str, body: &str, osc9: bool) -> String {
    let title = title.replace(';', ",");
    if osc9 {
        format!("\x1b]9;{title}: {body}\x1b\\")
    } else {
        format!("\x1b]777;notify;{title};{body}\x1b\\")
    }
}

impl Notifier {
    pub(super) fn new(settings: &UiSettings) -> Self {
        Self {
            mode: settings.notify,
            command: settings.notify_command.clone(),
            osc9: prefers_osc9(),
            running: Arc::new(AtomicBool::new(false)),
            failed: false,
        }
    }

    /// Send one notification; `Some(warning)` the first time the command cannot be run.
    pub(super) fn send(
        &mut self,
        guard: &mut TerminalGuard,
        title: &str,
        body: &str,
    ) -> Option<String> {
        match self.mode {
            Notify::Off => None,
            Notify::Terminal => {
                guard.write_sequence(&sequence(title, body, self.osc9));
                None
            }
            Notify::Command => self.run(title, body),
        }
    }

    fn run(&mut self, title: &str, body: &str) -> Option<String> {
        if self.running.swap(true, Ordering::AcqRel) {
            return None;
        }
        let child = tokio::process::Command::new(&self.command)
            .arg(title)
            .arg(body)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match child {
            Ok(mut child) => {
                let running = self.running.clone();
                // Reaped when it ends; the next notification may run then.
                tokio::spawn(async move {
                    let _ = child.wait().await;
                    running.store(false, Ordering::Release);
                });
                None
            }
            Err(err) => {
                self.running.store(false, Ordering::Release);
                tracing::warn!("cannot run notify_command {:?}: {err}", self.command);
                let first = !self.failed;
                self.failed = true;
                first.then(|| format!("cannot run notify_command {:?}: {err}", self.command))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_carry_title_and_body_and_a_title_cannot_add_fields() {
        assert_eq!(
            sequence("bob in ops", "ann: look", false),
            "\x1b]777;notify;bob in ops;ann: look\x1b\\"
        );
        assert_eq!(
            sequence("a;b", "text", false),
            "\x1b]777;notify;a,b;text\x1b\\"
        );
        assert_eq!(sequence("bob", "hi", true), "\x1b]9;bob: hi\x1b\\");
    }

    #[tokio::test]
    async fn one_command_at_a_time_and_a_missing_one_is_said_once() {
        let mut settings = UiSettings {
            notify: Notify::Command,
            notify_command: "sleep".into(),
            ..UiSettings::default()
        };
        let mut notifier = Notifier::new(&settings);
        // `sleep TITLE BODY` fails at once or sleeps; either way it runs, alone.
        assert_eq!(notifier.run("5", "0"), None);
        assert!(notifier.running.load(Ordering::Acquire));
        assert_eq!(notifier.run("5", "0"), None, "dropped while one runs");
        settings.notify_command = "/nonexistent/parlor-notifier".into();
        let mut missing = Notifier::new(&settings);
        assert!(
            missing
                .run("t", "b")
                .is_some_and(|w| w.contains("notify_command"))
        );
        assert_eq!(missing.run("t", "b"), None, "said once");
        assert!(!missing.running.load(Ordering::Acquire));
    }
}

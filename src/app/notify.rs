//! Highlights and desktop notifications. A line is *highlighted* when it names me or one of
//! the configured highlight words (whole words, any case): it is styled as a mention and rings
//! the bell. A highlighted line or a direct message, live (not history) and arriving while the
//! terminal does not have the focus, also asks for a desktop notification
//! ([`Effect::Notify`]), at most one per view every [`NOTIFY_GAP_MS`], so a flood cannot pop
//! up a storm of them; never for a member the user ignores. The run layer sends it the way
//! the config says (`notify`), or not at all.

use std::collections::HashSet;

use super::views::ViewKey;
use super::{App, Effect, mentions};
use crate::proto::names::sanitize_text;
use crate::proto::{EndpointId, MemberInfo, UnixMillis};

/// One notification per view at most this often.
pub const NOTIFY_GAP_MS: u64 = 5_000;
/// A notification's title and body are cut to these many characters (the text comes from
/// the network).
pub const MAX_TITLE_CHARS: usize = 60;
pub const MAX_BODY_CHARS: usize = 200;
/// Highlight words kept, and their length: more is not a configuration but a mistake.
pub const MAX_HIGHLIGHTS: usize = 64;

/// Whether `text` names `me` or contains one of `words` as a whole word, ignoring case.
pub fn highlighted(text: &str, me: Option<&str>, words: &[String]) -> bool {
    me.is_some_and(|me| mentions(text, me)) || words.iter().any(|word| mentions(text, word))
}

/// `text` as a notification may carry it: one line (line breaks become spaces), no control
/// characters (escaped visibly, as the log shows them: nothing a terminal could act on), at
/// most `max` characters.
pub fn clean(text: &str, max: usize) -> String {
    let one_line = sanitize_text(text, true);
    let mut clean: String = one_line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > max {
        clean = clean.chars().take(max.saturating_sub(1)).collect();
        clean.push('…');
    }
    clean
}

/// What the app knows of notifying.
#[derive(Debug, Default)]
pub struct Notifier {
    /// The highlight words (from the config), besides my name.
    pub words: Vec<String>,
    /// Members ignored in any room this run: their direct messages do not notify either.
    pub ignored: HashSet<EndpointId>,
}

impl App {
    /// Highlight these words besides my name (the config's `highlights`; blanks dropped).
    pub fn set_highlights(&mut self, words: &[String]) {
        let words = words.iter().map(|w| w.trim()).filter(|w| !w.is_empty());
        self.notifier.words = words.take(MAX_HIGHLIGHTS).map(str::to_string).collect();
    }

    /// Whether `text` is highlighted in the view worked on.
    pub(super) fn is_highlighted(&self, text: &str) -> bool {
        let me = self.view().me.as_ref().map(|m| m.name.as_str());
        highlighted(text, me, &self.notifier.words)
    }

    /// `/ignore` or `/unignore` of `member` took effect (or `/ignored` listed it).
    pub(super) fn note_ignored(&mut self, member: &MemberInfo, ignored: bool) {
        if ignored {
            self.notifier.ignored.insert(member.id);
        } else {
            self.notifier.ignored.remove(&member.id);
        }
    }

    pub(super) fn is_ignored(&self, id: &EndpointId) -> bool {
        self.notifier.ignored.contains(id)
    }

    /// A live line that should reach the user from `author` in view `view` (titled
    /// `place`): a notification, unless the terminal has the focus, the author is ignored, or
    /// this view notified less than [`NOTIFY_GAP_MS`] ago.
    pub(super) fn notification(
        &mut self,
        view: ViewKey,
        author: &MemberInfo,
        place: &str,
        text: &str,
        now: UnixMillis,
    ) -> Option<Effect> {
        if self.focused || self.is_ignored(&author.id) {
            return None;
        }
        let view = self.views.state_mut(view)?;
        if view
            .notified
            .is_some_and(|at| now.0 < at.0.saturating_add(NOTIFY_GAP_MS))
        {
            return None;
        }
        view.notified = Some(now);
        let title = format!("{} in {place}", author.display);
        Some(Effect::Notify {
            title: clean(&title, MAX_TITLE_CHARS),
            body: clean(text, MAX_BODY_CHARS),
        })
    }

    /// A highlighted live line in the view worked on: the bell, and a notification.
    pub(super) fn highlight_effects(
        &mut self,
        author: &MemberInfo,
        text: &str,
        now: UnixMillis,
    ) -> Vec<Effect> {
        let mut effects = vec![Effect::Bell];
        let Some(view) = self.views.target() else {
            return effects;
        };
        let place = self
            .views
            .position(view)
            .map(|i| self.views.tabs[i].title.clone());
        let place = place.unwrap_or_default();
        effects.extend(self.notification(view, author, &place, text, now));
        effects
    }
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;

//! What happened to a line since it was shown (issue 24): the line it answers (quoted above
//! it), the reactions on it (a row under it), an edit (its new text, `(edited)`), a delete (a
//! dim tombstone). The room checked each change against the line's author before it came.

use super::App;
use super::log::{Entry, EntryKind};
use crate::proto::MemberInfo;
use crate::proto::room::{ChangeKind, ChatLine, LineChange};
use crate::proto::{EndpointId, MessageId, UnixMillis};

/// Reactions kept on one line (distinct emoji); more are not shown.
pub const MAX_EMOJI_PER_LINE: usize = 32;
/// Who reacted with one emoji, kept per line (the count goes on).
const MAX_REACTORS: usize = 256;
/// How much of a parent line a reply's quote shows.
const QUOTE_CHARS: usize = 60;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMarks {
    /// A reply: the parent's author and the start of its text (or why it cannot be shown).
    pub quote: Option<Quote>,
    pub reactions: Vec<Reaction>,
    pub edited: bool,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub author: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    /// Who, as shown when they reacted, oldest first.
    pub by: Vec<(EndpointId, String)>,
}

impl LineMarks {
    /// `👍 3  ❤️ 1`: the reactions row, or `None` when there are none.
    pub fn reactions_row(&self) -> Option<String> {
        let shown: Vec<String> = self
            .reactions
            .iter()
            .filter(|r| !r.by.is_empty())
            .map(|r| format!("{} {}", r.emoji, r.by.len()))
            .collect();
        (!shown.is_empty()).then(|| shown.join("  "))
    }
}

/// The quote a reply shows of `parent` (if the view has it).
pub fn quote_of(entries: &std::collections::VecDeque<Entry>, parent: &MessageId) -> Quote {
    let found = entries.iter().rev().find(|e| e.id.as_ref() == Some(parent));
    match found {
        Some(entry) if entry.marks.deleted => Quote {
            author: String::new(),
            text: "a deleted message".into(),
        },
        Some(Entry {
            kind: EntryKind::Message { author, text, .. },
            ..
        }) => {
            let mut cut: String = text.chars().take(QUOTE_CHARS).collect();
            if text.chars().count() > QUOTE_CHARS {
                cut.push('…');
            }
            Quote {
                author: author.display.clone(),
                text: cut.replace('\n', " "),
            }
        }
        _ => Quote {
            author: String::new(),
            text: format!(
                "a message not shown here ({})",
                crate::proto::room::short_id(parent)
            ),
        },
    }
}

impl App {
    /// A change to a line of the view it came to: applied if the line is shown here.
    pub(super) fn on_line_change(&mut self, line: ChatLine, _now: UnixMillis) {
        if let Some(change) = line.change {
            apply(&mut self.view_mut().log, &line.author, line.text, *change);
        }
    }
}

/// Apply `change` by `by` (an edit's new `text`) to its line in `log`, if shown there.
pub fn apply(log: &mut super::log::ChatLog, by: &MemberInfo, text: String, change: LineChange) {
    let Some(entry) = log.entry_mut(&change.to) else {
        return;
    };
    match change.kind {
        ChangeKind::React { emoji, on } => {
            let marks = &mut entry.marks;
            let who = (by.id, by.display.clone());
            let room = marks.reactions.len() < MAX_EMOJI_PER_LINE;
            match marks.reactions.iter_mut().find(|r| r.emoji == emoji) {
                Some(reaction) => {
                    reaction.by.retain(|(id, _)| *id != who.0);
                    if on && reaction.by.len() < MAX_REACTORS {
                        reaction.by.push(who);
                    }
                }
                None if on && room => marks.reactions.push(Reaction {
                    emoji,
                    by: vec![who],
                }),
                None => {}
            }
            marks.reactions.retain(|r| !r.by.is_empty());
        }
        ChangeKind::Edit => {
            if let EntryKind::Message { text: shown, .. } = &mut entry.kind {
                *shown = text;
                entry.marks.edited = true;
            }
        }
        ChangeKind::Delete => {
            if let EntryKind::Message { text, .. } = &mut entry.kind {
                text.clear();
            }
            entry.marks = LineMarks {
                deleted: true,
                ..LineMarks::default()
            };
            entry.file = None;
        }
    }
}

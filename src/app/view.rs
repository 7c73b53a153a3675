//! One view's state (a room or a conversation): everything that belongs to "this room" lives
//! here, so nothing can leak from one view into another. `App` holds them in
//! [`super::views::Views`], keyed by [`ViewKey`](super::views::ViewKey), and reads the one
//! it works on through [`App::view`](super::App::view).

use super::editor::Editor;
use super::log::ChatLog;
use super::{Invite, Link};
use crate::proto::{EndpointId, MemberInfo, TopicId, UnixMillis};

/// How long an error stays in the status bar, unless something succeeds in its view first.
pub const ERROR_MS: u64 = 10_000;

/// An error shown in its view's status bar, and since when.
/// How long "typing…" shows after a member's signal (they repeat every 3 s while typing).
pub const TYPING_SHOWN_MS: u64 = 6_000;
/// Typists remembered per view (a crowd shows as "several people are typing").
const MAX_TYPING_SHOWN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewError {
    pub text: String,
    pub at: UnixMillis,
}

#[derive(Debug)]
pub struct View {
    /// How I am shown in this room (its own name: `/nick` is per room).
    pub me: Option<MemberInfo>,
    pub topic: Option<TopicId>,
    /// Who is here now, me included.
    pub members: Vec<MemberInfo>,
    /// Members whose connection goes through a relay.
    pub relayed: Vec<EndpointId>,
    pub link: Link,
    /// Lost every connection to the room and not back yet (for the notices on the way).
    pub(super) cut_off: bool,
    pub log: ChatLog,
    /// The draft typed here.
    pub input: Editor,
    /// A room's invite popup stays with the room (its ticket changes with its session).
    pub invite: Option<Invite>,
    /// The last error said here, until it expires or something succeeds here.
    pub error: Option<ViewError>,
    /// A private room's signed state (`None`: a public room).
    pub state: Option<crate::model::RoomStateView>,
    /// We were removed from this private room: its session ended, its history stays
    /// readable, nothing typed here goes out (see `app::private`).
    pub removed: bool,
    /// Who said they are typing here, and until when that shows.
    pub typing: Vec<(MemberInfo, UnixMillis)>,
    /// When we last told this room we are typing.
    pub(super) typing_told: Option<UnixMillis>,
    /// Where the user left off here, and the read marker (see `app::read`).
    pub read: super::read::ReadMark,
    /// When this view last asked for a desktop notification (see `app::notify`).
    pub(super) notified: Option<UnixMillis>,
}

/// How far our messages in a conversation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Nothing of ours in the history.
    Nothing,
    /// This many of ours wait to be delivered.
    Pending(usize),
    /// Every one of ours arrived.
    Delivered,
}

impl Default for View {
    fn default() -> Self {
        Self {
            me: None,
            topic: None,
            members: Vec::new(),
            relayed: Vec::new(),
            link: Link::Joining,
            cut_off: false,
            log: ChatLog::default(),
            input: Editor::default(),
            invite: None,
            error: None,
            state: None,
            removed: false,
            typing: Vec::new(),
            typing_told: None,
            read: Default::default(),
            notified: None,
        }
    }
}

impl View {
    /// A fresh view whose history shows times as `log` does.
    pub(super) fn like(log: &ChatLog) -> Self {
        let mut view = Self::default();
        view.log.time = log.time.clone();
        view
    }

    /// No one but me is here: without neighbours that is waiting, not a lost connection.
    pub fn alone(&self) -> bool {
        let me = self.me.as_ref().map(|m| m.id);
        self.members.iter().all(|m| Some(m.id) == me)
    }

    /// How far our messages got (a conversation's status).
    pub fn delivery(&self) -> Delivery {
        let ours = |e: &&super::log::Entry| {
            matches!(&e.kind, super::log::EntryKind::Message { own: true, .. })
        };
        let mut own = self.log.entries().iter().filter(ours).peekable();
        if own.peek().is_none() {
            return Delivery::Nothing;
        }
        match own.filter(|e| e.pending).count() {
            0 => Delivery::Delivered,
            n => Delivery::Pending(n),
        }
    }

    /// Who is typing here at `now`, as shown.
    pub fn typing_at(&self, now: UnixMillis) -> Vec<&str> {
        self.typing
            .iter()
            .filter(|(_, until)| now < *until)
            .map(|(member, _)| member.display.as_str())
            .collect()
    }

    /// `member` says it is typing: shown for [`TYPING_SHOWN_MS`] (or until its line comes).
    pub(super) fn typing_from(&mut self, member: MemberInfo, now: UnixMillis) {
        self.typing
            .retain(|(m, until)| m.id != member.id && now < *until);
        if self.typing.len() < MAX_TYPING_SHOWN {
            self.typing
                .push((member, UnixMillis(now.0 + TYPING_SHOWN_MS)));
        }
    }

    /// The error to show at `now`, if it has not expired.
    pub fn error_at(&self, now: UnixMillis) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|e| now.0 < e.at.0.saturating_add(ERROR_MS))
            .map(|e| e.text.as_str())
    }

    /// Forget the error once its time is up.
    /// Forget typing signals that are over.
    pub(super) fn expire_typing(&mut self, now: UnixMillis) {
        self.typing.retain(|(_, until)| now < *until);
    }

    /// When the next typing signal is over (the status bar changes then).
    pub(super) fn typing_deadline(&self) -> Option<UnixMillis> {
        self.typing.iter().map(|(_, until)| *until).min()
    }

    /// "bob is typing…", "bob and ann are typing…", or for more "several people are typing…".
    pub fn typing_line(&self) -> Option<String> {
        let names: Vec<String> = self
            .typing
            .iter()
            .map(|(m, _)| crate::proto::names::sanitize_text(&m.display, false))
            .collect();
        match names.as_slice() {
            [] => None,
            [one] => Some(format!("{one} is typing…")),
            [a, b] => Some(format!("{a} and {b} are typing…")),
            _ => Some("several people are typing…".to_string()),
        }
    }

    pub(super) fn expire_error(&mut self, now: UnixMillis) {
        if self.error_at(now).is_none() {
            self.error = None;
        }
    }

    /// When the error shown expires.
    pub(super) fn error_deadline(&self) -> Option<UnixMillis> {
        let error = self.error.as_ref()?;
        Some(UnixMillis(error.at.0.saturating_add(ERROR_MS)))
    }
}

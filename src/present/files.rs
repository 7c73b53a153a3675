//! A file `/files` lists, in words: where it is (`state_text`), as one word for scripts
//! (`state_word`), and whole (`Display`).

use super::sizes::show_size;
use crate::model::{FileState, SharedFile};

impl SharedFile {
    /// Where it is, in a few words (`/get 1a2b3c4d`, `saved as ...`): `/files`' text.
    pub fn state_text(&self) -> String {
        let Self { offer, state } = self;
        match state {
            FileState::Offered if offer.own => "yours".to_string(),
            FileState::Offered => format!("/get {}", offer.file.handle()),
            FileState::Fetching { done } => format!(
                "fetching, {}%",
                done.saturating_mul(100) / offer.file.size.max(1)
            ),
            FileState::Saved(path) => format!("saved as {}", path.display()),
            FileState::Failed(why) => format!("failed: {why}"),
            FileState::Waiting(why) => format!("waiting for a provider: {why}"),
        }
    }

    /// Its state as one word, for scripts.
    pub fn state_word(&self) -> &'static str {
        match self.state {
            FileState::Offered if self.offer.own => "yours",
            FileState::Offered => "offered",
            FileState::Fetching { .. } => "fetching",
            FileState::Saved(_) => "saved",
            FileState::Failed(_) => "failed",
            FileState::Waiting(_) => "waiting",
        }
    }
}

impl std::fmt::Display for SharedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = &self.offer.file;
        write!(
            f,
            "{} {} ({}) from {}: {}",
            file.handle(),
            file.name,
            show_size(file.size),
            self.offer.from.display,
            self.state_text()
        )
    }
}

//! Changes to lines on disk (issue 24): a change is kept as a row of its own (served to late
//! joiners like a line), and applied to the line it is about, which the room has checked
//! already (only its author edits; its author or an admin deletes).
//!
//! **Deleting means gone**: the line's text and signed envelope are wiped from its row (the
//! row stays as a tombstone, so the line's place is kept), every edit of it is removed with
//! its text, the words leave the full-text index (which is then merged, so no old segment
//! keeps them), and `secure_delete` zeroes the freed space. What a member read before, or a
//! modified client keeps, no store can take back.

use rusqlite::params;

use super::messages::FTS_INDEXED;
use super::{Store, StoreError};
use std::collections::HashMap;

use crate::model::message::Reactions;

use crate::proto::room::{ChangeKind, ChatLine};
use crate::proto::{EndpointId, MessageId, TopicId};

/// A line's change columns: the line it is about, the kind, the emoji.
pub(super) fn columns(line: &ChatLine) -> (Option<Vec<u8>>, Option<&'static str>, Option<String>) {
    let Some(change) = &line.change else {
        return (None, None, None);
    };
    let (kind, emoji) = match &change.kind {
        ChangeKind::React { emoji, on: true } => ("react", Some(emoji.clone())),
        ChangeKind::React { emoji, on: false } => ("unreact", Some(emoji.clone())),
        ChangeKind::Edit => ("edit", None),
        ChangeKind::Delete => ("delete", None),
    };
    (Some(change.to.as_bytes().to_vec()), Some(kind), emoji)
}

impl Store {
    /// Apply a change just kept: an edit rewrites the line's text (and its index entry), a
    /// delete wipes the line and its edits.
    pub(super) fn apply_change(&self, line: &ChatLine) -> Result<(), StoreError> {
        let Some(change) = &line.change else {
            return Ok(());
        };
        let to = change.to.as_bytes().as_slice();
        match change.kind {
            ChangeKind::React { .. } => Ok(()),
            ChangeKind::Edit => {
                let target: Option<(i64, String)> = self
                    .conn
                    .query_row(
                        "SELECT rowid, text FROM messages WHERE id = ?1 AND author = ?2 AND deleted = 0",
                        params![to, line.author.id.as_bytes()],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .ok();
                let Some((rowid, old)) = target else {
                    return Ok(());
                };
                self.unindex(rowid, &old)?;
                self.conn.execute(
                    "UPDATE messages SET text = ?2, edited = 1 WHERE rowid = ?1",
                    params![rowid, line.text],
                )?;
                self.reindex(rowid, &line.text)
            }
            ChangeKind::Delete => self.wipe(to),
        }
    }

    /// Wipe the line `to` (its text, envelope and index entry) and its edits.
    fn wipe(&self, to: &[u8]) -> Result<(), StoreError> {
        let target: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT rowid, text FROM messages WHERE id = ?1 AND deleted = 0",
                [to],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .ok();
        if let Some((rowid, old)) = target {
            self.unindex(rowid, &old)?;
            self.conn.execute(
                "UPDATE messages SET text = '', envelope = X'', deleted = 1, edited = 0
                 WHERE rowid = ?1",
                [rowid],
            )?;
        }
        // Its edits carry its words too (their envelopes are served to late joiners).
        self.conn.execute(
            "DELETE FROM messages WHERE change_to = ?1 AND change_kind = 'edit'",
            [to],
        )?;
        // The index's segments keep a deleted entry's words until they are merged.
        self.conn.execute(
            "INSERT INTO messages_fts (messages_fts) VALUES ('optimize')",
            [],
        )?;
        Ok(())
    }

    /// The reactions on each line of the room now: every react and unreact replayed in the
    /// order they were sent.
    pub(super) fn reactions(
        &self,
        topic: TopicId,
    ) -> Result<HashMap<MessageId, Reactions>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT change_to, author, emoji, change_kind FROM messages
             WHERE topic = ?1 AND change_kind IN ('react', 'unreact') AND emoji IS NOT NULL
             ORDER BY sent, id",
        )?;
        let rows = stmt.query_map([topic.as_bytes()], |row| {
            Ok((
                row.get::<_, Vec<u8>>(0)?,
                row.get::<_, Vec<u8>>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)? == "react",
            ))
        })?;
        let mut on: HashMap<MessageId, Reactions> = HashMap::new();
        for row in rows {
            let (to, author, emoji, react) = row?;
            let (Ok(to), Ok(author)) = (<[u8; 32]>::try_from(to), <[u8; 32]>::try_from(author))
            else {
                continue;
            };
            let Ok(author) = EndpointId::from_bytes(&author) else {
                continue;
            };
            let line = on.entry(MessageId::from_bytes(to)).or_default();
            let at = match line.iter().position(|(e, _)| *e == emoji) {
                Some(at) => at,
                None => {
                    line.push((emoji, Vec::new()));
                    line.len() - 1
                }
            };
            let who = &mut line[at].1;
            who.retain(|id| *id != author);
            if react {
                who.push(author);
            }
        }
        for line in on.values_mut() {
            line.retain(|(_, who)| !who.is_empty());
        }
        Ok(on)
    }

    /// Whether row `rowid` is in the full-text index already (rows are indexed in batches).
    fn indexed(&self, rowid: i64) -> bool {
        self.setting(FTS_INDEXED)
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|last| rowid <= last)
    }

    fn unindex(&self, rowid: i64, text: &str) -> Result<(), StoreError> {
        if self.indexed(rowid) {
            self.conn.execute(
                "INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', ?1, ?2)",
                params![rowid, text],
            )?;
        }
        Ok(())
    }

    fn reindex(&self, rowid: i64, text: &str) -> Result<(), StoreError> {
        if self.indexed(rowid) {
            self.conn.execute(
                "INSERT INTO messages_fts (rowid, text) VALUES (?1, ?2)",
                params![rowid, text],
            )?;
        }
        Ok(())
    }
}

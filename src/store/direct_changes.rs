//! Changes to direct messages on disk (issue 24), as for rooms (`store::changes`): checked
//! against the conversation (the message must be in it; only its sender edits or deletes),
//! kept as a row of their own (delivered like any message), applied to the message: an edit
//! rewrites its text and index entry, a delete wipes its text and envelope and the changes
//! about it, merges the index and leaves the row as a tombstone.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::proto::EndpointId;
use crate::proto::direct::DirectMessage;
use crate::proto::room::ChangeKind;

impl Store {
    /// Why `m` (a change in the conversation with `peer`) may not be made: `None` when it may
    /// (or is no change).
    pub(super) fn direct_change_refused(
        &self,
        peer: EndpointId,
        m: &DirectMessage,
    ) -> Result<Option<String>, StoreError> {
        let Some(change) = &m.change else {
            return Ok(None);
        };
        let sender: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT sender FROM direct
                 WHERE id = ?1 AND peer = ?2 AND deleted = 0 AND change_to IS NULL",
                params![change.to.as_bytes(), peer.as_bytes()],
                |row| row.get(0),
            )
            .optional()?;
        let Some(sender) = sender else {
            return Ok(Some("no such message in this conversation".into()));
        };
        let own = sender.as_slice() == m.from.as_bytes().as_slice();
        Ok(match change.kind {
            ChangeKind::React { .. } => None,
            ChangeKind::Edit if !own => Some("only its sender can edit that message".into()),
            ChangeKind::Delete if !own => Some("only its sender can delete that message".into()),
            _ => None,
        })
    }

    /// Apply a change just kept (checked already).
    pub(super) fn apply_direct_change(&self, m: &DirectMessage) -> Result<(), StoreError> {
        let Some(change) = &m.change else {
            return Ok(());
        };
        let to = change.to.as_bytes().as_slice();
        let target: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT rowid, text FROM direct WHERE id = ?1 AND deleted = 0",
                [to],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((rowid, old)) = target else {
            return Ok(());
        };
        match change.kind {
            ChangeKind::React { .. } => {}
            ChangeKind::Edit => {
                self.conn.execute(
                    "INSERT INTO direct_fts (direct_fts, rowid, text) VALUES ('delete', ?1, ?2)",
                    params![rowid, old],
                )?;
                self.conn.execute(
                    "UPDATE direct SET text = ?2, edited = 1 WHERE rowid = ?1",
                    params![rowid, m.text],
                )?;
                self.conn.execute(
                    "INSERT INTO direct_fts (rowid, text) VALUES (?1, ?2)",
                    params![rowid, m.text],
                )?;
            }
            ChangeKind::Delete => {
                self.conn.execute(
                    "INSERT INTO direct_fts (direct_fts, rowid, text) VALUES ('delete', ?1, ?2)",
                    params![rowid, old],
                )?;
                self.conn.execute(
                    "UPDATE direct SET text = '', envelope = X'', deleted = 1, edited = 0
                     WHERE rowid = ?1",
                    [rowid],
                )?;
                // Its edits carry its words (the trigger takes them out of the index); this
                // delete stays (ours may still be waiting for delivery).
                self.conn.execute(
                    "DELETE FROM direct WHERE change_to = ?1 AND id != ?2",
                    params![to, m.id.as_bytes()],
                )?;
                self.conn.execute(
                    "INSERT INTO direct_fts (direct_fts) VALUES ('optimize')",
                    [],
                )?;
            }
        }
        Ok(())
    }
}

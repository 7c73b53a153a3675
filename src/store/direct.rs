//! Direct messages on disk: ours pending until acknowledged, theirs deduplicated by id, each
//! conversation in (sent, id) order (the order both sides show), searchable with FTS5.

use rusqlite::{OptionalExtension, params};

use super::search::fts_query;
use super::{Store, StoreError};
use crate::proto::direct::{
    Conversation, DirectMessage, DmState, SealedDirect, about_in_envelope, file_in_envelope,
};
use crate::proto::{EndpointId, MessageId, UnixMillis};

/// Our messages one peer may have waiting at most: a peer offline for long must not make the
/// queue (and every retry) grow without bound.
pub const MAX_PENDING_PER_PEER: usize = 1000;
/// Our messages waiting for delivery at most, to all peers together.
pub const MAX_PENDING_TOTAL: usize = 10_000;
/// Lines one conversation keeps at most; past it the oldest delivered or received go first
/// (a member writing at its rate limit for months must not fill the disk).
pub const MAX_CONVERSATION_LINES: usize = 50_000;
/// Most messages one page, search or retry load returns.
pub const MAX_DIRECT_PAGE: usize = 10_000;

/// What happened to a received direct message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// Saved now: show it.
    New,
    /// Saved before: acknowledge it again, never show it twice.
    Duplicate,
    /// From a key we share no room or conversation with: dropped.
    Stranger,
}

/// Why our own message was not queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("{max} messages to {} are already waiting for delivery", .peer.fmt_short())]
    PendingFull { peer: EndpointId, max: usize },
    #[error("{max} direct messages are already waiting for delivery")]
    PendingTotal { max: usize },
    #[error("{0}")]
    Change(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const SELECT: &str = "SELECT d.id, d.sender, d.recipient, d.name, d.text, d.action, d.sent, d.state, d.envelope FROM direct d";

fn key(bytes: Vec<u8>) -> rusqlite::Result<EndpointId> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| rusqlite::Error::InvalidQuery)?;
    EndpointId::from_bytes(&bytes).map_err(|_| rusqlite::Error::InvalidQuery)
}

fn sealed(row: &rusqlite::Row<'_>) -> rusqlite::Result<SealedDirect> {
    let id: Vec<u8> = row.get(0)?;
    let bad = || rusqlite::Error::InvalidQuery;
    let envelope: Vec<u8> = row.get(8)?;
    let message = DirectMessage {
        id: MessageId::from_bytes(id.try_into().map_err(|_| bad())?),
        from: key(row.get(1)?)?,
        to: key(row.get(2)?)?,
        name: row.get(3)?,
        text: row.get(4)?,
        action: row.get(5)?,
        // The envelope says it: no column of its own (it is signed there anyway).
        file: file_in_envelope(&envelope),
        sent: UnixMillis(row.get::<_, i64>(6)? as u64),
        state: DmState::from_code(row.get(7)?).ok_or_else(bad)?,
        reply_to: None,
        change: None,
    };
    // A reply or a change says so in its envelope too.
    let (reply_to, change) = about_in_envelope(&envelope);
    let message = DirectMessage {
        reply_to,
        change,
        ..message
    };
    Ok(SealedDirect { message, envelope })
}

fn message(row: &rusqlite::Row<'_>) -> rusqlite::Result<DirectMessage> {
    sealed(row).map(|s| s.message)
}

impl Store {
    fn insert_direct(
        &self,
        sealed: &SealedDirect,
        peer: EndpointId,
        now: UnixMillis,
    ) -> Result<bool, StoreError> {
        let m = &sealed.message;
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO direct
                 (id, peer, sender, recipient, name, text, action, sent, received, state, envelope,
                  change_to)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                m.id.as_bytes(),
                peer.as_bytes(),
                m.from.as_bytes(),
                m.to.as_bytes(),
                m.name,
                m.text,
                m.action,
                m.sent.0 as i64,
                now.0 as i64,
                m.state.code(),
                &sealed.envelope[..],
                m.change.as_ref().map(|c| c.to.as_bytes().to_vec()),
            ])?;
        Ok(inserted > 0)
    }

    /// How many of our messages to `peer` wait for delivery.
    pub fn pending_direct_count(&self, peer: EndpointId) -> Result<usize, StoreError> {
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM direct WHERE peer = ?1 AND state = 0",
            [peer.as_bytes()],
            |row| row.get(0),
        )?;
        Ok(count as usize)
    }

    /// Queue our own message (state pending) unless `peer` has too many waiting.
    pub fn queue_direct(&self, sealed: &SealedDirect, now: UnixMillis) -> Result<(), QueueError> {
        let peer = sealed.message.to;
        if self.pending_direct_count(peer)? >= MAX_PENDING_PER_PEER {
            return Err(QueueError::PendingFull {
                peer,
                max: MAX_PENDING_PER_PEER,
            });
        }
        let total: i64 = self
            .conn
            .query_row("SELECT count(*) FROM direct WHERE state = 0", [], |row| {
                row.get(0)
            })
            .map_err(StoreError::from)?;
        if total as usize >= MAX_PENDING_TOTAL {
            return Err(QueueError::PendingTotal {
                max: MAX_PENDING_TOTAL,
            });
        }
        if let Some(why) = self.direct_change_refused(peer, &sealed.message)? {
            return Err(QueueError::Change(why));
        }
        if self.insert_direct(sealed, peer, now)? {
            self.apply_direct_change(&sealed.message)?;
        }
        Ok(())
    }

    /// The addressee acknowledged our message; whether it was still pending.
    pub fn mark_direct_delivered(&self, id: MessageId) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE direct SET state = 1 WHERE id = ?1 AND state = 0",
            [id.as_bytes()],
        )?;
        Ok(changed > 0)
    }

    /// Keep a verified message from its sender. `known`: the session already knows the sender
    /// may write (it shares a live room with us); otherwise the store decides.
    pub fn receive_direct(
        &self,
        sealed: &SealedDirect,
        known: bool,
        now: UnixMillis,
    ) -> Result<Receipt, StoreError> {
        let from = sealed.message.from;
        let seen: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 FROM direct WHERE id = ?1",
                [sealed.message.id.as_bytes()],
                |row| row.get(0),
            )
            .optional()?;
        if seen.is_some() {
            return Ok(Receipt::Duplicate);
        }
        if !known && !self.direct_allowed(from)? {
            return Ok(Receipt::Stranger);
        }
        // A change its sender may not make (or to a message not in the conversation) is
        // acknowledged and dropped, never shown.
        if self.direct_change_refused(from, &sealed.message)?.is_some() {
            return Ok(Receipt::Duplicate);
        }
        Ok(if self.insert_direct(sealed, from, now)? {
            self.apply_direct_change(&sealed.message)?;
            self.trim_conversation(from, MAX_CONVERSATION_LINES)?;
            Receipt::New
        } else {
            Receipt::Duplicate
        })
    }

    /// Keep at most `max` lines with `peer`: the oldest that are not waiting for delivery go
    /// (a hundredth more than needed, so this runs once per many lines).
    pub(super) fn trim_conversation(&self, peer: EndpointId, max: usize) -> Result<(), StoreError> {
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM direct WHERE peer = ?1",
            [peer.as_bytes()],
            |row| row.get(0),
        )?;
        let over = (count.max(0) as usize).saturating_sub(max);
        if over > 0 {
            self.conn.execute(
                "DELETE FROM direct WHERE rowid IN (SELECT rowid FROM direct
                 WHERE peer = ?1 AND state <> 0 ORDER BY sent, id LIMIT ?2)",
                params![peer.as_bytes(), (over + max / 100) as i64],
            )?;
        }
        Ok(())
    }

    /// Whether `key` may message us: it is a member or an author in a room we keep, or we
    /// have a conversation with it. Each test is an index lookup per room (rooms are few).
    pub fn direct_allowed(&self, key: EndpointId) -> Result<bool, StoreError> {
        let found: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 WHERE
                    EXISTS (SELECT 1 FROM rooms r JOIN members m ON m.topic = r.topic AND m.id = ?1)
                 OR EXISTS (SELECT 1 FROM rooms r JOIN messages m ON m.topic = r.topic AND m.author = ?1)
                 OR EXISTS (SELECT 1 FROM direct WHERE peer = ?1)",
                [key.as_bytes()],
                |row| row.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    /// The peers we wrote to (ours are the pending and delivered messages), at most
    /// [`crate::net::known::MAX_KNOWN`].
    pub fn direct_written_to(&self) -> Result<Vec<EndpointId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT peer FROM direct WHERE state < 2 LIMIT ?1")?;
        let limit = crate::net::known::MAX_KNOWN as i64;
        let rows = stmt.query_map([limit], |row| key(row.get(0)?))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Our messages waiting for delivery, per peer in (sent, id) order.
    pub fn pending_direct(&self) -> Result<Vec<SealedDirect>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT} WHERE d.state = 0 AND d.deleted = 0 ORDER BY d.peer, d.sent, d.id LIMIT ?1"
        ))?;
        let rows = stmt.query_map([MAX_DIRECT_PAGE as i64], sealed)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest `limit` messages with `peer`, oldest first.
    pub fn direct_page(
        &self,
        peer: EndpointId,
        limit: usize,
    ) -> Result<Vec<DirectMessage>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT} WHERE d.peer = ?1 AND d.deleted = 0
             ORDER BY d.sent DESC, d.id DESC LIMIT ?2"
        ))?;
        let limit = limit.min(MAX_DIRECT_PAGE) as i64;
        let rows = stmt.query_map(params![peer.as_bytes(), limit], message)?;
        let mut page: Vec<DirectMessage> = rows.collect::<Result<_, _>>()?;
        page.reverse();
        Ok(page)
    }

    /// Every conversation, the most recent first.
    pub fn direct_conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT d.peer, max(d.sent),
                    sum(d.state = 0),
                    (SELECT t.name FROM direct t WHERE t.peer = d.peer AND t.sender = d.peer
                     ORDER BY t.sent DESC, t.id DESC LIMIT 1)
             FROM direct d GROUP BY d.peer ORDER BY max(d.sent) DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([MAX_DIRECT_PAGE as i64], |row| {
            Ok(Conversation {
                peer: key(row.get(0)?)?,
                last: UnixMillis(row.get::<_, i64>(1)? as u64),
                pending: row.get::<_, i64>(2)? as usize,
                name: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Messages with every term of `words` (see [`super::search`]; with `peer`, or in any
    /// conversation), newest first.
    pub fn search_direct(
        &self,
        peer: Option<EndpointId>,
        words: &str,
        limit: usize,
    ) -> Result<Vec<DirectMessage>, StoreError> {
        let query = fts_query(words);
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT} JOIN direct_fts f ON f.rowid = d.rowid
             WHERE direct_fts MATCH ?1 AND (?2 IS NULL OR d.peer = ?2)
               AND d.change_to IS NULL AND d.deleted = 0
             ORDER BY d.sent DESC, d.id DESC LIMIT ?3"
        ))?;
        let peer = peer.map(|p| p.as_bytes().to_vec());
        let limit = limit.min(MAX_DIRECT_PAGE) as i64;
        let rows = stmt.query_map(params![query, peer, limit], message)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
#[path = "direct_tests.rs"]
mod tests;

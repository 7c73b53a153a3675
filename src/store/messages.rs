//! Messages: kept with their signed envelopes, deduplicated by id, searchable with FTS5.

use rusqlite::params;

use super::{Store, StoreError};
use crate::model::StoredMessage;
use crate::proto::MAX_KNOWN_KEYS;
use crate::proto::backlog::{Envelope, HistoryWindow, Page};
use crate::proto::room::Record;
use crate::proto::{EndpointId, MessageId, TopicId, UnixMillis};

fn stored(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredMessage> {
    let id: Vec<u8> = row.get(0)?;
    let author: Vec<u8> = row.get(1)?;
    let bad = || rusqlite::Error::InvalidQuery;
    let author: [u8; 32] = author.try_into().map_err(|_| bad())?;
    Ok(StoredMessage {
        id: MessageId::from_bytes(id.try_into().map_err(|_| bad())?),
        author: EndpointId::from_bytes(&author).map_err(|_| bad())?,
        name: row.get(2)?,
        display: row.get(2)?,
        text: row.get(3)?,
        action: row.get(4)?,
        sent: UnixMillis(row.get::<_, i64>(5)? as u64),
        reply_to: row
            .get::<_, Option<Vec<u8>>>(6)?
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(MessageId::from_bytes),
        edited: row.get(7)?,
        deleted: row.get(8)?,
        reactions: Vec::new(),
    })
}

const INSERT_MESSAGE: &str = "INSERT OR IGNORE INTO messages
    (id, topic, author, name, text, action, sent, received, envelope, reply_to, change_to,
     change_kind, emoji)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/// The setting that records the last message row in the full-text index.
pub(super) const FTS_INDEXED: &str = "fts_indexed_rowid";
/// Rows indexed in one transaction.
pub const INDEX_CHUNK: usize = 5000;

const SELECT: &str = "SELECT m.id, m.author, m.name, m.text, m.action, m.sent, m.reply_to,
    m.edited, m.deleted FROM messages m";

impl Store {
    /// Keep what the room asked to keep. Returns whether it was new.
    pub fn save(
        &self,
        topic: TopicId,
        record: &Record,
        now: UnixMillis,
    ) -> Result<bool, StoreError> {
        match record {
            Record::Message(line) => {
                let (change_to, kind, emoji) = super::changes::columns(line);
                let inserted = self.conn.prepare_cached(INSERT_MESSAGE)?.execute(params![
                    line.id.as_bytes(),
                    topic.as_bytes(),
                    line.author.id.as_bytes(),
                    line.author.name,
                    line.text,
                    line.action,
                    line.sent.0 as i64,
                    now.0 as i64,
                    &line.envelope[..],
                    line.reply_to.as_ref().map(|id| id.as_bytes().to_vec()),
                    change_to,
                    kind,
                    emoji,
                ])?;
                if inserted > 0 && line.change.is_some() {
                    self.apply_change(line)?;
                }
                if inserted > 0 {
                    let bytes = super::retention::line_bytes(&line.envelope, &line.text);
                    self.count_line(topic, bytes)?;
                }
                Ok(inserted > 0)
            }
            Record::Name {
                id,
                name,
                sent,
                envelope,
            } => {
                self.save_member(topic, *id, name, *sent, envelope, now)?;
                Ok(true)
            }
            Record::Pin { key, id } => self.save_pin(topic, key, *id, now),
            Record::RoomName(named) => self.save_room_name(topic, named),
            Record::Ignore { id, name, ignored } => {
                self.save_ignored(topic, *id, name, *ignored, now)
            }
        }
    }

    /// Keep many records in one transaction (the store thread's group commit): all or none.
    pub fn save_all<'a>(
        &self,
        records: impl Iterator<Item = (TopicId, &'a Record, UnixMillis)>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        for (topic, record, now) in records {
            self.save(topic, record, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The envelopes to restore a room from at start: every member's `AboutMe`, the room's
    /// name, then the newest messages inside `window`, oldest first.
    pub fn history_envelopes(
        &self,
        topic: TopicId,
        window: HistoryWindow,
        now: UnixMillis,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        // The members seen last, as many as a room remembers (fake keys cost nothing), in the
        // order they named themselves: a name first met on disk is pinned to whoever had it
        // first, not to whoever used it last.
        let mut names = self.conn.prepare(
            "SELECT envelope FROM (
                SELECT envelope, named_at FROM members WHERE topic = ?1
                ORDER BY last_seen DESC LIMIT ?2
             ) ORDER BY named_at",
        )?;
        let most = MAX_KNOWN_KEYS as i64;
        let mut out: Vec<Vec<u8>> = names
            .query_map(params![topic.as_bytes(), most], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        out.extend(self.room_name_envelope(topic)?);
        let mut messages = self.conn.prepare(
            "SELECT envelope FROM (
                SELECT envelope, sent, id FROM messages WHERE topic = ?1 AND sent >= ?2 AND deleted = 0
                ORDER BY sent DESC, id DESC LIMIT ?3
             ) ORDER BY sent, id",
        )?;
        let oldest = window.oldest(now).0 as i64;
        let limit = window.max_messages as i64;
        let rows =
            messages.query_map(params![topic.as_bytes(), oldest, limit], |row| row.get(0))?;
        for row in rows {
            out.push(row?);
        }
        Ok(out)
    }

    /// A catch-up answer served from disk (it reaches further back than the room's memory):
    /// the authors' `AboutMe` envelopes, then at most `limit` messages sent at or after
    /// `since`, the newest or the oldest as `page` says, oldest first. Messages the room
    /// holds in memory but not yet on disk (`recent`, names first as the room answers) are
    /// added when the page has room, each once, never past `limit` (askers refuse an answer
    /// with more messages than they asked for): the newest of them for [`Page::Newest`], the
    /// oldest for [`Page::Oldest`].
    pub fn history_page(
        &self,
        topic: TopicId,
        since: UnixMillis,
        limit: usize,
        page: Page,
        recent: Vec<Envelope>,
    ) -> Result<Vec<Envelope>, StoreError> {
        let (mut answer, messages) = self.stored_page(topic, since, limit, page)?;
        if messages < limit {
            let have: std::collections::HashSet<MessageId> =
                answer.iter().map(|e| MessageId::of(e)).collect();
            let missing: Vec<Envelope> = recent
                .into_iter()
                .filter(|e| !have.contains(&MessageId::of(e)))
                .collect();
            // What the disk lacks is the newest, at the end of `recent`. A newcomer's page
            // takes the newest of it; a page through a gap the oldest, right after the disk's
            // newest, so that the next page (from this one's newest) skips nothing.
            let room = (limit - messages).min(missing.len());
            let taken = match page {
                Page::Newest => &missing[missing.len() - room..],
                Page::Oldest => &missing[..room],
            };
            answer.extend_from_slice(taken);
        }
        Ok(answer)
    }

    /// [`Self::history_page`] from disk alone; also says how many messages it holds.
    fn stored_page(
        &self,
        topic: TopicId,
        since: UnixMillis,
        limit: usize,
        page: Page,
    ) -> Result<(Vec<Envelope>, usize), StoreError> {
        let sql = match page {
            Page::Oldest => {
                "SELECT envelope, author FROM messages WHERE topic = ?1 AND sent >= ?2 AND deleted = 0
                 ORDER BY sent, id LIMIT ?3"
            }
            Page::Newest => {
                "SELECT envelope, author FROM (
                    SELECT envelope, author, sent, id FROM messages WHERE topic = ?1 AND sent >= ?2 AND deleted = 0
                    ORDER BY sent DESC, id DESC LIMIT ?3
                 ) ORDER BY sent, id"
            }
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(
            // Out of range is "nothing", never a wrap to a negative time (everything).
            params![
                topic.as_bytes(),
                i64::try_from(since.0).unwrap_or(i64::MAX),
                limit as i64
            ],
            |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?)),
        )?;
        let mut messages = Vec::new();
        let mut authors = std::collections::BTreeSet::new();
        for row in rows {
            let (envelope, author) = row?;
            authors.insert(author);
            messages.push(std::sync::Arc::from(envelope));
        }
        let mut names = self
            .conn
            .prepare_cached("SELECT envelope FROM members WHERE topic = ?1 AND id = ?2")?;
        let mut out = Vec::with_capacity(authors.len() + messages.len());
        for author in authors {
            let name: Option<Vec<u8>> = names
                .query_row(params![topic.as_bytes(), author], |row| row.get(0))
                .ok();
            out.extend(name.map(std::sync::Arc::from));
        }
        let count = messages.len();
        out.extend(messages);
        Ok((out, count))
    }

    /// Add messages saved since the last call to the full-text index, at most `limit` of
    /// them, in one transaction; returns how many were indexed.
    pub fn index_pending(&self, limit: usize) -> Result<usize, StoreError> {
        let last: i64 = self
            .setting(FTS_INDEXED)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let newest: Option<i64> = self.conn.query_row(
            "SELECT max(rowid) FROM (SELECT rowid FROM messages WHERE rowid > ?1 ORDER BY rowid LIMIT ?2)",
            params![last, limit as i64],
            |row| row.get(0),
        )?;
        let Some(newest) = newest else {
            return Ok(0);
        };
        let tx = self.conn.unchecked_transaction()?;
        let count = self.conn.execute(
            "INSERT INTO messages_fts (rowid, text)
             SELECT rowid, text FROM messages WHERE rowid > ?1 AND rowid <= ?2
               AND change_kind IS NULL AND deleted = 0",
            params![last, newest],
        )?;
        self.set_setting(FTS_INDEXED, &newest.to_string())?;
        tx.commit()?;
        Ok(count)
    }

    /// Messages with every term of `words` (see [`super::search`]), newest first.
    pub fn search(
        &self,
        topic: TopicId,
        words: &str,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let query = super::search::fts_query(words);
        if query.is_empty() {
            return Ok(Vec::new());
        }
        // Whatever is not indexed yet is found too.
        while self.index_pending(INDEX_CHUNK)? > 0 {}
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT} JOIN messages_fts f ON f.rowid = m.rowid
             WHERE m.topic = ?1 AND messages_fts MATCH ?2 AND m.change_kind IS NULL
               AND m.deleted = 0
               AND m.author NOT IN (SELECT id FROM ignored WHERE topic = ?1)
             ORDER BY m.sent DESC, m.id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![topic.as_bytes(), query, limit as i64], stored)?;
        let mut found: Vec<StoredMessage> = rows.collect::<Result<_, _>>()?;
        // Names are told apart as they were met: oldest first.
        found.reverse();
        self.show_names(topic, &mut found)?;
        found.reverse();
        Ok(found)
    }

    /// Every message of the room, oldest first.
    pub fn export(&self, topic: TopicId) -> Result<Vec<StoredMessage>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT} WHERE m.topic = ?1 AND m.change_kind IS NULL ORDER BY m.sent, m.id"
        ))?;
        let rows = stmt.query_map([topic.as_bytes()], stored)?;
        let mut all: Vec<StoredMessage> = rows.collect::<Result<_, _>>()?;
        self.show_names(topic, &mut all)?;
        let mut reactions = self.reactions(topic)?;
        for m in &mut all {
            m.reactions = reactions.remove(&m.id).unwrap_or_default();
        }
        Ok(all)
    }

    /// How many messages the room has (for tests and `parlor rooms`).
    pub fn message_count(&self, topic: TopicId) -> Result<u64, StoreError> {
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM messages WHERE topic = ?1",
            [topic.as_bytes()],
            |row| row.get(0),
        )?;
        Ok(count as u64)
    }
}

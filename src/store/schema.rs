//! The database schema and its migrations. `PRAGMA user_version` records how many migrations
//! ran; each runs once, in its own transaction, in order. Never edit a released migration: add
//! one.

use rusqlite::Connection;

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: rooms, members, messages with full-text search, settings.
    r#"
    CREATE TABLE rooms (
        topic       BLOB PRIMARY KEY,          -- 32-byte gossip topic
        label       TEXT UNIQUE,               -- the user's name for the room, optional
        peers       TEXT NOT NULL DEFAULT '',  -- a ticket listing the last known peers
        my_name     TEXT,                      -- the name last used in this room
        created_at  INTEGER NOT NULL,          -- unix ms
        last_active INTEGER NOT NULL           -- unix ms
    );
    CREATE TABLE members (
        topic     BLOB NOT NULL,
        id        BLOB NOT NULL,               -- endpoint id (32-byte key)
        name      TEXT NOT NULL,               -- last name claimed
        named_at  INTEGER NOT NULL,            -- send time of that AboutMe, unix ms
        last_seen INTEGER NOT NULL,            -- unix ms, our clock
        envelope  BLOB NOT NULL,               -- the signed AboutMe
        PRIMARY KEY (topic, id)
    );
    CREATE TABLE messages (
        id        BLOB NOT NULL UNIQUE,        -- blake3 of the envelope
        topic     BLOB NOT NULL,
        author    BLOB NOT NULL,
        name      TEXT NOT NULL,               -- the author's name when we got it
        text      TEXT NOT NULL,
        action    INTEGER NOT NULL DEFAULT 0,  -- a /me line
        sent      INTEGER NOT NULL,            -- author's clock, unix ms
        received  INTEGER NOT NULL,            -- our clock, unix ms
        envelope  BLOB NOT NULL                -- the signed envelope as received
    );
    CREATE INDEX messages_by_time ON messages (topic, sent, id);
    CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content = 'messages', content_rowid = 'rowid');
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    END;
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: full-text indexing in batches (`Store::index_pending`), off the path of a message to
    // the screen: an index insert per message wrote a new FTS segment in every transaction.
    // Rows up to `fts_indexed_rowid` are indexed; only those may be deleted from the index.
    r#"
    DROP TRIGGER messages_fts_insert;
    DROP TRIGGER messages_fts_delete;
    INSERT OR REPLACE INTO settings (key, value)
        VALUES ('fts_indexed_rowid', (SELECT coalesce(max(rowid), 0) FROM messages));
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
    WHEN old.rowid <= (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'fts_indexed_rowid')
    BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    END;
    "#,
    // 3: per room, which key owns each name (the first seen with it: look-alikes are shown
    // with a fingerprint) and which keys the user ignores.
    r#"
    CREATE TABLE name_pins (
        topic     BLOB NOT NULL,
        name_key  TEXT NOT NULL,               -- confusable skeleton of the name
        id        BLOB NOT NULL,               -- the key that owns it
        pinned_at INTEGER NOT NULL,            -- unix ms, our clock
        PRIMARY KEY (topic, name_key)
    );
    CREATE TABLE ignored (
        topic     BLOB NOT NULL,
        id        BLOB NOT NULL,
        name      TEXT NOT NULL,               -- the name it had when ignored
        since     INTEGER NOT NULL,            -- unix ms
        PRIMARY KEY (topic, id)
    );
    -- Which members wrote lines: those are kept when the members table is pruned.
    CREATE INDEX messages_by_author ON messages (topic, author);
    "#,
    // 4: direct messages, ours (pending until the addressee acknowledges them, then
    // delivered) and theirs (received), with their signed envelopes. `peer` is the other side,
    // so a conversation is one index range in (sent, id) order, the order both sides show.
    // DMs are few: the full-text index is kept by triggers, not in batches as for rooms.
    r#"
    CREATE TABLE direct (
        id        BLOB NOT NULL UNIQUE,        -- blake3 of the envelope
        peer      BLOB NOT NULL,               -- the other side of the conversation
        sender    BLOB NOT NULL,
        recipient BLOB NOT NULL,
        name      TEXT NOT NULL,               -- the sender's claimed name, cleaned
        text      TEXT NOT NULL,
        action    INTEGER NOT NULL DEFAULT 0,  -- a /me line
        sent      INTEGER NOT NULL,            -- sender's clock, unix ms
        received  INTEGER NOT NULL,            -- our clock, unix ms (when saved)
        state     INTEGER NOT NULL,            -- 0 pending, 1 delivered, 2 received
        envelope  BLOB NOT NULL
    );
    CREATE INDEX direct_by_peer ON direct (peer, sent, id);
    CREATE INDEX direct_pending ON direct (peer, sent, id) WHERE state = 0;
    CREATE VIRTUAL TABLE direct_fts USING fts5 (text, content = 'direct', content_rowid = 'rowid');
    CREATE TRIGGER direct_fts_insert AFTER INSERT ON direct BEGIN
        INSERT INTO direct_fts (rowid, text) VALUES (new.rowid, new.text);
    END;
    CREATE TRIGGER direct_fts_delete AFTER DELETE ON direct BEGIN
        INSERT INTO direct_fts (direct_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    END;
    "#,
    // 5: the room's name everyone sees (`/topic`), with the signed `RoomInfo` that set it:
    // shown by `parlor rooms`, restored into the room at start and served to late joiners.
    r#"
    ALTER TABLE rooms ADD COLUMN room_name TEXT;
    ALTER TABLE rooms ADD COLUMN room_name_sent INTEGER;     -- its author's clock, unix ms
    ALTER TABLE rooms ADD COLUMN room_name_envelope BLOB;
    "#,
    // 6: private rooms (issue 23): each room's signed operations as one checked log, and the
    // keys of its epochs we were given (secrets: the database is the user's alone, 0600).
    r#"
    CREATE TABLE private_rooms (
        room    BLOB PRIMARY KEY,              -- the room's stable id (32 bytes)
        log     BLOB NOT NULL,                 -- its signed operations (proto::state::OpLog)
        updated INTEGER NOT NULL               -- unix ms, our clock
    );
    CREATE TABLE epoch_keys (
        room  BLOB NOT NULL,
        epoch INTEGER NOT NULL,
        key   BLOB NOT NULL,                   -- 32 bytes
        PRIMARY KEY (room, epoch)
    );
    "#,
    // 7: replies and changes to lines (issue 24). A change is kept as a row of its own (its
    // envelope is served to late joiners like a line's) naming the line it is about; an edit
    // rewrites that line's text, a delete wipes it (text and envelope) and leaves the row as
    // a tombstone.
    r#"
    ALTER TABLE messages ADD COLUMN reply_to BLOB;
    ALTER TABLE messages ADD COLUMN change_to BLOB;
    ALTER TABLE messages ADD COLUMN change_kind TEXT;         -- react, unreact, edit, delete
    ALTER TABLE messages ADD COLUMN emoji TEXT;
    ALTER TABLE messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX messages_by_change ON messages (change_to) WHERE change_to IS NOT NULL;
    ALTER TABLE direct ADD COLUMN change_to BLOB;             -- the same for direct messages
    ALTER TABLE direct ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE direct ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX direct_by_change ON direct (change_to) WHERE change_to IS NOT NULL;
    "#,
];

/// The schema version this build writes.
pub const VERSION: usize = MIGRATIONS.len();

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("the database is from a newer parlor (schema {found}, this one knows {VERSION})")]
    TooNew { found: usize },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// Bring the database up to [`VERSION`]; returns the version it started at.
pub fn migrate(conn: &mut Connection) -> Result<usize, MigrationError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let found = usize::try_from(found).unwrap_or(usize::MAX);
    if found > VERSION {
        return Err(MigrationError::TooNew { found });
    }
    if found == VERSION {
        return Ok(found);
    }
    // One transaction for all of them: a new data directory's schema is one commit (one
    // sync) instead of one per migration, a few milliseconds off a new member's start; and
    // a failure leaves the version it started at.
    let tx = conn.transaction()?;
    for sql in &MIGRATIONS[found..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", VERSION as i64)?;
    tx.commit()?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_an_empty_database_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        assert_eq!(migrate(&mut conn).unwrap(), VERSION);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('rooms', 'members', 'messages', 'settings')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 4);
    }

    #[test]
    fn version_5_gives_known_rooms_a_name_and_keeps_them() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        conn.execute(
            "INSERT INTO rooms (topic, label, peers, my_name, created_at, last_active)
             VALUES (x'01', 'ops', '', 'ann', 1, 2)",
            [],
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 4);
        let row: (String, Option<String>, Option<Vec<u8>>) = conn
            .query_row(
                "SELECT label, room_name, room_name_envelope FROM rooms",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(row, ("ops".into(), None, None), "no name until one is set");
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(MigrationError::TooNew { found: 99 })
        ));
    }
}

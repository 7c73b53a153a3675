//! The only code that touches disk: the data directory, the identity key, the SQLite database
//! of rooms, members and messages, and the terminal UI's log file.
//!
//! A chat's store runs on its own thread ([`StoreThread`]): the network thread never waits on
//! the disk, and received messages are group-committed.
//!
//! Writes are transactions in WAL mode with `synchronous = NORMAL`: a committed
//! message survives the process being killed at any moment (only a power cut could lose the
//! last ones), and writing never waits for a disk flush.

mod changes;
mod direct;
mod direct_changes;
pub(crate) mod downloads;
mod empty_database;
mod housekeeping;
mod identity;
pub(crate) mod journal;
mod json_file;
mod messages;
mod moderation;
mod paths;
mod priority;
pub mod private;
pub(crate) mod read_positions;
pub(crate) mod recall;
pub(crate) mod retention;
mod rooms;
mod schema;
pub(crate) mod search;
mod wake;
mod writer;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

pub use crate::model::StoredMessage;
pub use direct::{MAX_PENDING_PER_PEER, MAX_PENDING_TOTAL, QueueError, Receipt};
pub use identity::InstanceLock;
pub use paths::{blobs_dir, check_owned, default_data_dir, log_path, open_log};
pub use rooms::{FindError, RoomRecord, RoomSummary};
pub use wake::{DeferWakeups, defer_store_wakeups, wake_store_thread};
pub use writer::{CommitSender, Committed, StoreGone, StoreHandle, StoreThread};

use crate::proto::SecretKey;

pub const DATABASE_FILE: &str = "parlor.db";

/// Why the store cannot be used. Each renders as one line for the user.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("another parlor is already using {} (one process per data directory: pass --data-dir DIR or --ephemeral for a second one)", .0.display())]
    InUse(PathBuf),
    #[error("the identity key {} is damaged; move it away to start over with a new identity", .0.display())]
    DamagedKey(PathBuf),
    /// The data directory is not one parlor can use, for a reason its user must fix: one
    /// line such as "data directory /x is not a directory".
    #[error("data directory {} {problem}", .path.display())]
    DataDir { path: PathBuf, problem: String },
    #[error("cannot use {}: {err}", .path.display())]
    Io { path: PathBuf, err: std::io::Error },
    #[error("cannot open the database {}: {reason} (if it is damaged, move it away; --ephemeral runs without it)", .path.display())]
    Open { path: PathBuf, reason: String },
    #[error("the label {0:?} is another room's (#{1}); choose another")]
    LabelTaken(String, String),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

pub struct Store {
    conn: Connection,
    dir: PathBuf,
    _lock: Option<InstanceLock>,
    /// History bounded in bytes per room (see [`retention`]).
    retention: std::cell::RefCell<retention::Retention>,
    /// Our own lines between two commits (see [`journal`]); `None` without a data directory,
    /// in a reader, or once the file failed.
    journal: std::cell::RefCell<Option<journal::Journal>>,
}

impl Store {
    /// Open (or create) the data directory `dir`: take the instance lock, open and migrate the
    /// database.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_dir(dir).map_err(|err| paths::in_data_dir(dir, err))
    }

    fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        if paths::check_data_dir(dir)? {
            paths::check_data_file(dir, DATABASE_FILE)?;
        }
        paths::create_private_dir(dir).map_err(|err| StoreError::Io {
            path: dir.to_path_buf(),
            err,
        })?;
        let lock = identity::lock(dir)?;
        let path = dir.join(DATABASE_FILE);
        // SQLite gives the -wal and -shm files the database file's mode: create it private
        // (and close databases that an older parlor left open to others).
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        paths::private(&mut options);
        let io = |err| StoreError::Io {
            path: path.clone(),
            err,
        };
        let mut file = options.open(&path).map_err(io)?;
        // A new data directory: its database is written whole, not made (see the module).
        if file.metadata().is_ok_and(|meta| meta.len() == 0) {
            empty_database::write(&mut file).map_err(io)?;
        }
        drop(file);
        for file in [DATABASE_FILE, "parlor.db-wal", "parlor.db-shm"] {
            paths::restrict(&dir.join(file), 0o600);
        }
        let conn = open_database(&path).map_err(|reason| StoreError::Open { path, reason })?;
        // The store thread checkpoints when idle (see `writer`), not in the middle of a commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        paths::check_data_file(dir, journal::JOURNAL_FILE)?;
        let mut journal = journal::Journal::open(dir)?;
        let store = Self {
            conn,
            dir: dir.to_path_buf(),
            _lock: Some(lock),
            retention: Default::default(),
            journal: Default::default(),
        };
        store.replay_journal(&mut journal)?;
        *store.journal.borrow_mut() = Some(journal);
        Ok(store)
    }

    /// Open the database to read it (`parlor rooms`, `parlor export`) while a chat may be
    /// running in the same directory: no instance lock, no identity. `None` if there is no
    /// database yet; a data directory that cannot be read is an error, not "nothing yet".
    pub fn open_reader(dir: &Path) -> Result<Option<Self>, StoreError> {
        if !paths::check_data_dir(dir)? || !paths::check_data_file(dir, DATABASE_FILE)? {
            return Ok(None);
        }
        let path = dir.join(DATABASE_FILE);
        let conn = open_database(&path).map_err(|reason| StoreError::Open { path, reason })?;
        let store = Self {
            conn,
            dir: dir.to_path_buf(),
            _lock: None,
            retention: Default::default(),
            journal: Default::default(),
        };
        store.replay_journal_if_idle()?;
        Ok(Some(store))
    }

    /// A database in memory, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        schema::migrate(&mut conn).map_err(|e| StoreError::Open {
            path: PathBuf::from(":memory:"),
            reason: e.to_string(),
        })?;
        Ok(Self {
            conn,
            dir: PathBuf::new(),
            _lock: None,
            retention: Default::default(),
            journal: Default::default(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The endpoint's persistent secret key (created on first use).
    pub fn secret_key(&self) -> Result<SecretKey, StoreError> {
        identity::load_or_create_key(&self.dir)
    }

    /// Copy the write-ahead log into the database file (without waiting for readers).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub fn setting(&self, key: &str) -> Option<String> {
        self.conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .ok()
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

/// Open, check and migrate; every failure as one line of text.
fn open_database(path: &Path) -> Result<Connection, String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| e.to_string())?;
    conn.busy_timeout(std::time::Duration::from_secs(2))
        .map_err(|e| e.to_string())?;
    // Reading the schema version fails at once on a file that is not a database.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| e.to_string())?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| e.to_string())?;
    // A checkpoint under load leaves the write-ahead log as long as it grew (thousands of
    // commits): cut it back to this after each.
    conn.pragma_update(None, "journal_size_limit", 8 << 20)
        .map_err(|e| e.to_string())?;
    // A chat's working set is small (recent pages of two tables): a 512 KiB page cache
    // instead of SQLite's 2 MiB keeps each process lean.
    conn.pragma_update(None, "cache_size", -512)
        .map_err(|e| e.to_string())?;
    // A deleted line's text leaves the file: freed space is overwritten with zeros.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(|e| e.to_string())?;
    // No integrity check of the whole file here: it reads every page at every start (slow
    // with a long history, and it keeps SQLite's checking code resident). A file that is not
    // a database fails just above; damage inside one is reported by the query that meets it.
    schema::migrate(&mut conn).map_err(|e| e.to_string())?;
    Ok(conn)
}

#[cfg(test)]
mod changes_tests;
#[cfg(test)]
pub(crate) mod tests;

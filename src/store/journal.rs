//! Our own lines' journal: an append-only file beside the database, so that a line we wrote is
//! on disk (and may be shown) after one `write`, and reaches the database with the next group
//! commit rather than in a transaction of its own.
//!
//! Why: a commit of one line writes every page it touches (the table, three indexes) to the
//! write-ahead log, with their checksums and SQLite's file locks: at 200 lines a second that
//! was a third of the sender's CPU, against one `write` of a few hundred bytes here. The
//! promise stays the same: a line shown as sent survives `kill -9` (it is in the journal or in
//! the database, and the next start moves what the journal holds into the database).
//!
//! The file: entries one after another, each `[u32 length][8 bytes of blake3][postcard]`;
//! a length of zero (or a damaged entry, a write torn by a power cut) ends it. Once what it
//! holds is committed the bytes written are overwritten with zeros (a deleted line's text
//! must leave the disk, as `secure_delete` does for the database) and writing starts again
//! at the beginning, so the file never grows past [`MAX_JOURNAL_BYTES`] and a few pages.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Store, StoreError, paths};
use crate::proto::room::{ChangeKind, ChatLine, LineChange, Record};
use crate::proto::{EndpointId, MemberInfo, MessageId, TopicId, UnixMillis};

pub const JOURNAL_FILE: &str = "parlor.journal";
/// Past this many bytes the lines go to the database at once (the journal is a few lines
/// between two commits, not a second history).
pub const MAX_JOURNAL_BYTES: u64 = 1 << 20;
/// Length and checksum before each entry.
const HEADER: usize = 12;

/// A record as it is kept: the room, the record, when it was received.
type Saved = (TopicId, Record, UnixMillis);

/// The open journal file, its position where the next entry goes.
pub(super) struct Journal {
    file: File,
    /// Bytes of entries written since the journal was last cleared (the file's position).
    len: u64,
}

/// One line as the database keeps it: exactly what [`Store::save`] reads of a [`ChatLine`]
/// (the rest of a line is shown, not kept).
#[derive(Debug, Serialize, Deserialize)]
struct JournalLine {
    topic: [u8; 32],
    received: u64,
    id: [u8; 32],
    author: [u8; 32],
    name: String,
    text: String,
    action: bool,
    sent: u64,
    envelope: Vec<u8>,
    reply_to: Option<[u8; 32]>,
    change: Option<JournalChange>,
}

#[derive(Debug, Serialize, Deserialize)]
enum JournalChange {
    React {
        to: [u8; 32],
        emoji: String,
        on: bool,
    },
    Edit {
        to: [u8; 32],
    },
    Delete {
        to: [u8; 32],
    },
}

impl Journal {
    /// Open (or create, private) the journal of the data directory `dir`.
    pub(super) fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(JOURNAL_FILE);
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        paths::private(&mut options);
        match options.open(&path) {
            Ok(file) => Ok(Self { file, len: 0 }),
            Err(err) => Err(StoreError::Io { path, err }),
        }
    }

    /// Write `lines` as one entry. `Ok(false)`: a record that is not a line, or the journal is
    /// full; the caller commits them to the database instead.
    pub(super) fn append<'a>(
        &mut self,
        records: impl Iterator<Item = (TopicId, &'a Record, UnixMillis)>,
    ) -> std::io::Result<bool> {
        let mut lines = Vec::new();
        for (topic, record, received) in records {
            let Record::Message(line) = record else {
                return Ok(false);
            };
            lines.push(JournalLine::of(topic, line, received));
        }
        let payload = postcard::to_stdvec(&lines).map_err(std::io::Error::other)?;
        let mut entry = Vec::with_capacity(HEADER + payload.len());
        entry.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        entry.extend_from_slice(&blake3::hash(&payload).as_bytes()[..8]);
        entry.extend_from_slice(&payload);
        if self.len + entry.len() as u64 > MAX_JOURNAL_BYTES {
            return Ok(false);
        }
        // A part written before a failure fails its checksum at the next start; the caller
        // stops using the journal.
        self.file.write_all(&entry)?;
        self.len += entry.len() as u64;
        Ok(true)
    }

    /// Everything written is in the database now: overwrite it with zeros and start again.
    pub(super) fn clear(&mut self) -> std::io::Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&vec![0; self.len as usize])?;
        self.file.seek(SeekFrom::Start(0))?;
        self.len = 0;
        Ok(())
    }

    /// The records of every whole entry, in order, and whether the file ended in a damaged
    /// one (a write torn by a power cut, or a file parlor did not write).
    fn read(&mut self) -> std::io::Result<(Vec<Saved>, bool)> {
        let mut bytes = Vec::new();
        (&self.file)
            .take(MAX_JOURNAL_BYTES)
            .read_to_end(&mut bytes)?;
        let mut records = Vec::new();
        let mut rest = &bytes[..];
        while rest.len() >= HEADER {
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if len == 0 {
                return Ok((records, false));
            }
            let Some(payload) = rest.get(HEADER..HEADER + len) else {
                return Ok((records, true));
            };
            if blake3::hash(payload).as_bytes()[..8] != rest[4..HEADER] {
                return Ok((records, true));
            }
            let Ok(lines) = postcard::from_bytes::<Vec<JournalLine>>(payload) else {
                return Ok((records, true));
            };
            records.extend(lines.into_iter().filter_map(JournalLine::into_record));
            rest = &rest[HEADER + len..];
        }
        let damaged = rest.iter().any(|&byte| byte != 0);
        Ok((records, damaged))
    }
}

impl JournalLine {
    fn of(topic: TopicId, line: &ChatLine, received: UnixMillis) -> Self {
        let change = line.change.as_ref().map(|change| {
            let to = *change.to.as_bytes();
            match &change.kind {
                ChangeKind::React { emoji, on } => JournalChange::React {
                    to,
                    emoji: emoji.clone(),
                    on: *on,
                },
                ChangeKind::Edit => JournalChange::Edit { to },
                ChangeKind::Delete => JournalChange::Delete { to },
            }
        });
        Self {
            topic: *topic.as_bytes(),
            received: received.0,
            id: *line.id.as_bytes(),
            author: *line.author.id.as_bytes(),
            name: line.author.name.clone(),
            text: line.text.clone(),
            action: line.action,
            sent: line.sent.0,
            envelope: line.envelope.to_vec(),
            reply_to: line.reply_to.as_ref().map(|id| *id.as_bytes()),
            change,
        }
    }

    /// The record again (`None`: an author key that is no key, which we never wrote).
    fn into_record(self) -> Option<Saved> {
        let author = EndpointId::from_bytes(&self.author).ok()?;
        let change = self.change.map(|change| {
            let (to, kind) = match change {
                JournalChange::React { to, emoji, on } => (to, ChangeKind::React { emoji, on }),
                JournalChange::Edit { to } => (to, ChangeKind::Edit),
                JournalChange::Delete { to } => (to, ChangeKind::Delete),
            };
            Box::new(LineChange {
                to: MessageId::from_bytes(to),
                kind,
            })
        });
        let line = ChatLine {
            id: MessageId::from_bytes(self.id),
            author: MemberInfo {
                id: author,
                display: self.name.clone(),
                name: self.name,
            },
            text: self.text,
            action: self.action,
            sent: UnixMillis(self.sent),
            history: false,
            envelope: self.envelope.into(),
            file: None,
            reply_to: self.reply_to.map(|id| Box::new(MessageId::from_bytes(id))),
            change,
        };
        let topic = TopicId::from_bytes(self.topic);
        Some((topic, Record::Message(line), UnixMillis(self.received)))
    }
}

impl Store {
    /// Move what the journal of the last run holds into the database, then clear it. Done
    /// at start, before anything else is written: a line is saved again only if it is not in
    /// the database yet (the same id), so lines committed before a crash are not doubled.
    pub(super) fn replay_journal(&self, journal: &mut Journal) -> Result<(), StoreError> {
        let io = |err| StoreError::Io {
            path: self.dir.join(JOURNAL_FILE),
            err,
        };
        let (records, damaged) = journal.read().map_err(io)?;
        if damaged {
            tracing::warn!(
                "the end of {JOURNAL_FILE} is damaged (a write cut short by a crash); \
                 the whole entries before it are kept"
            );
        }
        if !records.is_empty() {
            self.save_all(records.iter().map(|(t, r, now)| (*t, r, *now)))?;
        }
        // Clear all of it, a damaged tail too; a journal cleared before (every start after a
        // clean exit) is left as it is. Nothing parlor wrote lies past the limit: a longer
        // file is cut back to it.
        let size = journal.file.metadata().map_err(io)?.len();
        if size > MAX_JOURNAL_BYTES {
            journal.file.set_len(MAX_JOURNAL_BYTES).map_err(io)?;
        }
        journal.file.rewind().map_err(io)?;
        if !records.is_empty() || damaged {
            journal.len = size.min(MAX_JOURNAL_BYTES);
            journal.clear().map_err(io)?;
        }
        Ok(())
    }

    /// A reader (`parlor export`) moves what a chat killed before its commit left in the
    /// journal, if no chat runs on the directory now (a running one owns its journal, and
    /// commits it within [`super::writer`]'s hold).
    pub(super) fn replay_journal_if_idle(&self) -> Result<(), StoreError> {
        if !paths::check_data_file(&self.dir, JOURNAL_FILE)? {
            return Ok(());
        }
        let Ok(_lock) = super::identity::lock(&self.dir) else {
            return Ok(());
        };
        self.replay_journal(&mut Journal::open(&self.dir)?)
    }

    /// Write `records` to the journal; `false`: they must be committed instead (no journal
    /// here, a record that is not a line, the journal full or failing).
    pub(super) fn journal_records<'a>(
        &self,
        records: impl Iterator<Item = (TopicId, &'a Record, UnixMillis)>,
    ) -> bool {
        let mut journal = self.journal.borrow_mut();
        let Some(file) = journal.as_mut() else {
            return false;
        };
        match file.append(records) {
            Ok(taken) => taken,
            Err(err) => {
                tracing::warn!("cannot write {JOURNAL_FILE}, saving lines one by one: {err}");
                // What it holds stays for the next start, which moves it to the database.
                *journal = None;
                false
            }
        }
    }

    /// What the journal held is committed: clear it.
    pub(super) fn clear_journal(&self) {
        let mut journal = self.journal.borrow_mut();
        let Some(Err(err)) = journal.as_mut().map(Journal::clear) else {
            return;
        };
        tracing::warn!("cannot clear {JOURNAL_FILE}, saving lines one by one: {err}");
        // At least empty it: lines moved again at the next start would bring back one
        // deleted meanwhile.
        if let Some(file) = journal.take()
            && let Err(err) = file.file.set_len(0)
        {
            tracing::warn!("cannot empty {JOURNAL_FILE}: {err}");
        }
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;

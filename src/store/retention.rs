//! Stored history bounded in bytes per room: past the budget, the oldest lines go first (with
//! their full-text index rows, by the delete trigger). Keys cost nothing to make, and each new
//! one may write at its own rate: without a bound in bytes, a member minting keys fills every
//! member's disk.
//!
//! What a room holds is summed once (at its first line since start) and then counted as lines
//! arrive, so the check costs nothing per line; trimming goes down to [`TRIM_TO_PERCENT`] of the
//! budget, so it runs once per many lines, not at every one.

use std::collections::HashMap;

use rusqlite::params;

use super::{Store, StoreError};
use crate::proto::TopicId;

/// A room's history kept at most by default: years of a busy team's chat.
pub const DEFAULT_ROOM_BYTES: u64 = 256 << 20;
/// Trimming leaves this much of the budget, so the next trim is far off.
const TRIM_TO_PERCENT: u64 = 90;
/// Rows deleted per statement while trimming.
const TRIM_BATCH: usize = 512;

/// The budget, and what each room holds as far as this process counted.
#[derive(Debug)]
pub(super) struct Retention {
    max: u64,
    held: HashMap<TopicId, u64>,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max: DEFAULT_ROOM_BYTES,
            held: HashMap::new(),
        }
    }
}

/// What one stored line counts: its signed envelope and its text (the index holds about
/// as much again; both are bounded together).
pub(super) fn line_bytes(envelope: &[u8], text: &str) -> u64 {
    (envelope.len() + text.len()) as u64
}

impl Store {
    /// Keep at most `bytes` of history per room from now on (the `history_max` setting).
    pub fn set_room_budget(&mut self, bytes: u64) {
        self.retention.get_mut().max = bytes.max(1);
    }

    /// What `topic`'s stored lines count now.
    pub fn room_bytes(&self, topic: TopicId) -> Result<u64, StoreError> {
        let sum: i64 = self.conn.query_row(
            "SELECT coalesce(sum(length(envelope) + length(CAST(text AS BLOB))), 0)
             FROM messages WHERE topic = ?1",
            [topic.as_bytes()],
            |row| row.get(0),
        )?;
        Ok(sum.max(0) as u64)
    }

    /// A line of `bytes` was stored in `topic`: trim the oldest lines once over the budget.
    pub(super) fn count_line(&self, topic: TopicId, bytes: u64) -> Result<(), StoreError> {
        let known = self.retention.borrow().held.get(&topic).copied();
        let held = match known {
            Some(held) => held + bytes,
            // The first line since start: the sum includes it.
            None => self.room_bytes(topic)?,
        };
        let max = self.retention.borrow().max;
        let held = if held > max {
            self.trim(topic, held, max * TRIM_TO_PERCENT / 100)?
        } else {
            held
        };
        self.retention.borrow_mut().held.insert(topic, held);
        Ok(())
    }

    /// Delete `topic`'s oldest lines until it holds at most `target`; what it holds then.
    fn trim(&self, topic: TopicId, held: u64, target: u64) -> Result<u64, StoreError> {
        let mut left = held;
        while left > target {
            let oldest: Vec<(i64, u64)> = {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT rowid, length(envelope) + length(CAST(text AS BLOB)) FROM messages
                     WHERE topic = ?1 ORDER BY sent, id LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![topic.as_bytes(), TRIM_BATCH as i64], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?.max(0) as u64))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            if oldest.is_empty() {
                return Ok(0);
            }
            let mut delete = self
                .conn
                .prepare_cached("DELETE FROM messages WHERE rowid = ?1")?;
            for (rowid, bytes) in oldest {
                if left <= target {
                    break;
                }
                delete.execute([rowid])?;
                left = left.saturating_sub(bytes);
            }
        }
        Ok(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::UnixMillis;
    use crate::proto::room::Record;

    fn topic(n: u8) -> TopicId {
        TopicId::from_bytes([n; 32])
    }

    /// A line of `text` sent at `sent` (its id the hash of both).
    fn line_in(room: TopicId, text: &str, sent: UnixMillis) -> Record {
        let Record::Message(mut line) = crate::store::tests::message_record(text) else {
            unreachable!("a message record")
        };
        let id = blake3::hash(format!("{room}{text}{}", sent.0).as_bytes());
        line.id = crate::proto::MessageId::from_bytes(*id.as_bytes());
        line.sent = sent;
        Record::Message(line)
    }

    #[test]
    fn a_room_over_its_budget_loses_its_oldest_lines_first() {
        let mut store = Store::in_memory().unwrap();
        store.set_room_budget(20_000);
        let (room, other) = (topic(1), topic(2));
        let text = "x".repeat(500);
        for n in 0..100u64 {
            let line = line_in(room, &text, UnixMillis(1_000 + n));
            store.save(room, &line, UnixMillis(2_000)).unwrap();
        }
        let held = store.room_bytes(room).unwrap();
        assert!(held <= 20_000, "{held}");
        let kept = store.export(room).unwrap();
        assert!(kept.len() < 100 && kept.len() > 10, "{}", kept.len());
        // The newest are the ones kept.
        assert_eq!(kept.last().unwrap().sent, UnixMillis(1_099));
        assert!(kept.first().unwrap().sent > UnixMillis(1_000));
        // Another room's lines are not counted against this one.
        let line = line_in(other, &text, UnixMillis(5));
        store.save(other, &line, UnixMillis(2_000)).unwrap();
        assert_eq!(store.export(other).unwrap().len(), 1);
    }

    #[test]
    fn a_room_already_over_the_budget_is_trimmed_at_its_next_line() {
        let store = Store::in_memory().unwrap();
        let room = topic(3);
        let text = "y".repeat(1000);
        for n in 0..50u64 {
            let line = line_in(room, &text, UnixMillis(1_000 + n));
            store.save(room, &line, UnixMillis(2_000)).unwrap();
        }
        // As after a restart with a smaller budget.
        let mut store = store;
        store.retention.get_mut().held.clear();
        store.set_room_budget(10_000);
        let line = line_in(room, &text, UnixMillis(9_999));
        store.save(room, &line, UnixMillis(2_000)).unwrap();
        assert!(store.room_bytes(room).unwrap() <= 10_000);
        assert_eq!(
            store.export(room).unwrap().last().unwrap().sent,
            UnixMillis(9_999)
        );
    }
}

//! Who owns which name in a room (first key seen with it) and whom the user ignores; and the
//! names as shown in search results and exports, fingerprinted where keys collide.

use rusqlite::params;

use super::{Store, StoreError, StoredMessage};
use crate::proto::name_index::NameIndex;
use crate::proto::{EndpointId, TopicId, UnixMillis};

fn key_of(bytes: Vec<u8>) -> rusqlite::Result<EndpointId> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| rusqlite::Error::InvalidQuery)?;
    EndpointId::from_bytes(&bytes).map_err(|_| rusqlite::Error::InvalidQuery)
}

impl Store {
    /// Pin `key` (a name's skeleton) to `id` unless it is pinned already: the first wins.
    pub fn save_pin(
        &self,
        topic: TopicId,
        key: &str,
        id: EndpointId,
        now: UnixMillis,
    ) -> Result<bool, StoreError> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO name_pins (topic, name_key, id, pinned_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![topic.as_bytes(), key, id.as_bytes(), now.0 as i64])?;
        Ok(inserted > 0)
    }

    /// The room's name pins.
    pub fn pins(&self, topic: TopicId) -> Result<Vec<(String, EndpointId)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name_key, id FROM name_pins WHERE topic = ?1")?;
        let rows = stmt.query_map([topic.as_bytes()], |row| {
            Ok((row.get(0)?, key_of(row.get(1)?)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn save_ignored(
        &self,
        topic: TopicId,
        id: EndpointId,
        name: &str,
        ignored: bool,
        now: UnixMillis,
    ) -> Result<bool, StoreError> {
        let changed = if ignored {
            self.conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO ignored (topic, id, name, since) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![topic.as_bytes(), id.as_bytes(), name, now.0 as i64])?
        } else {
            self.conn
                .prepare_cached("DELETE FROM ignored WHERE topic = ?1 AND id = ?2")?
                .execute(params![topic.as_bytes(), id.as_bytes()])?
        };
        Ok(changed > 0)
    }

    /// Keys ignored in any room, at most [`crate::net::known::MAX_IGNORED`].
    pub fn ignored_anywhere(&self) -> Result<Vec<EndpointId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT id FROM ignored LIMIT ?1")?;
        let limit = crate::net::known::MAX_IGNORED as i64;
        let rows = stmt.query_map([limit], |row| key_of(row.get(0)?))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keys ignored in the room.
    pub fn ignored(&self, topic: TopicId) -> Result<Vec<EndpointId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM ignored WHERE topic = ?1")?;
        let rows = stmt.query_map([topic.as_bytes()], |row| key_of(row.get(0)?))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Fill each message's `display` (messages oldest first): a name another key owns in the
    /// room, or shares with this author, gets the author's fingerprint.
    pub(super) fn show_names(
        &self,
        topic: TopicId,
        messages: &mut [StoredMessage],
    ) -> Result<(), StoreError> {
        let mut names = NameIndex::default();
        for (key, id) in self.pins(topic)? {
            names.restore_pin(key, id);
        }
        // Every key that used a colliding name, not only the ones before a message.
        for m in messages.iter() {
            names.claim(m.author, &m.name);
            names.take_changed();
        }
        for m in messages.iter_mut() {
            names.claim(m.author, &m.name);
            names.take_changed();
            m.display = names.display(&m.author, &m.name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::proto::SecretKey;
    use crate::proto::room::{Input, Record};
    use crate::proto::sim::Sim;

    const NOW: UnixMillis = UnixMillis(1_750_000_000_000);

    #[test]
    fn the_first_pin_wins_and_ignores_toggle() {
        let store = Store::in_memory().unwrap();
        let topic = TopicId::from_bytes([5; 32]);
        let (a, b) = (
            SecretKey::from_bytes(&[1; 32]).public(),
            SecretKey::from_bytes(&[2; 32]).public(),
        );
        assert!(store.save_pin(topic, "sarn", a, NOW).unwrap());
        assert!(!store.save_pin(topic, "sarn", b, NOW).unwrap());
        assert_eq!(store.pins(topic).unwrap(), [("sarn".to_string(), a)]);
        let other = TopicId::from_bytes([6; 32]);
        assert!(store.pins(other).unwrap().is_empty(), "pins are per room");
        assert!(store.save_ignored(topic, b, "sam", true, NOW).unwrap());
        assert_eq!(store.ignored(topic).unwrap(), [b]);
        assert!(store.save_ignored(topic, b, "sam", false, NOW).unwrap());
        assert!(store.ignored(topic).unwrap().is_empty());
    }

    #[test]
    fn exports_and_search_tell_same_named_authors_apart() {
        let mut sim = Sim::new(&["sam", "sam", "kim"]);
        for i in 0..3 {
            sim.connect(i);
        }
        sim.input(0, Input::Say("first sam here".into()));
        sim.advance(Duration::from_secs(1));
        sim.input(1, Input::Say("second sam here".into()));
        sim.advance(Duration::from_secs(1));
        let topic = sim.rooms[2].topic();
        let records = std::mem::take(&mut sim.records[2]);
        assert!(records.iter().any(|r| matches!(r, Record::Pin { .. })));
        let store = Store::in_memory().unwrap();
        for record in &records {
            store.save(topic, record, NOW).unwrap();
        }
        let all = store.export(topic).unwrap();
        let shown: Vec<&str> = all.iter().map(|m| m.display.as_str()).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(
            shown.iter().filter(|d| **d == "sam").count(),
            1,
            "{shown:?}"
        );
        assert_eq!(
            shown.iter().filter(|d| d.starts_with("sam#")).count(),
            1,
            "{shown:?}"
        );
        // As the room showed them.
        let live: Vec<String> = sim.rooms[2]
            .members()
            .into_iter()
            .map(|m| m.display)
            .collect();
        for display in &shown {
            assert!(live.contains(&display.to_string()), "{display} in {live:?}");
        }
        let found = store.search(topic, "sam", 10).unwrap();
        assert_eq!(found.len(), 2);
        assert!(found.iter().any(|m| m.display.starts_with("sam#")));
        // Ignored authors are not found.
        store
            .save_ignored(topic, found[0].author, "sam", true, NOW)
            .unwrap();
        assert_eq!(store.search(topic, "sam", 10).unwrap().len(), 1);
    }

    #[test]
    fn the_members_table_keeps_those_seen_last() {
        let store = Store::in_memory().unwrap();
        let topic = TopicId::from_bytes([5; 32]);
        let total = crate::proto::MAX_KNOWN_KEYS + 50;
        for i in 0..total {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&(i as u32).to_le_bytes());
            let id = SecretKey::from_bytes(&seed).public();
            let seen = UnixMillis(NOW.0 + i as u64);
            store
                .save_member(topic, id, "x", seen, b"env", seen)
                .unwrap();
        }
        store.prune_members(topic).unwrap();
        let kept: i64 = store
            .conn
            .query_row("SELECT count(*) FROM members", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept as usize, crate::proto::MAX_KNOWN_KEYS);
        let oldest: i64 = store
            .conn
            .query_row("SELECT min(last_seen) FROM members", [], |r| r.get(0))
            .unwrap();
        assert_eq!(oldest as u64, NOW.0 + 50, "the longest absent went first");
    }
}

//! Private rooms on disk (issue 23): each room's signed operations, kept as one log that is
//! checked again whenever it is read (a damaged or altered file is refused, never trusted),
//! and the keys of the epochs we were given, the newest few per room.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::proto::seal::{self, EpochKey};
use crate::proto::state::{OpLog, RoomId};
use crate::proto::{TopicId, UnixMillis};

/// Epoch keys kept per room: enough to open what arrives late from the last few epochs.
pub const KEPT_EPOCH_KEYS: usize = 8;

/// A stored log that no longer decodes or verifies: reported, and the room is asked of its
/// members again.
#[derive(Debug, thiserror::Error)]
#[error("the stored state of room {room} is damaged: {why}")]
pub struct DamagedLog {
    pub room: String,
    pub why: String,
}

impl Store {
    /// Keep `log` as the room's state (replacing what was kept).
    pub fn save_room_log(&self, log: &OpLog, now: UnixMillis) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO private_rooms (room, log, updated) VALUES (?1, ?2, ?3)
             ON CONFLICT (room) DO UPDATE SET log = excluded.log, updated = excluded.updated",
            params![log.room().as_bytes(), log.encode(), now.0 as i64],
        )?;
        Ok(())
    }

    /// The room's kept log, checked again as if a member had sent it.
    pub fn room_log(&self, room: RoomId) -> Result<Option<Result<OpLog, DamagedLog>>, StoreError> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT log FROM private_rooms WHERE room = ?1",
                [room.as_bytes()],
                |row| row.get(0),
            )
            .optional()?;
        Ok(bytes.map(|bytes| {
            let log = OpLog::decode(&bytes).map_err(|err| DamagedLog {
                room: format!("{room:?}"),
                why: err.to_string(),
            })?;
            if log.room() != room {
                return Err(DamagedLog {
                    room: format!("{room:?}"),
                    why: "it is another room's".into(),
                });
            }
            Ok(log)
        }))
    }

    /// The private room whose lasting topic is `topic` (what the rooms list knows it by): its
    /// log (checked again) and its kept keys, newest first.
    #[allow(clippy::type_complexity)]
    pub fn private_room_by_topic(
        &self,
        topic: TopicId,
    ) -> Result<Option<(Result<OpLog, DamagedLog>, Vec<(u64, EpochKey)>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT room FROM private_rooms")?;
        let rooms = stmt.query_map([], |row| row.get::<_, Vec<u8>>(0))?;
        let mut found = None;
        for room in rooms {
            if let Ok(room) = <[u8; 32]>::try_from(room?) {
                let room = RoomId::from_bytes(room);
                if seal::room_topic(&room) == topic {
                    found = Some(room);
                    break;
                }
            }
        }
        let Some(room) = found else {
            return Ok(None);
        };
        let log = self.room_log(room)?;
        Ok(log.map(|log| (log, self.epoch_keys(room).unwrap_or_default())))
    }

    /// Keep the key of `room`'s `epoch`; only the newest [`KEPT_EPOCH_KEYS`] stay.
    pub fn save_epoch_key(
        &self,
        room: RoomId,
        epoch: u64,
        key: &EpochKey,
    ) -> Result<(), StoreError> {
        let epoch = i64::try_from(epoch).unwrap_or(i64::MAX);
        self.conn.execute(
            "INSERT OR REPLACE INTO epoch_keys (room, epoch, key) VALUES (?1, ?2, ?3)",
            params![room.as_bytes(), epoch, &key.as_bytes()[..]],
        )?;
        self.conn.execute(
            "DELETE FROM epoch_keys WHERE room = ?1 AND epoch NOT IN
                (SELECT epoch FROM epoch_keys WHERE room = ?1 ORDER BY epoch DESC LIMIT ?2)",
            params![room.as_bytes(), KEPT_EPOCH_KEYS as i64],
        )?;
        Ok(())
    }

    /// The keys kept for `room`, newest epoch first.
    pub fn epoch_keys(&self, room: RoomId) -> Result<Vec<(u64, EpochKey)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT epoch, key FROM epoch_keys WHERE room = ?1 ORDER BY epoch DESC",
        )?;
        let rows = stmt.query_map([room.as_bytes()], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut keys = Vec::new();
        for row in rows {
            let (epoch, bytes) = row?;
            // A key of the wrong length is damage: skipped, asked of the members again.
            if let (Ok(epoch), Ok(bytes)) = (u64::try_from(epoch), <[u8; 32]>::try_from(bytes)) {
                keys.push((epoch, EpochKey::from_bytes(bytes)));
            }
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;
    use crate::proto::state::{Action, HistoryVisibility, Op, SignedOp};

    fn genesis(owner: &SecretKey, room: RoomId) -> OpLog {
        let op = SignedOp::sign(
            owner,
            Op {
                room,
                counter: 0,
                parents: Vec::new(),
                action: Action::Create {
                    name: "ops".into(),
                    topic: String::new(),
                    history: HistoryVisibility::Joined,
                },
            },
        )
        .unwrap();
        OpLog::new(op).unwrap()
    }

    #[test]
    fn a_private_room_log_and_its_newest_keys_are_kept_and_checked_again() {
        let store = Store::in_memory().unwrap();
        let owner = SecretKey::from_bytes(&[1; 32]);
        let room = RoomId::from_bytes([5; 32]);
        assert!(store.room_log(room).unwrap().is_none());
        let log = genesis(&owner, room);
        store.save_room_log(&log, UnixMillis(1)).unwrap();
        let read = store.room_log(room).unwrap().unwrap().unwrap();
        assert_eq!(read.fold().state.hash(), log.fold().state.hash());

        // Altered on disk: refused as damaged, not trusted.
        store
            .conn
            .execute("UPDATE private_rooms SET log = x'01020304'", [])
            .unwrap();
        let damaged = store.room_log(room).unwrap().unwrap().unwrap_err();
        assert!(damaged.to_string().contains("damaged"), "{damaged}");

        for epoch in 0..20u64 {
            let key = EpochKey::from_bytes([epoch as u8; 32]);
            store.save_epoch_key(room, epoch, &key).unwrap();
        }
        let keys = store.epoch_keys(room).unwrap();
        assert_eq!(keys.len(), KEPT_EPOCH_KEYS);
        assert_eq!(keys[0].0, 19, "newest first");
        assert_eq!(keys[0].1.as_bytes(), &[19; 32]);
        assert!(
            store
                .epoch_keys(RoomId::from_bytes([6; 32]))
                .unwrap()
                .is_empty()
        );
        // Found again by the lasting topic the rooms list knows it by.
        let (_, keys) = store
            .private_room_by_topic(seal::room_topic(&room))
            .unwrap()
            .unwrap();
        assert_eq!(keys.len(), KEPT_EPOCH_KEYS);
        let other = seal::room_topic(&RoomId::from_bytes([6; 32]));
        assert!(store.private_room_by_topic(other).unwrap().is_none());
    }
}

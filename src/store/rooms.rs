//! Known rooms: their labels, the peers to dial to get back in, the name used there, and the
//! members' last names.

use std::sync::atomic::{AtomicU32, Ordering};

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::proto::room::RoomName;
use crate::proto::ticket::Ticket;
use crate::proto::{EndpointAddr, EndpointId, MAX_KNOWN_KEYS, TopicId, UnixMillis};

/// Member saves between two prunes of the members table (see [`Store::prune_members`]).
const PRUNE_EVERY: u32 = 256;
static MEMBER_SAVES: AtomicU32 = AtomicU32::new(1);

/// The setting listing the rooms we are in (topics in hex, space-separated).
const OPEN_ROOMS: &str = "open_rooms";
/// At most this many rooms are rejoined at start.
pub const MAX_OPEN_ROOMS: usize = 64;

/// A line of `parlor rooms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSummary {
    pub topic: TopicId,
    pub label: Option<String>,
    /// The name everyone in the room sees (`/topic`), if one was set.
    pub room_name: Option<String>,
    pub last_active: UnixMillis,
    pub messages: u64,
}

/// What is needed to get back into a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    pub topic: TopicId,
    pub label: Option<String>,
    /// Peers seen there last (possibly none).
    pub peers: Vec<EndpointAddr>,
    pub my_name: Option<String>,
    /// The name everyone in the room sees (`/topic`), if one is known.
    pub room_name: Option<String>,
}

/// `parlor join ROOM` named no single known room.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindError {
    #[error(
        "no known room is labelled or named {0:?} or has a topic starting with it (see `parlor rooms`)"
    )]
    NotFound(String),
    #[error("{query:?} matches several rooms ({}); give more of the topic", .matches.join(", "))]
    Ambiguous { query: String, matches: Vec<String> },
}

fn topic_of(bytes: Vec<u8>) -> rusqlite::Result<TopicId> {
    <[u8; 32]>::try_from(bytes)
        .map(TopicId::from_bytes)
        .map_err(|_| rusqlite::Error::InvalidQuery)
}

fn peers_text(topic: TopicId, peers: &[EndpointAddr]) -> String {
    if peers.is_empty() {
        String::new()
    } else {
        Ticket::new(topic, peers.to_vec()).to_string()
    }
}

impl Store {
    /// Record that we are in `topic` now (creating the room on first use). `label` and
    /// `peers` replace what was stored only when given.
    pub fn remember_room(
        &self,
        topic: TopicId,
        label: Option<&str>,
        peers: &[EndpointAddr],
        my_name: &str,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        // A label names one room: say which has it rather than fail on the constraint.
        if let Some(label) = label {
            let owner: Option<Vec<u8>> = self
                .conn
                .query_row(
                    "SELECT topic FROM rooms WHERE label = ?1 AND topic != ?2",
                    params![label, topic.as_bytes()],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(owner) = owner {
                let other = topic_of(owner).map_or_else(|_| "?".into(), |t| t.fmt_short());
                return Err(StoreError::LabelTaken(label.to_string(), other));
            }
        }
        let now = now.0 as i64;
        self.conn.execute(
            "INSERT INTO rooms (topic, label, peers, my_name, created_at, last_active)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (topic) DO UPDATE SET
                label = coalesce(excluded.label, rooms.label),
                peers = CASE excluded.peers WHEN '' THEN rooms.peers ELSE excluded.peers END,
                my_name = excluded.my_name,
                last_active = excluded.last_active",
            params![
                topic.as_bytes(),
                label,
                peers_text(topic, peers),
                my_name,
                now
            ],
        )?;
        Ok(())
    }

    /// Remember who was around, to dial them when rejoining.
    pub fn update_room_peers(
        &self,
        topic: TopicId,
        peers: &[EndpointAddr],
    ) -> Result<(), StoreError> {
        if peers.is_empty() {
            return Ok(());
        }
        self.conn.execute(
            "UPDATE rooms SET peers = ?2 WHERE topic = ?1",
            params![topic.as_bytes(), peers_text(topic, peers)],
        )?;
        Ok(())
    }

    /// The name we go by in `topic` (`/nick`), used when the room is entered again.
    pub fn set_my_name(&self, topic: TopicId, name: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE rooms SET my_name = ?2 WHERE topic = ?1",
            params![topic.as_bytes(), name],
        )?;
        Ok(())
    }

    pub fn touch_room(&self, topic: TopicId, now: UnixMillis) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE rooms SET last_active = ?2 WHERE topic = ?1",
            params![topic.as_bytes(), now.0 as i64],
        )?;
        Ok(())
    }

    pub fn rooms(&self) -> Result<Vec<RoomSummary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.topic, r.label, max(r.last_active, coalesce(max(m.received), 0)), count(m.id),
                    r.room_name
             FROM rooms r LEFT JOIN messages m ON m.topic = r.topic
             GROUP BY r.topic ORDER BY 3 DESC",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(RoomSummary {
                topic: topic_of(row.get(0)?)?,
                label: row.get(1)?,
                last_active: UnixMillis(row.get::<_, i64>(2)? as u64),
                messages: row.get::<_, i64>(3)? as u64,
                room_name: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn room(&self, topic: TopicId) -> Result<Option<RoomRecord>, StoreError> {
        let record = self
            .conn
            .query_row(
                "SELECT label, peers, my_name, room_name FROM rooms WHERE topic = ?1",
                [topic.as_bytes()],
                |row| {
                    let peers: String = row.get(1)?;
                    Ok(RoomRecord {
                        topic,
                        label: row.get(0)?,
                        // A stored ticket that no longer parses just means no peers to dial.
                        peers: peers.parse::<Ticket>().map(|t| t.peers).unwrap_or_default(),
                        my_name: row.get(2)?,
                        room_name: row.get(3)?,
                    })
                },
            )
            .optional()?;
        Ok(record)
    }

    /// The room whose label is `query`, else the one room everyone calls so (its room name),
    /// else the one room whose topic (hex) starts with it.
    pub fn find_room(&self, query: &str) -> Result<Result<RoomRecord, FindError>, StoreError> {
        let query = query.trim();
        let rooms = self.rooms()?;
        let named: Vec<&RoomSummary> = rooms
            .iter()
            .filter(|r| r.room_name.as_deref() == Some(query))
            .collect();
        let by_label =
            rooms
                .iter()
                .find(|r| r.label.as_deref() == Some(query))
                .or(match named.as_slice() {
                    [room] => Some(*room),
                    _ => None,
                });
        if by_label.is_none() && named.len() > 1 {
            let names = named.iter().map(|r| r.topic.fmt_short()).collect();
            return Ok(Err(FindError::Ambiguous {
                query: query.to_string(),
                matches: names,
            }));
        }
        let hex = query.trim_start_matches('#').to_ascii_lowercase();
        let by_topic: Vec<&RoomSummary> = if hex.is_empty() {
            Vec::new()
        } else {
            rooms
                .iter()
                .filter(|r| r.topic.to_string().starts_with(&hex))
                .collect()
        };
        let found = match (by_label, by_topic.as_slice()) {
            (Some(room), _) => room.topic,
            (None, [room]) => room.topic,
            (None, []) => return Ok(Err(FindError::NotFound(query.to_string()))),
            (None, many) => {
                let names = many.iter().map(|r| r.topic.fmt_short()).collect();
                return Ok(Err(FindError::Ambiguous {
                    query: query.to_string(),
                    matches: names,
                }));
            }
        };
        Ok(self
            .room(found)?
            .ok_or_else(|| FindError::NotFound(query.to_string())))
    }

    /// The rooms we are in, in the order they were entered: rejoined on the next start.
    /// Rooms forgotten since (or a damaged list) are skipped.
    pub fn open_rooms(&self) -> Result<Vec<RoomRecord>, StoreError> {
        let mut rooms = Vec::new();
        for topic in self.open_topics() {
            if let Some(room) = self.room(topic)? {
                rooms.push(room);
            }
        }
        Ok(rooms)
    }

    /// Whether we are in `topic` (entered and not parted): `set_open(topic, true)` on
    /// entering a room, `false` on `/part`. Quitting leaves the list as it is.
    pub fn set_open(&self, topic: TopicId, open: bool) -> Result<(), StoreError> {
        let mut topics = self.open_topics();
        // Rejoining keeps a room where it was: the order is the order rooms were entered.
        if open == topics.contains(&topic) {
            return Ok(());
        }
        topics.retain(|t| *t != topic);
        if open {
            topics.push(topic);
        }
        // Bounded, like everything that grows: the oldest entered go first.
        let excess = topics.len().saturating_sub(MAX_OPEN_ROOMS);
        topics.drain(..excess);
        let text: Vec<String> = topics.iter().map(ToString::to_string).collect();
        self.set_setting(OPEN_ROOMS, &text.join(" "))
    }

    fn open_topics(&self) -> Vec<TopicId> {
        let text = self.setting(OPEN_ROOMS).unwrap_or_default();
        text.split_whitespace()
            .filter_map(|hex| hex.parse().ok())
            .collect()
    }

    /// Keep the room's name with the signed `RoomInfo` that set it (the room decided that it
    /// wins over what it had).
    pub fn save_room_name(&self, topic: TopicId, named: &RoomName) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE rooms SET room_name = ?2, room_name_sent = ?3, room_name_envelope = ?4
             WHERE topic = ?1",
            )?
            .execute(params![
                topic.as_bytes(),
                named.name,
                named.sent.0 as i64,
                &named.envelope[..]
            ])?;
        Ok(changed > 0)
    }

    /// The signed `RoomInfo` that named `topic`, if any.
    pub fn room_name_envelope(&self, topic: TopicId) -> Result<Option<Vec<u8>>, StoreError> {
        let envelope = self
            .conn
            .query_row(
                "SELECT room_name_envelope FROM rooms WHERE topic = ?1",
                [topic.as_bytes()],
                |row| row.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()?;
        Ok(envelope.flatten())
    }

    /// Keep a member's name with the signed `AboutMe` claiming it, if newer than what we have.
    pub fn save_member(
        &self,
        topic: TopicId,
        id: EndpointId,
        name: &str,
        named_at: UnixMillis,
        envelope: &[u8],
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        self.conn.prepare_cached(
            "INSERT INTO members (topic, id, name, named_at, last_seen, envelope)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (topic, id) DO UPDATE SET
                name = CASE WHEN excluded.named_at >= members.named_at THEN excluded.name ELSE members.name END,
                envelope = CASE WHEN excluded.named_at >= members.named_at THEN excluded.envelope ELSE members.envelope END,
                named_at = max(members.named_at, excluded.named_at),
                last_seen = excluded.last_seen",
        )?
        .execute(params![
                topic.as_bytes(),
                id.as_bytes(),
                name,
                named_at.0 as i64,
                now.0 as i64,
                envelope
            ],
        )?;
        // Fresh keys cost nothing: now and then, forget all but the members seen last.
        if MEMBER_SAVES
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PRUNE_EVERY)
        {
            self.prune_members(topic)?;
        }
        Ok(())
    }

    /// Keep [`MAX_KNOWN_KEYS`] of the room's members: authors of stored lines first (their
    /// names name those lines), then those seen last. Returns how many were forgotten.
    pub fn prune_members(&self, topic: TopicId) -> Result<usize, StoreError> {
        let forgotten = self
            .conn
            .prepare_cached(
                "DELETE FROM members WHERE topic = ?1 AND id NOT IN (
                    SELECT id FROM members m WHERE topic = ?1
                    ORDER BY EXISTS (
                        SELECT 1 FROM messages WHERE topic = ?1 AND author = m.id
                    ) DESC, last_seen DESC
                    LIMIT ?2)",
            )?
            .execute(params![topic.as_bytes(), MAX_KNOWN_KEYS as i64])?;
        Ok(forgotten)
    }
}

//! LAN room announcements: what a node puts in its mDNS record so that people on the same LAN
//! can find a room with no ticket.
//!
//! The record travels in cleartext, unauthenticated, to everyone on the LAN. Announcing a room
//! therefore hands out the capability to join it (its topic), which is why it is opt-in
//! (`--lan`). Parsing treats every record as hostile: bounded, and every field checked.
//!
//! A private room's entry is different: it names the room's stable id, which lets nobody in
//! (joining takes an admin's yes to a knock, see `net::keys`), and parlors that predate
//! private rooms skip it (no `:` at the place they look for one).
//!
//! Format (at most [`MAX_RECORD`] bytes): `parlor1` then, for each room, a space and either
//! `<topic as 52 lowercase base32 chars>:<label>` (public) or `<room id, same>+<label>`
//! (private). Labels are cleaned names (no spaces, no `#`, no control characters), with `:`
//! removed and cut to [`MAX_LABEL`] bytes.

use data_encoding::BASE32_NOPAD;

use super::TopicId;
use super::names::clean_name;
use super::seal::room_topic;
use super::state::RoomId;

/// mDNS user data is at most 245 bytes (iroh's `UserData::MAX_LENGTH`).
pub const MAX_RECORD: usize = 245;
/// Long enough for a name; short enough that three rooms fit in a record.
pub const MAX_LABEL: usize = 24;
/// Rooms read from one record; anything after is ignored.
pub const MAX_ROOMS_PER_RECORD: usize = 4;
const VERSION: &str = "parlor1";

/// A room announced on the LAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanRoom {
    /// A public room's topic; a private room's lasting topic (derived from its id).
    pub topic: TopicId,
    pub label: String,
    /// A private room's id: its members let in whoever knocks and an admin accepts.
    pub private: Option<RoomId>,
}

impl LanRoom {
    pub fn public(topic: TopicId, label: impl Into<String>) -> Self {
        Self {
            topic,
            label: label.into(),
            private: None,
        }
    }

    pub fn private(room: RoomId, label: impl Into<String>) -> Self {
        Self {
            topic: room_topic(&room),
            label: label.into(),
            private: Some(room),
        }
    }
}

const B32_LEN: usize = 52;

/// A label fit to announce: cleaned like a name, without `:`, cut (at a character boundary)
/// to [`MAX_LABEL`] bytes. `None` when nothing is left.
pub fn clean_label(raw: &str) -> Option<String> {
    // `:` goes after NFKC, which turns compatibility forms (`︓`, `：`) into a plain one; the
    // rest is cleaned again, since taking it out may let a mark compose with what was before.
    let name = clean_name(raw)?.replace(':', "");
    let name = clean_name(&name)?;
    let mut label = String::new();
    for c in name.chars() {
        if label.len() + c.len_utf8() > MAX_LABEL {
            break;
        }
        label.push(c);
    }
    (!label.is_empty()).then_some(label)
}

/// The record announcing `rooms`, in order, as many as fit; the rest are left out (returned
/// second, so the caller can say so).
pub fn encode(rooms: &[LanRoom]) -> (String, usize) {
    let mut record = VERSION.to_string();
    let mut left_out = 0;
    for room in rooms {
        let Some(label) = clean_label(&room.label) else {
            left_out += 1;
            continue;
        };
        let (bytes, mark) = match &room.private {
            Some(id) => (*id.as_bytes(), '+'),
            None => (*room.topic.as_bytes(), ':'),
        };
        let entry = format!(
            " {}{mark}{label}",
            BASE32_NOPAD.encode(&bytes).to_lowercase()
        );
        if record.len() + entry.len() > MAX_RECORD {
            left_out += 1;
            continue;
        }
        record.push_str(&entry);
    }
    (record, left_out)
}

/// The rooms in a record from the network. Anything malformed is skipped, never trusted: an
/// unknown version, a bad topic, an empty or unclean label.
pub fn parse(record: &str) -> Vec<LanRoom> {
    if record.len() > MAX_RECORD {
        return Vec::new();
    }
    let mut words = record.split(' ');
    if words.next() != Some(VERSION) {
        return Vec::new();
    }
    let mut rooms: Vec<LanRoom> = Vec::new();
    for word in words.take(MAX_ROOMS_PER_RECORD) {
        // The id, then `:` (public) or `+` (private), then the label.
        let (Some(id), Some(mark), Some(label)) = (
            word.get(..B32_LEN),
            word.get(B32_LEN..B32_LEN + 1),
            word.get(B32_LEN + 1..),
        ) else {
            continue;
        };
        let Ok(bytes) = BASE32_NOPAD.decode(id.to_ascii_uppercase().as_bytes()) else {
            continue;
        };
        let Ok(bytes) = <[u8; 32]>::try_from(bytes) else {
            continue;
        };
        // Only labels that would have been announced as they are: no look-alike tricks
        // through characters the cleaning removes.
        match clean_label(label) {
            Some(clean) if clean == label => {}
            _ => continue,
        }
        let room = match mark {
            ":" => LanRoom::public(TopicId::from_bytes(bytes), label),
            "+" => LanRoom::private(RoomId::from_bytes(bytes), label),
            _ => continue,
        };
        if !rooms.iter().any(|r| r.topic == room.topic) {
            rooms.push(room);
        }
    }
    rooms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(byte: u8, label: &str) -> LanRoom {
        LanRoom::public(TopicId::from_bytes([byte; 32]), label)
    }

    #[test]
    fn private_rooms_name_their_id_and_older_parsers_skip_them() {
        let rooms = vec![
            LanRoom::private(RoomId::from_bytes([5; 32]), "secret"),
            room(6, "open"),
        ];
        let (record, left_out) = encode(&rooms);
        assert_eq!(left_out, 0);
        let parsed = parse(&record);
        assert_eq!(parsed, rooms);
        assert_eq!(parsed[0].topic, room_topic(&RoomId::from_bytes([5; 32])));
        // What a parlor of before private rooms did with a record: split at the first `:`.
        let old: Vec<&str> = record
            .split(' ')
            .skip(1)
            .filter_map(|w| w.split_once(':').map(|(id, _)| id))
            .collect();
        assert_eq!(old.len(), 1, "{record}");
        assert!(!old[0].contains('+'));
        // A label may hold `+` itself; the mark is at its place only.
        let plus = LanRoom::private(RoomId::from_bytes([7; 32]), "a+b");
        assert_eq!(parse(&encode(std::slice::from_ref(&plus)).0), vec![plus]);
    }

    #[test]
    fn rooms_round_trip_and_three_fit() {
        let rooms = vec![
            room(1, "standup"),
            room(2, "ops-team"),
            room(3, "ünïcode"),
            room(4, "fourth"),
        ];
        let (record, left_out) = encode(&rooms);
        assert!(record.len() <= MAX_RECORD, "{}", record.len());
        assert_eq!(left_out, 1, "{record}");
        assert_eq!(parse(&record), rooms[..3]);
        assert_eq!(encode(&[]).0, "parlor1");
        assert!(parse("parlor1").is_empty());
    }

    #[test]
    fn compatibility_colons_are_taken_out_too() {
        // Found by the properties test: U+FE13 becomes `:` under NFKC.
        assert_eq!(clean_label("\u{FE13}"), None);
        assert_eq!(clean_label("a\u{FF1A}b").as_deref(), Some("ab"));
        let composed = clean_label("e:\u{0301}").expect("a label");
        assert_eq!(clean_label(&composed), Some(composed.clone()));
        assert!(!composed.contains(':'));
    }

    #[test]
    fn labels_are_cleaned_and_cut() {
        assert_eq!(clean_label("stand up:now").as_deref(), Some("stand_upnow"));
        assert_eq!(clean_label(" # \u{7}"), None);
        let long = clean_label(&"é".repeat(40)).unwrap();
        assert_eq!(long.len(), MAX_LABEL);
        let (record, _) = encode(&[room(9, "a b")]);
        assert_eq!(parse(&record)[0].label, "a_b");
    }

    #[test]
    fn hostile_records_yield_nothing_bad() {
        let topic = BASE32_NOPAD.encode(&[7; 32]).to_lowercase();
        for record in [
            String::new(),
            "parlor2 x:y".into(),
            format!("parlor1 {topic}"),
            format!("parlor1 {topic}:"),
            format!("parlor1 {topic}:a\u{202e}b"),
            format!("parlor1 {topic}:a#b"),
            format!("parlor1 {}:short", &topic[..10]),
            format!("parlor1 !!!:x {topic}x:y"),
            "parlor1 ".repeat(100),
        ] {
            assert!(parse(&record).is_empty(), "{record:?}");
        }
        // Duplicates count once; only the first few rooms of a record are read.
        let many: Vec<String> = (0..10)
            .map(|i| format!("{}:r{i}", BASE32_NOPAD.encode(&[i; 32]).to_lowercase()))
            .collect();
        let record = format!("parlor1 {} {}", many[0], many[0]);
        assert_eq!(parse(&record).len(), 1);
        let record = format!("parlor1 {}", many[..4].join(" "));
        assert_eq!(parse(&record).len(), 4);
    }
}

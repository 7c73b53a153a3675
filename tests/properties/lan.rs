//! LAN records: what is announced parses back, and no record makes the parser panic or yield
//! unclean, duplicate or too many rooms.

use data_encoding::BASE32_NOPAD;
use parlor::proto::TopicId;
use parlor::proto::lan::{self, LanRoom, MAX_LABEL, MAX_RECORD, MAX_ROOMS_PER_RECORD, clean_label};
use parlor::proto::state::RoomId;
use proptest::prelude::*;

use super::chars::hostile_text;

fn check_parsed(rooms: &[LanRoom]) -> Result<(), TestCaseError> {
    prop_assert!(rooms.len() <= MAX_ROOMS_PER_RECORD);
    for (i, room) in rooms.iter().enumerate() {
        prop_assert!(!room.label.is_empty() && room.label.len() <= MAX_LABEL);
        prop_assert_eq!(clean_label(&room.label), Some(room.label.clone()));
        prop_assert!(rooms[..i].iter().all(|r| r.topic != room.topic));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn announced_rooms_parse_back(labels in prop::collection::vec(hostile_text(40), 0..6)) {
        let rooms: Vec<LanRoom> = labels
            .iter()
            .enumerate()
            .map(|(i, label)| match i % 2 {
                // Public and private rooms alike.
                0 => LanRoom::public(TopicId::from_bytes([i as u8; 32]), label.clone()),
                _ => LanRoom::private(RoomId::from_bytes([i as u8; 32]), label.clone()),
            })
            .collect();
        let (record, left_out) = lan::encode(&rooms);
        prop_assert!(record.len() <= MAX_RECORD);
        // What encode promises: each room goes in, cleaned, if it has a label and still fits.
        let mut expected = Vec::new();
        let mut len = "parlor1".len();
        for room in &rooms {
            let Some(label) = clean_label(&room.label) else { continue };
            let entry = 1 + 52 + 1 + label.len();
            if len + entry <= MAX_RECORD {
                len += entry;
                expected.push(LanRoom { label, ..room.clone() });
            }
        }
        prop_assert_eq!(left_out, rooms.len() - expected.len());
        prop_assert_eq!(lan::parse(&record), expected);
    }

    #[test]
    fn arbitrary_records_never_panic(record in hostile_text(300)) {
        check_parsed(&lan::parse(&record))?;
        let words = format!("parlor1 {record}");
        check_parsed(&lan::parse(&words))?;
    }

    #[test]
    fn records_of_real_topics_and_hostile_labels(
        entries in prop::collection::vec((any::<[u8; 32]>(), hostile_text(30), any::<bool>()), 0..6),
    ) {
        let words: Vec<String> = entries
            .iter()
            .map(|(topic, label, upper)| {
                let topic = BASE32_NOPAD.encode(topic);
                let topic = if *upper { topic } else { topic.to_lowercase() };
                format!("{topic}:{label}")
            })
            .collect();
        let rooms = lan::parse(&format!("parlor1 {}", words.join(" ")));
        check_parsed(&rooms)?;
    }
}

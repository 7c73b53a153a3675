//! An mDNS record from anyone on the LAN: parsing never panics, yields only bounded, clean,
//! distinct rooms, and what it yields announces and parses back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parlor::proto::lan::{self, MAX_LABEL, MAX_RECORD, MAX_ROOMS_PER_RECORD, clean_label};

fuzz_target!(|data: &[u8]| {
    let Ok(record) = std::str::from_utf8(data) else {
        return;
    };
    let rooms = lan::parse(record);
    assert!(rooms.len() <= MAX_ROOMS_PER_RECORD);
    for (i, room) in rooms.iter().enumerate() {
        assert!(!room.label.is_empty() && room.label.len() <= MAX_LABEL);
        assert_eq!(clean_label(&room.label).as_deref(), Some(&*room.label));
        assert!(
            rooms[..i].iter().all(|r| r.topic != room.topic),
            "duplicate topic"
        );
    }
    let (again, left_out) = lan::encode(&rooms);
    assert!(again.len() <= MAX_RECORD);
    assert_eq!(left_out, 0, "what fitted one record fits again");
    assert_eq!(lan::parse(&again), rooms);
});

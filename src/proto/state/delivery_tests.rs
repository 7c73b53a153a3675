use super::*;
use crate::proto::state::tests::{A1, M2, act, ban, other_room, room};

fn answer() -> KeyAnswer {
    let mut log = room();
    act(&mut log, A1, ban(M2));
    let state = log.fold().state;
    KeyAnswer {
        epoch: state.epoch(),
        epoch_op: state.epoch_op(),
        key: EpochKey::from_bytes([42; 32]),
        log,
    }
}

#[test]
fn a_key_answer_round_trips() {
    let answer = answer();
    let bytes = answer.encode();
    assert!(bytes.len() <= MAX_KEY_ANSWER_BYTES);
    let read = KeyAnswer::decode(&bytes, answer.log.room()).expect("decodes");
    assert_eq!(
        (read.epoch, read.epoch_op, &read.key),
        (1, answer.epoch_op, &answer.key)
    );
    assert_eq!(read.log.fold().state, answer.log.fold().state);
    assert_eq!(read.log.fold().state.epoch_op(), read.epoch_op);
}

#[test]
fn a_truncated_foreign_or_garbled_answer_is_an_error() {
    let answer = answer();
    let bytes = answer.encode();
    let room = answer.log.room();
    for len in 0..bytes.len() {
        assert!(
            KeyAnswer::decode(&bytes[..len], room).is_err(),
            "{len} bytes"
        );
    }
    assert_eq!(
        KeyAnswer::decode(&bytes, RoomId::from_bytes([1; 32])).err(),
        Some(LogError::OtherRoom)
    );
    let mut other_version = bytes.clone();
    other_version[0] = 2;
    assert_eq!(
        KeyAnswer::decode(&other_version, room).err(),
        Some(LogError::UnknownVersion(2))
    );
    let mut tampered = bytes.clone();
    let at = tampered.len() - 5;
    tampered[at] ^= 0x20;
    assert!(KeyAnswer::decode(&tampered, room).is_err());
    let oversized = vec![DELIVERY_VERSION; MAX_KEY_ANSWER_BYTES + 1];
    assert!(KeyAnswer::decode(&oversized, room).is_err());
    // Random bytes, also behind a valid header: errors, never a panic.
    let mut seed = 0x0bad_cafe_u64;
    for _ in 0..2000 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let len = (seed >> 40) as usize % 400;
        let junk: Vec<u8> = (0..len).map(|i| (seed >> (i % 56)) as u8).collect();
        assert!(KeyAnswer::decode(&junk, room).is_err());
        let mut framed = bytes[..HEADER_LEN].to_vec();
        framed.extend_from_slice(&junk);
        assert!(KeyAnswer::decode(&framed, room).is_err());
    }
    // A log of another room, even with a valid header, is refused.
    let foreign = KeyAnswer {
        log: other_room(3),
        ..answer
    };
    assert_eq!(
        KeyAnswer::decode(&foreign.encode(), room).err(),
        Some(LogError::OtherRoom)
    );
}

//! Bytes in: operations and logs that are malformed, oversized, forged or foreign are errors,
//! never panics, and bounds hold.

use super::op::signed_bytes;
use super::tests::{A1, M1, M2, OWNER, act, id, key, room};
use super::*;

#[test]
fn malformed_and_oversized_bytes_are_errors() {
    let log = room();
    let op = log
        .author(&key(A1), Action::SetName("n".into()))
        .expect("signs");
    let bytes = op.bytes();
    for len in 0..97 {
        assert_eq!(
            SignedOp::decode(&bytes[..len]),
            Err(OpError::Truncated { size: len })
        );
    }
    let mut other = bytes.to_vec();
    other[0] = 9;
    assert_eq!(SignedOp::decode(&other), Err(OpError::UnknownVersion(9)));
    let huge = vec![1u8; MAX_OP_BYTES + 1];
    assert_eq!(
        SignedOp::decode(&huge),
        Err(OpError::Oversize {
            size: MAX_OP_BYTES + 1
        })
    );
    // A correctly signed body that is not an operation, or has bytes after it.
    for body in [
        vec![0xff; 40],
        [postcard::to_stdvec(&op.op).expect("encodes"), vec![0]].concat(),
    ] {
        let author = key(A1).public();
        let signature = key(A1).sign(&signed_bytes(&author, &body));
        let framed = [
            &[STATE_VERSION][..],
            author.as_bytes(),
            &signature.to_bytes(),
            &body,
        ]
        .concat();
        assert!(matches!(
            SignedOp::decode(&framed),
            Err(OpError::Malformed(_))
        ));
    }
    // Bounds, checked when signing and again when decoding.
    let long = |n: usize| "x".repeat(n);
    let sign = |action: Action| log.author(&key(A1), action);
    let too_long = |what, max| Err(LogError::Op(OpError::TooLong { what, max }));
    assert_eq!(
        sign(Action::SetName(long(MAX_NAME_BYTES + 1))),
        too_long("name", MAX_NAME_BYTES)
    );
    assert_eq!(
        sign(Action::SetTopic(long(MAX_TOPIC_BYTES + 1))),
        too_long("topic", MAX_TOPIC_BYTES)
    );
    let reason = long(MAX_REASON_BYTES + 1);
    assert_eq!(
        sign(Action::Ban {
            who: id(M1),
            reason
        }),
        too_long("reason", MAX_REASON_BYTES)
    );
    assert!(sign(Action::SetTopic(long(MAX_TOPIC_BYTES))).is_ok());
    let role = Role::Owner;
    assert!(matches!(
        sign(Action::SetRole { who: id(M1), role }),
        Err(LogError::Op(OpError::Malformed(_)))
    ));
    let parents = |n: u8| (0..n).map(|i| OpHash([i; 32])).collect::<Vec<_>>();
    for parents in [
        parents(MAX_PARENTS as u8 + 1),
        vec![OpHash([1; 32]); 2],
        Vec::new(),
    ] {
        let op = Op {
            room: log.room(),
            counter: 9,
            parents,
            action: Action::Leave,
        };
        assert!(matches!(
            SignedOp::sign(&key(M1), op),
            Err(OpError::Malformed(_))
        ));
    }
}

#[test]
fn a_log_refuses_other_rooms_second_geneses_and_more_than_its_bound() {
    let mut log = room();
    let other = OpLog::create(
        &key(OWNER),
        RoomId::from_bytes([8; 32]),
        "x",
        "",
        HistoryVisibility::Joined,
    )
    .expect("creates");
    let foreign = other.author(&key(OWNER), Action::Leave).expect("signs");
    assert_eq!(log.insert(foreign), Err(LogError::OtherRoom));
    let second = OpLog::create(&key(A1), log.room(), "mine", "", HistoryVisibility::Joined)
        .expect("creates");
    assert_eq!(log.insert(second.genesis().clone()), Err(LogError::Genesis));
    assert!(matches!(
        OpLog::new(log.author(&key(A1), Action::Leave).expect("signs")),
        Err(LogError::Genesis)
    ));
    let base = log.author(&key(M1), Action::Leave).expect("signs");
    let mut n = log.len();
    while n < MAX_OPS {
        let op = Op {
            room: log.room(),
            counter: base.op.counter + n as u64,
            parents: base.op.parents.clone(),
            action: Action::SetTopic(n.to_string()),
        };
        log.insert(SignedOp::sign(&key(A1), op).expect("signs"))
            .expect("inserts");
        n += 1;
    }
    assert_eq!(log.insert(base), Err(LogError::Full));
}

#[test]
fn a_log_round_trips_and_junk_is_an_error() {
    let mut log = room();
    act(
        &mut log,
        A1,
        Action::Ban {
            who: id(M2),
            reason: "r".into(),
        },
    );
    let bytes = log.encode();
    let decoded = OpLog::decode(&bytes).expect("decodes");
    assert_eq!(decoded.fold().state.hash(), log.fold().state.hash());
    for len in 0..bytes.len() {
        assert!(OpLog::decode(&bytes[..len]).is_err(), "{len} bytes");
    }
    let mut tampered = bytes.clone();
    let at = tampered.len() - 3;
    tampered[at] ^= 0x10;
    assert!(OpLog::decode(&tampered).is_err());
    let mut seed = 0x1234_5678_u64;
    for _ in 0..2000 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let len = (seed >> 40) as usize % 300;
        let junk: Vec<u8> = (0..len).map(|i| (seed >> (i % 56)) as u8).collect();
        let _ = OpLog::decode(&junk);
        let _ = SignedOp::decode(&junk);
        let mut framed = vec![LOG_VERSION];
        framed.extend_from_slice(&junk);
        assert!(OpLog::decode(&framed).is_err());
    }
}

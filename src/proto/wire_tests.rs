use super::*;

const NOW: UnixMillis = UnixMillis(1_750_000_000_000);

fn topic() -> TopicId {
    TopicId::from_bytes([5; 32])
}

fn alice() -> SecretKey {
    SecretKey::from_bytes(&[1; 32])
}

fn payload(from: PublicKey, text: &str) -> Payload {
    Payload {
        nonce: 7,
        sent: NOW.0,
        body: MessageBody::Message {
            from,
            text: text.into(),
            action: false,
            file: None,
            reply_to: None,
            change: None,
        },
    }
}

/// Frame arbitrary JSON with a valid signature, as a hostile but well-keyed peer could.
fn sign_raw(secret: &SecretKey, topic: &TopicId, json: &[u8]) -> Vec<u8> {
    let sig = secret.sign(&signed_bytes(topic, json));
    let mut out = vec![WIRE_VERSION];
    out.extend_from_slice(secret.public().as_bytes());
    out.extend_from_slice(&sig.to_bytes());
    out.extend_from_slice(json);
    out
}

#[test]
fn round_trip() {
    let key = alice();
    let sent = payload(key.public(), "hello 世界");
    let bytes = seal(&key, &topic(), &sent).unwrap();
    let got = open(&bytes, &topic(), NOW).unwrap();
    assert_eq!(got.author, key.public());
    assert_eq!(got.body, sent.body);
    assert_eq!(got.sent, NOW);
    assert_eq!(got.id, MessageId::of(&bytes));
}

#[test]
fn payload_is_readable_json() {
    let key = alice();
    let bytes = seal(&key, &topic(), &payload(key.public(), "hi")).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes[HEADER_LEN..]).unwrap();
    assert_eq!(json["body"]["type"], "Message");
    assert_eq!(json["body"]["text"], "hi");
    assert_eq!(json["body"]["from"], key.public().to_string());
}

#[test]
fn action_flag_is_optional_on_the_wire() {
    let key = alice();
    let mut p = payload(key.public(), "waves");
    let plain = seal(&key, &topic(), &p).unwrap();
    assert!(!String::from_utf8_lossy(&plain).contains("action"));
    if let MessageBody::Message { action, .. } = &mut p.body {
        *action = true;
    }
    let acted = seal(&key, &topic(), &p).unwrap();
    assert_eq!(open(&acted, &topic(), NOW).unwrap().body, p.body);
}

#[test]
fn every_tampered_byte_is_caught() {
    let key = alice();
    let bytes = seal(&key, &topic(), &payload(key.public(), "pay bob 5")).unwrap();
    for i in 1..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        let err = open(&bad, &topic(), NOW).unwrap_err();
        assert!(matches!(err, Rejection::BadSignature), "byte {i}: {err:?}");
    }
}

#[test]
fn other_room_is_a_bad_signature() {
    let key = alice();
    let bytes = seal(&key, &topic(), &payload(key.public(), "hi")).unwrap();
    let other = TopicId::from_bytes([6; 32]);
    assert_eq!(open(&bytes, &other, NOW), Err(Rejection::BadSignature));
}

#[test]
fn forged_author_is_rejected() {
    let mallory = SecretKey::from_bytes(&[66; 32]);
    let bytes = seal(&mallory, &topic(), &payload(alice().public(), "i am alice")).unwrap();
    assert!(matches!(
        open(&bytes, &topic(), NOW),
        Err(Rejection::FromMismatch { .. })
    ));
}

#[test]
fn far_future_is_rejected_but_small_skew_is_fine() {
    let key = alice();
    let mut p = payload(key.public(), "from the future");
    p.sent = NOW.0 + MAX_CLOCK_SKEW_MS + 1;
    let bytes = seal(&key, &topic(), &p).unwrap();
    assert!(matches!(
        open(&bytes, &topic(), NOW),
        Err(Rejection::FutureTimestamp { .. })
    ));
    p.sent = NOW.0 + 60_000;
    let bytes = seal(&key, &topic(), &p).unwrap();
    assert!(open(&bytes, &topic(), NOW).is_ok());
}

#[test]
fn malformed_json_is_rejected() {
    let key = alice();
    for json in [
        &b"not json"[..],
        b"{}",
        b"{\"nonce\":1,\"sent\":1,\"body\":{\"type\":\"Teleport\"}}",
        b"{\"nonce\":-1,\"sent\":1,\"body\":{}}",
        b"\xff\xfe",
    ] {
        let bytes = sign_raw(&key, &topic(), json);
        assert!(
            matches!(open(&bytes, &topic(), NOW), Err(Rejection::Malformed(_))),
            "{}",
            String::from_utf8_lossy(json)
        );
    }
}

#[test]
fn unknown_version_and_short_input_are_rejected() {
    let key = alice();
    let mut bytes = seal(&key, &topic(), &payload(key.public(), "hi")).unwrap();
    bytes[0] = 2;
    assert_eq!(
        open(&bytes, &topic(), NOW),
        Err(Rejection::UnknownVersion(2))
    );
    for len in 0..HEADER_LEN {
        assert_eq!(
            open(&vec![1; len], &topic(), NOW),
            Err(Rejection::Truncated { size: len })
        );
    }
}

#[test]
fn oversize_is_refused_on_both_sides() {
    let key = alice();
    let big = "x".repeat(MAX_ENVELOPE_SIZE);
    assert!(seal(&key, &topic(), &payload(key.public(), &big)).is_err());
    let bytes = vec![1u8; MAX_ENVELOPE_SIZE + 1];
    assert!(matches!(
        open(&bytes, &topic(), NOW),
        Err(Rejection::Oversize { .. })
    ));
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 1u64;
    for len in [0, 1, 50, 96, 97, 98, 200, 4000] {
        for _ in 0..50 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 56) as u8
                })
                .collect();
            assert!(open(&bytes, &topic(), NOW).is_err());
        }
    }
}

#[test]
fn a_verifier_remembering_keys_judges_like_a_fresh_one() {
    let (alice, bob, mallory) = (
        alice(),
        SecretKey::from_bytes(&[2; 32]),
        SecretKey::from_bytes(&[66; 32]),
    );
    let mut tampered = seal(&alice, &topic(), &payload(alice.public(), "x")).unwrap();
    tampered[HEADER_LEN + 3] ^= 1;
    let envelopes = [
        seal(&alice, &topic(), &payload(alice.public(), "one")).unwrap(),
        seal(&bob, &topic(), &payload(bob.public(), "two")).unwrap(),
        // Signed by a key the verifier already holds, claiming another it holds too.
        seal(&alice, &topic(), &payload(bob.public(), "forged")).unwrap(),
        seal(&mallory, &topic(), &payload(alice.public(), "forged")).unwrap(),
        tampered,
        seal(&alice, &topic(), &payload(alice.public(), "three")).unwrap(),
    ];
    let mut verifier = Verifier::default();
    for round in 0..2 {
        for bytes in &envelopes {
            assert_eq!(
                verifier.open(bytes, &topic(), NOW),
                open(bytes, &topic(), NOW),
                "round {round}"
            );
        }
    }
    let accepted = envelopes
        .iter()
        .filter(|b| verifier.open(b, &topic(), NOW).is_ok())
        .count();
    assert_eq!(accepted, 3);
}

#[test]
fn the_author_key_is_compared_whatever_its_spelling() {
    let key = alice();
    let hex = key.public().to_string();
    let body = |from: &str| {
        format!(
            r#"{{"nonce":1,"sent":{},"body":{{"type":"Leave","from":"{from}"}}}}"#,
            NOW.0
        )
    };
    // The base32 form iroh's key parser also reads.
    let base32 = data_encoding::BASE32_NOPAD
        .encode(key.public().as_bytes())
        .to_ascii_lowercase();
    let spelled = sign_raw(&key, &topic(), body(&base32).as_bytes());
    assert_eq!(open(&spelled, &topic(), NOW).unwrap().author, key.public());
    let other = SecretKey::from_bytes(&[2; 32]).public().to_string();
    let claims_other = sign_raw(&key, &topic(), body(&other).as_bytes());
    assert!(matches!(
        open(&claims_other, &topic(), NOW),
        Err(Rejection::FromMismatch { .. })
    ));
    for garbage in ["", "zz", &hex[..63], &hex.to_uppercase()] {
        let bytes = sign_raw(&key, &topic(), body(garbage).as_bytes());
        assert!(
            matches!(open(&bytes, &topic(), NOW), Err(Rejection::Malformed(_))),
            "{garbage:?}"
        );
    }
}

#[test]
fn a_checked_batch_keeps_what_verifies_and_knows_its_newest_message() {
    let key = alice();
    let early = seal(&key, &topic(), &payload(key.public(), "early")).unwrap();
    let mut later = payload(key.public(), "later");
    later.sent = NOW.0 + 5;
    later.nonce = 8;
    let later = seal(&key, &topic(), &later).unwrap();
    let mut tampered = early.clone();
    let last = tampered.len() - 3;
    tampered[last] ^= 1;
    let batch = check_batch(
        vec![early, tampered, later, b"junk".to_vec()],
        &topic(),
        NOW,
    );
    assert_eq!(batch.accepted.len(), 2);
    assert_eq!(batch.rejected.len(), 2);
    assert_eq!(batch.newest_message(), Some((UnixMillis(NOW.0 + 5), 2)));
    assert_eq!(CheckedBatch::default().newest_message(), None);
}

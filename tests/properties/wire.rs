//! Envelopes: sealing then opening gives the payload back, any change to a sealed envelope is
//! refused, and no bytes (signed or not) make the decoder panic.

use parlor::proto::wire::{
    self, MAX_CLOCK_SKEW_MS, MAX_ENVELOPE_SIZE, MessageBody, Payload, Rejection,
};
use parlor::proto::{MessageId, SecretKey, TopicId, UnixMillis};
use proptest::prelude::*;

use super::chars::hostile_text;

const NOW: UnixMillis = UnixMillis(1_750_000_000_000);

/// Frame and sign arbitrary payload bytes as the wire format documents it, so the payload
/// parser can be fed JSON that `seal` would never write.
fn sign_raw(secret: &SecretKey, topic: &TopicId, json: &[u8]) -> Vec<u8> {
    let mut signed = b"parlor-envelope-v1".to_vec();
    signed.extend_from_slice(topic.as_bytes());
    signed.extend_from_slice(json);
    let mut out = vec![1];
    out.extend_from_slice(secret.public().as_bytes());
    out.extend_from_slice(&secret.sign(&signed).to_bytes());
    out.extend_from_slice(json);
    out
}

fn payload(secret: &SecretKey) -> impl Strategy<Value = Payload> + use<> {
    let from = secret.public();
    let body = prop_oneof![
        Just(MessageBody::WhoIsThere { from }),
        Just(MessageBody::Leave { from }),
        (hostile_text(40), proptest::option::of(any::<u32>()))
            .prop_map(move |(name, every)| MessageBody::AboutMe { from, name, every }),
        hostile_text(70).prop_map(move |who| MessageBody::Missing { from, who }),
        (hostile_text(300), any::<bool>()).prop_map(move |(text, action)| MessageBody::Message {
            from,
            text,
            action,
            file: None,
            reply_to: None,
            change: None,
        }),
    ];
    let sent = prop_oneof![0..=NOW.0 + MAX_CLOCK_SKEW_MS, any::<u64>()];
    (any::<u64>(), sent, body).prop_map(|(nonce, sent, body)| Payload { nonce, sent, body })
}

fn keys() -> impl Strategy<Value = (SecretKey, [u8; 32])> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(k, t)| (SecretKey::from_bytes(&k), t))
}

proptest! {
    // Every case signs and checks signatures: fewer cases keep the file fast in debug.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sealed_envelopes_open_to_their_payload(
        ((secret, topic), p) in keys().prop_flat_map(|(s, t)| {
            let p = payload(&s);
            (Just((s, t)), p)
        }),
    ) {
        let topic = TopicId::from_bytes(topic);
        let bytes = wire::seal(&secret, &topic, &p).unwrap();
        prop_assert!(bytes.len() <= MAX_ENVELOPE_SIZE);
        match wire::open(&bytes, &topic, NOW) {
            Ok(v) => {
                prop_assert!(p.sent <= NOW.0 + MAX_CLOCK_SKEW_MS);
                prop_assert_eq!(v.author, secret.public());
                prop_assert_eq!(v.sent.0, p.sent);
                prop_assert_eq!(v.id, MessageId::of(&bytes));
                prop_assert_eq!(v.body, p.body);
            }
            Err(Rejection::FutureTimestamp { .. }) => {
                prop_assert!(p.sent > NOW.0 + MAX_CLOCK_SKEW_MS);
            }
            Err(e) => prop_assert!(false, "refused: {}", e),
        }
        // The topic is signed: another room refuses the same bytes.
        let mut other = *topic.as_bytes();
        other[0] ^= 1;
        prop_assert!(wire::open(&bytes, &TopicId::from_bytes(other), NOW).is_err());
    }

    #[test]
    fn any_change_to_a_sealed_envelope_is_refused(
        (secret, topic) in keys(),
        text in hostile_text(50),
        at in any::<prop::sample::Index>(),
        flip in 1u8..,
        cut in any::<prop::sample::Index>(),
    ) {
        let topic = TopicId::from_bytes(topic);
        let from = secret.public();
        let p = Payload { nonce: 1, sent: NOW.0, body: MessageBody::Message { from, text, action: false, file: None, reply_to: None, change: None } };
        let bytes = wire::seal(&secret, &topic, &p).unwrap();
        let mut flipped = bytes.clone();
        flipped[at.index(bytes.len())] ^= flip;
        prop_assert!(wire::open(&flipped, &topic, NOW).is_err());
        let cut = &bytes[..cut.index(bytes.len())];
        prop_assert!(wire::open(cut, &topic, NOW).is_err());
    }

    #[test]
    fn signed_junk_payloads_never_panic(
        (secret, topic) in keys(),
        json in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            hostile_text(200).prop_map(String::into_bytes),
            // Nearly valid: the fields in place, the values hostile.
            (any::<i64>(), hostile_text(8), hostile_text(70)).prop_map(|(sent, kind, from)| {
                serde_json::json!({"nonce": 1, "sent": sent, "body": {"type": kind, "from": from, "text": "x"}})
                    .to_string()
                    .into_bytes()
            }),
        ],
    ) {
        let topic = TopicId::from_bytes(topic);
        let bytes = sign_raw(&secret, &topic, &json);
        if let Ok(v) = wire::open(&bytes, &topic, NOW) {
            prop_assert_eq!(*v.body.from(), secret.public());
            prop_assert_eq!(v.author, secret.public());
        }
    }

    #[test]
    fn arbitrary_bytes_never_open(bytes in prop::collection::vec(any::<u8>(), 0..400), topic: [u8; 32]) {
        let topic = TopicId::from_bytes(topic);
        prop_assert!(wire::open(&bytes, &topic, NOW).is_err());
        let batch = wire::check_batch(vec![bytes], &topic, NOW);
        prop_assert!(batch.newest_message().is_none());
    }
}

#[test]
fn sign_raw_frames_like_seal() {
    let secret = SecretKey::from_bytes(&[1; 32]);
    let topic = TopicId::from_bytes([5; 32]);
    let p = Payload {
        nonce: 3,
        sent: NOW.0,
        body: MessageBody::Leave {
            from: secret.public(),
        },
    };
    let json = serde_json::to_vec(&p).unwrap();
    assert_eq!(
        sign_raw(&secret, &topic, &json),
        wire::seal(&secret, &topic, &p).unwrap()
    );
}

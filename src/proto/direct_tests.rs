use super::*;
use crate::proto::TopicId;
use crate::proto::wire;

fn key(seed: u8) -> SecretKey {
    SecretKey::from_bytes(&[seed; 32])
}

fn draft(to: EndpointId, text: &str) -> Draft<'_> {
    Draft {
        to,
        name: "al ice\u{1b}",
        text,
        action: false,
        file: None,
        sent: UnixMillis(1_000_000),
        nonce: 7,
        reply_to: None,
        change: None,
    }
}

fn offer(size: u64) -> wire::FileRef {
    wire::FileRef {
        hash: "ab".repeat(32),
        size,
        name: "report.pdf".into(),
        mime: "application/pdf".into(),
    }
}

#[test]
fn a_file_offer_travels_signed_and_comes_back_from_the_stored_envelope() {
    let (a, b) = (key(1), key(2));
    let file = offer(2_300_000);
    let sealed = seal_direct(
        &a,
        &Draft {
            file: Some(&file),
            ..draft(b.public(), "report.pdf")
        },
    )
    .unwrap();
    assert_eq!(sealed.message.file.as_ref(), Some(&file));
    let got = open_direct(&sealed.envelope, &b.public(), NOW).unwrap();
    assert_eq!(got.file, Some(file.clone()));
    assert_eq!(file_in_envelope(&sealed.envelope), Some(file));
    let plain = seal_direct(&a, &draft(b.public(), "hi")).unwrap();
    assert_eq!(file_in_envelope(&plain.envelope), None);
    assert_eq!(file_in_envelope(b"garbage"), None);
}

#[test]
fn an_absurd_file_offer_is_refused_whole() {
    let (a, b) = (key(1), key(2));
    let absurd = offer(u64::MAX);
    let sealed = seal_direct(
        &a,
        &Draft {
            file: Some(&absurd),
            ..draft(b.public(), "report.pdf")
        },
    )
    .unwrap();
    let refused = open_direct(&sealed.envelope, &b.public(), NOW).unwrap_err();
    assert!(refused.to_string().contains("bad file offer"), "{refused}");
}

const NOW: UnixMillis = UnixMillis(1_000_500);

#[test]
fn round_trip_names_both_sides_and_cleans_the_name() {
    let (a, b) = (key(1), key(2));
    let sealed = seal_direct(&a, &draft(b.public(), "hi")).unwrap();
    let got = open_direct(&sealed.envelope, &b.public(), NOW).unwrap();
    assert_eq!(got.from, a.public());
    assert_eq!(got.to, b.public());
    assert_eq!(got.text, "hi");
    assert_eq!(got.name, "al_ice");
    assert_eq!(got.state, DmState::Received);
    assert_eq!(got.id, sealed.message.id);
    assert_eq!(got.sent, sealed.message.sent);
    assert_eq!(
        conversation(&a.public(), &b.public()),
        conversation(&b.public(), &a.public())
    );
}

#[test]
fn tampering_wrong_addressee_and_forgery_are_rejected() {
    let (a, b, c) = (key(1), key(2), key(3));
    let sealed = seal_direct(&a, &draft(b.public(), "pay 10")).unwrap();
    // A byte of the text changed.
    let mut bytes = sealed.envelope.clone();
    let at = bytes.len() - 5;
    bytes[at] ^= 1;
    assert!(open_direct(&bytes, &b.public(), NOW).is_err());
    // Meant for B, shown to C.
    assert_eq!(
        open_direct(&sealed.envelope, &c.public(), NOW)
            .unwrap_err()
            .kind(),
        "wrong_addressee"
    );
    // C re-signs A's payload under its own key: the body names A.
    let mut forged = sealed.envelope.clone();
    forged[1..33].copy_from_slice(c.public().as_bytes());
    let rejection = open_direct(&forged, &b.public(), NOW).unwrap_err();
    assert_eq!(rejection.kind(), "from_mismatch");
    // A signature from the right key over another conversation.
    let other = seal_direct(&a, &draft(c.public(), "pay 10")).unwrap();
    let mut spliced = sealed.envelope.clone();
    spliced[33..97].copy_from_slice(&other.envelope[33..97]);
    assert_eq!(
        open_direct(&spliced, &b.public(), NOW).unwrap_err().kind(),
        "bad_signature"
    );
}

#[test]
fn a_dm_never_opens_as_a_room_message_nor_the_reverse() {
    let (a, b) = (key(1), key(2));
    let sealed = seal_direct(&a, &draft(b.public(), "secret")).unwrap();
    // Even in a room whose opener chose the conversation's own bytes as its topic.
    let topic = TopicId::from_bytes(conversation(&a.public(), &b.public()));
    assert!(wire::open(&sealed.envelope, &topic, NOW).is_err());
    let room_line = wire::seal(
        &a,
        &topic,
        &wire::Payload {
            nonce: 1,
            sent: 1_000_000,
            body: wire::MessageBody::Message {
                from: a.public(),
                text: "secret".into(),
                action: false,
                file: None,
                reply_to: None,
                change: None,
            },
        },
    )
    .unwrap();
    assert!(open_direct(&room_line, &b.public(), NOW).is_err());
}

#[test]
fn oversize_garbage_and_the_future_are_rejected_old_is_fine() {
    let (a, b) = (key(1), key(2));
    let me = b.public();
    assert_eq!(
        open_direct(&vec![1u8; MAX_ENVELOPE_SIZE + 1], &me, NOW)
            .unwrap_err()
            .kind(),
        "oversize"
    );
    assert_eq!(
        open_direct(&[1, 2, 3], &me, NOW).unwrap_err().kind(),
        "truncated"
    );
    assert!(open_direct(&vec![1u8; 400], &me, NOW).is_err());
    let long = "x".repeat(MAX_ENVELOPE_SIZE);
    assert!(seal_direct(&a, &draft(me, &long)).is_err());
    let mut future = draft(me, "later");
    future.sent = UnixMillis(NOW.0 + MAX_CLOCK_SKEW_MS + 1);
    let sealed = seal_direct(&a, &future).unwrap();
    assert_eq!(
        open_direct(&sealed.envelope, &me, NOW).unwrap_err().kind(),
        "future_timestamp"
    );
    let mut old = draft(me, "queued a week ago");
    old.sent = UnixMillis(1);
    let sealed = seal_direct(&a, &old).unwrap();
    assert!(open_direct(&sealed.envelope, &me, NOW).is_ok());
}

#[test]
fn acks_round_trip_and_junk_is_none() {
    let id = MessageId::from_bytes([9; 32]);
    for ack in [
        Ack::Saved(id),
        Ack::Refused(id),
        Ack::Invalid(id),
        Ack::Busy(id),
    ] {
        assert_eq!(Ack::decode(&ack.encode()), Some(ack));
    }
    assert_eq!(Ack::decode(&[]), None);
    assert_eq!(Ack::decode(&[0; 5]), None);
    let mut bad = Ack::Saved(id).encode();
    bad[0] = 9;
    assert_eq!(Ack::decode(&bad), None);
    for state in [DmState::Pending, DmState::Delivered, DmState::Received] {
        assert_eq!(DmState::from_code(state.code()), Some(state));
    }
}

#[test]
fn replies_and_changes_travel_signed_and_come_back_from_the_stored_envelope() {
    use crate::proto::room::{ChangeKind, LineChange};
    let (a, b) = (key(1), key(2));
    let parent = MessageId::of(b"the message answered");
    let change = LineChange {
        to: parent,
        kind: ChangeKind::React {
            emoji: "🎉".into(),
            on: true,
        },
    };
    let reply = seal_direct(
        &a,
        &Draft {
            reply_to: Some(parent),
            ..draft(b.public(), "agreed")
        },
    )
    .unwrap();
    let opened = open_direct(&reply.envelope, &b.public(), UnixMillis(1_000_000)).unwrap();
    assert_eq!(opened.reply_to.as_deref(), Some(&parent));
    let reacted = seal_direct(
        &a,
        &Draft {
            change: Some(&change),
            ..draft(b.public(), "reacted 🎉")
        },
    )
    .unwrap();
    let opened = open_direct(&reacted.envelope, &b.public(), UnixMillis(1_000_000)).unwrap();
    assert_eq!(opened.change.as_deref(), Some(&change));
    assert_eq!(
        about_in_envelope(&reacted.envelope).1.as_deref(),
        Some(&change)
    );
    // A change that names no message (or no emoji) is refused whole.
    let mut json: serde_json::Value =
        serde_json::from_slice(&reacted.envelope[wire::HEADER_LEN..]).unwrap();
    json["change"]["react"]["emoji"] = "two words".into();
    let bad = serde_json::to_vec(&json).unwrap();
    let signature = a.sign(&signed_bytes(&a.public(), &b.public(), &bad));
    let envelope = wire::frame(&a.public(), &signature, &bad);
    let refused = open_direct(&envelope, &b.public(), UnixMillis(1_000_000));
    assert!(
        matches!(
            refused,
            Err(DirectRejection::Envelope(Rejection::Malformed(_)))
        ),
        "{refused:?}"
    );
}

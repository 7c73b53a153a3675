//! File offers: a line whose text is the file's name and which carries its hash, size and
//! media type; checked on arrival (live and from history) and before we send one.

use super::hostile_tests::{TOPIC, events, joined_room, seal, secret};
use super::*;
use crate::proto::wire::{FileRef, MessageBody};

fn offer(name: &str) -> FileRef {
    FileRef {
        hash: "ab".repeat(32),
        size: 2_411_724,
        name: name.into(),
        mime: "application/pdf".into(),
    }
}

fn shared(key: &SecretKey, file: FileRef, sent: UnixMillis, nonce: u64) -> Vec<u8> {
    let body = MessageBody::Message {
        from: key.public(),
        text: file.name.clone(),
        action: false,
        file: Some(file),
        reply_to: None,
        change: None,
    };
    seal(key, sent, nonce, body)
}

#[test]
fn a_shared_file_arrives_as_a_line_naming_it() {
    let (mut room, now) = joined_room();
    let bob = secret(2);
    let got = events(room.handle(
        Input::Received(shared(&bob, offer("report.pdf"), now.wall, 1)),
        now,
    ));
    let line = got
        .iter()
        .find_map(|e| match e {
            Event::MessageReceived(line) => Some(line.clone()),
            _ => None,
        })
        .expect("a line");
    assert_eq!(line.text, "report.pdf", "older peers show the name");
    assert_eq!(line.file, Some(offer("report.pdf")));
}

#[test]
fn hostile_offers_are_dropped_and_counted_live_and_from_history() {
    let (mut room, now) = joined_room();
    let bob = secret(2);
    let bad = [
        FileRef {
            hash: "not a hash".into(),
            ..offer("a")
        },
        FileRef {
            hash: "AB".repeat(32),
            ..offer("a")
        },
        FileRef {
            size: u64::MAX,
            ..offer("a")
        },
        FileRef {
            name: " ".into(),
            ..offer("a")
        },
        FileRef {
            name: "x".repeat(300),
            ..offer("a")
        },
        FileRef {
            mime: "text/html; charset=\u{1b}[2J".into(),
            ..offer("a")
        },
    ];
    for (i, file) in bad.iter().enumerate() {
        let got = events(room.handle(
            Input::Received(shared(&bob, file.clone(), now.wall, i as u64 + 10)),
            now,
        ));
        assert!(
            !got.iter().any(|e| matches!(e, Event::MessageReceived(_))),
            "{file:?}"
        );
    }
    assert_eq!(room.stats().rejected.get("bad file offer"), Some(&6));
    // The same from a catch-up answer.
    let envelopes = bad
        .iter()
        .enumerate()
        .map(|(i, file)| shared(&bob, file.clone(), now.wall, i as u64 + 100))
        .collect();
    let batch = wire::check_batch(envelopes, &TOPIC, now.wall);
    let got = events(room.handle(Input::CheckedHistory(batch), now));
    assert!(!got.iter().any(|e| matches!(e, Event::MessageReceived(_))));
    assert_eq!(room.stats().rejected.get("bad file offer"), Some(&12));
}

#[test]
fn we_share_a_file_as_a_signed_line_and_refuse_a_bad_offer() {
    let (mut room, now) = joined_room();
    let outputs = room.handle(Input::ShareFile(offer("build.tar.gz")), now);
    let broadcast = outputs
        .iter()
        .find_map(|o| match o {
            Output::Broadcast(bytes) => Some(bytes.clone()),
            _ => None,
        })
        .expect("broadcast");
    let verified = wire::Verifier::default()
        .open(&broadcast, &TOPIC, now.wall)
        .expect("a valid envelope");
    assert!(matches!(
        verified.body,
        MessageBody::Message { ref text, file: Some(ref file), .. }
            if text == "build.tar.gz" && *file == offer("build.tar.gz")
    ));
    let refused = events(room.handle(
        Input::ShareFile(FileRef {
            size: u64::MAX,
            ..offer("huge")
        }),
        now,
    ));
    assert!(matches!(
        refused.as_slice(),
        [Event::Refused {
            refusal: Refusal::BadFile(_),
            attempt: Attempt::Share(_)
        }]
    ));
}

#[test]
fn a_line_without_a_file_is_sent_as_before() {
    // Peers that predate files parse what we send: no `file` field unless there is one.
    let body = MessageBody::Message {
        from: secret(1).public(),
        text: "hi".into(),
        action: false,
        file: None,
        reply_to: None,
        change: None,
    };
    let json = serde_json::to_string(&body).unwrap();
    assert!(!json.contains("file"), "{json}");
}

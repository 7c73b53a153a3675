//! Validly signed envelopes built from fuzz-chosen fields, so the fuzzer gets past the
//! signature check: the payload parser sees hostile JSON that a member's key really signed,
//! and tampering after signing must always be refused.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use parlor::proto::wire::{self, MAX_CLOCK_SKEW_MS, MAX_ENVELOPE_SIZE, MessageBody, Payload};
use parlor::proto::{EndpointId, TopicId};
use parlor_fuzz::{NOW, check_verified, other, sign_raw, signer, topic};

#[derive(Arbitrary, Debug)]
enum Author {
    Signer,
    /// Someone else's key: a forgery the receiver must catch.
    Other,
    /// Whatever text: another spelling of a key, or junk.
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Body {
    WhoIsThere(Author),
    AboutMe(Author, String),
    Message(Author, String, bool),
    Leave(Author),
}

/// A byte-level edit; positions wrap around the buffer's length.
#[derive(Arbitrary, Debug)]
enum Edit {
    Truncate(u16),
    Set(u16, u8),
    Insert(u16, Vec<u8>),
    Remove(u16, u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    nonce: u64,
    sent: u64,
    body: Body,
    /// Applied to the JSON before it is signed: hostile payloads with valid signatures.
    resign: Vec<Edit>,
    /// Applied to the signed envelope: any change at all must be refused.
    tamper: Vec<Edit>,
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for edit in edits {
        let at = |i: u16, len: usize| if len == 0 { 0 } else { i as usize % (len + 1) };
        match edit {
            Edit::Truncate(n) => bytes.truncate(at(*n, bytes.len())),
            Edit::Set(i, b) if !bytes.is_empty() => {
                let i = *i as usize % bytes.len();
                bytes[i] = *b;
            }
            Edit::Set(..) => {}
            Edit::Insert(i, new) => {
                let i = at(*i, bytes.len());
                bytes.splice(i..i, new.iter().copied());
            }
            Edit::Remove(i, n) => {
                let i = at(*i, bytes.len());
                let end = (i + *n as usize).min(bytes.len());
                bytes.drain(i..end);
            }
        }
    }
}

fn key_of(author: &Author) -> Option<EndpointId> {
    match author {
        Author::Signer => Some(signer().public()),
        Author::Other => Some(other().public()),
        Author::Text(_) => None,
    }
}

/// The payload's JSON: what `seal` writes when the author is a key, else the same with the
/// `from` text swapped in.
fn payload_json(input: &Input) -> (Vec<u8>, Option<Payload>) {
    let (author, with) = match &input.body {
        Body::WhoIsThere(a) | Body::Leave(a) => (a, None),
        Body::AboutMe(a, name) => (a, Some((name.clone(), false))),
        Body::Message(a, text, action) => (a, Some((text.clone(), *action))),
    };
    let from = key_of(author).unwrap_or(signer().public());
    let body = match (&input.body, with) {
        (Body::WhoIsThere(_), _) => MessageBody::WhoIsThere { from },
        (Body::Leave(_), _) => MessageBody::Leave { from },
        (Body::AboutMe(..), Some((name, _))) => MessageBody::AboutMe {
            from,
            name,
            every: None,
        },
        (_, Some((text, action))) => MessageBody::Message { from, text, action, file: None, reply_to: None, change: None },
        (_, None) => unreachable!("bodies with text carry it"),
    };
    let payload = Payload {
        nonce: input.nonce,
        sent: input.sent,
        body,
    };
    match author {
        Author::Text(text) => {
            let mut value = serde_json::to_value(&payload).unwrap();
            value["body"]["from"] = serde_json::Value::String(text.clone());
            (serde_json::to_vec(&value).unwrap(), None)
        }
        _ => (serde_json::to_vec(&payload).unwrap(), Some(payload)),
    }
}

fuzz_target!(|input: Input| {
    let (mut json, payload) = payload_json(&input);
    let sealed = payload
        .as_ref()
        .filter(|_| input.resign.is_empty())
        .map(|p| wire::seal(&signer(), &topic(), p));
    apply(&mut json, &input.resign);
    let envelope = sign_raw(&signer(), &topic(), &json);
    let result = wire::open(&envelope, &topic(), NOW);
    if let Ok(verified) = &result {
        check_verified(verified, &envelope);
    }

    // Untouched payloads: seal agrees with the documented framing, and the verdict is exact.
    if let (Some(sealed), Some(payload)) = (sealed, &payload) {
        match sealed {
            Ok(bytes) => assert_eq!(bytes, envelope, "seal frames as documented"),
            Err(_) => assert!(envelope.len() > MAX_ENVELOPE_SIZE),
        }
        let fits = envelope.len() <= MAX_ENVELOPE_SIZE;
        let in_time = input.sent <= NOW.0 + MAX_CLOCK_SKEW_MS;
        let honest = *payload.body.from() == signer().public();
        match &result {
            Ok(v) => {
                assert!(fits && in_time && honest);
                assert_eq!(v.body, payload.body);
                assert_eq!(v.sent.0, input.sent);
            }
            Err(e) => assert!(!(fits && in_time && honest), "refused: {e}"),
        }
        // The topic is signed: the same bytes are refused in any other room.
        let elsewhere = TopicId::from_bytes([6; 32]);
        assert!(wire::open(&envelope, &elsewhere, NOW).is_err());
    }

    let mut tampered = envelope.clone();
    apply(&mut tampered, &input.tamper);
    if tampered != envelope {
        assert!(
            wire::open(&tampered, &topic(), NOW).is_err(),
            "tampering accepted"
        );
    }
});

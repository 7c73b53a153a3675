//! The catch-up protocol's framing: requests and answers round-trip, and no byte string makes
//! the decoders panic.

use parlor::net::history::{
    HistoryRequest, MAX_ANSWER_ENVELOPES, MAX_REQUEST_BYTES, decode_request, encode_request,
    parse_answer, request_len,
};
use parlor::proto::backlog::Page;
use parlor::proto::wire::MAX_ENVELOPE_SIZE;
use parlor::proto::{TopicId, UnixMillis};
use proptest::prelude::*;

/// Requests as parlor sends them: `since` is a time SQLite holds (later ones are refused,
/// see `requests_past_any_time_are_refused`).
fn request() -> impl Strategy<Value = HistoryRequest> {
    (
        any::<[u8; 32]>(),
        0..=i64::MAX as u64,
        any::<u32>(),
        any::<bool>(),
    )
        .prop_map(|(topic, since, limit, oldest)| HistoryRequest {
            topic: TopicId::from_bytes(topic),
            since: UnixMillis(since),
            limit,
            page: if oldest { Page::Oldest } else { Page::Newest },
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn requests_round_trip_within_the_bound(request in request()) {
        let frame = encode_request(&request);
        let (prefix, body) = frame.split_at(4);
        let len = request_len(prefix.try_into().unwrap()).unwrap();
        prop_assert_eq!(len, body.len());
        prop_assert!(len <= MAX_REQUEST_BYTES as usize);
        prop_assert_eq!(decode_request(body).unwrap(), request);
    }

    #[test]
    fn requests_past_any_time_are_refused(request in request(), past in (i64::MAX as u64 + 1)..) {
        let request = HistoryRequest { since: UnixMillis(past), ..request };
        let frame = encode_request(&request);
        prop_assert!(decode_request(&frame[4..]).is_err());
    }

    #[test]
    fn request_decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_request(&bytes);
        if let Some((prefix, _)) = bytes.split_first_chunk::<4>() {
            let _ = request_len(*prefix);
        }
    }

    #[test]
    fn request_json_with_wrong_fields_never_panics(
        topic in "[0-9a-fA-F ]{0,70}",
        since in any::<i64>(),
        limit in any::<i64>(),
        page in "[a-z]{0,8}",
    ) {
        let body = format!(
            r#"{{"topic":"{topic}","since":{since},"limit":{limit},"page":"{page}"}}"#
        );
        if let Ok(request) = decode_request(body.as_bytes()) {
            prop_assert_eq!(request.since.0 as i64, since);
            prop_assert_eq!(i64::from(request.limit), limit);
        }
    }

    #[test]
    fn answers_round_trip(envelopes in prop::collection::vec(
        prop::collection::vec(any::<u8>(), 0..200), 0..20,
    )) {
        let mut framed = Vec::new();
        for envelope in &envelopes {
            framed.extend_from_slice(&(envelope.len() as u32).to_be_bytes());
            framed.extend_from_slice(envelope);
        }
        prop_assert_eq!(parse_answer(&framed).unwrap(), envelopes);
        if !framed.is_empty() {
            prop_assert!(parse_answer(&framed[..framed.len() - 1]).is_err(), "truncation");
        }
    }

    #[test]
    fn answer_framing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(envelopes) = parse_answer(&bytes) {
            prop_assert!(envelopes.len() <= MAX_ANSWER_ENVELOPES);
            prop_assert!(envelopes.iter().all(|e| e.len() <= MAX_ENVELOPE_SIZE));
        }
    }
}

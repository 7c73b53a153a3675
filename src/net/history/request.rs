//! A catch-up request as both sides see it. The wire form is [`Request`]; these functions are
//! the only way in and out of it, so the fuzz targets and property tests exercise exactly the
//! code the network runs.

use super::{MAX_REQUEST_BYTES, Request};
use crate::proto::backlog::Page;
use crate::proto::{TopicId, UnixMillis};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryRequest {
    pub topic: TopicId,
    pub since: UnixMillis,
    pub limit: u32,
    pub page: Page,
}

/// A request as sent: `u32 BE length ‖ JSON`.
pub fn encode_request(request: &HistoryRequest) -> Vec<u8> {
    // Serializing a struct of strings and integers to JSON cannot fail.
    let json = serde_json::to_vec(&Request {
        topic: request.topic.to_string(),
        since: request.since.0,
        limit: request.limit,
        page: request.page,
    })
    .unwrap_or_default();
    let mut frame = (json.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&json);
    frame
}

/// The body length a request's 4-byte prefix announces; refused above the request bound before
/// anything is allocated.
pub fn request_len(prefix: [u8; 4]) -> anyhow::Result<usize> {
    let len = u32::from_be_bytes(prefix);
    anyhow::ensure!(len <= MAX_REQUEST_BYTES, "request of {len} bytes");
    Ok(len as usize)
}

/// A request's JSON body, decoded and checked.
pub fn decode_request(body: &[u8]) -> anyhow::Result<HistoryRequest> {
    let request: Request = serde_json::from_slice(body)?;
    let topic: TopicId = request.topic.parse().map_err(anyhow::Error::msg)?;
    // Times are stored as SQLite's signed 64-bit integers: a `since` past them would wrap to
    // a negative time and ask for everything, whatever the history window (issue 25).
    anyhow::ensure!(
        i64::try_from(request.since).is_ok(),
        "a `since` of {} is past any time",
        request.since
    );
    Ok(HistoryRequest {
        topic,
        since: UnixMillis(request.since),
        limit: request.limit,
        page: request.page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_oversize_is_refused() {
        let request = HistoryRequest {
            topic: TopicId::from_bytes([3; 32]),
            since: UnixMillis(42),
            limit: 7,
            page: Page::Oldest,
        };
        let frame = encode_request(&request);
        let (prefix, body) = frame.split_at(4);
        assert_eq!(request_len(prefix.try_into().unwrap()).unwrap(), body.len());
        assert_eq!(decode_request(body).unwrap(), request);
        assert!(request_len((MAX_REQUEST_BYTES + 1).to_be_bytes()).is_err());
        // A time past what the store can hold is refused, not wrapped to "everything".
        let past = format!(
            r#"{{"topic":"{}","since":{},"limit":2}}"#,
            request.topic,
            u64::MAX
        );
        assert!(decode_request(past.as_bytes()).is_err());
        // The first version sent no page: it means the newest.
        let old = format!(r#"{{"topic":"{}","since":1,"limit":2}}"#, request.topic);
        assert_eq!(decode_request(old.as_bytes()).unwrap().page, Page::Newest);
    }
}

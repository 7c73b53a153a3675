//! A catch-up request as a stranger may send it: the length check and the decoder never
//! panic, and whatever decodes encodes back to the same request within the size bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parlor::net::history::{MAX_REQUEST_BYTES, decode_request, encode_request, request_len};

fn check(body: &[u8]) {
    if let Ok(request) = decode_request(body) {
        let frame = encode_request(&request);
        assert!(frame.len() - 4 <= MAX_REQUEST_BYTES as usize);
        assert_eq!(decode_request(&frame[4..]).unwrap(), request);
    }
}

fuzz_target!(|data: &[u8]| {
    // As the server reads it: a length prefix, then (if allowed) that many bytes.
    if let Some((prefix, rest)) = data.split_first_chunk::<4>()
        && let Ok(len) = request_len(*prefix)
    {
        assert!(len <= MAX_REQUEST_BYTES as usize);
        check(&rest[..len.min(rest.len())]);
    }
    check(data);
});

//! Key delivery over loopback: a member gets the answer, anyone else and an unknown room are
//! refused alike, a malformed request is cut off, and the asker's key is the connection's.

use std::time::Duration;

use iroh::Endpoint;
use iroh::protocol::Router;

use super::super::history::tests::{LOOKUP, endpoint_with};
use super::*;
use crate::proto::SecretKey;

/// A loopback endpoint others can find (the history tests' lookup).
async fn endpoint(secret: SecretKey) -> Endpoint {
    let endpoint = endpoint_with(secret).await;
    LOOKUP.add_endpoint_info(endpoint.addr());
    endpoint
}

#[test]
fn requests_round_trip_and_anything_else_is_refused() {
    let room = RoomId::from_bytes([9; 32]);
    let bytes = encode_key_request(&room, 7);
    assert_eq!(decode_key_request(&bytes).unwrap(), (room, 7));
    assert!(decode_key_request(&bytes[..40]).is_err(), "short");
    let mut newer = bytes;
    newer[0] = 2;
    assert!(decode_key_request(&newer).is_err(), "another version");
}

#[tokio::test]
async fn a_member_gets_the_key_and_nobody_else_learns_anything() {
    let member = SecretKey::generate();
    let member_id = member.public();
    let room = RoomId::from_bytes([4; 32]);
    let routes = KeyRoutes::default();
    let mut queries = routes.add(room);
    // The room's session: the key for its member, nothing for anyone else.
    tokio::spawn(async move {
        while let Some(query) = queries.recv().await {
            let answer = (query.peer == member_id && query.room == room)
                .then(|| format!("state+key for epoch > {}", query.have_epoch).into_bytes());
            let _ = query.reply.send(answer);
        }
    });
    let server = Router::builder(endpoint(SecretKey::generate()).await)
        .accept(KEYS_ALPN, KeyServer::new(routes))
        .spawn();
    let at = server.endpoint().addr();

    let asker = endpoint(member).await;
    let answer = fetch_key(&asker, at.clone(), room, 3).await.unwrap();
    assert_eq!(answer, b"state+key for epoch > 3");

    // Someone else, asking for the same room: refused, exactly as for a room nobody has.
    let stranger = endpoint(SecretKey::generate()).await;
    let refused = fetch_key(&stranger, at.clone(), room, 0).await;
    assert!(
        matches!(refused, Err(KeyFetchError::Refused)),
        "{refused:?}"
    );
    let unknown = fetch_key(&asker, at.clone(), RoomId::from_bytes([5; 32]), 0).await;
    assert!(
        matches!(unknown, Err(KeyFetchError::Refused)),
        "{unknown:?}"
    );

    // A malformed request is cut off with a close code, not answered.
    let conn = stranger.connect(at, KEYS_ALPN).await.unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    let mut bad = encode_key_request(&room, 0);
    bad[0] = 9;
    send.write_all(&bad).await.unwrap();
    send.finish().unwrap();
    let read = tokio::time::timeout(Duration::from_secs(20), recv.read_to_end(64)).await;
    assert!(matches!(read, Ok(Err(_))), "{read:?}");
    server.shutdown().await.unwrap();
}

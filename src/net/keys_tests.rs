//! Key delivery over loopback: a member gets the answer, anyone else and an unknown room are
//! refused alike, a malformed request is cut off, and the asker's key is the connection's.

use std::time::Duration;

use iroh::Endpoint;
use iroh::protocol::Router;
use tokio::sync::mpsc;

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
    assert_eq!(bytes[0], ASK_MEMBER);
    assert_eq!(decode_key_request(&bytes[1..]).unwrap(), (room, 7));
    assert!(decode_key_request(&bytes[1..40]).is_err(), "short");
}

/// A room's session as the tests play it: the key for `member`; for an invite "good", the
/// log "log", then the key once the join signed on it arrives.
fn play_room(mut queries: mpsc::Receiver<KeyQuery>, member: EndpointId, room: RoomId) {
    tokio::spawn(async move {
        while let Some(query) = queries.recv().await {
            let answer = match (&query.ask, query.room == room) {
                (_, false) => Err("no such room".to_string()),
                (KeyAsk::Member { have_epoch }, true) if query.peer == member => {
                    Ok(format!("state+key for epoch > {have_epoch}").into_bytes())
                }
                (KeyAsk::Member { .. }, true) => Err("not a member".into()),
                (KeyAsk::Invite { invite }, true) if invite == b"good" => Ok(b"log".to_vec()),
                (KeyAsk::Invite { .. }, true) => Err("this invite was revoked".into()),
                (KeyAsk::Join { invite, op }, true) => {
                    assert_eq!(invite, b"good");
                    Ok([b"key for ".as_slice(), op].concat())
                }
            };
            let _ = query.reply.send(answer);
        }
    });
}

#[tokio::test]
async fn a_member_gets_the_key_and_nobody_else_learns_anything() {
    let member = SecretKey::generate();
    let room = RoomId::from_bytes([4; 32]);
    let routes = KeyRoutes::default();
    play_room(routes.add(room), member.public(), room);
    let server = Router::builder(endpoint(SecretKey::generate()).await)
        .accept(KEYS_ALPN, KeyServer::new(routes))
        .spawn();
    let at = server.endpoint().addr();

    let asker = endpoint(member).await;
    let answer = fetch_key(&asker, at.clone(), room, 3).await.unwrap();
    assert_eq!(answer, b"state+key for epoch > 3");

    // Someone else, asking for the same room: refused, and told why.
    let stranger = endpoint(SecretKey::generate()).await;
    let refused = fetch_key(&stranger, at.clone(), room, 0).await;
    assert!(
        matches!(&refused, Err(KeyFetchError::Refused(why)) if why == "not a member"),
        "{refused:?}"
    );
    let unknown = fetch_key(&asker, at.clone(), RoomId::from_bytes([5; 32]), 0).await;
    assert!(
        matches!(&unknown, Err(KeyFetchError::Refused(why)) if why == NO_ROOM),
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

#[tokio::test]
async fn an_invite_gets_the_log_then_the_key_for_the_join_signed_on_it() {
    let room = RoomId::from_bytes([6; 32]);
    let routes = KeyRoutes::default();
    play_room(routes.add(room), SecretKey::generate().public(), room);
    let server = Router::builder(endpoint(SecretKey::generate()).await)
        .accept(KEYS_ALPN, KeyServer::new(routes))
        .spawn();
    let at = server.endpoint().addr();
    let joiner = endpoint(SecretKey::generate()).await;

    let answer = redeem(&joiner, at.clone(), room, b"good", |log| {
        assert_eq!(log, b"log");
        Ok(b"join on log".to_vec())
    })
    .await
    .unwrap();
    assert_eq!(answer, b"key for join on log");

    // A refused invite never gets to signing; a joiner that will not sign sends nothing.
    let refused = redeem(&joiner, at.clone(), room, b"old", |_| unreachable!()).await;
    assert!(
        matches!(&refused, Err(KeyFetchError::Refused(why)) if why.contains("revoked")),
        "{refused:?}"
    );
    let declined = redeem(&joiner, at, room, b"good", |_| Err("not our room".into())).await;
    assert!(
        matches!(&declined, Err(KeyFetchError::Refused(why)) if why == "not our room"),
        "{declined:?}"
    );
    server.shutdown().await.unwrap();
}

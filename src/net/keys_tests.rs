//! Key delivery over loopback: a member gets the answer, anyone else and an unknown room are
//! refused alike, a malformed request is cut off, and the asker's key is the connection's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
/// log "log", then the key once the join signed on it arrives; a knock by "hold" held
/// unanswered, any other let in.
/// Returns how many knocks it holds.
fn play_room(
    mut queries: mpsc::Receiver<KeyQuery>,
    member: EndpointId,
    room: RoomId,
) -> Arc<AtomicUsize> {
    let holding = Arc::new(AtomicUsize::new(0));
    let counted = holding.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Some(query) = queries.recv().await {
            let answer = match (&query.ask, query.room == room) {
                (KeyAsk::Knock { name }, true) if name == "hold" => {
                    held.push(query.reply);
                    counted.store(held.len(), Ordering::SeqCst);
                    continue;
                }
                (KeyAsk::Knock { name }, true) => Ok(format!("let {name} in").into_bytes()),
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
            let _ = query.reply.send(answer.map_err(Refusal::from));
        }
    });
    holding
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
        matches!(&refused, Err(KeyFetchError::Refused(why)) if why.reason == "not a member"),
        "{refused:?}"
    );
    let unknown = fetch_key(&asker, at.clone(), RoomId::from_bytes([5; 32]), 0).await;
    assert!(
        matches!(&unknown, Err(KeyFetchError::Refused(why)) if why.kind == RefusalKind::NoRoom && why.reason == NO_ROOM),
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
        matches!(&refused, Err(KeyFetchError::Refused(why)) if why.reason.contains("revoked")),
        "{refused:?}"
    );
    let declined = redeem(&joiner, at, room, b"good", |_| Err("not our room".into())).await;
    assert!(
        matches!(&declined, Err(KeyFetchError::Refused(why)) if why.reason == "not our room"),
        "{declined:?}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn knocks_are_held_in_their_own_places_one_per_peer() {
    let member = SecretKey::generate();
    let room = RoomId::from_bytes([8; 32]);
    let routes = KeyRoutes::default();
    let holding = play_room(routes.add(room), member.public(), room);
    let server = Router::builder(endpoint(SecretKey::generate()).await)
        .accept(KEYS_ALPN, KeyServer::new(routes))
        .spawn();
    let at = server.endpoint().addr();

    // A knock answered: what the room said.
    let knocker = endpoint(SecretKey::generate()).await;
    let answer = knock(&knocker, at.clone(), room, "dave").await.unwrap();
    assert_eq!(answer, b"let dave in");

    // Every place for knocks taken by knocks no admin answers, each by its own peer (one
    // that came while the last knock's place was still being given back knocks again)...
    let mut held = Vec::new();
    for _ in 0..KNOCKS_HELD {
        let (knocker, at) = (endpoint(SecretKey::generate()).await, at.clone());
        held.push(tokio::spawn(async move {
            loop {
                match knock(&knocker, at.clone(), room, "hold").await {
                    Err(KeyFetchError::Refused(why)) if why.reason.contains("too many") => {}
                    other => return other,
                }
            }
        }));
    }
    let all_held = async {
        while holding.load(Ordering::SeqCst) < KNOCKS_HELD {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), all_held)
        .await
        .expect("every knock held");
    // ... one more is turned away, while a member still gets the key: waiting knocks never
    // take the places key fetches need.
    let late = knock(&knocker, at.clone(), room, "late").await;
    assert!(
        matches!(&late, Err(KeyFetchError::Refused(why)) if why.reason.contains("too many")),
        "{late:?}"
    );
    let asker = endpoint(member).await;
    let answer = fetch_key(&asker, at.clone(), room, 1).await.unwrap();
    assert_eq!(answer, b"state+key for epoch > 1");
    assert!(
        held.iter().all(|k| !k.is_finished()),
        "knocks are still held"
    );
    for knock in held {
        knock.abort();
    }
    server.shutdown().await.unwrap();
}

use super::*;
use crate::proto::direct::{Draft, seal_direct};
use crate::proto::{SecretKey, TopicId};

fn key(seed: u8) -> SecretKey {
    SecretKey::from_bytes(&[seed; 32])
}

fn dm(from: &SecretKey, to: &SecretKey, text: &str, sent: u64) -> SealedDirect {
    seal_direct(
        from,
        &Draft {
            to: to.public(),
            name: "someone",
            text,
            action: false,
            file: None,
            sent: UnixMillis(sent),
            nonce: sent,
            reply_to: None,
            change: None,
        },
    )
    .unwrap()
}

fn received(mut sealed: SealedDirect) -> SealedDirect {
    sealed.message.state = DmState::Received;
    sealed
}

const NOW: UnixMillis = UnixMillis(10_000);

#[test]
fn own_messages_queue_deliver_and_stay_in_order() {
    let store = Store::in_memory().unwrap();
    let (me, bob) = (key(1), key(2));
    let later = dm(&me, &bob, "second", 200);
    let first = dm(&me, &bob, "first", 100);
    store.queue_direct(&later, NOW).unwrap();
    store.queue_direct(&first, NOW).unwrap();
    let pending = store.pending_direct().unwrap();
    let texts: Vec<_> = pending.iter().map(|s| s.message.text.as_str()).collect();
    assert_eq!(texts, ["first", "second"]);
    assert_eq!(pending[0].envelope, first.envelope);
    assert!(store.mark_direct_delivered(first.message.id).unwrap());
    assert!(!store.mark_direct_delivered(first.message.id).unwrap());
    let page = store.direct_page(bob.public(), 10).unwrap();
    assert_eq!(page[0].state, DmState::Delivered);
    assert_eq!(page[1].state, DmState::Pending);
    assert_eq!(
        store.direct_page(bob.public(), 1).unwrap()[0].text,
        "second"
    );
    let list = store.direct_conversations().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].peer, list[0].pending, list[0].last),
        (bob.public(), 1, UnixMillis(200))
    );
    assert_eq!(list[0].name, None);
}

#[test]
fn pending_is_capped_per_peer() {
    let store = Store::in_memory().unwrap();
    let (me, bob, carol) = (key(1), key(2), key(3));
    for i in 0..MAX_PENDING_PER_PEER as u64 {
        store.queue_direct(&dm(&me, &bob, "x", i), NOW).unwrap();
    }
    let err = store
        .queue_direct(&dm(&me, &bob, "x", 5000), NOW)
        .unwrap_err();
    assert!(matches!(err, QueueError::PendingFull { .. }), "{err}");
    store.queue_direct(&dm(&me, &carol, "x", 1), NOW).unwrap();
}

#[test]
fn received_messages_are_deduplicated_and_strangers_refused() {
    let store = Store::in_memory().unwrap();
    let (me, bob, eve) = (key(1), key(2), key(3));
    let from_eve = received(dm(&eve, &me, "hello", 1));
    assert_eq!(
        store.receive_direct(&from_eve, false, NOW).unwrap(),
        Receipt::Stranger
    );
    assert!(store.direct_page(eve.public(), 10).unwrap().is_empty());
    // Bob is a member of a room we keep.
    let topic = TopicId::from_bytes([5; 32]);
    store.remember_room(topic, None, &[], "me", NOW).unwrap();
    store
        .save_member(topic, bob.public(), "bob", NOW, b"env", NOW)
        .unwrap();
    assert!(store.direct_allowed(bob.public()).unwrap());
    let from_bob = received(dm(&bob, &me, "hello there", 1));
    assert_eq!(
        store.receive_direct(&from_bob, false, NOW).unwrap(),
        Receipt::New
    );
    assert_eq!(
        store.receive_direct(&from_bob, false, NOW).unwrap(),
        Receipt::Duplicate
    );
    assert_eq!(store.direct_page(bob.public(), 10).unwrap().len(), 1);
    // Known to the session (a live room), even with nothing on disk.
    assert_eq!(
        store.receive_direct(&from_eve, true, NOW).unwrap(),
        Receipt::New
    );
    // Once we wrote to someone, they may answer.
    let dave = key(4);
    assert!(!store.direct_allowed(dave.public()).unwrap());
    store.queue_direct(&dm(&me, &dave, "hi", 2), NOW).unwrap();
    assert!(store.direct_allowed(dave.public()).unwrap());
    let list = store.direct_conversations().unwrap();
    let bobs = list.iter().find(|c| c.peer == bob.public()).unwrap();
    assert_eq!(bobs.name.as_deref(), Some("someone"));
}

#[test]
fn search_finds_words_per_conversation_or_everywhere() {
    let store = Store::in_memory().unwrap();
    let (me, bob, carol) = (key(1), key(2), key(3));
    store
        .queue_direct(&dm(&me, &bob, "lunch at noon?", 1), NOW)
        .unwrap();
    store
        .queue_direct(&dm(&me, &carol, "lunch tomorrow", 2), NOW)
        .unwrap();
    store
        .receive_direct(&received(dm(&bob, &me, "yes NOON works", 3)), true, NOW)
        .unwrap();
    assert_eq!(store.search_direct(None, "lunch", 10).unwrap().len(), 2);
    // Words are prefixes; a quoted phrase is those words in that order.
    assert_eq!(store.search_direct(None, "lun", 10).unwrap().len(), 2);
    let phrase = store.search_direct(None, "\"lunch at\"", 10).unwrap();
    assert_eq!(phrase.len(), 1);
    assert_eq!(phrase[0].text, "lunch at noon?");
    let bob_noon = store.search_direct(Some(bob.public()), "noon", 10).unwrap();
    assert_eq!(bob_noon.len(), 2);
    assert_eq!(bob_noon[0].text, "yes NOON works");
    assert!(
        store
            .search_direct(Some(carol.public()), "noon", 10)
            .unwrap()
            .is_empty()
    );
    // Query syntax is taken as words.
    assert!(
        store
            .search_direct(None, "\"AND* -", 10)
            .unwrap()
            .is_empty()
    );
    assert!(store.search_direct(None, "   ", 10).unwrap().is_empty());
}

#[test]
fn pending_is_capped_in_all() {
    let store = Store::in_memory().unwrap();
    let me = key(1);
    let peers = MAX_PENDING_TOTAL / MAX_PENDING_PER_PEER;
    for p in 0..peers {
        let to = key(10 + p as u8);
        for i in 0..MAX_PENDING_PER_PEER as u64 {
            store.queue_direct(&dm(&me, &to, "x", i), NOW).unwrap();
        }
    }
    let err = store
        .queue_direct(&dm(&me, &key(200), "x", 1), NOW)
        .unwrap_err();
    assert!(matches!(err, QueueError::PendingTotal { .. }), "{err}");
}

#[test]
fn a_long_conversation_loses_its_oldest_lines_but_not_what_waits() {
    let store = Store::in_memory().unwrap();
    let (me, bob) = (key(1), key(2));
    let waiting = dm(&me, &bob, "still waiting", 1);
    store.queue_direct(&waiting, NOW).unwrap();
    for i in 0..30u64 {
        let sealed = received(dm(&bob, &me, &format!("line {i}"), 100 + i));
        assert_eq!(
            store.receive_direct(&sealed, true, NOW).unwrap(),
            Receipt::New
        );
    }
    store.trim_conversation(bob.public(), 20).unwrap();
    let page = store.direct_page(bob.public(), 100).unwrap();
    assert_eq!(page.len(), 20);
    assert_eq!(page[0].text, "still waiting", "the pending one stays");
    assert_eq!(page[1].text, "line 11");
    assert_eq!(page.last().unwrap().text, "line 29");
}

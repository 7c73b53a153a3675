//! A private room in the app: its state changes said as notices, the removal that ends it
//! (the view stays, refusing what would go out), its invite, its window title.

use super::fixtures::{NOON, ctrl, in_rooms, key, make_private, member, room_state, to_view};
use super::log::EntryKind;
use super::private::REMOVED_REFUSAL;
use super::*;
use crate::proto::state::Role;
use crossterm::event::KeyCode;

fn type_line(app: &mut App, text: &str) -> Vec<Effect> {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)), NOON);
    }
    app.update(key(KeyCode::Enter), NOON)
}

fn errors(app: &App) -> Vec<String> {
    let entries = app.view().log.entries();
    let errors = entries.iter().filter_map(|e| match &e.kind {
        EntryKind::Error(text) => Some(text.clone()),
        _ => None,
    });
    errors.collect()
}

/// "ops" (private: bob owns it, ann is a member) and a public "dev".
fn private_ops() -> App {
    let mut app = in_rooms(100, 20, &["ops", "dev"]);
    let (ann, bob) = (member(1, "ann"), member(2, "bob"));
    make_private(
        &mut app,
        room_state("ops", "", &[(&ann, Role::Member), (&bob, Role::Owner)]),
    );
    app
}

fn removed_ops() -> App {
    let mut app = private_ops();
    let removal = Msg::Removed {
        by: Some(member(2, "bob").id),
        reason: String::new(),
        ban: true,
    };
    app.update(to_view(&app, 0, removal), NOON);
    app.update(to_view(&app, 0, Msg::Failed("ended".into())), NOON);
    app
}

#[test]
fn a_removal_keeps_the_view_and_says_who_by_their_name() {
    let app = removed_ops();
    assert_eq!(app.views.tabs.len(), 2, "the view stays");
    assert!(app.view().removed);
    assert_eq!(
        errors(&app),
        vec!["you were banned from this room by bob".to_string()]
    );
}

#[test]
fn nothing_typed_in_a_removed_room_goes_out() {
    let mut app = removed_ops();
    for line in ["hello?", "/me waves", "/nick ann2", "/kick bob", "/invite"] {
        assert_eq!(type_line(&mut app, line), Vec::new(), "{line}");
        assert_eq!(app.view().input.text(), line, "the draft is given back");
        assert_eq!(app.status_error(), Some(REMOVED_REFUSAL), "{line}");
        app.view_mut().input.take();
    }
    assert_eq!(app.update(ctrl('t'), NOON), Vec::new(), "no invite");
    assert_eq!(app.view().invite, None);
    // What reads or goes elsewhere still works: /rooms lists, /room switches.
    type_line(&mut app, "/room dev");
    assert_eq!(app.views.current, 1);
    assert_eq!(
        type_line(&mut app, "hi dev"),
        vec![Effect::Say("hi dev".into())]
    );
}

#[test]
fn part_closes_a_removed_room_without_leaving_its_ended_session() {
    let mut app = removed_ops();
    assert_eq!(type_line(&mut app, "/part"), Vec::new());
    assert_eq!(app.views.tabs.len(), 1);
    assert_eq!(app.views.tabs[0].title, "dev");
    // A room we are still in is left as before.
    let dev = app.views.tabs[0].key;
    assert_eq!(type_line(&mut app, "/part"), vec![Effect::Part(dev)]);
}

#[test]
fn a_session_ending_without_a_removal_still_closes_the_view() {
    let mut app = private_ops();
    app.update(to_view(&app, 0, Msg::Failed("no network".into())), NOON);
    assert_eq!(app.views.tabs.len(), 1);
}

#[test]
fn an_empty_invite_cannot_be_copied() {
    let mut app = private_ops();
    app.update(Msg::Ticket(String::new()), NOON);
    assert!(app.view().invite.is_some());
    assert_eq!(app.update(ctrl('y'), NOON), Vec::new());
}

#[test]
fn the_window_title_marks_a_private_room() {
    let mut app = private_ops();
    assert_eq!(app.title(), "parlor: +ops");
    app.switch_to(1);
    assert_eq!(app.title(), "parlor: dev");
}

#[test]
fn every_state_change_is_a_notice() {
    let mut app = private_ops();
    let (ann, bob, carl) = (member(1, "ann"), member(2, "bob"), member(3, "carl"));
    let before = app.view().log.entries().len();
    make_private(
        &mut app,
        room_state(
            "ops",
            "on call",
            &[
                (&ann, Role::Admin),
                (&bob, Role::Owner),
                (&carl, Role::Member),
            ],
        ),
    );
    let notices: Vec<String> = app
        .view()
        .log
        .entries()
        .iter()
        .skip(before)
        .filter_map(|e| match &e.kind {
            EntryKind::Notice(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        notices,
        [
            "ann is now an admin",
            "carl joined the private room",
            "topic: on call"
        ]
    );
    assert_eq!(app.view().my_role(), Some(Role::Admin));
}

#[test]
fn the_remover_is_named_as_the_member_list_shows_them() {
    let mut app = in_rooms(100, 20, &["ops"]);
    let (ann, bob) = (member(1, "ann"), member(2, "bob"));
    // The state knows bob only by his key; the room heard his name.
    let unnamed = crate::proto::MemberInfo {
        display: bob.id.fmt_short().to_string(),
        name: String::new(),
        ..bob.clone()
    };
    make_private(
        &mut app,
        room_state("ops", "", &[(&ann, Role::Member), (&unnamed, Role::Owner)]),
    );
    app.update(Msg::Members(vec![ann, bob.clone()]), NOON);
    let removal = Msg::Removed {
        by: Some(bob.id),
        reason: "enough".into(),
        ban: false,
    };
    app.update(removal, NOON);
    assert_eq!(
        errors(&app),
        vec!["you were removed from this room by bob: enough".to_string()]
    );
}

/// An invite to room `[byte; 32]` issued by a fresh key, lasting `lasts_ms` from now.
fn invite(byte: u8, lasts_ms: u64) -> crate::proto::invite::Invite {
    use crate::proto::invite::{Invite, InviteDraft};
    use crate::proto::{EndpointAddr, SecretKey};
    let issuer = SecretKey::generate();
    let addr = EndpointAddr::new(issuer.public()).with_ip_addr("127.0.0.1:9".parse().unwrap());
    let draft = InviteDraft {
        room: crate::proto::state::RoomId::from_bytes([byte; 32]),
        owner: issuer.public(),
        expires: UnixMillis(UnixMillis::now().0 + lasts_ms),
        uses: None,
        peers: vec![addr],
        name: Some("release crew".into()),
    };
    Invite::issue(&issuer, draft).unwrap()
}

#[test]
fn join_invite_opens_the_private_room_and_an_expired_one_is_said() {
    let mut app = in_rooms(100, 20, &["ops"]);
    let invite = invite(7, 60_000);
    let effects = type_line(&mut app, &format!("/join {invite}"));
    let view = app.current_view().unwrap();
    assert_eq!(
        effects,
        vec![Effect::Redeem {
            view,
            name: "ann".into(),
            invite: Box::new(invite.clone()),
        }]
    );
    let tab = app.views.current_tab().unwrap();
    assert_eq!(
        tab.title, "release crew",
        "the invite's name until the room's"
    );
    // Again: the room we are in.
    assert!(type_line(&mut app, &format!("/join {invite}")).is_empty());
    assert_eq!(app.views.tabs.len(), 2);
    // An expired one opens nothing and says why.
    let old = super::rooms::usable_invite(&crate::proto::invite::Invite::to_string(&self::invite(
        8, 0,
    )));
    assert!(old.is_err_and(|why| why.contains("expired")));
    assert!(type_line(&mut app, &format!("/join {}", self::invite(9, 0))).is_empty());
    assert_eq!(app.views.tabs.len(), 2);
    assert!(
        errors(&app).iter().any(|e| e.contains("expired")),
        "{:?}",
        errors(&app)
    );
}

#[test]
fn lock_opens_a_view_for_a_public_rooms_successor_only() {
    let mut app = private_ops();
    // In the private "ops": refused.
    assert!(type_line(&mut app, "/lock").is_empty());
    assert!(errors(&app).iter().any(|e| e.contains("private already")));
    // In the public "dev": a view for its successor, named as it is.
    app.update(ctrl('n'), NOON);
    let from = app.current_view().unwrap();
    let tabs = app.views.tabs.len();
    let effects = type_line(&mut app, "/lock");
    let view = app.current_view().unwrap();
    assert_ne!(view, from);
    assert_eq!(app.views.tabs.len(), tabs + 1);
    assert_eq!(
        effects,
        vec![Effect::Lock {
            from,
            view,
            name: "ann".into(),
            label: Some("dev".into()),
        }]
    );
}

//! Snapshots of several rooms and conversations: the room list as a sidebar and as a tab
//! bar with unread and mention markers, a conversation with pending messages, day
//! separators and a configured time format.

use super::tests::{render, same_fg, style_of};
use crate::app::fixtures::{NOON, member, said};
use crate::app::{App, Msg};

/// Four rooms and a conversation: unread lines in "dev", a mention in "fun", a direct
/// message from bob; "ops" shown.
fn many_rooms(width: u16, height: u16) -> App {
    use crate::app::direct::DirectLine;
    use crate::app::fixtures::{at_minute, in_rooms, to_view};
    let mut app = in_rooms(width, height, &["ops", "dev", "a-long-room-label", "fun"]);
    let bob = member(2, "bob");
    app.update(to_view(&app, 0, said(&bob, "deploy at noon", 1)), NOON);
    for minute in 2..4 {
        app.update(to_view(&app, 1, said(&bob, "a dev line", minute)), NOON);
    }
    app.update(to_view(&app, 3, said(&bob, "ann: lunch?", 4)), NOON);
    let members = Msg::Members(vec![member(1, "ann"), bob.clone()]);
    app.update(to_view(&app, 0, members), NOON);
    app.update(
        Msg::Direct(DirectLine {
            id: crate::proto::MessageId::of(b"psst"),
            peer: bob.id,
            author: bob.clone(),
            text: "psst".into(),
            action: false,
            file: None,
            sent: at_minute(5),
            own: false,
            pending: false,
            history: false,
            reply_to: None,
            change: None,
        }),
        NOON,
    );
    app
}

#[test]
fn the_room_list_marks_unread_and_mentions() {
    let same = same_fg;
    // A sidebar from 90 columns, a tab bar below.
    for (w, h) in [(120, 40), (80, 24), (60, 20)] {
        let app = many_rooms(w, h);
        let text = render(&app);
        assert!(text.contains("@bob"), "{w}x{h}: {text}");
        let current = style_of(&app, "ops");
        assert!(same(current, super::theme::current_room()), "{w}x{h}");
        assert_eq!(current.bg, super::theme::current_room().bg, "{w}x{h}");
        assert!(
            same(style_of(&app, "fun"), super::theme::mention()),
            "{w}x{h}"
        );
        assert!(
            same(style_of(&app, "dev"), super::theme::title()),
            "{w}x{h}"
        );
        insta::assert_snapshot!(format!("rooms_{w}x{h}"), text);
    }
}

#[test]
fn a_conversation_shows_pending_and_delivered_messages() {
    use crate::app::direct::DirectLine;
    use crate::app::fixtures::at_minute;
    let mut app = many_rooms(80, 24);
    let (ann, bob) = (member(1, "ann"), member(2, "bob"));
    for (text, minute, pending) in [("on my way", 6, false), ("5 minutes", 7, true)] {
        app.update(
            Msg::Direct(DirectLine {
                id: crate::proto::MessageId::of(text.as_bytes()),
                peer: bob.id,
                author: ann.clone(),
                text: text.into(),
                action: false,
                file: None,
                sent: at_minute(minute),
                own: true,
                pending,
                history: false,
                reply_to: None,
                change: None,
            }),
            NOON,
        );
    }
    app.switch_to(4);
    let text = render(&app);
    assert!(text.contains("private: @bob"), "{text}");
    assert!(text.contains("5 minutes …"), "pending is marked: {text}");
    assert!(!text.contains("on my way …"), "{text}");
    assert!(same_fg(
        style_of(&app, "5 minutes"),
        super::theme::pending()
    ));
    // The bar says how many wait, not a legend that looks like a status.
    assert!(text.contains("private: @bob │ 1 pending"), "{text}");
    insta::assert_snapshot!(text);
    let id = crate::proto::MessageId::of(b"5 minutes");
    app.update(Msg::Delivered { peer: bob.id, id }, NOON);
    let text = render(&app);
    assert!(!text.contains("pending"), "{text}");
    assert!(text.contains("private: @bob │ all delivered"), "{text}");
}

#[test]
fn a_conversation_with_nothing_of_ours_says_nothing_about_delivery() {
    let mut app = many_rooms(80, 24);
    app.switch_to(4);
    let text = render(&app);
    let bar = text.lines().rev().nth(2).unwrap_or_default();
    assert!(bar.contains("private: @bob │ F1 help"), "{bar}");
    assert!(
        !bar.contains("pending") && !bar.contains("delivered"),
        "{bar}"
    );
}

#[test]
fn history_from_yesterday_shows_its_date_dimmed_in_the_configured_format() {
    use crate::proto::UnixMillis;
    use crate::proto::room::Event;
    let mut app = crate::app::fixtures::in_room(80, 24);
    app.set_time_format("%d.%m. %H:%M");
    let bob = member(2, "bob");
    let mut yesterday = crate::app::fixtures::line(&bob, "from yesterday", 0);
    yesterday.sent = UnixMillis(NOON.0 - 20 * 3_600_000);
    yesterday.history = true;
    app.update(Msg::Room(Event::MessageReceived(yesterday)), NOON);
    app.update(said(&bob, "and today", 5), NOON);
    let text = render(&app);
    assert!(text.contains("Tuesday 24 November 2026"), "{text}");
    assert!(text.contains("24.11. 16:00 bob: from yesterday"), "{text}");
    assert!(same_fg(
        style_of(&app, "from yesterday"),
        super::theme::earlier()
    ));
    assert!(same_fg(style_of(&app, "─ Tuesday"), super::theme::rule()));
    insta::assert_snapshot!(text);
}

#[test]
fn a_fetch_shows_in_the_status_bar() {
    let mut app = crate::app::fixtures::in_room(100, 12);
    app.update(
        Msg::Transfer(Some(crate::app::Transfer {
            name: "report.pdf".into(),
            done: 45 << 20,
            total: 100 << 20,
            rate: 11 << 20,
            hashing: false,
        })),
        NOON,
    );
    let text = render(&app);
    assert!(
        text.contains("↓ report.pdf 45% 11.0 MB/s 5s left"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

/// `/send` of a big file says it is being hashed, and how far, until it is offered.
#[test]
fn a_file_being_hashed_shows_in_the_status_bar() {
    let mut app = crate::app::fixtures::in_room(100, 12);
    app.update(
        Msg::Transfer(Some(crate::app::Transfer {
            name: "disk.img".into(),
            done: 300 << 20,
            total: 1 << 30,
            rate: 0,
            hashing: true,
        })),
        NOON,
    );
    let text = render(&app);
    assert!(text.contains("↑ hashing disk.img 29%"), "{text}");
    assert!(!text.contains("/s"), "no rate for local work: {text}");
}

/// The room's name everyone sees names a tab the user did not label: the ticket's at first,
/// then the one a member sets with `/topic`; a tab with the user's own label keeps it.
#[test]
fn a_tab_shows_the_room_name_unless_the_user_labelled_it() {
    use crate::app::fixtures::{in_rooms, to_view};
    use crate::app::views::ViewKind;
    use crate::proto::TopicId;
    use crate::proto::room::Event;
    for (w, h) in [(120, 40), (60, 20)] {
        let mut app = in_rooms(w, h, &["ops"]);
        let topic = TopicId::from_bytes([0x98; 32]);
        let view = app
            .add_view(ViewKind::Room(Some(topic)), None, true)
            .unwrap();
        let ready = Msg::Ready {
            me: member(1, "ann"),
            topic,
            ticket: "unused".into(),
            room_name: Some("from the ticket".into()),
            opened: false,
        };
        app.update(Msg::For(view, Box::new(ready)), NOON);
        assert_eq!(app.title(), "parlor: from the ticket", "{w}x{h}");
        let named = |name: &str| {
            Msg::Room(Event::RoomNamed {
                name: name.into(),
                by: member(2, "bob"),
                sent: NOON,
            })
        };
        app.update(Msg::For(view, Box::new(named("deploys"))), NOON);
        app.update(to_view(&app, 0, named("not my label")), NOON);
        assert_eq!(app.title(), "parlor: deploys", "{w}x{h}");
        let text = render(&app);
        assert!(text.contains("room name: deploys (set by bob)"), "{text}");
        assert!(!text.contains("not my label"), "{text}");
        insta::assert_snapshot!(format!("room_name_{w}x{h}"), text);
    }
}

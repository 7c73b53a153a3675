//! Snapshots of every screen at 80x24 and the 40x12 minimum, with a fixed clock and keys.
//! Review changes with `cargo insta review` (or read the `.snap.new` files).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use super::view;
use crate::app::fixtures::{NOON, in_room, member, said, ticket};
use crate::app::{App, Msg};
use crate::proto::MemberInfo;
use crate::proto::names::fingerprint;
use crate::proto::room::Event;

/// The screen with every cell's style (ratatui's buffer as `Debug` lists style changes).
pub(super) fn render_styled(app: &App) -> String {
    let area = app.area;
    let mut terminal = Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
    terminal.draw(|frame| view(app, frame)).unwrap();
    format!("{:#?}", terminal.backend().buffer())
}

pub(super) fn render(app: &App) -> String {
    let area = app.area;
    let mut terminal = Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
    terminal.draw(|frame| view(app, frame)).unwrap();
    terminal.backend().to_string()
}

fn sizes() -> [(u16, u16); 2] {
    [(80, 24), (40, 12)]
}

fn lobby(width: u16, height: u16) -> App {
    let offset = chrono::FixedOffset::east_opt(0).unwrap();
    App::new(Some("sam"), Rect::new(0, 0, width, height), offset)
}

/// Two members called sam, shown apart by fingerprint, plus a conversation.
fn chat_with_collisions(width: u16, height: u16) -> App {
    let mut app = in_room(width, height);
    let sam = |n: u8| {
        let m = member(n, "sam");
        MemberInfo {
            display: format!("sam#{}", fingerprint(&m.id, 4)),
            ..m
        }
    };
    let (sam2, sam3, kim) = (sam(2), sam(3), member(4, "kim"));
    for m in [&sam2, &sam3, &kim] {
        app.update(Msg::Room(Event::MemberJoined(m.clone())), NOON);
    }
    app.update(
        Msg::Members(vec![
            member(1, "ann"),
            kim.clone(),
            sam2.clone(),
            sam3.clone(),
        ]),
        NOON,
    );
    app.update(said(&sam2, "hi all, I am the first sam", 1), NOON);
    app.update(said(&sam3, "and I am the other one", 2), NOON);
    app.update(
        said(&kim, "a longer line that has to wrap around the edge of the history pane to show the hanging indent", 3),
        NOON,
    );
    app.update(said(&kim, "ann: are you there?", 4), NOON);
    app.update(
        Msg::Room(Event::MemberLeft {
            member: sam3,
            reason: crate::proto::room::LeaveReason::TimedOut,
        }),
        NOON,
    );
    app
}

#[test]
fn lobby_screens() {
    for (w, h) in sizes() {
        insta::assert_snapshot!(format!("lobby_{w}x{h}"), render(&lobby(w, h)));
    }
}

#[test]
fn lobby_with_an_error() {
    let mut app = lobby(80, 24);
    app.update(Msg::Failed("no peer answered within 15.0 s".into()), NOON);
    insta::assert_snapshot!(render(&app));
}

#[test]
fn lobby_lists_rooms_on_the_lan() {
    let mut app = lobby(80, 24);
    let rooms = vec![
        crate::app::lobby::NearbyRoom {
            topic: crate::proto::TopicId::from_bytes([1; 32]),
            label: "standup".into(),
            members: 3,
            private: true,
        },
        crate::app::lobby::NearbyRoom {
            topic: crate::proto::TopicId::from_bytes([2; 32]),
            label: "ops".into(),
            members: 1,
            private: false,
        },
    ];
    app.update(Msg::Nearby(rooms), NOON);
    insta::assert_snapshot!(render(&app));
}

/// Rooms we were in: Enter in the name rejoins them (the name's hint says so), Delete
/// forgets the one highlighted (its hint says so too).
#[test]
fn lobby_offers_stored_rooms_and_forgets_one() {
    use crate::app::lobby::StoredRoom;
    use crossterm::event::KeyCode;
    let mut app = lobby(80, 24);
    let room = |n: u8, label: Option<&str>| StoredRoom {
        topic: crate::proto::TopicId::from_bytes([n; 32]),
        label: label.map(String::from),
        room_name: None,
    };
    let rooms = vec![room(1, Some("ops")), room(2, Some("typo-room"))];
    app.update(Msg::StoredRooms(rooms), NOON);
    assert!(render(&app).contains("Your name  Enter: rejoin your rooms"));
    let key = crate::app::fixtures::key;
    app.update(key(KeyCode::Down), NOON);
    app.update(key(KeyCode::Down), NOON);
    let effects = app.update(key(KeyCode::Delete), NOON);
    assert_eq!(
        effects,
        vec![crate::app::Effect::ForgetRoom(room(2, None).topic)]
    );
    let text = render(&app);
    assert!(
        text.contains("Del: forget") && !text.contains("typo-room"),
        "{text}"
    );
    assert!(
        app.stored_rooms
            .iter()
            .all(|r| r.label.as_deref() != Some("typo-room"))
    );
    insta::assert_snapshot!(text);
}

/// Cut off from the room: the status bar says so and the log tells why; a member reached
/// through a relay is marked in the member list.
#[test]
fn reconnecting_and_relayed_members() {
    use crate::model::{Connectivity, NetState};
    let mut app = chat_with_collisions(80, 24);
    let kim = member(4, "kim");
    app.update(Msg::Relayed(vec![kim.id]), NOON);
    let state = |state, neighbours| Msg::Net(NetState { state, neighbours });
    app.update(state(Connectivity::Connected, 2), NOON);
    app.update(state(Connectivity::Reconnecting, 0), NOON);
    let text = render(&app);
    assert!(text.contains("reconnecting…"), "{text}");
    assert!(text.contains("kim (relay)"), "{text}");
    insta::assert_snapshot!(text);
    // As the session sends them: the neighbour count first, then the state.
    app.update(Msg::Room(Event::NeighborsChanged(1)), NOON);
    app.update(state(Connectivity::Connected, 1), NOON);
    let text = render(&app);
    assert!(
        text.contains("connected to 1") && text.contains("back in the room"),
        "{text}"
    );
}

#[test]
fn invite_popup() {
    for (w, h) in sizes() {
        let mut app = in_room(w, h);
        app.show_invite(ticket());
        insta::assert_snapshot!(format!("invite_{w}x{h}"), render(&app));
    }
}

#[test]
fn chat_with_name_collisions() {
    for (w, h) in sizes() {
        insta::assert_snapshot!(format!("chat_{w}x{h}"), render(&chat_with_collisions(w, h)));
    }
}

#[test]
fn wide_characters_wrap_whole() {
    for (w, h) in sizes() {
        let mut app = in_room(w, h);
        let mei = member(5, "美伶");
        app.update(said(&mei, "日本語のテキストと中文的文字が混ざった長い行です。折り返しても文字は半分に切れません", 1), NOON);
        app.update(said(&mei, "emoji 👍🏽👍🏽👍🏽 🎉🎉 family 👨‍👩‍👧 end", 2), NOON);
        app.view_mut().input.set("入力も全角で👍🏽");
        insta::assert_snapshot!(format!("wide_{w}x{h}"), render(&app));
    }
}

#[test]
fn scrolled_up_shows_new_messages_marker() {
    for (w, h) in sizes() {
        let mut app = in_room(w, h);
        let bob = member(2, "bob");
        for i in 0..40 {
            app.update(said(&bob, &format!("message number {i}"), i), NOON);
        }
        app.update(
            Msg::Key(crossterm::event::KeyEvent::from(
                crossterm::event::KeyCode::PageUp,
            )),
            NOON,
        );
        app.update(said(&bob, "this one arrived while scrolled up", 41), NOON);
        app.update(said(&bob, "and this one", 42), NOON);
        insta::assert_snapshot!(format!("scrolled_{w}x{h}"), render(&app));
    }
}

#[test]
fn hostile_name_and_text_are_shown_escaped() {
    for (w, h) in sizes() {
        let mut app = in_room(w, h);
        // Names are cleaned by the room; anything left that is odd is escaped on screen.
        let eve = MemberInfo {
            display: "eve\u{1b}]0;pwned\u{7}".into(),
            ..member(6, "eve")
        };
        app.update(Msg::Room(Event::MemberJoined(eve.clone())), NOON);
        app.update(
            said(
                &eve,
                "\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}gotcha \u{202e}txt.exe",
                1,
            ),
            NOON,
        );
        insta::assert_snapshot!(format!("hostile_{w}x{h}"), render(&app));
    }
}

#[test]
fn any_size_renders_without_panic() {
    for w in [1, 2, 3, 4, 7, 12, 20, 30, 39, 40, 41, 69, 70] {
        for h in [1, 2, 3, 4, 5, 7, 11, 12, 13, 15, 16] {
            let mut chat = chat_with_collisions(w, h);
            chat.view_mut()
                .input
                .set("a long line\nwith two rows and 全角 text to wrap around");
            render(&chat);
            chat.show_invite(ticket());
            render(&chat);
            render(&lobby(w, h));
        }
    }
}

/// The style of the first cell of the first row that contains `text`.
pub(super) fn style_of(app: &App, text: &str) -> ratatui::style::Style {
    let area = app.area;
    let mut terminal = Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
    terminal.draw(|frame| view(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    for y in 0..area.height {
        let row: String = (0..area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        if let Some(at) = row.find(text) {
            let x = row[..at].chars().count() as u16;
            return buffer[(x, y)].style();
        }
    }
    panic!("{text:?} is not on screen")
}

#[test]
fn a_hostile_member_is_cut_short_and_reported() {
    let mut app = in_room(80, 24);
    let mallory = member(7, "mallory");
    app.update(Msg::Room(Event::MemberJoined(mallory.clone())), NOON);
    app.update(said(&mallory, &"scroll\n".repeat(32_000), 1), NOON);
    app.update(
        Msg::Room(Event::Flooded {
            member: mallory.clone(),
            dropped: 150,
        }),
        NOON,
    );
    let alice = member(2, "alice");
    let fake = MemberInfo {
        display: format!("\u{430}lice#{}", fingerprint(&member(8, "x").id, 4)),
        ..member(8, "\u{430}lice")
    };
    app.update(
        Msg::Room(Event::NameClash {
            member: fake,
            owner: alice,
            own: false,
        }),
        NOON,
    );
    let text = render(&app);
    assert!(text.contains("more lines: /expand shows them"), "{text}");
    let same = |shown: ratatui::style::Style, meant: ratatui::style::Style| {
        shown.fg == meant.fg && shown.add_modifier == meant.add_modifier
    };
    assert!(same(style_of(&app, "… 3"), super::theme::notice()));
    assert!(same(
        style_of(&app, "mallory is sending"),
        super::theme::error()
    ));
    assert!(same(style_of(&app, "\u{430}lice#"), super::theme::error()));
    insta::assert_snapshot!(text);
}

#[test]
fn a_long_member_list_shows_what_fits_and_how_many_more() {
    let mut app = in_room(80, 24);
    let many: Vec<MemberInfo> = (10..250u8)
        .map(|n| member(n, &format!("m{n:03}")))
        .collect();
    app.update(Msg::Members(many), NOON);
    let text = render(&app);
    assert!(text.contains("240 here"), "{text}");
    // 20 rows under the title: 19 members, then the count of the rest.
    assert!(text.contains("… 221 more (/who)"), "{text}");
    assert!(text.contains("m028") && !text.contains("m029"), "{text}");
}

/// The same colour (unset is the terminal's own) and the same modifiers.
pub(super) fn same_fg(shown: ratatui::style::Style, meant: ratatui::style::Style) -> bool {
    use ratatui::style::Color;
    shown.fg.unwrap_or(Color::Reset) == meant.fg.unwrap_or(Color::Reset)
        && shown.add_modifier == meant.add_modifier
}

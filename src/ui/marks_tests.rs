//! Replies, reactions, edits, deletes and typing on screen (issue 24): a reply quotes its
//! line above it, reactions make a row under the line, an edited line says `(edited)`, a
//! deleted one leaves a dim tombstone, and who is typing shows in the status bar; each in its
//! style (snapshots of the whole buffer with its styles, at 120x40 and 40x12). Picking a
//! line (Ctrl-O) puts its keys in the status bar.

use ratatui::style::Modifier;

use super::tests::{render, render_styled, same_fg, style_of};
use super::theme;
use crate::app::App;
use crate::app::Msg;
use crate::app::fixtures::{at_minute, ctrl, in_room, line, member};
use crate::proto::room::{ChangeKind, ChatLine, Event, LineChange};

fn change(
    by: &crate::proto::MemberInfo,
    to: &ChatLine,
    kind: ChangeKind,
    text: &str,
    minute: u64,
) -> Msg {
    let mut line = line(by, text, minute);
    line.change = Some(Box::new(LineChange { to: to.id, kind }));
    Msg::Room(Event::Changed(line))
}

fn react(by: &crate::proto::MemberInfo, to: &ChatLine, emoji: &str, minute: u64) -> Msg {
    let kind = ChangeKind::React {
        emoji: emoji.into(),
        on: true,
    };
    change(by, to, kind, "", minute)
}

/// Bob's question, carl's reply to it with reactions on it, bob's edited line, a deleted
/// one, and dave typing.
fn a_lively_room(width: u16, height: u16) -> App {
    let mut app = in_room(width, height);
    let (bob, carl, dave) = (member(2, "bob"), member(3, "carl"), member(4, "dave"));
    let question = line(&bob, "who takes the release notes this week?", 1);
    app.update(
        Msg::Room(Event::MessageReceived(question.clone())),
        at_minute(1),
    );
    let mut reply = line(&carl, "I will, after lunch", 2);
    reply.reply_to = Some(Box::new(question.id));
    app.update(
        Msg::Room(Event::MessageReceived(reply.clone())),
        at_minute(2),
    );
    for (n, (who, emoji)) in [(&bob, "👍"), (&dave, "👍"), (&bob, "🎉")]
        .iter()
        .enumerate()
    {
        app.update(react(who, &reply, emoji, 3 + n as u64), at_minute(3));
    }
    let typo = line(&bob, "the fridge is emtpy", 4);
    app.update(
        Msg::Room(Event::MessageReceived(typo.clone())),
        at_minute(4),
    );
    app.update(
        change(&bob, &typo, ChangeKind::Edit, "the fridge is empty", 5),
        at_minute(5),
    );
    let oops = line(&dave, "my password is hunter2", 6);
    app.update(
        Msg::Room(Event::MessageReceived(oops.clone())),
        at_minute(6),
    );
    app.update(
        change(&dave, &oops, ChangeKind::Delete, "", 7),
        at_minute(7),
    );
    app.update(Msg::Room(Event::Typing(dave)), at_minute(8));
    app
}

#[test]
fn replies_reactions_edits_deletes_and_typing_show_in_their_styles() {
    for (w, h) in [(120, 40), (40, 12)] {
        let app = a_lively_room(w, h);
        let screen = render(&app);
        assert!(screen.contains("↳ bob: who takes"), "{screen}");
        assert!(screen.contains("👍 2  🎉 1"), "{screen}");
        assert!(screen.contains("empty (edited)"), "{screen}");
        assert!(screen.contains("message deleted"), "{screen}");
        assert!(!screen.contains("hunter2"), "{screen}");
        assert!(screen.contains("dave is typing…"), "{screen}");
        assert!(
            style_of(&app, "↳ bob")
                .add_modifier
                .contains(Modifier::ITALIC)
        );
        assert!(same_fg(style_of(&app, "🎉"), theme::reactions()));
        assert!(same_fg(style_of(&app, "(edited)"), theme::hint()));
        assert!(same_fg(
            style_of(&app, "message deleted"),
            theme::tombstone()
        ));
        insta::assert_snapshot!(format!("line_marks_{w}x{h}"), render_styled(&app));
    }
}

#[test]
fn typing_goes_when_its_time_is_over_or_the_line_comes() {
    let mut app = a_lively_room(120, 40);
    assert!(render(&app).contains("dave is typing…"));
    app.update(Msg::Tick, at_minute(9));
    assert!(!render(&app).contains("is typing"), "{}", render(&app));
    let dave = member(4, "dave");
    app.update(Msg::Room(Event::Typing(dave.clone())), at_minute(10));
    app.update(
        Msg::Room(Event::MessageReceived(line(&dave, "done", 10))),
        at_minute(10),
    );
    assert!(!render(&app).contains("is typing"), "{}", render(&app));
}

#[test]
fn picking_a_line_shows_its_keys_and_highlights_it() {
    let mut app = a_lively_room(120, 40);
    app.update(ctrl('o'), at_minute(9));
    let screen = render(&app);
    assert!(
        screen.contains("r reply · e edit · d delete · + react · w who reacted"),
        "{screen}"
    );
    // The newest line not deleted is picked: bob's edited one.
    assert!(same_fg(
        style_of(&app, "the fridge is empty"),
        theme::picked()
    ));
}

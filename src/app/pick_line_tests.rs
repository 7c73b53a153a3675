//! Picking a line (Ctrl-O): moving through lines, and what r, e, d, + and y do with it.

use crossterm::event::KeyCode;

use super::command::{Command, LineCommand};
use super::fixtures::{NOON, ctrl, in_room, key, line, member};
use super::pick_line::USUAL;
use super::*;
use crate::proto::room::Event;

fn said(app: &mut App, line: &crate::proto::room::ChatLine) {
    app.update(Msg::Room(Event::MessageReceived(line.clone())), NOON);
}

fn short(line: &crate::proto::room::ChatLine) -> String {
    line.id.to_string()[..12].to_string()
}

#[test]
fn picking_moves_through_lines_and_each_key_does_its_part() {
    let mut app = in_room(80, 24);
    let (me, bob) = (member(1, "ann"), member(2, "bob"));
    let theirs = line(&bob, "lunch at noon?", 1);
    let mine = line(&me, "sure, where", 2);
    said(&mut app, &theirs);
    app.update(Msg::Room(Event::MessageSent(mine.clone())), NOON);

    app.update(ctrl('o'), NOON);
    assert!(app.line_pick.is_some());
    // The newest is picked: mine. `e` puts it in the input to edit.
    app.update(key(KeyCode::Char('e')), NOON);
    assert_eq!(
        app.view().input.text(),
        format!("/edit {} sure, where", short(&mine))
    );
    assert!(app.line_pick.is_none());
    app.view_mut().input.take();

    // Up to bob's: not mine to edit or delete; `r` replies to it.
    app.update(ctrl('o'), NOON);
    app.update(key(KeyCode::Up), NOON);
    app.update(key(KeyCode::Char('e')), NOON);
    assert!(
        app.status_error()
            .is_some_and(|e| e.contains("only your own"))
    );
    app.update(key(KeyCode::Char('d')), NOON);
    assert_eq!(
        app.line_pick,
        Some(pick_line::LinePick::Line),
        "no delete to confirm"
    );
    app.update(key(KeyCode::Char('r')), NOON);
    assert_eq!(
        app.view().input.text(),
        format!("/reply {} ", short(&theirs))
    );
    app.view_mut().input.take();

    // `+` then 1: the first of the usual reactions, at once.
    app.update(ctrl('o'), NOON);
    app.update(key(KeyCode::Up), NOON);
    app.update(key(KeyCode::Char('+')), NOON);
    let effects = app.update(key(KeyCode::Char('1')), NOON);
    let react = LineCommand::React {
        to: short(&theirs),
        emoji: USUAL[0].into(),
        on: true,
    };
    assert_eq!(effects, vec![Effect::Run(Command::Line(react))]);

    // `d` on mine asks first; n keeps it, y deletes.
    app.update(ctrl('o'), NOON);
    app.update(key(KeyCode::Char('d')), NOON);
    assert_eq!(app.line_pick, Some(pick_line::LinePick::ConfirmDelete));
    assert!(app.update(key(KeyCode::Char('n')), NOON).is_empty());
    app.update(key(KeyCode::Char('d')), NOON);
    let delete = LineCommand::Delete { to: short(&mine) };
    assert_eq!(
        app.update(key(KeyCode::Char('y')), NOON),
        vec![Effect::Run(Command::Line(delete))]
    );

    // `w` says who reacted to bob's line (ann's 👍 came back as a change).
    let mut reaction = line(&me, "", 3);
    reaction.change = Some(Box::new(crate::proto::room::LineChange {
        to: theirs.id,
        kind: crate::proto::room::ChangeKind::React {
            emoji: "👍".into(),
            on: true,
        },
    }));
    app.update(Msg::Room(Event::Changed(reaction)), NOON);
    app.update(ctrl('o'), NOON);
    app.update(key(KeyCode::Up), NOON);
    app.update(key(KeyCode::Char('w')), NOON);
    let said = match &app.view().log.entries().back().unwrap().kind {
        log::EntryKind::Notice(text) => text.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(said, "reactions: 👍 ann");
    app.update(key(KeyCode::Esc), NOON);

    // `y` copies the text; Esc just stops.
    app.update(ctrl('o'), NOON);
    assert_eq!(
        app.update(key(KeyCode::Char('y')), NOON),
        vec![Effect::Copy("sure, where".into())]
    );
    app.update(ctrl('o'), NOON);
    assert!(app.update(key(KeyCode::Esc), NOON).is_empty());
    assert!(app.line_pick.is_none() && app.view().log.picked().is_none());
}

#[test]
fn a_deleted_line_is_skipped_and_nothing_to_pick_is_said() {
    let mut app = in_room(80, 24);
    app.update(ctrl('o'), NOON);
    assert!(app.line_pick.is_none());
    let bob = member(2, "bob");
    let gone = line(&bob, "oops", 1);
    said(&mut app, &gone);
    let mut delete = line(&bob, "", 2);
    delete.change = Some(Box::new(crate::proto::room::LineChange {
        to: gone.id,
        kind: crate::proto::room::ChangeKind::Delete,
    }));
    app.update(Msg::Room(Event::Changed(delete)), NOON);
    app.update(ctrl('o'), NOON);
    assert!(app.line_pick.is_none(), "only a tombstone: nothing to pick");
}

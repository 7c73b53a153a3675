//! Snapshots of a private room: roles in the member list (the owner, the admins, the rest;
//! members not here dimmed), the private mark in the room list, the status bar and the
//! window title, the topic in the status bar, the invite popup, and a room we were removed
//! from.

use super::tests::{render, same_fg, style_of};
use crate::app::fixtures::{NOON, in_rooms, make_private, member, room_state};
use crate::app::{App, Msg};
use crate::proto::MemberInfo;
use crate::proto::state::Role;

/// A member of the state who never announced itself: shown by its short key.
fn unannounced() -> MemberInfo {
    let m = member(5, "");
    MemberInfo {
        display: m.id.fmt_short().to_string(),
        ..m
    }
}

/// "ops" (labelled; the room is called "Operations") and a public "dev": in ops, bob owns
/// the room, ann (me) is an admin, carl a member, and one member never showed up.
fn private_ops(width: u16, height: u16) -> App {
    let mut app = in_rooms(width, height, &["ops", "dev"]);
    let (ann, bob, carl) = (member(1, "ann"), member(2, "bob"), member(3, "carl"));
    app.update(
        Msg::Members(vec![ann.clone(), carl.clone(), bob.clone()]),
        NOON,
    );
    let away = unannounced();
    let state = room_state(
        "Operations",
        "deploys on fridays only",
        &[
            (&ann, Role::Admin),
            (&bob, Role::Owner),
            (&carl, Role::Member),
            (&away, Role::Member),
        ],
    );
    make_private(&mut app, state);
    app
}

fn status_row(app: &App) -> String {
    let text = render(app);
    let rows: Vec<&str> = text.lines().collect();
    rows[rows.len() - 3].to_string()
}

#[test]
fn the_member_list_shows_roles_owner_first_and_dims_who_is_not_here() {
    let app = private_ops(100, 14);
    let text = render(&app);
    assert!(text.contains(" 3 here · private "), "{text}");
    let rows: Vec<&str> = text.lines().collect();
    let order: Vec<usize> = ["~bob", "@ann (you)", "carl", &unannounced().display]
        .iter()
        .map(|name| {
            rows.iter()
                .position(|r| r.contains(name))
                .unwrap_or_else(|| panic!("{name} not in\n{text}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}\n{text}");
    let theme = super::theme::role_mark();
    assert!(same_fg(style_of(&app, "~bob"), theme), "owner's mark");
    assert!(same_fg(style_of(&app, "@ann"), theme), "admin's mark");
    assert!(same_fg(
        style_of(&app, "carl"),
        super::theme::name(&member(3, "carl").id)
    ));
    let away = style_of(&app, &unannounced().display);
    assert!(same_fg(away, super::theme::absent()), "{away:?}");
    insta::assert_snapshot!(text);
}

#[test]
fn a_private_room_is_marked_in_the_sidebar_the_tabs_the_status_bar_and_the_title() {
    for (w, h) in [(100, 14), (80, 14)] {
        let app = private_ops(w, h);
        let text = render(&app);
        assert!(text.contains("+ops"), "{text}");
        assert!(!text.contains("+dev"), "a public room has no mark: {text}");
        let bar = status_row(&app);
        assert!(bar.contains(" +ops │ 3 here"), "{bar}");
        assert!(bar.contains("you: ann (admin)"), "{bar}");
        assert_eq!(app.title(), "parlor: +ops (Operations)");
        insta::assert_snapshot!(format!("private_marks_{w}x{h}"), text);
    }
}

#[test]
fn the_status_bar_shows_the_topic_when_there_is_room() {
    let mut app = private_ops(120, 14);
    let bar = status_row(&app);
    assert!(
        bar.contains("+ops │ deploys on fridays only │ 3 here"),
        "{bar}"
    );
    // A long topic is cut to what is left, with an ellipsis.
    let (ann, bob) = (member(1, "ann"), member(2, "bob"));
    let long = "deploys on fridays only, and never after 4pm, and only with two reviewers around";
    make_private(
        &mut app,
        room_state(
            "Operations",
            long,
            &[(&ann, Role::Admin), (&bob, Role::Owner)],
        ),
    );
    let bar = status_row(&app);
    assert!(
        bar.contains("+ops │ deploys on fridays only, a… │ 2 here"),
        "{bar}"
    );
    assert!(bar.ends_with("F1 help \""), "nothing else is cut: {bar}");
    // No room for it: left out, the rest stays.
    app.update(Msg::Resize(80, 14), NOON);
    let bar = status_row(&app);
    assert!(!bar.contains("deploys"), "{bar}");
    assert!(bar.contains("you: ann (admin)"), "{bar}");
    insta::assert_snapshot!(render(&app));
}

#[test]
fn a_room_we_were_removed_from_stays_readable_and_says_so() {
    let mut app = private_ops(100, 14);
    let bob = member(2, "bob");
    app.update(
        Msg::Removed {
            by: Some(bob.id),
            reason: "spamming".into(),
            ban: false,
        },
        NOON,
    );
    // The session ends after the removal: the view stays.
    app.update(
        crate::app::fixtures::to_view(&app, 0, Msg::Failed("the session ended".into())),
        NOON,
    );
    let text = render(&app);
    assert!(
        text.contains("you were removed from this room by bob: spamming"),
        "{text}"
    );
    assert!(
        status_row(&app).contains("removed: /part closes it"),
        "{text}"
    );
    assert_eq!(app.title(), "parlor: +ops (Operations) (removed)");
    insta::assert_snapshot!(text);
}

#[test]
fn the_invite_popup_names_a_private_rooms_invite_and_who_may_invite() {
    let mut app = private_ops(100, 30);
    app.update(Msg::Ticket(crate::app::fixtures::ticket()), NOON);
    let text = render(&app);
    assert!(text.contains(" Invite (7 days) "), "{text}");
    assert!(text.contains("parlor join INVITE"), "{text}");
    // A plain member is answered with no invite.
    app.update(Msg::Ticket(String::new()), NOON);
    let text = render(&app);
    assert!(text.contains(super::invite::NO_INVITE), "{text}");
    assert!(!text.contains('▀'), "no QR code: {text}");
    insta::assert_snapshot!("no_invite_100x30", text);
    app.update(Msg::Resize(40, 12), NOON);
    let text = render(&app);
    assert!(text.contains("only the room's owner"), "{text}");
    insta::assert_snapshot!("no_invite_40x12", text);
    // A public room's is its ticket.
    app.update(Msg::Resize(100, 30), NOON);
    app.switch_to(1);
    app.update(Msg::Ticket(crate::app::fixtures::ticket()), NOON);
    let text = render(&app);
    assert!(text.contains(" Ticket "), "{text}");
    assert!(text.contains("parlor join TICKET"), "{text}");
}

#[test]
fn without_colours_roles_are_bold_and_who_is_not_here_is_dim() {
    use ratatui::style::Modifier;
    super::theme::set_palette(super::theme::Palette::Mono);
    let app = private_ops(100, 14);
    let owner = style_of(&app, "~bob");
    let away = style_of(&app, &unannounced().display);
    let carl = style_of(&app, "carl");
    super::theme::set_palette(super::theme::Palette::Dark);
    assert!(owner.add_modifier.contains(Modifier::BOLD), "{owner:?}");
    assert!(away.add_modifier.contains(Modifier::DIM), "{away:?}");
    assert!(!carl.add_modifier.contains(Modifier::DIM), "{carl:?}");
    assert!(render(&app).contains("1 +ops"), "the mark needs no colour");
}

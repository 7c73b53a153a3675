//! Finding URLs in lines, and `/urls`.

use crate::app::fixtures::{at_minute, in_room, key, member, said};
use crate::app::links::{find_urls, recent_urls, target};
use crate::app::log::EntryKind;
use crate::app::{App, Msg};
use crossterm::event::KeyCode;

fn urls(text: &str) -> Vec<&str> {
    find_urls(text).into_iter().map(|r| &text[r]).collect()
}

#[test]
fn urls_are_found_with_trailing_punctuation_left_out() {
    assert_eq!(
        urls("see https://example.org/a?b=1."),
        ["https://example.org/a?b=1"]
    );
    assert_eq!(
        urls("(https://en.wikipedia.org/wiki/Rust_(language)), and http://x.io!"),
        [
            "https://en.wikipedia.org/wiki/Rust_(language)",
            "http://x.io"
        ]
    );
    assert_eq!(
        urls("<https://a.b/c> \"https://d.e\""),
        ["https://a.b/c", "https://d.e"]
    );
    assert_eq!(urls("HTTPS://LOUD.ORG/X"), ["HTTPS://LOUD.ORG/X"]);
    assert_eq!(urls("go to www.rust-lang.org, now"), ["www.rust-lang.org"]);
    assert_eq!(target("www.rust-lang.org"), "https://www.rust-lang.org");
    assert_eq!(target("http://x.io"), "http://x.io");
}

#[test]
fn what_is_not_a_url_stays_text() {
    assert!(urls("no links here").is_empty());
    assert!(urls("just https:// and www.").is_empty());
    assert!(urls("ftp://files.example.org javascript:alert(1)").is_empty());
    // Inside a word: not the start of a link.
    assert!(urls("xhttps://a.b and foo.www.bar").is_empty());
    let long = format!("https://a.b/{}", "x".repeat(3_000));
    assert!(urls(&long).is_empty(), "too long to be a link");
}

#[test]
fn escapes_and_non_ascii_end_a_url() {
    assert_eq!(
        urls("https://a.b/\x1b]8;;evil\x1b\\x"),
        ["https://a.b/"],
        "an escape cannot ride in a link"
    );
    assert_eq!(urls("https://a.b/x\x07y"), ["https://a.b/x"]);
    assert_eq!(urls("https://a.b/päth"), ["https://a.b/p"]);
}

fn notices(app: &App) -> Vec<String> {
    let entries = app.view().log.entries().iter();
    entries
        .filter_map(|e| match &e.kind {
            EntryKind::Notice(text) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn type_line(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)), at_minute(9));
    }
    app.update(key(KeyCode::Enter), at_minute(9));
}

#[test]
fn urls_lists_the_recent_links_newest_first_once_each() {
    let mut app = in_room(80, 24);
    type_line(&mut app, "/urls");
    assert_eq!(notices(&app).last().unwrap(), "no links here yet");
    let bob = member(2, "bob");
    app.update(
        said(&bob, "docs: https://docs.rs and www.a.org", 1),
        at_minute(1),
    );
    app.update(said(&bob, "again https://docs.rs", 2), at_minute(2));
    app.update(Msg::Notice("https://not-said.example".into()), at_minute(2));
    app.update(said(&bob, "new: http://b.io/x.", 3), at_minute(3));
    let listed = recent_urls(&app.view().log, 20);
    let listed: Vec<&str> = listed.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(listed, ["http://b.io/x", "https://docs.rs", "www.a.org"]);
    type_line(&mut app, "/urls");
    let shown = notices(&app);
    assert_eq!(
        shown[shown.len() - 4..],
        [
            "3 recent link(s), newest first:",
            " 1. http://b.io/x (bob, 12:03)",
            " 2. https://docs.rs (bob, 12:02)",
            " 3. www.a.org (bob, 12:01)",
        ]
    );
    assert_eq!(recent_urls(&app.view().log, 1).len(), 1, "bounded");
}

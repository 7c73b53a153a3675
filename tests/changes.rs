//! Replies, reactions, edits and deletes as a bot makes them and other members see them, with
//! real processes on 127.0.0.1: live, after the other member restarts (from its store), and
//! at a member who joins later (catch-up). A deleted line is gone everywhere.

#[path = "support/mod.rs"]
mod support;

use support::process::{Ev, Proc};

fn text(ev: &Ev, key: &str) -> String {
    ev[key].as_str().unwrap_or_default().to_string()
}

/// What a member shows of the exchange, in order: lines (with what they answer), reactions,
/// edits, deletes; whatever else is left out.
fn exchange(seen: &[Ev]) -> Vec<String> {
    seen.iter()
        .filter_map(|e| match e["type"].as_str()? {
            "message" | "sent" => Some(format!(
                "line {} re {}",
                text(e, "text"),
                e["reply_to"].as_str().map_or("-", |id| &id[..8])
            )),
            "reaction" => Some(format!("reaction {} {}", text(e, "emoji"), e["on"])),
            "edited" => Some(format!("edited {}", text(e, "text"))),
            "deleted" => Some(format!("deleted {}", &text(e, "to")[..8])),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bots_reply_reaction_edit_and_delete_show_live_after_a_restart_and_to_newcomers() {
    let (ann_dir, bob_dir) = (
        support::parlor::tempdir("ann"),
        support::parlor::tempdir("bob"),
    );
    let mut ann = Proc::with_data(&ann_dir, "ann", &["open", "--public"]);
    let ready = ann.ready().await;
    let ticket = text(&ready, "ticket");
    let topic = text(&ready, "topic");
    let mut bob = Proc::with_data(&bob_dir, "bob", &["join", &ticket]);
    bob.ready().await;
    ann.expect_joined(&["bob"]).await;

    bob.send("first line").await;
    bob.send("second line").await;
    let first = ann.expect_message("bob", "first line").await;
    let second = ann.expect_message("bob", "second line").await;
    let (first, second) = (text(&first, "id"), text(&second, "id"));

    // Ann (a bot) answers the first, reacts to the second; bob edits the second and deletes
    // the first.
    ann.send(&format!("/reply {} agreed", &first[..8])).await;
    let reply = bob.expect_message("ann", "agreed").await;
    assert_eq!(reply["reply_to"], first.as_str(), "{reply}");
    ann.send(&format!("/react {} :+1:", &second[..10])).await;
    let reaction = bob.expect_type("reaction").await;
    assert_eq!(
        (
            text(&reaction, "to"),
            text(&reaction, "emoji"),
            reaction["on"].as_bool()
        ),
        (second.clone(), "👍".to_string(), Some(true))
    );
    assert_eq!(text(&reaction, "display"), "ann");
    bob.send(&format!("/edit {} second line, edited", &second[..8]))
        .await;
    let edited = ann.expect_type("edited").await;
    assert_eq!(
        (text(&edited, "to"), text(&edited, "text")),
        (second.clone(), "second line, edited".to_string())
    );
    bob.send(&format!("/delete {}", &first[..8])).await;
    let deleted = ann.expect_type("deleted").await;
    assert_eq!(text(&deleted, "to"), first);
    // Someone else's line is not ann's to edit: one error line, nothing sent.
    ann.send(&format!("/edit {} mine now", &second[..8])).await;
    let refused = ann.expect_type("error").await;
    assert!(
        text(&refused, "message").contains("only its author"),
        "{refused}"
    );

    // Bob comes back: his store shows the same thing (the first line gone, the second
    // edited and reacted to, ann's reply naming the first).
    bob.close_stdin();
    assert_eq!(bob.exit().await, 0, "{}", bob.stderr());
    let mut bob = Proc::with_data(&bob_dir, "bob", &["join", &topic[..12]]);
    bob.ready().await;
    bob.send("marker after restart").await;
    ann.expect_message("bob", "marker after restart").await;
    bob.expect("his marker", |e| {
        e["type"] == "sent" && e["text"] == "marker after restart"
    })
    .await;
    let restored = exchange(&bob.seen);
    let expected = vec![
        "line second line re -".to_string(),
        format!("line agreed re {}", &first[..8]),
        "reaction 👍 true".to_string(),
        "edited second line, edited".to_string(),
        "line marker after restart re -".to_string(),
    ];
    assert_eq!(restored, expected, "after bob's restart");

    // Carl joins later: catch-up brings him the same.
    let mut carl = Proc::join("carl", &ticket);
    carl.ready().await;
    ann.send("marker for carl").await;
    carl.expect_message("ann", "marker for carl").await;
    let caught: Vec<String> = exchange(&carl.seen)
        .into_iter()
        .filter(|l| !l.starts_with("line marker"))
        .collect();
    assert_eq!(caught, expected[..4].to_vec(), "carl's catch-up");
    // A clean exit each (ann's is 1: her refused /edit is a failure a script must see).
    for (mut proc, code) in [(ann, 1), (bob, 0), (carl, 0)] {
        proc.close_stdin();
        assert_eq!(proc.exit().await, code, "{}", proc.stderr());
    }

    // Ann's export has the edit, the reaction and the tombstone; after the delete and a clean
    // exit, no file of ann's data directory holds the deleted line's text.
    let mut export = Proc::with_data(
        &ann_dir,
        "ann",
        &["export", &topic[..12], "--format", "json"],
    );
    assert_eq!(export.exit().await, 0, "{}", export.stderr());
    let lines: Vec<&Ev> = export
        .seen
        .iter()
        .filter(|e| e["type"] == "message")
        .collect();
    let edited = lines
        .iter()
        .find(|e| e["id"] == second.as_str())
        .expect("the edited line");
    assert_eq!(
        (text(edited, "text"), edited["edited"].as_bool()),
        ("second line, edited".into(), Some(true))
    );
    assert_eq!(edited["reactions"][0]["emoji"], "👍", "{edited}");
    let gone = lines
        .iter()
        .find(|e| e["id"] == first.as_str())
        .expect("the tombstone");
    assert_eq!(
        (text(gone, "text"), gone["deleted"].as_bool()),
        (String::new(), Some(true))
    );
    for (path, bytes) in every_file(&ann_dir) {
        assert!(
            !bytes
                .windows(b"first line".len())
                .any(|w| w == b"first line"),
            "the deleted line's text is in {}",
            path.display()
        );
    }
}

/// Every file under `dir`, read whole.
fn every_file(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(every_file(&path));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_reactions_edits_and_deletes_work_in_a_private_conversation() {
    let mut ann = Proc::open("ann");
    let ready = ann.ready().await;
    let ticket = text(&ready, "ticket");
    let mut bob = Proc::join("bob", &ticket);
    bob.ready().await;
    ann.expect_joined(&["bob"]).await;

    bob.send("/msg ann the report is due friday").await;
    let first = ann.expect_type("dm").await;
    let first = text(&first, "id");
    // In the conversation (/query), the line commands name its messages.
    ann.send("/query bob").await;
    ann.send(&format!("/reply {} thanks, noted", &first[..8]))
        .await;
    let reply = bob
        .expect("the reply", |e| {
            e["type"] == "dm" && e["text"] == "thanks, noted"
        })
        .await;
    assert_eq!(reply["reply_to"], first.as_str(), "{reply}");
    ann.send(&format!("/react {} 👀", &first[..8])).await;
    let reaction = bob.expect_type("reaction").await;
    assert_eq!(
        (reaction["dm"].as_bool(), text(&reaction, "emoji")),
        (Some(true), "👀".into())
    );
    // Ann may not edit bob's message; bob may.
    ann.send(&format!("/edit {} thursday", &first[..8])).await;
    let refused = ann.expect_type("error").await;
    assert!(
        text(&refused, "message").contains("only your own"),
        "{refused}"
    );
    bob.send("/query ann").await;
    bob.send(&format!("/edit {} the report is due thursday", &first[..8]))
        .await;
    let edited = ann.expect_type("edited").await;
    assert_eq!(
        (
            text(&edited, "to"),
            text(&edited, "text"),
            edited["dm"].as_bool()
        ),
        (
            first.clone(),
            "the report is due thursday".into(),
            Some(true)
        )
    );
    bob.send(&format!("/delete {}", &first[..8])).await;
    let deleted = ann.expect_type("deleted").await;
    assert_eq!(text(&deleted, "to"), first);
    for mut proc in [ann, bob] {
        proc.close_stdin();
        proc.exit().await;
    }
}

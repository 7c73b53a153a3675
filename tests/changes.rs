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
    for mut proc in [ann, bob, carl] {
        proc.close_stdin();
        proc.exit().await;
    }
}

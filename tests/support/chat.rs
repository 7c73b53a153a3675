//! Chat-level waits on a headless JSON process: members joined, messages said, slash commands
//! and their answers.

use std::time::Duration;

use super::process::{Ev, Proc};

/// How long a slash command may take to answer.
const ANSWER: Duration = Duration::from_secs(10);

impl Proc {
    /// Wait until each of `names` has been reported joined.
    pub async fn expect_joined(&mut self, names: &[&str]) {
        let what = format!("joined {names:?}");
        self.until(&what, |seen| {
            names.iter().all(|n| {
                seen.iter()
                    .any(|e| e["type"] == "joined" && e["name"] == *n)
            })
        })
        .await;
    }

    /// The first message `text` from `name`, whenever it arrived (live or as history).
    pub async fn expect_message(&mut self, name: &str, text: &str) -> Ev {
        let what = format!("message {name}: {text}");
        self.until(&what, |seen| first_message(seen, name, text).is_some())
            .await;
        first_message(&self.seen, name, text).unwrap().clone()
    }

    /// Every `message` event with `text` seen so far.
    pub fn messages(&self, text: &str) -> Vec<&Ev> {
        self.seen
            .iter()
            .filter(|e| e["type"] == "message" && e["text"] == text)
            .collect()
    }

    /// Every `message` event seen so far.
    pub fn messages_all(&self) -> impl Iterator<Item = &Ev> {
        self.seen.iter().filter(|e| e["type"] == "message")
    }

    /// Type a slash command and return its answer, the first later event of type `kind` that
    /// `is_answer` accepts. An `error` naming the command (e.g. "unknown command /net") fails
    /// the test at once rather than after a timeout.
    pub async fn command(&mut self, line: &str, kind: &str, is_answer: impl Fn(&Ev) -> bool) -> Ev {
        // Pass over what came before, so an earlier answer is not taken for this one.
        self.skip_seen();
        self.send(line).await;
        let word = line.split_whitespace().next().unwrap_or(line).to_string();
        let refused = |e: &Ev| {
            e["type"] == "error" && e["message"].as_str().is_some_and(|m| m.contains(&word))
        };
        let answer = self
            .expect_within(ANSWER, |e| {
                (e["type"] == kind && is_answer(e)) || refused(e)
            })
            .await;
        match answer {
            Some(ev) if ev["type"] == kind => ev,
            Some(ev) => self.fail(&format!("answer to {line} (refused: {ev})"), Duration::ZERO),
            None => self.fail(&format!("answer to {line}"), ANSWER),
        }
    }

    /// `/net`'s snapshot (told from the state events of the same type by its "peers").
    pub async fn net(&mut self) -> Ev {
        self.command("/net", "net", |e| e.get("peers").is_some())
            .await
    }

    /// `/ticket`'s answer: the room's ticket as of now (addresses and relays learned since
    /// `ready` included).
    pub async fn ticket_now(&mut self) -> String {
        let ev = self.command("/ticket", "ticket", |_| true).await;
        ev["ticket"]
            .as_str()
            .expect("ticket is a string")
            .to_string()
    }
}

pub fn first_message<'a>(seen: &'a [Ev], name: &str, text: &str) -> Option<&'a Ev> {
    seen.iter()
        .find(|e| e["type"] == "message" && e["name"] == name && e["text"] == text)
}

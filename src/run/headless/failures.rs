//! What headless mode could not carry out: every error it reported (a command refused or
//! failed, a line the room would not send, a fetch that failed, a room that ended). A run
//! with any of them exits 1 and names each on stderr, one line apiece, so a script piping
//! commands learns that something went wrong without parsing stdout.

use crate::headless::Report;
use crate::proto::room::Event;

/// Failures named one by one; past this, one line counts the rest.
const NAMED: usize = 100;

#[derive(Debug, Default)]
pub(super) struct Failures {
    /// Each failure, with the handle of the file it is about (a fetch that waited for its
    /// provider reports an error, then arrives after all: that is no failure).
    named: Vec<(Option<String>, String)>,
    more: usize,
}

impl Failures {
    /// Count `report` if it says something was not done.
    pub fn note(&mut self, report: &Report) {
        let what = match report {
            Report::Error(message) => (None, message.clone()),
            Report::Room(Event::Refused { refusal, .. }) => (None, refusal.to_string()),
            Report::FileError { handle, message } => {
                (Some(handle.clone()), format!("{handle}: {message}"))
            }
            Report::Saved { handle, .. } => {
                self.named
                    .retain(|(about, _)| about.as_ref() != Some(handle));
                return;
            }
            _ => return,
        };
        if self.named.len() < NAMED {
            self.named.push(what);
        } else {
            self.more += 1;
        }
    }

    /// The run's result with these failures: a run that otherwise succeeded fails with them;
    /// one that failed names them before its own reason.
    pub fn into_result(self, result: anyhow::Result<()>) -> anyhow::Result<()> {
        if self.named.is_empty() {
            return result;
        }
        let mut lines: Vec<String> = self.named.into_iter().map(|(_, what)| what).collect();
        if self.more > 0 {
            lines.push(format!("and {} more failure(s)", self.more));
        }
        if let Err(err) = result {
            let last = format!("{err:#}");
            if lines.last() != Some(&last) {
                lines.push(last);
            }
        }
        Err(NotAllDone(lines).into())
    }
}

/// Some of what was asked could not be carried out: one line each.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct NotAllDone(pub Vec<String>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::room::{Attempt, Refusal};

    #[test]
    fn errors_refusals_and_failed_fetches_count_and_nothing_else_does() {
        let mut failures = Failures::default();
        failures.note(&Report::Info("typed lines now go to ops".into()));
        failures.note(&Report::Warning("a message was not saved".into()));
        assert!(failures.into_result(Ok(())).is_ok());

        let mut failures = Failures::default();
        failures.note(&Report::Error(
            "no member here or remembered matches \"bot2\"".into(),
        ));
        failures.note(&Report::Room(Event::refused(
            Refusal::InvalidName,
            Attempt::SetName("#".into()),
        )));
        failures.note(&Report::FileError {
            handle: "1a2b3c4d".into(),
            message: "no provider".into(),
        });
        let err = failures.into_result(Ok(())).unwrap_err();
        let lines = &err.downcast_ref::<NotAllDone>().unwrap().0;
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].contains("bot2") && lines[2].starts_with("1a2b3c4d: "));
    }

    #[test]
    fn a_fetch_that_waited_and_then_arrived_is_no_failure() {
        let mut failures = Failures::default();
        failures.note(&Report::FileError {
            handle: "1a2b3c4d".into(),
            message: "waiting: it starts again by itself when ann is back".into(),
        });
        failures.note(&Report::Saved {
            handle: "1a2b3c4d".into(),
            path: "/tmp/x".into(),
        });
        assert!(failures.into_result(Ok(())).is_ok());
    }

    #[test]
    fn many_failures_are_bounded_and_the_runs_own_reason_comes_last() {
        let mut failures = Failures::default();
        for i in 0..150 {
            failures.note(&Report::Error(format!("failure {i}")));
        }
        let err = failures
            .into_result(Err(anyhow::anyhow!("the session ended")))
            .unwrap_err();
        let lines = &err.downcast_ref::<NotAllDone>().unwrap().0;
        assert_eq!(lines.len(), NAMED + 2);
        assert_eq!(lines[NAMED], "and 50 more failure(s)");
        assert_eq!(lines[NAMED + 1], "the session ended");
    }
}

//! Holding a checked catch-up answer to what was asked of it. Every envelope in it is signed
//! by its author, but the member who serves it picks which: one who answers with more messages
//! than asked for, or with messages from outside the asked window, is stuffing the asker's
//! history (old lines replayed as if recent, a flood of its own backdated lines).

use crate::proto::UnixMillis;
use crate::proto::wire::{CheckedBatch, MAX_CLOCK_SKEW_MS, MessageBody, Rejection, Verified};

/// What one request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Asked {
    /// Messages sent at or after this (the room already starts it a little early, for clock
    /// differences between authors).
    pub since: UnixMillis,
    /// Most messages (names come on top: the authors' `AboutMe`, whatever their age).
    pub limit: usize,
}

/// An answer that held to what was asked, once trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fit {
    /// Messages the answer came with, trimmed ones included: whether the page was full.
    pub messages: usize,
    /// Messages sent before `since`, dropped.
    pub early: usize,
    /// Envelopes sent further in the future than clocks differ, dropped (and counted by the
    /// room as rejections).
    pub future: usize,
}

/// More messages than asked for: the whole answer is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{messages} messages for a limit of {limit}")]
pub(super) struct OverLimit {
    pub messages: usize,
    pub limit: usize,
}

fn is_message(verified: &Verified) -> bool {
    matches!(verified.body, MessageBody::Message { .. })
}

/// Drop from `batch` what lies outside `asked` at wall-clock time `now`, or refuse it whole.
pub(super) fn hold(
    batch: &mut CheckedBatch,
    asked: Asked,
    now: UnixMillis,
) -> Result<Fit, OverLimit> {
    let messages = batch.accepted.iter().filter(|(v, _)| is_message(v)).count();
    if messages > asked.limit {
        return Err(OverLimit {
            messages,
            limit: asked.limit,
        });
    }
    let latest = UnixMillis(now.0.saturating_add(MAX_CLOCK_SKEW_MS));
    let (mut early, mut future) = (Vec::new(), Vec::new());
    batch.accepted.retain(|(v, _)| {
        if v.sent > latest {
            future.push(v.sent.0 - now.0);
            false
        } else if is_message(v) && v.sent < asked.since {
            early.push(asked.since.0 - v.sent.0);
            false
        } else {
            true
        }
    });
    let fit = Fit {
        messages,
        early: early.len(),
        future: future.len(),
    };
    batch.rejected.extend(
        early
            .into_iter()
            .map(|early_ms| Rejection::OutsideWindow { early_ms }),
    );
    // The check already refused these at its own `now`; a clock that moved back since is
    // what lets one through, and the room counts it the same way.
    batch.rejected.extend(
        future
            .into_iter()
            .map(|ahead_ms| Rejection::FutureTimestamp { ahead_ms }),
    );
    Ok(fit)
}

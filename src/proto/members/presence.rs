//! Who is here now, and when a silent member counts as gone.
//!
//! Each member re-announces itself (`AboutMe`) at an interval that grows with the room, so the
//! room as a whole sends about one heartbeat a second whatever its size (deliveries grow with
//! N, not N²); the interval travels in the `AboutMe`, and receivers wait 8/3 of it before they
//! call a silent member gone. That bound alone would be long in a large room, so the members
//! whose direct link to someone dropped tell the others: after [`PresenceTiming::
//! suspect_after_link_loss`] of silence they broadcast `Missing`; the member, if it is still
//! here, answers with its `AboutMe`; whoever hears nothing from it within the refute window
//! reports it gone. A vanished member is thus reported within the link's timeout plus 35 s
//! (20-25 s of silence, then 10 s) in a room of any size; a hostile `Missing` costs its target
//! one `AboutMe`.

use std::time::{Duration, Instant};

use super::{EXPIRY_GRANULARITY, MemberInfo, Members};
use crate::proto::{EndpointId, UnixMillis};

/// How presence decides that a silent member is gone.
#[derive(Debug, Clone, Copy)]
pub struct PresenceTiming {
    /// The shortest heartbeat interval (rooms of up to 30 members).
    pub heartbeat: Duration,
    /// Each member adds this much to the heartbeat interval: room-wide, about one heartbeat
    /// per this period.
    pub heartbeat_per_member: Duration,
    /// The longest heartbeat interval sent or believed.
    pub max_heartbeat: Duration,
    /// Silence after which a member beating every `heartbeat` is gone; scaled with the
    /// interval a member announces.
    pub expire_after: Duration,
    /// Silence after our direct link to a member dropped before we report it `Missing`.
    pub suspect_after_link_loss: Duration,
    /// How long a member reported missing has to show that it is here.
    pub refute_window: Duration,
    /// Silence after which a member that cannot answer `Missing` (an older peer, or a key that
    /// never announced itself) is gone once our link to it dropped.
    pub expire_after_link_loss: Duration,
    /// Above this many members, an `AboutMe` without an interval no longer makes everyone beat
    /// every 30 s: one key must not turn a large room's heartbeats back into N².
    pub legacy_up_to: usize,
}

impl Default for PresenceTiming {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(30),
            heartbeat_per_member: Duration::from_secs(1),
            max_heartbeat: Duration::from_secs(30 * 60),
            expire_after: Duration::from_secs(80),
            suspect_after_link_loss: Duration::from_secs(20),
            refute_window: Duration::from_secs(10),
            expire_after_link_loss: Duration::from_secs(40),
            legacy_up_to: 300,
        }
    }
}

impl PresenceTiming {
    /// How often each member of a room of `members` beats.
    pub fn heartbeat_for(&self, members: usize) -> Duration {
        let members = u32::try_from(members).unwrap_or(u32::MAX);
        self.heartbeat_per_member
            .saturating_mul(members)
            .clamp(self.heartbeat, self.max_heartbeat)
    }

    /// Silence after which a member that announced a heartbeat every `every` is gone (peers
    /// that announce none beat every `heartbeat`).
    pub fn expiry_for(&self, every: Option<Duration>) -> Duration {
        let every = every
            .unwrap_or(self.heartbeat)
            .clamp(self.heartbeat, self.max_heartbeat);
        self.expire_after
            .mul_f64(every.as_secs_f64() / self.heartbeat.as_secs_f64())
    }
}

#[derive(Debug, Clone)]
pub(super) struct Presence {
    /// Sent its `AboutMe` since it arrived: unannounced keys were never reported joined.
    pub(super) announced: bool,
    pub(super) last_seen: Instant,
    /// Silence after which it is gone, from the heartbeat it announced.
    expire_after: Duration,
    /// Our direct gossip link to it dropped: report it missing at this point unless heard
    /// from before.
    link_lost: Option<Instant>,
    /// Reported missing (by us or a peer): gone at this point unless heard from before.
    missing_until: Option<Instant>,
    /// Its `AboutMe` announced no interval: a peer from before heartbeats grew with the room,
    /// which beats every 30 s, expires silent members after 80 s and knows no `Missing`.
    legacy: bool,
}

/// What an expiry scan found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Expired {
    /// Announced members now gone.
    pub gone: Vec<MemberInfo>,
    /// Members we lost our link to and heard nothing from since: tell the room.
    pub missing: Vec<EndpointId>,
}

impl Presence {
    fn deadline(&self) -> Instant {
        let silent = self.last_seen + self.expire_after;
        match self.missing_until {
            Some(until) => silent.min(until),
            None => self.link_lost.map_or(silent, |report| silent.min(report)),
        }
    }
}

impl Members {
    /// Proof of life from `id` at `now` (our clocks: `now` for deadlines, `wall` for last
    /// heard): clears any suspicion.
    pub(crate) fn heard_from(&mut self, id: EndpointId, now: Instant, wall: UnixMillis) {
        if id == self.me {
            return;
        }
        let expire_after = self.timing.expire_after;
        let Some(entry) = self.entry(id, wall) else {
            return;
        };
        entry.last_heard = entry.last_heard.max(wall);
        match &mut entry.present {
            Some(presence) => {
                presence.last_seen = presence.last_seen.max(now);
                presence.link_lost = None;
                presence.missing_until = None;
            }
            None => {
                entry.present = Some(Presence {
                    announced: false,
                    last_seen: now,
                    expire_after,
                    link_lost: None,
                    missing_until: None,
                    legacy: false,
                });
                self.deadline_at_most(now + expire_after);
            }
        }
    }

    /// `id` beats every `every` (from its `AboutMe`; `None` from older peers).
    pub(crate) fn beats_every(&mut self, id: &EndpointId, every: Option<Duration>) {
        let expire_after = self.timing.expiry_for(every);
        if let Some(presence) = self.keys.get_mut(id).and_then(|e| e.present.as_mut()) {
            presence.expire_after = expire_after;
            presence.legacy = every.is_none();
            let deadline = presence.deadline();
            self.deadline_at_most(deadline);
        }
    }

    pub(super) fn deadline_at_most(&mut self, deadline: Instant) {
        self.earliest_deadline = Some(self.earliest_deadline.map_or(deadline, |t| t.min(deadline)));
    }

    /// Whether `id` is an older peer here (its `AboutMe` announced no interval).
    pub(crate) fn is_legacy(&self, id: &EndpointId) -> bool {
        self.presence(id).is_some_and(|p| p.legacy)
    }

    /// Whether `id` may have vanished: our link to it dropped or someone reported it missing.
    /// A member list leaves such members out, so that it cannot keep a ghost alive.
    pub(crate) fn is_suspect(&self, id: &EndpointId) -> bool {
        self.presence(id)
            .is_some_and(|p| p.link_lost.is_some() || p.missing_until.is_some())
    }

    /// How many are listed (me and the announced members here).
    pub(crate) fn listed(&self) -> usize {
        self.roster.len()
    }

    /// The heartbeat interval to announce now: one that grows with the room, unless a member
    /// from before that is here (it would take our silence for leaving).
    pub(crate) fn heartbeat(&self) -> Duration {
        let legacy = self.listed() <= self.timing.legacy_up_to
            && self
                .keys
                .values()
                .any(|e| e.present.as_ref().is_some_and(|p| p.announced && p.legacy));
        if legacy {
            self.timing.heartbeat
        } else {
            self.timing.heartbeat_for(self.listed())
        }
    }

    /// Our direct link to `id` dropped at `now`: report it missing once it has been silent
    /// for [`PresenceTiming::suspect_after_link_loss`]. Its other neighbours lost theirs at the
    /// same moment (it crashed): each waits up to half the refute window more, drawn from both
    /// keys, so that the first report reaches the others before they send their own.
    pub(crate) fn link_lost(&mut self, id: &EndpointId, now: Instant) {
        let timing = self.timing;
        let draw = crate::proto::pair_draw(&self.me, id)[0] as u16;
        let jitter = (timing.refute_window / 2).mul_f64(f64::from(draw) / f64::from(u16::MAX));
        if let Some(presence) = self.keys.get_mut(id).and_then(|e| e.present.as_mut()) {
            presence.link_lost = Some(if presence.legacy || !presence.announced {
                // It cannot answer a `Missing`: gone after the silence the old rules allowed.
                presence.last_seen + timing.expire_after_link_loss
            } else {
                (presence.last_seen + timing.suspect_after_link_loss).max(now) + jitter
            });
            let deadline = presence.deadline();
            self.deadline_at_most(deadline);
        }
    }

    /// A member reported `id` missing at `now`: unless we heard from it within the refute
    /// window, it is gone when that window has passed without a word. Whether that changed
    /// anything.
    pub(crate) fn reported_missing(&mut self, id: &EndpointId, now: Instant) {
        let window = self.timing.refute_window;
        let Some(presence) = self.keys.get_mut(id).and_then(|e| e.present.as_mut()) else {
            return;
        };
        // A member from before would not answer: it beats every 30 s instead.
        if presence.legacy || presence.missing_until.is_some() || presence.last_seen + window > now
        {
            return;
        }
        presence.missing_until = Some(now + window);
        self.deadline_at_most(now + window);
    }

    /// Mark every member silent past its deadline gone (the announced ones are returned), and
    /// name the ones to report missing. Scans at most once per [`EXPIRY_GRANULARITY`].
    pub(crate) fn expire(&mut self, now: Instant) -> Expired {
        if self.next_deadline().is_none_or(|t| t > now) {
            return Expired::default();
        }
        self.scanned_at = Some(now);
        let timing = self.timing;
        let mut gone = Vec::new();
        let mut missing = Vec::new();
        let mut earliest: Option<Instant> = None;
        for (id, entry) in self.keys.iter_mut() {
            let Some(presence) = entry.present.as_mut() else {
                continue;
            };
            let silent = presence.last_seen + presence.expire_after <= now;
            let refuted_in_time = presence.missing_until.is_none_or(|t| t > now);
            let suspect =
                presence.missing_until.is_none() && presence.link_lost.is_some_and(|t| t <= now);
            // Those who cannot answer a `Missing` (never announced, or from before) are gone.
            let unanswerable = !presence.announced || presence.legacy;
            if silent || !refuted_in_time || (suspect && unanswerable) {
                gone.push(*id);
                continue;
            }
            if suspect {
                presence.missing_until = Some(now + timing.refute_window);
                missing.push(*id);
            }
            let deadline = presence.deadline();
            earliest = Some(earliest.map_or(deadline, |t| t.min(deadline)));
        }
        self.earliest_deadline = earliest;
        let gone = gone.iter().filter_map(|id| self.remove(id)).collect();
        Expired { gone, missing }
    }

    /// When [`Self::expire`] has something to do: O(1).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let earliest = self.earliest_deadline?;
        Some(match self.scanned_at {
            Some(at) => earliest.max(at + EXPIRY_GRANULARITY),
            None => earliest,
        })
    }

    #[cfg(test)]
    pub(super) fn present(&self) -> impl Iterator<Item = (&EndpointId, &Presence)> {
        self.keys
            .iter()
            .filter_map(|(id, e)| Some((id, e.present.as_ref()?)))
    }
}

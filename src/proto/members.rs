//! Who is in the room: names by key, when each was last heard from, and who has gone quiet.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::names::display_name;
use super::{EndpointId, UnixMillis};

/// A member as the outside world sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    pub id: EndpointId,
    /// The name the member claims (cleaned).
    pub name: String,
    /// The name to show: `name`, or `name#abcd` while another member uses the same name.
    pub display: String,
}

/// How presence decides that a silent member is gone.
#[derive(Debug, Clone, Copy)]
pub struct PresenceTiming {
    /// How often each member re-announces itself (`AboutMe`).
    pub heartbeat: Duration,
    /// Silence after which a member is reported left.
    pub expire_after: Duration,
    /// Silence after which a member whose direct link dropped (`NeighborDown`) is reported left:
    /// a live member would have sent its heartbeat by then.
    pub expire_after_link_loss: Duration,
}

impl Default for PresenceTiming {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(30),
            expire_after: Duration::from_secs(80),
            expire_after_link_loss: Duration::from_secs(40),
        }
    }
}

#[derive(Debug, Clone)]
struct Member {
    /// `None` until the member's `AboutMe` arrives; unnamed members were never announced.
    name: Option<String>,
    last_seen: Instant,
    link_lost: bool,
}

/// The outcome of learning a member's name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NameChange {
    Joined,
    Renamed { old: String },
    Unchanged,
}

#[derive(Debug)]
pub(crate) struct Members {
    me: EndpointId,
    my_name: String,
    others: BTreeMap<EndpointId, Member>,
    /// Names learned from history (signed `AboutMe`s), with their send time: how to show
    /// authors who are not here now.
    known: HashMap<EndpointId, (UnixMillis, String)>,
}

impl Members {
    pub(crate) fn new(me: EndpointId, my_name: String) -> Self {
        Self {
            me,
            my_name,
            others: BTreeMap::new(),
            known: HashMap::new(),
        }
    }

    /// Remember `id`'s name from history if it is newer than what we knew; never touches
    /// presence. Returns whether anything changed.
    pub(crate) fn remember_name(&mut self, id: EndpointId, name: &str, sent: UnixMillis) -> bool {
        if id == self.me {
            return false;
        }
        let newer = self.known.get(&id).is_none_or(|(at, _)| *at < sent);
        if newer {
            self.known.insert(id, (sent, name.to_string()));
        }
        newer
    }

    pub(crate) fn my_name(&self) -> &str {
        &self.my_name
    }

    pub(crate) fn set_my_name(&mut self, name: String) -> String {
        std::mem::replace(&mut self.my_name, name)
    }

    pub(crate) fn is_named(&self, id: &EndpointId) -> bool {
        *id == self.me || self.others.get(id).is_some_and(|m| m.name.is_some())
    }

    /// Proof of life from `id`. Returns `true` if `id` was not known at all.
    pub(crate) fn heard_from(&mut self, id: EndpointId, now: Instant) -> bool {
        if id == self.me {
            return false;
        }
        match self.others.get_mut(&id) {
            Some(member) => {
                member.last_seen = now;
                member.link_lost = false;
                false
            }
            None => {
                self.others.insert(
                    id,
                    Member {
                        name: None,
                        last_seen: now,
                        link_lost: false,
                    },
                );
                true
            }
        }
    }

    pub(crate) fn set_name(&mut self, id: EndpointId, name: String, now: Instant) -> NameChange {
        if id == self.me {
            return NameChange::Unchanged;
        }
        self.heard_from(id, now);
        let Some(member) = self.others.get_mut(&id) else {
            return NameChange::Unchanged;
        };
        match member.name.replace(name.clone()) {
            None => NameChange::Joined,
            Some(old) if old == name => NameChange::Unchanged,
            Some(old) => NameChange::Renamed { old },
        }
    }

    /// Forget `id`; its info if it had been announced (named).
    pub(crate) fn remove(&mut self, id: &EndpointId) -> Option<MemberInfo> {
        let info = self.info(id);
        let removed = self.others.remove(id)?;
        removed.name.and(info)
    }

    pub(crate) fn link_lost(&mut self, id: &EndpointId) {
        if let Some(member) = self.others.get_mut(id) {
            member.link_lost = true;
        }
    }

    fn deadline(member: &Member, timing: &PresenceTiming) -> Instant {
        let grace = if member.link_lost {
            timing.expire_after_link_loss
        } else {
            timing.expire_after
        };
        member.last_seen + grace
    }

    /// Remove every member silent past its deadline; the announced ones are returned.
    pub(crate) fn expire(&mut self, now: Instant, timing: &PresenceTiming) -> Vec<MemberInfo> {
        let gone: Vec<EndpointId> = self
            .others
            .iter()
            .filter(|(_, m)| Self::deadline(m, timing) <= now)
            .map(|(id, _)| *id)
            .collect();
        gone.iter().filter_map(|id| self.remove(id)).collect()
    }

    pub(crate) fn next_deadline(&self, timing: &PresenceTiming) -> Option<Instant> {
        self.others
            .values()
            .map(|m| Self::deadline(m, timing))
            .min()
    }

    fn claimed_name(&self, id: &EndpointId) -> Option<&str> {
        if *id == self.me {
            return Some(&self.my_name);
        }
        let live = self.others.get(id).and_then(|m| m.name.as_deref());
        live.or_else(|| self.known.get(id).map(|(_, name)| name.as_str()))
    }

    fn named(&self) -> impl Iterator<Item = (&EndpointId, &str)> {
        std::iter::once((&self.me, self.my_name.as_str())).chain(
            self.others
                .iter()
                .filter_map(|(id, m)| Some((id, m.name.as_deref()?))),
        )
    }

    /// The member's info; unnamed members show their key's short form as the name.
    pub(crate) fn info(&self, id: &EndpointId) -> Option<MemberInfo> {
        if *id != self.me && !self.others.contains_key(id) {
            return None;
        }
        Some(self.info_or_stranger(id))
    }

    /// Like [`Self::info`], for any key (a message can come from one we never heard of).
    pub(crate) fn info_or_stranger(&self, id: &EndpointId) -> MemberInfo {
        match self.claimed_name(id) {
            Some(name) => MemberInfo {
                id: *id,
                name: name.to_string(),
                display: display_name(id, name, self.named()),
            },
            None => MemberInfo {
                id: *id,
                name: id.fmt_short().to_string(),
                display: id.fmt_short().to_string(),
            },
        }
    }

    /// Everyone announced, me included, sorted by display name.
    pub(crate) fn list(&self) -> Vec<MemberInfo> {
        let mut all: Vec<MemberInfo> = self.named().filter_map(|(id, _)| self.info(id)).collect();
        all.sort_by(|a, b| a.display.cmp(&b.display));
        all
    }
}

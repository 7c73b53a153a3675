//! Who is in the room: every key heard of (bounded), its name and when it said so, whether it
//! is here now, and who has gone quiet. Names are shown through the [`NameIndex`]: the first
//! key seen with a name keeps it; look-alikes get a fingerprint.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::name_index::{Claim, NameIndex};
use super::names::name_key;
use super::room::Refusal;
use super::{EndpointId, UnixMillis};

/// Most keys a room remembers, present or not; beyond it the longest absent are forgotten.
/// Keys cost nothing to make, so this bounds what a flood of fake members can take.
pub const MAX_KNOWN_KEYS: usize = 10_000;

/// A member as the outside world sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    pub id: EndpointId,
    /// The name the member claims (cleaned).
    pub name: String,
    /// The name to show: `name`, or `name#abcd` when another key owns or shares the name.
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
struct Presence {
    /// Sent its `AboutMe` since it arrived: unannounced keys were never reported joined.
    announced: bool,
    last_seen: Instant,
    link_lost: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    name: Option<String>,
    /// Send time of the `AboutMe` that gave `name`.
    named_at: UnixMillis,
    /// Newest send time of any presence message (`AboutMe`, `WhoIsThere`, `Leave`): older
    /// ones are replays and ignored.
    presence_at: UnixMillis,
    /// Our clock when last heard of, for forgetting the longest absent first.
    last_heard: UnixMillis,
    present: Option<Presence>,
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
    keys: HashMap<EndpointId, Entry>,
    names: NameIndex,
}

impl Members {
    pub(crate) fn new(me: EndpointId, my_name: String) -> Self {
        let mut names = NameIndex::default();
        names.claim(me, &my_name);
        Self {
            me,
            my_name,
            keys: HashMap::new(),
            names,
        }
    }

    pub(crate) fn names(&self) -> &NameIndex {
        &self.names
    }

    pub(crate) fn restore_pin(&mut self, key: String, id: EndpointId) {
        self.names.restore_pin(key, id);
    }

    /// Keys remembered, present or not.
    pub(crate) fn known(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn my_name(&self) -> &str {
        &self.my_name
    }

    /// Our own rename; the claim says whether someone had the name first.
    pub(crate) fn set_my_name(&mut self, name: String) -> (String, Claim) {
        let claim = self.names.claim(self.me, &name);
        (std::mem::replace(&mut self.my_name, name), claim)
    }

    pub(crate) fn is_named(&self, id: &EndpointId) -> bool {
        *id == self.me || self.presence(id).is_some_and(|p| p.announced)
    }

    fn presence(&self, id: &EndpointId) -> Option<&Presence> {
        self.keys.get(id)?.present.as_ref()
    }

    /// Whether a presence message from `id` sent at `sent` is news (not older than the newest
    /// seen from that key); if so it becomes the newest.
    pub(crate) fn presence_is_fresh(&mut self, id: EndpointId, sent: UnixMillis) -> bool {
        if id == self.me {
            return true;
        }
        let entry = self.entry(id, sent);
        if sent < entry.presence_at {
            return false;
        }
        entry.presence_at = sent;
        true
    }

    fn entry(&mut self, id: EndpointId, wall: UnixMillis) -> &mut Entry {
        if !self.keys.contains_key(&id) && self.keys.len() >= MAX_KNOWN_KEYS {
            self.forget_longest_absent();
        }
        self.keys.entry(id).or_insert(Entry {
            name: None,
            named_at: UnixMillis(0),
            presence_at: UnixMillis(0),
            last_heard: wall,
            present: None,
        })
    }

    /// Proof of life from `id`.
    pub(crate) fn heard_from(&mut self, id: EndpointId, now: Instant, wall: UnixMillis) {
        if id == self.me {
            return;
        }
        let entry = self.entry(id, wall);
        entry.last_heard = entry.last_heard.max(wall);
        match &mut entry.present {
            Some(presence) => {
                presence.last_seen = now;
                presence.link_lost = false;
            }
            None => {
                entry.present = Some(Presence {
                    announced: false,
                    last_seen: now,
                    link_lost: false,
                })
            }
        }
    }

    /// A live `AboutMe` (already checked fresh): `id` is here and called `name`.
    pub(crate) fn set_name(
        &mut self,
        id: EndpointId,
        name: String,
        sent: UnixMillis,
        now: Instant,
        wall: UnixMillis,
    ) -> (NameChange, Option<Claim>) {
        if id == self.me {
            return (NameChange::Unchanged, None);
        }
        self.heard_from(id, now, wall);
        let old = self.keys.get(&id).and_then(|e| e.name.clone());
        let claim = self.remember_name(id, &name, sent);
        let Some(presence) = self.keys.get_mut(&id).and_then(|e| e.present.as_mut()) else {
            return (NameChange::Unchanged, claim);
        };
        let was_announced = std::mem::replace(&mut presence.announced, true);
        let change = match (claim.is_some(), old) {
            _ if !was_announced => NameChange::Joined,
            (true, Some(old)) => NameChange::Renamed { old },
            _ => NameChange::Unchanged,
        };
        (change, claim)
    }

    /// Learn `id`'s name from a signed `AboutMe` sent at `sent`, if newer than what we knew;
    /// never touches presence. `Some` (what the claim meant) when the name changed.
    pub(crate) fn remember_name(
        &mut self,
        id: EndpointId,
        name: &str,
        sent: UnixMillis,
    ) -> Option<Claim> {
        if id == self.me {
            return None;
        }
        let entry = self.entry(id, sent);
        entry.last_heard = entry.last_heard.max(sent);
        if entry.name.is_some() && sent < entry.named_at {
            return None;
        }
        entry.named_at = sent;
        if entry.name.as_deref() == Some(name) {
            return None;
        }
        entry.name = Some(name.to_string());
        Some(self.names.claim(id, name))
    }

    /// `id` left: its info if it had been announced. Its name stays known.
    pub(crate) fn remove(&mut self, id: &EndpointId) -> Option<MemberInfo> {
        let presence = self.keys.get_mut(id)?.present.take()?;
        presence.announced.then(|| self.info_or_stranger(id))
    }

    pub(crate) fn link_lost(&mut self, id: &EndpointId) {
        if let Some(presence) = self.keys.get_mut(id).and_then(|e| e.present.as_mut()) {
            presence.link_lost = true;
        }
    }

    fn deadline(presence: &Presence, timing: &PresenceTiming) -> Instant {
        let grace = if presence.link_lost {
            timing.expire_after_link_loss
        } else {
            timing.expire_after
        };
        presence.last_seen + grace
    }

    /// Mark every member silent past its deadline gone; the announced ones are returned.
    pub(crate) fn expire(&mut self, now: Instant, timing: &PresenceTiming) -> Vec<MemberInfo> {
        let gone: Vec<EndpointId> = self
            .present()
            .filter(|(_, p)| Self::deadline(p, timing) <= now)
            .map(|(id, _)| *id)
            .collect();
        gone.iter().filter_map(|id| self.remove(id)).collect()
    }

    pub(crate) fn next_deadline(&self, timing: &PresenceTiming) -> Option<Instant> {
        self.present().map(|(_, p)| Self::deadline(p, timing)).min()
    }

    fn present(&self) -> impl Iterator<Item = (&EndpointId, &Presence)> {
        self.keys
            .iter()
            .filter_map(|(id, e)| Some((id, e.present.as_ref()?)))
    }

    /// Forget a tenth of the keys at once (amortised), those absent longest first, then the
    /// longest silent present ones: only a flood of fresh keys reaches the cap.
    fn forget_longest_absent(&mut self) {
        let mut order: Vec<(bool, UnixMillis, EndpointId)> = self
            .keys
            .iter()
            .map(|(id, e)| (e.present.is_some(), e.last_heard, *id))
            .collect();
        order.sort_unstable();
        for (_, _, id) in order.into_iter().take(MAX_KNOWN_KEYS / 10) {
            self.keys.remove(&id);
            self.names.release(&id);
        }
    }

    fn claimed_name(&self, id: &EndpointId) -> Option<&str> {
        if *id == self.me {
            return Some(&self.my_name);
        }
        self.keys.get(id)?.name.as_deref()
    }

    /// The member's info when it is here; unnamed members show their key's short form.
    pub(crate) fn info(&self, id: &EndpointId) -> Option<MemberInfo> {
        if *id != self.me && self.presence(id).is_none() {
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
                display: self.names.display(id, name),
            },
            None => MemberInfo {
                id: *id,
                name: id.fmt_short().to_string(),
                display: id.fmt_short().to_string(),
            },
        }
    }

    /// Everyone announced, me included, sorted by display name: O(n log n).
    pub(crate) fn list(&self) -> Vec<MemberInfo> {
        let others = self
            .present()
            .filter(|(_, p)| p.announced)
            .map(|(id, _)| self.info_or_stranger(id));
        let mut all: Vec<MemberInfo> = std::iter::once(self.info_or_stranger(&self.me))
            .chain(others)
            .collect();
        all.sort_by(|a, b| a.display.cmp(&b.display).then(a.id.cmp(&b.id)));
        all
    }
}

impl Members {
    /// The key `who` designates among every key remembered (see [`pick`]).
    pub(crate) fn find(&self, who: &str) -> Result<MemberInfo, Refusal> {
        let all = std::iter::once(self.me)
            .chain(self.keys.keys().copied())
            .map(|id| self.info_or_stranger(&id));
        pick(who, all)
    }
}

/// Which of `candidates` the user means by `who`: a shown name (`alice#1a2b`), a name with a
/// shorter or longer fingerprint, a name (or look-alike of one) that only one key uses, or a
/// key's hex prefix of at least 4 digits.
pub(crate) fn pick(
    who: &str,
    candidates: impl Iterator<Item = MemberInfo>,
) -> Result<MemberInfo, Refusal> {
    let query = who.trim().trim_start_matches('@');
    let candidates: Vec<MemberInfo> = candidates.collect();
    if let Some(exact) = candidates.iter().find(|m| m.display == query) {
        return Ok(exact.clone());
    }
    let (name, hex) = match query.rsplit_once('#') {
        Some((name, hex)) => (name, Some(hex.to_ascii_lowercase())),
        None => (query, None),
    };
    let key = name_key(name);
    let by_hex = |m: &&MemberInfo, hex: &str| m.id.to_string().starts_with(hex);
    let mut matches: Vec<&MemberInfo> = match &hex {
        Some(hex) => candidates
            .iter()
            .filter(|m| name_key(&m.name) == key && by_hex(m, hex))
            .collect(),
        None => {
            let exact: Vec<&MemberInfo> = candidates.iter().filter(|m| m.name == name).collect();
            if exact.is_empty() {
                candidates
                    .iter()
                    .filter(|m| name_key(&m.name) == key)
                    .collect()
            } else {
                exact
            }
        }
    };
    let is_hex = query.len() >= 4 && query.bytes().all(|b| b.is_ascii_hexdigit());
    if matches.is_empty() && is_hex {
        let hex = query.to_ascii_lowercase();
        matches = candidates.iter().filter(|m| by_hex(m, &hex)).collect();
    }
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Refusal::NoSuchMember(who.to_string())),
        _ => Err(Refusal::AmbiguousMember(who.to_string())),
    }
}

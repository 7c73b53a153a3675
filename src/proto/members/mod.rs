//! Who is in the room: every key heard of (bounded), its name and when it said so, whether it
//! is here now, and who has gone quiet. Names are shown through the [`NameIndex`]: the first
//! key seen with a name keeps it; look-alikes get a fingerprint.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

mod directory;
mod find;
mod presence;

pub use directory::Directory;
pub(crate) use find::pick;
use presence::Presence;
pub use presence::PresenceTiming;

use super::name_index::{Claim, NameIndex};
use super::{EndpointId, MessageId, UnixMillis};

/// Most keys a room remembers, present or not; beyond it the longest absent are forgotten, and
/// when only announced members are left, new keys are refused. Keys cost nothing to make, so
/// this bounds what a flood of fake members can take.
pub const MAX_KNOWN_KEYS: usize = 10_000;
/// Expiry is checked at most this often: a room of thousands must not scan them all for every
/// message that moves a deadline.
const EXPIRY_GRANULARITY: Duration = Duration::from_secs(1);

/// A member as the outside world sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    pub id: EndpointId,
    /// The name the member claims (cleaned).
    pub name: String,
    /// The name to show: `name`, or `name#abcd` when another key owns or shares the name.
    pub display: String,
}

#[derive(Debug, Clone)]
struct Entry {
    name: Option<String>,
    /// Send time of the `AboutMe` that gave `name`.
    named_at: UnixMillis,
    /// Newest send time of any presence message (`AboutMe`, `WhoIsThere`, `Leave`): older
    /// ones are replays and ignored.
    presence_at: UnixMillis,
    /// The envelope that set `presence_at`: the same one again is a replay, not news.
    presence_id: Option<MessageId>,
    /// Our clock when last heard of (never the author's), for forgetting the longest absent
    /// first.
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

/// Why a presence message changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotFresh {
    /// Older than (or the very envelope of) the newest seen from that key.
    Stale,
    /// A new key, and the room remembers as many as it may, all of them announced.
    Full,
}

impl NotFresh {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Self::Stale => "stale presence",
            Self::Full => "roster full",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Members {
    me: EndpointId,
    my_name: String,
    timing: PresenceTiming,
    keys: HashMap<EndpointId, Entry>,
    names: NameIndex,
    /// No present member's deadline is earlier (exact after each expiry scan).
    earliest_deadline: Option<Instant>,
    /// The last expiry scan.
    scanned_at: Option<Instant>,
    /// Everyone listed (me and the announced members here) in the order shown, kept up to
    /// date change by change: a list of 10,000 is a copy, not a rebuild and a sort.
    roster: BTreeSet<(String, EndpointId)>,
    /// The shown name each listed key has in `roster`.
    shown: HashMap<EndpointId, String>,
}

impl Members {
    pub(crate) fn new(me: EndpointId, my_name: String, timing: PresenceTiming) -> Self {
        let mut names = NameIndex::default();
        names.claim(me, &my_name);
        let mut members = Self {
            me,
            my_name,
            timing,
            keys: HashMap::new(),
            names,
            earliest_deadline: None,
            scanned_at: None,
            roster: BTreeSet::new(),
            shown: HashMap::new(),
        };
        members.settle();
        members
    }

    fn is_listed(&self, id: &EndpointId) -> bool {
        self.is_me(id) || self.presence(id).is_some_and(|p| p.announced)
    }

    /// Bring the roster up to date with every key whose shown name may have changed.
    fn settle(&mut self) {
        for id in self.names.take_changed() {
            self.relist(&id);
        }
        let me = self.me;
        self.relist(&me);
    }

    /// Put `id` in the roster under its shown name, or take it out if it is not listed.
    fn relist(&mut self, id: &EndpointId) {
        let display = self
            .is_listed(id)
            .then(|| self.info_or_stranger(id).display);
        if self.shown.get(id) == display.as_ref() {
            return;
        }
        if let Some(old) = self.shown.remove(id) {
            self.roster.remove(&(old, *id));
        }
        if let Some(display) = display {
            self.roster.insert((display.clone(), *id));
            self.shown.insert(*id, display);
        }
    }

    pub(crate) fn names(&self) -> &NameIndex {
        &self.names
    }

    pub(crate) fn restore_pin(&mut self, key: String, id: EndpointId) {
        self.names.restore_pin(key, id);
        self.settle();
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
        let old = std::mem::replace(&mut self.my_name, name);
        self.settle();
        (old, claim)
    }

    /// Keys are public: compared as bytes, not in constant time (which costs ten times more,
    /// for every member of a list of thousands).
    fn is_me(&self, id: &EndpointId) -> bool {
        id.as_bytes() == self.me.as_bytes()
    }

    /// Whether the room remembers `id`.
    pub(crate) fn knows(&self, id: &EndpointId) -> bool {
        self.keys.contains_key(id)
    }

    pub(crate) fn is_named(&self, id: &EndpointId) -> bool {
        self.is_me(id) || self.presence(id).is_some_and(|p| p.announced)
    }

    fn presence(&self, id: &EndpointId) -> Option<&Presence> {
        self.keys.get(id.as_bytes())?.present.as_ref()
    }

    /// Whether a presence message from `id` sent at `sent` (envelope `envelope`) is news: not
    /// older than the newest seen from that key, nor that very envelope again. If so it
    /// becomes the newest.
    pub(crate) fn presence_is_fresh(
        &mut self,
        id: EndpointId,
        sent: UnixMillis,
        envelope: MessageId,
        wall: UnixMillis,
    ) -> Result<(), NotFresh> {
        if id == self.me {
            return Ok(());
        }
        let entry = self.entry(id, wall).ok_or(NotFresh::Full)?;
        if sent < entry.presence_at
            || (sent == entry.presence_at && entry.presence_id == Some(envelope))
        {
            return Err(NotFresh::Stale);
        }
        entry.presence_at = sent;
        entry.presence_id = Some(envelope);
        Ok(())
    }

    /// `id`'s entry, made if new; `None` when the room remembers as many keys as it may and
    /// none can be forgotten.
    fn entry(&mut self, id: EndpointId, wall: UnixMillis) -> Option<&mut Entry> {
        if !self.keys.contains_key(&id) && self.keys.len() >= MAX_KNOWN_KEYS {
            self.forget_longest_absent();
            if self.keys.len() >= MAX_KNOWN_KEYS {
                return None;
            }
        }
        Some(self.keys.entry(id).or_insert(Entry {
            name: None,
            named_at: UnixMillis(0),
            presence_at: UnixMillis(0),
            presence_id: None,
            last_heard: wall,
            present: None,
        }))
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
        let claim = self.remember_name(id, &name, sent, wall, true);
        let renamed = claim.is_some();
        // A name first learned from history is pinned once its key is here live.
        let claim = claim.or_else(|| self.pin_live(id));
        let Some(presence) = self.keys.get_mut(&id).and_then(|e| e.present.as_mut()) else {
            return (NameChange::Unchanged, claim);
        };
        let was_announced = std::mem::replace(&mut presence.announced, true);
        let change = match (renamed, old) {
            _ if !was_announced => NameChange::Joined,
            (true, Some(old)) => NameChange::Renamed { old },
            _ => NameChange::Unchanged,
        };
        if !was_announced {
            self.relist(&id);
        }
        (change, claim)
    }

    /// Pin the name `id` claims, if free (see [`NameIndex::pin_if_free`]).
    fn pin_live(&mut self, id: EndpointId) -> Option<Claim> {
        let claim = self.names.pin_if_free(id)?;
        self.settle();
        Some(claim)
    }

    /// Learn `id`'s name from a signed `AboutMe` sent at `sent` (our clock says `wall`), if
    /// newer than what we knew; never touches presence. `Some` (what the claim meant) when
    /// the name changed. Only `live` presence pins a name: history can be backdated by
    /// whoever answers a catch-up.
    pub(crate) fn remember_name(
        &mut self,
        id: EndpointId,
        name: &str,
        sent: UnixMillis,
        wall: UnixMillis,
        live: bool,
    ) -> Option<Claim> {
        if id == self.me {
            return None;
        }
        let heard = sent.min(wall);
        let entry = self.entry(id, heard)?;
        entry.last_heard = entry.last_heard.max(heard);
        if entry.name.is_some() && sent < entry.named_at {
            return None;
        }
        entry.named_at = sent;
        if entry.name.as_deref() == Some(name) {
            return None;
        }
        entry.name = Some(name.to_string());
        let claim = self.names.claim_as(id, name, live);
        self.settle();
        Some(claim)
    }

    /// `id` left: its info if it had been announced. Its name stays known.
    pub(crate) fn remove(&mut self, id: &EndpointId) -> Option<MemberInfo> {
        let presence = self.keys.get_mut(id)?.present.take()?;
        self.relist(id);
        presence.announced.then(|| self.info_or_stranger(id))
    }

    /// Forget a tenth of the keys at once (amortised), those absent longest first, then the
    /// longest silent of those here but never announced; members here and announced are never
    /// forgotten (they leave or time out). Only a flood of fresh keys reaches the cap.
    fn forget_longest_absent(&mut self) {
        let mut order: Vec<(bool, UnixMillis, EndpointId)> = self
            .keys
            .iter()
            .filter(|(_, e)| !e.present.as_ref().is_some_and(|p| p.announced))
            .map(|(id, e)| (e.present.is_some(), e.last_heard, *id))
            .collect();
        order.sort_unstable();
        for (_, _, id) in order.into_iter().take(MAX_KNOWN_KEYS / 10) {
            self.keys.remove(&id);
            self.names.release(&id);
        }
        // Their neighbours among same-named keys may show shorter fingerprints now.
        self.settle();
    }

    fn claimed_name(&self, id: &EndpointId) -> Option<&str> {
        if self.is_me(id) {
            return Some(&self.my_name);
        }
        self.keys.get(id.as_bytes())?.name.as_deref()
    }

    /// The member's info when it is here; unnamed members show their key's short form.
    pub(crate) fn info(&self, id: &EndpointId) -> Option<MemberInfo> {
        if !self.is_me(id) && self.presence(id).is_none() {
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
            // No name can start with `#`: nobody can take the look of an unnamed key.
            None => MemberInfo {
                id: *id,
                name: id.fmt_short().to_string(),
                display: format!("#{}", id.fmt_short()),
            },
        }
    }

    /// The keys of [`Self::list`], in its order, without copying names.
    pub(crate) fn listed_ids(&self) -> impl Iterator<Item = &EndpointId> {
        self.roster.iter().map(|(_, id)| id)
    }

    /// Everyone announced, me included, sorted by display name: a copy of the roster kept
    /// up to date change by change (O(n), no sort).
    pub(crate) fn list(&self) -> Vec<MemberInfo> {
        self.roster
            .iter()
            .map(|(display, id)| MemberInfo {
                id: *id,
                name: self.claimed_name(id).unwrap_or_default().to_string(),
                display: display.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

//! `/ignore`: the user hides a key's messages and presence in this room. Kept on disk by the
//! caller (a [`Record::Ignore`]) and handed back at start with [`Room::restore_ignored`].
//! Its presence is still followed, only not shown (left out of [`Room::members`], its joins,
//! leaves and renames not told): after `/unignore` a member who is here is listed at once,
//! not after its next heartbeat (up to 30 minutes in a large room).

use super::{Attempt, Event, Output, Record, Refusal, Room};
use crate::proto::EndpointId;
use crate::proto::MemberInfo;

impl Room {
    /// Keys ignored in this room, from disk.
    pub fn restore_ignored(&mut self, ids: impl IntoIterator<Item = EndpointId>) {
        self.ignored
            .extend(ids.into_iter().filter(|id| *id != self.me));
    }

    /// Keys met on disk (the authors of what the room kept): each has a share of the rate
    /// limits of its own at once, not after the newcomers' pace (see [`crate::proto::limits`]).
    pub fn restore_established(&mut self, ids: impl IntoIterator<Item = EndpointId>) {
        self.limiter.establish(ids);
    }

    /// Name pins from disk (see [`crate::proto::name_index`]): they win over anything seen
    /// since start.
    pub fn restore_pins(&mut self, pins: impl IntoIterator<Item = (String, EndpointId)>) {
        for (key, id) in pins {
            self.members.restore_pin(key, id);
        }
    }

    /// Whether `event` tells of an ignored member coming, going or renaming: not shown.
    pub(super) fn hides(&self, event: &Event) -> bool {
        match event {
            Event::MemberJoined(member)
            | Event::MemberLeft { member, .. }
            | Event::MemberRenamed { member, .. }
            | Event::NameClash { member, .. } => self.ignored.contains(&member.id),
            _ => false,
        }
    }

    pub(super) fn ignored_members(&self) -> Vec<MemberInfo> {
        let mut list: Vec<MemberInfo> = self
            .ignored
            .iter()
            .map(|id| self.members.info_or_stranger(id))
            .collect();
        list.sort_by(|a, b| a.display.cmp(&b.display));
        list
    }

    pub(super) fn on_ignore(&mut self, who: String, ignore: bool, out: &mut Vec<Output>) {
        let found = if ignore {
            self.members.find(&who)
        } else {
            // Only the ignored are candidates: `/unignore sam` needs no fingerprint when one
            // of several sams is ignored.
            let ignored: Vec<MemberInfo> = self.ignored_members();
            crate::proto::members::pick(&who, ignored.into_iter())
        };
        let member = match found {
            Ok(member) if member.id == self.me => Err(Refusal::IgnoreSelf),
            other => other,
        };
        let member = match member {
            Ok(member) => member,
            Err(refusal) => {
                out.push(Output::Event(Event::refused(refusal, Attempt::Ignore(who))));
                return;
            }
        };
        let changed = if ignore {
            self.ignored.insert(member.id)
        } else {
            self.ignored.remove(&member.id)
        };
        if changed {
            out.push(Output::Persist(Record::Ignore {
                id: member.id,
                name: member.name.clone(),
                ignored: ignore,
            }));
        }
        out.push(Output::Event(Event::Ignored {
            member,
            ignored: ignore,
        }));
    }
}

//! Everyone a front end has seen, in any of its rooms or conversations, so that `/msg` and
//! `/query` reach a member who just left (the offline queue keeps the message), an author
//! of stored history, or a peer we only wrote to: not only who is present right now. Both
//! front ends resolve names here, the same way.

use std::collections::HashMap;

use super::MemberInfo;
use super::find::pick_other;
use crate::proto::EndpointId;
use crate::proto::room::Refusal;

/// Keys remembered at most; past it, the tenth seen longest ago are forgotten.
pub const MAX_DIRECTORY: usize = 10_000;

#[derive(Debug, Default)]
pub struct Directory {
    /// Each key as last shown, and when (a counter) it was last seen.
    known: HashMap<EndpointId, (MemberInfo, u64)>,
    clock: u64,
}

impl Directory {
    /// `member` was seen (joined, listed, wrote): remember how it is shown now.
    pub fn note(&mut self, member: &MemberInfo) {
        self.clock += 1;
        self.known.insert(member.id, (member.clone(), self.clock));
        if self.known.len() > MAX_DIRECTORY {
            let mut ages: Vec<u64> = self.known.values().map(|(_, at)| *at).collect();
            let cut = MAX_DIRECTORY / 10;
            let (_, oldest, _) = ages.select_nth_unstable(cut);
            let oldest = *oldest;
            self.known.retain(|_, (_, at)| *at > oldest);
        }
    }

    /// How `id` was shown when last seen.
    pub fn get(&self, id: &EndpointId) -> Option<&MemberInfo> {
        self.known.get(id).map(|(member, _)| member)
    }

    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// The member `who` names: a whole key in hex (known or not), a shown name
    /// (`sam#1a2b`), a name (its owner before look-alikes), or a key prefix; among `present`
    /// (how rooms show them now) and everyone remembered; never `me`.
    pub fn resolve(
        &self,
        who: &str,
        present: impl IntoIterator<Item = MemberInfo>,
        me: Option<EndpointId>,
    ) -> Result<MemberInfo, Refusal> {
        let present: Vec<MemberInfo> = present.into_iter().collect();
        let query = who.trim().trim_start_matches('@');
        if let Ok(id) = query.parse::<EndpointId>()
            && Some(id) != me
        {
            let known = present.iter().find(|m| m.id == id).cloned();
            let known = known.or_else(|| self.known.get(&id).map(|(m, _)| m.clone()));
            return Ok(known.unwrap_or_else(|| unnamed(id)));
        }
        // Present members first: a key listed twice counts once, shown as a room shows it now.
        let remembered = self
            .known
            .values()
            .map(|(m, _)| m.clone())
            .filter(|m| !present.iter().any(|p| p.id == m.id));
        pick_other(who, present.clone().into_iter().chain(remembered), me)
    }
}

/// A key nobody here named: shown by its fingerprint.
fn unnamed(id: EndpointId) -> MemberInfo {
    let short = crate::proto::names::fingerprint(&id, 8);
    MemberInfo {
        id,
        name: short.clone(),
        display: short,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    fn member(seed: u8, name: &str, display: &str) -> MemberInfo {
        MemberInfo {
            id: SecretKey::from_bytes(&[seed; 32]).public(),
            name: name.into(),
            display: display.into(),
        }
    }

    #[test]
    fn a_member_who_left_is_still_found_by_name() {
        let carol = member(3, "carol", "carol");
        let mut directory = Directory::default();
        directory.note(&carol);
        assert_eq!(directory.resolve("carol", [], None), Ok(carol));
    }

    #[test]
    fn the_owner_of_a_name_beats_a_look_alike() {
        let bob = member(2, "bob", "bob");
        let fake = member(9, "Bob", "Bob#e464");
        let mut directory = Directory::default();
        directory.note(&fake);
        assert_eq!(
            directory.resolve("Bob", [bob.clone()], None),
            Ok(bob),
            "the look-alike must be named in full"
        );
        assert_eq!(directory.resolve("Bob#e464", [], None), Ok(fake));
    }

    #[test]
    fn a_whole_key_a_prefix_and_ambiguity() {
        let ann = member(1, "ann", "ann");
        let stranger = SecretKey::from_bytes(&[7; 32]).public();
        let directory = Directory::default();
        let found = directory
            .resolve(&stranger.to_string(), [ann.clone()], None)
            .unwrap();
        assert_eq!(found.id, stranger, "a whole key needs no name");
        let prefix = &ann.id.to_string()[..8];
        assert_eq!(
            directory.resolve(prefix, [ann.clone()], None),
            Ok(ann.clone())
        );
        assert!(
            directory
                .resolve("ann", [ann.clone()], Some(ann.id))
                .is_err(),
            "never me"
        );
        let twins = [member(4, "sam", "sam#aaaa"), member(5, "sam", "sam#bbbb")];
        let err = directory.resolve("sam", twins, None).unwrap_err();
        assert!(
            err.to_string().contains("sam#aaaa, sam#bbbb"),
            "the candidates are listed: {err}"
        );
    }

    #[test]
    fn it_is_bounded_and_forgets_the_longest_unseen() {
        let mut directory = Directory::default();
        let first = member(1, "first", "first");
        directory.note(&first);
        for i in 0..MAX_DIRECTORY as u32 {
            let id = SecretKey::from_bytes(&blake3::hash(&i.to_le_bytes()).into()).public();
            directory.note(&MemberInfo {
                id,
                name: format!("m{i}"),
                display: format!("m{i}"),
            });
        }
        assert!(directory.len() <= MAX_DIRECTORY);
        assert!(
            directory.resolve("first", [], None).is_err(),
            "the oldest went first"
        );
    }
}

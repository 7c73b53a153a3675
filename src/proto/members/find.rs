//! Which member the user means by a name, a shown name or a key prefix (for `/ignore`).

use super::{MemberInfo, Members};
use crate::proto::names::name_key;
use crate::proto::room::Refusal;

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
            let alike: Vec<&MemberInfo> = candidates
                .iter()
                .filter(|m| name_key(&m.name) == key)
                .collect();
            let exact: Vec<&MemberInfo> =
                alike.iter().copied().filter(|m| m.name == name).collect();
            // The key that owns a name (shown bare) beats the look-alikes shown with a
            // fingerprint, however they spell it: `/query Bob` means bob, not `Bob#e464`,
            // who must be named in full.
            let owners: Vec<&MemberInfo> = alike
                .iter()
                .copied()
                .filter(|m| m.display == m.name)
                .collect();
            match (owners.as_slice(), exact.is_empty()) {
                ([owner], _) => vec![*owner],
                (_, false) => exact,
                (_, true) => alike,
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
        many => {
            let mut shown: Vec<&str> = many.iter().map(|m| m.display.as_str()).collect();
            shown.sort_unstable();
            Err(Refusal::AmbiguousMember(who.to_string(), shown.join(", ")))
        }
    }
}

/// Which member of several rooms' lists `who` means (as [`pick`]), never `me`: a key listed
/// by several rooms counts once (`/msg NAME`).
pub fn pick_other(
    who: &str,
    members: impl IntoIterator<Item = MemberInfo>,
    me: Option<crate::proto::EndpointId>,
) -> Result<MemberInfo, Refusal> {
    let mut others: Vec<MemberInfo> = members.into_iter().filter(|m| Some(m.id) != me).collect();
    others.sort_by_key(|m| m.id);
    others.dedup_by_key(|m| m.id);
    pick(who, others.into_iter())
}

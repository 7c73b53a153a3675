//! What the LAN announces, bounded per source. mDNS records are unauthenticated and anyone can
//! mint endpoint ids: one host answering with thousands of ids must not push the real rooms
//! out of `nearby`. So each source keeps at most [`PER_SOURCE`] ids (a new one evicts that
//! source's own oldest) and the table at most [`MAX_NODES`] (when full, the biggest source
//! gives up its oldest, never a source with fewer ids than the newcomer's).
//!
//! The source is the record's lowest address that is not loopback: iroh's mDNS events do not
//! carry the address a packet came from, so a host that lies about its addresses in each
//! record escapes the per-source bound (the table bound still holds); one process minting
//! ids, which answers with its real addresses, does not.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use crate::proto::EndpointId;
use crate::proto::lan::LanRoom;

/// Ids kept per source address.
pub const PER_SOURCE: usize = 8;
/// Ids kept in all.
pub const MAX_NODES: usize = 256;

/// Where a record says it is: its lowest non-loopback address (`None`: it names none, and all
/// such records share one source).
pub type Source = Option<IpAddr>;

/// The source of a record announcing `addrs`.
pub fn source_of(addrs: impl IntoIterator<Item = IpAddr>) -> Source {
    addrs
        .into_iter()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        .min()
}

/// What one node announces.
#[derive(Debug, Clone)]
pub struct Heard {
    pub rooms: Vec<LanRoom>,
    pub source: Source,
    /// When we heard its record last (the oldest go first).
    pub at: Instant,
}

/// The nodes announcing rooms on the LAN.
#[derive(Debug, Default)]
pub struct Table {
    nodes: HashMap<EndpointId, Heard>,
}

impl Table {
    /// `id` announces `rooms` (none: it is forgotten). `true` when what the LAN announces
    /// changed.
    pub fn heard(
        &mut self,
        id: EndpointId,
        rooms: Vec<LanRoom>,
        source: Source,
        now: Instant,
    ) -> bool {
        if rooms.is_empty() {
            return self.forget(&id);
        }
        let changed = self.nodes.get(&id).is_none_or(|old| old.rooms != rooms);
        let known = self.nodes.contains_key(&id);
        let same_source = self
            .nodes
            .iter()
            .filter(|(other, heard)| **other != id && heard.source == source);
        let mut evicted = false;
        if same_source.count() >= PER_SOURCE {
            evicted |= self.evict_oldest(|other, heard| *other != id && heard.source == source);
        } else if !known && self.nodes.len() >= MAX_NODES {
            evicted |= self.evict_from_biggest_source(source);
            if !evicted {
                // Every source is as small as this one would be: the newcomer waits.
                return false;
            }
        }
        self.nodes.insert(
            id,
            Heard {
                rooms,
                source,
                at: now,
            },
        );
        changed || evicted
    }

    /// `id` went away (its record expired).
    pub fn forget(&mut self, id: &EndpointId) -> bool {
        self.nodes.remove(id).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&EndpointId, &Heard)> {
        self.nodes.iter()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Evicts the oldest node that `which` picks.
    fn evict_oldest(&mut self, which: impl Fn(&EndpointId, &Heard) -> bool) -> bool {
        let oldest = self
            .nodes
            .iter()
            .filter(|(id, heard)| which(id, heard))
            .min_by_key(|(_, heard)| heard.at)
            .map(|(id, _)| *id);
        oldest.is_some_and(|id| self.forget(&id))
    }

    /// Makes room for a new node of `newcomer`: the source with the most nodes gives up its
    /// oldest, if it has more than `newcomer` would have with it.
    fn evict_from_biggest_source(&mut self, newcomer: Source) -> bool {
        let mut counts: HashMap<Source, usize> = HashMap::new();
        for heard in self.nodes.values() {
            *counts.entry(heard.source).or_default() += 1;
        }
        let theirs = counts.get(&newcomer).copied().unwrap_or(0) + 1;
        let biggest = counts
            .into_iter()
            .filter(|(_, n)| *n > theirs)
            .max_by_key(|(source, n)| (*n, std::cmp::Reverse(*source)));
        biggest.is_some_and(|(biggest, _)| self.evict_oldest(|_, heard| heard.source == biggest))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::proto::{SecretKey, TopicId};

    fn id(n: u32) -> EndpointId {
        let mut seed = [7u8; 32];
        seed[..4].copy_from_slice(&n.to_le_bytes());
        SecretKey::from_bytes(&seed).public()
    }

    fn ip(a: u8, b: u8) -> Source {
        Some(IpAddr::from([10, 77, a, b]))
    }

    fn rooms(label: &str) -> Vec<LanRoom> {
        vec![LanRoom::public(TopicId::from_bytes([1; 32]), label)]
    }

    #[test]
    fn a_flooding_host_evicts_only_its_own_ids() {
        let start = Instant::now();
        let mut table = Table::default();
        // The real rooms, heard first.
        for n in 0..3 {
            let at = start + Duration::from_millis(u64::from(n));
            assert!(table.heard(id(n), rooms("standup"), ip(1, n as u8 + 10), at));
        }
        // One host answers with a thousand minted ids.
        for n in 1_000..2_000 {
            let at = start + Duration::from_secs(1) + Duration::from_millis(u64::from(n));
            table.heard(id(n), rooms("fake"), ip(1, 66), at);
        }
        for n in 0..3 {
            assert!(
                table.iter().any(|(i, _)| *i == id(n)),
                "real node {n} evicted"
            );
        }
        let fakes: Vec<_> = table
            .iter()
            .filter(|(_, h)| h.source == ip(1, 66))
            .collect();
        assert_eq!(fakes.len(), PER_SOURCE);
        // Its newest stay.
        assert!(table.iter().any(|(i, _)| *i == id(1_999)));
        assert_eq!(table.len(), 3 + PER_SOURCE);
    }

    #[test]
    fn a_full_table_makes_room_from_its_biggest_source_and_records_without_rooms_go() {
        let start = Instant::now();
        let mut table = Table::default();
        let mut n = 0;
        // Many hosts flooding at their bound fill the table.
        'fill: for host in 0..=255u8 {
            for _ in 0..PER_SOURCE {
                if table.len() == MAX_NODES {
                    break 'fill;
                }
                n += 1;
                table.heard(
                    id(n),
                    rooms("fake"),
                    ip(2, host),
                    start + Duration::from_millis(u64::from(n)),
                );
            }
        }
        assert_eq!(table.len(), MAX_NODES);
        // A new host still gets in; the table stays bounded.
        let late = start + Duration::from_secs(60);
        assert!(table.heard(id(9_000), rooms("real"), ip(3, 1), late));
        assert_eq!(table.len(), MAX_NODES);
        assert!(table.iter().any(|(i, _)| *i == id(9_000)));
        // A record that announces nothing is forgotten; an unchanged one changes nothing.
        assert!(!table.heard(id(9_000), rooms("real"), ip(3, 1), late));
        assert!(table.heard(id(9_000), Vec::new(), ip(3, 1), late));
        assert!(table.iter().all(|(i, _)| *i != id(9_000)));
    }

    #[test]
    fn the_source_is_the_lowest_address_but_loopback() {
        let lo = IpAddr::from([127, 0, 0, 1]);
        let a = IpAddr::from([10, 77, 1, 5]);
        let b = IpAddr::from([192, 168, 1, 5]);
        assert_eq!(source_of([b, lo, a]), Some(a));
        assert_eq!(source_of([lo]), None);
        assert_eq!(source_of([]), None);
    }
}

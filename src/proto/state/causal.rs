//! The log's causal structure: which operations take part in the fold (every parent here, the
//! counter exactly one above theirs), the heads our next operation names, and who saw what.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::MAX_PARENTS;
use super::apply::Skip;
use super::merge::{LogError, OpLog, Skipped};
use super::op::{Action, Op, OpHash, SignedOp};
use crate::proto::SecretKey;

impl OpLog {
    /// Sign `action` as the next operation of this log: its parents are the heads of what
    /// takes part in the fold (never an operation still waiting or skipped for its counter,
    /// which would drag ours down with it), its counter one above theirs.
    pub fn author(&self, secret: &SecretKey, action: Action) -> Result<SignedOp, LogError> {
        let (levels, _, _) = self.ready_levels();
        let ready: Vec<&SignedOp> = std::iter::once(&self.genesis)
            .chain(levels.into_values().flatten())
            .collect();
        let named: BTreeSet<&OpHash> = ready.iter().flat_map(|o| &o.op.parents).collect();
        let mut heads: Vec<&SignedOp> = ready
            .into_iter()
            .filter(|o| !named.contains(&o.hash))
            .collect();
        // More heads than an op may name: the newest ones (an op may name fewer than it saw).
        heads.sort_by_key(|o| (std::cmp::Reverse(o.op.counter), o.hash));
        heads.truncate(MAX_PARENTS);
        let top = heads.iter().map(|o| o.op.counter).max().unwrap_or(0);
        let op = Op {
            room: self.room(),
            // Ready counters are at most the log's length; saturating is only belt and braces.
            counter: top.saturating_add(1),
            parents: heads.iter().map(|o| o.hash).collect(),
            action,
        };
        Ok(SignedOp::sign(secret, op)?)
    }

    /// Whether `ancestor` is `op` or one of its ancestors in this log.
    pub fn saw(&self, op: &OpHash, ancestor: &OpHash) -> bool {
        let mut stack = vec![*op];
        let mut visited = BTreeSet::new();
        while let Some(hash) = stack.pop() {
            if hash == *ancestor {
                return true;
            }
            if !visited.insert(hash) {
                continue;
            }
            if let Some(o) = self.ops.get(&hash) {
                stack.extend(o.op.parents.iter().copied());
            }
        }
        false
    }

    /// The operations that take part, by counter; the skipped ones with a bad counter (or
    /// descending from one); and those still waiting for an ancestor.
    #[allow(clippy::type_complexity)]
    pub(super) fn ready_levels(
        &self,
    ) -> (BTreeMap<u64, Vec<&SignedOp>>, Vec<Skipped>, Vec<OpHash>) {
        let mut sorted: Vec<&SignedOp> = self.ops.values().collect();
        sorted.sort_unstable_by_key(|o| (o.op.counter, o.hash));
        let mut ready: HashSet<OpHash> = HashSet::from([self.genesis.hash]);
        let mut bad: BTreeSet<OpHash> = BTreeSet::new();
        let (mut levels, mut skipped, mut waiting) = (BTreeMap::new(), Vec::new(), Vec::new());
        for o in sorted {
            let counter_of = |p: &OpHash| {
                (*p == self.genesis.hash)
                    .then_some(0)
                    .or_else(|| self.ops.get(p).map(|parent| parent.op.counter))
            };
            let parents: Vec<Option<u64>> = o.op.parents.iter().map(counter_of).collect();
            let all_ready = o.op.parents.iter().all(|p| ready.contains(p));
            let top = parents.iter().flatten().max().copied().unwrap_or(0);
            let why = if o.op.parents.iter().any(|p| bad.contains(p)) {
                Some(Skip::BadAncestor)
            } else if top >= o.op.counter || (all_ready && o.op.counter != top + 1) {
                // Exactly one above its parents: nobody picks a counter to win a race.
                Some(Skip::BadCounter)
            } else {
                None
            };
            if let Some(why) = why {
                bad.insert(o.hash);
                skipped.push(Skipped {
                    op: o.hash,
                    author: o.author,
                    why,
                });
            } else if all_ready {
                ready.insert(o.hash);
                levels.entry(o.op.counter).or_insert_with(Vec::new).push(o);
            } else {
                waiting.push(o.hash);
            }
        }
        waiting.sort_unstable();
        (levels, skipped, waiting)
    }
}

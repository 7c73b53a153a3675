//! The log of a room's operations and the deterministic fold that turns it into a state.
//!
//! Every member folds the same set the same way, so the same set gives the same state, whatever
//! order it arrived in and however often (no wall clock anywhere):
//! 1. only operations whose every ancestor is in the log take part (the rest wait);
//! 2. by Lamport counter, ascending (an operation's counter is exactly one above its parents'
//!    highest, or it is skipped: nobody chooses a counter to land after a rival);
//! 3. within one counter, by the author's role in the state before that counter: owner, then
//!    admin, then member (owner beats admin: a demotion by the owner lands before the demoted
//!    admin's removals, which are then skipped);
//! 4. then removals (remove, ban, leave, deop) before changes before additions (removal beats
//!    addition);
//! 5. then the lower operation hash;
//! 6. each is applied only if its author is entitled to it at that point ([`super::apply`]);
//!    a name, topic, history or role set twice within one counter keeps the first;
//! 7. an add of a key that was removed, banned or left is applied only if its author had seen
//!    that removal (it is among the add's ancestors): a concurrent add never undoes a removal;
//!    a join by such a key is never applied, whatever it saw (a kicked member does not walk
//!    back in with an old invite);
//! 8. an applied operation that moves the epoch on becomes the state's epoch operation, and its
//!    author (or the owner, if the author is gone) the epoch's keyholder.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use super::apply::{Applied, Skip, apply};
use super::op::{Action, Op, OpError, OpHash, SignedOp};
use super::{HistoryVisibility, MAX_OPS, MAX_OPS_PER_MEMBER, Role, RoomId, RoomState};
use crate::proto::{EndpointId, SecretKey};

/// A room's genesis and every operation received since, each once.
#[derive(Debug, Clone)]
pub struct OpLog {
    pub(super) genesis: SignedOp,
    /// The state the genesis makes.
    base: RoomState,
    pub(super) ops: BTreeMap<OpHash, SignedOp>,
    /// How many of `ops` each key authored, for [`MAX_OPS_PER_MEMBER`].
    per_author: HashMap<EndpointId, usize>,
    /// The fold of the log as it is: computed when first asked for, dropped by every insert
    /// (into `last_folded`).
    folded: OnceLock<Folded>,
    /// The latest fold computed, kept across inserts for the per-author bound. Why not fold per
    /// insert: that is a fold of up to 2,048 operations for each operation of an admin, so
    /// quadratic over a busy log. Instead the counts above make every key below its cap free;
    /// a key at its cap that the latest fold knows as an admin or the owner passes without a
    /// fold (an admin demoted by an operation inserted since passes until the next fold, which
    /// a session makes after every insert anyway: at most the operations of one batch); any
    /// other key at its cap costs one fold, cached, so a flood of refusals costs one fold.
    last_folded: Option<Folded>,
}

/// What inserting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// Already in the log: nothing changes (replays are idempotent).
    Duplicate,
}

/// Why a log or an operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Op(#[from] OpError),
    #[error("the operation belongs to another room")]
    OtherRoom,
    #[error("a log starts with its room's genesis, and has only one")]
    Genesis,
    #[error(
        "this room's log of membership changes is full ({MAX_OPS} changes): open a new private room and invite everyone there"
    )]
    Full,
    #[error("the author is not an admin and has {MAX_OPS_PER_MEMBER} operations in the log")]
    AuthorFull,
    #[error("unknown log version {0}")]
    UnknownVersion(u8),
    #[error("malformed log: {0}")]
    Malformed(String),
}

/// An operation the fold did not apply, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    pub op: OpHash,
    pub author: EndpointId,
    pub why: Skip,
}

/// A fold's result.
#[derive(Debug, Clone)]
pub struct Folded {
    pub state: RoomState,
    /// In fold order.
    pub skipped: Vec<Skipped>,
    /// Operations with an ancestor missing from the log, in hash order.
    pub waiting: Vec<OpHash>,
}

impl OpLog {
    /// A log that starts with `genesis`, a signed `Create`.
    pub fn new(genesis: SignedOp) -> Result<Self, LogError> {
        let Action::Create {
            name,
            topic,
            history,
        } = &genesis.op.action
        else {
            return Err(LogError::Genesis);
        };
        let base = RoomState::genesis(
            genesis.hash,
            genesis.op.room,
            genesis.author,
            name.clone(),
            topic.clone(),
            *history,
        );
        Ok(Self {
            genesis,
            base,
            ops: BTreeMap::new(),
            per_author: HashMap::new(),
            folded: OnceLock::new(),
            last_folded: None,
        })
    }

    /// A new room owned by `owner`.
    pub fn create(
        owner: &SecretKey,
        room: RoomId,
        name: &str,
        topic: &str,
        history: HistoryVisibility,
    ) -> Result<Self, LogError> {
        let action = Action::Create {
            name: name.to_string(),
            topic: topic.to_string(),
            history,
        };
        let op = Op {
            room,
            counter: 0,
            parents: Vec::new(),
            action,
        };
        Self::new(SignedOp::sign(owner, op)?)
    }

    pub fn room(&self) -> RoomId {
        self.genesis.op.room
    }

    pub fn genesis(&self) -> &SignedOp {
        &self.genesis
    }

    /// Operations besides the genesis.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Operations besides the genesis, in hash order.
    pub fn ops(&self) -> impl Iterator<Item = &SignedOp> {
        self.ops.values()
    }

    pub fn contains(&self, hash: &OpHash) -> bool {
        *hash == self.genesis.hash || self.ops.contains_key(hash)
    }

    /// Add a checked operation of this room (once; a replay changes nothing).
    ///
    /// A key that is not an admin or the owner in the log's current fold may have at most
    /// [`MAX_OPS_PER_MEMBER`] operations in it ([`LogError::AuthorFull`]), so no single key
    /// (a member, or any outsider's key) fills the log's [`MAX_OPS`]. The bound depends on what
    /// this member holds when the operation arrives: a member promoted in an operation not yet
    /// here is refused until it is (catch-up brings it again).
    pub fn insert(&mut self, op: SignedOp) -> Result<Inserted, LogError> {
        if self.authored_by(&op.author) >= MAX_OPS_PER_MEMBER && !self.contains(&op.hash) {
            let privileged = |folded: &Folded| {
                matches!(
                    folded.state.role_of(&op.author),
                    Some(Role::Admin | Role::Owner)
                )
            };
            let latest = self.folded.get().or(self.last_folded.as_ref());
            if !latest.is_some_and(privileged) && !privileged(self.folded()) {
                return Err(LogError::AuthorFull);
            }
        }
        self.insert_uncapped(op)
    }

    /// [`Self::insert`] without the per-author bound, which a whole decoded log checks once.
    pub(super) fn insert_uncapped(&mut self, op: SignedOp) -> Result<Inserted, LogError> {
        if op.op.room != self.room() {
            return Err(LogError::OtherRoom);
        }
        if self.contains(&op.hash) {
            return Ok(Inserted::Duplicate);
        }
        if matches!(op.op.action, Action::Create { .. }) {
            return Err(LogError::Genesis);
        }
        if self.ops.len() >= MAX_OPS {
            return Err(LogError::Full);
        }
        *self.per_author.entry(op.author).or_insert(0) += 1;
        self.ops.insert(op.hash, op);
        if let Some(folded) = self.folded.take() {
            self.last_folded = Some(folded);
        }
        Ok(Inserted::New)
    }

    /// How many operations `author` has in the log (the genesis aside).
    pub fn authored_by(&self, author: &EndpointId) -> usize {
        self.per_author.get(author).copied().unwrap_or(0)
    }

    /// Check, decode and add received bytes.
    pub fn insert_bytes(&mut self, bytes: &[u8]) -> Result<Inserted, LogError> {
        self.insert(SignedOp::decode(bytes)?)
    }

    /// The state this log gives (see the module documentation for the rule).
    pub fn fold(&self) -> Folded {
        self.folded().clone()
    }

    /// The fold, computed once per change of the log.
    pub(super) fn folded(&self) -> &Folded {
        self.folded.get_or_init(|| self.compute_fold())
    }

    fn compute_fold(&self) -> Folded {
        let mut state = self.base.clone();
        let (levels, mut skipped, waiting) = self.ready_levels();
        // The last removal of each key that left: an add must have seen it.
        let mut removals: HashMap<EndpointId, OpHash> = HashMap::new();
        for level in levels.into_values() {
            let rank = |o: &SignedOp| match state.role_of(&o.author) {
                Some(Role::Owner) => 0,
                Some(Role::Admin) => 1,
                Some(Role::Member) => 2,
                None => 3,
            };
            let mut level: Vec<(u8, u8, OpHash, &SignedOp)> = level
                .into_iter()
                .map(|o| (rank(o), o.op.action.merge_rank(), o.hash, o))
                .collect();
            level.sort_unstable_by_key(|(role, kind, hash, _)| (*role, *kind, *hash));
            let mut set_this_level = BTreeSet::new();
            for (_, _, _, o) in level {
                match self.apply_one(&mut state, o, &removals, &mut set_this_level) {
                    Ok(applied) => {
                        if let Applied::Removed(who) = applied {
                            removals.insert(who, o.hash);
                        }
                    }
                    Err(why) => skipped.push(Skipped {
                        op: o.hash,
                        author: o.author,
                        why,
                    }),
                }
            }
        }
        Folded {
            state,
            skipped,
            waiting,
        }
    }

    fn apply_one(
        &self,
        state: &mut RoomState,
        o: &SignedOp,
        removals: &HashMap<EndpointId, OpHash>,
        set_this_level: &mut BTreeSet<Field>,
    ) -> Result<Applied, Skip> {
        if let Action::Add { who } = &o.op.action
            && let Some(removal) = removals.get(who)
            && !self.saw(&o.hash, removal)
        {
            return Err(Skip::RemovedConcurrently);
        }
        let field = Field::of(&o.op.action);
        if let Some(field) = &field
            && set_this_level.contains(field)
        {
            return Err(Skip::Superseded);
        }
        let before = state.hash();
        let mut next = state.clone();
        let removed = removals.contains_key(&o.author);
        let applied = apply(&mut next, &o.author, &o.op.action, removed)?;
        if next.epoch != state.epoch {
            next.epoch_op = o.hash;
            next.keyholder = if next.is_member(&o.author) {
                o.author
            } else {
                next.owner
            };
        }
        next.version += 1;
        next.previous = before;
        *state = next;
        if let Some(field) = field {
            set_this_level.insert(field);
        }
        Ok(applied)
    }
}

/// What an operation sets, for "the first within a counter wins".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    Name,
    Topic,
    History,
    Owner,
    Role(EndpointId),
}

impl Field {
    fn of(action: &Action) -> Option<Self> {
        match action {
            Action::SetName(_) => Some(Self::Name),
            Action::SetTopic(_) => Some(Self::Topic),
            Action::SetHistory(_) => Some(Self::History),
            Action::HandOver { .. } => Some(Self::Owner),
            Action::SetRole { who, .. } => Some(Self::Role(*who)),
            _ => None,
        }
    }
}

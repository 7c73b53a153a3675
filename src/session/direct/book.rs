//! Where the DM actor keeps messages: the store thread, or (with `--ephemeral`) a bounded
//! memory that answers the same questions, so the actor never asks which it has.

use std::sync::{Arc, Mutex};

use crate::proto::direct::{Conversation, DirectMessage, DmState, SealedDirect};
use crate::proto::room::ChangeKind;
use crate::proto::{EndpointId, MessageId, UnixMillis};
use crate::store::{MAX_PENDING_PER_PEER, MAX_PENDING_TOTAL, QueueError, Receipt, StoreHandle};

/// Messages kept in memory at most without a store; the oldest settled ones go first.
const MEMORY_CAPACITY: usize = 5000;

#[derive(Clone)]
pub(super) enum Book {
    Disk(StoreHandle),
    Memory(Arc<Mutex<Memory>>),
}

#[derive(Default)]
pub(super) struct Memory {
    /// In (sent, id) order.
    messages: Vec<SealedDirect>,
}

fn order(m: &DirectMessage) -> (UnixMillis, MessageId) {
    (m.sent, m.id)
}

impl Memory {
    fn insert(&mut self, sealed: SealedDirect) {
        let at = self
            .messages
            .partition_point(|s| order(&s.message) < order(&sealed.message));
        self.messages.insert(at, sealed);
        if self.messages.len() > MEMORY_CAPACITY
            && let Some(old) = self
                .messages
                .iter()
                .position(|s| s.message.state != DmState::Pending)
        {
            self.messages.remove(old);
        }
    }

    /// Why the change `m` (in the conversation with `peer`) may not be made, as the store
    /// says it (`None`: it may, or it is no change).
    fn change_refused(
        &self,
        me: &EndpointId,
        peer: EndpointId,
        m: &DirectMessage,
    ) -> Option<String> {
        let change = m.change.as_ref()?;
        let Some(target) = self
            .with(me, peer)
            .find(|t| t.id == change.to && t.change.is_none())
        else {
            return Some("no such message in this conversation".into());
        };
        let own = target.from == m.from;
        match change.kind {
            ChangeKind::Edit if !own => Some("only its sender can edit that message".into()),
            ChangeKind::Delete if !own => Some("only its sender can delete that message".into()),
            _ => None,
        }
    }

    /// Apply a change just kept: an edit rewrites the message, a delete takes it (and the
    /// changes about it) away.
    fn apply(&mut self, m: &DirectMessage) {
        let Some(change) = m.change.as_ref() else {
            return;
        };
        match change.kind {
            ChangeKind::React { .. } => {}
            ChangeKind::Edit => {
                for s in &mut self.messages {
                    if s.message.id == change.to {
                        s.message.text = m.text.clone();
                    }
                }
            }
            ChangeKind::Delete => self.messages.retain(|s| {
                s.message.id == m.id
                    || (s.message.id != change.to
                        && s.message.change.as_ref().is_none_or(|c| c.to != change.to))
            }),
        }
    }

    fn pending_for(&self, peer: EndpointId) -> usize {
        self.messages
            .iter()
            .filter(|s| s.message.to == peer && s.message.state == DmState::Pending)
            .count()
    }

    fn with(&self, me: &EndpointId, peer: EndpointId) -> impl Iterator<Item = &DirectMessage> {
        self.messages
            .iter()
            .map(|s| &s.message)
            .filter(move |m| m.peer(me) == peer)
    }
}

fn lock(memory: &Mutex<Memory>) -> std::sync::MutexGuard<'_, Memory> {
    // Nothing panics while holding it.
    memory.lock().unwrap_or_else(|p| p.into_inner())
}

/// Run `f` on the store thread; every failure as one line.
async fn on_disk<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    store: &StoreHandle,
    f: impl FnOnce(&crate::store::Store) -> Result<T, E> + Send + 'static,
) -> Result<T, String> {
    store
        .call(f)
        .await
        .map_err(|gone| gone.to_string())?
        .map_err(|err| err.to_string())
}

impl Book {
    pub(super) fn new(store: Option<StoreHandle>) -> Self {
        match store {
            Some(store) => Self::Disk(store),
            None => Self::Memory(Default::default()),
        }
    }

    /// Keep our own message as pending.
    pub(super) async fn queue(&self, sealed: SealedDirect, now: UnixMillis) -> Result<(), String> {
        match self {
            Self::Disk(store) => on_disk(store, move |s| s.queue_direct(&sealed, now)).await,
            Self::Memory(memory) => {
                let mut memory = lock(memory);
                let peer = sealed.message.to;
                if memory.pending_for(peer) >= MAX_PENDING_PER_PEER {
                    return Err(QueueError::PendingFull {
                        peer,
                        max: MAX_PENDING_PER_PEER,
                    }
                    .to_string());
                }
                let waiting = memory
                    .messages
                    .iter()
                    .filter(|s| s.message.state == DmState::Pending)
                    .count();
                if waiting >= MAX_PENDING_TOTAL {
                    return Err(QueueError::PendingTotal {
                        max: MAX_PENDING_TOTAL,
                    }
                    .to_string());
                }
                let me = sealed.message.from;
                if let Some(why) = memory.change_refused(&me, peer, &sealed.message) {
                    return Err(why);
                }
                let message = sealed.message.clone();
                memory.insert(sealed);
                memory.apply(&message);
                Ok(())
            }
        }
    }

    pub(super) async fn delivered(&self, id: MessageId) -> Result<(), String> {
        match self {
            Self::Disk(store) => on_disk(store, move |s| s.mark_direct_delivered(id))
                .await
                .map(|_| ()),
            Self::Memory(memory) => {
                for s in lock(memory).messages.iter_mut() {
                    if s.message.id == id && s.message.state == DmState::Pending {
                        s.message.state = DmState::Delivered;
                    }
                }
                Ok(())
            }
        }
    }

    /// Keep a verified message from someone (see `Store::receive_direct`).
    pub(super) async fn receive(
        &self,
        me: EndpointId,
        sealed: SealedDirect,
        known: bool,
        now: UnixMillis,
    ) -> Result<Receipt, String> {
        match self {
            Self::Disk(store) => {
                on_disk(store, move |s| s.receive_direct(&sealed, known, now)).await
            }
            Self::Memory(memory) => {
                let mut memory = lock(memory);
                let id = sealed.message.id;
                if memory.messages.iter().any(|s| s.message.id == id) {
                    return Ok(Receipt::Duplicate);
                }
                let from = sealed.message.from;
                if !known && memory.with(&me, from).next().is_none() {
                    return Ok(Receipt::Stranger);
                }
                if memory.change_refused(&me, from, &sealed.message).is_some() {
                    return Ok(Receipt::Duplicate);
                }
                let message = sealed.message.clone();
                memory.insert(sealed);
                memory.apply(&message);
                Ok(Receipt::New)
            }
        }
    }

    /// The keys we wrote to, and the keys the user ignores in any room (none in memory: a
    /// process with no store starts knowing nobody).
    pub(super) async fn known(&self) -> Result<(Vec<EndpointId>, Vec<EndpointId>), String> {
        match self {
            Self::Disk(store) => {
                on_disk(store, |s| {
                    anyhow::Ok((s.direct_written_to()?, s.ignored_anywhere()?))
                })
                .await
            }
            Self::Memory(_) => Ok((Vec::new(), Vec::new())),
        }
    }

    /// Our messages waiting for delivery, per peer in (sent, id) order.
    pub(super) async fn pending(&self) -> Result<Vec<SealedDirect>, String> {
        match self {
            Self::Disk(store) => on_disk(store, |s| s.pending_direct()).await,
            Self::Memory(memory) => Ok(lock(memory)
                .messages
                .iter()
                .filter(|s| s.message.state == DmState::Pending)
                .cloned()
                .collect()),
        }
    }

    pub(super) async fn page(
        &self,
        me: EndpointId,
        peer: EndpointId,
        limit: usize,
    ) -> Result<Vec<DirectMessage>, String> {
        match self {
            Self::Disk(store) => on_disk(store, move |s| s.direct_page(peer, limit)).await,
            Self::Memory(memory) => {
                let memory = lock(memory);
                let all: Vec<DirectMessage> = memory.with(&me, peer).cloned().collect();
                Ok(all[all.len().saturating_sub(limit)..].to_vec())
            }
        }
    }

    pub(super) async fn conversations(&self, me: EndpointId) -> Result<Vec<Conversation>, String> {
        match self {
            Self::Disk(store) => on_disk(store, |s| s.direct_conversations()).await,
            Self::Memory(memory) => {
                let memory = lock(memory);
                let mut list: Vec<Conversation> = Vec::new();
                // Oldest first, so each conversation ends with its newest message.
                for m in memory.messages.iter().map(|s| &s.message) {
                    let peer = m.peer(&me);
                    let at = match list.iter().position(|c| c.peer == peer) {
                        Some(at) => at,
                        None => {
                            list.push(Conversation {
                                peer,
                                name: None,
                                last: m.sent,
                                pending: 0,
                            });
                            list.len() - 1
                        }
                    };
                    let c = &mut list[at];
                    c.last = m.sent;
                    c.pending += usize::from(m.state == DmState::Pending);
                    if m.from == peer {
                        c.name = Some(m.name.clone());
                    }
                }
                list.sort_by_key(|c| std::cmp::Reverse(c.last));
                Ok(list)
            }
        }
    }

    /// Messages with every term of `words` (`store::search`: word prefixes, quoted
    /// phrases), newest first.
    pub(super) async fn search(
        &self,
        me: EndpointId,
        peer: Option<EndpointId>,
        words: String,
        limit: usize,
    ) -> Result<Vec<DirectMessage>, String> {
        match self {
            Self::Disk(store) => {
                on_disk(store, move |s| s.search_direct(peer, &words, limit)).await
            }
            Self::Memory(memory) => {
                let terms = crate::store::search::terms(&words);
                if terms.is_empty() {
                    return Ok(Vec::new());
                }
                let memory = lock(memory);
                Ok(memory
                    .messages
                    .iter()
                    .rev()
                    .map(|s| &s.message)
                    .filter(|m| peer.is_none_or(|p| m.peer(&me) == p))
                    .filter(|m| crate::store::search::matches(&terms, &m.text))
                    .take(limit)
                    .cloned()
                    .collect())
            }
        }
    }
}

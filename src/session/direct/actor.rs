//! The DM actor: one task owning the delivery queues, the rate limits and the stranger
//! reports. Store work and network rounds run in tasks that report back over `done`, so the
//! loop never waits on the disk or a peer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

use super::book::Book;
use super::outgoing::Outgoing;
use super::round::{RoundEnd, deliver};
use super::{Command, DirectEvent, DirectStats, SEARCH_LIMIT, SendError, Shared, lock};
use crate::net::Node;
use crate::net::direct::{DirectIncoming, Inbound};
use crate::proto::direct::{
    Ack, DirectMessage, DmState, Draft, SealedDirect, open_direct, seal_direct,
};
use crate::proto::limits::{Kind, Limiter, REPORT_INTERVAL, RateLimits};
use crate::proto::wire::MAX_ENVELOPE_SIZE;
use crate::proto::{EndpointId, MessageId, SecretKey, UnixMillis};
use crate::store::Receipt;

/// Events held back while the front end does not read; past this, incoming messages wait
/// (their senders hear `Busy` and retry).
const MAX_OUTBOX: usize = 8192;
/// Strangers tracked for reports at most.
const MAX_STRANGERS: usize = 1024;
/// Reports of dropped strangers' messages, in all: at most one per this.
const STRANGER_REPORTS_EVERY: Duration = Duration::from_secs(10);

pub(super) struct Parts {
    pub node: Node,
    pub book: Book,
    pub cmds: mpsc::Receiver<Command>,
    pub events: mpsc::Sender<DirectEvent>,
    pub shared: Arc<Mutex<Shared>>,
    pub wake: Arc<Notify>,
    pub pending: Vec<SealedDirect>,
}

/// What background work reports back.
pub(super) enum Done {
    Queued(DirectMessage, Vec<u8>),
    Acked {
        peer: EndpointId,
        id: MessageId,
    },
    /// The addressee answered that `id` is invalid (warned about once per message).
    Invalid {
        peer: EndpointId,
        id: MessageId,
    },
    Round {
        peer: EndpointId,
        end: RoundEnd,
    },
    Received(DirectMessage),
    Stranger(EndpointId),
    Warning(String),
}

/// Drops from one stranger not reported yet.
struct Report {
    unreported: u64,
    last: Option<Instant>,
}

pub(super) struct Actor {
    node: Node,
    secret: SecretKey,
    me: EndpointId,
    book: Book,
    cmds: mpsc::Receiver<Command>,
    inbox: mpsc::Receiver<Inbound>,
    events: mpsc::Sender<DirectEvent>,
    outbox: VecDeque<DirectEvent>,
    shared: Arc<Mutex<Shared>>,
    wake: Arc<Notify>,
    done: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    outgoing: Outgoing,
    rounds: JoinSet<()>,
    limiter: Limiter,
    strangers: HashMap<EndpointId, Report>,
    /// When a stranger's drops were last reported (any stranger).
    stranger_reported: Option<Instant>,
    /// Our messages an addressee found invalid, warned about once.
    invalid: std::collections::HashSet<MessageId>,
    /// Peers that refused us, warned about once until they accept.
    refused: std::collections::HashSet<EndpointId>,
    stats: DirectStats,
}

impl Actor {
    pub(super) fn new(parts: Parts) -> Self {
        let (done, done_rx) = mpsc::unbounded_channel();
        let mut outgoing = Outgoing::default();
        let now = Instant::now();
        for sealed in parts.pending {
            let m = sealed.message;
            outgoing.add(m.to, m.sent, m.id, sealed.envelope, now);
        }
        Self {
            secret: parts.node.secret(),
            me: parts.node.id(),
            inbox: parts.node.direct_inbox(),
            node: parts.node,
            book: parts.book,
            cmds: parts.cmds,
            events: parts.events,
            outbox: VecDeque::new(),
            shared: parts.shared,
            wake: parts.wake,
            done,
            done_rx,
            outgoing,
            rounds: JoinSet::new(),
            limiter: Limiter::new(RateLimits::default()),
            strangers: HashMap::new(),
            stranger_reported: None,
            invalid: Default::default(),
            refused: Default::default(),
            stats: DirectStats::default(),
        }
    }

    pub(super) async fn run(mut self) {
        loop {
            self.start_rounds();
            let due = self.outgoing.next_due();
            let events = self.events.clone();
            tokio::select! {
                cmd = self.cmds.recv() => match cmd {
                    Some(Command::Shutdown(reply)) => {
                        self.rounds.abort_all();
                        let _ = reply.send(());
                        return;
                    }
                    Some(cmd) => self.command(cmd),
                    None => return,
                },
                Some(done) = self.done_rx.recv() => self.done(done),
                Some(incoming) = self.inbox.recv(), if self.outbox.len() < MAX_OUTBOX => {
                    match incoming {
                        Inbound::Message(incoming) => self.incoming(incoming),
                        Inbound::Refused(from) => self.stranger(from, Instant::now()),
                    }
                }
                () = self.wake.notified() => {
                    let seen: Vec<_> = lock(&self.shared).seen.drain().collect();
                    let now = Instant::now();
                    for peer in seen {
                        self.outgoing.retry_now(&peer, now);
                    }
                }
                permit = events.reserve(), if !self.outbox.is_empty() => {
                    match (permit, self.outbox.pop_front()) {
                        (Ok(permit), Some(event)) => permit.send(event),
                        (Err(_), _) => self.outbox.clear(),
                        _ => {}
                    }
                }
                Some(_) = self.rounds.join_next(), if !self.rounds.is_empty() => {}
                () = sleep_until(due.unwrap_or_else(far_future)), if due.is_some() => {}
            }
        }
    }

    fn emit(&mut self, event: DirectEvent) {
        self.outbox.push_back(event);
    }

    fn command(&mut self, cmd: Command) {
        let (book, me) = (self.book.clone(), self.me);
        match cmd {
            Command::Send { to, line, reply } => self.send(to, line, reply),
            Command::Conversation { peer, limit, reply } => {
                tokio::spawn(async move {
                    let _ = reply.send(book.page(me, peer, limit).await);
                });
            }
            Command::Conversations(reply) => {
                tokio::spawn(async move {
                    let _ = reply.send(book.conversations(me).await);
                });
            }
            Command::Search { peer, words, reply } => {
                tokio::spawn(async move {
                    let _ = reply.send(book.search(me, peer, words, SEARCH_LIMIT).await);
                });
            }
            Command::Stats(reply) => {
                let _ = reply.send(self.stats);
            }
            Command::Shutdown(_) => {}
        }
    }

    fn send(
        &mut self,
        to: EndpointId,
        line: super::DmLine,
        reply: oneshot::Sender<Result<MessageId, SendError>>,
    ) {
        let super::DmLine {
            text,
            action,
            file,
            reply_to,
            change,
        } = line;
        if text.trim().is_empty() {
            let _ = reply.send(Err(SendError::Empty));
            return;
        }
        if to == self.me {
            let _ = reply.send(Err(SendError::ToSelf));
            return;
        }
        let name = lock(&self.shared).name.clone();
        let draft = Draft {
            to,
            name: &name,
            text: &text,
            action,
            file: file.as_ref(),
            sent: UnixMillis::now(),
            nonce: rand::random(),
            reply_to,
            change: change.as_ref(),
        };
        let sealed = match seal_direct(&self.secret, &draft) {
            Ok(sealed) => sealed,
            Err(too_large) => {
                let overhead = too_large.size.saturating_sub(text.len());
                let _ = reply.send(Err(SendError::TooLong {
                    text_bytes: text.len(),
                    max_text_bytes: MAX_ENVELOPE_SIZE.saturating_sub(overhead),
                }));
                return;
            }
        };
        let (book, done) = (self.book.clone(), self.done.clone());
        tokio::spawn(async move {
            let SealedDirect { message, envelope } = sealed.clone();
            match book.queue(sealed, UnixMillis::now()).await {
                Ok(()) => {
                    let _ = reply.send(Ok(message.id));
                    let _ = done.send(Done::Queued(message, envelope));
                }
                Err(why) => {
                    let _ = reply.send(Err(SendError::NotQueued(why)));
                }
            }
        });
    }

    fn start_rounds(&mut self) {
        for (peer, batch) in self.outgoing.start_due(Instant::now()) {
            let (node, book, done) = (self.node.clone(), self.book.clone(), self.done.clone());
            self.rounds.spawn(async move {
                let end = deliver(&node, &book, peer, batch, &done).await;
                let _ = done.send(Done::Round { peer, end });
            });
        }
    }

    fn done(&mut self, done: Done) {
        let now = Instant::now();
        match done {
            Done::Queued(message, envelope) => {
                self.outgoing
                    .add(message.to, message.sent, message.id, envelope, now);
                self.emit(DirectEvent::Message(message));
            }
            Done::Acked { peer, id } => {
                self.outgoing.acked(&peer, &id);
                self.refused.remove(&peer);
                self.stats.delivered += 1;
                self.emit(DirectEvent::Status {
                    id,
                    peer,
                    state: DmState::Delivered,
                });
            }
            Done::Round { peer, end } => {
                let ok = matches!(end, RoundEnd::AllSent);
                match end {
                    RoundEnd::AllSent => {}
                    RoundEnd::Busy => {
                        self.outgoing.busy(&peer, now);
                        return;
                    }
                    RoundEnd::Refused => {
                        if self.refused.len() < MAX_STRANGERS && self.refused.insert(peer) {
                            self.emit(DirectEvent::Warning(format!(
                                "{} does not accept messages from you (no room in common); they stay pending",
                                peer.fmt_short()
                            )));
                        }
                    }
                    RoundEnd::Failed(why) => {
                        tracing::debug!(peer = %peer.fmt_short(), "DM delivery: {why}");
                    }
                }
                self.outgoing.round_done(&peer, ok, now);
            }
            Done::Received(message) => {
                self.stats.received += 1;
                self.emit(DirectEvent::Message(message));
            }
            Done::Stranger(from) => self.stranger(from, now),
            Done::Warning(why) => self.emit(DirectEvent::Warning(why)),
            Done::Invalid { peer, id } => {
                if self.invalid.len() >= MAX_STRANGERS {
                    self.invalid.clear();
                }
                if self.invalid.insert(id) {
                    self.emit(DirectEvent::Warning(format!(
                        "{} could not accept a message (are both clocks right?); it is tried again later",
                        peer.fmt_short()
                    )));
                }
            }
        }
    }

    fn stranger(&mut self, from: EndpointId, now: Instant) {
        self.stats.dropped_strangers += 1;
        // However many keys write: one report per interval in all (each stranger's count
        // goes out with its next report).
        if self
            .stranger_reported
            .is_some_and(|last| now.duration_since(last) < STRANGER_REPORTS_EVERY)
        {
            if let Some(report) = self.strangers.get_mut(&from) {
                report.unreported += 1;
            } else if self.strangers.len() < MAX_STRANGERS {
                self.strangers.insert(
                    from,
                    Report {
                        unreported: 1,
                        last: None,
                    },
                );
            }
            return;
        }
        self.stranger_reported = Some(now);
        if self.strangers.len() >= MAX_STRANGERS && !self.strangers.contains_key(&from) {
            self.strangers.clear();
        }
        let report = self.strangers.entry(from).or_insert(Report {
            unreported: 0,
            last: None,
        });
        report.unreported += 1;
        if report
            .last
            .is_none_or(|last| now.duration_since(last) >= REPORT_INTERVAL)
        {
            let count = std::mem::take(&mut report.unreported);
            report.last = Some(now);
            self.emit(DirectEvent::Dropped { from, count });
        }
    }

    fn incoming(&mut self, incoming: DirectIncoming) {
        let DirectIncoming {
            envelope,
            reply,
            peer,
        } = incoming;
        // Only its author delivers a message: a key cannot write under many signing keys
        // over one connection to dodge the per-sender limit.
        let message = match open_direct(&envelope, &self.me, UnixMillis::now())
            .map_err(|why| why.to_string())
            .and_then(|message| match message.from == peer {
                true => Ok(message),
                false => Err("not signed by the connection's peer".to_string()),
            }) {
            Ok(message) => message,
            Err(why) => {
                tracing::debug!("DM rejected: {why}");
                self.stats.rejected += 1;
                let _ = reply.send(Ack::Invalid(MessageId::of(&envelope)));
                return;
            }
        };
        let id = message.id;
        if !self
            .limiter
            .allow(message.from, Kind::Message, Instant::now().into())
        {
            self.stats.rate_limited += 1;
            let _ = reply.send(Ack::Busy(id));
            return;
        }
        let known = self.node.known().is_known(&message.from);
        let (book, done, me) = (self.book.clone(), self.done.clone(), self.me);
        // Acknowledged after the actor has it: the sender's next message comes after this
        // one's ack, so each sender's messages are shown in the order they were sent.
        tokio::spawn(async move {
            let sealed = SealedDirect {
                message: message.clone(),
                envelope,
            };
            let ack = match book.receive(me, sealed, known, UnixMillis::now()).await {
                Ok(Receipt::New) => {
                    let _ = done.send(Done::Received(message));
                    Ack::Saved(id)
                }
                Ok(Receipt::Duplicate) => Ack::Saved(id),
                Ok(Receipt::Stranger) => {
                    let _ = done.send(Done::Stranger(message.from));
                    Ack::Refused(id)
                }
                Err(why) => {
                    let _ = done.send(Done::Warning(format!(
                        "a direct message could not be saved: {why}"
                    )));
                    Ack::Busy(id)
                }
            };
            let _ = reply.send(ack);
        });
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400)
}

//! One delivery round: a peer's waiting messages over one connection, in (sent, id) order,
//! each after the previous one's ack.

use tokio::sync::mpsc;

use super::actor::Done;
use super::book::Book;
use super::outgoing::Batch;
use crate::net::Node;
use crate::proto::EndpointId;
use crate::proto::direct::Ack;

/// How a round ended.
pub(super) enum RoundEnd {
    AllSent,
    /// The peer is there but takes no more now (its rate limit for us, or its queue).
    Busy,
    Refused,
    Failed(String),
}

/// One delivery round: `batch` to `peer` over one connection, in order, each after the
/// previous ack, marking each delivered on disk before reporting it.
pub(super) async fn deliver(
    node: &Node,
    book: &Book,
    peer: EndpointId,
    batch: Batch,
    done: &mpsc::UnboundedSender<Done>,
) -> RoundEnd {
    let link = match node.connect_direct(peer).await {
        Ok(link) => link,
        Err(err) => return RoundEnd::Failed(format!("{err:#}")),
    };
    let mut invalid = false;
    for (id, envelope) in batch {
        match link.send(&envelope).await {
            Ok(Ack::Saved(_)) => {
                if let Err(why) = book.delivered(id).await {
                    let _ = done.send(Done::Warning(format!("cannot record a delivery: {why}")));
                }
                let _ = done.send(Done::Acked { peer, id });
            }
            Ok(Ack::Refused(_)) => return RoundEnd::Refused,
            Ok(Ack::Busy(_)) => return RoundEnd::Busy,
            // Not accepted as it is (the clocks disagree, or it was damaged): the rest still
            // goes, and it is tried again after the round's backoff, not at once.
            Ok(Ack::Invalid(_)) => {
                invalid = true;
                let _ = done.send(Done::Invalid { peer, id });
            }
            Err(err) => return RoundEnd::Failed(format!("{err:#}")),
        }
    }
    if invalid {
        RoundEnd::Failed("a message was not accepted as valid".into())
    } else {
        RoundEnd::AllSent
    }
}

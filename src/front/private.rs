//! Starting a private room (issue 23): opening one (the new default), redeeming an invite at
//! one of its members, or reading a known one back from the store.

use std::time::Duration;

use super::start::NoSuchRoom;
use crate::config::{Config, Start};
use crate::net::keys::KeyFetchError;
use crate::net::{Nearby, Node};
use crate::proto::invite::Invite;
use crate::proto::seal::{self, EpochKey};
use crate::proto::state::{Action, HistoryVisibility, KeyAnswer, OpLog, RoomId};
use crate::session::{PrivateSpec, SessionSpec};
use crate::store::StoreHandle;

/// What else decides how a room starts.
pub struct How<'a> {
    /// A new room is private whatever the configuration says (`/lock`'s successor).
    pub force_private: bool,
    /// A private room found on the LAN: knock to get in.
    pub knock: Option<&'a Nearby>,
}

/// Make `spec` a private room's where `begin` calls for one: a new room unless `--public`,
/// an invite's room, a private room found on the LAN (knocked at), a known private room.
pub async fn prepare(
    node: &Node,
    store: Option<&StoreHandle>,
    config: &Config,
    begin: &Start,
    how: How<'_>,
    spec: &mut SessionSpec,
) -> anyhow::Result<()> {
    let private = match begin {
        Start::Lan(_) => match how.knock {
            Some(room) => {
                let id = room
                    .private
                    .ok_or(NoSuchRoom::Other("not a private room".into()))?;
                let private = super::knock::knock(node, room, id, &spec.name).await?;
                // Ready at once: an admin let us in.
                spec.join_timeout = None;
                private
            }
            None => return Ok(()),
        },
        Start::Open if how.force_private || !config.public => {
            let name = spec.entry.room_name.clone().unwrap_or_default();
            let log = OpLog::create(
                &node.secret(),
                RoomId::generate(),
                &name,
                "",
                HistoryVisibility::Shared,
            )?;
            let epoch_op = log.fold().state.epoch_op();
            PrivateSpec {
                log,
                key: EpochKey::generate(),
                epoch: 0,
                epoch_op: Some(epoch_op),
            }
        }
        Start::Invite(invite) => {
            let private = redeem(node, invite, config.join_timeout).await?;
            // Ready at once: a member answered already.
            spec.join_timeout = None;
            private
        }
        Start::Rejoin { topic, .. } => match known(store, *topic).await? {
            Some(private) => private,
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    if let Some(store) = store {
        let (log, key, epoch) = (private.log.clone(), private.key.clone(), private.epoch);
        store
            .call(move |s| {
                s.save_room_log(&log, crate::proto::UnixMillis::now())?;
                s.save_epoch_key(log.room(), epoch, &key)
            })
            .await??;
    }
    spec.private = Some(private);
    Ok(())
}

/// A known private room: its log and the newest key kept (the session asks members for a
/// newer one if the room moved on meanwhile).
async fn known(
    store: Option<&StoreHandle>,
    topic: crate::proto::TopicId,
) -> anyhow::Result<Option<PrivateSpec>> {
    let Some(store) = store else {
        return Ok(None);
    };
    let found = store
        .call(move |s| s.private_room_by_topic(topic))
        .await??;
    let Some((log, keys)) = found else {
        return Ok(None);
    };
    let log = log.map_err(|damaged| anyhow::anyhow!("{damaged} (join it again with an invite)"))?;
    let Some((epoch, key)) = keys.into_iter().next() else {
        anyhow::bail!("no key of this private room is kept here (join it again with an invite)");
    };
    Ok(Some(PrivateSpec {
        log,
        key,
        epoch,
        epoch_op: None,
    }))
}

/// Redeem `invite` at the first of its peers that answers: get the room's log, sign our
/// join on it, get the key. A member's refusal (expired, revoked, used up, banned) is final
/// and bad input (exit 2); a peer that cannot be reached makes us try the next.
async fn redeem(node: &Node, invite: &Invite, patience: Duration) -> anyhow::Result<PrivateSpec> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut round = 0u32;
    loop {
        match redeem_once(node, invite).await {
            Err(Redeem::Final(err)) => return Err(err),
            Ok(private) => return Ok(private),
            // Everyone busy or unreachable: again, a little later each round (a room's
            // members answering many newcomers at once turn some away for a moment).
            Err(Redeem::Again(failures)) => {
                let wait = Duration::from_millis(100 * 2u64.pow(round.min(4)));
                let wait = wait.mul_f64(0.5 + rand::random::<f64>() / 2.0);
                if tokio::time::Instant::now() + wait >= deadline {
                    anyhow::bail!(
                        "no member listed in the invite let us in within {:.0} s ({}); they may all be offline or busy",
                        patience.as_secs_f64(),
                        failures.join("; ")
                    );
                }
                tokio::time::sleep(wait).await;
                round += 1;
            }
        }
    }
}

/// Why one round of redeeming did not get in.
enum Redeem {
    /// A member refused for good (or answered nonsense): said, exit 2.
    Final(anyhow::Error),
    /// Every peer was busy, had no key yet or could not be reached: what each said.
    Again(Vec<String>),
}

/// Try each peer of the invite once.
async fn redeem_once(node: &Node, invite: &Invite) -> Result<PrivateSpec, Redeem> {
    let bytes = invite.to_bytes();
    let secret = node.secret();
    let mut failures = Vec::new();
    for peer in &invite.peers {
        let join = |log: &[u8]| -> Result<Vec<u8>, String> {
            let log =
                OpLog::decode(log).map_err(|e| format!("the member sent a damaged log: {e}"))?;
            if log.room() != invite.room {
                return Err("the member answered for another room".into());
            }
            let action = Action::Join {
                invite: bytes.clone(),
            };
            let op = log.author(&secret, action).map_err(|e| e.to_string())?;
            Ok(op.bytes().to_vec())
        };
        match node.redeem(peer.clone(), invite.room, &bytes, join).await {
            Ok(answer) => {
                let answer = KeyAnswer::decode(&answer, invite.room).map_err(|e| {
                    Redeem::Final(anyhow::anyhow!("the member sent a damaged answer: {e}"))
                })?;
                return Ok(PrivateSpec {
                    log: answer.log,
                    key: answer.key,
                    epoch: answer.epoch,
                    epoch_op: Some(answer.epoch_op),
                });
            }
            Err(err) if err.may_pass() => failures.push(format!("{}: {err}", peer.id.fmt_short())),
            Err(KeyFetchError::Refused(why)) => {
                let refused = NoSuchRoom::Other(format!("the invite was refused: {why}"));
                return Err(Redeem::Final(refused.into()));
            }
            Err(err) => failures.push(format!("{}: {err}", peer.id.fmt_short())),
        }
    }
    Err(Redeem::Again(failures))
}

/// The topic under which an invite's room is known (its lasting one).
pub fn invite_topic(invite: &Invite) -> crate::proto::TopicId {
    seal::room_topic(&invite.room)
}

//! Starting a private room (issue 23): opening one (the new default), redeeming an invite at
//! one of its members, or reading a known one back from the store.

use super::start::NoSuchRoom;
use crate::config::{Config, Start};
use crate::net::Node;
use crate::net::keys::KeyFetchError;
use crate::proto::invite::Invite;
use crate::proto::seal::{self, EpochKey};
use crate::proto::state::{Action, HistoryVisibility, KeyAnswer, OpLog, RoomId};
use crate::session::{PrivateSpec, SessionSpec};
use crate::store::StoreHandle;

/// Make `spec` a private room's where `begin` calls for one: a new room unless `--public`,
/// an invite's room, a known private room.
pub async fn prepare(
    node: &Node,
    store: Option<&StoreHandle>,
    config: &Config,
    begin: &Start,
    force_private: bool,
    spec: &mut SessionSpec,
) -> anyhow::Result<()> {
    let private = match begin {
        // A room announced on the LAN is public: its announcement is its invitation (a
        // private room's knock is not built yet).
        Start::Open if force_private || (!config.public && !config.lan) => {
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
            let private = redeem(node, invite).await?;
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
async fn redeem(node: &Node, invite: &Invite) -> anyhow::Result<PrivateSpec> {
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
                let answer = KeyAnswer::decode(&answer, invite.room)
                    .map_err(|e| anyhow::anyhow!("the member sent a damaged answer: {e}"))?;
                return Ok(PrivateSpec {
                    log: answer.log,
                    key: answer.key,
                    epoch: answer.epoch,
                    epoch_op: Some(answer.epoch_op),
                });
            }
            Err(KeyFetchError::Refused(why)) if !why.contains("ask again") => {
                return Err(NoSuchRoom::Other(format!("the invite was refused: {why}")).into());
            }
            Err(err) => failures.push(format!("{}: {err}", peer.id.fmt_short())),
        }
    }
    anyhow::bail!(
        "no member listed in the invite answered ({}); they may all be offline",
        failures.join("; ")
    )
}

/// The topic under which an invite's room is known (its lasting one).
pub fn invite_topic(invite: &Invite) -> crate::proto::TopicId {
    seal::room_topic(&invite.room)
}

//! `join LABEL` for a private room announced on the LAN: knock at every member announcing it
//! and wait for one of its admins to let us in (`/accept`), with the room's key and log as a
//! member gets them, or to turn us away (`/deny`).

use std::collections::HashSet;
use std::time::Duration;

use n0_future::{FuturesUnordered, StreamExt};

use super::start::NoSuchRoom;
use crate::net::keys::{KNOCK_WAIT, KeyFetchError, RefusalKind};
use crate::net::{Nearby, Node};
use crate::proto::state::{KeyAnswer, RoomId};
use crate::proto::{EndpointAddr, EndpointId};
use crate::session::PrivateSpec;

/// How long a knocker waits for another member to announce the room once every member
/// announcing it so far could not let it in (mDNS brings announcers in at different moments:
/// an admin may be heard a little after a member).
const MORE_ANNOUNCERS: Duration = Duration::from_secs(10);

/// Knock at the members announcing `room` (private, id `id`) as `name`, all at once, until
/// one lets us in; members heard announcing it later are knocked at too. A denial or a ban is
/// final (bad input: exit 2); members who cannot let anyone in (not admins) are left; one busy
/// or unreachable is knocked at again.
pub async fn knock(
    node: &Node,
    room: &Nearby,
    id: RoomId,
    name: &str,
) -> anyhow::Result<PrivateSpec> {
    let deadline = tokio::time::Instant::now() + KNOCK_WAIT;
    let knock_at = |peer: EndpointId, after: Duration| {
        let knocked = node.knock(EndpointAddr::new(peer), id, name.to_string());
        async move {
            tokio::time::sleep(after).await;
            (peer, knocked.await)
        }
    };
    let mut asked: HashSet<EndpointId> = room.announcers.iter().copied().collect();
    let mut knocks: FuturesUnordered<_> = asked
        .iter()
        .map(|peer| knock_at(*peer, Duration::ZERO))
        .collect();
    let lan = node.lan();
    let mut heard = lan.map(|lan| lan.subscribe());
    let mut cannot = Vec::new();
    let mut tries = 0u32;
    loop {
        // Nobody left to wait for: a little longer for another announcer, then no.
        let until = match knocks.is_empty() {
            true => deadline.min(tokio::time::Instant::now() + MORE_ANNOUNCERS),
            false => deadline,
        };
        let lan_changed = async {
            match heard.as_mut() {
                Some(heard) => heard.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        let next = tokio::select! {
            knocked = knocks.next(), if !knocks.is_empty() => knocked,
            true = lan_changed => {
                let announcers = lan.map(|lan| lan.nearby()).unwrap_or_default();
                let now_heard = announcers.iter().filter(|n| n.private == Some(id));
                for peer in now_heard.flat_map(|n| n.announcers.clone()) {
                    if asked.insert(peer) {
                        knocks.push(knock_at(peer, Duration::ZERO));
                    }
                }
                continue;
            }
            _ = tokio::time::sleep_until(until) => None,
        };
        let Some((peer, answer)) = next else {
            if knocks.is_empty() && tokio::time::Instant::now() < deadline {
                return Err(NoSuchRoom::Other(format!(
                    "nobody announcing {:?} on the LAN can let you in ({}); ask one of its admins for an invite",
                    room.label,
                    cannot.join("; ")
                ))
                .into());
            }
            anyhow::bail!(
                "no admin of {:?} answered your knock within {} min",
                room.label,
                KNOCK_WAIT.as_secs() / 60
            );
        };
        match answer {
            Ok(bytes) => return let_in(node, id, &bytes),
            // Busy, unreachable, or let in while the room changed key: again, a little later.
            Err(err) if err.may_pass() => {
                let wait = Duration::from_millis(200 * 2u64.pow(tries.min(4)));
                tries += 1;
                knocks.push(knock_at(peer, wait));
            }
            Err(KeyFetchError::Refused(why))
                if matches!(why.kind, RefusalKind::Denied | RefusalKind::Banned) =>
            {
                return Err(NoSuchRoom::Other(format!("{:?}: {why}", room.label)).into());
            }
            Err(err) => cannot.push(format!("{}: {err}", peer.fmt_short())),
        }
    }
}

/// An admin's yes: the room's log (which must list us) and key.
fn let_in(node: &Node, id: RoomId, bytes: &[u8]) -> anyhow::Result<PrivateSpec> {
    let answer = KeyAnswer::decode(bytes, id)
        .map_err(|e| anyhow::anyhow!("the member sent a damaged answer: {e}"))?;
    anyhow::ensure!(
        answer.log.fold().state.is_member(&node.id()),
        "the member's answer does not list you as a member"
    );
    Ok(PrivateSpec {
        log: answer.log,
        key: answer.key,
        epoch: answer.epoch,
        epoch_op: Some(answer.epoch_op),
    })
}

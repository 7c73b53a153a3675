//! Envelopes dropped before their signature is checked: those the rate limits are sure to
//! refuse. A signature check is the dearest step of receiving (~50 µs) and it runs on the one
//! thread that also shows and sends lines; a member with a thousand keys, whose node comes
//! back with a new key whenever it is cut off and reannounces every key through it, made an
//! honest member's line wait behind thousands of checks of envelopes dropped right after.
//!
//! Only the frame's author and the body's `type` are read; the limiter is asked without
//! taking anything (see [`crate::proto::limits::Limiter::refuses_unread`]), so an unverified
//! envelope can never spend an allowance, whoever it names.

use std::borrow::Cow;

use serde::Deserialize;

use super::Room;
use crate::proto::Now;
use crate::proto::limits::{Kind, Verdict};
use crate::proto::wire::{self, MessageBody};

/// Which allowance a body draws on.
pub(super) fn limit_kind<K>(body: &MessageBody<K>) -> Kind {
    match body {
        // A room name is typed like a line: it draws on the author's line allowance.
        MessageBody::Message { .. } | MessageBody::RoomInfo { .. } => Kind::Message,
        MessageBody::WhoIsThere { .. } => Kind::Question,
        MessageBody::AboutMe { .. }
        | MessageBody::Leave { .. }
        | MessageBody::Missing { .. }
        | MessageBody::Typing { .. } => Kind::Presence,
    }
}

/// [`limit_kind`] by the body's `type` tag, for a body not parsed (nor verified) yet; `None`
/// for a type this parlor does not know (verifying it rejects it).
fn limit_kind_of_tag(tag: &str) -> Option<Kind> {
    Some(match tag {
        "Message" | "RoomInfo" => Kind::Message,
        "WhoIsThere" => Kind::Question,
        "AboutMe" | "Leave" | "Missing" | "Typing" => Kind::Presence,
        _ => return None,
    })
}

/// The payload read for its body's `type` only.
#[derive(Deserialize)]
struct Tagged<'a> {
    #[serde(borrow)]
    body: Tag<'a>,
}

#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(rename = "type", borrow)]
    tag: Cow<'a, str>,
}

impl Room {
    /// What the limits will say of `bytes`, when it is sure to be a refusal (see the module
    /// doc); `None` also for anything malformed, which verifying rejects with its reason.
    pub(super) fn refused_unread(&mut self, bytes: &[u8], now: Now) -> Option<Verdict> {
        let (key, _, json) = wire::unframe(bytes).ok()?;
        let (author, _) = self.verifier.key(&key).ok()?;
        if !self.limiter.may_refuse_unread(author, now.at) {
            return None;
        }
        let tagged: Tagged = serde_json::from_slice(json).ok()?;
        let kind = limit_kind_of_tag(&tagged.body.tag)?;
        self.limiter.refuses_unread(author, kind, now.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;
    use crate::proto::wire::{Payload, WireChange};

    #[test]
    fn every_body_type_tag_draws_on_the_same_allowance_as_its_body() {
        let from = SecretKey::from_bytes(&[7; 32]).public();
        let bodies: Vec<MessageBody> = vec![
            MessageBody::WhoIsThere { from },
            MessageBody::AboutMe {
                from,
                name: "ann".into(),
                every: Some(30),
            },
            MessageBody::Message {
                from,
                text: "hi".into(),
                action: false,
                file: None,
                reply_to: None,
                change: Some(WireChange::Delete {
                    to: "ab".repeat(16),
                }),
            },
            MessageBody::Leave { from },
            MessageBody::Missing {
                from,
                who: "bob".into(),
            },
            MessageBody::RoomInfo {
                from,
                name: "den".into(),
            },
            MessageBody::Typing { from },
        ];
        for body in bodies {
            let payload = Payload {
                nonce: 1,
                sent: 2,
                body: body.clone(),
            };
            let json = serde_json::to_vec(&payload).expect("encodes");
            let tagged: Tagged = serde_json::from_slice(&json).expect("reads the tag");
            assert_eq!(
                limit_kind_of_tag(&tagged.body.tag),
                Some(limit_kind(&body)),
                "{body:?}"
            );
        }
        assert_eq!(limit_kind_of_tag("Unheard"), None);
    }
}

//! A private room's commands (issue 23): who is in it and with which role, its name, topic
//! and history, and its invites. Parsed here; carried out by the front-end core.

use std::time::Duration;

use super::command::{Command, CommandError};
use crate::proto::state::HistoryVisibility;

/// How long an invite lasts at most (`/invite --expires`).
pub const MAX_INVITE_LASTS: Duration = Duration::from_secs(365 * 24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moderation {
    /// `/kick NAME [reason]`: remove a member (a new key for the rest).
    Kick {
        who: String,
        reason: String,
    },
    /// `/ban NAME [reason]`: remove and keep out.
    Ban {
        who: String,
        reason: String,
    },
    Unban(String),
    /// `/add KEY`: let a key in directly (one that was removed comes back only this way).
    Add(String),
    /// `/op NAME`: make a member an admin; `/deop NAME` makes an admin a member.
    Op(String),
    Deop(String),
    /// `/owner NAME`: hand the room over (we become an admin).
    Owner(String),
    /// `/roomname NAME`: the room's name for everyone.
    RoomName(String),
    /// `/history shared|joined`; without an argument: what it is.
    History(Option<HistoryVisibility>),
    /// `/invite [--uses N] [--expires DURATION]`.
    Invite {
        uses: Option<u32>,
        lasts: Option<Duration>,
    },
    /// `/invites`: the invites issued here.
    Invites,
    /// `/revoke PREFIX`: end an invite.
    Revoke(String),
    /// `/accept [NAME]`: let in someone knocking (found the room on the LAN); no name: the
    /// only one knocking.
    Accept(String),
    /// `/deny NAME [REASON]`: turn a knocker away.
    Deny {
        who: String,
        reason: String,
    },
    /// `/lock`: a public room's private successor, owned by us; its members here get an
    /// invite by direct message.
    Lock,
}

/// A private room's command, if `word` is one.
pub fn parse(word: &str, arg: &str) -> Option<Result<Command, CommandError>> {
    let (first, rest) = arg.split_once(char::is_whitespace).unwrap_or((arg, ""));
    let rest = rest.trim().to_string();
    let named = |usage: &'static str| {
        if first.is_empty() {
            Err(CommandError::Usage(usage))
        } else {
            Ok(first.to_string())
        }
    };
    let moderation = match word {
        "kick" | "remove" => {
            named("/kick NAME [REASON]").map(|who| Moderation::Kick { who, reason: rest })
        }
        "ban" => named("/ban NAME [REASON]").map(|who| Moderation::Ban { who, reason: rest }),
        "unban" => named("/unban NAME").map(Moderation::Unban),
        "add" => named("/add NAME|KEY").map(Moderation::Add),
        "op" => named("/op NAME").map(Moderation::Op),
        "deop" => named("/deop NAME").map(Moderation::Deop),
        "owner" => named("/owner NAME").map(Moderation::Owner),
        "roomname" if arg.is_empty() => Err(CommandError::Usage("/roomname NAME")),
        "roomname" => Ok(Moderation::RoomName(arg.to_string())),
        "history" => match arg {
            "" => Ok(Moderation::History(None)),
            "shared" => Ok(Moderation::History(Some(HistoryVisibility::Shared))),
            "joined" => Ok(Moderation::History(Some(HistoryVisibility::Joined))),
            _ => Err(CommandError::Usage("/history [shared|joined]")),
        },
        "invite" => invite(arg),
        "invites" => Ok(Moderation::Invites),
        // A whole invite (wrapped over lines, as pasted) or the start of an id.
        "revoke" => named("/revoke PREFIX|INVITE")
            .map(|_| Moderation::Revoke(arg.split_whitespace().collect())),
        "lock" => Ok(Moderation::Lock),
        "accept" => Ok(Moderation::Accept(first.to_string())),
        "deny" => named("/deny NAME [REASON]").map(|who| Moderation::Deny { who, reason: rest }),
        _ => return None,
    };
    Some(moderation.map(Command::Moderation))
}

const INVITE_USAGE: &str = "/invite [--uses N] [--expires DURATION (30m, 12h, 7d, 2w)]";

fn invite(arg: &str) -> Result<Moderation, CommandError> {
    let mut words = arg.split_whitespace();
    let (mut uses, mut lasts) = (None, None);
    while let Some(word) = words.next() {
        let (flag, value) = match word.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (word, words.next().map(String::from)),
        };
        let value = value.ok_or(CommandError::Usage(INVITE_USAGE))?;
        match flag {
            "--uses" => {
                let n: u32 = value
                    .parse()
                    .map_err(|_| CommandError::Usage(INVITE_USAGE))?;
                if n == 0 {
                    return Err(CommandError::Usage(INVITE_USAGE));
                }
                uses = Some(n);
            }
            "--expires" => lasts = Some(duration(&value).ok_or(CommandError::Usage(INVITE_USAGE))?),
            _ => return Err(CommandError::Usage(INVITE_USAGE)),
        }
    }
    Ok(Moderation::Invite { uses, lasts })
}

/// `30s`, `30m`, `12h`, `7d`, `2w` (a bare number is seconds), up to [`MAX_INVITE_LASTS`].
pub fn duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 24 * 3600,
        "w" => 7 * 24 * 3600,
        _ => return None,
    };
    let lasts = Duration::from_secs(number.checked_mul(seconds)?);
    (!lasts.is_zero() && lasts <= MAX_INVITE_LASTS).then_some(lasts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::command::parse as parse_line;

    fn moderation(line: &str) -> Moderation {
        match parse_line(line) {
            Ok(Some(Command::Moderation(m))) => m,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn moderation_commands_parse() {
        assert_eq!(
            moderation("/kick sam#1a2b spamming the room"),
            Moderation::Kick {
                who: "sam#1a2b".into(),
                reason: "spamming the room".into()
            }
        );
        assert_eq!(
            moderation("/ban eve"),
            Moderation::Ban {
                who: "eve".into(),
                reason: String::new()
            }
        );
        assert_eq!(moderation("/unban eve"), Moderation::Unban("eve".into()));
        assert_eq!(moderation("/add eve"), Moderation::Add("eve".into()));
        assert_eq!(moderation("/accept eve"), Moderation::Accept("eve".into()));
        assert_eq!(moderation("/accept"), Moderation::Accept(String::new()));
        assert_eq!(
            moderation("/deny eve not now"),
            Moderation::Deny {
                who: "eve".into(),
                reason: "not now".into()
            }
        );
        assert_eq!(moderation("/op ann"), Moderation::Op("ann".into()));
        assert_eq!(moderation("/deop ann"), Moderation::Deop("ann".into()));
        assert_eq!(moderation("/owner ann"), Moderation::Owner("ann".into()));
        assert_eq!(
            moderation("/roomname release crew"),
            Moderation::RoomName("release crew".into())
        );
        assert_eq!(moderation("/history"), Moderation::History(None));
        assert_eq!(
            moderation("/history joined"),
            Moderation::History(Some(HistoryVisibility::Joined))
        );
        assert_eq!(moderation("/invites"), Moderation::Invites);
        assert_eq!(moderation("/lock"), Moderation::Lock);
        assert_eq!(moderation("/revoke 3fa"), Moderation::Revoke("3fa".into()));
        assert_eq!(
            moderation("/invite"),
            Moderation::Invite {
                uses: None,
                lasts: None
            }
        );
        assert_eq!(
            moderation("/invite --uses 3 --expires=12h"),
            Moderation::Invite {
                uses: Some(3),
                lasts: Some(Duration::from_secs(12 * 3600))
            }
        );
        for line in [
            "/kick",
            "/ban",
            "/op",
            "/roomname",
            "/history always",
            "/invite --uses 0",
            "/invite --uses many",
            "/invite --expires 0s",
            "/invite --expires 5y",
            "/invite --expires",
            "/invite --color red",
            "/revoke",
        ] {
            assert!(
                matches!(parse_line(line), Err(CommandError::Usage(_))),
                "{line}"
            );
        }
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(duration("7d"), Some(Duration::from_secs(7 * 86400)));
        assert_eq!(duration("2w"), Some(Duration::from_secs(14 * 86400)));
        assert_eq!(duration("366d"), None, "past a year");
        assert_eq!(duration("d"), None);
        assert_eq!(duration("-1h"), None);
        assert_eq!(duration("99999999999999999999w"), None);
    }
}

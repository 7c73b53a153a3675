//! Typed lines: chat text, or a `/command`. `//text` sends text starting with a slash.

/// What a line of input asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Say(String),
    Me(String),
    Clear,
    Nick(String),
    /// `/topic TEXT`: name the room for everyone; `/topic`: show its name and who set it.
    Topic(Option<String>),
    Who,
    Ticket,
    /// How peers are reached: our addresses and relay, each member's path.
    Net,
    Search(String),
    /// `/ignore WHO` (true) or `/unignore WHO` (false).
    Ignore(String, bool),
    /// `/ignored`: who is ignored in this room.
    Ignored,
    /// Show the newest message cut on screen whole.
    Expand,
    /// `/urls`: the links said here recently, numbered (the terminal UI's own).
    Urls,
    /// `/join TICKET|LABEL`: join another room (and switch to it).
    Join(String),
    /// `/open [LABEL]`: open a new room (and switch to it).
    Open(Option<String>),
    /// `/part`: leave the current room for good (not rejoined on the next start).
    Part,
    /// `/room LABEL|PREFIX`: switch rooms (headless: where typed lines go).
    Room(String),
    /// `/to ROOM text`: one line to another room.
    To(String, String),
    /// `/rooms`: the rooms we are in.
    Rooms,
    /// `/msg NAME text`: a direct message.
    Msg(String, String),
    /// `/query NAME`: open a conversation with a member.
    Query(String),
    /// `/send PATH`: share a file in the current room.
    Send(String),
    /// `/get HANDLE`: fetch a shared file.
    Get(String),
    /// `/unshare HANDLE`: stop serving a file (ours, or one we fetched).
    Unshare(String),
    /// `/files [ROOM]`: the files shared in a room (the current one by default).
    Files(Option<String>),
    /// `/whois NAME`: a member's whole key, and which of our rooms they are in.
    Whois(String),
    /// A private room's membership, roles, name, history and invites.
    Moderation(super::moderation::Moderation),
    /// `/reply`, `/react`, `/unreact`, `/edit`, `/delete`: about one line, by its id.
    Line(LineCommand),
    Help,
    Quit,
}

/// Every command with its one-line description, for `/help` and completion.
pub const COMMANDS: &[(&str, &str)] = &[
    ("/help", "this list of commands and keys (also F1)"),
    ("/nick NAME", "change your name"),
    (
        "/topic [TEXT]",
        "name the room for everyone (without TEXT: its name and who set it)",
    ),
    ("/me ACTION", "say what you are doing (* sam waves)"),
    (
        "/reply ID TEXT",
        "answer a line (ID: its first 8+ hex digits, as JSON shows them)",
    ),
    (
        "/react ID EMOJI",
        "react to a line (an emoji, or :+1: :heart: …)",
    ),
    ("/unreact ID EMOJI", "take your reaction back"),
    ("/edit ID TEXT", "change the text of a line of yours"),
    (
        "/delete ID",
        "delete a line of yours (as a private room's admin, anyone's)",
    ),
    ("/who", "list the members of the room"),
    (
        "/net",
        "how each member is reached (direct, relay, none) and our addresses",
    ),
    ("/ticket", "show a ticket others can join with"),
    (
        "/search WORDS",
        "find earlier messages with all these words",
    ),
    (
        "/ignore NAME#abcd",
        "hide a member's messages and presence in this room (kept on disk)",
    ),
    ("/unignore NAME", "show an ignored member again"),
    ("/ignored", "list who is ignored in this room"),
    (
        "/join TICKET|LABEL",
        "join another room (a ticket, or a known room)",
    ),
    ("/open [LABEL]", "open a new room"),
    (
        "/part",
        "leave this room (it is not rejoined on the next start)",
    ),
    ("/room LABEL", "switch to a room by label or topic prefix"),
    ("/to ROOM TEXT", "send one line to another room"),
    ("/rooms", "list the rooms you are in"),
    (
        "/msg NAME TEXT",
        "a private message to a member of your rooms",
    ),
    ("/query NAME", "open a private conversation with a member"),
    (
        "/whois NAME",
        "a member's whole key and the rooms of yours they are in",
    ),
    ("/send PATH", "share a file in this room"),
    (
        "/get HANDLE",
        "fetch a shared file into the download directory",
    ),
    (
        "/unshare HANDLE",
        "stop sharing a file of yours (or serving one you fetched)",
    ),
    (
        "/files [ROOM]",
        "the files shared in this room (or ROOM) and where each is",
    ),
    (
        "/invite [--uses N] [--expires 7d]",
        "a signed invite to this private room (admins; default: 7 days, any number of joins)",
    ),
    (
        "/invites",
        "the invites you issued here, their uses and state",
    ),
    (
        "/revoke PREFIX|INVITE",
        "end an invite (the start of its id, or the whole invite)",
    ),
    (
        "/kick NAME [REASON]",
        "remove a member: the others move to a new key it never gets",
    ),
    ("/ban NAME [REASON]", "remove a member and keep it out"),
    ("/unban NAME", "let a banned key be invited again"),
    (
        "/add NAME|KEY",
        "let a key in without an invite (how a removed member comes back)",
    ),
    (
        "/accept [NAME]",
        "let in someone knocking (a private room found on the LAN; admins)",
    ),
    ("/deny NAME [REASON]", "turn someone knocking away"),
    ("/op NAME", "make a member an admin (owner only)"),
    ("/deop NAME", "make an admin a member again (owner only)"),
    (
        "/owner NAME",
        "hand the room over to a member (you become an admin)",
    ),
    ("/roomname NAME", "rename the room for everyone (admins)"),
    (
        "/lock",
        "a public room's private successor, yours; everyone here gets an invite by DM",
    ),
    (
        "/history [shared|joined]",
        "whether newcomers see what was said before they joined",
    ),
    ("/expand", "show the newest long message whole"),
    (
        "/urls",
        "the links said here recently, newest first, numbered (never fetched)",
    ),
    ("/clear", "clear the screen's history"),
    ("/quit", "leave the room and exit"),
];

/// A command about one line (issue 24); `to` is the line's id or its first 8+ hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineCommand {
    Reply { to: String, text: String },
    React { to: String, emoji: String, on: bool },
    Edit { to: String, text: String },
    Delete { to: String },
}

impl LineCommand {
    /// What the room is asked.
    pub fn input(self) -> crate::proto::room::Input {
        use crate::proto::room::Input;
        match self {
            Self::Reply { to, text } => Input::Reply { to, text },
            Self::React { to, emoji, on } => Input::React { to, emoji, on },
            Self::Edit { to, text } => Input::Edit { to, text },
            Self::Delete { to } => Input::Delete { to },
        }
    }
}

fn parse_line_command(word: &str, arg: &str) -> Option<Result<LineCommand, CommandError>> {
    let (to, rest) = arg.split_once(char::is_whitespace).unwrap_or((arg, ""));
    let (to, rest) = (to.to_string(), rest.trim().to_string());
    let need = |usage: &'static str, both: bool| {
        if to.is_empty() || (both && rest.is_empty()) {
            Err(CommandError::Usage(usage))
        } else {
            Ok(())
        }
    };
    Some(match word {
        "reply" => need("/reply ID TEXT", true).map(|()| LineCommand::Reply { to, text: rest }),
        "react" | "unreact" => need("/react ID EMOJI", true).map(|()| LineCommand::React {
            to,
            emoji: super::emoji::named(&rest).unwrap_or(rest),
            on: word == "react",
        }),
        "edit" => need("/edit ID TEXT", true).map(|()| LineCommand::Edit { to, text: rest }),
        "delete" => need("/delete ID", false).map(|()| LineCommand::Delete { to }),
        _ => return None,
    })
}

/// A line that is not a valid command. Never broadcast.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command {0} (try /help; start a line with // to send a slash)")]
    Unknown(String),
    #[error("usage: {0}")]
    Usage(&'static str),
}

/// Parse one typed line. Empty lines are `Ok(None)`.
pub fn parse(line: &str) -> Result<Option<Command>, CommandError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Ok(None);
    }
    if let Some(escaped) = line.strip_prefix("//") {
        return Ok(Some(Command::Say(format!("/{escaped}"))));
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Some(Command::Say(line.to_string())));
    };
    let (word, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let arg = arg.trim();
    if let Some(moderation) = super::moderation::parse(word, arg) {
        return moderation.map(Some);
    }
    if let Some(line) = parse_line_command(word, arg) {
        return line.map(|c| Some(Command::Line(c)));
    }
    let command = match word {
        "nick" if arg.is_empty() => return Err(CommandError::Usage("/nick NAME")),
        "nick" => Command::Nick(arg.to_string()),
        "topic" => Command::Topic((!arg.is_empty()).then(|| arg.to_string())),
        "me" if arg.is_empty() => return Err(CommandError::Usage("/me ACTION")),
        "me" => Command::Me(arg.to_string()),
        "clear" => Command::Clear,
        "who" | "names" => Command::Who,
        "ticket" => Command::Ticket,
        "net" => Command::Net,
        "search" if arg.is_empty() => return Err(CommandError::Usage("/search WORDS")),
        "search" => Command::Search(arg.to_string()),
        "ignore" if arg.is_empty() => return Err(CommandError::Usage("/ignore NAME#abcd")),
        "ignore" => Command::Ignore(arg.to_string(), true),
        "unignore" if arg.is_empty() => return Err(CommandError::Usage("/unignore NAME")),
        "unignore" => Command::Ignore(arg.to_string(), false),
        "ignored" => Command::Ignored,
        "expand" => Command::Expand,
        "urls" | "links" => Command::Urls,
        "join" if arg.is_empty() => return Err(CommandError::Usage("/join TICKET|LABEL")),
        "join" => Command::Join(arg.split_whitespace().collect()),
        "open" | "new" => Command::Open(Some(arg).filter(|a| !a.is_empty()).map(String::from)),
        "part" | "leave" | "close" => Command::Part,
        "room" | "switch" | "window" if arg.is_empty() => {
            return Err(CommandError::Usage("/room LABEL|PREFIX"));
        }
        "room" | "switch" | "window" => Command::Room(arg.to_string()),
        "rooms" => Command::Rooms,
        "send" | "share" if arg.is_empty() => return Err(CommandError::Usage("/send PATH")),
        "send" | "share" => Command::Send(arg.to_string()),
        "get" | "fetch" if arg.is_empty() => return Err(CommandError::Usage("/get HANDLE")),
        "get" | "fetch" => Command::Get(arg.to_string()),
        "unshare" if arg.is_empty() => return Err(CommandError::Usage("/unshare HANDLE")),
        "unshare" => Command::Unshare(arg.to_string()),
        "whois" if arg.is_empty() => return Err(CommandError::Usage("/whois NAME")),
        "whois" => Command::Whois(arg.to_string()),
        "files" => Command::Files(Some(arg).filter(|a| !a.is_empty()).map(String::from)),
        "to" | "msg" | "query" => return two_part(word, arg),
        "help" => Command::Help,
        "quit" | "exit" => Command::Quit,
        _ => return Err(CommandError::Unknown(format!("/{word}"))),
    };
    Ok(Some(command))
}

/// `/to ROOM TEXT`, `/msg NAME TEXT`, `/query NAME`.
fn two_part(word: &str, arg: &str) -> Result<Option<Command>, CommandError> {
    let (first, rest) = arg.split_once(char::is_whitespace).unwrap_or((arg, ""));
    let rest = rest.trim_start();
    let command = match word {
        "to" if first.is_empty() || rest.is_empty() => {
            return Err(CommandError::Usage("/to ROOM TEXT"));
        }
        "to" => Command::To(first.to_string(), rest.to_string()),
        "msg" if first.is_empty() || rest.is_empty() => {
            return Err(CommandError::Usage("/msg NAME TEXT"));
        }
        "msg" => Command::Msg(first.to_string(), rest.to_string()),
        _ if first.is_empty() || !rest.is_empty() => {
            return Err(CommandError::Usage("/query NAME"));
        }
        _ => Command::Query(first.to_string()),
    };
    Ok(Some(command))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_commands() {
        assert_eq!(parse("hello").unwrap(), Some(Command::Say("hello".into())));
        assert_eq!(parse("  \r\n").unwrap(), None);
        assert_eq!(
            parse("/nick  sam ").unwrap(),
            Some(Command::Nick("sam".into()))
        );
        assert_eq!(
            parse("/topic  deploys and ops ").unwrap(),
            Some(Command::Topic(Some("deploys and ops".into())))
        );
        assert_eq!(parse("/topic").unwrap(), Some(Command::Topic(None)));
        assert_eq!(
            parse("/topic   ").unwrap(),
            Some(Command::Topic(None)),
            "no text asks for the name"
        );
        assert_eq!(parse("/who").unwrap(), Some(Command::Who));
        assert_eq!(parse("/net").unwrap(), Some(Command::Net));
        assert_eq!(
            parse("/me waves").unwrap(),
            Some(Command::Me("waves".into()))
        );
        assert_eq!(parse("/clear").unwrap(), Some(Command::Clear));
        assert_eq!(parse("/urls").unwrap(), Some(Command::Urls));
        assert_eq!(parse("/links").unwrap(), Some(Command::Urls));
        assert_eq!(
            parse("/search relay patch").unwrap(),
            Some(Command::Search("relay patch".into()))
        );
        assert_eq!(parse("/ticket").unwrap(), Some(Command::Ticket));
        assert_eq!(
            parse("/ignore sam#1a2b").unwrap(),
            Some(Command::Ignore("sam#1a2b".into(), true))
        );
        assert_eq!(
            parse("/unignore sam").unwrap(),
            Some(Command::Ignore("sam".into(), false))
        );
        assert_eq!(parse("/ignored").unwrap(), Some(Command::Ignored));
        assert_eq!(parse("/quit\n").unwrap(), Some(Command::Quit));
        assert_eq!(
            parse("//etc/passwd").unwrap(),
            Some(Command::Say("/etc/passwd".into()))
        );
    }

    #[test]
    fn room_and_direct_commands() {
        assert_eq!(
            parse("/join abc def").unwrap(),
            Some(Command::Join("abcdef".into())),
            "a ticket wrapped over lines is one ticket"
        );
        assert_eq!(parse("/open").unwrap(), Some(Command::Open(None)));
        assert_eq!(
            parse("/open standup").unwrap(),
            Some(Command::Open(Some("standup".into())))
        );
        assert_eq!(parse("/part").unwrap(), Some(Command::Part));
        assert_eq!(
            parse("/room ops").unwrap(),
            Some(Command::Room("ops".into()))
        );
        assert_eq!(parse("/rooms").unwrap(), Some(Command::Rooms));
        assert_eq!(
            parse("/to ops  deploy  done").unwrap(),
            Some(Command::To("ops".into(), "deploy  done".into()))
        );
        assert_eq!(
            parse("/msg sam#1a2b hi there").unwrap(),
            Some(Command::Msg("sam#1a2b".into(), "hi there".into()))
        );
        assert_eq!(
            parse("/query sam").unwrap(),
            Some(Command::Query("sam".into()))
        );
        for (line, usage) in [
            ("/join", "/join TICKET|LABEL"),
            ("/room", "/room LABEL|PREFIX"),
            ("/to ops", "/to ROOM TEXT"),
            ("/msg sam", "/msg NAME TEXT"),
            ("/msg", "/msg NAME TEXT"),
            ("/query", "/query NAME"),
            ("/query sam hi", "/query NAME"),
        ] {
            assert_eq!(
                parse(line).unwrap_err(),
                CommandError::Usage(usage),
                "{line}"
            );
        }
    }

    #[test]
    fn bad_commands_are_errors_not_messages() {
        assert_eq!(
            parse("/nick").unwrap_err(),
            CommandError::Usage("/nick NAME")
        );
        assert_eq!(
            parse("/frob x").unwrap_err(),
            CommandError::Unknown("/frob".into())
        );
    }
}

//! Typed lines: chat text, or a `/command`. `//text` sends text starting with a slash.

/// What a line of input asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Say(String),
    Me(String),
    Clear,
    Nick(String),
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
    Help,
    Quit,
}

/// Every command with its one-line description, for `/help` and completion.
pub const COMMANDS: &[(&str, &str)] = &[
    ("/help", "list commands"),
    ("/nick NAME", "change your name"),
    ("/me ACTION", "say what you are doing (* sam waves)"),
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
    ("/expand", "show the newest long message whole"),
    ("/clear", "clear the screen's history"),
    ("/quit", "leave the room and exit"),
];

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
    let command = match word {
        "nick" if arg.is_empty() => return Err(CommandError::Usage("/nick NAME")),
        "nick" => Command::Nick(arg.to_string()),
        "me" if arg.is_empty() => return Err(CommandError::Usage("/me ACTION")),
        "me" => Command::Me(arg.to_string()),
        "clear" => Command::Clear,
        "who" | "names" => Command::Who,
        "ticket" | "invite" => Command::Ticket,
        "net" => Command::Net,
        "search" if arg.is_empty() => return Err(CommandError::Usage("/search WORDS")),
        "search" => Command::Search(arg.to_string()),
        "ignore" if arg.is_empty() => return Err(CommandError::Usage("/ignore NAME#abcd")),
        "ignore" => Command::Ignore(arg.to_string(), true),
        "unignore" if arg.is_empty() => return Err(CommandError::Usage("/unignore NAME")),
        "unignore" => Command::Ignore(arg.to_string(), false),
        "ignored" => Command::Ignored,
        "expand" => Command::Expand,
        "help" => Command::Help,
        "quit" | "exit" => Command::Quit,
        _ => return Err(CommandError::Unknown(format!("/{word}"))),
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
        assert_eq!(parse("/who").unwrap(), Some(Command::Who));
        assert_eq!(parse("/net").unwrap(), Some(Command::Net));
        assert_eq!(
            parse("/me waves").unwrap(),
            Some(Command::Me("waves".into()))
        );
        assert_eq!(parse("/clear").unwrap(), Some(Command::Clear));
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

//! `:name:` for the common reactions (what `/react ID :+1:` understands, and what Tab completes
//! after a `:`, in a reaction or any line). Anything else that is one emoji goes as it is.

/// Names people type, with their emoji.
pub const NAMES: &[(&str, &str)] = &[
    ("+1", "👍"),
    ("thumbsup", "👍"),
    ("-1", "👎"),
    ("thumbsdown", "👎"),
    ("heart", "❤️"),
    ("joy", "😂"),
    ("laughing", "😆"),
    ("tada", "🎉"),
    ("open_mouth", "😮"),
    ("cry", "😢"),
    ("eyes", "👀"),
    ("pray", "🙏"),
    ("fire", "🔥"),
    ("rocket", "🚀"),
    ("white_check_mark", "✅"),
    ("x", "❌"),
    ("thinking", "🤔"),
    ("smile", "😄"),
    ("wave", "👋"),
    ("100", "💯"),
];

/// The emoji `:name:` stands for, if it is one we know.
pub fn named(text: &str) -> Option<String> {
    let name = text.strip_prefix(':')?.strip_suffix(':')?;
    NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, emoji)| emoji.to_string())
}

/// The emoji whose names start with `prefix` (after a `:`), for Tab completion.
pub fn complete(prefix: &str) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = NAMES
        .iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .map(|(_, emoji)| *emoji)
        .collect();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stand_for_emoji_and_complete() {
        assert_eq!(named(":+1:").as_deref(), Some("👍"));
        assert_eq!(named(":nope:"), None);
        assert_eq!(named("👍"), None);
        assert!(
            NAMES
                .iter()
                .all(|(_, e)| crate::proto::wire::valid_emoji(e))
        );
        assert_eq!(complete("thu"), vec!["👍", "👎"]);
        assert_eq!(complete("+"), vec!["👍"]);
    }
}

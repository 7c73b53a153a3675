//! Names and untrusted text. A name is a claim, never an identity: members are keyed by endpoint
//! id, and names that collide are shown as `name#abcd` with a short key fingerprint.

use super::EndpointId;

/// Longest name, in characters, after cleaning.
pub const MAX_NAME_CHARS: usize = 32;
/// Shortest fingerprint shown after `#`; longer only when two same-named keys share the prefix.
pub const FINGERPRINT_CHARS: usize = 4;

/// Invisible characters that reorder or hide text: bidi overrides and isolates, zero-width
/// characters, the BOM. A peer must not be able to make one name look like another with them.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Turn a claimed name into one that is safe to show and to address: no control or invisible
/// characters, no `#` (that would fake a fingerprint), whitespace runs become one `_`, at most
/// [`MAX_NAME_CHARS`] characters. `None` when nothing is left.
pub fn clean_name(raw: &str) -> Option<String> {
    let mut out = String::new();
    let mut pending_space = false;
    for c in raw.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_invisible_format(c) || c == '#' {
            continue;
        }
        if pending_space {
            out.push('_');
            pending_space = false;
        }
        out.push(c);
    }
    let out: String = out.chars().take(MAX_NAME_CHARS).collect();
    (!out.is_empty()).then_some(out)
}

/// Make remote text safe to print on a terminal: control characters (ESC, BEL, CR, ...) and
/// invisible format characters are shown as `\u{..}` escapes, so a peer cannot move the cursor,
/// retitle the window, reach the clipboard or reorder text. Newlines and tabs survive when
/// `keep_newlines`; zero-width joiners survive because emoji (👨‍👩‍👧) and scripts need them.
pub fn sanitize_text(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let allowed =
            (keep_newlines && (c == '\n' || c == '\t')) || c == '\u{200C}' || c == '\u{200D}';
        if (c.is_control() || is_invisible_format(c)) && !allowed {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The lowercase hex fingerprint of a key, `len` characters long.
pub fn fingerprint(id: &EndpointId, len: usize) -> String {
    let hex = id.to_string();
    hex[..len.min(hex.len())].to_string()
}

/// How to show `id`'s `name` given everyone else's `(id, name)`: the bare name when it is unique,
/// else `name#` plus the shortest fingerprint (at least 4 characters) that tells it apart from
/// every other key using the same name.
pub fn display_name<'a>(
    id: &EndpointId,
    name: &str,
    others: impl Iterator<Item = (&'a EndpointId, &'a str)>,
) -> String {
    let mine = id.to_string();
    let mut longest_shared = None;
    for (other_id, other_name) in others {
        if other_id == id || other_name != name {
            continue;
        }
        let theirs = other_id.to_string();
        let shared = mine
            .bytes()
            .zip(theirs.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        longest_shared = Some(longest_shared.map_or(shared, |s: usize| s.max(shared)));
    }
    match longest_shared {
        None => name.to_string(),
        Some(shared) => format!(
            "{name}#{}",
            fingerprint(id, (shared + 1).max(FINGERPRINT_CHARS))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    fn key(n: u8) -> EndpointId {
        SecretKey::from_bytes(&[n; 32]).public()
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("  sam  ").as_deref(), Some("sam"));
        assert_eq!(clean_name("big   sam").as_deref(), Some("big_sam"));
        assert_eq!(clean_name("sam#1a2b").as_deref(), Some("sam1a2b"));
        assert_eq!(clean_name("\u{1b}[31mred").as_deref(), Some("[31mred"));
        assert_eq!(clean_name("a\u{202e}b\u{200b}c").as_deref(), Some("abc"));
        assert_eq!(clean_name(" \t\u{7}"), None);
        assert_eq!(clean_name(&"x".repeat(100)).unwrap().chars().count(), 32);
        assert_eq!(clean_name("日本語😀").as_deref(), Some("日本語😀"));
    }

    #[test]
    fn hostile_text_is_escaped() {
        let shown = sanitize_text("hi\u{1b}]52;c;ZXZpbA==\u{7}\nthere\r", true);
        assert_eq!(shown, "hi\\u{1b}]52;c;ZXZpbA==\\u{7}\nthere\\u{d}");
        assert_eq!(sanitize_text("a\nb", false), "a\\u{a}b");
        assert_eq!(sanitize_text("\u{202e}evil", true), "\\u{202e}evil");
        assert_eq!(
            sanitize_text("👨\u{200d}👩\u{200d}👧", true),
            "👨\u{200d}👩\u{200d}👧"
        );
        assert_eq!(clean_name("b\u{200d}ob").as_deref(), Some("bob"));
    }

    #[test]
    fn collisions_get_fingerprints() {
        let (a, b, c) = (key(1), key(2), key(3));
        let everyone = [(a, "sam"), (b, "sam"), (c, "kim")];
        let others = || everyone.iter().map(|(id, n)| (id, *n));
        let shown_a = display_name(&a, "sam", others());
        assert_eq!(shown_a, format!("sam#{}", fingerprint(&a, 4)));
        assert_ne!(shown_a, display_name(&b, "sam", others()));
        assert_eq!(display_name(&c, "kim", others()), "kim");
    }
}

//! Names and untrusted text. A name is a claim, never an identity: members are keyed by endpoint
//! id. Names are compared by their confusable skeleton ([`name_key`]), so "аlice" in Cyrillic
//! collides with "alice"; how colliding names are shown is [`super::name_index`]'s business.

use unicode_normalization::UnicodeNormalization;

use super::EndpointId;

/// Longest name, in characters, after cleaning.
pub const MAX_NAME_CHARS: usize = 32;
/// Shortest fingerprint shown after `#`; longer only when two same-named keys share the prefix.
pub const FINGERPRINT_CHARS: usize = 4;

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15/16): characters
/// that render as nothing. In a name they only serve to make two names look equal but compare
/// different ("alice" + U+034F), so names drop them all.
fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// Characters that reorder, hide or smuggle text when shown: bidi overrides and isolates,
/// zero-width characters, the BOM, line and paragraph separators (a line break that does not
/// look like one), tag characters (invisible ASCII). Variation selectors are handled apart.
fn is_hidden_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{E0000}'..='\u{E007F}')
}

/// Whether `c` is invisible or reorders text (format characters, bidi controls, zero-width
/// and tag characters): never wanted in a file name a peer chose.
pub fn is_invisible(c: char) -> bool {
    is_hidden_format(c) || is_format(c)
}

/// Unicode's format characters (General_Category Cf, Unicode 15/16): invisible, some of them
/// not default-ignorable (Arabic number signs, interlinear annotations). No name needs one.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}' | '\u{890}'..='\u{891}'
        | '\u{8E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// Look-alikes of `#`, refused in names with `#` itself: `name#1a2b` is how a fingerprint looks.
fn is_number_sign(c: char) -> bool {
    matches!(
        c,
        '#' | '\u{FE5F}' | '\u{FF03}' | '\u{2D4C}' | '\u{266F}' | '\u{22D5}'
    )
}

/// Turn a claimed name into one that is safe to show and to address: NFKC (fullwidth and
/// compatibility forms become plain ones), no control, format or default-ignorable characters,
/// no `#` or look-alike (that would fake a fingerprint), whitespace runs become one `_`, at most
/// [`MAX_NAME_CHARS`] characters. `None` when nothing is left. Idempotent.
pub fn clean_name(raw: &str) -> Option<String> {
    clean(raw, MAX_NAME_CHARS, '_', true)
}

/// What [`clean_name`] and [`clean_room_name`] share: NFKC; no control, format or
/// default-ignorable characters (nor `#` and look-alikes when `no_number_sign`); whitespace
/// runs become one `space` (none at either end); at most `max` characters.
fn clean(raw: &str, max: usize, space: char, no_number_sign: bool) -> Option<String> {
    let mut out = String::new();
    let mut pending_space = false;
    let mut chars = 0;
    for c in raw.nfkc() {
        // The braille blank looks like a space but is not whitespace: it would hide at the
        // end of a look-alike ("alice⠀").
        if c.is_whitespace() || c == '\u{2800}' {
            pending_space = !out.is_empty();
            continue;
        }
        // Format characters and default-ignorables cover every hidden one `sanitize_text`
        // escapes (the line separators are whitespace, handled above).
        let invisible = is_default_ignorable(c) || is_format(c);
        if c.is_control() || invisible || (no_number_sign && is_number_sign(c)) {
            continue;
        }
        let needed = if pending_space { 2 } else { 1 };
        if chars + needed > max {
            break;
        }
        if pending_space {
            out.push(space);
            chars += 1;
            pending_space = false;
        }
        out.push(c);
        chars += 1;
    }
    // Cutting may leave a combining mark whose NFKC composes differently: normalise once more
    // so that cleaning a clean name changes nothing.
    let out: String = out.nfkc().collect();
    (!out.is_empty()).then_some(out)
}

/// Longest room name (`/topic`), in characters, after cleaning.
pub const MAX_ROOM_NAME_CHARS: usize = 64;

/// Turn a claimed room name into one safe to show: NFKC, no control, format, bidi or
/// default-ignorable characters, whitespace runs become one space (none at either end), at
/// most [`MAX_ROOM_NAME_CHARS`] characters. Unlike a member's name it may hold spaces and
/// `#`. `None` when nothing is left. Idempotent.
pub fn clean_room_name(raw: &str) -> Option<String> {
    clean(raw, MAX_ROOM_NAME_CHARS, ' ', false)
}

/// What decides that two names collide: Unicode TR39's confusable skeleton of the lowercased
/// skeleton of the cleaned name, with `l` (what the skeleton makes of `I`, `1`, `|`) folded
/// into `i`. So "alice", "ALICE", "аlice" (Cyrillic а) and "alice" with an invisible joiner
/// all give one key, and "Ian" and "lan" do too. A false collision costs a fingerprint; a
/// missed one lets a look-alike pass, so the fold errs on the side of colliding.
pub fn name_key(name: &str) -> String {
    let clean = clean_name(name).unwrap_or_default();
    let first: String = unicode_security::skeleton(&clean).collect();
    let lower = first.to_lowercase();
    unicode_security::skeleton(&lower)
        .map(|c| if c == 'l' { 'i' } else { c })
        .collect()
}

/// Whether `c` may stay in shown text after the previous character `prev`: a variation
/// selector only as the emoji or text presentation selector right after a visible character
/// (❤️ needs U+FE0F); runs of them, and the 256 others, can carry hidden bytes.
fn variation_selector_allowed(c: char, prev: Option<char>) -> bool {
    matches!(c, '\u{FE0E}' | '\u{FE0F}')
        && prev.is_some_and(|p| !is_variation_selector(p) && !p.is_control())
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Make remote text safe to print on a terminal: control characters (ESC, BEL, CR, C1, ...),
/// invisible format characters, tag characters, U+2028/2029 and stray variation selectors are
/// shown as `\u{..}` escapes, so a peer cannot move the cursor, retitle the window, reach the
/// clipboard, reorder text or hide some in a line. Newlines and tabs survive when
/// `keep_newlines`; zero-width joiners survive because emoji (👨‍👩‍👧) and scripts need them.
/// The output contains no character it would escape, so sanitising twice changes nothing more
/// than the backslashes it shows.
/// Cut `text` to at most `max` bytes, at a character boundary.
pub fn cut_to_bytes(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

pub fn sanitize_text(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev = None;
    for c in text.chars() {
        let allowed =
            (keep_newlines && (c == '\n' || c == '\t')) || c == '\u{200C}' || c == '\u{200D}';
        let hidden = c.is_control()
            || is_hidden_format(c)
            || (is_variation_selector(c) && !variation_selector_allowed(c, prev));
        if hidden && !allowed {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// The lowercase hex fingerprint of a key, `len` characters long.
pub fn fingerprint(id: &EndpointId, len: usize) -> String {
    let len = len.min(64);
    let mut hex = data_encoding::HEXLOWER.encode(&id.as_bytes()[..len.div_ceil(2)]);
    hex.truncate(len);
    hex
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn room_names_are_cleaned_and_bounded() {
        assert_eq!(clean_room_name("  ops  ").as_deref(), Some("ops"));
        assert_eq!(
            clean_room_name("deploys\n\t and   #ops").as_deref(),
            Some("deploys and #ops")
        );
        assert_eq!(
            clean_room_name("a\u{202e}b\u{200b}c\u{1b}").as_deref(),
            Some("abc"),
            "bidi, zero-width and control characters go"
        );
        assert_eq!(clean_room_name(" \u{2066}\t\u{7}"), None);
        let long = clean_room_name(&"é".repeat(500)).unwrap();
        assert_eq!(long.chars().count(), MAX_ROOM_NAME_CHARS);
        let cut = clean_room_name(&format!("{} b", "a".repeat(63))).unwrap();
        assert_eq!(cut, "a".repeat(63), "no space left dangling at the cut");
        for raw in ["x\u{301}\u{301}", "ＦＵＬＬ width", &"y ".repeat(40)] {
            let once = clean_room_name(raw).unwrap();
            assert_eq!(clean_room_name(&once), Some(once.clone()), "idempotent");
        }
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
    fn look_alike_names_share_a_key() {
        let alice = name_key("alice");
        for fake in [
            "\u{430}lice",
            "ali\u{34f}ce",
            "Alice",
            "ＡＬＩＣＥ",
            "al\u{200b}ice",
            "alice\u{E0041}",
        ] {
            assert_eq!(name_key(fake), alice, "{fake:?}");
        }
        assert_eq!(name_key("Ian"), name_key("lan"));
        // The braille blank is no space: it becomes `_`, and shows.
        assert_eq!(clean_name("alice\u{2800}").as_deref(), Some("alice"));
        assert_eq!(clean_name("al\u{2800}ice").as_deref(), Some("al_ice"));
        assert_ne!(name_key("alice"), name_key("alicia"));
    }

    #[test]
    fn fingerprint_look_alikes_are_refused_in_names() {
        for fake in ["alice＃1a2b", "alice#1a2b", "alice\u{fe5f}1a2b"] {
            assert_eq!(clean_name(fake).as_deref(), Some("alice1a2b"), "{fake:?}");
        }
        // Fullwidth letters become plain ones; invisible ones vanish.
        assert_eq!(clean_name("ｓａｍ").as_deref(), Some("sam"));
        assert_eq!(clean_name("sa\u{34f}m\u{E0020}").as_deref(), Some("sam"));
    }

    #[test]
    fn hidden_characters_are_escaped_in_text() {
        // Tags (invisible ASCII), a stray variation selector run, line separators.
        assert_eq!(sanitize_text("a\u{E0041}", true), "a\\u{e0041}");
        assert_eq!(
            sanitize_text("x\u{2028}y\u{2029}", true),
            "x\\u{2028}y\\u{2029}"
        );
        assert_eq!(
            sanitize_text("a\u{fe01}\u{e0100}", true),
            "a\\u{fe01}\\u{e0100}"
        );
        // The emoji presentation selector after a symbol is kept: ❤️.
        assert_eq!(sanitize_text("\u{2764}\u{fe0f}", true), "\u{2764}\u{fe0f}");
        assert_eq!(
            sanitize_text("\u{2764}\u{fe0f}\u{fe0f}", true),
            "\u{2764}\u{fe0f}\\u{fe0f}"
        );
        assert_eq!(sanitize_text("\u{9b}31m", true), "\\u{9b}31m");
    }
}

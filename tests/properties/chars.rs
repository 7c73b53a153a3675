//! Character classes the sanitiser properties are checked against, written out independently
//! of the code under test, and a strategy for text that is mostly the characters that matter.

use proptest::prelude::*;

/// Unicode general category Cf (format), Unicode 16.
pub fn is_format(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}' | '\u{890}'..='\u{891}'
        | '\u{8E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// The format characters shown text escapes (bidi, zero-width, soft hyphen, BOM; tags and
/// line separators are in `acts_on_terminal`).
pub fn escaped_in_text(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{61C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// What a terminal may act on or hide text with: C0, DEL, C1, bidi controls, the line and
/// paragraph separators, and tag characters.
pub fn acts_on_terminal(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{61C}' | '\u{200E}' | '\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
        | '\u{E0000}'..='\u{E007F}')
}

/// Hostile text: uniformly random characters hit controls and format characters too rarely,
/// so half are picked from those, `#`, `:`, spaces and combining or wide characters.
pub fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    let special = prop_oneof![
        0u32..0x20,
        0x7fu32..0xa0,
        Just(0xad),
        0x200bu32..0x2070,
        0xe0000u32..0xe0080,
        Just(0xfeff),
        Just(0xfff9),
        Just(0x600),
        Just('#' as u32),
        Just(':' as u32),
        Just(' ' as u32),
        Just(0x3000),
        Just(0x301),
        Just(0x1f600),
    ]
    .prop_map(|u| char::from_u32(u).unwrap_or('?'));
    prop::collection::vec(prop_oneof![any::<char>(), special], 0..max)
        .prop_map(|chars| chars.into_iter().collect())
}

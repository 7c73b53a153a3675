//! Character classes the sanitiser properties are checked against (`tests/oracle/chars.rs`,
//! shared with the fuzz targets), and a strategy for text that is mostly the characters that
//! matter.

use proptest::prelude::*;

#[path = "../oracle/chars.rs"]
mod oracle;

pub use oracle::{acts_on_terminal, escaped_in_text, is_format};

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

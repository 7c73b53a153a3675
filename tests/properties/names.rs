//! Names and untrusted text: cleaning is idempotent, and what comes out holds nothing a
//! terminal would act on or that could make one name look like another.

use parlor::headless::json::terminal_safe;
use parlor::proto::lan::{MAX_LABEL, clean_label};
use parlor::proto::names::{MAX_NAME_CHARS, clean_name, sanitize_text};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::chars::{acts_on_terminal, escaped_in_text, hostile_text, is_format};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn clean_names_are_short_clean_and_stable(raw in hostile_text(80)) {
        if let Some(name) = clean_name(&raw) {
            prop_assert!(!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS);
            for c in name.chars() {
                prop_assert!(!c.is_control() && !c.is_whitespace() && c != '#', "{:?}", c);
                prop_assert!(!is_format(c), "{:?}", c);
            }
            prop_assert_eq!(clean_name(&name), Some(name.clone()));
        }
        if let Some(label) = clean_label(&raw) {
            prop_assert!(label.len() <= MAX_LABEL && !label.contains(':'));
            prop_assert_eq!(clean_label(&label), Some(label.clone()));
        }
    }

    #[test]
    fn sanitized_text_has_no_controls_and_is_stable(raw in hostile_text(120), keep: bool) {
        let shown = sanitize_text(&raw, keep);
        for c in shown.chars() {
            let kept = keep && (c == '\n' || c == '\t');
            prop_assert!(!c.is_control() || kept, "{:?}", c);
            let joiner = c == '\u{200C}' || c == '\u{200D}';
            prop_assert!(!escaped_in_text(c) || joiner, "{:?}", c);
        }
        prop_assert_eq!(sanitize_text(&shown, keep), shown);
    }

    #[test]
    fn terminal_safe_json_decodes_to_the_same_text(raw in hostile_text(120)) {
        let line = json!({"type": "message", "text": raw}).to_string();
        let safe = terminal_safe(&line);
        prop_assert!(!safe.chars().any(acts_on_terminal), "{}", safe);
        let back: Value = serde_json::from_str(&safe).unwrap();
        prop_assert_eq!(&back["text"], &Value::String(raw.clone()));
        prop_assert_eq!(terminal_safe(&safe), safe);
        // Any text at all, JSON or not: only a newline may pass raw.
        let any = terminal_safe(&raw);
        prop_assert!(!any.chars().any(|c| acts_on_terminal(c) && c != '\n'));
    }
}

/// Found by the `sanitizers` fuzz target: names kept every format character outside the list
/// names.rs stripped, among them the invisible tag characters, so `bob` plus a tag looked like
/// `bob` but was a different name. Names now lose all of category Cf.
#[test]
fn tag_characters_are_stripped_from_names() {
    for raw in [
        "bob\u{E0041}",
        "bob\u{E0001}",
        "a\u{206A}b",
        "x\u{FFF9}y",
        "\u{600}",
    ] {
        let name = clean_name(raw).unwrap_or_default();
        assert!(!name.chars().any(is_format), "{raw:?} -> {name:?}");
    }
}

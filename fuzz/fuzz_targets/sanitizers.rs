//! Untrusted names and text: the cleaners never panic, are idempotent and leave nothing a
//! terminal would act on; JSON lines stay exact once made terminal-safe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parlor::headless::json::terminal_safe;
use parlor::proto::lan::{MAX_LABEL, clean_label};
use parlor::proto::names::{MAX_NAME_CHARS, clean_name, sanitize_text};
use parlor_fuzz::{acts_on_terminal, is_format};

fn check_name(raw: &str) {
    let Some(name) = clean_name(raw) else {
        return;
    };
    assert!(!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS);
    for c in name.chars() {
        assert!(
            !c.is_control() && !c.is_whitespace() && c != '#',
            "{c:?} in {name:?}"
        );
        assert!(!is_format(c), "format character {c:?} in name {name:?}");
    }
    assert_eq!(clean_name(&name).as_deref(), Some(&*name), "idempotent");
    if let Some(label) = clean_label(raw) {
        assert!(label.len() <= MAX_LABEL && !label.contains(':'));
        assert_eq!(clean_label(&label).as_deref(), Some(&*label), "idempotent");
    }
}

fn check_text(raw: &str) {
    for keep in [false, true] {
        let shown = sanitize_text(raw, keep);
        for c in shown.chars() {
            let kept = keep && (c == '\n' || c == '\t');
            assert!(!c.is_control() || kept, "{c:?} in {shown:?}");
        }
        assert_eq!(sanitize_text(&shown, keep), shown, "idempotent");
    }
}

fn check_json(raw: &str) {
    let line = serde_json::json!({"type": "message", "text": raw}).to_string();
    let safe = terminal_safe(&line);
    assert!(!safe.chars().any(acts_on_terminal), "{safe:?}");
    let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
    assert_eq!(back["text"], raw, "decodes to the original text");
    assert_eq!(terminal_safe(&safe), safe, "idempotent");
    // Any text at all, JSON or not: only a newline may pass raw.
    assert!(
        !terminal_safe(raw)
            .chars()
            .any(|c| acts_on_terminal(c) && c != '\n')
    );
}

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    check_name(&raw);
    check_text(&raw);
    check_json(&raw);
});

//! The `--json` line of a chat line, which headless mode writes straight into one buffer
//! (`headless::json_line`), is byte for byte the general path's: the `serde_json::Value`
//! tree every other report takes, made terminal-safe.

use std::sync::Arc;

use parlor::headless::json::terminal_safe;
use parlor::headless::{Report, RoomTag, format_in, to_json};
use parlor::proto::room::{ChatLine, Event};
use parlor::proto::wire::FileRef;
use parlor::proto::{MemberInfo, MessageId, SecretKey, TopicId, UnixMillis};
use proptest::prelude::*;

use super::chars::hostile_text;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_chat_lines_json_is_the_general_paths(
        text in hostile_text(120),
        name in hostile_text(24),
        display in hostile_text(24),
        re in proptest::option::of(hostile_text(16)),
        sent: u64,
        flags in 0u8..16,
        sent_by_us: bool,
    ) {
        let line = ChatLine {
            id: MessageId::of(text.as_bytes()),
            author: MemberInfo {
                id: SecretKey::from_bytes(&[9; 32]).public(),
                name,
                display,
            },
            text,
            action: flags & 1 != 0,
            sent: UnixMillis(sent),
            history: flags & 2 != 0,
            envelope: Arc::from(&b""[..]),
            // Neither a file nor any other field outside `message` may change the line.
            file: (flags & 4 != 0).then(|| FileRef {
                hash: "a".repeat(64),
                size: 3,
                name: "f".into(),
                mime: String::new(),
            }),
            reply_to: (flags & 8 != 0).then(|| Box::new(MessageId::of(b"parent"))),
            change: None,
        };
        let event = if sent_by_us {
            Event::MessageSent(line)
        } else {
            Event::MessageReceived(line)
        };
        let report = Report::Room(event);
        let topic = TopicId::from_bytes([4; 32]);
        let tag = RoomTag { topic: &topic, name: "room", prefix_text: false };
        let re = re.as_deref();
        let general = terminal_safe(&to_json(&report, Some(&topic), re));
        prop_assert_eq!(format_in(&report, true, Some(tag), re), Some(general));
        let general = terminal_safe(&to_json(&report, None, re));
        prop_assert_eq!(format_in(&report, true, None, re), Some(general));
    }
}

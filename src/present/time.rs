//! A time as people read it, in a zone: the TUI's history and headless text lines alike.

use chrono::{DateTime, FixedOffset, Utc};

use crate::proto::UnixMillis;

/// `time` in the given offset (the local one, outside tests), as chrono `format`s it.
pub fn format_time(time: UnixMillis, offset: &FixedOffset, format: &str) -> String {
    let millis = i64::try_from(time.0).unwrap_or(i64::MAX);
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .with_timezone(offset)
        .format(format)
        .to_string()
}

/// `HH:MM` in the given offset.
pub fn clock(time: UnixMillis, offset: &FixedOffset) -> String {
    format_time(time, offset, "%H:%M")
}

//! How a history shows times and days: a message's time in the local zone, as the configured
//! format (`time_format`) writes it, the columns that takes, and the label of a day separator.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use super::wrap::width;
use crate::present::format_time;
use crate::proto::UnixMillis;

/// How a history shows times and days: the zone, the time format (`time_format` in the
/// config file) and the columns it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStyle {
    pub offset: FixedOffset,
    pub format: String,
    /// Columns before the text: the widest time this format writes, and a space.
    pub width: usize,
    /// Today in `offset`: an entry of another day at the top of the history shows its date.
    pub today: Option<NaiveDate>,
}

impl Default for TimeStyle {
    fn default() -> Self {
        Self::new(FixedOffset::east_opt(0).expect("UTC"), "%H:%M")
    }
}

impl TimeStyle {
    /// `format` must be valid (the config checks it).
    pub fn new(offset: FixedOffset, format: &str) -> Self {
        // The widest of a week of late-September evenings: the longest day and month names.
        let widest = (21..28)
            .filter_map(|day| chrono::NaiveDate::from_ymd_opt(2026, 9, day))
            .filter_map(|date| date.and_hms_milli_opt(23, 59, 59, 999))
            .map(|time| width(&time.format(format).to_string()))
            .max()
            .unwrap_or(5);
        Self {
            offset,
            format: format.to_string(),
            width: widest + 1,
            today: None,
        }
    }

    /// Today is the day of `now`.
    pub fn set_today(&mut self, now: UnixMillis) {
        self.today = Some(self.day(now));
    }

    pub fn clock(&self, time: UnixMillis) -> String {
        format_time(time, &self.offset, &self.format)
    }

    pub(super) fn day(&self, time: UnixMillis) -> NaiveDate {
        let millis = i64::try_from(time.0).unwrap_or(i64::MAX);
        DateTime::<Utc>::from_timestamp_millis(millis)
            .unwrap_or_default()
            .with_timezone(&self.offset)
            .date_naive()
    }

    /// What a day separator says: `Monday 30 November 2026`.
    pub fn day_label(&self, time: UnixMillis) -> String {
        format_time(time, &self.offset, "%A %-d %B %Y")
    }
}

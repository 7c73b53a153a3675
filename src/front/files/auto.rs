//! `--auto-get` within quotas: at most so many automatic fetches at once, so many bytes per
//! sender and so many in all per day. Minted keys cost nothing, so the daily total binds them
//! together; an offer past a quota is not fetched by itself (the user is told why, and can
//! still `/get` it by hand).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::config::FileSettings;
use crate::present::show_size;
use crate::proto::{EndpointId, MemberInfo};

/// The quotas' day.
const DAY: Duration = Duration::from_secs(24 * 60 * 60);
/// Senders counted per day; past it, offers from new ones wait for `/get`.
const MAX_SENDERS: usize = 4096;

#[derive(Debug)]
pub(super) struct AutoQuota {
    /// When the day being counted began (the first automatic fetch after the last one).
    day: Option<Instant>,
    per_sender: HashMap<EndpointId, u64>,
    total: u64,
    /// Hashes fetched automatically and still running.
    running: HashSet<String>,
}

impl AutoQuota {
    pub fn new() -> Self {
        Self {
            day: None,
            per_sender: HashMap::new(),
            total: 0,
            running: HashSet::new(),
        }
    }

    /// May `hash` (`size` bytes, offered by `from`) be fetched by itself now? If so it is
    /// counted (its offered size, whether it arrives or not); if not, why.
    pub fn admit(
        &mut self,
        settings: &FileSettings,
        from: &MemberInfo,
        (hash, size): (&str, u64),
        now: Instant,
    ) -> Result<(), String> {
        if self
            .day
            .is_none_or(|began| now.duration_since(began) >= DAY)
        {
            self.day = Some(now);
            self.per_sender.clear();
            self.total = 0;
        }
        if self.running.len() >= settings.auto_get_at_once {
            return Err(format!(
                "{} files are being fetched by themselves already (auto_get_at_once)",
                self.running.len()
            ));
        }
        let theirs = self.per_sender.get(&from.id).copied();
        if theirs.is_none() && self.per_sender.len() >= MAX_SENDERS {
            return Err("too many senders today".into());
        }
        let theirs = theirs.unwrap_or(0);
        if theirs.saturating_add(size) > settings.auto_get_per_sender {
            return Err(format!(
                "{} fetched by itself from {} today already, {} more is past auto_get_per_sender ({})",
                show_size(theirs),
                from.display,
                show_size(size),
                show_size(settings.auto_get_per_sender)
            ));
        }
        if self.total.saturating_add(size) > settings.auto_get_per_day {
            return Err(format!(
                "{} fetched by itself today already, {} more is past auto_get_per_day ({})",
                show_size(self.total),
                show_size(size),
                show_size(settings.auto_get_per_day)
            ));
        }
        self.per_sender.insert(from.id, theirs + size);
        self.total += size;
        self.running.insert(hash.to_string());
        Ok(())
    }

    /// The automatic fetch of `hash` is no longer running (saved, failed, waiting).
    pub fn ended(&mut self, hash: &str) {
        self.running.remove(hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    fn someone(name: &str) -> MemberInfo {
        MemberInfo {
            id: SecretKey::generate().public(),
            name: name.into(),
            display: name.into(),
        }
    }

    #[test]
    fn automatic_fetches_stay_within_their_quotas() {
        let settings = FileSettings {
            auto_get_at_once: 2,
            auto_get_per_sender: 100,
            auto_get_per_day: 250,
            ..FileSettings::default()
        };
        let (sam, bea, cy) = (someone("sam"), someone("bea"), someone("cy"));
        let mut quota = AutoQuota::new();
        let start = Instant::now();
        assert_eq!(quota.admit(&settings, &sam, ("a", 60), start), Ok(()));
        let why = quota.admit(&settings, &sam, ("b", 60), start).unwrap_err();
        assert!(why.contains("auto_get_per_sender"), "{why}");
        assert_eq!(quota.admit(&settings, &bea, ("c", 100), start), Ok(()));
        let why = quota.admit(&settings, &cy, ("d", 10), start).unwrap_err();
        assert!(why.contains("auto_get_at_once"), "{why}");
        quota.ended("a");
        quota.ended("c");
        assert_eq!(quota.admit(&settings, &cy, ("d", 90), start), Ok(()));
        // 250 in all: minted senders share it.
        let why = quota
            .admit(&settings, &someone("new"), ("e", 1), start)
            .unwrap_err();
        assert!(why.contains("auto_get_per_day"), "{why}");
        // A day later, all over again.
        quota.ended("d");
        assert_eq!(
            quota.admit(&settings, &sam, ("b", 100), start + DAY),
            Ok(())
        );
    }
}

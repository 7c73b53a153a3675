//! The settings tests and in-process nodes run with: headless JSON, nothing on disk, and
//! only 127.0.0.1 (no relays, DNS lookup, port mapping or LAN discovery).

use std::time::Duration;

use super::{Config, Data, Task};
use crate::config::Start;
use crate::net::NetConfig;
use crate::proto::SecretKey;

impl Config {
    /// Headless JSON in `starts` as `name`, ephemeral, on loopback only.
    pub fn headless_loopback(name: &str, starts: Vec<Start>) -> Self {
        Self {
            task: Task::Chat(starts),
            name: name.to_string(),
            name_given: true,
            name_configured: false,
            data: Data::Ephemeral,
            label: None,
            lan: false,
            public: false,
            history: super::history_window(
                super::registry::HISTORY_LIMIT,
                super::registry::HISTORY_DAYS,
            ),
            history_max: super::registry::HISTORY_MAX,
            limits: super::rate_limits(super::registry::MAX_RATE),
            headless: true,
            net: NetConfig::loopback(SecretKey::generate()),
            json: true,
            join_timeout: Duration::from_secs_f64(super::registry::JOIN_TIMEOUT_SECS),
            ui: Default::default(),
            files: Default::default(),
        }
    }
}

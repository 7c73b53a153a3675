//! Who may use the relay (`--allow FILE`: a list of endpoint ids, or everyone) and the log of
//! who connected, at a bounded rate (see [`super::log_budget`]).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use iroh_relay::server::{Access, AccessControl, ClientRequest, ConnectionId};

use super::log_budget::{LogBudget, Outcome};
use crate::proto::EndpointId;

/// The endpoint ids the relay admits, read from an allow file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(HashSet<EndpointId>);

impl AllowList {
    /// An allow file's text: one endpoint id a line (hex or base32, as `/whois` and `/net`
    /// print them), `#` starts a comment, blank lines are skipped. The first bad line is the
    /// error, naming it (`line 3: ...`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut ids = HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let id: EndpointId = line.parse().map_err(|_| {
                let shown: String = line.chars().take(70).collect();
                format!("line {}: not an endpoint id: {shown:?}", n + 1)
            })?;
            ids.insert(id);
        }
        Ok(Self(ids))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, id: &EndpointId) -> bool {
        self.0.contains(id)
    }
}

type Log = Arc<dyn Fn(String) + Send + Sync>;

/// Admits everyone, or only the allow list's ids, and logs clients within a budget.
pub(super) struct Clients {
    log: Log,
    allow: Option<AllowList>,
    connected: AtomicUsize,
    budget: Mutex<LogBudget>,
}

impl Clients {
    pub(super) fn new(log: Log, allow: Option<AllowList>) -> Self {
        Self {
            log,
            allow,
            connected: AtomicUsize::new(0),
            budget: Mutex::new(LogBudget::new(Instant::now())),
        }
    }

    /// Writes the summary of a window that ended quietly (called by a timer).
    pub(super) fn tick(&self) {
        let summary = self.budget().tick(Instant::now());
        if let Some(line) = summary {
            (self.log)(line);
        }
    }

    fn budget(&self) -> std::sync::MutexGuard<'_, LogBudget> {
        // Plain counters: a panic elsewhere leaves nothing inconsistent.
        self.budget.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self, outcome: Outcome, line: String) {
        let lines = self.budget().client(Instant::now(), outcome, line);
        for line in lines {
            (self.log)(line);
        }
    }
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients")
            .field("allow", &self.allow.as_ref().map(AllowList::len))
            .finish_non_exhaustive()
    }
}

impl AccessControl for Clients {
    async fn on_connect(&self, request: &ClientRequest) -> Access {
        let id = request.endpoint_id();
        if let Some(allow) = &self.allow
            && !allow.contains(&id)
        {
            self.write(
                Outcome::Denied,
                format!("client {} denied: not on the allow list", id.fmt_short()),
            );
            return Access::Deny {
                reason: Some("not on this relay's allow list".into()),
            };
        }
        let now = self.connected.fetch_add(1, Ordering::Relaxed) + 1;
        self.write(
            Outcome::Admitted,
            format!("client {} connected ({now} connected)", id.fmt_short()),
        );
        Access::Allow
    }

    fn on_disconnect(&self, _endpoint_id: EndpointId, _connection_id: ConnectionId) {
        self.connected.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SecretKey;

    #[test]
    fn allow_files_take_ids_comments_and_blank_lines_and_name_a_bad_line() {
        let a = SecretKey::from_bytes(&[1; 32]).public();
        let b = SecretKey::from_bytes(&[2; 32]).public();
        // Hex as iroh prints ids, and base32 too.
        let b32 = data_encoding::BASE32_NOPAD
            .encode(b.as_bytes())
            .to_lowercase();
        let text = format!("# the team\n\n{a}  # alice\n   {b32}\n");
        let list = AllowList::parse(&text).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.contains(&a) && list.contains(&b));
        assert!(AllowList::parse("# nobody\n").unwrap().is_empty());
        let err = AllowList::parse(&format!("{a}\n\nalice\n")).unwrap_err();
        assert_eq!(err, "line 3: not an endpoint id: \"alice\"");
        let err = AllowList::parse(&format!("{}\n", &a.to_string()[..60])).unwrap_err();
        assert!(err.starts_with("line 1: "), "{err}");
    }
}

//! `/net` and the connection state, as the terminal UI and headless text show them.

use crate::model::{NetView, PathKind};
use crate::proto::names::sanitize_text;

/// `/net` for people: one line for us, one per member.
pub fn net_lines(view: &NetView) -> Vec<String> {
    let report = &view.report;
    let addrs: Vec<String> = report.addrs.iter().map(ToString::to_string).collect();
    let relay = match (&report.relay, report.relay_latency) {
        (Some(url), Some(latency)) => format!("{url} ({:.1} ms)", latency.as_secs_f64() * 1e3),
        (Some(url), None) => url.to_string(),
        (None, _) => "none".to_string(),
    };
    let lan = match &report.lan {
        Ok(()) => "on".to_string(),
        // The reason is a sentence of its own ("LAN discovery is off (--no-lan)"); after the
        // label "LAN" it reads from "off".
        Err(why) => why
            .strip_prefix("LAN discovery is ")
            .map_or_else(|| format!("off: {why}"), str::to_string),
    };
    let addrs = if addrs.is_empty() {
        "none".to_string()
    } else {
        addrs.join(", ")
    };
    let mut lines = vec![format!(
        "net: id {} · addresses {addrs} · relay {relay} · LAN {lan}",
        report.id.fmt_short(),
    )];
    for peer in &report.peers {
        let name = view.name_of(&peer.id).map_or_else(
            || peer.id.fmt_short().to_string(),
            |n| sanitize_text(n, false),
        );
        let rtt = peer
            .rtt
            .map(|rtt| format!(" · {:.1} ms", rtt.as_secs_f64() * 1e3))
            .unwrap_or_default();
        let addr = peer
            .addr
            .as_deref()
            .map(|a| format!(" {a}"))
            .unwrap_or_default();
        let how = match peer.kind {
            PathKind::None => "not connected directly (messages come through others)",
            kind => kind.as_str(),
        };
        lines.push(format!("  {name}: {how}{addr}{rtt}"));
    }
    if report.peers.is_empty() {
        lines.push("  no other member yet".to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NetReport;
    use crate::proto::SecretKey;

    fn view(lan: Result<(), String>) -> NetView {
        NetView {
            report: NetReport {
                id: SecretKey::from_bytes(&[7; 32]).public(),
                addrs: Vec::new(),
                relay: None,
                relay_latency: None,
                lan,
                peers: Vec::new(),
            },
            members: Vec::new(),
        }
    }

    #[test]
    fn lan_off_says_why_without_repeating_lan() {
        let off = net_lines(&view(Err("LAN discovery is off (--no-lan)".into())));
        assert!(off[0].ends_with("· LAN off (--no-lan)"), "{}", off[0]);
        assert!(!off[0].contains("LAN LAN"), "{}", off[0]);
        let failed = net_lines(&view(
            Err("LAN discovery is off: no multicast route".into()),
        ));
        assert!(
            failed[0].ends_with("· LAN off: no multicast route"),
            "{}",
            failed[0]
        );
        let on = net_lines(&view(Ok(())));
        assert!(on[0].ends_with("· LAN on"), "{}", on[0]);
    }
}

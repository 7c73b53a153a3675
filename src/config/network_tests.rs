//! The network flags resolved, and their mistakes as one-line errors.

use super::*;

fn config(args: &[&str]) -> Result<Config, ConfigError> {
    // --config: never the config file of whoever runs the tests.
    let mut all = vec!["parlor", "--data-dir", "/nonexistent/parlor-test"];
    all.extend_from_slice(&["--config", "/dev/null"]);
    all.extend_from_slice(args);
    Config::from_cli(crate::cli::parse_from(all).expect("parses"))
}

#[test]
fn network_flags_resolve() {
    let c = config(&[
        "--relay",
        "http://10.0.0.1:3340",
        "--relay",
        "https://r.example",
        "open",
    ])
    .unwrap();
    assert_eq!(c.net.relays.len(), 2);
    assert!(c.net.lan, "LAN discovery is on by default");
    assert!(!c.lan, "announcing is opt-in");
    let c = config(&["--no-lan", "open"]).unwrap();
    assert!(!c.net.lan);
    // Bound to loopback, mDNS could announce nothing reachable: off.
    let c = config(&["--bind", "127.0.0.1:0", "open"]).unwrap();
    assert!(!c.net.lan);
    let c = config(&["--lan", "--label", "stand up", "open"]).unwrap();
    assert!(c.lan && c.label.as_deref() == Some("stand_up"));
}

#[test]
fn network_mistakes_are_one_line_errors() {
    for (args, expect) in [
        (&["--lan", "--bind", "127.0.0.1:0", "open"][..], "loopback"),
        (&["relay"], "--bind"),
        (&["--relay", "not a url", "open"], "invalid --relay URL"),
    ] {
        let err = config(args).expect_err("refused").to_string();
        assert!(err.contains(expect), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1);
    }
    let (code, _) = crate::cli::parse_from(["parlor", "--lan", "--no-lan", "open"]).unwrap_err();
    assert_eq!(code, 2);
}

#[test]
fn a_label_without_a_store_can_only_be_on_the_lan() {
    let c = Config::from_cli(
        crate::cli::parse_from(["parlor", "--ephemeral", "join", "standup"]).unwrap(),
    )
    .unwrap();
    assert!(matches!(c.starts(), [Start::Lan(label)] if label == "standup"));
    let c = config(&["relay", "--bind", "0.0.0.0:3340"]).unwrap();
    assert!(matches!(c.task, Task::Relay(ref o) if o.bind.port() == 3340 && o.tls.is_none()));
}

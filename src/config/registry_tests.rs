//! The settings' table, the example config file, the resolved defaults and the protocol's
//! own defaults agree: a default or a key changed in one place and not another fails here.

use std::path::{Path, PathBuf};

use super::registry::{DefaultValue, Flag, SETTINGS};
use super::*;

fn resolve_with_file(test: &str, text: &str) -> Config {
    let dir = crate::test_dir::fresh(&format!("registry-{test}"));
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    let args = ["parlor", "--config", path.to_str().unwrap(), "config"];
    Config::resolve(crate::cli::parse_from(args).unwrap(), &Env::default()).unwrap()
}

fn report(config: &Config) -> &Report {
    match &config.task {
        Task::ShowConfig(report) => report,
        other => panic!("not `parlor config`: {other:?}"),
    }
}

/// The example's `# key = value` lines, uncommented.
fn uncommented() -> String {
    example()
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| {
            SETTINGS
                .iter()
                .any(|def| line.starts_with(&format!("{} = ", def.key)))
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn the_example_sets_every_key_of_the_file_to_its_default() {
    let text = uncommented();
    // Every key of the file is in the example, and nothing the file would refuse.
    let keys = file::parse(Path::new("example"), &text).expect("example parses");
    let debug = format!("{keys:?}");
    assert!(!debug.contains("None"), "undocumented key: {debug}");
    assert!(file::parse(Path::new("example"), &example()).is_ok());
    for def in SETTINGS {
        let line = format!("\n# {} = ", def.key);
        assert_eq!(example().contains(&line), def.in_file, "{}", def.key);
    }
    // Uncommented, the example changes nothing a fixed default decides.
    let with = resolve_with_file("example", &text);
    let without = resolve_with_file("empty", "");
    for (set, default) in report(&with)
        .settings
        .iter()
        .zip(&report(&without).settings)
    {
        assert_eq!(set.key, default.key);
        let def = registry::find(set.key).expect("in the table");
        if def.in_file && !matches!(def.default, DefaultValue::Varies { .. }) {
            assert_eq!(set.source, Source::File, "{}", set.key);
            assert_eq!(set.value, default.value, "{}", set.key);
        }
    }
}

#[test]
fn the_defaults_are_the_tables() {
    let config = resolve_with_file("defaults", "");
    let settings = &report(&config).settings;
    let keys: Vec<&str> = settings.iter().map(|s| s.key).collect();
    let table: Vec<&str> = SETTINGS
        .iter()
        .map(|def| def.key)
        .filter(|key| *key != "config")
        .collect();
    assert_eq!(
        keys, table,
        "parlor config shows every setting, in the table's order"
    );
    for setting in settings {
        let def = registry::find(setting.key).unwrap();
        let want = match def.default {
            DefaultValue::Bool(b) => serde_json::json!(b),
            DefaultValue::Number(n) => serde_json::json!(n),
            DefaultValue::Count(n) => serde_json::json!(n),
            DefaultValue::Text(t) => serde_json::json!(t),
            DefaultValue::Size(n) => serde_json::json!(n),
            DefaultValue::Varies { .. } => continue,
        };
        assert_eq!(setting.value, want, "{}", setting.key);
        if setting.key != "name" {
            assert_eq!(setting.source, Source::Default, "{}", setting.key);
        }
    }
    // The protocol's own defaults (the simulator's and in-process nodes') are the same.
    let history = crate::proto::backlog::HistoryWindow::default();
    assert_eq!(config.history, history);
    assert_eq!(config.limits, crate::proto::limits::RateLimits::default());
    let loopback = Config::headless_loopback("t", Vec::new());
    assert_eq!(loopback.history, history);
    assert_eq!(loopback.limits, config.limits);
    assert_eq!(loopback.join_timeout, config.join_timeout);
    assert_eq!(loopback.ui, config.ui);
    assert_eq!(loopback.files.max_get, config.files.max_get);
}

#[test]
fn every_flag_and_variable_of_the_table_exists() {
    let command = crate::cli::command();
    for def in SETTINGS {
        if let Some(id) = def.flag_id() {
            let arg = command.get_arguments().find(|a| a.get_id() == id.as_str());
            let arg = arg.unwrap_or_else(|| panic!("no flag for {}", def.key));
            let long = match def.flag {
                Flag::Value(long) | Flag::Switch(long, _) => long,
                Flag::None => unreachable!(),
            };
            assert_eq!(
                arg.get_long().map(|l| format!("--{l}")).as_deref(),
                Some(long)
            );
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(help.ends_with(&def.help_suffix()), "{help}");
        }
    }
    let envs: Vec<&str> = SETTINGS.iter().filter_map(|d| d.env).collect();
    assert_eq!(envs, ["NO_COLOR", "PARLOR_DATA_DIR", "PARLOR_CONFIG"]);
}

#[test]
fn the_shipped_example_and_the_readme_are_the_generated_one() {
    let shipped: PathBuf = [env!("CARGO_MANIFEST_DIR"), "docs", "config.example.toml"]
        .iter()
        .collect();
    let shipped = std::fs::read_to_string(shipped).unwrap();
    assert!(
        shipped == example(),
        "docs/config.example.toml is out of date: parlor config --example > docs/config.example.toml"
    );
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&example()),
        "README's Configuration section differs from parlor config --example"
    );
}

#[test]
fn sizes_are_shown_as_they_are_read() {
    for bytes in [0, 4096, 100 << 20, 3 << 30, 1000] {
        let text = registry::size_text(bytes);
        assert_eq!(
            crate::store::downloads::parse_size(&text),
            Some(bytes),
            "{text}"
        );
    }
    assert_eq!(registry::size_text(100 << 20), "100M");
}

#[test]
fn the_readme_names_every_flag_and_variable() {
    let readme = include_str!("../../README.md");
    for def in SETTINGS {
        let flag = match def.flag {
            Flag::Value(long) | Flag::Switch(long, _) => Some(long),
            Flag::None => None,
        };
        for name in flag.into_iter().chain(def.env) {
            assert!(readme.contains(&format!("`{name}")), "README lacks {name}");
        }
    }
}

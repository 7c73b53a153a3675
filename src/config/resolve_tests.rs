//! The config file under the command line and the environment: precedence, sources, and
//! one-line errors for bad values. Every test names its own file (never the user's).

use std::path::PathBuf;

use super::*;

/// A config file with `text`, unique to the test.
fn file(test: &str, text: &str) -> PathBuf {
    let dir = crate::test_dir::fresh(&format!("config-{test}"));
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn resolve(path: &std::path::Path, env: Env, args: &[&str]) -> Result<Config, ConfigError> {
    let mut all = vec!["parlor", "--config", path.to_str().unwrap()];
    all.extend_from_slice(args);
    Config::resolve(crate::cli::parse_from(all).expect("parses"), &env)
}

fn source(config: &Config, key: &str) -> (serde_json::Value, Source) {
    let Task::ShowConfig(report) = &config.task else {
        panic!("not `parlor config`");
    };
    let s = report.settings.iter().find(|s| s.key == key).expect(key);
    (s.value.clone(), s.source)
}

const EVERY_KEY: &str = r#"
name = "kim"
relays = ["https://relay.example.com"]
theme = "light"
bell = false
typing = false
highlights = ["deploy", "Outage"]
notify = "command"
notify_command = "notify-send"
mouse = false
time_format = "%H:%M:%S"
offline = true
lan = false
history_days = 2
history_limit = 50
history_max = "64M"
max_rate = 5.5
join_timeout = 30
data_dir = "/tmp/parlor-from-file"
download_dir = "/tmp/parlor-downloads"
max_get = "1.5G"
auto_get = 65536
auto_get_at_once = 3
auto_get_per_sender = "10M"
auto_get_per_day = 4096
"#;

#[test]
fn every_key_of_the_file_is_used() {
    let path = file("every", EVERY_KEY);
    let c = resolve(&path, Env::default(), &["config"]).unwrap();
    assert_eq!(
        (c.name.as_str(), c.name_given, c.name_configured),
        ("kim", false, true),
        "a configured name is a default: a room's own name still wins"
    );
    assert_eq!(c.net.relays.len(), 1);
    assert!(c.net.offline && !c.net.lan);
    assert_eq!(c.history.max_messages, 50);
    assert_eq!(c.history.max_age_ms, 2 * 86_400_000);
    assert_eq!(c.history_max, 64 << 20);
    assert_eq!(c.limits.messages.per_second, 5.5);
    assert_eq!(c.join_timeout, Duration::from_secs(30));
    assert_eq!(c.data, Data::Dir("/tmp/parlor-from-file".into()));
    let ui = UiSettings {
        theme: Theme::Light,
        bell: false,
        typing: false,
        highlights: vec!["deploy".into(), "Outage".into()],
        notify: Notify::Command,
        notify_command: "notify-send".into(),
        mouse: false,
        time_format: "%H:%M:%S".into(),
        color: true,
    };
    assert_eq!(c.ui, ui);
    let files = FileSettings {
        download_dir: Some("/tmp/parlor-downloads".into()),
        max_get: 3 << 29,
        auto_get: 65_536,
        auto_get_at_once: 3,
        auto_get_per_sender: 10 << 20,
        auto_get_per_day: 4096,
    };
    assert_eq!(c.files, files);
    let Task::ShowConfig(report) = &c.task else {
        panic!()
    };
    assert!(report.exists && report.path.as_deref() == Some(path.as_path()));
    for s in &report.settings {
        let expect = if s.key == "color" {
            Source::Default
        } else {
            Source::File
        };
        assert_eq!(s.source, expect, "{}", s.key);
    }
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let path = file("layers", "data_dir = \"/from/file\"\nmax_rate = 5\n");
    let env = || Env {
        data_dir: Some("/from/env".into()),
        ..Env::default()
    };
    let c = resolve(&path, env(), &["--data-dir", "/from/flag", "config"]).unwrap();
    assert_eq!(source(&c, "data_dir"), ("/from/flag".into(), Source::Flag));
    let c = resolve(&path, env(), &["config"]).unwrap();
    assert_eq!(source(&c, "data_dir"), ("/from/env".into(), Source::Env));
    let c = resolve(&path, Env::default(), &["config"]).unwrap();
    assert_eq!(source(&c, "data_dir"), ("/from/file".into(), Source::File));
    assert_eq!(source(&c, "max_rate"), (5.0.into(), Source::File));
    let c = resolve(&path, Env::default(), &["--max-rate", "7", "config"]).unwrap();
    assert_eq!(source(&c, "max_rate"), (7.0.into(), Source::Flag));
    assert_eq!(source(&c, "join_timeout"), (15.0.into(), Source::Default));
    assert_eq!(source(&c, "theme"), ("dark".into(), Source::Default));
    assert_eq!(source(&c, "mouse"), (true.into(), Source::Default));
    let c = resolve(&path, Env::default(), &["--no-mouse", "config"]).unwrap();
    assert_eq!(source(&c, "mouse"), (false.into(), Source::Flag));
    assert!(!c.ui.mouse);
    // Announcing on the LAN needs discovery: the flag wins over `lan = false`.
    let path = file("lan", "lan = false\n");
    let c = resolve(&path, Env::default(), &["--lan", "open"]).unwrap();
    assert!(c.net.lan && c.lan);
}

#[test]
fn file_sharing_keys_sit_under_their_flags() {
    let path = file(
        "sharing",
        "download_dir = \"/from/file\"\nmax_get = \"1G\"\nauto_get = \"10M\"\n",
    );
    let c = resolve(&path, Env::default(), &["config"]).unwrap();
    assert_eq!(
        source(&c, "download_dir"),
        ("/from/file".into(), Source::File)
    );
    assert_eq!(source(&c, "max_get"), ((1u64 << 30).into(), Source::File));
    assert_eq!(source(&c, "auto_get"), ((10u64 << 20).into(), Source::File));
    let flags = ["--download-dir", "/from/flag", "--max-get", "5M", "config"];
    let c = resolve(&path, Env::default(), &flags).unwrap();
    assert_eq!(c.files.download_dir, Some("/from/flag".into()));
    assert_eq!(
        source(&c, "download_dir"),
        ("/from/flag".into(), Source::Flag)
    );
    assert_eq!(source(&c, "max_get"), ((5u64 << 20).into(), Source::Flag));
    assert_eq!(source(&c, "auto_get").1, Source::File);
    // `--auto-get 0` turns off what the file turned on: a flag of 0 is still a flag.
    let c = resolve(&path, Env::default(), &["--auto-get", "0", "open"]).unwrap();
    assert_eq!(c.files.auto_get, 0);

    // `~/` in the file is the home directory (no shell expands it there).
    let path = file(
        "sharing-home",
        "download_dir = \"~/dl\"\ndata_dir = \"~/pd\"\n",
    );
    let c = resolve(&path, Env::default(), &["config"]).unwrap();
    if let Some(home) = directories::UserDirs::new().map(|u| u.home_dir().to_path_buf()) {
        assert_eq!(c.files.download_dir, Some(home.join("dl")));
        assert_eq!(source(&c, "data_dir").0, serde_json::json!(home.join("pd")));
    }

    // Without either, the defaults; the report names the directory the default means.
    let path = file("sharing-none", "");
    let c = resolve(&path, Env::default(), &["config"]).unwrap();
    assert_eq!(c.files, FileSettings::default());
    let default_dir = crate::store::downloads::default_download_dir();
    let shown = serde_json::to_value(default_dir).unwrap();
    assert_eq!(source(&c, "download_dir"), (shown, Source::Default));
    let max = (DEFAULT_MAX_GET.into(), Source::Default);
    assert_eq!(source(&c, "max_get"), max);
    assert_eq!(source(&c, "auto_get"), (0.into(), Source::Default));

    // A bad flag names the flag, not the file.
    let err = resolve(&path, Env::default(), &["--max-get", "lots", "open"])
        .expect_err("refused")
        .to_string();
    assert!(err.starts_with("invalid --max-get: give a size"), "{err}");
}

#[test]
fn no_color_turns_colour_off() {
    let path = file("nocolor", "theme = \"mono\"\n");
    let env = Env {
        no_color: true,
        ..Env::default()
    };
    let c = resolve(&path, env, &["config"]).unwrap();
    assert!(!c.ui.color);
    assert_eq!(c.ui.theme, Theme::Mono);
    assert_eq!(source(&c, "color"), (false.into(), Source::Env));
    assert!(resolve(&path, Env::default(), &["open"]).unwrap().ui.color);
}

#[test]
fn bad_values_name_the_file_line_and_key() {
    for (text, expect) in [
        (
            "bell = true\ntime_format = \"%Q\"\n",
            ":2: time_format = \"%Q\": not a strftime",
        ),
        ("time_format = \"%H:%M %z %\"\n", ":1: time_format"),
        (
            "\n\nhistory_days = -1\n",
            ":3: history_days = -1: give a number of days",
        ),
        ("max_rate = 0\n", ":1: max_rate = 0: give"),
        ("join_timeout = 1e9\n", ":1: join_timeout = 1e9: give"),
        (
            "relays = [\"not a url\"]\n",
            ":1: relays = [\"not a url\"]: give relay URLs",
        ),
        ("name = \"###\"\n", ":1: name = \"###\": nothing is left"),
        ("theme = \"neon\"\n", ":1: theme: unknown variant `neon`"),
        ("colour = true\n", ":1: unknown field `colour`"),
        ("bell = [\n", ":1:"),
        (
            "\nmax_get = \"lots\"\n",
            ":2: max_get = \"lots\": give a size such as",
        ),
        ("auto_get = -1\n", ":1: auto_get = -1: give a size"),
        (
            "auto_get_at_once = 0\n",
            ":1: auto_get_at_once = 0: give a number from 1",
        ),
        (
            "auto_get_per_day = \"x\"\n",
            ":1: auto_get_per_day = \"x\": give a size",
        ),
        ("auto_get = \"1X\"\n", ":1: auto_get = \"1X\": give a size"),
        ("max_get = true\n", ":1: max_get: invalid type: boolean"),
        ("max_get = 1.5\n", ":1: max_get: invalid type"),
        (
            "notify = \"command\"\n",
            ":1: notify = \"command\": \"command\" needs notify_command",
        ),
        ("notify = \"loud\"\n", ":1: notify: unknown variant `loud`"),
        (
            "highlights = [\"\"]\n",
            ":1: highlights = [\"\"]: give at most 64 words",
        ),
        ("highlights = \"deploy\"\n", ":1: highlights: invalid type"),
    ] {
        let path = file("bad", text);
        let err = resolve(&path, Env::default(), &["open"])
            .expect_err(text)
            .to_string();
        let want = format!("{}{expect}", path.display());
        assert!(err.starts_with(&want), "{text:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn docs_need_no_valid_config_file() {
    let path = file("docs", "this is not toml\n");
    for (args, docs) in [
        (&["man"][..], Docs::Man),
        (&["config", "--example"], Docs::Example),
        (
            &["completions", "zsh"],
            Docs::Completions(clap_complete::Shell::Zsh),
        ),
    ] {
        let c = resolve(&path, Env::default(), args).unwrap();
        assert!(matches!(c.task, Task::Docs(d) if d == docs), "{args:?}");
    }
    assert!(resolve(&path, Env::default(), &["config"]).is_err());
}

#[test]
fn a_raised_line_rate_raises_the_bytes_of_lines_in_proportion() {
    let default = rate_limits(crate::proto::limits::DEFAULT_MESSAGES_PER_SECOND);
    assert_eq!(default, RateLimits::default());
    // A slower rate keeps the default bytes (they only ever grow with the rate).
    assert_eq!(rate_limits(5.0).bytes, RateLimits::default().bytes);
    // 16,000 lines a second of ~250 bytes: 4 MB a second must pass.
    let fast = rate_limits(16_000.0);
    assert!(
        fast.bytes.per_second >= 16_000.0 * 250.0,
        "{:?}",
        fast.bytes
    );
    assert_eq!(
        fast.bytes.per_second,
        800.0 * RateLimits::default().bytes.per_second
    );
    // The bench's "no limit" stays finite and whole.
    assert_eq!(rate_limits(1_000_000.0).bytes.burst, u32::MAX);
}

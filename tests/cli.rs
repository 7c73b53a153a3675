//! The real binary's setup commands: `parlor config` over a config file of the test's own
//! (never the user's: `PARLOR_CONFIG` and `XDG_CONFIG_HOME` point into a temp directory),
//! shell completions, the man page, and a bad config file refused in one line with exit 2.

#[path = "support/test_dir.rs"]
mod test_dir;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A fresh directory for one test.
fn temp_dir(test: &str) -> PathBuf {
    test_dir::fresh(&format!("cli-{test}"))
}

/// Run parlor with `config` as its config file and no other environment that matters.
fn parlor(dir: &std::path::Path, config: Option<&str>, args: &[&str]) -> Output {
    command(dir, config, args).output().unwrap()
}

/// The command `parlor` runs.
fn command(dir: &std::path::Path, config: Option<&str>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parlor"));
    command
        .args(args)
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .env_remove("PARLOR_DATA_DIR")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    match config {
        Some(text) => {
            let path = dir.join("config.toml");
            std::fs::write(&path, text).unwrap();
            command.env("PARLOR_CONFIG", path);
        }
        None => {
            command.env_remove("PARLOR_CONFIG");
        }
    }
    command
}

fn stdout(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn config_shows_file_values_and_their_sources() {
    let dir = temp_dir("show");
    let file = "name = \"kim\"\ntheme = \"light\"\nhistory_limit = 50\n";
    let text = stdout(&parlor(&dir, Some(file), &["config", "--max-rate", "3"]));
    let path = dir.join("config.toml");
    assert!(
        text.starts_with(&format!("config file: {}\n", path.display())),
        "{text}"
    );
    for (key, value, source) in [
        ("name", "kim", "file"),
        ("theme", "light", "file"),
        ("history_limit", "50", "file"),
        ("max_rate", "3.0", "flag"),
        ("bell", "true", "default"),
    ] {
        let line = text.lines().find(|l| l.starts_with(key)).expect(key);
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words, [key, value, source], "{line}");
    }

    let json = stdout(&parlor(&dir, Some(file), &["config", "--json"]));
    let object: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(object["exists"], true);
    assert_eq!(object["settings"]["name"]["value"], "kim");
    assert_eq!(object["settings"]["name"]["source"], "file");
    assert_eq!(object["settings"]["join_timeout"]["source"], "default");

    // No file at the default path (in the test's XDG_CONFIG_HOME): fine, and said.
    let text = stdout(&parlor(&dir, None, &["config"]));
    let default = dir.join("xdg").join("parlor").join("config.toml");
    assert!(
        text.starts_with(&format!("config file: {} (not found)", default.display())),
        "{text}"
    );
}

#[test]
fn config_shows_the_file_sharing_keys() {
    let dir = temp_dir("sharing");
    let file = "download_dir = \"/srv/parlor\"\nmax_get = \"2G\"\nauto_get = 4096\n";
    let json = stdout(&parlor(
        &dir,
        Some(file),
        &["config", "--json", "--auto-get", "1M"],
    ));
    let object: serde_json::Value = serde_json::from_str(&json).unwrap();
    let settings = &object["settings"];
    assert_eq!(settings["download_dir"]["value"], "/srv/parlor");
    assert_eq!(settings["download_dir"]["source"], "file");
    assert_eq!(settings["max_get"]["value"], 2u64 << 30);
    assert_eq!(settings["max_get"]["source"], "file");
    assert_eq!(settings["auto_get"]["value"], 1u64 << 20);
    assert_eq!(settings["auto_get"]["source"], "flag");

    let text = stdout(&parlor(&dir, Some(file), &["config"]));
    let line = text.lines().find(|l| l.starts_with("max_get")).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words, ["max_get", "2147483648", "file"], "{line}");

    let json = stdout(&parlor(&dir, Some(""), &["config", "--json"]));
    let object: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(object["settings"]["max_get"]["value"], 100u64 << 20);
    assert_eq!(object["settings"]["auto_get"]["source"], "default");
}

#[test]
fn config_example_is_the_documented_file() {
    let text = stdout(&parlor(
        &temp_dir("example"),
        None,
        &["config", "--example"],
    ));
    assert_eq!(text, include_str!("../docs/config.example.toml"));
}

#[test]
fn completions_for_each_shell() {
    let dir = temp_dir("completions");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout(&parlor(&dir, None, &["completions", shell]));
        assert!(script.contains("join"), "{shell}: {script}");
    }
    let output = parlor(&dir, None, &["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn man_page_is_roff() {
    let page = stdout(&parlor(&temp_dir("man"), None, &["man"]));
    assert!(
        page.contains(".TH parlor 1") || page.contains(".TH PARLOR 1"),
        "{page}"
    );
    assert!(page.contains(".SH \"PARLOR JOIN\""));
    // What `man parlor` is read for: commands, keys, files, environment, exit status.
    for section in [
        "COMMANDS",
        "KEYS",
        "FILES",
        "ENVIRONMENT",
        "\"EXIT STATUS\"",
    ] {
        assert!(page.contains(&format!("\n.SH {section}\n")), "no {section}");
    }
    for entry in [
        "\\fB/msg NAME TEXT\\fR",
        "\\fBCtrl\\-C\\fR",
        "\\fBPARLOR_DATA_DIR\\fR",
        "\\fBPARLOR_CONFIG\\fR",
        "input_history.json",
        "parlor.db",
    ] {
        assert!(page.contains(entry), "no {entry}");
    }
}

#[test]
fn a_bad_config_file_is_one_line_and_exit_2() {
    let dir = temp_dir("bad");
    for (file, expect) in [
        ("theme = \"neon\"\n", ":1: theme: unknown variant"),
        ("\ntime_format = \"%Q\"\n", ":2: time_format = \"%Q\""),
        ("colour = 1\n", ":1: unknown field `colour`"),
        ("name = \n", ":1:"),
        (
            "\n\nmax_get = \"lots\"\n",
            ":3: max_get = \"lots\": give a size",
        ),
    ] {
        let output = parlor(&dir, Some(file), &["--ephemeral", "--offline", "config"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{file:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
        let path = dir.join("config.toml");
        let want = format!("parlor: {}{expect}", path.display());
        assert!(stderr.starts_with(&want), "{stderr:?}");
        assert!(output.stdout.is_empty());
    }
    // Named but missing is a mistake too (a typo must not silently mean "defaults").
    let output = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args([
            "--config",
            dir.join("nope.toml").to_str().unwrap(),
            "config",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

/// The bug: a ticket with one wrong character joined a room nobody was in and gave up
/// 15 s later. Now the checksum refuses it at once, in one line, before the data directory is
/// opened or any socket bound.
#[test]
fn a_mistyped_ticket_is_refused_at_once() {
    use parlor::proto::ticket::Ticket;
    use parlor::proto::{EndpointAddr, SecretKey, TopicId};

    let dir = temp_dir("mistyped");
    let id = SecretKey::from_bytes(&[4; 32]).public();
    let addr = EndpointAddr::new(id).with_ip_addr("127.0.0.1:9".parse().unwrap());
    let good = Ticket::new(TopicId::from_bytes([8; 32]), vec![addr]).to_string();
    let data = dir.join("data");
    let data_flag = data.to_str().unwrap();
    for at in [0, 1, 64, good.len() - 1] {
        let mut typo = good.clone();
        let with = if &good[at..=at] == "z" { "y" } else { "z" };
        typo.replace_range(at..=at, with);
        for front in [&["join"][..], &["--headless", "join"]] {
            let mut args = vec!["--data-dir", data_flag];
            args.extend_from_slice(front);
            args.push(&typo);
            let started = std::time::Instant::now();
            let output = parlor(&dir, Some(""), &args);
            let elapsed = started.elapsed();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{at} {front:?}: {stderr}");
            assert_eq!(
                stderr,
                "parlor: this ticket is mistyped (a character is wrong or missing): copy it again\n"
            );
            assert!(output.stdout.is_empty());
            assert!(elapsed < std::time::Duration::from_secs(3), "{elapsed:?}");
        }
    }
    assert!(!data.exists(), "refused before the data directory was made");
}

/// The bugs: a regular file given as `--data-dir` said "File exists (os error 17)",
/// and `parlor rooms` on a data directory it could not read said "no rooms yet" with exit 0.
/// Now every command that opens the store says what is wrong with the directory, in one
/// line, with exit 2.
#[test]
fn an_unusable_data_directory_is_one_line_and_exit_2() {
    let dir = temp_dir("unusable");
    let file = dir.join("file");
    std::fs::write(&file, "not a directory").unwrap();
    let db_dir = dir.join("dbdir");
    std::fs::create_dir_all(db_dir.join("parlor.db")).unwrap();
    let db = db_dir.join("parlor.db");
    let cases = [
        (file.clone(), "is not a directory".to_string()),
        (
            file.join("sub"),
            "cannot be read: a part of its path is not a directory".to_string(),
        ),
        (
            db_dir.clone(),
            format!("cannot be used: {} is a directory", db.display()),
        ),
    ];
    for (data, expect) in cases {
        let data_flag = data.to_str().unwrap();
        for what in [&["rooms"][..], &["export", "ops"], &["--headless", "open"]] {
            let mut args = vec!["--offline", "--data-dir", data_flag];
            args.extend_from_slice(what);
            let output = parlor(&dir, Some(""), &args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
            assert_eq!(
                stderr,
                format!("parlor: data directory {} {expect}\n", data.display()),
                "{args:?}"
            );
            assert!(output.stdout.is_empty(), "{args:?}");
        }
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory");
}

/// A data directory its user may not read is refused, not taken for an empty one. Root reads
/// everything, so as root parlor runs as `nobody` here (a real permission check, no stand-in).
#[cfg(unix)]
#[test]
fn an_unreadable_data_directory_is_refused_not_empty() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;

    let dir = temp_dir("unreadable");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = |data: &std::path::Path, what: &[&str]| {
        let mut args = vec!["--offline", "--data-dir", data.to_str().unwrap()];
        args.extend_from_slice(what);
        let mut command = command(&dir, None, &args);
        if rustix::process::geteuid().is_root() {
            command.uid(65534).gid(65534);
        }
        command.output().unwrap()
    };
    // The same user can list a data directory of its own (nothing stored yet).
    let open = dir.join("open");
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o700)).unwrap();
    if rustix::process::geteuid().is_root() {
        let nobody = Some(rustix::process::Uid::from_raw(65534));
        rustix::fs::chown(&open, nobody, None).unwrap();
    }
    let listed = run(&open, &["rooms"]);
    assert_eq!(listed.status.code(), Some(0), "{listed:?}");
    assert!(String::from_utf8_lossy(&listed.stdout).starts_with("no rooms yet"));
    // One another user could have prepared (open to all) is refused, one line, exit 2.
    let shared = dir.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let refused = run(&shared, &["rooms"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(said.trim().lines().count(), 1, "{said}");

    let locked = dir.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    for what in [&["rooms"][..], &["--headless", "open"]] {
        let output = run(&locked, what);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what:?}: {stderr}");
        assert_eq!(
            stderr,
            format!(
                "parlor: data directory {} cannot be read: permission denied\n",
                locked.display()
            )
        );
        assert!(output.stdout.is_empty());
    }
    // Left as it was found: removable by whoever runs the tests.
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// The bug: every subcommand's `--help` repeated some twenty global flags. Now each
/// lists its own arguments and the few global ones that change what it does, and points to
/// `parlor --help` for the rest, which lists them all; the global flags still work anywhere.
#[test]
fn each_subcommand_help_shows_its_own_options() {
    let dir = temp_dir("help");
    let global_note = "see parlor --help";
    for help in ["--help", "-h"] {
        let top = stdout(&parlor(&dir, None, &[help]));
        for flag in [
            "--max-rate",
            "--history-days",
            "--data-dir",
            "--relay-ca",
            "--name",
        ] {
            assert!(top.contains(flag), "parlor {help} lacks {flag}");
        }
        assert!(!top.contains(global_note));
        for (sub, own, absent) in [
            (
                "join",
                &["<TICKET|ROOM>", "--join-timeout", "--label"][..],
                &["--max-rate", "--relay-ca", "--history-days", "--ephemeral"][..],
            ),
            (
                "relay",
                &[
                    "--tls-cert",
                    "--http-bind",
                    "--bind",
                    "--allow",
                    "--rate-limit",
                ],
                &["--max-rate", "--label", "--json"],
            ),
            (
                "export",
                &["<ROOM>", "--format"],
                &["--max-rate", "--headless", "--label"],
            ),
            ("open", &["--label", "--lan"], &["--max-rate", "--auto-get"]),
        ] {
            let text = stdout(&parlor(&dir, None, &[sub, help]));
            for flag in own {
                assert!(
                    text.contains(flag),
                    "parlor {sub} {help} lacks {flag}:\n{text}"
                );
            }
            for flag in absent {
                assert!(
                    !text.contains(flag),
                    "parlor {sub} {help} lists {flag}:\n{text}"
                );
            }
            assert!(text.contains(global_note), "{text}");
        }
    }
    // A global option after the subcommand still counts.
    let text = stdout(&parlor(
        &dir,
        None,
        &["config", "--ephemeral", "--max-rate", "7", "--json"],
    ));
    let object: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(object["settings"]["max_rate"]["value"], 7.0);
    assert_eq!(object["settings"]["max_rate"]["source"], "flag");
}

/// `parlor relay --allow FILE`: a file it cannot use is one line naming the problem (and the
/// line) and exit 2, before anything listens; so is a rate it cannot take.
#[test]
fn a_bad_relay_allow_file_or_rate_is_one_line_and_exit_2() {
    let dir = temp_dir("relay-allow");
    let id = "ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6";
    let file = dir.join("allow.txt");
    let missing = dir.join("missing.txt");
    for (text, args, expect) in [
        (
            Some(format!("# team\n{id}\n\nbob's laptop\n")),
            vec!["--allow", file.to_str().unwrap()],
            "line 4: not an endpoint id: \"bob's laptop\"",
        ),
        (
            Some("# nobody yet\n".to_string()),
            vec!["--allow", file.to_str().unwrap()],
            "names no endpoint id",
        ),
        (
            None,
            vec!["--allow", missing.to_str().unwrap()],
            "cannot read the allow file",
        ),
        (None, vec!["--rate-limit", "fast"], "not a size: \"fast\""),
        (None, vec!["--rate-limit", "5G"], "more than a relay takes"),
    ] {
        if let Some(text) = text {
            std::fs::write(&file, text).unwrap();
        }
        let mut all = vec!["--ephemeral", "relay", "--bind", "127.0.0.1:0"];
        all.extend(args);
        let output = parlor(&dir, None, &all);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{all:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
        assert!(stderr.contains(expect), "{all:?}: {stderr:?}");
        assert!(output.stdout.is_empty(), "{all:?}: it listened");
    }
}

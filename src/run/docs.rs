//! Text for people setting parlor up: `parlor config` (the effective settings), the example
//! config file, shell completions and the man page. Completions and the man page are made from
//! the clap definition, so they cannot drift from what parlor parses.

use std::io::Write;

use crate::config::{Docs, Report};

/// `parlor config`: the file, then one line per setting with its source (`--json`: one
/// object, `{"path", "exists", "settings": {KEY: {"value", "source"}}}`).
pub fn write_report(out: &mut impl Write, report: &Report, json: bool) -> std::io::Result<()> {
    if json {
        let settings: serde_json::Map<String, serde_json::Value> = report
            .settings
            .iter()
            .map(|s| {
                let entry = serde_json::json!({ "value": s.value, "source": s.source });
                (s.key.to_string(), entry)
            })
            .collect();
        let object = serde_json::json!({
            "path": report.path,
            "exists": report.exists,
            "settings": settings,
        });
        return writeln!(out, "{object}");
    }
    match &report.path {
        Some(path) if report.exists => writeln!(out, "config file: {}", path.display())?,
        Some(path) => writeln!(out, "config file: {} (not found)", path.display())?,
        None => writeln!(out, "config file: none (no home directory; use --config)")?,
    }
    for setting in &report.settings {
        // Strings bare, everything else (lists, null) as JSON, which is also TOML-like.
        let value = match &setting.value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        writeln!(out, "{:<14} {:<36} {}", setting.key, value, setting.source)?;
    }
    Ok(())
}

/// Completions, the man page or the example config, to `out`.
pub fn write_docs(out: &mut impl Write, docs: Docs) -> std::io::Result<()> {
    let mut command = crate::cli::command();
    match docs {
        Docs::Example => out.write_all(crate::config::example().as_bytes()),
        Docs::Completions(shell) => {
            // clap_complete panics on a write error (a reader that closed the pipe): write
            // into memory, then out, where that is an error like any other.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "parlor", &mut script);
            out.write_all(&script)
        }
        Docs::Man => write_man(out, command),
    }
}

/// clap_mangen's page (name, synopsis, global options, the list of subcommands), then a
/// section per subcommand with its own arguments, which clap_mangen leaves to separate pages:
/// one page is what `man parlor` finds.
fn write_man(out: &mut impl Write, command: clap::Command) -> std::io::Result<()> {
    use roff::{Roff, bold, italic, roman};
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    let mut roff = Roff::new();
    for sub in command.get_subcommands() {
        roff.control(
            "SH",
            [format!("PARLOR {}", sub.get_name().to_uppercase()).as_str()],
        );
        let usage: Vec<String> = sub
            .get_positionals()
            .map(|arg| format!("<{}>", arg.get_id().as_str().to_uppercase()))
            .collect();
        roff.text([
            bold(format!("parlor {}", sub.get_name())),
            roman(format!(" [OPTIONS] {}", usage.join(" "))),
        ]);
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            roff.control("PP", []).text([roman(about.to_string())]);
        }
        // The global options are in OPTIONS above; a subcommand's copies of them (see
        // `cli::command`) are not its own.
        for arg in sub.get_arguments().filter(|arg| !arg.is_global_set()) {
            let name = match arg.get_long() {
                Some(long) => format!("--{long}"),
                None => arg.get_id().as_str().to_uppercase(),
            };
            let value = arg
                .get_value_names()
                .map(|v| format!(" {}", v.join(" ")))
                .unwrap_or_default();
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_string())
                .collect();
            roff.control("TP", []).text([bold(name), italic(value)]);
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let help = match values.is_empty() {
                true => help,
                false => format!("{help} [possible values: {}]", values.join(", ")),
            };
            roff.text([roman(help)]);
        }
    }
    for (title, entries) in [("COMMANDS", slash_commands()), ("KEYS", keys())] {
        roff.control("SH", [title]);
        if title == "COMMANDS" {
            roff.text([roman(
                "Typed in the terminal UI's input line (headless: on stdin, one per line).",
            )]);
        }
        for (key, text) in entries {
            roff.control("TP", []).text([bold(key)]);
            roff.text([roman(text)]);
        }
    }
    for (title, entries) in [
        ("FILES", files()),
        ("ENVIRONMENT", environment()),
        ("EXIT STATUS", exit_status()),
    ] {
        roff.control("SH", [title]);
        for (key, text) in entries {
            roff.control("TP", []).text([bold(key)]);
            roff.text([roman(text)]);
        }
    }
    out.write_all(roff.to_roff().as_bytes())?;
    man.render_version_section(out)
}

/// The slash commands, as F1 and `/help` list them.
fn slash_commands() -> Vec<(String, String)> {
    let commands = crate::app::command::COMMANDS.iter();
    commands
        .map(|(command, text)| (command.to_string(), text.to_string()))
        .collect()
}

/// The terminal UI's keys, read back from the help overlay's rows (laid out wide enough
/// that each description is one row): the one list F1 shows.
fn keys() -> Vec<(String, String)> {
    use crate::app::help::{HelpRow, help_rows};
    let mut in_keys = false;
    let mut keys: Vec<(String, String)> = Vec::new();
    for row in help_rows(10_000) {
        match row {
            HelpRow::Heading(title) => in_keys = title == "Keys",
            HelpRow::Entry { key, text } if in_keys => {
                let key = key.trim();
                match keys.last_mut() {
                    // A long key has a row of its own, its description on the next.
                    Some((_, last)) if key.is_empty() && last.is_empty() => *last = text,
                    _ => keys.push((key.to_string(), text)),
                }
            }
            _ => {}
        }
    }
    keys
}

fn files() -> Vec<(String, String)> {
    use crate::store::{DATABASE_FILE, recall::RECALL_FILE};
    let data = "$XDG_DATA_HOME/parlor";
    vec![
        (
            "$XDG_CONFIG_HOME/parlor/config.toml".to_string(),
            "Settings (usually ~/.config/parlor/config.toml; another with --config or \
             PARLOR_CONFIG). parlor config shows the path and every effective setting; \
             parlor config --example prints a commented file with every key."
                .to_string(),
        ),
        (
            data.to_string(),
            "The data directory (usually ~/.local/share/parlor; another with --data-dir or \
             PARLOR_DATA_DIR; none with --ephemeral): only its owner may read it. One parlor \
             at a time uses it."
                .to_string(),
        ),
        (
            format!("{data}/{DATABASE_FILE}"),
            "The history database (SQLite): rooms, members, messages, direct messages, \
             ignored keys. It holds every room's topic, which is the capability to join."
                .to_string(),
        ),
        (
            format!("{data}/identity.key"),
            "Your secret key, which is who you are to everyone; created once, never printed."
                .to_string(),
        ),
        (
            format!("{data}/{RECALL_FILE}"),
            "The lines you typed, for Up and Down (bounded).".to_string(),
        ),
        (
            format!("{data}/blobs"),
            "Files you shared or fetched, as they are served to others.".to_string(),
        ),
        (
            "$XDG_DOWNLOAD_DIR/parlor".to_string(),
            "Where fetched files are saved (usually ~/Downloads/parlor; another with \
             --download-dir or download_dir in the config file)."
                .to_string(),
        ),
        (
            "$XDG_STATE_HOME/parlor/parlor.log".to_string(),
            "The terminal UI's log (usually ~/.local/state/parlor/parlor.log); headless \
             logs to stderr."
                .to_string(),
        ),
    ]
}

/// Every variable of the settings' table, and the log filter.
fn environment() -> Vec<(String, String)> {
    use crate::config::registry::{DefaultValue, Flag, SETTINGS};
    let mut vars: Vec<(String, String)> = SETTINGS
        .iter()
        .filter_map(|def| {
            let env = def.env?;
            let like = match def.flag {
                Flag::Value(long) | Flag::Switch(long, _) => format!(" Like {long}."),
                Flag::None => String::new(),
            };
            // A variable names a path: its default is one too (NO_COLOR's is no colour).
            let default = match def.default {
                DefaultValue::Varies { said, .. } => format!(" Default: {said}."),
                _ => String::new(),
            };
            let text = format!("{}.{like}{default}", def.help);
            Some((env.to_string(), text))
        })
        .collect();
    vars.push((
        "RUST_LOG".to_string(),
        "What is logged, as a tracing filter (default: parlor=warn).".to_string(),
    ));
    vars
}

fn exit_status() -> Vec<(String, String)> {
    [
        (
            "0",
            "Success (also when the reader of stdout stops reading, as head does).",
        ),
        (
            "1",
            "A runtime failure: no peer of a ticket answered in time, the network stopped, \
             the store failed, or headless could not carry out a line (one stderr line each).",
        ),
        (
            "2",
            "Bad input or usage: an unknown flag or a bad value, a bad config file, a \
             mistyped ticket, an unknown room, a data directory another parlor is using, or \
             one that cannot be used (not a directory, unreadable).",
        ),
    ]
    .into_iter()
    .map(|(code, text)| (code.to_string(), text.to_string()))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(docs: Docs) -> String {
        let mut out = Vec::new();
        write_docs(&mut out, docs).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn man_page_has_every_subcommand() {
        let page = docs(Docs::Man);
        assert!(
            page.contains(".TH parlor") || page.contains(".TH PARLOR"),
            "{page}"
        );
        for sub in [
            "OPEN",
            "JOIN",
            "RELAY",
            "EXPORT",
            "CONFIG",
            "COMPLETIONS",
            "MAN",
        ] {
            assert!(page.contains(&format!(".SH \"PARLOR {sub}\"")), "no {sub}");
        }
        assert!(
            page.contains("tls\\-cert"),
            "relay's own options are listed"
        );
    }

    /// The bug: the man page had no commands, keys or exit status.
    #[test]
    fn man_page_documents_commands_keys_files_environment_and_exit_status() {
        let page = docs(Docs::Man);
        for section in [
            "COMMANDS",
            "KEYS",
            "FILES",
            "ENVIRONMENT",
            "\"EXIT STATUS\"",
        ] {
            assert!(page.contains(&format!(".SH {section}\n")), "no {section}");
        }
        let commands = slash_commands();
        assert!(commands.len() >= 10);
        for (command, _) in commands {
            let name = command.split_whitespace().next().unwrap();
            assert!(page.contains(&format!("\\fB{name}")), "no {name}");
        }
        let keys = keys();
        assert!(keys.iter().any(|(key, _)| key == "Enter"), "{keys:?}");
        assert!(
            keys.iter()
                .all(|(key, text)| !key.is_empty() && !text.is_empty())
        );
        for (key, _) in keys.iter().take(3) {
            assert!(
                page.contains(&format!("\\fB{}", roff_escaped(key))),
                "no {key}"
            );
        }
        for var in ["PARLOR_CONFIG", "PARLOR_DATA_DIR", "NO_COLOR", "RUST_LOG"] {
            assert!(page.contains(&format!("\\fB{var}")), "no {var}");
        }
        for file in [
            "config.toml",
            "parlor.db",
            "input_history.json",
            "Downloads/parlor",
        ] {
            assert!(page.contains(file), "no {file}");
        }
        let status = &page[page.find(".SH \"EXIT STATUS\"").unwrap()..];
        for code in ["0", "1", "2"] {
            assert!(
                status.contains(&format!(".TP\n\\fB{code}\\fR")),
                "no {code}"
            );
        }
        assert!(status.contains("data directory"));
    }

    /// `text` as roff writes it (its minus signs escaped).
    fn roff_escaped(text: &str) -> String {
        text.replace('-', "\\-")
    }

    #[test]
    fn completions_cover_the_subcommands() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let script = docs(Docs::Completions(shell));
            assert!(
                script.contains("join") && script.contains("completions"),
                "{shell}"
            );
        }
    }
}

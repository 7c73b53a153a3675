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
    roff.control("SH", ["FILES"]);
    roff.text([roman(
        "Settings: config.toml in the XDG config directory (see parlor config; --config, \
         PARLOR_CONFIG). Identity, rooms and history: the XDG data directory (--data-dir, \
         PARLOR_DATA_DIR).",
    )]);
    out.write_all(roff.to_roff().as_bytes())?;
    man.render_version_section(out)
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

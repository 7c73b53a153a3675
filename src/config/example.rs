//! The commented example config file, made from the settings' table: every key commented out
//! with its default (or, where the default depends on the machine, an example value) and what
//! it does. `parlor config --example` prints it; `docs/config.example.toml` and the README
//! carry it (tests keep them equal).

use super::registry::{DefaultValue, Flag, SETTINGS};

const HEADER: &str = "\
# parlor's configuration: ~/.config/parlor/config.toml (the XDG config directory; `parlor
# config` prints the exact path), or the file named by --config PATH or PARLOR_CONFIG.
# Every key is optional; the values shown are the defaults. The command line wins over the
# environment, which wins over this file.
";

/// Comment lines are wrapped to this width.
const WIDTH: usize = 92;

/// The example file.
pub fn example() -> String {
    let mut text = HEADER.to_string();
    for def in SETTINGS.iter().filter(|def| def.in_file) {
        let mut like = Vec::new();
        match def.flag {
            Flag::None => {}
            Flag::Value(long) => like.push(long.to_string()),
            Flag::Switch(long, value) => like.push(format!("{long} for {value}")),
        }
        like.extend(def.env.map(str::to_string));
        let mut about = format!("{}.", def.help);
        if !like.is_empty() {
            about.push_str(&format!(" Like {}.", like.join(" or ")));
        }
        if let DefaultValue::Varies { said, .. } = def.default {
            about.push_str(&format!(" Default: {said}."));
        }
        text.push('\n');
        text.push_str(&comment(&about));
        text.push_str(&format!("# {} = {}\n", def.key, def.default.toml()));
    }
    text
}

/// `words` as `# ` lines of at most `WIDTH` columns.
fn comment(words: &str) -> String {
    let mut lines = Vec::new();
    let mut line = String::from("#");
    for word in words.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > WIDTH {
            lines.push(std::mem::replace(&mut line, String::from("#")));
        }
        line.push(' ');
        line.push_str(word);
    }
    lines.push(line);
    lines.iter().map(|l| format!("{l}\n")).collect()
}

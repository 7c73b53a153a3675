//! Links in lines: `http://` and `https://` URLs (and `www.` ones, taken as https), which the
//! view makes OSC 8 hyperlinks, and `/urls`, the recent ones of the view listed. Nothing is
//! ever fetched: a link is only text the terminal may let the user click.
//!
//! A URL is printable ASCII only, so one from the network can carry nothing a terminal would
//! act on inside an escape sequence (the text is also cleaned before it is laid out); trailing
//! punctuation and an unbalanced closing bracket are left out, as in "see (https://x.org)."

use std::ops::Range;

use super::App;
use super::log::{ChatLog, EntryKind};
use crate::proto::UnixMillis;

/// URLs `/urls` lists at most.
pub const MAX_LISTED: usize = 20;
/// Longer is not a link anyone types: it stays plain text.
pub const MAX_URL_BYTES: usize = 2_048;

/// A character a URL may hold: printable ASCII but quotes, angle brackets, backslash, caret,
/// backtick and braces (which end it, as in `<https://x.org>` or `"https://x.org"`).
fn in_url(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '\\' | '^' | '`' | '{' | '}')
}

/// The byte ranges of the URLs in `text`, in order.
pub fn find_urls(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = next_start(text, from) {
        let len = text[start..]
            .find(|c| !in_url(c))
            .unwrap_or(text.len() - start);
        let end = start + trimmed_len(&text[start..start + len]);
        // Something after the scheme (or `www.`): a host at least.
        let scheme = ["https://", "http://", "www."]
            .iter()
            .find(|s| {
                text[start..]
                    .get(..s.len())
                    .is_some_and(|t| t.eq_ignore_ascii_case(s))
            })
            .map_or(0, |s| s.len());
        if end > start + scheme && end - start <= MAX_URL_BYTES {
            found.push(start..end);
        }
        from = start + len.max(1);
    }
    found
}

/// Where the next URL after byte `from` starts: a scheme or `www.` that begins a word.
fn next_start(text: &str, from: usize) -> Option<usize> {
    let lower = text[from..].to_ascii_lowercase();
    let mut at = 0;
    loop {
        let rest = &lower[at..];
        let hit = ["https://", "http://", "www."]
            .iter()
            .filter_map(|s| rest.find(s))
            .min()?;
        let start = from + at + hit;
        let before = text[..start].chars().next_back();
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '/') {
            return Some(start);
        }
        at += hit + 1;
    }
}

/// `url`'s length without trailing punctuation, nor a closing bracket it did not open.
fn trimmed_len(url: &str) -> usize {
    let mut end = url.len();
    loop {
        let Some(last) = url[..end].chars().next_back() else {
            return end;
        };
        let unbalanced = |open: char, close: char| {
            last == close && url[..end].matches(open).count() < url[..end].matches(close).count()
        };
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '*')
            || unbalanced('(', ')')
            || unbalanced('[', ']')
        {
            end -= 1;
        } else {
            return end;
        }
    }
}

/// What a link opens: `www.` ones over https.
pub fn target(url: &str) -> String {
    if url.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("www.")) {
        format!("https://{url}")
    } else {
        url.to_string()
    }
}

/// A URL said in a view: who said it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaidUrl {
    pub url: String,
    pub by: String,
    pub time: UnixMillis,
}

/// The newest `max` distinct URLs of `log`'s lines, newest first.
pub fn recent_urls(log: &ChatLog, max: usize) -> Vec<SaidUrl> {
    let mut said: Vec<SaidUrl> = Vec::new();
    for entry in log.entries().iter().rev() {
        let EntryKind::Message { author, text, .. } = &entry.kind else {
            continue;
        };
        let mut urls: Vec<&str> = find_urls(text).into_iter().map(|r| &text[r]).collect();
        // The entry's last URL is the newest of it.
        urls.reverse();
        for url in urls {
            if said.len() < max && !said.iter().any(|s| s.url == url) {
                said.push(SaidUrl {
                    url: url.to_string(),
                    by: author.display.clone(),
                    time: entry.time,
                });
            }
        }
        if said.len() >= max {
            break;
        }
    }
    said
}

impl App {
    /// `/urls`: the recent links of this view, numbered, newest first.
    pub(super) fn command_urls(&mut self, now: UnixMillis) {
        let said = recent_urls(&self.view().log, MAX_LISTED);
        if said.is_empty() {
            self.notice(now, "no links here yet".into());
            return;
        }
        self.notice(now, format!("{} recent link(s), newest first:", said.len()));
        for (i, s) in said.iter().enumerate() {
            let time = self.view().log.time.clock(s.time);
            let by = crate::proto::names::sanitize_text(&s.by, false);
            self.notice(now, format!("{:>2}. {} ({by}, {time})", i + 1, s.url));
        }
    }
}

#[cfg(test)]
#[path = "links_tests.rs"]
mod tests;

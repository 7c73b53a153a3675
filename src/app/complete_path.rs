//! Tab completion of the path after `/send `. The app never reads the disk: Tab asks the run
//! layer to list the directory ([`Effect::CompletePath`]), and its answer
//! ([`Msg::PathCompletions`](super::Msg::PathCompletions)) completes the path if that is still
//! what is typed: one candidate whole (a directory with a trailing `/`, so the next Tab goes
//! into it), several up to their longest common start, then each in turn on further Tab
//! presses, as names and commands cycle.

use super::complete::Completion;
use super::editor::Editor;
use super::{App, Effect, Screen};

/// An entry of the directory a path is completed in, as the run layer found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathCandidate {
    /// Its name in the directory.
    pub name: String,
    /// A directory (or a link to one): completed with a trailing `/`.
    pub dir: bool,
}

/// The path typed after `/send ` up to the cursor: where it starts in the text, and itself.
pub fn send_path(editor: &Editor) -> Option<(usize, &str)> {
    let before = &editor.text()[..editor.cursor()];
    let rest = before.strip_prefix("/send")?;
    // `/send` itself, `/sendx` and multi-line text are no path being typed.
    if !rest.starts_with(char::is_whitespace) || rest.contains('\n') {
        return None;
    }
    let path = rest.trim_start();
    Some((before.len() - path.len(), path))
}

/// A typed path as the directory to list and the start of the names wanted in it: `~/Doc`
/// is `~/` and `Doc`, `notes` is `` (the current directory) and `notes`.
pub fn split_path(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(slash) => path.split_at(slash + 1),
        None => ("", path),
    }
}

/// What every one of `candidates` starts with.
fn common_start(candidates: &[String]) -> &str {
    let Some((first, others)) = candidates.split_first() else {
        return "";
    };
    let mut len = first.len();
    for other in others {
        let differs = first[..len]
            .char_indices()
            .zip(other.chars())
            .find(|((_, a), b)| a != b);
        // Equal as far as both go: the shorter one is the common start (its length is a
        // character boundary of `first`, since the characters up to it are the same).
        len = differs.map_or(len.min(other.len()), |((at, _), _)| at);
    }
    &first[..len]
}

impl App {
    /// Tab in a `/send PATH` line: ask for the entries of the path's directory, unless Tab is
    /// cycling through several candidates already. `None`: no path is being typed.
    pub(super) fn complete_path(&mut self) -> Option<Vec<Effect>> {
        let (_, path) = send_path(&self.view().input)?;
        let prefix = path.to_string();
        if self.completion.as_ref().is_some_and(Completion::cycles) {
            return None;
        }
        // A command completed to `/send ` is done: the path comes next.
        self.completion = None;
        Some(vec![Effect::CompletePath { prefix }])
    }

    /// The entries found for `prefix` (see the module's doc).
    pub(super) fn on_path_completions(&mut self, prefix: &str, candidates: Vec<PathCandidate>) {
        if !matches!(self.screen, Screen::Chat) {
            return;
        }
        let Some((start, typed)) = send_path(&self.view().input) else {
            return;
        };
        // Typed on (or switched away) since Tab was pressed: the answer is about another path.
        if typed != prefix {
            return;
        }
        let (dir, _) = split_path(prefix);
        let mut paths: Vec<String> = candidates
            .into_iter()
            .map(|c| format!("{dir}{}{}", c.name, if c.dir { "/" } else { "" }))
            .collect();
        paths.sort();
        paths.dedup();
        let common = common_start(&paths).to_string();
        let Some(mut completion) = Completion::of(start, paths) else {
            return;
        };
        if completion.cycles() && common.len() > prefix.len() {
            self.view_mut().input.replace_before_cursor(start, &common);
        } else {
            completion.apply(&mut self.view_mut().input);
        }
        self.completion = completion.cycles().then_some(completion);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_after_send_and_its_parts() {
        let path =
            |text: &str| send_path(&Editor::with_text(text)).map(|(s, p)| (s, p.to_string()));
        assert_eq!(path("/send ~/Doc"), Some((6, "~/Doc".into())));
        assert_eq!(path("/send   a b"), Some((8, "a b".into())));
        assert_eq!(path("/send "), Some((6, String::new())));
        assert_eq!(path("/send"), None);
        assert_eq!(path("/sender x"), None);
        assert_eq!(path("/send a\nb"), None);
        assert_eq!(path("send x"), None);
        assert_eq!(split_path("~/Doc"), ("~/", "Doc"));
        assert_eq!(split_path("/etc/"), ("/etc/", ""));
        assert_eq!(split_path("notes"), ("", "notes"));
    }

    #[test]
    fn the_common_start_is_whole_characters() {
        let of = |names: &[&str]| {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            common_start(&names).to_string()
        };
        assert_eq!(of(&["report-1.pdf", "report-2.pdf"]), "report-");
        assert_eq!(of(&["café", "cafè"]), "caf");
        assert_eq!(of(&["abc", "ab"]), "ab");
        assert_eq!(of(&["x"]), "x");
        assert_eq!(of(&[]), "");
    }
}

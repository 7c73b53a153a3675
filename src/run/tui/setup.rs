//! What the app takes from the settings and the data directory before the loop starts (name,
//! mouse, times, palette, the input history), and the input history going back to disk as
//! lines are sent: closing the terminal window (SIGHUP) or a crash loses none of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::app::recall::MAX_LINES;
use crate::config::{Config, Data, Theme, UiSettings};
use crate::proto::UnixMillis;
use crate::store::{Store, read_positions, recall};
use crate::ui;
use crate::ui::theme::Palette;

/// Where the input history is kept: beside the database, under its lock; nowhere without a
/// data directory (`--ephemeral`).
pub(super) fn recall_dir(config: &Config, store: Option<&Store>) -> Option<PathBuf> {
    match (&config.data, store) {
        (Data::Dir(dir), Some(_)) => Some(dir.clone()),
        _ => None,
    }
}

/// Apply the settings to `app` and this thread's drawing, and load the input history.
pub(super) fn prepare(app: &mut App, config: &Config, recall_dir: Option<&Path>) {
    app.default_name = config.name.clone();
    app.mouse = config.ui.mouse;
    if let Some(dir) = recall_dir {
        app.set_recall(recall::load_recall(dir, MAX_LINES));
    }
    app.set_time_format(&config.ui.time_format);
    app.set_highlights(&config.ui.highlights);
    app.typing = config.ui.typing;
    ui::theme::set_palette(palette(&config.ui));
    let term = std::env::var("TERM").ok();
    ui::links::set_hyperlinks(ui::links::term_takes_hyperlinks(term.as_deref()));
}

/// Writes what the terminal UI keeps for the next run (the input history, the read
/// positions) whenever it changed: one write at a time on the blocking pool (the loop never
/// waits on the disk), the newest value winning over any not yet written. A failure is only
/// logged: nothing else is lost.
pub(super) struct DiskWriter<T> {
    value: watch::Sender<T>,
    task: JoinHandle<()>,
}

/// How a value is written (`store::recall::save_recall`, ...).
type Save<T> = fn(&Path, &T) -> std::io::Result<()>;

impl<T: Clone + Send + Sync + 'static> DiskWriter<T> {
    /// `kept`: what the file holds now (loaded at start); `what` names it in the log.
    pub(super) fn spawn(dir: PathBuf, kept: T, what: &'static str, save: Save<T>) -> Self {
        let (tx, mut rx) = watch::channel(kept);
        let task = tokio::spawn(async move {
            // Ends once the sender is gone and its last value is written.
            while rx.changed().await.is_ok() {
                let value = rx.borrow_and_update().clone();
                let dir = dir.clone();
                let write = move || save(&dir, &value);
                let failed = match tokio::task::spawn_blocking(write).await {
                    Ok(Ok(())) => continue,
                    Ok(Err(err)) => err.to_string(),
                    Err(err) => err.to_string(),
                };
                tracing::warn!("cannot keep {what}: {failed}");
            }
        });
        Self { value: tx, task }
    }

    /// Write `value()` if `changed` says the kept one differs.
    pub(super) fn update_if(&self, changed: impl FnOnce(&T) -> bool, value: impl FnOnce() -> T) {
        self.value.send_if_modified(|kept| {
            let changed = changed(kept);
            if changed {
                *kept = value();
            }
            changed
        });
    }

    /// Wait for the last write.
    pub(super) async fn finish(self) {
        drop(self.value);
        let _ = self.task.await;
    }
}

/// The input history's writer.
pub(super) type RecallWriter = DiskWriter<Vec<String>>;

impl RecallWriter {
    pub(super) fn recall(dir: PathBuf, lines: &[String]) -> Self {
        let save: Save<Vec<String>> = |dir, lines| recall::save_recall(dir, lines, MAX_LINES);
        Self::spawn(dir, lines.to_vec(), "the input history", save)
    }

    /// Write `lines` if a line was added since the last time (a push changes the last line).
    pub(super) fn update(&self, lines: &[String]) {
        let added = |kept: &Vec<String>| kept.len() != lines.len() || kept.last() != lines.last();
        self.update_if(added, || lines.to_vec());
    }
}

/// Where each view was left off (see `app::read`), as the file keeps them.
pub(super) type Positions = HashMap<String, u64>;

/// The read positions' writer, started with what the last run left (given to `app` too).
pub(super) fn read_positions(app: &mut App, dir: PathBuf) -> DiskWriter<Positions> {
    let kept = read_positions::load_read_positions(&dir);
    let times = kept.iter().map(|(k, t)| (k.clone(), UnixMillis(*t)));
    app.set_read_positions(times.collect());
    DiskWriter::spawn(dir, kept, "the read positions", |dir, positions| {
        read_positions::save_read_positions(dir, positions)
    })
}

/// Keep where each view of `app` was left off, if that changed.
pub(super) fn keep_read_positions(writer: &DiskWriter<Positions>, app: &App) {
    let positions: Positions = app
        .read_positions()
        .into_iter()
        .map(|(k, t)| (k, t.0))
        .collect();
    writer.update_if(|kept| *kept != positions, || positions.clone());
}

/// The palette the settings ask for: none at all with `NO_COLOR`.
fn palette(settings: &UiSettings) -> Palette {
    match (settings.color, settings.theme) {
        (false, _) | (_, Theme::Mono) => Palette::Mono,
        (true, Theme::Light) => Palette::Light,
        (true, Theme::Dark) => Palette::Dark,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(dir: &Path) -> Vec<String> {
        recall::load_recall(dir, MAX_LINES)
    }

    #[tokio::test]
    async fn each_line_is_written_as_it_is_added_and_the_last_before_finishing() {
        let dir = crate::test_dir::fresh("recall-writer");
        let lines = |n: usize| -> Vec<String> { (0..n).map(|i| format!("line {i}")).collect() };
        let writer = RecallWriter::recall(dir.clone(), &lines(1));
        // Nothing added: nothing written.
        writer.update(&lines(1));
        writer.update(&lines(2));
        // Written without waiting for the end (as before a SIGHUP).
        let started = std::time::Instant::now();
        while kept(&dir) != lines(2) {
            assert!(started.elapsed() < std::time::Duration::from_secs(10));
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        writer.update(&lines(3));
        writer.finish().await;
        assert_eq!(kept(&dir), lines(3));
        let _ = std::fs::remove_dir_all(dir);
    }
}

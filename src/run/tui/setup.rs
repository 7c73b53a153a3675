//! What the app takes from the settings and the data directory before the loop starts (name,
//! mouse, times, palette, the input history), and the input history going back to disk as
//! lines are sent: closing the terminal window (SIGHUP) or a crash loses none of it.

use std::path::{Path, PathBuf};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::app::recall::MAX_LINES;
use crate::config::{Config, Data, Theme, UiSettings};
use crate::store::{Store, recall};
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
    ui::theme::set_palette(palette(&config.ui));
}

/// Writes the input history for the next run whenever a line was added: one write at a time
/// on the blocking pool (the loop never waits on the disk), the newest lines winning over any
/// not yet written. A failure is only logged: nothing else is lost.
pub(super) struct RecallWriter {
    lines: watch::Sender<Vec<String>>,
    task: JoinHandle<()>,
}

impl RecallWriter {
    /// `lines`: what the file holds now (loaded at start).
    pub(super) fn spawn(dir: PathBuf, lines: &[String]) -> Self {
        let (tx, mut rx) = watch::channel(lines.to_vec());
        let task = tokio::spawn(async move {
            // Ends once the sender is gone and its last value is written.
            while rx.changed().await.is_ok() {
                let lines = rx.borrow_and_update().clone();
                let dir = dir.clone();
                let write = move || recall::save_recall(&dir, &lines, MAX_LINES);
                let failed = match tokio::task::spawn_blocking(write).await {
                    Ok(Ok(())) => continue,
                    Ok(Err(err)) => err.to_string(),
                    Err(err) => err.to_string(),
                };
                tracing::warn!("cannot keep the input history: {failed}");
            }
        });
        Self { lines: tx, task }
    }

    /// Write `lines` if a line was added since the last time (a push changes the last line).
    pub(super) fn update(&self, lines: &[String]) {
        self.lines.send_if_modified(|kept| {
            let added = kept.len() != lines.len() || kept.last() != lines.last();
            if added {
                *kept = lines.to_vec();
            }
            added
        });
    }

    /// Wait for the last write.
    pub(super) async fn finish(self) {
        drop(self.lines);
        let _ = self.task.await;
    }
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
        let dir = std::env::temp_dir().join(format!(
            "parlor-recall-writer-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let lines = |n: usize| -> Vec<String> { (0..n).map(|i| format!("line {i}")).collect() };
        let writer = RecallWriter::spawn(dir.clone(), &lines(1));
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

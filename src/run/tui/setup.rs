//! What the app takes from the settings and the data directory before the loop starts (name,
//! mouse, times, palette, the input history), and what goes back to disk after it ends.

use std::path::{Path, PathBuf};

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

/// Keep the input history for the next run (a failure is only logged: nothing else is lost).
pub(super) fn save_recall(app: &App, recall_dir: Option<&Path>) {
    if let Some(dir) = recall_dir
        && let Err(err) = recall::save_recall(dir, app.recall_lines(), MAX_LINES)
    {
        tracing::warn!("cannot keep the input history in {}: {err}", dir.display());
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

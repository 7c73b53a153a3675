//! Wiring: command line -> config -> store -> a front end (terminal UI or headless) holding a
//! session's handle, on a tokio runtime, with signals, logging and exit codes. No chat logic
//! lives here.

mod docs;
mod headless;
mod lan;
mod listing;
mod paths;
mod readiness;
mod stdin;
mod stdout;
mod terminal;
mod tui;

use std::process::ExitCode;

use crate::config::{Config, Data, Start, Task};
use crate::store::Store;

pub use crate::front::start::spec_of;
pub use headless::{NotAllDone, run_headless};
pub use tui::run_tui;

/// How long exiting waits for stdout's reader to take the last lines.
const STDOUT_DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The whole program. Exit codes: 0 ok, 1 runtime failure, 2 bad input (also a data
/// directory that cannot be used).
pub fn main() -> ExitCode {
    // Everything parlor creates is its user's alone (files it opens itself also ask for 0600).
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_bits_truncate(0o077));
    let cli = match crate::cli::parse() {
        Ok(cli) => cli,
        Err((0, text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err((code, text)) => return fail(code, &text),
    };
    let mut config = match Config::from_cli(cli) {
        Ok(config) => config,
        Err(err) => return fail(2, &err.to_string()),
    };
    match config.task.clone() {
        Task::Rooms => return list_rooms(&config),
        Task::Export { room, format } => return export(&config, &room, format),
        Task::Nearby => return lan::nearby(&config),
        Task::Relay(options) => return lan::relay(options),
        Task::ShowConfig(report) => {
            return written(docs::write_report(
                &mut std::io::stdout().lock(),
                &report,
                config.json,
            ));
        }
        Task::Docs(what) => return written(docs::write_docs(&mut std::io::stdout().lock(), what)),
        Task::Chat(_) => {}
    }
    let store = match open_store(&mut config) {
        Ok(store) => store,
        Err((code, message)) => return fail(code, &message),
    };
    init_logging(config.headless);
    // The store thread hears of our saves when this thread goes idle, not mid-line (see
    // `store::wake`); what is still held when the runtime returns goes as the guard drops.
    let _defer = crate::store::defer_store_wakeups();
    // One thread does it all: a chat client's work is small, and staying on one core avoids
    // cross-thread wake-ups (lower latency, CPU and memory than a worker pool; see the
    // README's Performance section).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(crate::store::wake_store_thread)
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(1, &format!("cannot start the async runtime: {err}")),
    };
    let result = if config.headless {
        let (writer, writer_thread) = stdout::spawn(std::io::stdout());
        // Registered with this runtime's reactor, so made inside it.
        let input = {
            let _inside = runtime.enter();
            stdin::stdin()
        };
        let result = run_front(
            &runtime,
            run_headless(config, store, input, writer, shutdown_signal()),
        );
        // Every line reaches stdout before we exit, unless the reader stopped reading: then
        // exit anyway after a while (a signal must still end parlor).
        stdout::finish(writer_thread, STDOUT_DRAIN_LIMIT);
        result
    } else {
        run_front(&runtime, run_tui(config, store, shutdown_signal()))
    };
    // A blocking read of stdin (one that cannot be polled) may still be pending: do not wait
    // for it.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Naming a room that is nowhere is bad input, as an unknown label was before.
        Err(err) if err.is::<crate::front::start::NoSuchRoom>() => fail(2, &format!("{err:#}")),
        // One line for each thing headless could not do.
        Err(err) if err.is::<headless::NotAllDone>() => {
            for line in format!("{err}").lines() {
                eprintln!("parlor: {line}");
            }
            ExitCode::from(1)
        }
        Err(err) => fail(1, &format!("{err:#}")),
    }
}

/// Run a front end to its end as a task of `runtime`, not as `block_on`'s own future: the
/// runtime polls that future only once its queue of tasks is empty and it has been through the
/// driver (one more `epoll_wait` before each line reached stdout), where a task woken on the
/// runtime's thread takes its turn with the others.
fn run_front(
    runtime: &tokio::runtime::Runtime,
    front: impl Future<Output = anyhow::Result<()>> + Send + 'static,
) -> anyhow::Result<()> {
    runtime.block_on(async {
        match tokio::spawn(front).await {
            Ok(result) => result,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => Err(anyhow::anyhow!("the front end stopped: {err}")),
        }
    })
}

/// Open the data directory (unless ephemeral): identity, last name, and `join ROOM` lookup.
fn open_store(config: &mut Config) -> Result<Option<Store>, (u8, String)> {
    let Data::Dir(dir) = &config.data else {
        return Ok(None);
    };
    let mut store = Store::open(dir).map_err(|e| (store_exit_code(&e), e.to_string()))?;
    store.set_room_budget(config.history_max);
    config.net.secret = store.secret_key().map_err(|e| (1, e.to_string()))?;
    if !config.name_given
        && !config.name_configured
        && let Some(name) = store.setting("last_name")
    {
        config.name = name;
    }
    let starts = std::mem::replace(&mut config.task, Task::Chat(Vec::new()));
    let Task::Chat(starts) = starts else {
        config.task = starts;
        return Ok(Some(store));
    };
    let mut resolved = Vec::with_capacity(starts.len());
    for start in starts {
        resolved.push(match start {
            Start::Known(query) => crate::front::start::known_room(&store, query, config.net.lan)?,
            start => start,
        });
    }
    config.task = Task::Chat(resolved);
    Ok(Some(store))
}

fn reader(config: &Config) -> Result<Option<Store>, ExitCode> {
    match &config.data {
        Data::Ephemeral => Ok(None),
        Data::Dir(dir) => {
            Store::open_reader(dir).map_err(|e| fail(store_exit_code(&e), &e.to_string()))
        }
    }
}

/// A data directory its user must fix (another parlor on it, not a directory, unreadable) is
/// a usage mistake, exit 2; anything else the store meets is a failure, exit 1.
fn store_exit_code(err: &crate::store::StoreError) -> u8 {
    use crate::store::StoreError;
    match err {
        StoreError::InUse(_) | StoreError::DataDir { .. } => 2,
        _ => 1,
    }
}

fn list_rooms(config: &Config) -> ExitCode {
    let store = match reader(config) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let rooms = match store.map(|s| s.rooms()).transpose() {
        Ok(rooms) => rooms.unwrap_or_default(),
        Err(err) => return fail(1, &err.to_string()),
    };
    let mut out = std::io::stdout().lock();
    written(listing::write_rooms(
        &mut out,
        &rooms,
        config.json,
        &listing::local_offset(),
    ))
}

fn export(config: &Config, room: &str, format: crate::cli::ExportFormat) -> ExitCode {
    let store = match reader(config) {
        Ok(Some(store)) => store,
        Ok(None) => return fail(2, &format!("no known room {room:?}: nothing is stored yet")),
        Err(code) => return code,
    };
    let found = match store.find_room(room) {
        Ok(Ok(found)) => found,
        Ok(Err(err)) => return fail(2, &err.to_string()),
        Err(err) => return fail(1, &err.to_string()),
    };
    let messages = match store.export(found.topic) {
        Ok(messages) => messages,
        Err(err) => return fail(1, &err.to_string()),
    };
    let mut out = std::io::stdout().lock();
    written(listing::write_export(
        &mut out,
        &messages,
        format,
        &listing::local_offset(),
    ))
}

/// The exit code after writing to stdout. A reader that stopped reading (`parlor export ROOM
/// | head`, `parlor man | head`) took what it wanted: that ends quietly, with success; any
/// other write error is a failure, said once.
fn written(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => fail(1, &format!("cannot write: {err}")),
    }
}

pub(crate) fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("parlor: {message}");
    ExitCode::from(code)
}

/// Logs: parlor's own warnings unless `RUST_LOG` says otherwise. Headless, they go to stderr
/// (stdout is for events); with the terminal UI, to the log file, never onto the screen.
fn init_logging(headless: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("parlor=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if headless {
        let _ = builder.with_writer(std::io::stderr).try_init();
    } else if let Some(Ok(file)) = crate::store::log_path().map(|p| crate::store::open_log(&p)) {
        let _ = builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod written_tests {
    use super::*;

    #[test]
    fn a_closed_pipe_ends_quietly_and_other_write_errors_fail() {
        let closed = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(written(Err(closed)), ExitCode::SUCCESS);
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(written(Err(full)), ExitCode::from(1));
    }
}

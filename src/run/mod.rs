//! Wiring: command line -> config -> a session on a tokio runtime, with signals, logging and
//! exit codes. No chat logic lives here.

mod headless;
mod session;
mod terminal;
mod tui;

use std::process::ExitCode;

use crate::config::Config;

pub use headless::run_headless;
pub use session::{NoPeerAnswered, Session};
pub use tui::run_tui;

/// The whole program. Exit codes: 0 ok, 1 runtime failure, 2 bad input.
pub fn main() -> ExitCode {
    let cli = match crate::cli::parse() {
        Ok(cli) => cli,
        Err((0, text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err((code, text)) => return fail(code, &text),
    };
    let config = match Config::from_cli(cli) {
        Ok(config) => config,
        Err(err) => return fail(2, &err.to_string()),
    };
    init_logging(config.headless);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return fail(1, &format!("cannot start the async runtime: {err}")),
    };
    let result = if config.headless {
        runtime.block_on(run_headless(
            config,
            tokio::io::stdin(),
            tokio::io::stdout(),
            shutdown_signal(),
        ))
    } else {
        runtime.block_on(run_tui(config, shutdown_signal()))
    };
    // A blocking read of stdin may still be pending: do not wait for it.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(1, &format!("{err:#}")),
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
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
    } else if let Ok(file) = crate::store::open_log(&crate::store::log_path()) {
        let _ = builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
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

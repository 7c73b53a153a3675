//! The real terminal UI inside a lab host: `parlor` in a pseudo-terminal run with
//! `ip netns exec`, its screen read back through a terminal emulator (`vt100`).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty};

use super::topology::Lab;
use crate::support::parlor::BIN;

const WAIT: Duration = Duration::from_secs(30);

pub struct Tty {
    name: String,
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
}

impl Lab {
    /// The terminal UI on `host` (its data directory, `--offline`, `--name` the host's)
    /// with `args`, in a 100x30 terminal.
    pub fn tui(&self, host: &str, args: &[&str]) -> Tty {
        let h = self.host(host);
        let (cols, rows) = (100, 30);
        let pty = crate::pty::open(cols, rows);
        let mut command = CommandBuilder::new("ip");
        command.args(["netns", "exec", &h.ns, BIN, "--offline", "--name", &h.name]);
        command.arg("--data-dir");
        command.arg(&h.data_dir);
        command.args(args);
        command.env("TERM", "xterm-256color");
        command.env("PARLOR_CONFIG", "/dev/null");
        // The UI's log file goes to the lab's scratch space, not the user's state directory.
        command.env("XDG_STATE_HOME", h.data_dir.join("state"));
        let child = pty.slave.spawn_command(command).expect("spawn parlor");
        drop(pty.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            nonzero(rows),
            nonzero(cols),
            0,
        )));
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let sink = parser.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                sink.lock().unwrap().process(&buf[..n]);
            }
        });
        Tty {
            name: host.to_string(),
            parser,
            writer: pty.master.take_writer().expect("pty writer"),
            child,
            _master: pty.master,
        }
    }
}

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("a terminal has rows and columns")
}

impl Tty {
    pub fn contents(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Wait until the screen shows `what`; how long it took.
    pub async fn wait_for(&self, what: &str) -> Duration {
        let started = Instant::now();
        while started.elapsed() < WAIT {
            if self.contents().contains(what) {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "{}: {what:?} not on screen:\n{}",
            self.name,
            self.contents()
        );
    }

    pub fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("type");
        self.writer.flush().expect("flush the pty");
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

//! End to end: two real `parlor` binaries in pseudo-terminals, driven by keystrokes and read
//! back through a terminal emulator (`vt100`). Loopback only (`--offline --bind 127.0.0.1:0`).

#[path = "common/pty.rs"]
mod pty;
#[path = "support/test_dir.rs"]
mod test_dir;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use data_encoding::BASE64;
use portable_pty::{Child, CommandBuilder};

const WAIT: Duration = Duration::from_secs(20);

struct Screen {
    parser: vt100::Parser,
    /// Everything the program wrote, escape sequences included.
    raw: Vec<u8>,
}

struct Term {
    name: &'static str,
    screen: Arc<Mutex<Screen>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    // Keeps the pty open while the test runs.
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Term {
    fn spawn(name: &'static str, args: &[&str], cols: u16, rows: u16) -> Self {
        Self::spawn_with(name, None, args, cols, rows)
    }

    /// `data`: keep identity, rooms and history there (else `--ephemeral`).
    fn spawn_with(
        name: &'static str,
        data: Option<&std::path::Path>,
        args: &[&str],
        cols: u16,
        rows: u16,
    ) -> Self {
        let pty = pty::open(cols, rows);
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_parlor"));
        // Never the developer's own settings.
        command.env("PARLOR_CONFIG", "/dev/null");
        command.args(["--offline", "--bind", "127.0.0.1:0", "--name", name]);
        match data {
            Some(dir) => command.args([std::ffi::OsStr::new("--data-dir"), dir.as_os_str()]),
            None => command.arg("--ephemeral"),
        }
        command.args(args);
        command.env("TERM", "xterm-256color");
        // Logs of the UI go to a file: keep them out of the user's state directory.
        command.env("XDG_STATE_HOME", test_dir::fresh("tui-state"));
        let child = pty.slave.spawn_command(command).expect("spawn parlor");
        drop(pty.slave);
        let screen = Arc::new(Mutex::new(Screen {
            parser: vt100::Parser::new(nonzero(rows), nonzero(cols), 0),
            raw: Vec::new(),
        }));
        let mut reader = pty.master.try_clone_reader().unwrap();
        let sink = screen.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut screen = sink.lock().unwrap();
                screen.parser.process(&buf[..n]);
                screen.raw.extend_from_slice(&buf[..n]);
            }
        });
        let writer = pty.master.take_writer().unwrap();
        Self {
            name,
            screen,
            writer,
            child,
            _master: pty.master,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().parser.screen().contents()
    }

    fn raw(&self) -> Vec<u8> {
        self.screen.lock().unwrap().raw.clone()
    }

    fn wait_for(&self, what: &str) {
        self.wait_until(what, true);
    }

    /// Wait until `what` has left the screen (after it was seen there).
    fn wait_until_gone(&self, what: &str) {
        self.wait_until(what, false);
    }

    /// Wait until `what` is on screen (`shown`) or not.
    fn wait_until(&self, what: &str, shown: bool) {
        let started = Instant::now();
        while started.elapsed() < WAIT {
            if self.contents().contains(what) == shown {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let state = if shown {
            "not on screen"
        } else {
            "still on screen"
        };
        panic!("{}: {what:?} {state}:\n{}", self.name, self.contents());
    }

    /// Wait until the read marker's row is right above the first row holding `line`.
    fn wait_until_marked_above(&self, line: &str) {
        let started = Instant::now();
        loop {
            let contents = self.contents();
            let rows: Vec<&str> = contents.lines().collect();
            let at = rows.iter().position(|row| row.contains(line));
            if at.is_some_and(|i| i > 0 && rows[i - 1].contains("── new ──")) {
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "{}: no marker above {line:?}:\n{contents}",
                self.name
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Type a line and press Enter.
    fn line(&mut self, text: &str) {
        self.keys(text);
        self.keys("\r");
    }

    fn exit_code(&mut self) -> u32 {
        let started = Instant::now();
        while started.elapsed() < WAIT {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.exit_code();
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("{} did not exit:\n{}", self.name, self.contents());
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The text of the first OSC 52 clipboard sequence in `raw`.
fn copied(raw: &[u8]) -> Option<String> {
    let raw = String::from_utf8_lossy(raw);
    let start = raw.find("\x1b]52;c;")? + "\x1b]52;c;".len();
    let end = start + raw[start..].find('\x07')?;
    let bytes = BASE64.decode(raw[start..end].as_bytes()).ok()?;
    String::from_utf8(bytes).ok()
}

#[test]
fn two_terminals_chat() {
    let mut ann = Term::spawn("ann", &["open"], 100, 30);
    ann.wait_for("Others join with:");
    // The ticket is on screen in full; Ctrl-Y also copies it with OSC 52.
    ann.keys("\x19");
    ann.wait_for("copy sent");
    let ticket = copied(&ann.raw()).expect("an OSC 52 copy of the ticket");
    let on_screen: String = ann
        .contents()
        .split_whitespace()
        .collect::<Vec<_>>()
        .concat();
    assert!(on_screen.contains(&ticket[..30]), "ticket start on screen");
    ann.keys("\x1b");

    let mut bob = Term::spawn("bob", &["join", &ticket], 80, 24);
    bob.wait_for("ann joined");
    ann.wait_for("bob joined");
    ann.wait_for("2 here");

    bob.line("hello from bob");
    ann.wait_for("bob: hello from bob");
    ann.line("hi bob, 日本語 👍");
    bob.wait_for("ann: hi bob, 日本語 👍");
    bob.line("/me waves");
    ann.wait_for("* bob waves");
    // An unknown command is a local hint, never a message.
    bob.line("/frobnicate");
    bob.wait_for("unknown command /frobnicate");
    assert!(!ann.contents().contains("frobnicate"));

    // /quit leaves the room, restores the terminal and exits 0.
    bob.keys("\x15"); // Ctrl-U clears the kept line
    bob.line("/quit");
    assert_eq!(bob.exit_code(), 0);
    let raw = String::from_utf8_lossy(&bob.raw()).into_owned();
    assert!(raw.contains("\x1b[?1049l"), "left the alternate screen");
    assert!(raw.contains("\x1b[?1000l"), "mouse capture off");
    assert!(raw.contains("\x1b[?2004l"), "bracketed paste off");
    assert!(raw.contains("\x1b[?1004h"), "focus reporting was on");
    assert!(raw.contains("\x1b[?1004l"), "focus reporting off");
    ann.wait_for("bob left");

    ann.keys("\x03"); // Ctrl-C with nothing typed quits at once
    assert_eq!(ann.exit_code(), 0);
}

/// Replies, reactions, edits, deletes and typing between two real terminals: a line picked
/// with Ctrl-O, then `+ 1`, `r`, `e`, `d y`; each shows on the other screen.
#[test]
fn two_terminals_reply_react_edit_delete_and_see_typing() {
    let mut ann = Term::spawn("ann", &["open"], 100, 30);
    let ticket = opened_ticket(&mut ann);
    let mut bob = Term::spawn("bob", &["join", &ticket], 100, 30);
    bob.wait_for("ann joined");
    ann.wait_for("bob joined");

    bob.line("who brings cake?");
    ann.wait_for("bob: who brings cake?");
    // Typing shows on the other side before the line is sent.
    ann.keys("me");
    bob.wait_for("ann is typing…");
    ann.keys("\x15"); // Ctrl-U: the draft goes
    // Ann picks bob's line (the newest) and reacts with the first of the usual eight.
    ann.keys("\x0f");
    ann.wait_for("r reply · e edit");
    ann.keys("+");
    ann.keys("1");
    bob.wait_for("👍 1");
    // And replies to it: r puts /reply ID in the input.
    ann.keys("\x0f");
    ann.keys("r");
    ann.wait_for("> /reply ");
    ann.line("me!");
    bob.wait_for("↳ bob: who brings cake?");
    bob.wait_for("ann: me!");
    // Bob edits his line (Up from the newest, ann's reply, to his own), then deletes it.
    bob.keys("\x0f");
    bob.keys("\x1b[A");
    bob.keys("e");
    bob.wait_for("> /edit ");
    bob.line(" Friday");
    ann.wait_for("who brings cake? Friday (edited)");
    bob.keys("\x0f");
    bob.keys("\x1b[A");
    bob.keys("d");
    bob.wait_for("delete this line? y / n");
    bob.keys("y");
    ann.wait_for("bob: message deleted");
    assert!(
        !ann.contents().contains("cake? Friday"),
        "{}",
        ann.contents()
    );
    bob.line("/quit");
    assert_eq!(bob.exit_code(), 0);
    ann.keys("\x03");
    assert_eq!(ann.exit_code(), 0);
}

/// The ticket of a room just opened in `term` (copied with OSC 52), the invite closed.
fn opened_ticket(term: &mut Term) -> String {
    term.wait_for("Others join with:");
    term.keys("\x19"); // Ctrl-Y
    term.wait_for("copy sent");
    let ticket = copied(&term.raw()).expect("an OSC 52 copy of the ticket");
    term.keys("\x1b");
    ticket
}

#[test]
fn one_window_two_rooms_alt_2_and_back() {
    let mut ann = Term::spawn("ann", &["open", "--label", "first"], 80, 24);
    let first = opened_ticket(&mut ann);
    let mut cat = Term::spawn("cat", &["open", "--label", "second"], 80, 24);
    let second = opened_ticket(&mut cat);
    // 100 columns: the rooms are listed in a sidebar.
    let mut bob = Term::spawn("bob", &["join", &first, &second], 100, 30);
    bob.wait_for("ann joined");
    ann.wait_for("bob joined");
    cat.wait_for("bob joined");
    // The second room is listed under the name its opener gave it (a signed room name),
    // marked private ("+").
    bob.wait_for("2 +second");
    bob.keys("\x1b2"); // Alt-2
    bob.wait_for("cat joined");
    bob.line("hello second room");
    cat.wait_for("bob: hello second room");
    bob.keys("\x1b1"); // Alt-1: back
    bob.line("hello first room");
    ann.wait_for("bob: hello first room");
    // Each room got only its own line (the second line is the marker for the first).
    assert!(!ann.contents().contains("hello second room"));
    assert!(!cat.contents().contains("hello first room"));
    // A line in the room not shown counts as unread there.
    cat.line("welcome");
    bob.wait_for("2 +second");
    let started = Instant::now();
    while !bob
        .contents()
        .lines()
        .any(|l| l.starts_with("2 +second") && l.contains("1│"))
    {
        assert!(
            started.elapsed() < WAIT,
            "no unread count:\n{}",
            bob.contents()
        );
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !bob.contents().contains("cat: welcome"),
        "shown in the other room"
    );
    bob.keys("\x0e"); // Ctrl-N: the next room
    bob.wait_for("cat: welcome");
    // Where bob left off, the read marker: above the line that came while away.
    bob.wait_for("── new ──");
    // Away from the terminal (a focus report), a line comes; back, the marker is above it.
    bob.keys("\x1b[O");
    cat.line("while you were out");
    bob.wait_for("cat: while you were out");
    bob.keys("\x1b[I");
    bob.wait_until_marked_above("cat: while you were out");
    bob.keys("\x03");
    assert_eq!(bob.exit_code(), 0);
    for mut term in [ann, cat] {
        term.keys("\x03");
        assert_eq!(term.exit_code(), 0);
    }
}

#[test]
fn a_private_room_shows_roles_and_a_removal_keeps_its_history() {
    let mut ann = Term::spawn("ann", &["open", "--label", "ops"], 100, 30);
    // The opener may invite: the popup says how long the invite lasts.
    ann.wait_for("Invite (7 days)");
    let invite = opened_ticket(&mut ann);
    let mut bob = Term::spawn("bob", &["join", &invite], 100, 30);
    bob.wait_for("ann joined");
    ann.wait_for("bob joined");
    // The owner is marked in both member lists; the room is private in the status bar.
    ann.wait_for("~ann (you)");
    bob.wait_for("~ann");
    bob.wait_for(" here · private");
    bob.wait_for(" +ops │");
    ann.wait_for("you: ann (owner)");
    // A plain member is told who can invite, not shown an empty code.
    bob.keys("\x14"); // Ctrl-T
    bob.wait_for("only the room's owner and admins can invite");
    bob.keys("\x1b");
    bob.wait_until_gone("only the room's owner and admins can invite");
    bob.line("said before the kick");
    ann.wait_for("bob: said before the kick");
    ann.line("/kick bob enough");
    bob.wait_for("you were removed from this room by ann: enough");
    bob.wait_for("removed: /part closes it");
    // The view stays with its history; what is typed there is refused, not sent.
    bob.line("still here?");
    bob.wait_for("you were removed from this room; /part closes it");
    assert!(bob.contents().contains("said before the kick"));
    assert!(!ann.contents().contains("still here?"));
    // /part closes it: the last room gone, the lobby is back.
    bob.keys("\x15"); // Ctrl-U: the refused line was given back
    bob.line("/part");
    bob.wait_for("Your name");
    for mut term in [ann, bob] {
        term.keys("\x03");
        assert_eq!(term.exit_code(), 0);
    }
}

#[test]
fn the_lobby_offers_the_rooms_you_were_in_all_selected() {
    // Not made here: parlor makes its data directory itself.
    let dir = test_dir::fresh("tui-rejoin").join("data");
    let mut ann = Term::spawn("ann", &["open"], 80, 24);
    let first = opened_ticket(&mut ann);
    let mut cat = Term::spawn("cat", &["open"], 80, 24);
    let second = opened_ticket(&mut cat);
    let mut bob = Term::spawn_with("bob", Some(&dir), &["join", &first, &second], 100, 30);
    bob.wait_for("ann joined");
    cat.wait_for("bob joined");
    bob.line("said before the restart");
    ann.wait_for("bob: said before the restart");
    ann.line("seen before the restart");
    bob.wait_for("ann: seen before the restart");
    bob.keys("\x03");
    assert_eq!(bob.exit_code(), 0);
    ann.wait_for("bob left");
    ann.line("said while bob was away");

    let mut bob = Term::spawn_with("bob", Some(&dir), &[], 100, 30);
    bob.wait_for("Your rooms");
    assert_eq!(
        bob.contents().matches("[x] #").count(),
        2,
        "{}",
        bob.contents()
    );
    bob.keys("\r"); // Enter in the name rejoins the rooms selected: both
    // Both rooms are private (marked "+"), unnamed (their short topics).
    bob.wait_for("1 +#");
    bob.wait_for("2 +#");
    ann.wait_for("bob joined");
    // The rooms are listed in the order they were entered, which joins racing each other
    // decide: go to ann's by its place in the list.
    let ann_room = room_topic(&ann);
    let tab = format!("+#{ann_room}");
    bob.wait_for(&tab);
    let place = bob
        .contents()
        .lines()
        .find(|l| l.contains(&tab))
        .and_then(|l| l.chars().next())
        .expect("ann's room in the list");
    bob.keys(&format!("\x1b{place}")); // Alt-digit
    bob.wait_for(&format!(" {tab} │"));
    // Where bob left off was kept: the line said while he was away is below the marker.
    bob.wait_until_marked_above("ann: said while bob was away");
    bob.line("back in the first room");
    ann.wait_for("bob: back in the first room");
    // Up brings back lines from before the restart (kept in the data directory).
    bob.keys("\x1b[A\x1b[A");
    bob.wait_for("> said before the restart");
    bob.keys("\x15\x04"); // Ctrl-U clears the line, Ctrl-D on the empty line quits
    assert_eq!(bob.exit_code(), 0);
    for mut term in [ann, cat] {
        term.keys("\x03");
        assert_eq!(term.exit_code(), 0);
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The short topic of the room `term` opened ("you are NAME in room TOPIC").
fn room_topic(term: &Term) -> String {
    let contents = term.contents();
    let at = contents.find(" in room ").expect("the room's topic") + " in room ".len();
    contents[at..].chars().take(10).collect()
}

#[test]
fn lobby_opens_a_room_at_40x12() {
    let mut sam = Term::spawn("sam", &[], 40, 12);
    sam.wait_for("Your name");
    sam.wait_for("> sam");
    sam.wait_for("Enter: open a new room");
    sam.keys("\r"); // Enter in the name opens a room with it
    sam.wait_for("Others join with:");
    sam.keys("\x1b");
    sam.wait_for("1 here │ waiting for others"); // alone: waiting, not an error
    sam.keys("\x03"); // Ctrl-C quits
    assert_eq!(sam.exit_code(), 0);
}

#[test]
fn bad_ticket_in_the_lobby_is_explained() {
    let mut sam = Term::spawn("sam", &[], 80, 24);
    sam.wait_for("Your name");
    sam.keys("\t\t"); // to the ticket field
    sam.keys("\x1b[200~not-a-ticket\x1b[201~"); // a bracketed paste
    sam.keys("\r");
    sam.wait_for("invalid ticket");
    sam.wait_for("> not-a-ticket");
    sam.keys("\x03"); // Ctrl-C quits the lobby
    assert_eq!(sam.exit_code(), 0);
}

#[test]
fn typing_over_the_invite_and_esc_keep_the_draft() {
    let mut sam = Term::spawn("sam", &["open"], 60, 12);
    sam.wait_for("Others join with:");
    // The invite that `open` shows lets typing through to the input line.
    sam.keys("anyone here yet?");
    sam.wait_for("> anyone here yet?");
    assert!(!sam.contents().contains("Others join with:"), "closed");
    // Enough history to scroll (Ctrl-G with no file to pick says so; the draft stays),
    // then up: Esc goes back to the newest line, keeps the draft and does not quit.
    sam.keys(&"\x07".repeat(6));
    sam.keys("\x1b[5~"); // PageUp
    sam.wait_for("more below: PageDown");
    sam.keys("\x1b");
    sam.wait_until_gone("more below: PageDown");
    assert!(sam.child.try_wait().unwrap().is_none(), "still running");
    assert!(sam.contents().contains("> anyone here yet?"));
    // F1 shows the help over it; Esc closes that too, and still nothing quits.
    sam.keys("\x1bOP");
    sam.wait_for("Help 1-");
    sam.keys("\x1b");
    sam.wait_until_gone("Help 1-");
    assert!(sam.contents().contains("> anyone here yet?"));
    // Ctrl-C with the draft asks first; a second one within 2 s quits.
    sam.keys("\x03");
    sam.wait_for("press Ctrl-C again");
    assert!(sam.child.try_wait().unwrap().is_none(), "still running");
    sam.keys("\x03");
    assert_eq!(sam.exit_code(), 0);
}

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("a terminal has rows and columns")
}

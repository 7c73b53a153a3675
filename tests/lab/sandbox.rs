//! Where a lab test runs: here (as root, or already inside the lab's own namespaces), in a
//! child of this test binary inside a new unprivileged user + network + mount namespace (any
//! other user, where the kernel allows it), or nowhere (skipped with one line saying why).
//!
//! The rootless child is this same test binary re-run for this one test under
//! `unshare --user --map-root-user --net --mount`: root inside the user namespace owns the
//! network namespaces it makes, so `ip`, `nft`, `tc` and `sysctl` work on them, while nothing
//! it does can touch the host's own network (the child starts in an empty network namespace
//! of its own) or files it could not touch anyway. When the child ends, for whatever reason,
//! the kernel deletes every namespace it made.
//!
//! `PARLOR_LAB_REQUIRED=1` (set by `.ci/run`) turns a skip into a failure.

use std::io::Write;
use std::process::Command;
use std::sync::OnceLock;

use super::netns::{self, try_run};

/// Set in the rootless child: it is inside the lab's namespaces and runs the test itself.
const INSIDE: &str = "PARLOR_LAB_NAMESPACE";
/// Makes the lab mandatory: a lab test that cannot run fails instead of being skipped.
const REQUIRED: &str = "PARLOR_LAB_REQUIRED";

/// How this test binary can run the lab, decided once.
enum Place {
    Here,
    UserNamespace,
}

/// Whether the calling lab test goes on here. If not, the test already ran in a rootless
/// child (and this panics if it failed there), or it cannot run on this machine and a line
/// said why (a panic instead with `PARLOR_LAB_REQUIRED` set).
pub fn runs_here() -> bool {
    static PLACE: OnceLock<Result<Place, String>> = OnceLock::new();
    let test = current_test();
    match PLACE.get_or_init(decide) {
        Ok(Place::Here) => true,
        Ok(Place::UserNamespace) => {
            run_in_user_namespace(&test);
            false
        }
        Err(why) if required() => {
            panic!("the network lab cannot run here ({why}), and {REQUIRED} makes it mandatory")
        }
        Err(why) => {
            // Straight to the terminal: the harness shows a passing test's own output only
            // with --nocapture, and a skip should not pass unnoticed.
            let _ = writeln!(std::io::stderr(), "lab test {test} skipped: {why}");
            false
        }
    }
}

fn required() -> bool {
    std::env::var(REQUIRED).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The test's name: the harness runs each test on a thread named after it.
fn current_test() -> String {
    let name = std::thread::current().name().map(str::to_string);
    match name {
        Some(name) if name != "main" => name,
        _ => panic!("a lab test calls Lab::new on its own test thread (not in a spawned task)"),
    }
}

fn decide() -> Result<Place, String> {
    missing_tools()?;
    if std::env::var_os(INSIDE).is_some() && in_child_user_namespace() {
        private_netns_dir()?;
        return Ok(Place::Here);
    }
    if netns::is_root() {
        netns::clean_stale();
        return Ok(Place::Here);
    }
    user_namespaces_work()?;
    Ok(Place::UserNamespace)
}

/// `PATH` with the sbin directories added: distributions put `ip`, `nft`, `tc` and `sysctl`
/// there and leave them out of an ordinary user's `PATH`.
fn tool_path() -> String {
    let mut path = std::env::var("PATH").unwrap_or_default();
    for dir in ["/usr/sbin", "/sbin"] {
        if !path.split(':').any(|d| d == dir) {
            path = format!("{path}:{dir}");
        }
    }
    path
}

fn missing_tools() -> Result<(), String> {
    let mut missing = Vec::new();
    for (tool, version, what) in [
        ("ip", "-V", "iproute2's ip"),
        ("tc", "-V", "iproute2's tc"),
        ("nft", "--version", "nftables' nft"),
        ("sysctl", "--version", "procps' sysctl"),
    ] {
        let found = Command::new(tool)
            .arg(version)
            .env("PATH", tool_path())
            .output()
            .is_ok_and(|out| out.status.success());
        if !found {
            missing.push(what);
        }
    }
    match missing.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "no {} (on Debian/Ubuntu: apt-get install iproute2 nftables procps)",
            missing.join(", ")
        )),
    }
}

/// The initial user namespace maps every uid to itself; any other is a child one.
fn in_child_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| {
        let first: Vec<&str> = map.split_whitespace().take(3).collect();
        first != ["0", "0", "4294967295"]
    })
}

/// `ip netns add` keeps its names in /run/netns, which only the real root may write: inside
/// the child's own mount namespace, a tmpfs over it (over /run where it does not exist yet)
/// gives the child a private one, gone with the child.
fn private_netns_dir() -> Result<(), String> {
    let dir = match std::path::Path::new("/run/netns").is_dir() {
        true => "/run/netns",
        false => "/run",
    };
    try_run("mount", &["-t", "tmpfs", "plab-netns", dir]).map(|_| ())
}

/// Whether this kernel lets an ordinary user make a user namespace in which root may create
/// links and mount (disabled by sysctl, or denied by a security module, on some systems).
fn user_namespaces_work() -> Result<(), String> {
    let probes: [&[&str]; 2] = [
        &["ip", "link", "add", "plab-probe", "type", "bridge"],
        &["mount", "-t", "tmpfs", "plab-probe", "/tmp"],
    ];
    for probe in probes {
        let out = unshare()
            .args(probe)
            .output()
            .map_err(|e| format!("not root, and cannot run `unshare` ({e}; util-linux)"))?;
        if !out.status.success() {
            return Err(format!(
                "not root, and no unprivileged user namespace here (`{}` in one: {})",
                probe.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(())
}

fn unshare() -> Command {
    let mut command = Command::new("unshare");
    command
        .args(["--user", "--map-root-user", "--net", "--mount", "--"])
        .env("PATH", tool_path());
    command
}

/// Run `test` alone in a rootless child of this test binary; its output is printed here (and
/// so shown as this test's own on failure or with --nocapture). Panics if it did not pass.
fn run_in_user_namespace(test: &str) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = unshare()
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .arg("--include-ignored")
        .env(INSIDE, "1")
        .output()
        .expect("run the lab test in a user namespace");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The child harness's own lines ("running 1 test", its result) would only repeat ours.
    let harness = |l: &&str| l.is_empty() || l.starts_with("running ") || l.starts_with("test ");
    for line in stdout.lines().filter(|l| !harness(l)) {
        println!("{line}");
    }
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    // A filter that matched nothing would pass too: the child must have run this one test.
    let passed = stdout.contains("test result: ok. 1 passed");
    assert!(
        out.status.success() && passed,
        "{test} failed in its user namespace ({}): its output is above",
        out.status
    );
}

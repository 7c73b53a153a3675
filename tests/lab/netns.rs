//! The lab's only contact with the kernel: `ip`, `nft` and `sysctl` run as commands, and the
//! guard that deletes every namespace a lab made.
//!
//! Nothing is ever created in the host's own namespace except the named namespaces: links are
//! created inside a lab namespace (a veth's peer goes straight into another lab namespace), so
//! no lab address can route to the host's real interfaces.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every lab namespace and scratch directory starts with this; anything else is not ours.
pub const PREFIX: &str = "plab-";

/// Run a command to completion and return its stdout; `Err` names the command and its stderr.
pub fn try_run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// As [`try_run`], panicking on failure: a lab that cannot be built is a failed test.
pub fn run(program: &str, args: &[&str]) -> String {
    try_run(program, args).unwrap_or_else(|e| panic!("{e}"))
}

/// `ip -n NS ARGS`: iproute2 acting inside a namespace without entering it.
pub fn ip(ns: &str, args: &[&str]) -> String {
    let mut all = vec!["-n", ns];
    all.extend_from_slice(args);
    run("ip", &all)
}

/// `ip netns exec NS PROGRAM ARGS`, for tools that only act on their own namespace.
pub fn exec(ns: &str, program: &str, args: &[&str]) -> String {
    let mut all = vec!["netns", "exec", ns, program];
    all.extend_from_slice(args);
    run("ip", &all)
}

/// Set sysctls of one namespace (net.* values are per namespace).
pub fn sysctl(ns: &str, settings: &[&str]) {
    let mut args = vec!["-q", "-w"];
    args.extend_from_slice(settings);
    exec(ns, "sysctl", &args);
}

/// Whether this process runs as root (the lab then builds its namespaces directly).
pub fn is_root() -> bool {
    // Effective uid: the second field of /proc/self/status's Uid line (no libc: unsafe is
    // forbidden in this package).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// A unique prefix for one lab: `plab-<pid>-<n>-<name>`. The pid lets a later run tell a dead
/// run's leftovers from a live one's; `n` keeps labs of parallel tests apart.
pub fn lab_prefix(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let short: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    format!("{PREFIX}{}-{n}-{short}", std::process::id())
}

/// The pid in a lab name, if it is one.
fn owner(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

/// Is `pid` a running lab test binary (cargo names it `lab-<hash>`)? A reused pid is not.
fn lab_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.starts_with("lab"))
}

/// Delete namespaces and scratch directories of lab runs that died without cleaning up (a
/// SIGKILL or Ctrl-C skips every destructor). Live runs, ours included, are left alone.
/// (Only root needs this: a rootless run's namespaces die with its user namespace.)
pub fn clean_stale() {
    let me = std::process::id();
    let stale = |name: &str| owner(name).is_some_and(|pid| pid != me && !lab_alive(pid));
    let listed = run("ip", &["netns", "list"]);
    for name in listed.lines().filter_map(|l| l.split_whitespace().next()) {
        if stale(name) {
            eprintln!("LAB: deleting stale namespace {name}");
            delete_namespace(name);
        }
    }
    if let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in dir.flatten() {
            if entry.file_name().to_str().is_some_and(stale) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Kill whatever still runs inside (only lab processes can be there), then delete the name.
/// Never panics: it runs in destructors, possibly while a test is already panicking.
fn delete_namespace(ns: &str) {
    if let Ok(pids) = try_run("ip", &["netns", "pids", ns]) {
        for pid in pids.split_whitespace() {
            let _ = try_run("kill", &["-KILL", pid]);
        }
    }
    if let Err(e) = try_run("ip", &["netns", "delete", ns]) {
        eprintln!("LAB: cleanup: {e}");
    }
}

/// Owns every namespace and the scratch directory of one lab; dropping it (normally or while
/// a test panics) deletes them all. Namespaces are registered the moment they exist, so a lab
/// that fails half-built is cleaned up too. Deleting a namespace destroys its links, so veth
/// pairs and bridges go with them.
pub struct Guard {
    namespaces: Vec<String>,
    pub scratch: PathBuf,
}

impl Guard {
    pub fn new(prefix: &str) -> Self {
        let scratch = std::env::temp_dir().join(prefix);
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).expect("create the lab's scratch directory");
        Self {
            namespaces: Vec::new(),
            scratch,
        }
    }

    /// A new namespace with loopback up and IPv6 off (set before any link exists, so no link
    /// ever gets a v6 address). promote_secondaries: deleting a link's first address keeps
    /// the others, as a DHCP renumbering does (the kernel default flushes them all).
    pub fn namespace(&mut self, ns: &str) {
        run("ip", &["netns", "add", ns]);
        self.namespaces.push(ns.to_string());
        sysctl(
            ns,
            &[
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
                "net.ipv4.conf.all.promote_secondaries=1",
                "net.ipv4.conf.default.promote_secondaries=1",
            ],
        );
        ip(ns, &["link", "set", "lo", "up"]);
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for ns in self.namespaces.iter().rev() {
            delete_namespace(ns);
        }
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

//! Hosts on a LAN: what happens to their link (cut, restore, renumber) and the parlor
//! processes they run. Processes always get `--offline` (no public relays, DNS/pkarr or port
//! mapping), so nothing in them tries to reach a non-lab address.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use std::process::Command;

use super::netns::ip;
use super::topology::{Lab, RELAY_IP, RELAY_PORT};
use crate::support::parlor::BIN;
use crate::support::process::Proc;

pub struct Host {
    /// a1, a2, ... b1, ...; also the `--name` its processes chat under.
    pub name: String,
    pub ns: String,
    pub(super) lan: usize,
    /// Its veth's end in the router's namespace (a port of the LAN bridge).
    pub(super) port: String,
    /// The host's current LAN address.
    pub addr: Ipv4Addr,
    /// Kept across processes, so a restarted process is the same member with the same rooms.
    pub data_dir: PathBuf,
}

impl Lab {
    /// `parlor --headless --json --offline --data-dir <host's> --name <host> ARGS` in `host`.
    pub fn parlor(&self, host: &str, args: &[&str]) -> Proc {
        let h = self.host(host);
        let dir = h.data_dir.to_str().expect("UTF-8 temp dir");
        let mut all = vec!["--headless", "--json", "--offline", "--data-dir", dir];
        all.extend_from_slice(&["--name", &h.name]);
        all.extend_from_slice(args);
        self.spawn_in(&h.ns, &h.name, &all)
    }

    /// A subcommand that is not a chat (e.g. `nearby --json`): only `--offline` and the
    /// host's data directory are added, so its own flags decide its output.
    pub fn parlor_cmd(&self, host: &str, args: &[&str]) -> Proc {
        let h = self.host(host);
        let dir = h.data_dir.to_str().expect("UTF-8 temp dir");
        let mut all = vec!["--offline", "--data-dir", dir];
        all.extend_from_slice(args);
        self.spawn_in(&h.ns, &h.name, &all)
    }

    /// As [`Lab::parlor`] but with a throwaway identity that knows no room (`--ephemeral`):
    /// a second process on a host whose own data directory is in use or would help it.
    pub fn parlor_ephemeral(&self, host: &str, args: &[&str]) -> Proc {
        let h = self.host(host);
        let mut all = vec!["--headless", "--json", "--offline", "--ephemeral"];
        all.extend_from_slice(&["--name", &h.name]);
        all.extend_from_slice(args);
        self.spawn_in(&h.ns, &format!("{}(ephemeral)", h.name), &all)
    }

    /// `parlor relay --bind 198.51.100.10:3340` on the relay host.
    pub fn relay_server(&self) -> Proc {
        let ns = self
            .relay_ns
            .as_ref()
            .expect("the lab has a relay host (.relay())");
        let bind = format!("{RELAY_IP}:{RELAY_PORT}");
        self.spawn_in(ns, "relay", &["--offline", "relay", "--bind", &bind])
    }

    /// The relay with TLS on port 443 (and so QUIC address discovery on UDP 7842), with a
    /// self-signed certificate for its IP made here. Returns it, its URL and the certificate
    /// file clients pass as `--relay-ca`.
    pub fn relay_server_tls(&self) -> (Proc, String, String) {
        let ns = self
            .relay_ns
            .as_ref()
            .expect("the lab has a relay host (.relay())");
        let cert = rcgen::generate_simple_self_signed(vec![RELAY_IP.to_string()])
            .expect("a self-signed certificate");
        let dir = &self.guard.scratch;
        let (cert_file, key_file) = (dir.join("relay-cert.pem"), dir.join("relay-key.pem"));
        std::fs::write(&cert_file, cert.cert.pem()).expect("write the certificate");
        std::fs::write(&key_file, cert.signing_key.serialize_pem()).expect("write the key");
        let (cert_file, key_file) = (
            cert_file.to_str().expect("UTF-8").to_string(),
            key_file.to_str().expect("UTF-8").to_string(),
        );
        let bind = format!("{RELAY_IP}:443");
        let http = format!("{RELAY_IP}:80");
        let args = [
            "--offline",
            "relay",
            "--bind",
            &bind,
            "--http-bind",
            &http,
            "--tls-cert",
            &cert_file,
            "--tls-key",
            &key_file,
        ];
        let proc = self.spawn_in(ns, "relay", &args);
        (proc, format!("https://{RELAY_IP}"), cert_file)
    }

    fn spawn_in(&self, ns: &str, name: &str, args: &[&str]) -> Proc {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", ns, BIN]).args(args);
        // PARLOR_LAB_LOG=debug (say) turns on the children's logs, printed on failure.
        if let Ok(filter) = std::env::var("PARLOR_LAB_LOG") {
            command.env("RUST_LOG", filter);
        }
        Proc::start(name, command)
    }

    /// Pull `host`'s cable: the router-side end of its veth goes down, so the host sees
    /// carrier loss (NO-CARRIER) rather than an interface it took down itself. Its routes stay
    /// (flagged `linkdown`); its sockets stay bound.
    pub fn cut(&self, host: &str) {
        let h = self.host(host);
        ip(&self.lans[h.lan].router, &["link", "set", &h.port, "down"]);
    }

    /// Plug the cable back in. The kernel keeps the host's routes across carrier loss, but if
    /// the default route went anyway it is put back: without it the host has no route for
    /// mDNS and cannot be told apart from a broken lab.
    pub fn restore(&self, host: &str) {
        let h = self.host(host);
        ip(&self.lans[h.lan].router, &["link", "set", &h.port, "up"]);
        if ip(&h.ns, &["route", "show", "default"]).trim().is_empty() {
            eprintln!(
                "LAB {}: {host}'s default route vanished; re-adding",
                self.name
            );
            let gateway = self.lans[h.lan].gateway.to_string();
            ip(&h.ns, &["route", "replace", "default", "via", &gateway]);
        }
    }

    /// Renumber `host` to 10.77.k.`octet` as a new DHCP lease would: add the new address,
    /// delete the old one (promote_secondaries keeps the new one), re-assert the default
    /// route. Sockets bound to 0.0.0.0 survive; those bound to the old address are stranded.
    pub fn readdress(&mut self, host: &str, octet: u8) -> Ipv4Addr {
        let gateway = self.lans[self.host(host).lan].gateway;
        let h = self.host_mut(host);
        let old = h.addr;
        let new = Ipv4Addr::new(10, 77, gateway.octets()[2], octet);
        ip(&h.ns, &["addr", "add", &format!("{new}/24"), "dev", "eth0"]);
        ip(&h.ns, &["addr", "del", &format!("{old}/24"), "dev", "eth0"]);
        ip(
            &h.ns,
            &["route", "replace", "default", "via", &gateway.to_string()],
        );
        h.addr = new;
        new
    }
}

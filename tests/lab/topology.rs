//! The lab's shape: an "internet" bridge, NAT routers with a LAN bridge each, hosts on the
//! LANs, and an optional relay host on the internet. Each builder step creates its part at
//! once, so a test reads as its topology: `lab.lan(3)`, `lab.two_nats(1, 1).relay()`
//! on the `Lab::new("name")` a test starts with.
//!
//! Addresses: the internet is 198.51.100.0/24 (TEST-NET-2, never routed publicly); LAN k
//! (A, B, ...) is 10.77.k.0/24 behind router 198.51.100.k, hosts from .10 up. Routers and the
//! relay have no default route, so nothing in the lab can reach beyond it.

use std::fmt::Display;
use std::net::Ipv4Addr;

use super::host::Host;
use super::netns::{self, Guard, exec, ip, sysctl};
use super::sandbox;

pub const RELAY_IP: &str = "198.51.100.10";
pub const RELAY_PORT: u16 = 3340;

/// One LAN: the router namespace and its gateway address.
pub(super) struct Lan {
    pub router: String,
    pub gateway: Ipv4Addr,
}

pub struct Lab {
    /// The scenario's name, as figures are printed under.
    pub name: String,
    pub(super) prefix: String,
    inet: String,
    pub(super) lans: Vec<Lan>,
    pub(super) hosts: Vec<Host>,
    pub(super) relay_ns: Option<String>,
    // Last field: dropped after everything else that might refer to the namespaces.
    pub(super) guard: Guard,
}

impl Lab {
    /// An empty internet: the `inet` namespace with one bridge, `br0`. `None` when the
    /// calling test is not to go on in this process: it ran in a rootless child instead, or
    /// the lab cannot run here (see `lab/sandbox.rs`); the test then just returns.
    pub fn new(name: &str) -> Option<Self> {
        if !sandbox::runs_here() {
            return None;
        }
        let prefix = netns::lab_prefix(name);
        let mut guard = Guard::new(&prefix);
        let inet = format!("{prefix}-inet");
        guard.namespace(&inet);
        ip(&inet, &["link", "add", "br0", "type", "bridge"]);
        ip(&inet, &["link", "set", "br0", "up"]);
        Some(Self {
            name: name.to_string(),
            prefix,
            inet,
            lans: Vec::new(),
            hosts: Vec::new(),
            relay_ns: None,
            guard,
        })
    }

    /// The next LAN (A, then B, ...) behind its own masquerading router, with `hosts` hosts
    /// named a1, a2, ... (b1, ... on LAN B).
    pub fn lan(mut self, hosts: usize) -> Self {
        let k = self.lans.len() + 1;
        assert!(k <= 26, "at most 26 LANs");
        let letter = (b'a' + k as u8 - 1) as char;
        let router = format!("{}-r{letter}", self.prefix);
        self.guard.namespace(&router);
        sysctl(&router, &["net.ipv4.ip_forward=1"]);
        // WAN side: a veth whose far end joins the internet bridge.
        let wan_peer = format!("r{letter}");
        self.wire(&router, "wan0", &self.inet.clone(), &wan_peer);
        ip(
            &self.inet,
            &["link", "set", &wan_peer, "master", "br0", "up"],
        );
        ip(
            &router,
            &["addr", "add", &format!("198.51.100.{k}/24"), "dev", "wan0"],
        );
        ip(&router, &["link", "set", "wan0", "up"]);
        // LAN side: a bridge holding the gateway address; hosts plug into it.
        let gateway = Ipv4Addr::new(10, 77, k as u8, 1);
        ip(&router, &["link", "add", "br0", "type", "bridge"]);
        ip(
            &router,
            &["addr", "add", &format!("{gateway}/24"), "dev", "br0"],
        );
        ip(&router, &["link", "set", "br0", "up"]);
        let post = "{ type nat hook postrouting priority 100 ; }";
        exec(&router, "nft", &["add", "table", "ip", "nat"]);
        exec(&router, "nft", &["add", "chain", "ip", "nat", "post", post]);
        let masquerade = [
            "add",
            "rule",
            "ip",
            "nat",
            "post",
            "oifname",
            "wan0",
            "masquerade",
        ];
        exec(&router, "nft", &masquerade);
        // Like a home router's firewall: unsolicited packets from the internet to the router
        // itself are dropped, not answered. Dropped before conntrack confirms them, they leave
        // no entry behind that would make masquerade pick another port for the LAN host's
        // own outgoing packets to that peer (which is what hole punching relies on).
        let input = "{ type filter hook input priority 0 ; }";
        exec(&router, "nft", &["add", "table", "ip", "filter"]);
        exec(
            &router,
            "nft",
            &["add", "chain", "ip", "filter", "input", input],
        );
        let drop_new = [
            "add", "rule", "ip", "filter", "input", "iifname", "wan0", "ct", "state", "new", "drop",
        ];
        exec(&router, "nft", &drop_new);
        self.lans.push(Lan { router, gateway });
        for i in 0..hosts {
            self.add_host(k - 1, &format!("{letter}{}", i + 1), 10 + i as u8);
        }
        self
    }

    /// Two LANs, each behind its own NAT.
    pub fn two_nats(self, a: usize, b: usize) -> Self {
        self.lan(a).lan(b)
    }

    /// A host on the internet at 198.51.100.10 for `parlor relay` ([`Lab::relay_server`]).
    pub fn relay(mut self) -> Self {
        let ns = format!("{}-relay", self.prefix);
        self.guard.namespace(&ns);
        self.wire(&ns, "eth0", &self.inet.clone(), "relay");
        ip(&self.inet, &["link", "set", "relay", "master", "br0", "up"]);
        ip(
            &ns,
            &["addr", "add", &format!("{RELAY_IP}/24"), "dev", "eth0"],
        );
        ip(&ns, &["link", "set", "eth0", "up"]);
        self.relay_ns = Some(ns);
        self
    }

    /// A host on LAN `lan` (0-based): a veth from the router's bridge (port `h<octet>`) to the
    /// host's `eth0`, the address, and a default route via the router (mDNS needs a route).
    fn add_host(&mut self, lan: usize, name: &str, octet: u8) {
        let ns = format!("{}-{name}", self.prefix);
        self.guard.namespace(&ns);
        let (router, gateway) = (self.lans[lan].router.clone(), self.lans[lan].gateway);
        let port = format!("h{octet}");
        self.wire(&router, &port, &ns, "eth0");
        ip(&router, &["link", "set", &port, "master", "br0", "up"]);
        let addr = Ipv4Addr::new(10, 77, gateway.octets()[2], octet);
        ip(&ns, &["addr", "add", &format!("{addr}/24"), "dev", "eth0"]);
        ip(&ns, &["link", "set", "eth0", "up"]);
        ip(
            &ns,
            &["route", "add", "default", "via", &gateway.to_string()],
        );
        let data_dir = self.guard.scratch.join(name);
        std::fs::create_dir_all(&data_dir).expect("create a host's data directory");
        self.hosts.push(Host {
            name: name.to_string(),
            ns,
            lan,
            port,
            addr,
            data_dir,
        });
    }

    /// A veth pair created inside `ns` with its peer created directly in `peer_ns`: neither
    /// end ever exists in the host's namespace.
    fn wire(&self, ns: &str, name: &str, peer_ns: &str, peer: &str) {
        let link = ["link", "add", name, "type", "veth", "peer", "name", peer];
        ip(ns, &[&link[..], &["netns", peer_ns]].concat());
    }

    pub fn host(&self, name: &str) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("no host {name} in lab {}", self.name))
    }

    pub(super) fn host_mut(&mut self, name: &str) -> &mut Host {
        let lab = self.name.clone();
        self.hosts
            .iter_mut()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("no host {name} in lab {lab}"))
    }

    /// `http://198.51.100.10:3340`, the relay host's relay URL.
    pub fn relay_url(&self) -> String {
        format!("http://{RELAY_IP}:{RELAY_PORT}")
    }

    /// Print a figure as `LAB <scenario>: <text>` (shown with `--nocapture` or on failure).
    pub fn figure(&self, text: impl Display) {
        eprintln!("LAB {}: {text}", self.name);
    }
}

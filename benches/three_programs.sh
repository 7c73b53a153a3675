#!/usr/bin/env bash
# The three programs of issue 26 side by side: parlor (data directories), the iroh-gossip chat
# example and rust-libp2p's chat example, each in 2- and 10-member rooms and as a late joiner,
# driven the same way (a line written to stdin in one `write` until another member prints
# it), back to back in each run. README, Performance: "Beside rust-libp2p's chat example too".
#
# libp2p's example finds peers by mDNS (multicast), so everything runs in a network namespace
# made here (`lo`, and a veth pair with 10.77.0.1/24 and a multicast route: the multicast
# loops back to the namespace's own sockets and never leaves) and deleted at the end, even on
# failure. parlor and the iroh-gossip example stay on 127.0.0.1 inside it.
#
# Needs root (ip netns), python3, and the binaries:
#   PARLOR       default target/release/parlor (`cargo build --release`)
#   IROH_CHAT    default the copy `cargo bench --bench room -- --mode process --side-by-side`
#                builds under target/bench/iroh-gossip-example
#   LIBP2P_CHAT  rust-libp2p's `examples/chat` built by you outside this project (`cargo build
#                --release -p chat-example` in a rust-libp2p checkout); unset: that column is
#                left out
# Usage: benches/three_programs.sh [RUNS, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
[ "$(id -u)" = 0 ] || { echo "three_programs.sh: needs root (ip netns)" >&2; exit 2; }
export PARLOR=${PARLOR:-$PWD/target/release/parlor}
export IROH_CHAT=${IROH_CHAT:-$PWD/target/bench/iroh-gossip-example/target/release/examples/chat}
export LIBP2P_CHAT=${LIBP2P_CHAT:-}
[ -x "$PARLOR" ] || { echo "three_programs.sh: no parlor at $PARLOR (cargo build --release)" >&2; exit 2; }
[ -x "$IROH_CHAT" ] || { echo "three_programs.sh: no iroh-gossip example at $IROH_CHAT (run the room bench with --side-by-side once)" >&2; exit 2; }
if [ -n "$LIBP2P_CHAT" ] && [ ! -x "$LIBP2P_CHAT" ]; then
    echo "three_programs.sh: LIBP2P_CHAT=$LIBP2P_CHAT is not an executable" >&2; exit 2
fi
ns=parlor-three-$$
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip -n "$ns" link set lo up
ip -n "$ns" link add v0 type veth peer name v1
ip -n "$ns" addr add 10.77.0.1/24 dev v0
ip -n "$ns" link set v0 multicast on up
ip -n "$ns" link set v1 up
ip -n "$ns" route add 224.0.0.0/4 dev v0
kinds="iroh parlor"
[ -n "$LIBP2P_CHAT" ] && kinds="iroh libp2p parlor"
for run in $(seq 1 "$runs"); do
    echo "== run $run"
    ip netns exec "$ns" python3 - $kinds <<'PY'
import io, json, os, re, statistics, subprocess, sys, tempfile, threading, time, shutil
PARLOR, IROH, LIBP2P = os.environ["PARLOR"], os.environ["IROH_CHAT"], os.environ["LIBP2P_CHAT"]
TCK = os.sysconf("SC_CLK_TCK")
ALL = []  # every process started, stopped whatever happens
PAD = "x" * 180

class Proc:
    def __init__(self, kind, i, role, ticket=None):
        self.kind, self.i = kind, i
        self.events = []  # (t, kind, payload)
        self.cv = threading.Condition()
        self.dir = None
        env = dict(os.environ, RUST_LOG="off")
        if kind == "parlor":
            self.dir = tempfile.mkdtemp(prefix="three-")
            cmd = [PARLOR, "--headless", "--json", "--offline", "--bind", "127.0.0.1:0", "--data-dir", self.dir,
                   "--name", f"p{i}", "--max-rate", "1000000"] + (["open", "--public"] if role == "open" else ["join", ticket])
        elif kind == "iroh":
            cmd = [IROH, "--no-relay", "--name", f"p{i}"] + (["open"] if role == "open" else ["join", ticket])
        else:
            cmd = [LIBP2P]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, bufsize=0)
        ALL.append(self)
        threading.Thread(target=self.read, daemon=True).start()
    def read(self):
        # Buffered: a raw pipe's readline reads a byte per system call, which slowed the long
        # JSON lines more than the others.
        for raw in io.BufferedReader(self.p.stdout, 1 << 16):
            t = time.perf_counter()
            line = raw.decode(errors="replace").rstrip("\n")
            ev = self.parse(line)
            if ev:
                with self.cv:
                    self.events.append((t,) + ev); self.cv.notify_all()
    def parse(self, line):
        if self.kind == "parlor":
            try: v = json.loads(line)
            except Exception: return None
            if v.get("type") == "ready": return ("ready", v.get("ticket"))
            if v.get("type") == "message": return ("msg", v.get("text", ""))
            return None
        if self.kind == "iroh":
            if line.startswith("> ticket to join us: "): return ("ticket", line.split(": ", 1)[1].strip())
            if line == "> connected!": return ("ready", None)
            if line.startswith(">"): return None
            if ": " in line: return ("msg", line.split(": ", 1)[1])
            return None
        m = re.match(r"Got message: '(.*)' with id: ", line)
        if m: return ("msg", m.group(1))
        if line.startswith("mDNS discovered a new peer"): return ("peer", line.rsplit(" ", 1)[1])
        return None
    def wait(self, pred, timeout=30):
        end = time.perf_counter() + timeout
        with self.cv:
            while True:
                for e in self.events:
                    if pred(e): return e
                left = end - time.perf_counter()
                if left <= 0: raise TimeoutError(f"{self.kind} p{self.i}")
                self.cv.wait(left)
    def send(self, text):
        t = time.perf_counter()
        self.p.stdin.write((text + "\n").encode())
        return t
    def cpu(self):
        s = open(f"/proc/{self.p.pid}/stat").read(); f = s[s.rindex(")") + 2:].split()
        return (int(f[11]) + int(f[12])) / TCK
    def rss(self):
        for l in open(f"/proc/{self.p.pid}/status"):
            if l.startswith("VmRSS"): return int(l.split()[1]) / 1024
    def stop(self):
        try: self.p.kill(); self.p.wait(5)
        except Exception: pass
        if self.dir: shutil.rmtree(self.dir, ignore_errors=True)

def room(kind, n):
    procs = []
    if kind == "libp2p":
        procs = [Proc(kind, i, None) for i in range(n)]
        for p in procs:  # every other member found by mDNS
            deadline = time.perf_counter() + 30
            while len({e[2] for e in p.events if e[1] == "peer"}) < n - 1:
                if time.perf_counter() > deadline: raise TimeoutError("mdns")
                time.sleep(0.05)
    else:
        a = Proc(kind, 0, "open")
        if kind == "parlor": ticket = a.wait(lambda e: e[1] == "ready")[2]
        else: ticket = a.wait(lambda e: e[1] == "ticket")[2]
        procs = [a] + [Proc(kind, i, "join", ticket) for i in range(1, n)]
        for p in procs[1:]: p.wait(lambda e: e[1] == "ready")
    # Warm up: each member's line reaches all the others (sent again until it does), which
    # also settles the gossip trees before anything is timed.
    for s in procs:
        tag = f"warm {s.i}"
        for attempt in range(400):
            s.send(tag)
            try:
                for r in procs:
                    if r is not s: r.wait(lambda e: e[1] == "msg" and e[2].strip() == tag, timeout=0.05 if attempt < 399 else 5)
                break
            except TimeoutError: continue
    time.sleep(1.0)
    return procs

def pct(xs, q):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]

def traffic(procs, senders, rate, seconds, spread):
    sent = {}  # text -> t
    n = int(rate * seconds)
    plan = []
    for k, s in enumerate(senders):
        phase = (k / len(senders)) / rate if spread else 0
        for j in range(n): plan.append((phase + j / rate, s, f"m {s.i} {j} {PAD}"))
    plan.sort(key=lambda x: x[0])
    start = time.perf_counter() + 0.05
    for at, s, text in plan:
        d = start + at - time.perf_counter()
        if d > 0: time.sleep(d)
        sent[text] = s.send(text)
    time.sleep(1.0)
    lat = []
    for r in procs:
        for e in r.events:
            if e[1] == "msg" and e[2] in sent: lat.append((e[0] - sent[e[2]]) * 1000)
    expected = sum(1 for _ in plan) * (len(procs) - 1)
    return lat, expected

def run(kind):
    out = {}
    procs = room(kind, 2)
    lat, exp = traffic(procs, [procs[0]], 50, 3, False)
    out["2 nodes 50/s"] = (statistics.median(lat), pct(lat, 0.99), len(lat), exp)
    for p in procs: p.stop()
    procs = room(kind, 10)
    c0 = sum(p.cpu() for p in procs)
    lat, exp = traffic(procs, procs, 5, 3, True)
    c1 = sum(p.cpu() for p in procs)
    out["10 nodes all 5/s own phase"] = (statistics.median(lat), pct(lat, 0.99), len(lat), exp)
    out["rss MB"] = statistics.mean(p.rss() for p in procs)
    out["cpu us/msg"] = (c1 - c0) * 1e6 / max(1, len(lat))
    for p in procs: p.stop()
    # late joiner: a member is there; a new process starts and says a line (again every 5 ms
    # until it arrives, since libp2p's chat drops what it cannot publish yet)
    if kind == "libp2p": a = Proc(kind, 0, None)
    else:
        a = Proc(kind, 0, "open")
        ticket = a.wait(lambda e: e[1] in ("ready", "ticket") and e[2])[2]
    starts = []
    for rnd in range(10):
        t0 = time.perf_counter()
        b = Proc(kind, 1, None if kind == "libp2p" else "join", None if kind == "libp2p" else ticket)
        tag = f"hello {rnd}"
        got = None
        while got is None and time.perf_counter() - t0 < 20:
            b.send(tag)
            try: got = a.wait(lambda e: e[1] == "msg" and e[2].strip() == tag and e[0] > t0, timeout=0.005)
            except TimeoutError: pass
        if got: starts.append((got[0] - t0) * 1000)
        b.stop()
    a.stop()
    out["late joiner ms"] = (statistics.median(starts), max(starts), len(starts))
    return out

if __name__ == "__main__":
    for kind in sys.argv[1:]:
        try:
            r = run(kind)
        except Exception as e:
            print(f"{kind}: failed: {e!r}"); continue
        finally:
            for p in ALL: p.stop()
            ALL.clear()
        print(f"-- {kind}")
        for k, v in r.items():
            if isinstance(v, tuple) and len(v) == 4: print(f"   {k:<28} p50 {v[0]:6.2f} ms  p99 {v[1]:6.2f} ms  delivered {v[2]}/{v[3]}")
            elif isinstance(v, tuple): print(f"   {k:<28} p50 {v[0]:6.1f} ms  max {v[1]:6.1f} ms  ({v[2]} rounds)")
            else: print(f"   {k:<28} {v:.1f}")
        sys.stdout.flush()
PY
done

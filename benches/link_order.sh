#!/usr/bin/env bash
# Writes link/parlor.order: the functions a running parlor enters, which build.rs hands to the
# linker to place together at the start of the code (see build.rs for why: resident memory).
#
# How: a uprobe on the entry of every function of the release binary (tracefs), each turned
# off once it fired (so hot functions stop trapping after their first call), while the room
# bench's process mode runs parlor alone (2 and 10 members with data directories and with
# --ephemeral, all sending, rates up to 16,000 lines/s, a late joiner; the first seconds run
# slowly, trapping; the whole takes ~20 minutes on 2 cores). The functions that fired, in
# their order in the binary, are the file.
#
# Needs root, tracefs with uprobe events, python3, and a release build of the bench and of
# parlor, in this order: `cargo bench --bench room --no-run`, then `cargo build --release`.
# (cargo builds parlor for the bench with the dev-dependencies' features, which renames its
# functions; the file must name those of the binary users build, so that one must be last.) Run it again after a
# toolchain or dependency update (function names carry a hash of both): names that no longer
# match are skipped by the linker, so a stale file costs memory, never correctness.
# Usage: benches/link_order.sh [SECONDS per traffic run, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3}
bin=$PWD/target/release/parlor
[ "$(id -u)" = 0 ] || { echo "link_order.sh: needs root (uprobes)" >&2; exit 2; }
[ -x "$bin" ] || { echo "link_order.sh: build first: cargo build --release" >&2; exit 2; }
bench=$(ls -t target/release/deps/room-* 2>/dev/null | grep -v '\.d$' | head -1 || true)
[ -n "$bench" ] || { echo "link_order.sh: build the bench first: cargo bench --bench room --no-run" >&2; exit 2; }
tracing=/sys/kernel/tracing
[ -e "$tracing/uprobe_events" ] || mount -t tracefs nodev "$tracing" 2>/dev/null || tracing=/sys/kernel/debug/tracing
[ -e "$tracing/uprobe_events" ] || { echo "link_order.sh: no tracefs with uprobe events" >&2; exit 2; }
mkdir -p link
exec python3 - "$bin" "$bench" "$seconds" "$tracing" link/parlor.order <<'PY'
import os, subprocess, sys, threading
binary, bench, seconds, tracing, out = sys.argv[1:]
group = "parlor_order"

# Every function's entry, as a file offset (the probes' address).
text = None
for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    fields = line.replace("[ ", "[").split()
    if len(fields) > 5 and fields[1] == ".text":
        text = (int(fields[3], 16), int(fields[4], 16), int(fields[5], 16))
if text is None:
    sys.exit("link_order.sh: no .text section")
address, offset, size = text
functions = {}
nm = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True)
for line in nm.stdout.splitlines():
    fields = line.split()
    if len(fields) == 3 and fields[1] in ("t", "T", "W"):
        at = int(fields[0], 16)
        if address <= at < address + size:
            functions.setdefault(at - address + offset, fields[2])
entries = sorted(functions)

def control(path, text):
    with open(os.path.join(tracing, path), "w") as f:
        f.write(text)

def remove():
    try:
        control(f"events/{group}/enable", "0")
    except OSError:
        pass
    events = os.path.join(tracing, "uprobe_events")
    registered = open(events).read().splitlines()
    ours = [line.split()[0][2:] for line in registered if line.startswith(f"p:{group}/")]
    if ours and len(ours) == len(registered):
        # Only ours: all at once (one by one takes minutes).
        os.close(os.open(events, os.O_WRONLY | os.O_TRUNC))
        return
    fd = os.open(events, os.O_WRONLY | os.O_APPEND)
    for name in ours:
        try:
            os.write(fd, f"-:{name}\n".encode())
        except OSError:
            pass
    os.close(fd)

fired = set()
stop = threading.Event()

def quieten():
    # Probes that fired are turned off, so a hot function traps once, not millions of times.
    while not stop.is_set():
        for line in open(os.path.join(tracing, "uprobe_profile")):
            fields = line.split()
            if len(fields) >= 3 and fields[0] == binary and fields[1] not in fired and int(fields[2]) > 0:
                fired.add(fields[1])
                try:
                    control(f"events/{group}/{fields[1]}/enable", "0")
                except OSError:
                    pass
        stop.wait(0.3)

remove()  # what a run stopped midway left
try:
    fd = os.open(os.path.join(tracing, "uprobe_events"), os.O_WRONLY | os.O_APPEND)
    for i, entry in enumerate(entries):
        os.write(fd, f"p:{group}/f{i} {binary}:0x{entry:x}\n".encode())
    os.close(fd)
    control(f"events/{group}/enable", "1")
    watcher = threading.Thread(target=quieten)
    watcher.start()
    try:
        run = subprocess.run([bench, "--mode", "process", "--seconds", seconds], capture_output=True, text=True)
    finally:
        stop.set()
        watcher.join()
    if run.returncode != 0:
        sys.stderr.write(run.stdout[-2000:] + run.stderr[-2000:])
        sys.exit("link_order.sh: the bench failed")
    for line in open(os.path.join(tracing, "uprobe_profile")):
        fields = line.split()
        if len(fields) >= 3 and fields[0] == binary and int(fields[2]) > 0:
            fired.add(fields[1])
finally:
    remove()
ran = sorted(entries[int(name[1:])] for name in fired if name[1:].isdigit())
with open(out, "w") as f:
    f.writelines(functions[entry] + "\n" for entry in ran)
print(f"{len(ran)} of {len(entries)} functions ran; written to {out}")
PY

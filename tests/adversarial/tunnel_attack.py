#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Crafted packets through a v6udpv4 tunnel, and captures at the victims.

Run with Debian's /usr/bin/python3 (it has python3-scapy). Two commands:

  send --local IP:PORT --server IP:PORT --src6 ADDR --mac MAC KIND...
      Builds each KIND's inner IPv6 packet with scapy and sends it in UDP
      from a socket bound to --local (the tunnel's origin), as a v6udpv4
      client does. KINDs that expect an answer wait for it (bounded) on the
      same socket and fail (exit 1) without one. Prints one line per KIND.
  sniff --iface DEV --seconds N --out FILE --marker TEXT
      Captures on DEV for N seconds and writes to FILE the IPv6 packets
      that carry TEXT or come from an attack source (fe80::bad:0/112,
      2001:db8:bad::/48), one summary a line, then "count N".

The attack packets carry the marker in their payload where they have one,
so a capture can tell them from the victims' own traffic.
"""
import argparse
import select
import socket
import sys
import time

from scapy.all import (ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6MLDMultAddrRec, ICMPv6MLReport, ICMPv6MLReport2,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_Redirect,
                       ICMPv6ND_RS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptPrefixInfo,
                       ICMPv6NDOptSrcLLAddr, ICMPv6TimeExceeded, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, Raw, RouterAlert)

ATTACK_LL = "fe80::bad:1"


def build(kind, a):
    """The inner packet of one attack (or probe) kind."""
    mk = Raw(a.marker.encode())
    victim, gw = a.victim6, a.gw6
    if kind == "na_override":
        # Unsolicited NA claiming the victim's address for our MAC.
        return (IPv6(src=ATTACK_LL, dst="ff02::1", hlim=255) /
                ICMPv6ND_NA(tgt=victim, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=a.mac))
    if kind == "na_global":
        # The same from a global source the tunnel owns, to the gateway.
        return (IPv6(src=a.src6, dst=gw, hlim=255) /
                ICMPv6ND_NA(tgt=victim, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=a.mac))
    if kind == "na_global_hbh":
        # ...with a Hop-by-Hop header in front of the ICMPv6 header.
        return (IPv6(src=a.src6, dst=gw, hlim=255) / IPv6ExtHdrHopByHop() /
                IPv6ExtHdrDestOpt() /
                ICMPv6ND_NA(tgt=victim, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=a.mac))
    if kind == "ns":
        return (IPv6(src=ATTACK_LL, dst="ff02::1:ff00:2", hlim=255) /
                ICMPv6ND_NS(tgt=victim) / ICMPv6NDOptSrcLLAddr(lladdr=a.mac))
    if kind == "rs":
        return IPv6(src=ATTACK_LL, dst="ff02::2", hlim=255) / ICMPv6ND_RS()
    if kind == "ra":
        return (IPv6(src=ATTACK_LL, dst="ff02::1", hlim=255) /
                ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr=a.mac) /
                ICMPv6NDOptPrefixInfo(prefix="2001:db8:bad::", prefixlen=64))
    if kind == "redirect":
        return (IPv6(src=ATTACK_LL, dst=gw, hlim=255) /
                ICMPv6ND_Redirect(tgt=ATTACK_LL, dst=victim) /
                ICMPv6NDOptDstLLAddr(lladdr=a.mac))
    if kind == "mld1_report":
        return (IPv6(src=ATTACK_LL, dst="ff02::1:ff00:2", hlim=1) /
                IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
                ICMPv6MLReport(mladdr="ff02::1:ff00:2"))
    if kind == "mld2_report":
        # What a client kernel sends when its tunnel interface comes up.
        return (IPv6(src=ATTACK_LL, dst="ff02::16", hlim=1) /
                IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
                ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(dst="ff02::1:ff00:2")]))
    if kind == "mld2_report_unspec":
        # ...before it has a link-local address: source ::.
        return (IPv6(src="::", dst="ff02::16", hlim=1) /
                IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
                ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(dst="ff02::1:ff00:2")]))
    if kind == "ll_ping":
        # To the victim's link-local address on the gateway's segment.
        return IPv6(src=a.src6, dst=a.victim_ll, hlim=64) / ICMPv6EchoRequest(id=7) / mk
    if kind == "ll_src_ping":
        return IPv6(src=ATTACK_LL, dst=victim, hlim=64) / ICMPv6EchoRequest(id=7) / mk
    if kind == "mc_ping":
        return IPv6(src=a.src6, dst="ff02::1", hlim=64) / ICMPv6EchoRequest(id=7) / mk
    if kind == "mc_ping_global":
        return IPv6(src=a.src6, dst="ff0e::1", hlim=64) / ICMPv6EchoRequest(id=7) / mk
    if kind == "ping_gw":
        return IPv6(src=a.src6, dst=gw, hlim=64) / ICMPv6EchoRequest(id=8, seq=1) / mk
    if kind == "hop1":
        return IPv6(src=a.src6, dst=victim, hlim=1) / ICMPv6EchoRequest(id=9, seq=1) / mk
    raise SystemExit(f"unknown kind {kind}")


# Kinds that must be answered, and the answer's check.
EXPECT = {
    "ping_gw": lambda p, a: p.haslayer(ICMPv6EchoReply) and p[IPv6].src == a.gw6 and
    p[ICMPv6EchoReply].id == 8,
    "hop1": lambda p, a: p.haslayer(ICMPv6TimeExceeded) and p[IPv6].dst == a.src6,
}


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def wait_answer(sock, kind, a, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        r, _, _ = select.select([sock], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        data, peer = sock.recvfrom(65535)
        try:
            p = IPv6(data)
        except Exception:  # noqa: BLE001 - anything unparsable is not the answer
            continue
        if EXPECT[kind](p, a):
            return p
        if p.haslayer(ICMPv6DestUnreach):
            print(f"# {kind}: destination unreachable from {p[IPv6].src}")
    return None


def cmd_send(a):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(hostport(a.local))
    server = hostport(a.server)
    ok = True
    for kind in a.kinds:
        sock.sendto(bytes(build(kind, a)), server)
        if kind in EXPECT:
            p = wait_answer(sock, kind, a, a.timeout)
            if p is None:
                print(f"{kind}: NO answer within {a.timeout} s")
                ok = False
            else:
                print(f"{kind}: answered: {p.summary()}")
        else:
            print(f"{kind}: sent")
        time.sleep(0.05)
    return 0 if ok else 1


def cmd_sniff(a):
    from scapy.all import AsyncSniffer

    marker = a.marker.encode()

    def ours(p):
        if not p.haslayer(IPv6):
            return False
        src = p[IPv6].src
        return marker in bytes(p) or src.startswith("fe80::bad:") or \
            src.startswith("2001:db8:bad:")

    sn = AsyncSniffer(iface=a.iface, store=True, lfilter=ours)
    sn.start()
    # Tell the caller that the capture runs.
    with open(a.out + ".ready", "w") as f:
        f.write("capturing\n")
    time.sleep(a.seconds)
    got = sn.stop() or []
    with open(a.out, "w") as f:
        for p in got:
            f.write(p.summary() + "\n")
        f.write(f"count {len(got)}\n")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--local", required=True)
    s.add_argument("--server", required=True)
    s.add_argument("--src6", required=True, help="the tunnel's own address")
    s.add_argument("--gw6", required=True, help="a global address of the gateway")
    s.add_argument("--victim6", required=True, help="the IPv6 host's global address")
    s.add_argument("--victim-ll", required=True, help="the IPv6 host's link-local address")
    s.add_argument("--mac", required=True, help="the MAC the attacker claims")
    s.add_argument("--marker", required=True)
    s.add_argument("--timeout", type=float, default=5.0)
    s.add_argument("kinds", nargs="+")
    f = sub.add_parser("sniff")
    f.add_argument("--iface", required=True)
    f.add_argument("--seconds", type=float, required=True)
    f.add_argument("--out", required=True)
    f.add_argument("--marker", required=True)
    a = ap.parse_args()
    return cmd_send(a) if a.cmd == "send" else cmd_sniff(a)


if __name__ == "__main__":
    sys.exit(main())

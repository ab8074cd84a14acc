#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Send IPv6 echo requests through a tunnel with the outer IPv4 packet
fragmented, as a client behind a small path MTU would (t_fragments.sh).

Needs Debian's python3-scapy: run it with /usr/bin/python3.

  frag_send.py --iface c0 --dmac MAC --src4 192.0.2.2 --dst4 192.0.2.1 \
      --type v6udpv4 --sport 40000 --src6 2001:db8:100::2 --dst6 2001:db8:2::2 \
      [--count 3] [--size 1200] [--fragsize 512]
"""
import argparse
import sys

from scapy.all import IP, UDP, Ether, ICMPv6EchoRequest, IPv6, fragment, sendp  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dmac", required=True)
    ap.add_argument("--src4", required=True)
    ap.add_argument("--dst4", required=True)
    ap.add_argument("--type", choices=["v6udpv4", "v6v4"], required=True)
    ap.add_argument("--sport", type=int, default=0)
    ap.add_argument("--port", type=int, default=3653)
    ap.add_argument("--src6", required=True)
    ap.add_argument("--dst6", required=True)
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--size", type=int, default=1200, help="echo data bytes")
    ap.add_argument("--fragsize", type=int, default=512)
    a = ap.parse_args()

    frames = []
    for seq in range(a.count):
        inner = IPv6(src=a.src6, dst=a.dst6, hlim=64) / ICMPv6EchoRequest(
            id=0x7466, seq=seq, data=bytes((i & 0xFF for i in range(a.size))))
        if a.type == "v6udpv4":
            outer = IP(src=a.src4, dst=a.dst4, id=0x4000 + seq, flags=0) / UDP(
                sport=a.sport, dport=a.port) / inner
        else:
            outer = IP(src=a.src4, dst=a.dst4, id=0x4000 + seq, flags=0, proto=41) / inner
        frags = fragment(outer, fragsize=a.fragsize)
        if len(frags) < 2:
            sys.exit("packet was not fragmented: raise --size or lower --fragsize")
        frames += [Ether(dst=a.dmac) / f for f in frags]
    sendp(frames, iface=a.iface, verbose=False)
    print("sent %d packets in %d fragments" % (a.count, len(frames)))


if __name__ == "__main__":
    main()

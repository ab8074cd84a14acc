#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Send IPv6 echo requests through a tunnel with the outer IPv4 packet
fragmented, as a client behind a small path MTU would (t_fragments.sh).
--msg na / mld2 send, instead, what must stay in the tunnel whatever its
addresses: a Neighbor Advertisement (hop limit 255, override flag, a
target link-layer address) or an MLDv2 report behind a Hop-by-Hop header
with Router Alert, as a client's kernel builds them.

Needs Debian's python3-scapy: run it with /usr/bin/python3.

  frag_send.py --iface c0 --dmac MAC --src4 192.0.2.2 --dst4 192.0.2.1 \
      --type v6udpv4 --sport 40000 --src6 2001:db8:100::2 --dst6 2001:db8:2::2 \
      [--count 3] [--size 1200] [--fragsize 512] [--msg echo|na|mld2 --target ADDR]
"""
import argparse
import sys

from scapy.all import (IP, UDP, Ether, ICMPv6EchoRequest, ICMPv6MLDMultAddrRec,  # noqa: E402
                       ICMPv6MLReport2, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6,
                       IPv6ExtHdrHopByHop, RouterAlert, fragment, sendp)


def inner_packet(a, seq):
    """The IPv6 packet to tunnel: --size bytes of payload data in each
    kind, so that it is fragmented like the echo requests."""
    data = bytes((i & 0xFF for i in range(a.size)))
    if a.msg == "na":
        # Unknown ND options are skipped by receivers: the padding keeps
        # the message valid.
        pad = (a.size + 7) // 8
        na = ICMPv6ND_NA(tgt=a.target, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(
            lladdr="02:00:00:00:66:66")
        return IPv6(src=a.src6, dst=a.dst6, hlim=255) / na / bytes(
            [200, pad] + [0] * (pad * 8 - 2))
    if a.msg == "mld2":
        recs = [ICMPv6MLDMultAddrRec(dst="ff05::%x" % (i + 1)) for i in range(a.size // 20 + 1)]
        return IPv6(src=a.src6, dst=a.dst6, hlim=1) / IPv6ExtHdrHopByHop(
            options=[RouterAlert()]) / ICMPv6MLReport2(records=recs)
    return IPv6(src=a.src6, dst=a.dst6, hlim=64) / ICMPv6EchoRequest(
        id=0x7466, seq=seq, data=data)


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
    ap.add_argument("--msg", choices=["echo", "na", "mld2"], default="echo")
    ap.add_argument("--target", default="2001:db8:2::2", help="NA target address")
    a = ap.parse_args()

    frames = []
    for seq in range(a.count):
        inner = inner_packet(a, seq)
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

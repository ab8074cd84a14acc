#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Crafted tunnel packets for the adversarial tests (Debian's python3, which
has scapy). Subcommands:
  (DST6/SRC6: comma-separated lists; anon:IPV4:PORT = that anonymous address)
  tunnel IFACE DMAC SRC4 SPORT DST6 [--bad-ipcsum] [--bad-udpcsum] [--count N]
      v6udpv4 packets from SRC4:SPORT to the gateway 192.0.2.1:3653, inner
      source = SRC4:SPORT's own anonymous address (public mode accepts it),
      inner ICMPv6 echo request to DST6, Ethernet destination DMAC.
  ping6 IFACE DMAC SRC6 DST6 [--count N]
      native IPv6 echo requests with a (spoofed) source.
  flood IFACE DMAC SECONDS
      as fast as one raw socket goes, for SECONDS: v6udpv4 frames from
      forged origins all over 198.51.100.0/24 and 203.0.113.0/24 whose
      inner source is not their own (another origin's anonymous address);
      prints how many were sent.
  sniff IFACE SECONDS KIND
      count frames for SECONDS and print the number: KIND 'encap' = IPv4
      from 192.0.2.1 (anything the gateway encapsulated), 'echo' = ICMPv6
      echo requests."""
import ipaddress
import sys

from scapy.all import Ether, IP, IPv6, ICMPv6EchoRequest, UDP, Raw, sendp, sniff, conf

conf.verb = 0
ANON = ipaddress.IPv6Address("2001:db8:ffff::")
GW4 = "192.0.2.1"


def anon(ip4, port, lan=1):
    """pubtsp layout: bytes 8-11 IPv4, 12-13 port, 14-15 local field."""
    b = bytearray(ANON.packed)
    b[8:12] = ipaddress.IPv4Address(ip4).packed
    b[12:14] = port.to_bytes(2, "big")
    b[14:16] = lan.to_bytes(2, "big")
    return str(ipaddress.IPv6Address(bytes(b)))


def addr6(s):
    """An IPv6 address, or anon:IPV4:PORT for that origin's anonymous one."""
    if s.startswith("anon:"):
        _, ip4, port = s.split(":")
        return anon(ip4, int(port))
    return s


def opt(args, name, default=None):
    if name in args:
        return args[args.index(name) + 1]
    return default


def main(a):
    cmd = a[0]
    if cmd == "anon":
        print(anon(a[1], int(a[2])))
        return
    if cmd == "tunnel":
        iface, dmac, src4, sport = a[1], a[2], a[3], int(a[4])
        pkts = []
        for dst6 in a[5].split(","):
            inner = IPv6(src=anon(src4, sport), dst=addr6(dst6), hlim=64) / ICMPv6EchoRequest(id=7, seq=1, data=b"x" * 32)
            pkt = Ether(dst=dmac) / IP(src=src4, dst=GW4) / UDP(sport=sport, dport=3653) / inner
            pkt = Ether(bytes(pkt))  # checksums computed
            if "--bad-ipcsum" in a:
                pkt[IP].chksum ^= 0x0101
            if "--bad-udpcsum" in a:
                pkt[UDP].chksum ^= 0x0101
            pkts.append(pkt)
        sendp(pkts, iface=iface, count=int(opt(a, "--count", "1")))
        return
    if cmd == "ping6":
        iface, dmac, dst6 = a[1], a[2], a[4]
        pkts = [Ether(dst=dmac) / IPv6(src=addr6(s6), dst=dst6) / ICMPv6EchoRequest(id=9, seq=1, data=b"y" * 16)
                for s6 in a[3].split(",")]
        sendp(pkts, iface=iface, count=int(opt(a, "--count", "1")))
        return
    if cmd == "flood":
        import socket
        import time
        iface, dmac, secs = a[1], a[2], float(a[3])
        frames = []
        for i in range(512):
            net = "198.51.100." if i % 2 else "203.0.113."
            src4, sport = net + str(1 + i % 254), 1024 + i
            inner = IPv6(src=anon("192.0.2.2", 40000, 7 + i), dst="2001:db8:2::2", hlim=64) / ICMPv6EchoRequest(id=5, seq=i)
            pkt = Ether(dst=dmac) / IP(src=src4, dst=GW4) / UDP(sport=sport, dport=3653) / inner
            frames.append(bytes(Ether(bytes(pkt))))
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((iface, 0))
        sent, end = 0, time.monotonic() + secs
        while time.monotonic() < end:
            for f in frames:
                try:
                    s.send(f)
                    sent += 1
                except BlockingIOError:
                    pass
        print(sent)
        return
    if cmd == "sniff":
        iface, secs, kind = a[1], float(a[2]), a[3]
        if kind == "encap":
            keep = lambda p: IP in p and p[IP].src == GW4
        else:
            keep = lambda p: ICMPv6EchoRequest in p
        print(len(sniff(iface=iface, timeout=secs, lfilter=keep)))
        return
    sys.exit("unknown command " + cmd)


main(sys.argv[1:])

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""v6v4 (IPv6 in IPv4, protocol 41) from the client side, for the
adversarial tests: send an ICMPv6 echo request as a tunnel packet, or count
the tunnel packets that arrive for an IPv4 address.

  proto41.py send SRC4 DST4 SRC6 DST6 [COUNT]
  proto41.py count DST4 SECONDS      prints "listening", then how many
                                     arrived for DST4

Plain raw sockets (the kernel writes the outer IPv4 header), no scapy."""
import socket
import struct
import sys
import time

PROTO_IPV6 = 41


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum((data[i] << 8) | data[i + 1] for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo_request(src6, dst6, seq):
    s = socket.inet_pton(socket.AF_INET6, src6)
    d = socket.inet_pton(socket.AF_INET6, dst6)
    icmp = struct.pack("!BBHHH", 128, 0, 0, 0x7461, seq) + b"claim-proof"
    pseudo = s + d + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", checksum(pseudo + icmp)) + icmp[4:]
    return struct.pack("!IHBB", 6 << 28, len(icmp), 58, 64) + s + d + icmp


def send(src4, dst4, src6, dst6, count=1):
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, PROTO_IPV6)
    sock.bind((src4, 0))
    for seq in range(count):
        sock.sendto(echo_request(src6, dst6, seq), (dst4, 0))
        time.sleep(0.05)
    sock.close()


def count(dst4, seconds):
    """Protocol-41 packets whose outer destination is dst4 (the raw socket
    sees every one the namespace receives, IPv4 header included)."""
    want = socket.inet_aton(dst4)
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, PROTO_IPV6)
    print("listening", flush=True)  # the caller waits for this line
    n = 0
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        if len(data) >= 20 and data[16:20] == want:
            n += 1
    print(n, flush=True)


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5],
             int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    elif len(sys.argv) == 4 and sys.argv[1] == "count":
        count(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

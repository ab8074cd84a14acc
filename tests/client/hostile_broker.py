#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A TSP broker that misbehaves, for tspc's robustness checks.

    hostile_broker.py ADDR BASE_PORT

Serves TCP and UDP (RUDP framing) on BASE_PORT + i, one behaviour per
port (the MODES list below). Every mode speaks well-formed TSP up to the
point where it goes wrong: VERSION gets a CAPABILITY line, AUTHENTICATE
ANONYMOUS gets "200 Success", then the create request (or an earlier
message) gets the hostile reply. Prints "ready" once every socket is
bound.
"""
import select
import socket
import sys

CAP = b"CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=ANONYMOUS\r\n"
INFO_OPEN = (b'<tunnel action="info" type="v6udpv4" lifetime="1440"><server>'
             b'<address type="ipv4">192.0.2.1</address>')


def framed(body):
    return b"Content-length: %d\r\n" % len(body) + body


# mode -> (phase it misbehaves in, reply); phase is "version" or "create".
MODES = [
    # a length far beyond anything tspc accepts
    ("create", b"Content-length: 99999999999\r\n200 Success\r\n" + INFO_OPEN),
    # a length larger than what follows (the rest never comes)
    ("create", b"Content-length: 4000\r\n200 Success\r\n" + INFO_OPEN),
    # well framed, but the XML stops in the middle
    ("create", framed(b"200 Success\r\n" + INFO_OPEN)),
    # binary garbage, NULs included
    ("create", bytes(range(256)) * 4),
    # an entity bomb
    ("create", framed(b'200 Success\r\n<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">'
                      b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                      b'<tunnel action="info" type="v6udpv4">&b;</tunnel>\r\n')),
    # an info reply whose addresses are not addresses
    ("create", framed(b'200 Success\r\n<tunnel action="info" type="v6udpv4"><server>'
                      b'<address type="ipv4">' + b"9" * 5000 + b'</address>'
                      b'<address type="ipv6">::1</address></server><client>'
                      b'<address type="ipv4">192.0.2.2</address>'
                      b'<address type="ipv6">zz::</address></client></tunnel>\r\n')),
    # garbage instead of CAPABILITY
    ("version", b"\xff\xfe HELLO \x00\x01 not TSP at all\r\n"),
    # a redirect to itself, forever (the port is filled in below)
    ("version", None),
    # a good offer whose client name tries to add a line to tspc's output
    ("create", None),
    # a redirect whose first broker is no host name; the second is tspgw
    ("version", b"1302 Unsupported client version\r\n<tunnel action=\"list\" type=\"broker\">"
                b"<broker><address type=\"dn\">not a $(name)</address></broker>"
                b"<broker><address type=\"ipv4\">192.0.2.1</address></broker></tunnel>\r\n"),
]
REDIRECT_MODE = 7
FORGED_DN_MODE = 8


def forged_dn_offer(request):
    kind = b"v6v4" if b'type="v6v4"' in request else b"v6udpv4"
    return framed(b'200 Success\r\n<tunnel action="info" type="' + kind + b'"><server>'
                  b'<address type="ipv4">192.0.2.1</address><address type="ipv6">2001:db8:2::1'
                  b'</address></server><client><address type="ipv4">192.0.2.2</address>'
                  b'<address type="ipv6">2001:db8:ffff::2</address><address type="dn">'
                  b'x.example&#10;TSP_PREFIX=2001:db8:666::</address></client></tunnel>\r\n')


def reply_for(mode, port, msg):
    phase, bad = MODES[mode]
    if mode == REDIRECT_MODE:
        bad = (b"1302 Unsupported client version\r\n<tunnel action=\"list\" type=\"broker\">"
               b"<broker><address type=\"ipv4\">192.0.2.1:%d</address></broker></tunnel>\r\n"
               % port)
    if msg.startswith(b"VERSION="):
        return bad if phase == "version" else CAP
    if msg.startswith(b"AUTHENTICATE"):
        return b"200 Success\r\n"
    if b'action="accept"' in msg:
        return b""
    if msg.startswith(b"Content-length"):
        return forged_dn_offer(msg) if mode == FORGED_DN_MODE else bad
    return b""


def main():
    addr, base = sys.argv[1], int(sys.argv[2])
    udp, tcp, conns = {}, {}, {}
    for i in range(len(MODES)):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((addr, base + i))
        udp[u] = i
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((addr, base + i))
        t.listen(8)
        tcp[t] = i
    print("ready", flush=True)
    while True:
        r, _, _ = select.select(list(udp) + list(tcp) + list(conns), [], [])
        for s in r:
            if s in udp:
                d, a = s.recvfrom(65536)
                if len(d) >= 8:
                    s.sendto(d[:8] + reply_for(udp[s], base + udp[s], d[8:]), a)
            elif s in tcp:
                c, _ = s.accept()
                conns[c] = tcp[s]
            else:
                try:
                    d = s.recv(65536)
                except OSError:
                    d = b""
                if not d:
                    conns.pop(s)
                    s.close()
                    continue
                # one message per segment is enough for tspc's dialogue
                out = reply_for(conns[s], base + conns[s], d.lstrip(b"\0"))
                if out:
                    try:
                        s.sendall(out)
                    except OSError:
                        conns.pop(s)
                        s.close()


if __name__ == "__main__":
    main()

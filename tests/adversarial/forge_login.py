#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Log-forging logins for tests/adversarial/t_log_injection.sh.

Each attempt carries FORGED (a newline, then a whole fake event line) in
bytes that libsasl2 or the broker write into log messages: a DIGEST-MD5
user name and an extra, unknown directive of the digest-response (which
libsasl2 logs as "unrecognized pair NAME/VALUE"), and a PLAIN authorization
identity. The logins are meant to fail; only the gateway's log matters.
Speaks TSP over TCP through tests/broker/gogoc_sim.py's framing.
"""
import argparse
import base64
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "broker"))
from gogoc_sim import Tcp, TspError  # noqa: E402


def version(conn):
    cap = conn.sendrecv(b"VERSION=2.0.1\r\n")
    if not cap.startswith(b"CAPABILITY "):
        raise TspError("version refused: %r" % cap)


def digest(server, port, name, forged):
    conn = Tcp(server, port)
    try:
        version(conn)
        chal = base64.b64decode(conn.sendrecv(b"AUTHENTICATE DIGEST-MD5\r\n\0").strip()).decode()
        fields = dict(re.findall(r'([a-z-]+)="?([^",]*)"?', chal))
        msg = ('charset=utf-8,username="mallory%s",realm="%s",nonce="%s",nc=00000001,'
               'cnonce="abcdef",digest-uri="tsp/%s",response=%s,qop=auth,x-note="%s"' %
               (forged, fields.get("realm", ""), fields["nonce"], name, "0" * 32, forged))
        conn.sendrecv(base64.b64encode(msg.encode()) + b"\r\n")
    finally:
        conn.close()


def plain(server, port, forged):
    conn = Tcp(server, port)
    try:
        version(conn)
        conn.send(b"AUTHENTICATE PLAIN\r\n\0")
        # authzid carries the forgery (no CR/LF: TSP ends the line there).
        conn.sendrecv(b"mallory\t%s\0mallory\0x\r\n" % forged.replace("\n", "\x0b").encode())
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", required=True)
    p.add_argument("--server-name", required=True)
    p.add_argument("--port", type=int, default=3653)
    p.add_argument("--forged", required=True, help="the fake line, newline included")
    a = p.parse_args()
    for attempt in (lambda: digest(a.server, a.port, a.server_name, a.forged),
                    lambda: plain(a.server, a.port, a.forged)):
        try:
            attempt()
        except (TspError, OSError) as e:
            print("attempt ended: %s" % e, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""One TSP session over TCP with the names a client controls set at will,
for the adversarial tests (t_fleet_hijack.sh): the authentication
identity (authcid), the authorization identity (authzid), the realm, and
addresses claimed in the create request.

  login_as.py --server IP --local IP --mech plain|digest-md5|scram-sha-256|anonymous
              --authcid NAME [--authzid NAME] [--realm REALM] --password PW
              [--claim-ipv6 ADDR] [--claim-prefix ADDR/LEN] [--claim-dn NAME]
              --server-name NAME --out FILE

Names are Python string escapes (\\x00, \\t, \\xff...), sent as bytes.
Every AUTHENTICATE line ends with gogoc's stray NUL, which the broker
skips over TCP (so a PLAIN message's own leading NUL stays).
Writes JSON: "auth" (200, 300 or the error), and after a successful
login "status" of the create, "client_ipv6", "prefix"; the tunnel is
accepted, so it enters the gateway's maps. Only the standard library;
every wait is bounded.
"""
import argparse
import base64
import codecs
import hashlib
import hmac
import ipaddress
import json
import os
import re
import socket
import sys


def raw(s):
    return codecs.escape_decode(s.encode())[0] if s is not None else None


class Tcp:
    def __init__(self, server, local):
        self.sock = socket.create_connection((server, 3653), timeout=8,
                                             source_address=(local, 0))

    def send(self, data):
        self.sock.sendall(data)

    def recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed by the server")
        m = re.match(rb"Content-length: *(\d+)\r?\n", data, re.I)
        if m:
            need = int(m.group(1)) + m.end()
            while len(data) < need:
                more = self.sock.recv(65536)
                if not more:
                    break
                data += more
        return data

    def sendrecv(self, data):
        self.send(data)
        return self.recv()


def status(reply):
    m = re.search(rb"(?:^|\n)\s*(\d{3,4}) ", reply)
    return int(m.group(1)) if m else 0


def h(b):
    return hashlib.md5(b).digest()


def hx(b):
    return hashlib.md5(b).hexdigest()


def quoted(b):
    """The inside of an RFC 2831 quoted-string: \\ and \" escaped."""
    return b.replace(b"\\", b"\\\\").replace(b'"', b'\\"')


def digest_md5(c, a):
    chal = c.sendrecv(b"AUTHENTICATE DIGEST-MD5\r\n\0")
    if status(chal) == 300:
        return 300
    fields = dict(re.findall(r'([a-z-]+)="?([^",]*)"?', base64.b64decode(chal.strip()).decode()))
    realm = raw(a.realm) if a.realm is not None else fields.get("realm", "").encode()
    nonce, cnonce = fields["nonce"].encode(), base64.b64encode(os.urandom(12))
    user, authz, pw = raw(a.authcid), raw(a.authzid), a.password.encode()
    uri = b"tsp/" + a.server_name.encode()
    a1 = h(b"%s:%s:%s" % (user, realm, pw)) + b":%s:%s" % (nonce, cnonce)
    if authz is not None:
        a1 += b":" + authz
    ha1 = hx(a1).encode()

    def resp(a2):
        return hx(b"%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cnonce, hx(a2).encode()))
    msg = (b'charset=utf-8,username="%s",realm="%s",nonce="%s",nc=00000001,cnonce="%s",'
           b'digest-uri="%s",response=%s,qop=auth' % (quoted(user), quoted(realm), nonce, cnonce,
                                                    uri, resp(b"AUTHENTICATE:" + uri).encode()))
    if authz is not None:
        msg += b',authzid="%s"' % quoted(authz)
    reply = c.sendrecv(base64.b64encode(msg) + b"\r\n")
    if status(reply) == 300:
        return 300
    final = c.sendrecv(b"\r\n")
    return status(final)


def scram(c, a):
    user = raw(a.authcid).replace(b"=", b"=3D").replace(b",", b"=2C")
    gs2 = b"n," + (b"a=" + raw(a.authzid) if a.authzid is not None else b"") + b","
    cnonce = base64.b64encode(os.urandom(18))
    first_bare = b"n=" + user + b",r=" + cnonce
    reply = c.sendrecv(b"AUTHENTICATE SCRAM-SHA-256\r\n" + base64.b64encode(gs2 + first_bare) +
                       b"\r\n")
    if status(reply) == 300:
        return 300
    server_first = base64.b64decode(reply.strip())
    f = dict(kv.split(b"=", 1) for kv in server_first.split(b","))
    salted = hashlib.pbkdf2_hmac("sha256", a.password.encode(), base64.b64decode(f[b"s"]),
                                 int(f[b"i"]))
    ck = hmac.new(salted, b"Client Key", "sha256").digest()
    final_bare = b"c=" + base64.b64encode(gs2) + b",r=" + f[b"r"]
    auth_msg = first_bare + b"," + server_first + b"," + final_bare
    sig = hmac.new(hashlib.sha256(ck).digest(), auth_msg, "sha256").digest()
    proof = bytes(x ^ y for x, y in zip(ck, sig))
    reply = c.sendrecv(base64.b64encode(final_bare + b",p=" + base64.b64encode(proof)) + b"\r\n")
    if status(reply) in (200, 300):
        return status(reply)
    return status(c.sendrecv(b"\r\n"))


def plain(c, a):
    # Over TCP the AUTHENTICATE line gets no answer: the message follows.
    c.send(b"AUTHENTICATE PLAIN\r\n\0")
    authz = raw(a.authzid) if a.authzid is not None else b""
    return status(c.sendrecv(authz + b"\0" + raw(a.authcid) + b"\0" + a.password.encode() +
                             b"\r\n"))


def create(c, a):
    lines = ['<tunnel action="create" type="v6v4" proxy="no">', ' <client>',
             '  <address type="ipv4">%s</address>' % a.local]
    if a.claim_ipv6:
        lines.append('  <address type="ipv6">%s</address>' % a.claim_ipv6)
    if a.claim_dn:
        lines.append('  <address type="dn">%s</address>' % a.claim_dn)
    lines += ['  <keepalive interval="30"><address type="ipv6">::</address></keepalive>']
    if a.mech != "anonymous":
        p = a.claim_prefix.split("/") if a.claim_prefix else None
        lines += ['  <router>',
                  '   <prefix length="%s">%s</prefix>' % (p[1], p[0]) if p else
                  '   <prefix length="56"/>',
                  '  </router>']
    lines += [' </client>', '</tunnel>', '']
    body = "\r\n".join(lines).encode()
    return c.sendrecv(b"Content-length: %d\r\n" % len(body) + body)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", required=True)
    p.add_argument("--server-name", required=True)
    p.add_argument("--local", required=True)
    p.add_argument("--mech", required=True,
                   choices=["plain", "digest-md5", "scram-sha-256", "anonymous"])
    p.add_argument("--authcid", default="")
    p.add_argument("--authzid")
    p.add_argument("--realm")
    p.add_argument("--password", default="")
    p.add_argument("--claim-ipv6")
    p.add_argument("--claim-prefix")
    p.add_argument("--claim-dn")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    r = {}
    try:
        c = Tcp(a.server, a.local)
        if not c.sendrecv(b"VERSION=2.0.2\r\n").startswith(b"CAPABILITY "):
            raise EOFError("no capability line")
        if a.mech == "anonymous":
            r["auth"] = status(c.sendrecv(b"AUTHENTICATE ANONYMOUS\r\n\0"))
        else:
            r["auth"] = {"plain": plain, "digest-md5": digest_md5,
                         "scram-sha-256": scram}[a.mech](c, a)
        if r["auth"] == 200:
            reply = create(c, a).decode(errors="replace")
            r["status"] = status(reply.encode())
            m = re.search(r'<client>.*?<address type="ipv6">([0-9a-fA-F:]+)</address>', reply)
            r["client_ipv6"] = str(ipaddress.IPv6Address(m.group(1))) if m else None
            m = re.search(r'<prefix length="(\d+)">([0-9a-fA-F:]+)</prefix>', reply)
            r["prefix"] = str(ipaddress.IPv6Network("%s/%s" % (m.group(2), m.group(1)))) \
                if m else None
            if r["status"] == 200:
                c.send(b'Content-length: 34\r\n<tunnel action="accept"></tunnel>\r\n')
    except (OSError, EOFError, ValueError, KeyError) as e:
        r["error"] = str(e)
    with open(a.out, "w") as fh:
        json.dump(r, fh)
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A TSP client that speaks byte for byte as gogoc (gogoCLIENT 1.2) does.

Used by the broker's integration tests. It reproduces gogoc's quirks:
RUDP sequence numbers starting at 0xF00000F0 with a millisecond
timestamp, the stray NUL after AUTHENTICATE lines (gogoc sends
sizeof(string)), empty datagrams to fetch pending replies, no replies
expected over TCP for AUTHENTICATE PLAIN and accept, DIGEST-MD5 computed
as gogoc computes it (digest-uri "tsp/<server>"), and the Content-length
framing of commands and replies.

Only the Python standard library; every wait is bounded.
"""
import argparse
import base64
import hashlib
import ipaddress
import json
import os
import re
import socket
import struct
import sys
import time

RUDP_TIMEOUT = 2.0
RUDP_TRIES = 3


class TspError(Exception):
    pass


class Rudp:
    """gogoc's net_rudp.c: every send waits for the reply with its sequence."""

    def __init__(self, server, port, local=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if local:
            self.sock.bind(local)
        self.sock.connect((server, port))
        self.seq = 240
        self.t0 = time.monotonic()
        self.retransmits = 0
        self.requests = 0
        # Lose the first reply to every request: each one is retransmitted
        # once, and must get the same answer again (the server's cache),
        # not a second processing.
        self.drop_every_first_reply = False

    def header(self, seq):
        ms = int((time.monotonic() - self.t0) * 1000) & 0xFFFFFFFF
        return struct.pack("!II", 0xF0000000 | seq, ms)

    def sendrecv(self, payload, tries=RUDP_TRIES, drop_first_reply=False):
        seq = self.seq
        self.seq += 1
        self.requests += 1
        want = struct.pack("!I", 0xF0000000 | seq)
        drop_first_reply = drop_first_reply or self.drop_every_first_reply
        for attempt in range(tries):
            self.sock.send(self.header(seq) + payload)
            if attempt:
                self.retransmits += 1
            deadline = time.monotonic() + RUDP_TIMEOUT
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    break
                if data[:4] != want:
                    continue
                if drop_first_reply:
                    drop_first_reply = False  # pretend it was lost: retransmit
                    break
                return data[8:]
        raise TspError("no reply to sequence 0x%08x" % (0xF0000000 | seq))

    def send(self, payload):
        return self.sendrecv(payload)

    def recv(self):
        return self.sendrecv(b"")

    def close(self):
        self.sock.close()


class Tcp:
    def __init__(self, server, port, local=None):
        self.sock = socket.create_connection((server, port), timeout=5, source_address=local)
        self.sock.settimeout(5)

    def sendrecv(self, payload):
        self.sock.sendall(payload)
        return self.recv()

    def send(self, payload):
        self.sock.sendall(payload)
        return b""

    def recv(self):
        """One recv(), as gogoc does; completes Content-length replies."""
        data = self.sock.recv(65536)
        if not data:
            raise TspError("connection closed by the server")
        m = re.match(rb"Content-length: *(\d+)\r?\n", data, re.I)
        if m:
            need = int(m.group(1)) + m.end()
            deadline = time.monotonic() + 5
            while len(data) < need and time.monotonic() < deadline:
                more = self.sock.recv(65536)
                if not more:
                    break
                data += more
        return data

    def close(self):
        self.sock.close()


def status_of(reply):
    m = re.match(rb"\s*(\d+)", reply)
    return int(m.group(1)) if m else 0


def md5hex(b):
    return hashlib.md5(b).hexdigest()


PAUSE_FILE = None


def pause_point():
    """With --pause-file PATH: say so in PATH.paused, then wait (at most
    30 s) until PATH exists, so a test can act in the middle of a session
    (a reload between the challenge and the answer)."""
    if not PAUSE_FILE:
        return
    open(PAUSE_FILE + ".paused", "w").close()
    deadline = time.monotonic() + 30
    while not os.path.exists(PAUSE_FILE):
        if time.monotonic() > deadline:
            raise TspError("paused: %s never appeared" % PAUSE_FILE)
        time.sleep(0.05)


def digest_md5(conn, user, password, server):
    chal_b64 = conn.sendrecv(b"AUTHENTICATE DIGEST-MD5\r\n\0")
    if status_of(chal_b64) == 300:
        raise TspError("300 before the challenge")
    pause_point()
    chal = base64.b64decode(chal_b64.strip()).decode()
    fields = dict(re.findall(r'([a-z-]+)="?([^",]*)"?', chal))
    realm, nonce = fields.get("realm", ""), fields["nonce"]
    qop, charset = fields.get("qop", "auth"), fields.get("charset", "utf-8")
    cnonce = str(int(time.time()))
    a1_1 = hashlib.md5(("%s:%s:%s" % (user, realm, password)).encode()).digest()
    a1 = md5hex(a1_1 + (":%s:%s" % (nonce, cnonce)).encode())
    a2 = md5hex(("AUTHENTICATE:tsp/%s" % server).encode())
    ca2 = md5hex((":tsp/%s" % server).encode())
    resp = md5hex(("%s:%s:00000001:%s:%s:%s" % (a1, nonce, cnonce, qop, a2)).encode())
    cresp = md5hex(("%s:%s:00000001:%s:%s:%s" % (a1, nonce, cnonce, qop, ca2)).encode())
    msg = ('charset=%s,username="%s",realm="%s",nonce="%s",nc=00000001,cnonce="%s",'
           'digest-uri="tsp/%s",response=%s,qop=auth' % (charset, user, realm, nonce, cnonce,
                                                        server, resp))
    reply = conn.sendrecv(base64.b64encode(msg.encode()) + b"\r\n")
    if status_of(reply) == 300:
        raise TspError("300 Authentication failed")
    try:
        rsp = base64.b64decode(reply.strip()).decode()
    except ValueError:
        raise TspError("rspauth is not base64: %r" % reply)
    if rsp.split("rspauth=")[-1][:32] != cresp:
        raise TspError("server's rspauth is wrong: %r" % rsp)
    final = conn.recv()
    if status_of(final) != 200:
        raise TspError("after rspauth: %r" % final)


def authenticate(conn, auth, user, password, server):
    if auth == "anonymous":
        reply = conn.sendrecv(b"AUTHENTICATE ANONYMOUS\r\n\0")
        if status_of(reply) != 200:
            raise TspError("anonymous: %r" % reply)
    elif auth == "plain":
        if status_of(conn.send(b"AUTHENTICATE PLAIN\r\n\0")) == 300:
            raise TspError("300 Authentication failed")  # refused before the password
        reply = conn.sendrecv(b"\0%s\0%s\r\n" % (user.encode(), password.encode()))
        if status_of(reply) != 200:
            raise TspError("plain: %r" % reply)
    elif auth == "digest":
        digest_md5(conn, user, password, server)
        return
    else:
        raise TspError("unknown auth " + auth)
    pause_point()


def create_request(ttype, client_ipv4, keepalive, router, prefix_len):
    """gogoc's xml_req.c layout: CRLF line ends, indentation, proxy=."""
    lines = ['<tunnel action="create" type="%s" proxy="no">' % ttype,
             ' <client>',
             '  <address type="ipv4">%s</address>' % client_ipv4,
             '  <keepalive interval="%d">' % keepalive,
             '    <address type="ipv6">::</address>',
             '  </keepalive>']
    if router:
        lines += ['  <router>',
                  '   <prefix length="%d"/>' % prefix_len,
                  '   <dns_server>',
                  '     <address type="ipv6">2001:db8::53</address>',
                  '   </dns_server>',
                  '  </router>']
    lines += [' </client>', '</tunnel>']
    return "\r\n".join(lines) + "\r\n"


def command(xml):
    body = xml.encode()
    return b"Content-length: %d\r\n" % len(body) + body


def parse_tunnel(reply):
    """Extract what gogoc's parser reads from the info reply."""
    text = reply.decode(errors="replace")
    m = re.match(r"Content-length: *(\d+)\r\n(.*)", text, re.S)
    if not m:
        raise TspError("reply without Content-length: %r" % text)
    body = m.group(2)
    status = int(body.split(" ", 1)[0])
    info = {"status": status, "raw": body}
    if status != 200:
        return info
    xml = body[body.index("\n") + 1:]
    if xml.startswith("<?xml"):
        raise TspError("XML declaration: gogoc cannot parse it")
    t = re.search(r'<tunnel action="info" type="([a-z0-9]+)"(?: lifetime="(\d+)")?', xml)
    info["type"] = t.group(1)
    server = re.search(r"<server>(.*?)</server>", xml).group(1)
    client = re.search(r"<client>(.*)</client>", xml).group(1)
    info["server_ipv4"] = re.search(r'<address type="ipv4">([^<]+)', server).group(1)
    info["server_ipv6"] = re.search(r'<address type="ipv6">([^<]+)', server).group(1)
    info["client_ipv4"] = re.search(r'<address type="ipv4">([^<]+)', client).group(1)
    info["client_ipv6"] = re.search(r'<address type="ipv6">([^<]+)', client).group(1)
    info["dns_server"] = bool(re.search(r"<dns_server>", client))
    dn = re.search(r'<address type="dn">([^<]+)', client)
    if dn:
        info["client_dn"] = dn.group(1)
    k = re.search(r'<keepalive interval="(\d+)"><address type="ipv6">([^<]+)', client)
    if k:
        info["keepalive"] = int(k.group(1))
        info["keepalive_addr"] = k.group(2)
    p = re.search(r'<prefix length="(\d+)">([^<]+)</prefix>', client)
    if p:
        plen = int(p.group(1))
        # gogoc keeps ceil(len/16)*4 hex digits and the colons between.
        groups = (plen + 15) // 16
        text = p.group(2)
        cut = text[:groups * 5 - 1]
        info["prefix_text"] = text
        info["prefix"] = "%s/%d" % (ipaddress.IPv6Network(
            cut + "::" if groups < 8 else cut).network_address, plen)
        info["prefix_len"] = plen
    return info


def icmp6_echo(src, dst, seq, ident=0x7473):
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    payload = b"tspgw-keepalive"
    icmp = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + payload
    pseudo = s + d + struct.pack("!I3xB", len(icmp), 58)
    c = 0
    data = pseudo + icmp
    if len(data) % 2:
        data += b"\0"
    for i in range(0, len(data), 2):
        c += (data[i] << 8) | data[i + 1]
    while c >> 16:
        c = (c & 0xFFFF) + (c >> 16)
    icmp = icmp[:2] + struct.pack("!H", ~c & 0xFFFF) + icmp[4:]
    return struct.pack("!IHBB", 6 << 28, len(icmp), 58, 64) + s + d + icmp


def ping_through(conn, src, dst, count=3, interval=0.0):
    """Send echo requests as tunnel data on the signalling socket (v6udpv4)
    and count the replies that come back the same way."""
    got = 0
    for seq in range(count):
        if seq and interval:
            time.sleep(interval)
        conn.sock.send(icmp6_echo(src, dst, seq & 0xFFFF))
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            conn.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = conn.sock.recv(2048)
            except socket.timeout:
                break
            if data and data[0] >> 4 == 6 and len(data) > 40 and data[40] == 129:
                got += 1
                break
    return got


def keep_alive(conn, src, dst, interval, duration, timeout):
    """gogoc's keepalive loop on Unix: an echo request to the keepalive
    address every interval, jittered within [0.75T, T], for `duration`
    seconds; the lifetime it was given plays no part (gogoc passes none to
    the loop). Each echo waits `timeout` seconds for its reply; gogoc sets
    up again after 3 misses in a row, which this records instead. Times are
    seconds since the loop started."""
    import random
    t0 = time.monotonic()
    sent = answered = run = worst = 0
    last_answer = None
    seq = 0
    while time.monotonic() - t0 < duration:
        conn.sock.send(icmp6_echo(src, dst, seq & 0xFFFF, ident=0x6b61))
        sent += 1
        got = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conn.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = conn.sock.recv(2048)
            except socket.timeout:
                break
            if (data and data[0] >> 4 == 6 and len(data) >= 48 and data[40] == 129 and
                    struct.unpack("!HH", data[44:48]) == (0x6b61, seq & 0xFFFF)):
                got = True
                break
        seq += 1
        if got:
            answered += 1
            run = 0
            last_answer = round(time.monotonic() - t0, 1)
        else:
            run += 1
            worst = max(worst, run)
        time.sleep(max(0.0, random.uniform(0.75 * interval, interval) -
                       (time.monotonic() - (deadline - timeout))))
    return {"ka_sent": sent, "ka_answered": answered, "ka_worst_missed_run": worst,
            "ka_last_answer_s": last_answer}


def session(args):
    local = (args.local_ip or "", args.local_port) if (args.local_ip or args.local_port) else None
    cls = Rudp if args.transport == "udp" else Tcp
    conn = cls(args.server, args.port, local)
    conn.drop_every_first_reply = args.drop_first_replies and args.transport == "udp"
    result = {}
    try:
        for version in (["2.0.2", "2.0.1", "2.0.0"] if not args.version else [args.version]):
            cap = conn.sendrecv(b"VERSION=%s\r\n" % version.encode())
            if cap.startswith(b"CAPABILITY "):
                break
            result["version_reply"] = cap.decode(errors="replace")
            if status_of(cap) % 1000 == 302 and not args.version:
                conn.close()
                conn = cls(args.server, args.port, None)  # gogoc: new session, new port
                conn.drop_every_first_reply = args.drop_first_replies and args.transport == "udp"
                continue
            raise TspError("version refused: %r" % cap)
        result["capability"] = cap.decode().strip()
        authenticate(conn, args.auth, args.user, args.password, args.server_name or args.server)
        client_ipv4 = args.client_ipv4 or conn.sock.getsockname()[0]
        reply = conn.sendrecv(command(create_request(args.type, client_ipv4, args.keepalive,
                                                     args.router, args.prefix_len)))
        info = parse_tunnel(reply)
        result.update(info)
        if info["status"] != 200:
            return result
        if args.reject:
            conn.send(command('<tunnel action="reject"></tunnel>\r\n'))
            return result
        conn.send(command('<tunnel action="accept"></tunnel>\r\n'))
        result["local"] = "%s:%d" % conn.sock.getsockname()[:2]
        if args.ping and args.transport == "udp" and info.get("type") == "v6udpv4":
            src = info["client_ipv6"]
            if args.ping_src == "prefix":  # a host behind the router
                src = str(ipaddress.IPv6Network(info["prefix"])[1])
            elif args.ping_src:
                src = args.ping_src
            result["pings_sent"] = args.ping
            result["pings_answered"] = ping_through(conn, src,
                                                   args.ping_dst or info["keepalive_addr"],
                                                   args.ping, args.interval)
        if args.keepalive_for and args.transport == "udp" and info.get("type") == "v6udpv4":
            result["lifetime_min"] = int(re.search(r'lifetime="(\d+)"', info["raw"]).group(1))
            # The answer to the accept has arrived: the tunnel is in the
            # maps (its start, from the broker's side).
            print(json.dumps({"accepted": True}), file=sys.stderr, flush=True)
            result.update(keep_alive(conn, info["client_ipv6"], info["keepalive_addr"],
                                     info["keepalive"], args.keepalive_for,
                                     args.keepalive_timeout))
        if args.hold:
            time.sleep(args.hold)
    finally:
        if args.transport == "udp":
            result["retransmits"] = conn.retransmits
            result["requests"] = conn.requests
        conn.close()
    return result


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", required=True)
    p.add_argument("--server-name", help="server string as in gogoc's config (digest-uri)")
    p.add_argument("--port", type=int, default=3653)
    p.add_argument("--transport", choices=["udp", "tcp"], default="udp")
    p.add_argument("--version")
    p.add_argument("--auth", choices=["anonymous", "plain", "digest"], default="anonymous")
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--type", default="v6udpv4")
    p.add_argument("--client-ipv4")
    p.add_argument("--local-ip")
    p.add_argument("--local-port", type=int, default=0)
    p.add_argument("--keepalive", type=int, default=30)
    p.add_argument("--router", action="store_true")
    p.add_argument("--prefix-len", type=int, default=56)
    p.add_argument("--reject", action="store_true")
    p.add_argument("--drop-first-replies", action="store_true",
                   help="UDP: lose the first reply to every request (retransmit each once)")
    p.add_argument("--ping", type=int, default=0, help="echo requests through the tunnel")
    p.add_argument("--ping-dst")
    p.add_argument("--ping-src", help="inner source: an address, or 'prefix' (prefix::1)")
    p.add_argument("--interval", type=float, default=0.0, help="seconds between pings")
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--pause-file", help="pause mid-session until this file exists "
                   "(DIGEST-MD5: after the challenge; else after authentication)")
    p.add_argument("--keepalive-for", type=float, default=0,
                   help="after accept, send keepalives as gogoc does for this many seconds")
    p.add_argument("--keepalive-timeout", type=float, default=1.5,
                   help="seconds each keepalive waits for its reply")
    return p


def main():
    global PAUSE_FILE
    args = parser().parse_args()
    PAUSE_FILE = args.pause_file
    try:
        print(json.dumps(session(args)))
    except (TspError, OSError) as e:
        print(json.dumps({"error": str(e)}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

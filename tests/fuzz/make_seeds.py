#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write the seed corpora of the fuzz harnesses into tests/fuzz/corpus/<name>/.

Seeds are realistic inputs: what gogoc sends (as tests/broker/gogoc_sim.py
reproduces it), the XML layouts of the unit tests, config.yaml variants,
and what a broker answers. They use the harnesses' input layouts
(fuzz_chunks.h: 2-byte big-endian length, then the bytes). Run again after
changing a layout; files with other names (crash regressions) are kept.
Only the Python standard library.
"""
import base64
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
USER, PASS = b"alice", b"secret"  # fuzz_sasldb.h


def chunk(b):
    return struct.pack("!H", len(b)) + b


def write(name, fname, data):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)


def create_xml(ttype="v6udpv4", ipv4="192.0.2.2", keepalive=30, router=False, plen=56,
               dns="2001:db8::53"):
    """gogoc's xml_req.c layout (CRLF line ends, indentation, proxy=)."""
    lines = ['<tunnel action="create" type="%s" proxy="no">' % ttype,
             ' <client>',
             '  <address type="ipv4">%s</address>' % ipv4,
             '  <keepalive interval="%d">' % keepalive,
             '    <address type="ipv6">::</address>',
             '  </keepalive>']
    if router:
        lines += ['  <router>',
                  '   <prefix length="%d"/>' % plen,
                  '   <dns_server>',
                  '     <address type="ipv6">%s</address>' % dns,
                  '   </dns_server>',
                  '  </router>']
    lines += [' </client>', '</tunnel>']
    return ("\r\n".join(lines) + "\r\n").encode()


ACCEPT = b'<tunnel action="accept"></tunnel>\r\n'
XMLS = {
    "create_v6udpv4": create_xml(),
    "create_v6v4_router": create_xml("v6v4", router=True, plen=48),
    "create_v6anyv4": create_xml("v6anyv4", keepalive=0),
    "create_v4v6": b'<tunnel action="create" type="v4v6"><client><address type="ipv6">'
                   b'2001:db8::2</address></client></tunnel>',
    "create_dn": b'<tunnel action="create" type="v6udpv4" lifetime="60"><client>'
                 b'<address type="ipv4">192.0.2.2</address><address type="dn">host.example'
                 b'</address><router protocol="ripng"><prefix length="64"/><dns_server>'
                 b'<address type="dn">ns.example</address><address type="ipv4">192.0.2.53'
                 b'</address></dns_server></router></client></tunnel>',
    "accept": ACCEPT,
    "reject": b'<tunnel action="reject"></tunnel>\r\n',
    "delete": b'<tunnel action="delete" type="v6udpv4"></tunnel>\r\n',
    "info": b'<tunnel action="info"></tunnel>',
    "doctype": b'<!DOCTYPE tunnel [<!ENTITY x "y">]><tunnel action="create" type="v6v4">'
               b'<client><address type="ipv4">&x;</address></client></tunnel>',
}


def command(xml):
    return b"Content-length: %d\r\n" % len(xml) + xml


# ---- tsp_session: selector byte + chunk per message ------------------------

def rudp(seq, payload, ts=1000):
    return struct.pack("!II", 0xF0000000 | seq, ts) + payload


def udp_session(msgs, peer=0, seq0=240):
    out = b""
    for i, m in enumerate(msgs):
        out += bytes([peer]) + chunk(rudp(seq0 + i, m, 1000 + i))
    return out


def tcp_session(msgs, release=False):
    return b"".join(bytes([0x80 | (0x40 if release else 0)]) + chunk(m) for m in msgs)


VERSION = b"VERSION=2.0.1\r\n"
ANON = b"AUTHENTICATE ANONYMOUS\r\n\0"
PLAIN = [b"AUTHENTICATE PLAIN\r\n\0", b"\0" + USER + b"\0" + PASS + b"\r\n"]


def session_seeds():
    anon_create = [VERSION, ANON, command(create_xml()), command(ACCEPT)]
    plain_router = [VERSION] + PLAIN + [command(create_xml("v6v4", router=True)), command(ACCEPT)]
    yield "udp_anonymous_create_accept", udp_session(anon_create)
    yield "udp_plain_router", udp_session(plain_router)
    yield "udp_plain_info_delete", udp_session(
        [VERSION] + PLAIN + [command(create_xml()), command(XMLS["info"]),
                             command(XMLS["reject"]), command(XMLS["delete"])])
    yield "udp_digest_start", udp_session(
        [VERSION, b"AUTHENTICATE DIGEST-MD5\r\n\0",
         base64.b64encode(b'username="alice",realm="tsp.example",nonce="x",cnonce="y",'
                          b'nc=00000001,qop=auth,digest-uri="tsp/192.0.2.1",'
                          b'response=00000000000000000000000000000000,charset=utf-8') + b"\r\n",
         b""])
    yield "udp_scram_start", udp_session(
        [VERSION, b"AUTHENTICATE SCRAM-SHA-256\r\n",
         base64.b64encode(b"n,,n=alice,r=abcdefghijklmnop") + b"\r\n"])
    yield "udp_bad_version_redirect", udp_session([b"VERSION=1.0\r\n"])
    # A retransmission (same sequence), a restart, and a second peer.
    msgs = udp_session([VERSION, ANON])
    msgs += bytes([0]) + chunk(rudp(241, ANON, 2000))
    msgs += udp_session([VERSION, ANON, command(create_xml("v6v4"))], peer=0, seq0=300)
    msgs += udp_session([VERSION, ANON, command(create_xml())], peer=3)
    yield "udp_retransmit_restart_ipv6", msgs
    yield "udp_not_signalling", bytes([1]) + chunk(b"\x00" * 12) + bytes([2]) + chunk(b"\xf0")
    # The TCP session's peer is 203.0.113.9 (v6v4: the endpoint must match).
    tcp_anon = [VERSION, ANON, command(create_xml("v6v4", "203.0.113.9")), command(ACCEPT)]
    tcp_plain = [VERSION] + PLAIN + [command(create_xml("v6v4", "203.0.113.9", router=True)),
                                     command(ACCEPT)]
    yield "tcp_anonymous_create", tcp_session(tcp_anon)
    yield "tcp_plain_router", tcp_session(tcp_plain, release=True)
    yield "tcp_whole_stream", tcp_session([b"".join(tcp_anon)])
    yield "mixed_tick", b"".join(
        bytes([0x20]) + chunk(rudp(240 + i, m)) for i, m in enumerate(anon_create))


# ---- sasl: mechanism byte + chunk per response -----------------------------

def sasl_seeds():
    yield "anonymous", bytes([0])
    yield "anonymous_trace", bytes([0]) + chunk(b"trace@example")
    yield "plain_ok", bytes([1]) + chunk(b"\0" + USER + b"\0" + PASS)
    yield "plain_authzid", bytes([1]) + chunk(USER + b"\0" + USER + b"\0" + PASS)
    yield "plain_bad", bytes([1]) + chunk(b"\0" + USER + b"\0wrong")
    resp = (b'username="alice",realm="tsp.example",nonce="AAAA",cnonce="BBBB",nc=00000001,'
            b'qop=auth,digest-uri="tsp/192.0.2.1",response=0123456789abcdef0123456789abcdef,'
            b'charset=utf-8')
    yield "digest_raw", bytes([2]) + chunk(resp)
    yield "digest_b64", bytes([0x82]) + chunk(base64.b64encode(resp))
    yield "scram_first", bytes([3]) + chunk(b"n,,n=alice,r=rOprNGfwEbeRWgbNEkqO") + chunk(
        b"c=biws,r=rOprNGfwEbeRWgbNEkqOxyz,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    yield "scram_b64", bytes([0x83]) + chunk(base64.b64encode(b"n,,n=alice,r=abc"))


# ---- tspc_reply: route byte + broker bytes ---------------------------------

OFFER = (b'<tunnel action="info" type="v6udpv4" lifetime="1440"><server><address type="ipv4">'
         b'192.0.2.1</address><address type="ipv6">2001:0db8:0000:0000:0000:0000:0000:0001'
         b'</address></server><client><address type="ipv4">192.0.2.2</address>'
         b'<address type="ipv6">2001:0db8:00ff:0000:c000:0202:9c40:0000</address>'
         b'<address type="dn">alice.tunnel.example</address><router><prefix length="56">'
         b'2001:0db8:0100:0000:0000:0000:0000:0000</prefix></router><dns_server>'
         b'<address type="ipv6">2001:0db8:0000:0000:0000:0000:0000:0053</address></dns_server>'
         b'<keepalive interval="30"><address type="ipv6">'
         b'2001:0db8:0000:0000:0000:0000:0000:0001</address></keepalive></client></tunnel>')
BROKERS = (b'<tunnel action="list" type="broker"><broker><address type="ipv4">198.51.100.1'
           b'</address></broker><broker><address type="dn">broker2.example</address></broker>'
           b'<broker><address type="ipv6">2001:0db8:0000:0000:0000:0000:0000:0002</address>'
           b'</broker></tunnel>')


def reply_cmd(code, text, xml=None):
    body = b"%d %s\r\n" % (code, text) + ((xml + b"\r\n") if xml else b"")
    return b"Content-length: %d\r\n" % len(body) + body


def reply_seeds():
    cap = b"CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=ANONYMOUS AUTH=PLAIN AUTH=DIGEST-MD5\r\n"
    yield "line_capability", b"\x00" + cap
    yield "line_status", b"\x00200 Success\r\n"
    yield "line_redirect", b"\x001302 Unsupported client version\r\n"
    yield "line_sasl", b"\x00" + base64.b64encode(b'realm="tsp.example",nonce="abc",qop="auth"')
    yield "udp_offer", b"\x01" + reply_cmd(200, b"Success", OFFER)
    yield "udp_refused", b"\x01" + reply_cmd(301, b"No more tunnels available")
    yield "tcp_stream", b"\x02" + cap + b"200 Success\r\n" + reply_cmd(200, b"Success", OFFER)
    yield "tcp_redirect", b"\x02" + b"1302 Unsupported client version\r\n" + BROKERS + b"\r\n"
    yield "xml_offer", b"\x03" + OFFER
    yield "xml_brokers", b"\x03" + BROKERS


# ---- config: YAML files ----------------------------------------------------

def config_seeds():
    with open(os.path.join(HERE, "..", "..", "config.yaml"), "rb") as f:
        yield "example", f.read()
    yield "minimal", b"gateway:\n  ipv4: 192.0.2.1\n  ipv6: 2001:db8::1\n"
    yield "anonymous_6bed4", (b"gateway:\n  ipv4: 192.0.2.1\n  ipv6: '2001:db8::'\n"
                              b"anonymous:\n  prefix: 2001:db8:ffff::/64\n  layout: 6bed4\n"
                              b"  public: true\n")
    yield "broker_full", (b"gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8::1, keepalive: 2001:db8::1}\n"
                          b"pools:\n  hosts: 2001:db8:100::/64\n  prefixes: 2001:db8:200::/40\n"
                          b"  prefix_length: {min: 48, default: 56, max: 64}\n"
                          b"broker:\n  tunnel_types: [v6udpv4, v6v4]\n"
                          b"  auth:\n    mechanisms: [anonymous, plain, digest-md5]\n"
                          b"  keepalive: {min: 10, default: 30, max: 300}\n"
                          b"  dns_servers: [2001:db8::53]\n  lifetime: 0\n")
    yield "metrics_listen", b"metrics:\n  listen: 198.51.100.1:9653\n"
    yield "metrics_listen6", b"metrics: {listen: '[2001:db8::1]:9653'}\n"
    yield "anchors", b"a: &x {ipv4: 192.0.2.1}\ngateway: *x\n"
    yield "tab_error", b"gateway:\n\tipv4: 192.0.2.1\n"
    yield "two_docs", b"gateway: {}\n---\nbroker: {}\n"


def xml_seeds():
    for k, v in XMLS.items():
        yield k, v


SEEDS = {
    "tsp_session": session_seeds,
    "tsp_xml": xml_seeds,
    "sasl": sasl_seeds,
    "tspc_reply": reply_seeds,
    "config": config_seeds,
}

if __name__ == "__main__":
    for name, gen in SEEDS.items():
        for fname, data in gen():
            write(name, "seed_" + fname, data)
    print("seeds written under", CORPUS, file=sys.stderr)

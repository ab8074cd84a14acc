#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# Ownership of tunnels (README "Security" -> "Ownership of tunnels"): a
# session deletes or replaces only tunnels its own user owns.
#   - alice (DIGEST-MD5) has a v6v4 tunnel from 192.0.2.2; an anonymous
#     session from the same IPv4 address asks to delete it (500) and to
#     create a tunnel over it (506): alice's tunnel stays, and carries
#     traffic;
#   - bob has a v6udpv4 tunnel from 192.0.2.3:45000; blind spoofed
#     datagrams from that origin (scapy) run an anonymous exchange that
#     deletes and creates over it: bob's tunnel stays;
#   - what stays possible, as documented: an anonymous session (or a blind
#     spoofer) at an anonymous tunnel's own origin deletes that tunnel.
# On the code before the ownership checks, the delete and the spoofed
# datagrams removed both users' tunnels.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
e2e_init
# shellcheck source=tests/adversarial/broker_gw.sh
. "$HERE/broker_gw.sh"
bgw_require python3
if ! /usr/bin/python3 -c 'import scapy.all' 2>/dev/null; then
	e2e_skip "needs scapy for /usr/bin/python3 (python3-scapy)"
fi

BGW_BROKER=$(bgw_auth_yaml)
if bgw_setup >"$BGW_T/setup.log" 2>&1; then
	e2e_ok "gateway with users alice and bob is up"
else
	e2e_not_ok "gateway with users alice and bob is up"
	sed 's/^/#   /' "$BGW_T/setup.log"
	e2e_finish
fi
T=$BGW_T

# tunnel_of USER: "remote address" of USER's tunnel in the maps, or nothing.
tunnel_of() {
	bgw_tunnels | python3 -c '
import json,sys
for t in json.load(sys.stdin):
    if t.get("user")==sys.argv[1]: print(t["remote"], t["address"])' "$1"
}

alice_tunnel() {
	bgw_sim --transport tcp --auth digest --user alice --password secret --type v6v4 \
		--local-ip 192.0.2.2 || return 1
	[ "$(bgw_field status)" = 200 ] || return 1
	bgw_field client_ipv6 >"$T/alice.addr"
	tunnel_of alice >"$T/alice.before"
	cat "$T/alice.before"
	grep -q '^192.0.2.2 ' "$T/alice.before"
}
e2e_check "alice has a v6v4 tunnel from 192.0.2.2" alice_tunnel

alice_unchanged() {
	tunnel_of alice >"$T/alice.now"
	diff "$T/alice.before" "$T/alice.now"
}

# A TSP session over TCP from 192.0.2.2: ANONYMOUS, then one command;
# prints the reply's status line.
anon_tcp_command() {
	bgw_py "$BGW_NS_C" "
c=g.Tcp('192.0.2.1',3653,('192.0.2.2',0))
assert c.sendrecv(b'VERSION=2.0.2\r\n').startswith(b'CAPABILITY')
assert c.sendrecv(b'AUTHENTICATE ANONYMOUS\r\n\0').startswith(b'200')
r=c.sendrecv(g.command('$1'))
print(r.split(b'\r\n')[1].decode())"
}

anon_delete() {
	local r
	r=$(anon_tcp_command '<tunnel action=\"delete\"></tunnel>\r\n') || return 1
	echo "delete: $r"
	[[ $r == "500 "* ]] || return 1
	alice_unchanged
}
e2e_check "an anonymous delete from alice's IPv4 address gets 500; her tunnel stays" anon_delete

anon_create_over() {
	bgw_sim --transport tcp --type v6v4 --local-ip 192.0.2.2
	[ "$(bgw_field status)" = 506 ] || return 1
	alice_unchanged
}
e2e_check "an anonymous v6v4 over alice's origin gets 506; her tunnel stays" anon_create_over

bob_create_over() {
	bgw_sim --transport tcp --auth digest --user bob --password hunter2 --type v6v4 \
		--local-ip 192.0.2.2
	[ "$(bgw_field status)" = 506 ] || return 1
	alice_unchanged
}
e2e_check "another user's v6v4 over alice's origin gets 506 too" bob_create_over

# Protocol 41 from 192.0.2.2 with alice's address inside: an echo request
# to the keepalive address comes back through her tunnel.
alice_traffic() {
	bgw_py "$BGW_NS_C" "
src=open('$T/alice.addr').read().strip()
s=socket.socket(socket.AF_INET,socket.SOCK_RAW,41)
s.bind(('192.0.2.2',0)); s.settimeout(3.0)
got=0
for seq in range(3):
    s.sendto(g.icmp6_echo(src,'2001:db8:2::1',seq),('192.0.2.1',0))
    end=time.monotonic()+3.0
    while time.monotonic()<end:
        try: d=s.recv(2048)
        except socket.timeout: break
        v6=d[(d[0]&15)*4:]
        if len(v6)>40 and v6[6]==58 and v6[40]==129: got+=1; break
print('answered',got,'of 3'); assert got>=2"
}
e2e_check "alice's tunnel still carries traffic (echo through protocol 41)" alice_traffic
e2e_check "the refusals are logged as not-owner" grep -q "reason=not-owner" "$T/run.log"

bob_tunnel() {
	bgw_sim --transport udp --auth digest --user bob --password hunter2 --type v6udpv4 \
		--local-ip 192.0.2.3 --local-port 45000 || return 1
	tunnel_of bob >"$T/bob.before"
	cat "$T/bob.before"
	grep -q '^192.0.2.3:45000 ' "$T/bob.before"
}
e2e_check "bob has a v6udpv4 tunnel from 192.0.2.3:45000" bob_tunnel

# spoof SRC SPORT: a blind spoofer's anonymous exchange from SRC:SPORT
# (never reading a reply): version, ANONYMOUS, delete, then a create and
# an accept. RUDP sequence numbers and timestamps are the client's own.
spoof() {
	e2e_ns "$BGW_NS_C" timeout 60 /usr/bin/python3 - "$1" "$2" <<'PY'
import struct, sys, time
from scapy.all import IP, UDP, Raw, send
src, sport = sys.argv[1], int(sys.argv[2])
def cmd(xml):
    return b"Content-length: %d\r\n" % len(xml) + xml
msgs = [b"VERSION=2.0.2\r\n", b"AUTHENTICATE ANONYMOUS\r\n\0",
        cmd(b'<tunnel action="delete"></tunnel>\r\n'),
        cmd(b'<tunnel action="create" type="v6udpv4"><client><address type="ipv4">'
            + src.encode() + b'</address></client></tunnel>\r\n'),
        cmd(b'<tunnel action="accept"></tunnel>\r\n')]
for i, m in enumerate(msgs):
    hdr = struct.pack("!II", 0xF0000000 | (0x100 + i), i)
    send(IP(src=src, dst="192.0.2.1") / UDP(sport=sport, dport=3653) / Raw(hdr + m), verbose=0)
    time.sleep(0.3)
print("sent", len(msgs))
PY
}

spoof_bob() {
	spoof 192.0.2.3 45000 || return 1
	sleep 1
	tunnel_of bob >"$T/bob.now"
	diff "$T/bob.before" "$T/bob.now"
}
e2e_check "blind spoofed datagrams from bob's origin neither delete nor replace his tunnel" spoof_bob

# The documented limit: at an anonymous tunnel's own origin, a spoofer can
# run the anonymous exchange its owner could, and delete it.
anon_own() {
	bgw_sim --transport udp --type v6udpv4 --local-ip 192.0.2.3 --local-port 45100 || return 1
	bgw_tunnels | grep -q '"remote":"192.0.2.3:45100"' || return 1
	spoof 192.0.2.3 45100 || return 1
	sleep 1
	grep "origin=v6udpv4 192.0.2.3:45100" "$T/run.log"
	grep -q "tunnel deleted user=anonymous origin=v6udpv4 192.0.2.3:45100" "$T/run.log"
}
e2e_check "documented limit: a spoofer at an anonymous tunnel's own origin can delete it" anon_own

e2e_check_no_leftovers
e2e_finish

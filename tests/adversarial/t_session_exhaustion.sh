#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# Forged or idle peers cannot exhaust the broker's sessions (README
# "Security": "TSP over UDP: no reflection, no amplification, no
# exhaustion").
#
# Before the fix, 10 000 VERSION datagrams from distinct forged sources
# filled max_sessions and locked every new UDP and TCP client out for a
# minute, and one IPv4 address could hold 120 sessions. Here max_sessions
# is 1000 and each flood is 10 000 distinct (address, port) pairs in
# 198.51.100.0/24 and 203.0.113.0/24: VERSION (answered without state),
# then AUTHENTICATE ANONYMOUS (half-open sessions, evicted oldest first).
# During each, a fresh client gets a tunnel over UDP and over TCP. Then
# the per-source cap: 8 sessions per IPv4 address and per IPv6 /64.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
# shellcheck source=tests/adversarial/adv_lib.sh
. "$HERE/adv_lib.sh"

adv_require
CONF=$E2E_TMP/config.yaml
adv_config "$CONF" "    max_sessions: 1000"
adv_build "$CONF" || exit 1
e2e_check "tspgw run starts (max_sessions 1000)" adv_start "$CONF" "$E2E_TMP/run.log" || e2e_finish

# flood KIND RATE: 10 000 forged datagrams in the background; PID in $FLOOD.
flood() {
	e2e_bg "$NS_A" "$E2E_TMP/flood.$1.log" python3 "$SPOOF" flood --server 192.0.2.1 --kind "$1" \
		--count 10000 --rate "$2" --net 198.51.100.0/24 --net 203.0.113.0/24 \
		--out "$E2E_TMP/flood.$1.json"
	FLOOD=$E2E_BG_PID
	sleep 1
}

# served PORT: a fresh UDP client and a fresh TCP client both get a tunnel.
served() {
	adv_sim --server 192.0.2.1 --transport udp --type v6udpv4 --local-ip 192.0.2.3 \
		--local-port "$1" || return 1
	grep -q '"status": 200' "$E2E_TMP/sim.json" || return 1
	adv_sim --server 192.0.2.1 --transport tcp --type v6v4 --local-ip 192.0.2.2 || return 1
	grep -q '"status": 200' "$E2E_TMP/sim.json"
}

during() {
	local kind=$1 port=$2 rc=0
	flood "$kind" "$3"
	served "$port" || rc=1
	kill -0 "$FLOOD" 2>/dev/null || { echo "the flood was over before the clients were served"; rc=1; }
	e2e_wait_exit "$FLOOD" 60 || rc=1
	cat "$E2E_TMP/flood.$kind.json"
	return $rc
}
e2e_check "10 000 forged VERSION datagrams: new UDP and TCP clients served during the flood" \
	during version 41000 2000
e2e_check "10 000 forged AUTHENTICATE datagrams: new UDP and TCP clients served during the flood" \
	during auth 41001 2000

evicted() {
	e2e_wait_for 15 grep -q "signalling guards:.*evicted=[1-9]" "$E2E_TMP/run.log" || return 1
	grep "signalling guards:" "$E2E_TMP/run.log" | tail -1
}
e2e_check "  half-open sessions were evicted for them (logged)" evicted

# hold SRC...: one TCP connection from each source, VERSION sent on each and
# kept open; prints how many got the capability line and how many 522.
hold() {
	e2e_ns "$NS_A" timeout 30 python3 -c '
import socket, sys
socks, got = [], {"CAP": 0, "522": 0, "other": 0}
for src in sys.argv[1:]:
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    dst = "2001:db8:2::1" if fam == socket.AF_INET6 else "192.0.2.1"
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((dst, 3653))
    s.sendall(b"VERSION=2.0.2\r\n")
    r = s.recv(200)
    got["CAP" if r.startswith(b"CAPABILITY") else "522" if r.startswith(b"522") else "other"] += 1
    socks.append(s)
print(got["CAP"], got["522"], got["other"])
' "$@"
}

per_ipv4() {
	local out
	out=$(hold $(for i in $(seq 12); do echo 192.0.2.2; done)) || return 1
	echo "12 sessions from 192.0.2.2: capability, 522, other = $out"
	[ "$out" = "8 4 0" ]
}
e2e_check "one IPv4 address holds at most 8 sessions; the 9th gets 522" per_ipv4

per_64() {
	local out
	out=$(hold 2001:db8:2::a 2001:db8:2::b 2001:db8:2::c 2001:db8:2::d 2001:db8:2::e \
		2001:db8:2::f 2001:db8:2::a 2001:db8:2::b 2001:db8:2::c 2001:db8:2::d) || return 1
	echo "10 sessions from one /64 (6 addresses): capability, 522, other = $out"
	[ "$out" = "8 2 0" ] || return 1
	out=$(hold 2001:db8:3::c) || return 1
	echo "from another /64: $out"
	[ "$out" = "1 0 0" ]
}
e2e_check "one IPv6 /64 holds at most 8 sessions, whatever its addresses" per_64
e2e_check_no_leftovers
e2e_finish

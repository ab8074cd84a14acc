#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# TSP over UDP answers from the address it was sent to (README "Running the
# gateway" and "Security": "Replies leave from the address the request
# reached").
#
#   ns C: c0 192.0.2.2, .3, 2001:db8:2::2  <->  ns G: u0 192.0.2.1, 192.0.2.5,
#                                                  2001:db8:2::1, 2001:db8:2::5
#
# The gateway has two IPv4 and two IPv6 addresses on its uplink and
# broker.listen_ipv4/6 unset (wildcard sockets); the routing table prefers
# 192.0.2.1 as the source towards the client, which a reply from a wildcard
# socket would take. Checks: VERSION to each of the four addresses is
# answered from that address; tspc (its UDP socket connected to the
# server, so it drops a reply from elsewhere) sets up a tunnel through each
# IPv4 address, anonymously and with DIGEST-MD5; a VERSION sent from a
# raw socket with the client's second address to 192.0.2.5 is answered
# from 192.0.2.5 (and to that address); a session opened
# at 192.0.2.1 is not answered at 192.0.2.5 (other_local), only at its own
# address; datagrams to 192.0.2.255, 255.255.255.255, 224.0.0.1 and ff02::1
# are never answered (not_unicast counts all four).
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
e2e_init
# shellcheck source=tests/adversarial/broker_gw.sh
. "$HERE/broker_gw.sh"
TSPC=$BUILD/tspc
PROBE=$HERE/reply_source.py
# shellcheck disable=SC2119 # bgw_require takes extra tools, none here
bgw_require
e2e_require_built all "$TSPC"

BGW_BROKER=$(bgw_auth_yaml)
bgw_setup || {
	e2e_not_ok "setup"
	e2e_finish
}
ip -n "$BGW_NS_G" addr add 192.0.2.5/24 dev u0
ip -n "$BGW_NS_G" addr add 2001:db8:2::5/64 dev u0 nodad
ip -n "$BGW_NS_C" addr add 2001:db8:2::2/64 dev c0 nodad
printf 'secret\n' >"$BGW_T/alice.pw"

# probe ARGS...: reply_source.py in ns C; it prints what came back and
# fails unless that is what the gateway must do.
probe() { e2e_ns "$BGW_NS_C" timeout 30 python3 "$PROBE" "$@"; }

# The premise: the gateway's own choice of source towards the client is
# 192.0.2.1, so an answer from 192.0.2.5 is not the routing table's doing.
t_premise() {
	ip -n "$BGW_NS_G" route get 192.0.2.2 | tee /dev/stderr | grep -q 'src 192.0.2.1 '
}
e2e_check "premise: the gateway's preferred source towards the client is 192.0.2.1" t_premise

# Broadcast and multicast first: not_unicast then changes once, and the
# guards' log line (every 10 s at most) shows it by the end of the suite.
e2e_check "VERSION to 192.0.2.255, 255.255.255.255, 224.0.0.1, ff02::1: never answered" \
	probe not-unicast --bind 192.0.2.2 --bind 2001:db8:2::2 --dev c0 --to 192.0.2.255 \
	--to 255.255.255.255 --to 224.0.0.1 --to ff02::1

for a in 192.0.2.1 192.0.2.5 2001:db8:2::1 2001:db8:2::5; do
	e2e_check "VERSION to $a is answered from $a" probe version --to $a
done

# tspc_via NAME ADDR ARGS...: tspc --print-only through ADDR: accepted,
# the tunnel is in the gateway's table.
tspc_via() {
	local name=$1 addr=$2 ip6
	shift 2
	e2e_ns "$BGW_NS_C" timeout 40 "$TSPC" --print-only --server "$addr" --retry-delay 1 "$@" \
		>"$BGW_T/$name.out" 2>"$BGW_T/$name.err" || {
		tail -n 20 "$BGW_T/$name.err"
		return 1
	}
	ip6=$(sed -n 's/^TSP_CLIENT_ADDRESS_IPV6=//p' "$BGW_T/$name.out")
	echo "$name: $ip6"
	[ -n "$ip6" ] && bgw_tunnels | grep -q "\"$ip6\""
}
e2e_check "tspc sets up an anonymous tunnel through 192.0.2.1" tspc_via anon1 192.0.2.1
e2e_check "tspc sets up an anonymous tunnel through 192.0.2.5" tspc_via anon5 192.0.2.5 \
	--local 192.0.2.3
e2e_check "tspc sets up alice's tunnel (DIGEST-MD5) through 192.0.2.5" \
	tspc_via alice5 192.0.2.5 --user alice --password-file "$BGW_T/alice.pw" --auth digest-md5

e2e_check "VERSION from a raw socket as 192.0.2.3 (the client's second address) to 192.0.2.5: answered from 192.0.2.5" \
	probe spoofed --to 192.0.2.5 --src 192.0.2.3 --port 45000
e2e_check "a session opened at 192.0.2.1: its retransmission to 192.0.2.5 is not answered, to 192.0.2.1 it is" \
	probe other-local --a 192.0.2.1 --b 192.0.2.5 --bind 192.0.2.2

guards_show() {
	grep 'signalling guards:' "$BGW_T/run.log" | tail -n 1 | grep -q " not_unicast=4 other_local=1 "
}
t_counted() {
	e2e_wait_for 15 guards_show || {
		grep 'signalling guards:' "$BGW_T/run.log" | tail -n 1
		return 1
	}
	grep 'signalling guards:' "$BGW_T/run.log" | tail -n 1
}
e2e_check "the guards' log line counts them: not_unicast=4 other_local=1" t_counted

e2e_check_no_leftovers
e2e_finish

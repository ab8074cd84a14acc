#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# Claimed IPv4 endpoints. Over IPv6 signalling a client names the IPv4
# address of its v6v4 tunnel, and anyone can name anyone's. The gateway must
# send nothing to a named address until a tunnel packet from it proves it,
# must not let a claim take over another tunnel's origin before that, must
# forget claims never proven, and must refuse addresses that cannot be
# endpoints (TSP 501).
#
#   ns cli: c0 192.0.2.2 (alice), .3 (victim, never signals), .4 (a real
#           dual-stack client) <-> ns gw: u0 192.0.2.1, d0 2001:db8:2::1
#           <-> ns host: h0 2001:db8:2::2 (where IPv6 signalling comes from)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
XDP_PASS=$BUILD/xdp_pass.bpf.o
SIM=$ROOT/tests/broker/gogoc_sim.py
P41=$HERE/proto41.py

e2e_require_root
e2e_require_tools ip nsenter ping python3 saslpasswd2 timeout
e2e_require_built all "$TSPGW" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=tcc$$
NS_G=tcg$$
NS_H=tch$$
PIN=/sys/fs/bpf/tspgw-adv-claims-$$
T=$E2E_TMP
CONF=$T/config.yaml
REALM=tspgw.example
# Long enough for the steps between a claim and its proof on a loaded machine.
CLAIM_TIMEOUT=60

e2e_two_link_config "$CONF" "$PIN" tcl$$
cat >>"$CONF" <<EOF
broker:
  ipv6_transport: true
  claim_timeout: $CLAIM_TIMEOUT
  auth:
    mechanisms: [ANONYMOUS, PLAIN]
    sasldb: $T/sasldb2
    realm: $REALM
    server_name: $REALM
  database: $T/assignments.sqlite
  keepalive: {default: 30, min: 10, max: 60, misses: 0}
  dns_servers: [2001:db8::53]
routes: {table: 4201, protocol: 201}
EOF

gw() { e2e_ns "$NS_G" timeout 20 "$TSPGW" -c "$CONF" "$@"; }
# routed ADDR: the tunnel routes' table (routes.table, announced by BGP)
# holds ADDR/128.
routed() {
	local r
	r=$(ip -n "$NS_G" -6 route show table 4201 proto 201) && grep -qx "$1 .*" <<<"$r"
}
counter() { gw status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"; }
short6() { python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address(sys.argv[1]))' "$1"; }
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$T/last.json" "$1"; }

# sim NS SERVER ARGS...: one gogoc-shaped session; JSON in $T/last.json.
sim() {
	local ns=$1 server=$2
	shift 2
	e2e_ns "$ns" timeout 30 python3 "$SIM" --server "$server" --server-name "$REALM" "$@" \
		>"$T/last.json" 2>"$T/last.err"
	local rc=$?
	cat "$T/last.json" "$T/last.err"
	return $rc
}

# claim IPV4 [ARGS...]: an anonymous v6v4 request over IPv6 naming IPV4.
claim() {
	local v4=$1
	shift
	sim "$NS_H" 2001:db8:2::1 --transport tcp --type v6v4 --client-ipv4 "$v4" "$@"
}

# tunnel_of ADDRESS: "remote claimed" of the tunnel with that address, or "".
tunnel_of() {
	gw tunnel list --json | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["address"] == sys.argv[1]:
        print(t["remote"], "true" if t.get("claimed") else "false")' "$1"
}

# is_tunnel ADDRESS "REMOTE CLAIMED"
is_tunnel() { [ "$(tunnel_of "$1")" = "$2" ]; }

# arrivals IPV4 ADDR6: ping ADDR6 from the IPv6 host three times while
# counting the tunnel packets that reach IPV4 in the client namespace.
arrivals() {
	local v4=$1 a6=$2 pid
	e2e_bg "$NS_C" "$T/count.out" python3 "$P41" count "$v4" 8
	pid=$E2E_BG_PID
	e2e_wait_for 10 grep -q listening "$T/count.out" || { echo "capture did not start" >&2; return 1; }
	e2e_ns "$NS_H" ping -6 -c 5 -i 0.3 -W 1 "$a6" >/dev/null 2>&1
	e2e_wait_exit "$pid" 15 >/dev/null 2>&1
	tail -n 1 "$T/count.out"
}

# --- network ------------------------------------------------------------------

e2e_netns_add "$NS_C" "$NS_G" "$NS_H" || exit 1
e2e_register_pin "$PIN"
e2e_on_exit "e2e_ns $NS_G $TSPGW -c $CONF detach >/dev/null 2>&1"
e2e_topo_client_gw_host "$NS_C" "$NS_G" "$NS_H" "$XDP_PASS" 2001:db8:2::2 || exit 1
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c alice

# Started here, not inside e2e_check (a subshell): so its PID is registered
# and the cleanup stops it.
e2e_bg "$NS_G" "$T/run.log" "$TSPGW" -c "$CONF" run
gateway_up() {
	e2e_wait_for 20 grep -q "serving TSP" "$T/run.log" || { cat "$T/run.log"; return 1; }
	e2e_wait_listen 10 "$NS_G" 3653
}
e2e_check "tspgw run serves TSP over IPv4 and IPv6" gateway_up || e2e_finish

# --- 1. reflection towards an address that never signalled -------------------

victim_claim() {
	claim 192.0.2.3 || return 1
	[ "$(field status)" = 200 ] || { echo "status $(field status)"; return 1; }
	short6 "$(field client_ipv6)" >"$T/victim.addr"
	e2e_wait_for 5 is_tunnel "$(cat "$T/victim.addr")" "192.0.2.3 true" ||
		{ echo "not a claimed tunnel: $(tunnel_of "$(cat "$T/victim.addr")")"; return 1; }
	grep -q "tunnel claimed user=anonymous origin=v6v4 192.0.2.3" "$T/run.log"
}
e2e_check "an anonymous IPv6 session claiming 192.0.2.3 gets a claimed, unproven tunnel" \
	victim_claim

victim_gets_nothing() {
	local before after n
	before=$(counter drop_unproven)
	n=$(arrivals 192.0.2.3 "$(cat "$T/victim.addr")")
	after=$(counter drop_unproven)
	echo "victim received $n tunnel packets; drop_unproven $before -> $after"
	[ "$n" = 0 ] && [ "$after" -ge $((before + 3)) ]
}
e2e_check "traffic to the claimant's address never reaches the victim (drop_unproven)" \
	victim_gets_nothing


# --- 2. an anonymous claim over an authenticated user's tunnel ----------------

alice_up() {
	sim "$NS_C" 192.0.2.1 --transport tcp --auth plain --user alice --password secret \
		--type v6v4 --local-ip 192.0.2.2 || return 1
	[ "$(field status)" = 200 ] || return 1
	short6 "$(field client_ipv6)" >"$T/alice.addr"
	e2e_wait_for 5 is_tunnel "$(cat "$T/alice.addr")" "192.0.2.2 false"
}
e2e_check "alice's authenticated v6v4 tunnel from 192.0.2.2 (signalled over IPv4)" alice_up

takeover_refused() {
	# Not the claimer's to replace (README "Ownership of tunnels"): 506.
	claim 192.0.2.2
	[ "$(field status)" = 506 ] || { echo "status $(field status)"; return 1; }
	e2e_wait_for 5 grep -q "origin=v6v4 192.0.2.2 .*reason=not-owner" "$T/run.log" || return 1
	[ "$(tunnel_of "$(cat "$T/alice.addr")")" = "192.0.2.2 false" ] ||
		{ echo "alice's tunnel: '$(tunnel_of "$(cat "$T/alice.addr")")'"; return 1; }
}
e2e_check "an anonymous claim of alice's IPv4 is refused (506) and leaves her binding in place" takeover_refused

alice_still_served() {
	local n
	n=$(arrivals 192.0.2.2 "$(cat "$T/alice.addr")")
	echo "alice received $n tunnel packets"
	[ "$n" -ge 3 ]
}
e2e_check "alice's traffic still flows while the claim is pending" alice_still_served

# --- 3. a real client that claims its own address, then proves it ------------

own_claim() {
	claim 192.0.2.4 || return 1
	[ "$(field status)" = 200 ] || return 1
	short6 "$(field client_ipv6)" >"$T/own.addr"
	e2e_wait_for 5 is_tunnel "$(cat "$T/own.addr")" "192.0.2.4 true"
}
e2e_check "a dual-stack client claims its own 192.0.2.4 over IPv6" own_claim

before_proof() {
	local n
	n=$(arrivals 192.0.2.4 "$(cat "$T/own.addr")")
	echo "received $n before proof"
	[ "$n" = 0 ]
}
e2e_check "nothing is sent to it before it proves the claim" before_proof

wrong_proof() {
	local before after
	before=$(counter claim_proven)
	# From the right address, but with an inner source not its own.
	e2e_ns "$NS_C" python3 "$P41" send 192.0.2.4 192.0.2.1 "$(cat "$T/alice.addr")" \
		2001:db8:2::1 3 || return 1
	sleep 1
	after=$(counter claim_proven)
	echo "claim_proven $before -> $after"
	[ "$after" = "$before" ] && [ "$(tunnel_of "$(cat "$T/own.addr")")" = "192.0.2.4 true" ]
}
e2e_check "a tunnel packet with another inner source proves nothing" wrong_proof

proof() {
	local before after
	before=$(counter claim_proven)
	e2e_ns "$NS_C" python3 "$P41" send 192.0.2.4 192.0.2.1 "$(cat "$T/own.addr")" \
		2001:db8:2::1 1 || return 1
	e2e_wait_for 5 grep -q "tunnel proven user=anonymous origin=v6v4 192.0.2.4" "$T/run.log" ||
		{ grep -E "claim|proven" "$T/run.log"; return 1; }
	after=$(counter claim_proven)
	echo "claim_proven $before -> $after"
	[ "$after" = $((before + 1)) ] && [ "$(tunnel_of "$(cat "$T/own.addr")")" = "192.0.2.4 false" ]
}
e2e_check "a tunnel packet from 192.0.2.4 with its own address proves it (claim_proven)" proof

after_proof() {
	local n
	n=$(arrivals 192.0.2.4 "$(cat "$T/own.addr")")
	echo "received $n after proof"
	[ "$n" -ge 3 ]
}
e2e_check "after the proof its traffic flows" after_proof
routes_follow_proof() {
	e2e_wait_for 5 routed "$(cat "$T/own.addr")" || { echo "no route for the proven tunnel"; return 1; }
	! routed "$(cat "$T/victim.addr")" || { echo "the unproven claim has a route"; return 1; }
}
e2e_check "routes.table: the proven tunnel is routed (for BGP), the unproven claim is not" \
	routes_follow_proof

# --- 4. addresses that cannot be endpoints --------------------------------------

refused_501() {
	local a
	for a in 127.0.0.1 224.0.0.1 0.0.0.0 255.255.255.255 192.0.2.1 10.1.2.3 169.254.1.1; do
		claim "$a" >/dev/null
		[ "$(field status)" = 501 ] || { echo "$a: status '$(field status)', want 501"; return 1; }
	done
	! gw tunnel list --json | grep -qE '"remote":"(127\.|224\.|10\.|169\.254)'
}
e2e_check "claims of loopback, multicast, 0.0.0.0, broadcast, the gateway, private and link-local get TSP 501" \
	refused_501

# --- 5. claims never proven ------------------------------------------------------

claim_expires() {
	e2e_wait_for $((CLAIM_TIMEOUT + 20)) grep -q \
		"tunnel claim-expired user=anonymous origin=v6v4 192.0.2.3 .*reason=unproven" "$T/run.log" ||
		{ grep claim "$T/run.log"; return 1; }
	[ -z "$(tunnel_of "$(cat "$T/victim.addr")")" ]
}
e2e_check "the unproven claim expires after broker.claim_timeout and leaves the maps" claim_expires

e2e_check_no_leftovers
e2e_finish

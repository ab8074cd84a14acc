#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# shellcheck disable=SC2015 # "check && check || report failure" is meant
# A gateway killed: gateways A and B share the anycast address 192.0.2.1,
# one assignment database and one SASL database (tests/fleet/anycast_topo.sh),
# and each runs BIRD (tests/fleet/bgp_lib.sh): dist/bird.conf announces its
# tunnels' routes (routes.table) to the upstream router U over eBGP, and a
# site addition the anycast address, which U prefers from A. A DIGEST-MD5
# user's tunnel runs through A. A dies as a machine does: links down,
# tspgw and BIRD killed. U's sessions to A drop, so BGP withdraws A's
# routes, and the anycast address leads to B; tspc notices the missed
# keepalives, sets up again at the same address, now answered by B, gets
# her address back from the shared database, and B announces it. Nothing
# is routed by hand. The gap in her pings to an IPv6 host is measured and
# reported.
#
# Exit 0 = all passed, 1 = failures, 77 = skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
TSPC=$BUILD/tspc
XDP_PASS=$BUILD/xdp_pass.bpf.o

e2e_require_root
e2e_require_tools ip ethtool nsenter nft ping python3 saslpasswd2 timeout bird birdc
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

# shellcheck source=tests/fleet/anycast_topo.sh
. "$HERE/anycast_topo.sh"
TABLE=4500
PROTO=204
# shellcheck source=tests/fleet/bgp_lib.sh
. "$HERE/bgp_lib.sh"
REALM=tspgw.example
POOL=2001:db8:100::/64

# Keepalives every 2 s, so tspc (2 misses, 1 s each) notices a dead
# gateway within about 6 s.
gw_config() {
	cat >"$T/$1.yaml" <<EOF
interfaces: {ipv4: u0, ipv6: d0, xdp_mode: native, tunnel_device: tz$1$$}
gateway: {ipv4: $ANY, ipv6: 2001:db8:1::1, keepalive: 2001:db8:1::1, name: gw-$1, heartbeat: 1}
pools: {hosts: $POOL}
routes: {table: $TABLE, protocol: $PROTO}
data_plane: {pin_path: /sys/fs/bpf/tspgw-any-$1-$$, max_tunnels: 1024,
             allowed_special_ranges: [documentation]}
broker:
  auth: {mechanisms: [DIGEST-MD5], sasldb: $T/sasldb2, realm: $REALM, server_name: $REALM}
  database: $T/fleet.sqlite
  keepalive: {default: 2, min: 1, max: 2, misses: 5}
EOF
}
gw_config a
gw_config b
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c alice
printf 'secret\n' >"$T/alice.pw"

anycast_topo_build bgp || exit 1
bgp_gw_conf a
bgp_gw_conf b
bgp_up_conf
bgp_anycast_conf
bgp_start up && bgp_start a && bgp_start b || { bgp_show_logs; exit 1; }
e2e_check "eBGP sessions U-A and U-B (IPv6: tunnels' routes; IPv4: the anycast address) are established" \
	e2e_wait_for 20 bgp_established gw_a gw_b gw_a4 gw_b4 || {
	bgp_show_logs
	e2e_finish
}
t_anycast_to_a() { bgp_best "$ANY/32" gw_a4 && kernel_via "$ANY/32" 198.51.100.2; }
e2e_check "  U learns the anycast address from both and routes it to A" \
	e2e_wait_for 5 t_anycast_to_a || t_anycast_to_a

start a 1
start b 1
e2e_check "gateways A and B share the anycast address and the databases" serving a.1 || e2e_finish
e2e_check "  (B)" serving b.1 || e2e_finish

nsenter --net="/run/netns/$NS_C" -- "$TSPC" --server $ANY --user alice --password-file "$T/alice.pw" \
	--auth digest-md5 --keepalive-timeout 1 --keepalive-misses 2 --retry-delay 1 --retry-delay-max 2 \
	>"$T/tspc.out" 2>"$T/tspc.err" </dev/null &
TSPC_PID=$!
e2e_register_pid "$TSPC_PID"
sessions() { grep -c '^TSP_SESSION=' "$T/tspc.out" 2>/dev/null || true; }
has_sessions() { [ "$(sessions)" -ge "$1" ]; }
param_at() { grep "^$1=" "$T/tspc.out" | sed -n "$2p" | cut -d= -f2-; }

t_up() {
	e2e_wait_for 15 has_sessions 1 || { cat "$T/tspc.err"; return 1; }
	param_at TSP_CLIENT_ADDRESS_IPV6 1 | grep -q '^2001:db8:100::' || return 1
	local la lb
	la=$(on a tunnel list --json) lb=$(on b tunnel list --json)
	grep -q '"address":"2001:db8:100::' <<<"$la" || { echo "A: $la"; return 1; }
	[ "$lb" = "[]" ] || { echo "B: $lb"; return 1; }
	ADDR=$(short6 "$(param_at TSP_CLIENT_ADDRESS_IPV6 1)")
	e2e_wait_for 5 bgp_only "$ADDR/128" gw_a || { bgp_only "$ADDR/128" gw_a; return 1; }
	ping_host 3
}
e2e_check "alice's tunnel is up through A (B holds none), U learns her /128 from A; the host answers her pings" t_up
ADDR=$(short6 "$(param_at TSP_CLIENT_ADDRESS_IPV6 1)")

# tspgw alone crashes on A; the machine, its data plane and BIRD live on.
# Her tunnel is still in A's maps and its route in A's table: A forwards
# and announces it as before, and her client notices nothing.
{
	kill -KILL "$PID_A"
	e2e_wait_exit "$PID_A" 5
} 2>/dev/null
t_crash() {
	local out
	bgp_only "$ADDR/128" gw_a || return 1
	out=$(e2e_ns "$NS_C" ping -6 -c 5 -i 0.2 -W 1 "$HOST6") || { echo "$out"; return 1; }
	grep -q " 5 received" <<<"$out" || { echo "$out"; return 1; }
}
e2e_check "tspgw on A crashes (BIRD runs on): A still announces her /128 and forwards her pings" t_crash
start a 2
e2e_check "  tspgw on A restarted" serving a.2 || e2e_finish

# Pings from the client every 0.1 s across the failure, with timestamps;
# bounded by -w.
nsenter --net="/run/netns/$NS_C" -- ping -6 -D -i 0.1 -W 1 -w 45 "$HOST6" >"$T/ping.log" 2>&1 </dev/null &
PING_PID=$!
e2e_register_pid "$PING_PID"
# The gap is measured from the last answer before the kill: wait (bounded)
# until answers flow, however long the restarted A took to forward again.
date +%s.%N >"$T/ping_started"
t_pinging() {
	e2e_wait_for 15 grep -q "bytes from" "$T/ping.log" || { tail -n 5 "$T/ping.log"; return 1; }
	sleep 1
	python3 - "$T/ping.log" "$(cat "$T/ping_started")" >"$T/first_answer.txt" <<'EOF'
import re, sys
ts = [float(m.group(1)) for m in (re.match(r"\[(\d+\.\d+)\] \d+ bytes from", l) for l in open(sys.argv[1])) if m]
print("first answer %.2f s after the pinger started" % (ts[0] - float(sys.argv[2])))
EOF
}
e2e_check "  the host answers the pinger before the failure" t_pinging &&
	e2e_log "$(cat "$T/first_answer.txt")"

# A dies as a machine does: its links go down (nothing leaves it any more,
# its data plane included), tspgw and BIRD are killed. U's sessions to A
# drop at once on the link loss (BIRD's `check link`); a gateway that only
# fell silent would go when the hold time (3 s here) ran out.
date +%s.%N >"$T/killed_at"
ip -n "$NS_A" link set u0 down
ip -n "$NS_A" link set d0 down
{
	kill -KILL "$PID_A" "$BIRD_A"
	e2e_wait_exit "$PID_A" 5
	e2e_wait_exit "$BIRD_A" 5
} 2>/dev/null
a_gone() { ! bgp_established gw_a && ! bgp_established gw_a4; }
t_withdrawn() {
	e2e_wait_for 5 a_gone || { echo "U: gw_a $(bgp_up_state gw_a), gw_a4 $(bgp_up_state gw_a4)"; return 1; }
	echo "U's BIRD dropped its sessions to A after the kill: $(bgp_down_after "$(cat "$T/killed_at")" gw_a gw_a4)" \
		>"$T/dropped.txt"
	e2e_wait_for 2 bgp_only "$ANY/32" gw_b4 || { bgp_only "$ANY/32" gw_b4; return 1; }
	kernel_via "$ANY/32" 198.51.100.10 || return 1
	local r
	r=$(bgp_from "$ADDR/128") || return 1
	[[ "$r" != *gw_a* ]] || { echo "U still learns $ADDR/128 from A"; return 1; }
}
e2e_check "A killed: U's sessions to it drop, its routes are withdrawn, the anycast address leads to B" \
	t_withdrawn && e2e_log "$(cat "$T/dropped.txt")"

t_back() {
	e2e_wait_for 30 has_sessions 2 || { tail -n 20 "$T/tspc.err"; return 1; }
	local a1 a2
	a1=$(param_at TSP_CLIENT_ADDRESS_IPV6 1) a2=$(param_at TSP_CLIENT_ADDRESS_IPV6 2)
	[ "$a1" = "$a2" ] || { echo "address $a2 after failover, was $a1"; return 1; }
	grep -q "keepalives in a row unanswered" "$T/tspc.err" || { echo "not keepalive-driven"; return 1; }
	local lb
	lb=$(on b tunnel list --json)
	grep -q "\"address\":\"$a1\"" <<<"$lb" || { echo "B: $lb"; return 1; }
}
e2e_check "tspc notices, sets up again through B, and alice keeps her address" t_back
t_announced_b() {
	e2e_wait_for 5 bgp_only "$ADDR/128" gw_b || { bgp_only "$ADDR/128" gw_b; return 1; }
	kernel_via "$ADDR" 2001:db8:b::2
}
e2e_check "  B announces her /128: U learns it from B alone and routes it to B" t_announced_b

# gap: the longest silence between two answered pings around the failure.
t_gap() {
	e2e_wait_for 15 _answered_since_kill || { tail -n 5 "$T/ping.log"; return 1; }
	python3 - "$T/ping.log" "$(cat "$T/killed_at")" <<'EOF'
import re, sys
ts = [float(m.group(1)) for m in (re.match(r"\[(\d+\.\d+)\] \d+ bytes from", l) for l in open(sys.argv[1])) if m]
killed = float(sys.argv[2])
before = [t for t in ts if t < killed]
after = [t for t in ts if t >= killed]
if not before or not after:
    sys.exit("no answered ping before or after the failure")
# The longest silence from the last answer before the kill on.
seq = [before[-1]] + after
gap = max(b - a for a, b in zip(seq, seq[1:]))
print("downtime %.1f s (last answer before the kill to the first after; tspc: 2 missed 2 s keepalives, then a new setup; BGP moved her /128 and the anycast address)" % gap)
sys.exit(0 if gap < 20 else 1)
EOF
}
_answered_since_kill() {
	python3 - "$T/ping.log" "$(cat "$T/killed_at")" <<'EOF'
import re, sys
killed = float(sys.argv[2])
sys.exit(0 if any(float(m.group(1)) > killed for m in (re.match(r"\[(\d+\.\d+)\] \d+ bytes from", l) for l in open(sys.argv[1])) if m) else 1)
EOF
}
if e2e_check "the host's pings to alice resume through B within 20 s" t_gap; then
	e2e_log "$(t_gap 2>/dev/null | tail -n 1)"
fi

e2e_stop "$PING_PID" 2 2>/dev/null
e2e_stop "$TSPC_PID" 5 2>/dev/null
e2e_stop "$PID_B" 5 2>/dev/null
e2e_check_no_leftovers
e2e_finish

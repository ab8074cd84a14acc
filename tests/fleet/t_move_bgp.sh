#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# shellcheck disable=SC2015 # "check && check || report failure" is meant
# A user moves, and BGP follows: gateways A and B (one assignment and SASL
# database, SQLite) each run dist/bird.conf, which announces their
# routes.table over eBGP to a BIRD on the upstream router U; an IPv6 host
# behind U pings alice (DIGEST-MD5, a router with a /56) all along. Her
# client moves from A to B (tspc restarted against B): B gives her the same
# address and prefix and puts their routes into its table; A, seeing the
# move in the database, ends its tunnel and takes its routes out. U must
# then learn her /128 and /56 from B alone (A withdrew, B announced), and
# the host's pings be answered again within a second of B setting her up.
# Last, A's BIRD hangs: U drops the silent session within its hold time.
#
#   the layout of tests/fleet/anycast_topo.sh (BIRD: tests/fleet/bgp_lib.sh);
#   here each gateway has an address of its own: A 198.51.100.2, B 198.51.100.10
#
# MOVE_DB=pg runs the same on a throwaway PostgreSQL cluster (not in CI:
# the move itself over PostgreSQL is t_takeover_pg.sh's; BGP is the same).
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
# shellcheck source=tests/fleet/pg_lib.sh
. "$HERE/pg_lib.sh"
DB_KIND=${MOVE_DB:-sqlite}
[ "$DB_KIND" != pg ] || pg_require

# shellcheck source=tests/fleet/anycast_topo.sh
. "$HERE/anycast_topo.sh"
TABLE=4400
PROTO=203
# shellcheck source=tests/fleet/bgp_lib.sh
. "$HERE/bgp_lib.sh"
REALM=tspgw.example
GW_A=198.51.100.2
GW_B=198.51.100.10

NS_D=tmd$$
fleet_database "$DB_KIND" "$NS_D" || exit 1

# Keepalives of 30 s (three misses): A keeps alice's tunnel, and announces
# it, after her first client stops; only the move ends it. TSP is served at
# the gateway's own address, on the wildcard sockets: the layout's default
# route prefers the anycast address as source, yet each reply leaves from
# the address its request reached.
gw_config() {
	cat >"$T/$1.yaml" <<EOF
interfaces: {ipv4: u0, ipv6: d0, xdp_mode: native, tunnel_device: tm$1$$}
gateway: {ipv4: $2, ipv6: 2001:db8:1::1, keepalive: 2001:db8:1::1, name: gw-$1, heartbeat: 1}
pools: {hosts: 2001:db8:100::/64, prefixes: 2001:db8:200::/40}
routes: {table: $TABLE, protocol: $PROTO}
data_plane: {pin_path: /sys/fs/bpf/tspgw-any-$1-$$, max_tunnels: 1024,
             allowed_special_ranges: [documentation]}
broker:
  auth: {mechanisms: [DIGEST-MD5], sasldb: $T/sasldb2, realm: $REALM, server_name: $REALM}
  database: "$DATABASE"
  keepalive: {default: 30, min: 1, max: 30, misses: 3}
EOF
}
gw_config a $GW_A
gw_config b $GW_B
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c alice
printf 'secret\n' >"$T/alice.pw"

anycast_topo_build bgp || exit 1

# --- BIRD ---------------------------------------------------------------------

bgp_gw_conf a
bgp_gw_conf b
bgp_up_conf
t_bird_parse() { bird -p -c "$T/bird.a.conf" && bird -p -c "$T/bird.b.conf" && bird -p -c "$T/bird.up.conf"; }
e2e_check "dist/bird.conf (site definitions set) on A and B, and U's config, parse" t_bird_parse ||
	e2e_finish
bgp_start up
bgp_start a
bgp_start b
e2e_check "eBGP sessions U-A and U-B are established" e2e_wait_for 20 bgp_established gw_a gw_b || {
	bgp_show_logs
	e2e_finish
}

start a 1
start b 1
e2e_check "gateways A and B (one $DB_KIND database, routes.table $TABLE) serve TSP" serving a.1 || e2e_finish
e2e_check "  (B)" serving b.1 || e2e_finish

# --- alice through A ------------------------------------------------------------

# tspc_bg NAME SERVER PORT: alice's router client (a /56 too) against
# SERVER from local port PORT (each client its own, so that nothing meant
# for the first reaches the second). Its hook writes the time its tunnel
# came up to $T/NAME.up. PID in TSPC_PID.
tspc_bg() {
	cat >"$T/$1.hook" <<EOF
#!/bin/sh
[ "\$TSP_OPERATION" = TSP_TUNNEL_CREATION ] && date +%s.%N >>"$T/$1.up"
exit 0
EOF
	chmod +x "$T/$1.hook"
	nsenter --net="/run/netns/$NS_C" -- "$TSPC" --server "$2" --local "0.0.0.0:$3" \
		--user alice --password-file "$T/alice.pw" --auth digest-md5 --router --prefix-len 56 \
		--hook "$T/$1.hook" >"$T/$1.out" 2>"$T/$1.err" </dev/null &
	TSPC_PID=$!
	e2e_register_pid "$TSPC_PID"
}
param() { grep "^$2=" "$T/$1.out" | tail -n 1 | cut -d= -f2-; }
tspc_up() { e2e_wait_file 15 "$T/$1.up" || { tail -n 15 "$T/$1.err"; return 1; }; }
ping_alice() { e2e_ns "$NS_H" ping -6 -c "$1" -i 0.2 -W 2 "$ADDR"; }

tspc_bg c1 $GW_A 42001
C1_PID=$TSPC_PID
ADDR="" PREFIX=""
t_on_a() {
	tspc_up c1 || return 1
	ADDR=$(short6 "$(param c1 TSP_CLIENT_ADDRESS_IPV6)")
	PREFIX=$(short6 "$(param c1 TSP_PREFIX)")/$(param c1 TSP_PREFIXLEN)
	e2e_wait_for 5 bgp_only "$ADDR/128" gw_a || { bgp_only "$ADDR/128" gw_a; return 1; }
	e2e_wait_for 5 bgp_only "$PREFIX" gw_a || { bgp_only "$PREFIX" gw_a; return 1; }
	kernel_via "$ADDR" 2001:db8:a::2 && kernel_via "$PREFIX" 2001:db8:a::2
}
e2e_check "alice through A: U learns her /128 and /56 from A alone (BGP) and routes them to A" t_on_a ||
	e2e_finish
ADDR=$(short6 "$(param c1 TSP_CLIENT_ADDRESS_IPV6)")
PREFIX=$(short6 "$(param c1 TSP_PREFIX)")/$(param c1 TSP_PREFIXLEN)
e2e_check "  the host behind U reaches her" ping_alice 3 || e2e_finish

# --- the move -------------------------------------------------------------------

# The host pings her every 0.1 s from now on, with timestamps; bounded by -w.
e2e_bg "$NS_H" "$T/ping.log" ping -6 -D -i 0.1 -W 1 -w 40 "$ADDR"
PING_PID=$E2E_BG_PID
sleep 1
date +%s.%N >"$T/stopped_at"
e2e_stop "$C1_PID" 3 >/dev/null 2>&1
# Still A's until B takes her: her tunnel on A outlives the client.
e2e_check "her client on A stopped: A still announces her (the tunnel waits for keepalives)" \
	bgp_only "$ADDR/128" gw_a
tspc_bg c2 $GW_B 42002
C2_PID=$TSPC_PID
t_on_b() {
	tspc_up c2 || return 1
	[ "$(short6 "$(param c2 TSP_CLIENT_ADDRESS_IPV6)")" = "$ADDR" ] ||
		{ echo "B gave $(param c2 TSP_CLIENT_ADDRESS_IPV6), A gave $ADDR"; return 1; }
	[ "$(short6 "$(param c2 TSP_PREFIX)")/$(param c2 TSP_PREFIXLEN)" = "$PREFIX" ] ||
		{ echo "B gave another prefix than $PREFIX"; return 1; }
}
e2e_check "her client restarted against B: same address and prefix" t_on_b
# Both ways of failing show here: A's routes left in (no withdrawal), or
# none of B's (no announcement).
t_bgp_moved() {
	e2e_wait_for 5 bgp_only "$ADDR/128" gw_b || { bgp_only "$ADDR/128" gw_b; return 1; }
	e2e_wait_for 5 bgp_only "$PREFIX" gw_b || { bgp_only "$PREFIX" gw_b; return 1; }
	kernel_via "$ADDR" 2001:db8:b::2 && kernel_via "$PREFIX" 2001:db8:b::2
}
e2e_check "  U learns both from B alone now (A withdrew, B announced) and routes them to B" t_bgp_moved
e2e_check "  A logs the hand-over" grep -q "tunnel taken-over user=alice .*by=gw-b" "$T/run.a.1.log"

# The host's pings answered again: when, counted from B setting her up
# (her client's hook), and the whole outage (her client's restart included).
answered_since() {
	python3 - "$T/ping.log" "$1" <<'EOF'
import re, sys
since = float(sys.argv[2])
sys.exit(0 if any(float(m.group(1)) >= since for m in (re.match(r"\[(\d+\.\d+)\] \d+ bytes from", l) for l in open(sys.argv[1])) if m) else 1)
EOF
}
t_follow() {
	e2e_wait_for 5 answered_since "$(cat "$T/stopped_at")" || { tail -n 5 "$T/ping.log"; return 1; }
	python3 - "$T/ping.log" "$(cat "$T/stopped_at")" "$(head -n 1 "$T/c2.up")" <<'EOF'
import re, sys
ts = [float(m.group(1)) for m in (re.match(r"\[(\d+\.\d+)\] \d+ bytes from", l) for l in open(sys.argv[1])) if m]
stopped, on_b = float(sys.argv[2]), float(sys.argv[3])
before = [t for t in ts if t < stopped]
after = [t for t in ts if t >= stopped]
if not before or not after:
    sys.exit("no answered ping before the move, or none after")
follow = max(0.0, after[0] - on_b)
print("the host's pings answered again %.2f s after B set alice up (outage %.1f s, her client's restart included)"
      % (follow, after[0] - before[-1]))
sys.exit(0 if follow < 1.0 else 1)
EOF
}
e2e_check "the host's pings to her are answered again within 1 s of B taking her" t_follow &&
	e2e_log "$(t_follow 2>/dev/null | tail -n 1)"
t_through_b() {
	local a0 b0 a1 b1
	a0=$(counter a encap) b0=$(counter b encap) || return 1
	sleep 1
	a1=$(counter a encap) b1=$(counter b encap) || return 1
	[ $((b1 - b0)) -ge 5 ] && [ "$a1" = "$a0" ] || { echo "encap in 1 s: A +$((a1 - a0)), B +$((b1 - b0))"; return 1; }
}
e2e_check "  through B: B encapsulates the host's pings, A nothing" t_through_b


# A's BIRD hangs (stopped, its link up, its TCP connection open): U hears
# no more keepalives and drops the session when the hold time (3 s, U's
# offer) runs out, taking A's routes with it. BIRD's default of 240 s
# would keep them four minutes.
kill -STOP "$BIRD_A"
date +%s.%N >"$T/hung_at"
t_hold() {
	e2e_wait_for 6 eval '! bgp_established gw_a' || { echo "gw_a: $(bgp_up_state gw_a)"; return 1; }
	bgp_down_after "$(cat "$T/hung_at")" gw_a >"$T/hold.txt" || return 1
	grep -q "Hold timer expired" "$T/hold.txt" || { cat "$T/hold.txt"; return 1; }
	bgp_only 2001:db8:ffff::/64 gw_b
}
e2e_check "A's BIRD hangs: U drops the session when the hold time runs out, and A's routes" t_hold &&
	e2e_log "U dropped the silent session after $(cat "$T/hold.txt")"
kill -CONT "$BIRD_A"

e2e_stop "$PING_PID" 2 2>/dev/null
e2e_stop "$C2_PID" 5 2>/dev/null
for p in "$PID_A" "$PID_B"; do e2e_stop "$p" 5 2>/dev/null; done
e2e_check_no_leftovers
e2e_finish

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# shellcheck disable=SC2015 # "check && check || report failure" is meant
# Routes follow the tunnels (routes.table): `tspgw run` puts each tunnel's
# /128 and delegated prefix into a kernel table of their own, tagged with
# routes.protocol; BIRD on the gateway (dist/bird.conf, only the site
# definitions replaced) announces them over eBGP to a BIRD on an upstream
# router, which puts them into its kernel. A tunnel's end withdraws them; a
# restart reconciles the table (stale routes out, missing ones in); the
# filters keep foreign and out-of-pool routes unannounced.
#
#   ns cli: c0 192.0.2.2/24     <->  u0 192.0.2.1/24      ns gw (tspgw, BIRD AS 64512)
#   ns gw:  r0 2001:db8:ff::1/64 <->  r0 2001:db8:ff::2/64 ns up (BIRD AS 64513)
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
e2e_require_tools ip ethtool nsenter python3 timeout saslpasswd2 bird birdc curl
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=trc$$
NS_G=trg$$
NS_U=tru$$
PIN=/sys/fs/bpf/tspgw-routes-$$
TUNDEV=trt$$
T=$E2E_TMP
CONF=$T/config.yaml
REALM=tspgw.example
GW=192.0.2.1
TABLE=4200
PROTO=201

# Keepalives every second, three misses: a stopped client's tunnel ends
# within about 4 s.
cat >"$CONF" <<EOF
interfaces: {ipv4: u0, ipv6: r0, xdp_mode: native, tunnel_device: $TUNDEV}
gateway: {ipv4: $GW, ipv6: 2001:db8:ff::1, keepalive: 2001:db8:ff::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools:
  hosts: 2001:db8:100::/64
  prefixes: 2001:db8:200::/40
  prefix_length: {min: 48, max: 60, default: 56}
data_plane: {pin_path: $PIN, max_tunnels: 1024, allowed_special_ranges: [documentation]}
broker:
  auth:
    mechanisms: [ANONYMOUS, DIGEST-MD5]
    sasldb: $T/sasldb2
    realm: $REALM
    server_name: $REALM
  database: $T/assignments.sqlite
  keepalive: {default: 1, min: 1, max: 1, misses: 3}
routes: {table: $TABLE, protocol: $PROTO}
metrics: {listen: "127.0.0.1:9653"}
EOF

# gw, start_gateway, stop_gateway, gateway_serving: tests/e2e/lib.sh
GW_NS=$NS_G

# --- network ------------------------------------------------------------------

e2e_netns_add "$NS_C" "$NS_G" "$NS_U" || exit 1
e2e_register_pin "$PIN"
e2e_on_exit "gw detach >/dev/null 2>&1"
e2e_veth "$NS_C" c0 "$NS_G" u0 || exit 1
e2e_veth "$NS_G" r0 "$NS_U" r0 || exit 1
ip -n "$NS_C" addr add 192.0.2.2/24 dev c0
ip -n "$NS_G" addr add "$GW"/24 dev u0
ip -n "$NS_G" addr add 2001:db8:ff::1/64 dev r0 nodad
ip -n "$NS_U" addr add 2001:db8:ff::2/64 dev r0 nodad
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS"
e2e_xdp_pass "$NS_U" r0 "$XDP_PASS"
ip -n "$NS_G" neigh replace 192.0.2.2 lladdr "$(e2e_mac "$NS_C" c0)" dev u0 nud permanent
ip -n "$NS_C" neigh replace "$GW" lladdr "$(e2e_mac "$NS_G" u0)" dev c0 nud permanent
ip -n "$NS_G" neigh replace 2001:db8:ff::2 lladdr "$(e2e_mac "$NS_U" r0)" dev r0 nud permanent
ip -n "$NS_U" neigh replace 2001:db8:ff::1 lladdr "$(e2e_mac "$NS_G" r0)" dev r0 nud permanent
printf 'hunter2\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c bob

# --- BIRD -----------------------------------------------------------------------

# The gateway's: the shipped dist/bird.conf with its site definitions
# replaced, so the filters under test are the ones operators install.
sed -e "s|^router id .*|router id $GW;|" \
	-e "s|^define TSPGW_TABLE = .*|define TSPGW_TABLE = $TABLE;|" \
	-e "s|^define TSPGW_PROTOCOL = .*|define TSPGW_PROTOCOL = $PROTO;|" \
	-e "s|^log syslog all;|log \"$T/bird.gw.log\" all;|" \
	-e "s|^\([[:space:]]*connect retry time\) .*|\1 2;|" \
	"$ROOT/dist/bird.conf" >"$T/bird.gw.conf"
# The upstream router: takes everything the gateway announces into its
# kernel's main table.
cat >"$T/bird.up.conf" <<EOF
router id 198.51.100.1;
log "$T/bird.up.log" all;
protocol device {}
protocol kernel { ipv6 { import none; export all; }; }
protocol bgp tspgw_gw {
	local as 64513;
	neighbor 2001:db8:ff::1 as 64512;
	connect delay time 1;
	connect retry time 2;
	ipv6 { import all; export none; };
}
EOF
bird_ok() { bird -p -c "$T/bird.$1.conf"; }
e2e_check "dist/bird.conf (site definitions set) and the upstream's parse" \
	eval 'bird_ok gw && bird_ok up' || e2e_finish

# bird_start NAME NS: a BIRD of our own (config, socket, pid in $T).
bird_start() {
	e2e_bg "$2" "$T/bird.$1.out" bird -f -c "$T/bird.$1.conf" -s "$T/bird.$1.ctl" \
		-P "$T/bird.$1.pid"
}
birdc_on() { birdc -s "$T/bird.$1.ctl" "${@:2}"; }
established() {
	local st
	st=$(birdc_on up show protocols tspgw_gw) && grep -q Established <<<"$st"
}

# --- what the tables hold -------------------------------------------------------

# Destinations as `ip` prints them (a /128 without its length), one a line.
gw_table() { ip -n "$NS_G" -6 route show table "$TABLE" proto "$PROTO" | awk '{print $1}'; }
up_routes() { ip -n "$NS_U" -6 route show proto bird | awk '{print $1}'; }
# foreign_kept: the in-pool route of another protocol is still in the table
# (read whole first: grep -q on a pipe would end ip with SIGPIPE).
foreign_kept() {
	local all
	all=$(ip -n "$NS_G" -6 route show table "$TABLE") || return 1
	grep -q '^2001:db8:100::f00 ' <<<"$all" || { echo "the foreign route is gone: $all"; return 1; }
}
# in LIST DEST...: every DEST is a line of LIST's output; out: none is.
in_() {
	local list=$1 got d
	shift
	got=$($list) || return 1
	for d in "$@"; do grep -qxF "$d" <<<"$got" || { echo "$list lacks $d: $got"; return 1; }; done
}
out_() {
	local list=$1 got d
	shift
	got=$($list) || return 1
	for d in "$@"; do grep -qxF "$d" <<<"$got" && { echo "$list holds $d: $got"; return 1; }; done
	return 0
}

# tspc_bg NAME ARGS...: a tspc of its own (TUN tNAME) in the client
# namespace, in this shell (PID in TSPC_PID, registered).
tspc_bg() {
	local name=$1
	shift
	nsenter --net="/run/netns/$NS_C" -- "$TSPC" --server "$GW" -i "t$name" --no-default-route \
		"$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	TSPC_PID=$!
	e2e_register_pid "$TSPC_PID"
}
param() { grep "^$2=" "$T/$1.out" | tail -n 1 | cut -d= -f2-; }
tspc_up() {
	e2e_wait_for 15 grep -q '^TSP_SESSION=' "$T/$1.out" || { tail -n 15 "$T/$1.err"; return 1; }
}

# --- start ----------------------------------------------------------------------

start_gateway 1
e2e_check "tspgw run with routes.table starts and serves TSP" gateway_serving 1 || e2e_finish
# The table does not exist yet (no route was ever in it): empty, not an error.
e2e_check "  its table, never used yet, reads as empty" \
	grep -q "tunnel routes in table $TABLE (protocol $PROTO), 0 stale removed" "$T/run.1.log"
# Routes the filters must keep back, in the table before BGP starts: ours
# by protocol but outside the pools, and in a pool but not ours.
ip -n "$NS_G" -6 route add 2001:db8:dead::/48 dev "$TUNDEV" table "$TABLE" proto "$PROTO"
ip -n "$NS_G" -6 route add 2001:db8:100::f00/128 dev "$TUNDEV" table "$TABLE" proto static
bird_start gw "$NS_G"
bird_start up "$NS_U"
e2e_check "eBGP between the gateway's BIRD and the upstream's is established" \
	e2e_wait_for 20 established || {
	cat "$T/bird.gw.log" "$T/bird.up.log" "$T/bird.gw.out" "$T/bird.up.out" 2>/dev/null | tail -n 20
	e2e_finish
}

# --- an anonymous host tunnel ---------------------------------------------------

tspc_bg anon --local 0.0.0.0:42001
ANON_PID=$TSPC_PID
ANON=""
t_anon_up() {
	tspc_up anon || return 1
	ANON=$(short6 "$(param anon TSP_CLIENT_ADDRESS_IPV6)")
	e2e_wait_for 5 in_ gw_table "$ANON" || { in_ gw_table "$ANON"; return 1; }
}
e2e_check "anonymous tunnel up: its /128 is in table $TABLE, protocol $PROTO" t_anon_up
ANON=$(short6 "$(param anon TSP_CLIENT_ADDRESS_IPV6)")
# via_gw DEST: the upstream routes DEST to the gateway.
via_gw() {
	local r
	r=$(ip -n "$NS_U" -6 route show "$1") && grep -q "via 2001:db8:ff::1 dev r0" <<<"$r" ||
		{ echo "upstream's route to $1: $r"; return 1; }
}
e2e_check "  the upstream learns the anonymous prefix whole, routed to the gateway" \
	e2e_wait_for 10 via_gw 2001:db8:ffff::/64

# --- a DIGEST-MD5 router with a delegated /56 -----------------------------------

tspc_bg bob --local 0.0.0.0:42002 --user bob --password hunter2 --auth digest-md5 \
	--router --prefix-len 56 --once
BOB_PID=$TSPC_PID
BOB="" BOBP=""
t_bob_up() {
	tspc_up bob || return 1
	BOB=$(short6 "$(param bob TSP_CLIENT_ADDRESS_IPV6)")
	BOBP=$(short6 "$(param bob TSP_PREFIX)")/$(param bob TSP_PREFIXLEN)
	e2e_wait_for 5 in_ gw_table "$BOB" "$BOBP" || { in_ gw_table "$BOB" "$BOBP"; return 1; }
}
e2e_check "router tunnel (DIGEST-MD5, /56): its /128 and prefix are in table $TABLE" t_bob_up
BOB=$(short6 "$(param bob TSP_CLIENT_ADDRESS_IPV6)")
BOBP=$(short6 "$(param bob TSP_PREFIX)")/$(param bob TSP_PREFIXLEN)
e2e_check "  the upstream learns both by BGP" e2e_wait_for 10 in_ up_routes "$BOB" "$BOBP"
t_bob_via() { via_gw "$BOB" && via_gw "$BOBP"; }
e2e_check "  and routes them to the gateway" t_bob_via
# Announced by now if the filters let them through: they were in the
# table before the session came up, the anonymous one before bob's.
t_kept_back() {
	out_ up_routes "$ANON" 2001:db8:dead::/48 2001:db8:100::f00 &&
		in_ gw_table "$ANON" 2001:db8:dead::/48 && foreign_kept
}
e2e_check "  filters: an anonymous /128, ours outside the pools, in-pool of another protocol: unannounced" \
	t_kept_back

t_bob_del() {
	gw tunnel del --user bob >/dev/null || return 1
	e2e_wait_for 5 out_ gw_table "$BOB" "$BOBP" || { out_ gw_table "$BOB" "$BOBP"; return 1; }
}
e2e_check "tspgw tunnel del --user bob: its routes leave the table" t_bob_del
e2e_check "  and the upstream withdraws them" e2e_wait_for 10 out_ up_routes "$BOB" "$BOBP"
e2e_check "  the anonymous tunnel's stays in the table" in_ gw_table "$ANON"
e2e_stop "$BOB_PID" 3 >/dev/null 2>&1

# --- a client that stops --------------------------------------------------------

e2e_stop "$ANON_PID" 3 >/dev/null 2>&1
t_anon_gone() {
	e2e_wait_for 15 out_ gw_table "$ANON" || { out_ gw_table "$ANON"; return 1; }
	grep -q "tunnel expired .*address=$ANON" "$T/run.1.log"
}
e2e_check "anonymous client stopped: its tunnel expires, its route leaves the table" t_anon_gone

# --- restart: the table reconciled --------------------------------------------

# bob again (his tunnel was deleted, not he): the same address and prefix.
tspc_bg bob2 --local 0.0.0.0:42005 --user bob --password hunter2 --auth digest-md5 \
	--router --prefix-len 56 --once
BOB2_PID=$TSPC_PID
t_bob2_up() {
	tspc_up bob2 || return 1
	[ "$(short6 "$(param bob2 TSP_CLIENT_ADDRESS_IPV6)")" = "$BOB" ] || { echo "new address"; return 1; }
	e2e_wait_for 10 in_ up_routes "$BOB" "$BOBP"
}
e2e_check "bob back (same address and prefix): announced again" t_bob2_up
tspc_bg anon2 --local 0.0.0.0:42003
ANON2_PID=$TSPC_PID
t_anon2_up() {
	tspc_up anon2 || return 1
	e2e_wait_for 5 in_ gw_table "$(short6 "$(param anon2 TSP_CLIENT_ADDRESS_IPV6)")"
}
e2e_check "another anonymous tunnel: in the table" t_anon2_up
ANON2=$(short6 "$(param anon2 TSP_CLIENT_ADDRESS_IPV6)")

stop_gateway TERM
e2e_check "tspgw stopped: the tunnels stay in the data plane, their routes stay" \
	in_ gw_table "$ANON2" "$BOB" "$BOBP"
# While it is away: a tunnel's route lost, a stale one of ours left.
ip -n "$NS_G" -6 route del "$BOB"/128 table "$TABLE" proto "$PROTO"
e2e_check "  a lost route is withdrawn upstream meanwhile" e2e_wait_for 10 out_ up_routes "$BOB"
ip -n "$NS_G" -6 route add 2001:db8:100::dead/128 dev "$TUNDEV" table "$TABLE" proto "$PROTO"
e2e_check "  a stale in-pool route of ours is announced meanwhile" \
	e2e_wait_for 10 in_ up_routes 2001:db8:100::dead
start_gateway 2
e2e_check "tspgw restarted" gateway_serving 2 || e2e_finish
t_reconciled() {
	in_ gw_table "$ANON2" "$BOB" "$BOBP" && out_ gw_table 2001:db8:100::dead 2001:db8:dead::/48 || return 1
	# Not ours: stays.
	foreign_kept || return 1
	grep -q "tunnel routes in table $TABLE (protocol $PROTO), 2 stale removed" "$T/run.2.log" ||
		{ grep "tunnel routes" "$T/run.2.log"; return 1; }
}
e2e_check "  reconciled: the tunnel's route back, 2 stale ones of ours removed, the foreign one kept" \
	t_reconciled
e2e_check "  the upstream withdraws the stale route and learns the lost one again" \
	e2e_wait_for 10 eval "out_ up_routes 2001:db8:100::dead && in_ up_routes $BOB $BOBP"
t_reload() {
	ip -n "$NS_G" -6 route add 2001:db8:100::beef/128 dev "$TUNDEV" table "$TABLE" proto "$PROTO" &&
		gw reload >/dev/null || return 1
	e2e_wait_for 5 grep -q "tunnel routes: 1 stale removed" "$T/run.2.log" &&
		out_ gw_table 2001:db8:100::beef && in_ gw_table "$ANON2"
}
e2e_check "tspgw reload reconciles too: a stale route removed, the tunnel's kept" t_reload

# --- a route the kernel refuses -------------------------------------------------

# route_errors OP: tspgw_kernel_route_errors_total{op=OP} from /metrics.
route_errors() {
	local page
	page=$(e2e_ns "$NS_G" curl -s -m 5 http://127.0.0.1:9653/metrics) || return 1
	sed -n "s/^tspgw_kernel_route_errors_total{op=\"$1\"} //p" <<<"$page"
}
# The tunnel device down (IPv6 drops its routes, and refuses new ones
# into it: ENETDOWN); a tunnel set up meanwhile is served, unannounced.
ip -n "$NS_G" link set dev "$TUNDEV" down
tspc_bg anon3 --local 0.0.0.0:42004
ANON3_PID=$TSPC_PID
t_refused() {
	tspc_up anon3 || return 1
	e2e_wait_for 5 grep -q "cannot add the tunnel route $(short6 "$(param anon3 TSP_CLIENT_ADDRESS_IPV6)")/128" \
		"$T/run.2.log" || { tail -n 5 "$T/run.2.log"; return 1; }
	[ "$(route_errors add)" = 1 ] || { echo "add errors: '$(route_errors add)'"; return 1; }
}
e2e_check "a route the kernel refuses: the tunnel is served, the failure logged and counted" t_refused
t_recovered() {
	ip -n "$NS_G" link set dev "$TUNDEV" up && gw reload >/dev/null || return 1
	e2e_wait_for 5 in_ gw_table "$ANON2" "$(short6 "$(param anon3 TSP_CLIENT_ADDRESS_IPV6)")" ||
		in_ gw_table "$ANON2" "$(short6 "$(param anon3 TSP_CLIENT_ADDRESS_IPV6)")"
}
e2e_check "  device up again, tspgw reload adds the missing routes" t_recovered
e2e_stop "$ANON3_PID" 3 >/dev/null 2>&1
e2e_stop "$BOB2_PID" 3 >/dev/null 2>&1
e2e_stop "$ANON2_PID" 3 >/dev/null 2>&1

# In this shell, which can wait for the daemon.
stop_gateway TERM
echo $? >"$T/stop.rc"
t_stop() {
	[ "$(cat "$T/stop.rc")" = 0 ] || { echo "exit status $(cat "$T/stop.rc")"; tail -n 5 "$T/run.2.log"; return 1; }
}
e2e_check "SIGTERM stops the gateway (exit 0)" t_stop
e2e_check_no_leftovers
e2e_finish

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# shellcheck disable=SC2015 # "check && check || report failure" is meant
# Two gateways sharing one PostgreSQL database (a throwaway cluster,
# tests/fleet/pg_lib.sh): many users set up at once across both never
# get the same address or overlapping prefixes, a user keeps her address
# from one gateway to the other, drain and referral work as on SQLite,
# and a database that goes away makes authenticated setups fail promptly
# (anonymous ones still served) until it is back.
#
#   ns gwa: u0 192.0.2.1/24     <->  c0 192.0.2.2/24     ns cli
#   ns gwb: u0 198.51.100.1/24  <->  c1 198.51.100.2/24  ns cli
#   ns db:  PostgreSQL on 203.0.113.50 (TCP, password from a passfile)
#           and on a unix socket the gateways use
#
# USERS=N sets how many users set up at once (default 200, half on each
# gateway, as many as the fleet must serve at once; FULL=1: 400).
# Exit 0 = all passed, 1 = failures, 77 = skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
# shellcheck source=tests/fleet/pg_lib.sh
. "$HERE/pg_lib.sh"

TSPGW=$BUILD/tspgw
TSPC=$BUILD/tspc
# The gateways are what is under test: with the sanitizer build, the many
# clients at once are the plain build's tspc, whose exit does not wait on
# LeakSanitizer stopping the world while a hundred others do the same.
[ "$(basename "$BUILD")" = san ] && [ -x "$BUILD/../tspc" ] && TSPC=$(cd "$BUILD/.." && pwd)/tspc
XDP_PASS=$BUILD/xdp_pass.bpf.o
USERS=${USERS:-$([ "${FULL:-0}" = 1 ] && echo 400 || echo 200)}

e2e_require_root
e2e_require_tools ip ethtool nsenter timeout saslpasswd2
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"
pg_require

NS_C=tpc$$
NS_A=tpa$$
NS_B=tpb$$
NS_D=tpd$$
T=$E2E_TMP
A=192.0.2.1
B=198.51.100.1
DBADDR=203.0.113.50
REALM=tspgw.example
PW=pg-secret-$$

# --- network and database -----------------------------------------------------

e2e_netns_add "$NS_C" "$NS_A" "$NS_B" "$NS_D" || exit 1
ip -n "$NS_D" addr add $DBADDR/32 dev lo
# The gateways reach the cluster over its unix socket (PG_CONNINFO).
pg_start_db "$NS_D" $DBADDR tspgw tspgw "$PW" || exit 1

# gw_config NAME ADDR: gateway NAME's config; the database shared.
gw_config() {
	cat >"$T/$1.yaml" <<EOF
interfaces: {ipv4: u0, xdp_mode: native, tunnel_device: tp$1$$}
gateway: {ipv4: $2, ipv6: 2001:db8:2::1, name: gw-$1, heartbeat: 1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools:
  hosts: 2001:db8:100::/64
  prefixes: 2001:db8:200::/40
  prefix_length: {min: 48, default: 56, max: 64}
data_plane: {pin_path: /sys/fs/bpf/tspgw-pg-$1-$$, max_tunnels: 4096,
             allowed_special_ranges: [documentation]}
broker:
  auth:
    mechanisms: [ANONYMOUS, DIGEST-MD5]
    sasldb: $T/sasldb2
    realm: $REALM
    server_name: $REALM
  database: "$PG_CONNINFO"
  keepalive: {default: 30, min: 1, max: 30, misses: 3}
  limits: {tunnels_per_ipv4: 0, sessions_per_ipv4_per_minute: 0, sessions_per_source: 0}
EOF
}
gw_config a "$A"
gw_config b "$B"

on() {
	local ns=$NS_A
	[ "$1" = b ] && ns=$NS_B
	e2e_ns "$ns" timeout 20 "$TSPGW" -c "$T/$1.yaml" "${@:2}"
}

for g in a b; do
	e2e_register_pin "/sys/fs/bpf/tspgw-pg-$g-$$"
	e2e_on_exit "on $g detach >/dev/null 2>&1"
done
e2e_veth "$NS_C" c0 "$NS_A" u0 || exit 1
e2e_veth "$NS_C" c1 "$NS_B" u0 || exit 1
ip -n "$NS_C" addr add 192.0.2.2/24 dev c0
ip -n "$NS_C" addr add 198.51.100.2/24 dev c1
ip -n "$NS_A" addr add $A/24 dev u0
ip -n "$NS_B" addr add $B/24 dev u0
for g in "$NS_A" "$NS_B"; do ip -n "$g" addr add 2001:db8:2::1/64 dev u0 nodad; done
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS"
e2e_xdp_pass "$NS_C" c1 "$XDP_PASS"

for ((i = 1; i <= USERS; i++)); do
	printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c "u$i" || exit 1
done

# --- helpers ------------------------------------------------------------------

PID_A="" PID_B=""
start() {
	local ns=$NS_A
	[ "$1" = b ] && ns=$NS_B
	e2e_bg "$ns" "$T/run.$1.log" "$TSPGW" -c "$T/$1.yaml" run
	if [ "$1" = a ]; then PID_A=$E2E_BG_PID; else PID_B=$E2E_BG_PID; fi
}
serving() { e2e_wait_for 20 grep -q "serving TSP" "$T/run.$1.log" || { cat "$T/run.$1.log"; return 1; }; }

# auth GW USER PORT [tspc args]: an authenticated router setup (host
# address and a /56) by USER against GW; parameters in $T/USER.PORT.out.
auth() {
	local gw=$1 user=$2 port=$3
	shift 3
	e2e_ns "$NS_C" timeout -k 5 40 "$TSPC" --server "$gw" --local "0.0.0.0:$port" --print-only \
		--timeout 10 --user "$user" --password secret --auth digest-md5 --router "$@" \
		>"$T/$user.$port.out" 2>"$T/$user.$port.err" </dev/null
}
anon() {
	e2e_ns "$NS_C" timeout -k 5 40 "$TSPC" --server "$1" --local "0.0.0.0:$2" --print-only \
		--timeout 10 >"$T/anon.$2.out" 2>"$T/anon.$2.err" </dev/null
}
val() { grep "^$1=" "$2" | cut -d= -f2; }
sql() { pg_sql tspgw "$@"; }

# --- the fleet on PostgreSQL --------------------------------------------------

start a
start b
e2e_check "two gateways on one PostgreSQL database serve TSP" serving a || e2e_finish
e2e_check "  (the second)" serving b || e2e_finish
# The version this build writes (broker/assign_schema.h).
SCHEMA_VERSION=$(sed -n 's/^#define ADB_SCHEMA_VERSION \([0-9]*\)$/\1/p' "$ROOT/broker/assign_schema.h")
t_schema() {
	[ -n "$SCHEMA_VERSION" ] && [ "$(sql "SELECT version FROM schema_version")" = "$SCHEMA_VERSION" ] &&
		[ "$(sql "SELECT count(*) FROM pg_tables WHERE tablename IN
			('users','pools','free_blocks','end_requests','gateways')")" = 5 ]
}
e2e_check "the schema is created once, at the build's version, by gateways starting together" t_schema

# Every user at once, odd ones on A, even ones on B.
t_concurrent() {
	local i gw pids=() failed=() t0=$SECONDS
	for ((i = 1; i <= USERS; i++)); do
		gw=$A
		((i % 2)) || gw=$B
		auth "$gw" "u$i" $((42000 + i)) &
		pids[i]=$!
	done
	for ((i = 1; i <= USERS; i++)); do wait "${pids[i]}" || failed+=("u$i"); done
	echo "# $USERS setups in $((SECONDS - t0)) s, ${#failed[@]} failed"
	for i in "${failed[@]:0:5}"; do
		echo "$i: $(tail -n 2 "$T/$i.$((42000 + ${i#u})).err" | tr '\n' ' ')"
	done
	[ "${#failed[@]}" = 0 ]
}
e2e_check "$USERS authenticated router setups at once across both gateways all succeed" t_concurrent

t_unique() {
	local rows
	rows=$(sql "SELECT count(*), count(DISTINCT host), count(DISTINCT prefix) FROM users")
	[ "$rows" = "$USERS|$USERS|$USERS" ] || { echo "users, hosts, prefixes: $rows"; return 1; }
	rows=$(sql "SELECT count(*) FROM users a JOIN users b ON a.name < b.name
		     AND (a.prefix && b.prefix OR a.host = b.host)")
	[ "$rows" = 0 ] || { echo "$rows overlapping pairs"; return 1; }
}
e2e_check "  the database holds $USERS users, no address twice, no overlapping prefixes" t_unique

# What each client was told is what the database holds for it.
t_told() {
	awk -F= '/^TSP_CLIENT_ADDRESS_IPV6=/ { h[FILENAME] = $2 }
		/^TSP_PREFIX=/ { p[FILENAME] = $2 }
		/^TSP_PREFIXLEN=/ { l[FILENAME] = $2 }
		END { for (f in h) { u = f; sub(/.*\//, "", u); sub(/\..*/, "", u)
			print u " " h[f] " " p[f] "/" l[f] } }' "$T"/u*.42[0-9][0-9][0-9].out |
		sort >"$T/told"
	sql "SELECT name || ' ' || host(host) || ' ' || prefix FROM users" | sort >"$T/held"
	diff "$T/told" "$T/held" | head -n 6
	cmp -s "$T/told" "$T/held"
}
e2e_check "  each client was told the address and prefix the database holds for it" t_told

t_moves() {
	local before after
	before=$(sql "SELECT host(host) || ' ' || prefix FROM users WHERE name = 'u1'")
	auth "$B" u1 43001 || { cat "$T/u1.43001.err"; return 1; }
	after="$(val TSP_CLIENT_ADDRESS_IPV6 "$T/u1.43001.out") $(val TSP_PREFIX "$T/u1.43001.out")/56"
	[ "$before" = "$after" ] || { echo "was $before, on B got $after"; return 1; }
	[ "$(val TSP_BROKER_ADDRESS_IPV4 "$T/u1.43001.out")" = "$B" ]
}
e2e_check "a user moving from gateway A to B keeps her address and prefix" t_moves

# The operator's commands read and write the shared database: user show,
# and tunnel del --user, which the daemon holding the tunnel takes from
# end_requests once it sees another writer's commit. u5's tunnel is set up
# again on A first: the one from the burst may have expired by now (its
# client is gone, nothing keeps it alive). The daemon keeps a tunnel made
# after the request, judged in whole seconds: the del waits two.
no_end_requests() { [ "$(sql "SELECT count(*) FROM end_requests")" = 0 ]; }
t_operator() {
	local addr
	auth "$A" u5 43005 || { cat "$T/u5.43005.err"; return 1; }
	sleep 2
	addr=$(sql "SELECT host(host) FROM users WHERE name = 'u5'")
	on b user show u5 >"$T/show.out" 2>&1 && grep -q "$addr" "$T/show.out" ||
		{ cat "$T/show.out"; return 1; }
	on a tunnel del --user u5 >"$T/del.out" 2>&1 || { cat "$T/del.out"; return 1; }
	# B reads the request too but leaves it to A, who holds the tunnel;
	# A logs the end, then removes the request.
	e2e_wait_for 10 grep -q "tunnel deleted user=u5 .*by=operator" "$T/run.a.log" &&
		e2e_wait_for 5 no_end_requests || {
		cat "$T/del.out"
		grep "u5" "$T/run.a.log" | tail -n 5
		sql "SELECT * FROM end_requests"
		return 1
	}
}
e2e_check "tspgw user show and tunnel del --user on PostgreSQL; the daemon takes the request" \
	t_operator

t_drain() {
	on a drain >/dev/null && e2e_wait_for 5 grep -q "gateway gw-a drained" "$T/run.a.log" &&
		auth "$A" u2 43002 || { cat "$T/u2.43002.err"; return 1; }
	[ "$(val TSP_BROKER_ADDRESS_IPV4 "$T/u2.43002.out")" = "$B" ] &&
		grep -q "redirected" "$T/u2.43002.err" &&
		[ "$(sql "SELECT draining FROM gateways WHERE name = 'gw-a'")" = t ] &&
		on a undrain >/dev/null && e2e_wait_for 5 grep -q "gateway gw-a no longer drained" "$T/run.a.log"
}
e2e_check "tspgw drain on PostgreSQL: drained A refers a user to B, who serves her" t_drain

# The operator's view over TCP, the password from a passfile (0600).
t_tcp_passfile() {
	printf '%s:%s:tspgw:tspgw:%s\n' "$DBADDR" "$PG_PORT" "$PW" >"$T/pgpass"
	chmod 0600 "$T/pgpass"
	sed "s|database: .*|database: \"host=$DBADDR port=$PG_PORT dbname=tspgw user=tspgw passfile=$T/pgpass\"|" \
		"$T/a.yaml" >"$T/tcp.yaml"
	e2e_ns "$NS_D" timeout 20 "$TSPGW" -c "$T/tcp.yaml" gateway list >"$T/list.out" 2>&1 &&
		grep -q "^gw-a " "$T/list.out" && grep -q "^gw-b " "$T/list.out" ||
		{ cat "$T/list.out"; return 1; }
	# A password in the connection string is refused at load, not echoed.
	sed "s|database: .*|database: \"host=$DBADDR dbname=tspgw password=$PW\"|" "$T/a.yaml" >"$T/pw.yaml"
	! e2e_ns "$NS_D" timeout 20 "$TSPGW" -c "$T/pw.yaml" gateway list >"$T/pw.out" 2>&1 &&
		grep -q "holds a password" "$T/pw.out" && ! grep -q "$PW" "$T/pw.out"
}
e2e_check "over TCP with the password in a passfile; a password in the string is refused" t_tcp_passfile

# The database freezes: connections stay open, nothing answers (a server
# or a network that hangs rather than resets). Every process of the
# cluster is stopped (the postmaster and its children, by process id).
pg_freeze() {
	local p
	for p in "$PG_PID" $(pgrep -P "$PG_PID"); do kill "-$1" "$p"; done
}
e2e_on_exit "pg_freeze CONT 2>/dev/null"
pg_freeze STOP
t_frozen_refused() {
	local t0 rc ms
	t0=$(date +%s%N)
	auth "$B" u4 43004 --timeout 30
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "# refused in $ms ms (exit $rc)"
	[ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$ms" -lt 20000 ] && grep -q "310" "$T/u4.43004.err" ||
		{ cat "$T/u4.43004.err"; return 1; }
}
e2e_check "PostgreSQL frozen: an authenticated setup is refused (310) within the call deadline" \
	t_frozen_refused
t_frozen_anon() { anon "$B" 43101 && [ "$(val TSP_BROKER_ADDRESS_IPV4 "$T/anon.43101.out")" = "$B" ]; }
e2e_check "  anonymous setups are still served" t_frozen_anon
# While the database stays frozen the gateway keeps trying to connect (its
# periodic check, and every authenticated login): a connect that gets no
# answer must not hold the event loop for its connect_timeout (3 s) each
# time. Anonymous setups one after the other, an authenticated login
# beside each, each timed: the slowest shows the longest stall.
t_frozen_loop() {
	local i t0 ms max=0 all="" pids=()
	for ((i = 0; i < 12; i++)); do
		auth "$B" u6 $((43120 + i)) --timeout 5 &
		pids+=($!)
		t0=$(date +%s%N)
		anon "$B" $((43140 + i)) || { cat "$T/anon.$((43140 + i)).err"; return 1; }
		ms=$((($(date +%s%N) - t0) / 1000000))
		all+=" $ms"
		[ "$ms" -gt "$max" ] && max=$ms
		sleep 0.5
	done
	wait "${pids[@]}"
	echo "# anonymous setups during reconnects to the frozen database (ms):$all; slowest $max ms"
	# The logins beside them reached the database and were refused.
	for ((i = 0; i < 12; i++)); do
		grep -q "310" "$T/u6.$((43120 + i)).err" || { cat "$T/u6.$((43120 + i)).err"; return 1; }
	done
	[ "$max" -lt 1500 ]
}
e2e_check "  reconnects to the frozen database do not stall the gateway (each setup < 1.5 s)" \
	t_frozen_loop
pg_freeze CONT

# The database goes away.
pg_stop
t_down_refused() {
	local t0 rc
	t0=$(date +%s%N)
	auth "$A" u3 43003
	rc=$?
	local ms=$((($(date +%s%N) - t0) / 1000000))
	echo "# refused in $ms ms (exit $rc)"
	[ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$ms" -lt 15000 ] && grep -q "310" "$T/u3.43003.err" ||
		{ cat "$T/u3.43003.err"; return 1; }
}
e2e_check "PostgreSQL down: an authenticated setup is refused (310) promptly, no hang" t_down_refused
t_down_anon() { anon "$A" 43100 && [ "$(val TSP_BROKER_ADDRESS_IPV4 "$T/anon.43100.out")" = "$A" ]; }
e2e_check "  anonymous setups are still served" t_down_anon
t_down_alive() { kill -0 "$PID_A" && kill -0 "$PID_B"; }
e2e_check "  both gateways keep running" t_down_alive

pg_start_again || exit 1
t_back() {
	local i
	# The gateway tries the database again after 1 s, then less often
	# (up to every 8 s) while it stays away.
	for ((i = 0; i < 20; i++)); do
		auth "$A" u3 $((43200 + i)) && break
		sleep 1
	done
	[ "$i" -lt 20 ] || { cat "$T/u3.$((43200 + i - 1)).err"; return 1; }
	[ "$(sql "SELECT host(host) FROM users WHERE name = 'u3'")" = \
		"$(val TSP_CLIENT_ADDRESS_IPV6 "$T/u3.$((43200 + i)).out")" ]
}
e2e_check "PostgreSQL back: the gateway reconnects by itself; u3 keeps her address" t_back

for p in "$PID_A" "$PID_B"; do
	{
		kill -TERM "$p"
		e2e_wait_exit "$p" 10
	} 2>/dev/null
done
pg_stop
e2e_check_no_leftovers
e2e_finish

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# shellcheck disable=SC2015 # "check && check || report failure" is meant
# One tunnel per user across the fleet: gateways A and B share one
# assignment database and one SASL database. alice sets up through A, then
# through B (a client that moved); B records that it serves her, and A,
# seeing the change, ends its tunnel of hers (binding and kernel route)
# within a second, so no two gateways forward for her address.
#
#   the two-gateway layout of tests/fleet/two_gw.sh
#
# TAKEOVER_DB=pg (t_takeover_pg.sh) runs the same on a throwaway
# PostgreSQL cluster, where the gateways learn of the move by LISTEN/NOTIFY.
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
e2e_require_tools ip ethtool nsenter python3 saslpasswd2 timeout
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"
# shellcheck source=tests/fleet/pg_lib.sh
. "$HERE/pg_lib.sh"
DB_KIND=${TAKEOVER_DB:-sqlite}
[ "$DB_KIND" != pg ] || pg_require

NS_C=tkc$$
NS_A=tka$$
NS_B=tkb$$
NS_D=tkd$$
T=$E2E_TMP
# shellcheck source=tests/fleet/two_gw.sh
. "$HERE/two_gw.sh"
REALM=tspgw.example
TABLE=4300
PROTO=202

fleet_database "$DB_KIND" "$NS_D" || exit 1

# Keepalives of 30 s: the tunnels --print-only leaves stay until taken over.
gw_config() {
	cat >"$T/$1.yaml" <<EOF
interfaces: {ipv4: u0, xdp_mode: native, tunnel_device: tk$1$$}
gateway: {ipv4: $2, ipv6: 2001:db8:2::1, name: gw-$1, heartbeat: 1}
pools: {hosts: 2001:db8:100::/64, prefixes: 2001:db8:200::/40}
routes: {table: $TABLE, protocol: $PROTO}
data_plane: {pin_path: /sys/fs/bpf/tspgw-tk-$1-$$, max_tunnels: 1024,
             allowed_special_ranges: [documentation]}
broker:
  auth: {mechanisms: [DIGEST-MD5], sasldb: $T/sasldb2, realm: $REALM, server_name: $REALM}
  database: "$DATABASE"
  keepalive: {default: 30, min: 1, max: 30, misses: 3}
EOF
}
gw_config a "$A"
gw_config b "$B"
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c alice
printf 'secret\n' >"$T/alice.pw"

two_gw_build /sys/fs/bpf/tspgw-tk || exit 1

# setup NAME SERVER: alice's router setup (a /56 too) through SERVER;
# parameters in $T/NAME.out.
setup() {
	e2e_ns "$NS_C" timeout 40 "$TSPC" --server "$2" --user alice --password-file "$T/alice.pw" \
		--auth digest-md5 --router --print-only --timeout 5 >"$T/$1.out" 2>"$T/$1.err" </dev/null ||
		{ cat "$T/$1.err"; return 1; }
}
param() { grep "^$2=" "$T/$1.out" | tail -n 1 | cut -d= -f2-; }
# holds NAME ADDR: gateway NAME has a tunnel with that address in its maps.
holds() {
	local list
	list=$(on "$1" tunnel list --json) && grep -q "\"address\":\"$2\"" <<<"$list"
}
routed() {
	local t
	t=$(ip -n "$(two_gw_ns "$1")" -6 route show table "$TABLE" proto "$PROTO")
	grep -q "^$2 " <<<"$t"
}

start a
start b
e2e_check "gateways A and B on one database serve TSP" serving a || e2e_finish
e2e_check "  (B)" serving b || e2e_finish

t_on_a() {
	setup s1 "$A" || return 1
	ADDR=$(param s1 TSP_CLIENT_ADDRESS_IPV6)
	holds a "$ADDR" && routed a "$ADDR" && ! holds b "$ADDR"
}
e2e_check "alice's tunnel through A: in A's maps and A's route table, not B's" t_on_a
ADDR=$(param s1 TSP_CLIENT_ADDRESS_IPV6)
PREFIX=$(param s1 TSP_PREFIX)/$(param s1 TSP_PREFIXLEN)

# gone_from NAME: that gateway no longer forwards for her (binding and
# route gone).
gone_from() { ! holds "$1" "$ADDR" && ! routed "$1" "$ADDR"; }
t_moved() {
	setup s2 "$B" || return 1
	local t0 t1
	t0=$(date +%s.%N)
	[ "$(param s2 TSP_CLIENT_ADDRESS_IPV6)" = "$ADDR" ] || { echo "B gave $(param s2 TSP_CLIENT_ADDRESS_IPV6), A gave $ADDR"; return 1; }
	[ "$(param s2 TSP_PREFIX)/$(param s2 TSP_PREFIXLEN)" = "$PREFIX" ] || { echo "another prefix"; return 1; }
	# The log line comes right after the binding and the route are gone.
	e2e_wait_for 3 grep -q "tunnel taken-over user=alice .*by=gw-b" "$T/run.a.log" ||
		{ echo "A did not let go"; return 1; }
	t1=$(date +%s.%N)
	gone_from a || { echo "A still forwards for alice"; return 1; }
	python3 -c 'import sys; d = float(sys.argv[2]) - float(sys.argv[1]); print("A let go %.2f s after B took over" % d); sys.exit(0 if d < 1.0 else 1)' "$t0" "$t1" |
		tee "$T/moved.txt"
}
e2e_check "alice through B: same address and prefix; A ends its tunnel (binding, route) within 1 s" t_moved &&
	e2e_log "$(grep -h "A let go" "$T/moved.txt" 2>/dev/null)"
t_b_holds() { holds b "$ADDR" && routed b "$ADDR"; }
e2e_check "  B holds it, and routes it" t_b_holds
e2e_check "  A logs the hand-over" grep -q "tunnel taken-over user=alice .*by=gw-b" "$T/run.a.log"

t_back() {
	setup s3 "$A" || return 1
	e2e_wait_for 3 gone_from b && holds a "$ADDR" &&
		grep -q "tunnel taken-over user=alice .*by=gw-a" "$T/run.b.log"
}
e2e_check "and back through A: B lets go the same way" t_back

# A restarted while alice moved to B: at its start it reads who serves
# whom, and drops the tunnel its pinned maps restored.
{
	kill -TERM "$PID_A"
	e2e_wait_exit "$PID_A" 5
} 2>/dev/null
t_moved_while_down() {
	setup s4 "$B" || return 1
	holds a "$ADDR" || { echo "A's pinned maps should still hold her (daemon down)"; return 1; }
}
e2e_check "A stopped (its data plane stays); alice sets up through B" t_moved_while_down
mv "$T/run.a.log" "$T/run.a.1.log"
start a
e2e_check "A restarted" serving a
t_a_let_go() { gone_from a && holds b "$ADDR"; }
e2e_check "  it restores her tunnel from its maps, then lets it go: B serves her" \
	e2e_wait_for 3 t_a_let_go

# `tspgw reload` finds its own daemon, A and not B, by the database file it
# holds open (SQLite) or, with PostgreSQL, by the maps pinned at A's pin
# path, and signals it.
reloaded() { grep -c "configuration reloaded from" "$T/run.$1.log" || true; }
t_reload() {
	local b_before
	b_before=$(reloaded b)
	on a reload >"$T/reload.out" 2>&1 || { cat "$T/reload.out"; return 1; }
	e2e_wait_for 5 grep -q "configuration reloaded from" "$T/run.a.log" || {
		echo "A logged no reload"
		return 1
	}
	sleep 0.5
	[ "$(reloaded b)" = "$b_before" ] || { echo "B was reloaded too"; return 1; }
}
e2e_check "tspgw reload ($DB_KIND) signals gateway A, not B" t_reload

for p in "$PID_A" "$PID_B"; do e2e_stop "$p" 5 2>/dev/null; done
e2e_check_no_leftovers
e2e_finish

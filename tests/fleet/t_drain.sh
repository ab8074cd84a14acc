#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# shellcheck disable=SC2015 # "check && check || report failure" is meant
# Two gateways sharing one assignment database (a SQLite file both
# daemons open): heartbeats, `tspgw drain`, and the RFC 5572 referral
# (status + 1000 and the list of live gateways) that tspc follows.
#
#   the two-gateway layout of tests/fleet/two_gw.sh
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
e2e_require_tools ip ethtool nsenter python3 timeout
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=tfc$$
NS_A=tfa$$
NS_B=tfb$$
T=$E2E_TMP
DB=$T/fleet.sqlite
# shellcheck source=tests/fleet/two_gw.sh
. "$HERE/two_gw.sh"

# gw_config NAME ADDR: gateway NAME's config, pins and tunnel device its
# own, the database shared. Heartbeats every second, so a silent gateway
# is dropped from referrals after 3 s.
gw_config() {
	cat >"$T/$1.yaml" <<EOF
interfaces: {ipv4: u0, xdp_mode: native, tunnel_device: tf$1$$}
gateway: {ipv4: $2, ipv6: 2001:db8:2::1, name: gw-$1, heartbeat: 1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools: {hosts: 2001:db8:100::/64, prefixes: 2001:db8:200::/40}
data_plane: {pin_path: /sys/fs/bpf/tspgw-fleet-$1-$$, max_tunnels: 1024,
             allowed_special_ranges: [documentation]}
broker:
  auth: {mechanisms: [ANONYMOUS], sasldb: $T/sasldb2}
  database: $DB
  keepalive: {default: 30, min: 1, max: 30, misses: 3}
EOF
}
gw_config a "$A"
gw_config b "$B"

two_gw_build /sys/fs/bpf/tspgw-fleet || exit 1

# --- helpers ------------------------------------------------------------------

# setup NAME PORT: one anonymous v6udpv4 setup by tspc against gateway A
# (it follows referrals), parameters in $T/NAME.out, exit status returned.
setup() {
	e2e_ns "$NS_C" timeout 40 "$TSPC" --server "$A" --local "0.0.0.0:$2" --print-only --timeout 5 \
		>"$T/$1.out" 2>"$T/$1.err" </dev/null
}
served_by() {
	local got
	got=$(grep '^TSP_BROKER_ADDRESS_IPV4=' "$T/$1.out" | cut -d= -f2)
	[ "$got" = "$2" ] || { echo "served by '$got', want $2"; cat "$T/$1.err"; return 1; }
}
# holds NAME PORT: gateway NAME has the anonymous tunnel of 192.0.2.2:PORT
# or 198.51.100.2:PORT in its maps.
holds() {
	local list
	list=$(on "$1" tunnel list --json) && grep -q "\"remote\":\"[0-9.]*:$2\"" <<<"$list" || {
		echo "gateway $1 has no tunnel from port $2: $list"
		return 1
	}
}
# live_in_list NAME...: `gateway list --json` (from A) shows each as live.
live_in_list() {
	local list g
	list=$(on a gateway list --json) || return 1
	for g in "$@"; do
		grep -q "\"name\":\"gw-$g\",\"advertise\":\"[^\"]*\",\"state\":\"live\"" <<<"$list" ||
			return 1
	done
}
# drained_seen NAME on|off: gateway NAME's log says it took the mark.
drained_seen() {
	local want="gateway gw-$1 drained"
	[ "$2" = off ] && want="gateway gw-$1 no longer drained"
	e2e_wait_for 5 grep -q "$want" "$T/run.$1.log"
}

# --- the fleet ----------------------------------------------------------------

start a
start b
e2e_check "two gateways on one database serve TSP" serving a || e2e_finish
e2e_check "  (the second)" serving b || e2e_finish
e2e_check "both beat: gateway list shows gw-a and gw-b live" e2e_wait_for 5 live_in_list a b

t_served_here() { setup s1 41001 && served_by s1 "$A" && holds a 41001; }
e2e_check "undrained, gateway A serves its client itself" t_served_here

t_drain_cli() {
	on a drain >"$T/drain.out" && grep -q "gateway gw-a drained" "$T/drain.out" &&
		drained_seen a on
}
e2e_check "tspgw drain: A takes the mark within a second (logged)" t_drain_cli

t_referred() {
	setup s2 41002 || { echo "tspc exit $?"; cat "$T/s2.err"; return 1; }
	served_by s2 "$B" && grep -q "redirected" "$T/s2.err" && holds b 41002
}
e2e_check "drained A refers a new client (1301 + broker list) to B, which serves it" t_referred
e2e_check "  A's tunnel set up before the drain stays" holds a 41001
t_listed_drained() { on a gateway list --json | grep -q '"name":"gw-a"[^}]*"draining":true'; }
e2e_check "  gateway list says gw-a is drained" t_listed_drained

t_none_left() {
	on b drain >/dev/null && drained_seen b on || return 1
	# A reads B's mark with the fleet at its next beat (1 s).
	sleep 2.5
	setup s3 41003
	local rc=$?
	[ "$rc" = 4 ] && grep -q "301" "$T/s3.err" || {
		echo "tspc exit $rc, want 4 (301, nowhere to refer)"
		cat "$T/s3.err"
		return 1
	}
}
e2e_check "both drained: A answers 301 and refers to no one" t_none_left

t_undrain() {
	on a undrain >/dev/null && drained_seen a off && setup s4 41004 && served_by s4 "$A" &&
		holds a 41004
}
e2e_check "tspgw undrain: A serves again" t_undrain

# B undrained, then killed (in this shell, which can wait for it).
on b undrain >/dev/null
e2e_check "tspgw undrain B" drained_seen b off
{
	kill -KILL "$PID_B"
	e2e_wait_exit "$PID_B" 5
} 2>/dev/null
t_dead_not_referred() {
	on a drain >/dev/null && drained_seen a on || return 1
	# B's last beat goes stale after 3 heartbeats (3 s); A's list follows
	# at its next beat.
	sleep 6
	setup s5 41005
	local rc=$?
	[ "$rc" = 4 ] || { echo "tspc exit $rc, want 4"; cat "$T/s5.err"; return 1; }
	on a gateway list | grep -q "^gw-b .* silent "
}
e2e_check "a killed gateway is not referred to once its heartbeat is stale" t_dead_not_referred

t_bad_name() {
	local rc
	on a drain "bad name" >/dev/null 2>"$T/bad.err"
	rc=$?
	[ "$rc" = 2 ] && grep -q "not a gateway name" "$T/bad.err" &&
		! on a gateway forget gw-nowhere 2>/dev/null && on a gateway forget gw-b >/dev/null &&
		! on a gateway list | grep -q "^gw-b "
}
e2e_check "bad names refused (exit 2); gateway forget removes a retired row" t_bad_name

{
	kill -TERM "$PID_A"
	e2e_wait_exit "$PID_A" 5
	echo $? >"$T/stop.rc"
} 2>/dev/null
t_stop() { [ "$(cat "$T/stop.rc")" = 0 ] || { echo "exit status $(cat "$T/stop.rc")"; return 1; }; }
e2e_check "SIGTERM stops gateway A (exit 0)" t_stop
e2e_check_no_leftovers
e2e_finish

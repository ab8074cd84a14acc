#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# Tunnels survive a restart as negotiated: a restarted `tspgw run` expires
# each tunnel on the keepalive interval the client was given (kept in its
# binding record), not on broker.keepalive.default, and measures its
# lifetime from its creation, not from the restart.
#
#   default 10 s, misses 3, lifetime 1 min.
#   t=0   A negotiates 60 s      (silent expiry after 180 s; lifetime at 60 s)
#   t=20  B negotiates 3 s       (silent expiry after 9 s), daemon restarted
#   B must expire about 9 s after its creation (the old code: after 30 s);
#   A must be alive at t=45 (the old code: expired at t=30) and expire by
#   its lifetime at t=60, not at restart+60.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=${TSPGW:-$BUILD/tspgw}
SIM=$ROOT/tests/broker/gogoc_sim.py

e2e_require_root
e2e_require_tools ip ethtool nsenter python3 timeout
e2e_require_built all "$TSPGW"
e2e_init
[ -n "${KEEP_LOGS:-}" ] && e2e_on_exit "cp $E2E_TMP/*.log $KEEP_LOGS/"

NS_C=trc$$
NS_G=trg$$
PIN=/sys/fs/bpf/tspgw-adv-restart-$$
T=$E2E_TMP
CONF=$T/config.yaml

cat >"$CONF" <<EOF
interfaces: {ipv4: u0, xdp_mode: generic, tunnel_device: trt$$}
gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
data_plane: {pin_path: $PIN, max_tunnels: 64, allowed_special_ranges: [documentation]}
broker:
  auth: {mechanisms: [ANONYMOUS]}
  database: $T/assignments.sqlite
  keepalive: {default: 10, min: 1, max: 60, misses: 3}
  lifetime: 1
EOF

e2e_one_link_gateway "$NS_C" "$NS_G" "$PIN" "$CONF" || exit 1
e2e_on_exit "[ -s $T/gw.pid ] && kill \$(cat $T/gw.pid) 2>/dev/null"

# start N: `tspgw run`, log in $T/run.N.log, PID in $T/gw.pid.
start() {
	e2e_bg "$NS_G" "$T/run.$1.log" "$TSPGW" -c "$CONF" run
	echo "$E2E_BG_PID" >"$T/gw.pid"
	e2e_wait_for 15 grep -q "serving TSP" "$T/run.$1.log" || {
		cat "$T/run.$1.log"
		return 1
	}
}

# tunnel PORT KEEPALIVE: an anonymous v6udpv4 tunnel from 192.0.2.2:PORT.
tunnel() {
	e2e_ns "$NS_C" timeout 30 python3 "$SIM" --server 192.0.2.1 --transport udp \
		--type v6udpv4 --local-port "$1" --keepalive "$2" >"$T/sim.$1.json" 2>&1 || return 1
	cat "$T/sim.$1.json"
	grep -q "\"keepalive\": $2" "$T/sim.$1.json"
}

# keepalive_of PORT: the interval the binding of 192.0.2.2:PORT records.
keepalive_of() {
	e2e_ns "$NS_G" "$TSPGW" -c "$CONF" tunnel list --json |
		python3 -c 'import json,sys
for t in json.load(sys.stdin):
    if t["remote"] == "192.0.2.2:" + sys.argv[1]:
        print(t.get("keepalive_s", "?"))' "$1"
}
in_maps() { [ -n "$(keepalive_of "$1")" ]; }
records() { [ "$(keepalive_of "$1")" = "$2" ]; }
expired_by() { grep -q "tunnel expired user=anonymous origin=v6udpv4 192.0.2.2:$1 .*reason=$2" "$T/run.2.log"; }

# wait_until T: sleep until T seconds after t=0.
wait_until() {
	local now
	now=$(date +%s)
	[ "$now" -lt $((T0 + $1)) ] && sleep $((T0 + $1 - now))
	true
}

e2e_check "tspgw run starts" start 1 || e2e_finish
T0=$(date +%s)
e2e_check "A negotiates a 60 s keepalive (default 10 s)" tunnel 42001 60
e2e_check "  its binding records 60 s" records 42001 60
wait_until 20
T_B=$(date +%s)
e2e_check "B negotiates a 3 s keepalive" tunnel 42002 3
e2e_stop "$(cat "$T/gw.pid")" 5
b_outlived_first_daemon() { ! grep "tunnel expired.*:42002" "$T/run.1.log"; }
e2e_check "the first daemon stopped with B still there" b_outlived_first_daemon
e2e_check "the daemon restarts" start 2 || e2e_finish
T_R=$(date +%s)
e2e_log "A at t=0, B at t=$((T_B - T0)), restarted at t=$((T_R - T0))"

b_expires_on_its_schedule() {
	# 9 s after its creation, plus a loaded machine's slack; the
	# default's schedule would be 30 s after it.
	local limit=$((T_B + 20 - $(date +%s)))
	[ "$limit" -gt 0 ] || limit=1
	e2e_wait_for "$limit" expired_by 42002 silent || { cat "$T/run.2.log"; return 1; }
	! in_maps 42002
}
e2e_check "B (3 s) expires on its own schedule after the restart" b_expires_on_its_schedule

wait_until 45
e2e_check "A (60 s) is alive at t=45 (three default intervals after its creation)" in_maps 42001

a_lifetime_from_creation() {
	# Lifetime 60 s from t=0; from the restart it would be t=$((T_R - T0 + 60)).
	local limit=$((T0 + 72 - $(date +%s)))
	[ "$limit" -gt 0 ] || limit=1
	e2e_wait_for "$limit" expired_by 42001 lifetime || { cat "$T/run.2.log"; return 1; }
	! in_maps 42001
}
e2e_check "A's lifetime runs from its creation, not from the restart" a_lifetime_from_creation

e2e_check_no_leftovers
e2e_finish

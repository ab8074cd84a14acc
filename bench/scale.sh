#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Section 4 of `make bench`: 1 000 000 tunnels in the maps, what they cost in
# kernel and broker memory, and how fast a broker with them is back in
# service after SIGKILL. Run by bench/run.sh; bench/README.md explains it.
#
#   ns cli: c0 192.0.2.2  <->  ns gw: u0 192.0.2.1 (data plane, tspgw run on CPU 0)
#
# Steps: attach the data plane sized for 2^20 tunnels; start `tspgw run`
# with empty maps (its resident memory without tunnels), stop it; fill the
# maps with build/bench/scale (the broker's assign and map-insert functions);
# start `tspgw run` again: it takes the tunnels back from the pinned maps
# (resident memory with them); SIGKILL it and start it again, timed until it
# answers a TSP VERSION (build/bench/broker_load --probe). Results in
# $OUT/scale_steps.json for bench/report_broker_scale.py.
#
# Environment: BUILD (default build), SCALE_TUNNELS (default 1000000).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$BUILD/bench
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
FILL=$OUT/scale
PROBE=$OUT/broker_load
XDP_PASS=$BUILD/xdp_pass.bpf.o
N=${SCALE_TUNNELS:-1000000}

e2e_require_root
e2e_require_tools ip ethtool nsenter taskset python3 timeout
e2e_require_built bench "$TSPGW" "$FILL" "$PROBE" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=bsc$$
NS_G=bsg$$
PIN=/sys/fs/bpf/tspgw-bench-scale-$$
T=$E2E_TMP
CONF=$T/config.yaml
STEPS=$OUT/scale_steps.json
rm -f "$STEPS"

# No keepalive expiry: nobody sends the million tunnels' keepalives.
cat >"$CONF" <<EOF
interfaces: {ipv4: u0, xdp_mode: native, tunnel_device: tbs$$}
gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
data_plane: {pin_path: $PIN, max_tunnels: 1048576, allowed_special_ranges: [documentation]}
broker:
  auth: {mechanisms: [ANONYMOUS]}
  database: $T/assignments.sqlite
  keepalive: {misses: 0}
  limits: {max_tunnels: 1048576}
EOF

e2e_one_link_gateway "$NS_C" "$NS_G" "$PIN" "$CONF" || exit 1
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS"

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# start_broker N: tspgw run on CPU 0, log $T/run.N.log; sets BROKER.
start_broker() {
	e2e_bg "$NS_G" "$T/run.$1.log" taskset -c 0 "$TSPGW" -c "$CONF" run
	BROKER=$E2E_BG_PID
}
# serving SECONDS: prints when the broker answered a TSP VERSION.
serving() {
	e2e_ns "$NS_C" "$PROBE" --server 192.0.2.1 --src 192.0.2.2 --port-base 9000 --probe "$1"
}

# 1. Attach, and the broker's resident memory with no tunnels.
t0=$(now)
e2e_ns "$NS_G" "$TSPGW" -c "$CONF" attach >"$T/attach.log" 2>&1 || {
	cat "$T/attach.log" >&2
	exit 1
}
attach_s=$(elapsed "$t0" "$(now)")
start_broker 0
serving 30 >/dev/null || { tail "$T/run.0.log" >&2; exit 1; }
rss0=$(rss_kb "$BROKER")
e2e_stop "$BROKER" 5

# 2. The fill.
echo "   filling the maps with $N tunnels (assign_anonymous + tunnel_table_add)"
e2e_ns "$NS_G" "$FILL" "$CONF" "$N" >"$T/fill.json" || {
	echo "scale.sh: the fill failed" >&2
	cat "$T/fill.json" >&2
	exit 1
}
echo "   $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%d tunnels in %.1f s (%.0f/s)" % (r["added"], r["seconds"], r["per_s"]))' "$T/fill.json")"

# 3. A broker with them: its start, restore, and resident memory.
t1=$(now)
start_broker 1
up1=$(serving 60) || { tail "$T/run.1.log" >&2; exit 1; }
start1_s=$(elapsed "$t1" "$up1")
sleep 1
rss1=$(rss_kb "$BROKER")
restored1=$(sed -n 's/.*restored \([0-9]*\) tunnels.*/\1/p' "$T/run.1.log")

# 4. SIGKILL and start again: back in service when TSP is answered (the
# tunnels are restored before the sockets open).
t2=$(now)
kill -KILL "$BROKER"
{ wait "$BROKER"; } 2>/dev/null # reaped here, quietly
start_broker 2
up2=$(serving 60) || { tail "$T/run.2.log" >&2; exit 1; }
restart_s=$(elapsed "$t2" "$up2")
restored2=$(sed -n 's/.*restored \([0-9]*\) tunnels.*/\1/p' "$T/run.2.log")
entries=$(e2e_ns "$NS_G" "$TSPGW" -c "$CONF" status --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["maps"]["bindings"]["entries"])')
echo "   restart after SIGKILL: serving TSP again in $restart_s s, $restored2 tunnels restored"
e2e_stop "$BROKER" 5

python3 - "$T/fill.json" >"$STEPS" <<EOF
import json, sys
fill = json.load(open(sys.argv[1]))
print(json.dumps({
    "tunnels": $N, "fill": fill, "attach_s": $attach_s,
    "broker_rss_kb": {"no_tunnels": $rss0, "with_tunnels": $rss1},
    "first_start": {"serving_s": $start1_s, "restored": int("${restored1:-0}")},
    "restart_after_sigkill": {"serving_s": $restart_s, "restored": int("${restored2:-0}")},
    "bindings_entries_at_end": $entries,
}))
EOF

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Section 3 of `make bench`: tunnel setups per second through the real
# `tspgw run`, with setup latency, and the effect of 10 000 idle TCP
# sessions. Run by bench/run.sh; bench/README.md explains the figures.
#
#   ns cli: c0 192.0.2.2, 198.51.100.1-254, 203.0.113.1-254
#        <-> ns gw: u0 192.0.2.1 (tspgw run, XDP attached, broker on CPU 0)
#
# The load generator (build/bench/broker_load) runs on CPU 1. Every run's
# result is one JSON line in $OUT/broker_runs.jsonl, with the number of
# tunnels it added to the BPF maps and the broker's own log lines for them
# (the proof that every setup did the work); bench/report_broker_scale.py
# turns them into broker.json and broker.md.
#
# Environment: BUILD (default build), BROKER_SCALE (default 1: multiplies
# the number of setups per run; 0.2 for a quick look).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$BUILD/bench
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
LOAD=$OUT/broker_load
XDP_PASS=$BUILD/xdp_pass.bpf.o
SCALE=${BROKER_SCALE:-1}
IDLE=10000
USERS=100
REALM=bench.tspgw.example
PASSWORD=bench-secret

e2e_require_root
e2e_require_tools ip ethtool nsenter taskset saslpasswd2 python3 timeout
e2e_require_built bench "$TSPGW" "$LOAD" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"
[ "$(nproc)" -ge 2 ] || echo "broker.sh: only one CPU: broker and generator share it" >&2
CPU_GEN=$(($(nproc) > 1 ? 1 : 0))

NS_C=bbc$$
NS_G=bbg$$
PIN=/sys/fs/bpf/tspgw-bench-broker-$$
T=$E2E_TMP
CONF=$T/config.yaml
RUNS=$OUT/broker_runs.jsonl
LOG=$OUT/broker_tspgw.log
rm -f "$RUNS"

# Limits that protect a real broker from one address (tunnels and sessions
# per IPv4 address) are off: the generator is a few hundred addresses
# making hundreds of thousands of setups. Idle sessions must outlive the
# measurement, and max_sessions must hold them and every UDP session.
cat >"$CONF" <<EOF
interfaces: {ipv4: u0, xdp_mode: native, tunnel_device: tbb$$}
gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools:
  hosts: 2001:db8:100::/64
  prefixes: 2001:db8:200::/40
data_plane: {pin_path: $PIN, max_tunnels: 1048576, allowed_special_ranges: [documentation]}
broker:
  auth:
    mechanisms: [ANONYMOUS, DIGEST-MD5]
    sasldb: $T/sasldb2
    realm: $REALM
    server_name: $REALM
  database: $T/assignments.sqlite
  keepalive: {misses: 0}   # the generator sends no keepalives: no expiry
  limits:
    max_tunnels: 1048576
    tunnels_per_ipv4: 0
    sessions_per_ipv4_per_minute: 0
    sessions_per_source: 0      # a few hundred addresses hold every session
    max_sessions: 10000000
    session_idle_timeout: 600
EOF

e2e_one_link_gateway "$NS_C" "$NS_G" "$PIN" "$CONF" || exit 1
# Client sources beyond 192.0.2.2 are host addresses on c0, reached through
# 192.0.2.2: one neighbour entry instead of 508 (the ARP table is shared
# by every namespace on the machine).
SRCS=(--src 192.0.2.2)
for net in 198.51.100 203.0.113; do
	ip -n "$NS_G" route add "$net.0/24" via 192.0.2.2 dev u0
	for i in $(seq 1 254); do echo "addr add $net.$i/32 dev c0"; done
done | ip -n "$NS_C" -batch - || exit 1
SRCS+=(--src 198.51.100.1:254 --src 203.0.113.1:254)
# One address per DIGEST-MD5 user for the TCP run (below), on the link:
# no earlier run's tunnel holds them.
for i in $(seq 101 $((100 + USERS))); do echo "addr add 192.0.2.$i/24 dev c0"; done |
	ip -n "$NS_C" -batch - || exit 1
ip -n "$NS_C" route add default via 192.0.2.1 dev c0
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS"

t_users=$(date +%s.%N)
for i in $(seq 0 $((USERS - 1))); do
	printf '%s\n' "$PASSWORD" | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c "user$i" || exit 1
done
echo "   $USERS DIGEST-MD5 users in a scratch sasldb ($(python3 -c "print('%.1f' % ($(date +%s.%N) - $t_users))") s)"

# tspgw run on CPU 0, with room for every idle session's descriptor (the
# hard limit: raising it needs CAP_SYS_RESOURCE, which a container may lack).
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((IDLE + 2000)) ]; then
	echo "broker.sh: the open-files hard limit ($(ulimit -Hn)) is below $((IDLE + 2000))" >&2
	exit 1
fi
e2e_bg "$NS_G" "$LOG" bash -c 'ulimit -n "$(ulimit -Hn)" && exec taskset -c 0 "$0" -c "$1" run' "$TSPGW" "$CONF"
BROKER=$E2E_BG_PID
e2e_wait_for 30 grep -q "serving TSP" "$LOG" || {
	echo "broker.sh: tspgw run did not start:" >&2
	tail -n 20 "$LOG" >&2
	exit 1
}
# The bash wrapper exec'd tspgw: same PID.

entries() {
	e2e_ns "$NS_G" "$TSPGW" -c "$CONF" status --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["maps"]["bindings"]["entries"])'
}
events() { grep -cE "tunnel (created|replaced|moved) " "$LOG"; }

# run LABEL COUNT CONCURRENCY EXTRA...: one generator run; appends its JSON
# line with the map entries and log events it added.
PORT_BASE=10000
run() {
	local label=$1 count=$2 conc=$3 e0 v0 e1 v1 rc
	shift 3
	[ "$count" = 0 ] || count=$(python3 -c "print(max(100, int($count * $SCALE)))")
	e0=$(entries) && v0=$(events)
	e2e_ns "$NS_C" timeout 300 "$LOAD" --server 192.0.2.1 "${RUN_SRCS[@]}" --cpu "$CPU_GEN" \
		--count "$count" --concurrency "$conc" --port-base "$PORT_BASE" --broker-pid "$BROKER" \
		--label "$label" --json "$T/run.json" "$@"
	rc=$?
	sleep 0.5 # over TCP the last accepts were written, maybe not yet read
	e1=$(entries) && v1=$(events)
	if [ $rc != 0 ] || [ ! -s "$T/run.json" ]; then
		echo "broker.sh: run '$label' failed (exit $rc):" >&2
		cat "$T/run.json" >&2 2>/dev/null
		return 1
	fi
	python3 - "$T/run.json" "$e0" "$e1" "$v0" "$v1" >>"$RUNS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
e0, e1, v0, v1 = map(int, sys.argv[2:6])
r["map_entries_added"] = e1 - e0
r["map_entries_after"] = e1
r["broker_accept_events"] = v1 - v0
print(json.dumps(r))
EOF
	python3 -c 'import json,sys; r=json.loads(sys.stdin.read().splitlines()[-1]); print("   %-32s %8d setups %7.0f/s  p50 %6.2f ms  p99 %6.2f ms  failed %d" % (r["label"], r["setups"], r["setups_per_s"], r["latency_us"]["p50"]/1e3, r["latency_us"]["p99"]/1e3, r["failed"]))' <"$RUNS"
	# Fresh origins for the next run: ports past this one's (setup k
	# comes from source address k mod 509, port PORT_BASE + k / 509).
	PORT_BASE=$((PORT_BASE + count / 509 + 2))
}

DIG=(--digest --users "$USERS" --user-fmt "user%d" --password "$PASSWORD" --server-name "$REALM")
# The sources a run uses (all 509 unless a run says otherwise).
RUN_SRCS=("${SRCS[@]}")
fail=0
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Memory of idle sessions, on the fresh broker (later, freed sessions leave
# heap the idle ones would reuse, and the difference would read as zero).
run "10k idle tcp sessions alone" 0 1 --idle "$IDLE" || fail=1
run "warm-up" 5000 256 || fail=1
run "udp anonymous, one at a time" 2000 1 || fail=1
run "udp anonymous" 60000 256 || fail=1
run "tcp anonymous" 20000 256 --tcp || fail=1
run "udp digest-md5" 10000 256 "${DIG[@]}" || fail=1
# Over TCP each setup asks for a v6v4 tunnel, named by its source address
# alone, and an address belongs to the user whose tunnel it holds (506
# not-owner for anyone else): one fresh source per user (setup k from
# 192.0.2.(101 + k mod USERS) as user k mod USERS). The 509 sources all
# hold anonymous tunnels of the TCP run before.
RUN_SRCS=(--src "192.0.2.101:$USERS")
run "tcp digest-md5" 6000 2000 --tcp "${DIG[@]}" || fail=1
RUN_SRCS=("${SRCS[@]}")
# Idle sessions: runs without and with 10 000 idle TCP sessions open,
# alternating (3 pairs), so drift on the shared machine falls on both sides
# of the ratio alike.
run "udp anonymous, ± 10k idle tcp" 60000 256 --idle "$IDLE" --pairs 3 || fail=1
run "tcp anonymous, ± 10k idle tcp" 18000 256 --tcp --idle "$IDLE" --pairs 3 || fail=1
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$BROKER/status")
# The machine's load average: other work on a shared machine moves these
# figures, and this shows how much there was.
echo "{\"label\": \"broker at the end\", \"broker_rss_kb\": $rss, \"tunnels\": $(entries), \"loadavg_before\": \"$load_before\", \"loadavg_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >>"$RUNS"
e2e_stop "$BROKER" 5
exit $fail
